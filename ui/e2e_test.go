package ui

import (
	"context"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/charmbracelet/x/vt"

	"github.com/deltascope/deltascope/deltaclient"
	"github.com/deltascope/deltascope/deltaclient/deltatest"
	"github.com/deltascope/deltascope/track"
)

// screenReader turns the program's output into screen text through a
// terminal emulator, as a user would see it.
type screenReader struct {
	em *vt.Emulator
}

func (s *screenReader) waitFor(t *testing.T, tm *teatest.TestModel, texts ...string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		// Output hands over what arrived since the last read.
		s.em.Write(b)
		screen := s.em.String()
		for _, text := range texts {
			if !strings.Contains(screen, text) {
				return false
			}
		}
		return true
	}, teatest.WithDuration(10*time.Second), teatest.WithCheckInterval(20*time.Millisecond))
}

func TestEndToEnd(t *testing.T) {
	t.Parallel()
	srv := deltatest.NewServer(deltatest.Options{Seed: 21, Records: 40})
	defer srv.Close()
	c := &deltaclient.Client{}
	var trackers []*track.Tracker
	for _, set := range srv.EntitySets() {
		tr := track.New(set, srv.CollectionURL(set), c)
		tr.DeltaOnly = true // as --delta-only: balanceSheet stays unsupported
		trackers = append(trackers, tr)
	}
	m := New(Config{Context: context.Background(), Service: srv.ServiceRoot(), Trackers: trackers, NoAuto: true})
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(120, 40))
	scr := &screenReader{em: vt.NewEmulator(120, 40)}

	scr.waitFor(t, tm, "customers", "40", "paused", "unsupported")

	ids := srv.IDs("customers")
	old, _ := srv.Record("customers", ids[0])
	srv.Update("customers", ids[0], map[string]any{"displayName": "Super Cloud"})
	tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("r")})
	scr.waitFor(t, tm, "round 1", `displayName: "`+old["displayName"].(string)+`" -> "Super Cloud"`, "~ ")

	srv.Delete("customers", ids[5])
	srv.Expire("customers")
	tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("r")})
	scr.waitFor(t, tm, "the delta link expired (410 Gone)", "  expired")
	tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("b")})
	scr.waitFor(t, tm, "re-baseline", "-1", "gone from the new baseline")

	tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("G")})
	scr.waitFor(t, tm, "balanceSheet does not support delta requests (500)")

	tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("q")})
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
}

// TestKeysDuringAMillionRecordBaseline presses a key while a 1,000,000-
// record baseline loads and checks the screen answers quickly. The bound
// is generous (machines here are shared); BenchmarkKeyWhileLoading1M
// measures the real cost of Update.
func TestKeysDuringAMillionRecordBaseline(t *testing.T) {
	records := 1_000_000
	if raceDetector {
		records = 100_000
	}
	srv := deltatest.NewServer(deltatest.Options{Seed: 3, Records: records, PageSize: 2000, Sets: []string{"customers"}})
	defer srv.Close()
	c := &deltaclient.Client{MaxPageSize: 2000}
	m := New(Config{Context: context.Background(), Service: "big", Trackers: []*track.Tracker{track.New("customers", srv.CollectionURL("customers"), c)}, NoAuto: true})
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(100, 30))
	scr := &screenReader{em: vt.NewEmulator(100, 30)}
	scr.waitFor(t, tm, "loading")
	start := time.Now()
	tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("?")})
	scr.waitFor(t, tm, "Delta rounds")
	latency := time.Since(start)
	t.Logf("help opened %v after the key, %d-record baseline loading", latency, records)
	if latency > 2*time.Second {
		t.Errorf("the key took %v to show", latency)
	}
	tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("q")}) // closes help
	tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("q")})
	tm.WaitFinished(t, teatest.WithFinalTimeout(30*time.Second))
}
