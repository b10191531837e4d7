package cap

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/charmbracelet/x/vt"
	"github.com/google/go-cmp/cmp"

	"github.com/deltascope/deltascope/headless"
	"github.com/deltascope/deltascope/ui"
)

// probe on CAP: no set has delta links (CAP ignores the preference), and
// each gets the poll method its $metadata and one or two small requests
// allow.
func testProbe(t *testing.T, s *server) {
	var out, stderr bytes.Buffer
	if err := headless.Probe(context.Background(), headless.ProbeOptions{Trackers: open(t, s), JSON: true}, &out, &stderr); err != nil {
		t.Fatalf("%v: %s", err, stderr.String())
	}
	var rows []struct{ Entity, Supports, Method string }
	if err := json.Unmarshal(out.Bytes(), &rows); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	got := map[string]string{}
	for _, r := range rows {
		got[r.Entity] = r.Supports + " | " + r.Method
	}
	want := map[string]string{
		"Books":   "no | poll: modifiedAt + key scan",
		"Authors": "no | poll: etag scan",
		"Stock":   "no | poll: modifiedAt + key scan",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("probe (-want +got):\n%s", d)
	}
}

// The TUI on CAP: the sets load, say they are polled, and a change made
// over OData shows up in a round on r.
func testTUI(t *testing.T, s *server) {
	m := ui.New(ui.Config{Context: context.Background(), Service: s.Root, Trackers: open(t, s), NoAuto: true})
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(120, 30))
	em := vt.NewEmulator(120, 30)
	waitFor := func(texts ...string) {
		t.Helper()
		teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
			em.Write(b)
			screen := em.String()
			for _, text := range texts {
				if !strings.Contains(screen, text) {
					return false
				}
			}
			return true
		}, teatest.WithDuration(30*time.Second), teatest.WithCheckInterval(50*time.Millisecond))
	}
	waitFor("Books", "2,500", "Authors", "1,200", "polling, paused · modifiedAt + key scan")
	s.do(t, "PATCH", "Books(12)", map[string]any{"title": "Changed in the TUI test"})
	tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("r")})
	waitFor("round 1", `title: "Book 12" -> "Changed in the TUI test"`)
	tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("q")})
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
}
