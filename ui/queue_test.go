package ui

import (
	"context"
	"fmt"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/deltascope/deltascope/deltaclient"
	"github.com/deltascope/deltascope/deltaclient/deltatest"
	"github.com/deltascope/deltascope/model"
	"github.com/deltascope/deltascope/track"
)

// TestBaselinesAreQueued: against a service with 60 entity sets, at most
// --concurrency baselines run at once, the rest show as queued, the
// selected entity does not wait for its turn, and every one is baselined
// in the end.
func TestBaselinesAreQueued(t *testing.T) {
	t.Parallel()
	srv := deltatest.NewServer(deltatest.Options{Seed: 3, Records: 10})
	t.Cleanup(srv.Close)
	c := &deltaclient.Client{Retry: deltaclient.RetryPolicy{Tries: 1}}
	var trackers []*track.Tracker
	for i := range 60 {
		trackers = append(trackers, track.New(fmt.Sprintf("set%02d", i), srv.CollectionURL("customers"), c))
	}
	m := New(Config{Context: context.Background(), Service: "s", Trackers: trackers})
	m.tick = func() tea.Cmd { return nil }
	f := &fixture{t: t, srv: srv, m: m, clock: &clock{t: epoch}}
	f.size(80, 24)

	init := m.Init()
	if got := m.baselining(); got != 4 {
		t.Fatalf("%d baselines in flight at start, want 4 (the default --concurrency)", got)
	}
	if got := m.queued(); got != 56 {
		t.Fatalf("%d queued, want 56", got)
	}
	f.mustShow("set00", "loading", "set03", "set04", "queued", "56 queued")

	// Selecting a queued entity starts it at once, in the one spare slot.
	f.selectEntity("set30")
	_, cmd := m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("x")})
	if e := m.entities[30]; !e.busy || e.waiting {
		t.Fatalf("the selected queued entity did not start: busy %v waiting %v", e.busy, e.waiting)
	}
	if got := m.baselining(); got != 5 {
		t.Fatalf("%d in flight, want 4 + the selected one", got)
	}
	// Moving on does not start more: the spare slot is taken.
	f.selectEntity("set31")
	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("x")})
	if m.entities[31].busy {
		t.Fatal("a second selected entity started beyond the spare slot")
	}

	f.settle(tea.Batch(init, cmd))
	for _, e := range m.entities {
		if !e.Baselined || e.Status != model.Tracking || e.waiting {
			t.Fatalf("%s not baselined: %v waiting %v", e.Name, e.Status, e.waiting)
		}
	}
	if m.queued() != 0 || m.baselining() != 0 {
		t.Fatalf("left over: %d queued, %d in flight", m.queued(), m.baselining())
	}
}

// TestEveryStateHasAStyle: the status word's style is keyed by its state,
// so none (like "retrying" once) silently goes unstyled.
func TestEveryStateHasAStyle(t *testing.T) {
	t.Parallel()
	st := DefaultStyles()
	for s := state(0); s < stateCount; s++ {
		if _, none := st.Status[s].GetForeground().(lipgloss.NoColor); none {
			t.Errorf("state %d has no colour", s)
		}
	}
}

// TestPolledRoundsAreQueued: a set without delta links is polled by
// reading it again, so its rounds take a baseline slot too: with every set
// polled and a concurrency of 2, R starts two rounds, and the rest follow.
func TestPolledRoundsAreQueued(t *testing.T) {
	t.Parallel()
	f := newFixture(t, deltatest.Options{NoDelta: true})
	f.m.concurrency = 2
	f.start()
	polled := 0
	for _, e := range f.m.entities {
		if e.Baselined && e.method != "" {
			polled++
		}
	}
	if polled < 3 {
		t.Fatalf("%d polled sets, want at least 3", polled)
	}
	cmd := f.pressCmd("R")
	if got := f.m.baselining(); got != 2 {
		t.Fatalf("%d polled rounds in flight, want 2", got)
	}
	if f.m.queued() != polled-2 {
		t.Fatalf("%d queued, want %d", f.m.queued(), polled-2)
	}
	f.settle(cmd)
	if f.m.queued() != 0 || f.m.baselining() != 0 {
		t.Fatalf("left over: %d queued, %d in flight", f.m.queued(), f.m.baselining())
	}
}
