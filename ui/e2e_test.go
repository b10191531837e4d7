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
	em      *vt.Emulator
	written int
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
		trackers = append(trackers, track.New(set, srv.CollectionURL(set), c))
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
