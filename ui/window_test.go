package ui

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/deltascope/deltascope/deltaclient"
	"github.com/deltascope/deltascope/model"
	"github.com/deltascope/deltascope/store"
	"github.com/deltascope/deltascope/track"
)

// changeRound is round seq with n changes to fresh 2 KB records, as an
// auto-refresh round against a busy service brings.
func changeRound(seq, n int) *model.Round {
	r := &model.Round{Seq: seq, Time: epoch.Add(time.Duration(seq) * time.Second), Pages: 1, Records: 1000}
	for i := range n {
		id := fmt.Sprintf("r%d-%d", seq, i)
		rec := fmt.Appendf(nil, `{"id":%q,"displayName":"Customer %d","notes":"%0*d"}`, id, seq, 2000, seq)
		if i%2 == 0 {
			r.Changes = append(r.Changes, model.Change{Kind: model.Added, ID: id, Record: rec})
			r.Added++
		} else {
			r.Changes = append(r.Changes, model.Change{Kind: model.Updated, ID: id, Record: rec, Previous: rec,
				Fields: []model.FieldChange{{Path: "displayName", Old: []byte(`"a"`), New: []byte(`"b"`)}}})
			r.Updated++
		}
	}
	return r
}

func heapNow() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// The changes pane keeps a window of rows, not every round ever seen: ten
// thousand auto-refresh rounds with changes leave the heap where a
// thousand left it.
func TestTenThousandRoundsKeepTheHeapFlat(t *testing.T) {
	tr := track.New("customers", "http://127.0.0.1:1/customers", &deltaclient.Client{})
	m := New(Config{Context: context.Background(), Service: "s", Trackers: []*track.Tracker{tr}, Now: func() time.Time { return epoch }})
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	e := m.entities[0]
	done := func(r *model.Round, op opKind) {
		m.Update(opDoneMsg{entity: 0, gen: e.gen, op: op, round: r})
	}
	done(&model.Round{Baseline: true, Time: epoch, Records: 1000}, opBaseline)
	var at1k uint64
	const rounds = 10000
	for seq := 1; seq <= rounds; seq++ {
		done(changeRound(seq, 4), opRound)
		if seq%500 == 0 {
			m.View()
		}
		if seq == 1000 {
			at1k = heapNow()
		}
	}
	end := heapNow()
	t.Logf("heap after 1,000 rounds %.1f MB, after %d rounds %.1f MB; %d rows in memory", float64(at1k)/1e6, rounds, float64(end)/1e6, len(e.lines))
	// Each round holds about 8 KB of records: kept, 10,000 rounds would
	// add 70 MB over the first thousand.
	const bound = 8 << 20
	if end > at1k+bound {
		t.Errorf("heap grew from %d to %d bytes over %d rounds; the rows are not bounded", at1k, end, rounds-1000)
	}
	if len(e.lines) > maxRows {
		t.Errorf("%d rows kept, window is %d", len(e.lines), maxRows)
	}
	if e.older == 0 || e.Last.Seq != rounds {
		t.Errorf("older %d, last round %v: the window must remember what it let go", e.older, e.Last.Seq)
	}
	if got := e.row(0).Text(); got[:12] != "round 10000 " {
		t.Errorf("newest row %q", got)
	}
}

// Scrolling past the last row in memory reads the older rounds back from
// the session store.
func TestOlderRoundsComeFromTheStore(t *testing.T) {
	t.Parallel()
	s, err := store.Open(t.TempDir(), "ui", "svc", false)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	w, _ := s.StartBaseline("customers")
	if _, err := w.Commit("http://127.0.0.1:1/link", 1000, epoch, nil); err != nil {
		t.Fatal(err)
	}
	tr := track.New("customers", "http://127.0.0.1:1/customers", &deltaclient.Client{})
	tr.UseSession(s)
	m := New(Config{Context: context.Background(), Service: "s", Trackers: []*track.Tracker{tr}, Now: func() time.Time { return epoch }, NoAuto: true})
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	e := m.entities[0]
	m.Update(opDoneMsg{entity: 0, gen: e.gen, op: opBaseline, round: &model.Round{Baseline: true, Time: epoch, Records: 1000}})
	const rounds = 60 // 60 x 81 rows: more than the window
	for seq := 1; seq <= rounds; seq++ {
		r := changeRound(seq, 40)
		if _, err := s.CommitRound("customers", r, "http://127.0.0.1:1/link", nil); err != nil {
			t.Fatal(err)
		}
		m.Update(opDoneMsg{entity: 0, gen: e.gen, op: opRound, round: r})
	}
	if e.older == 0 {
		t.Fatal("nothing left the window")
	}
	before, older := len(e.lines), e.older
	m.focus = focusChanges
	e.diff.cursor = e.rows() - 1
	cmd := m.changes.Update(tea.KeyMsg{Type: tea.KeyDown})
	if cmd == nil {
		t.Fatal("no read of older rounds at the last row")
	}
	m.Update(cmd())
	if len(e.lines) <= before {
		t.Fatalf("rows %d -> %d: older rounds not added", before, len(e.lines))
	}
	if got, want := e.lines[before].Text(), fmt.Sprintf("round %d ", older); got[:len(want)] != want {
		t.Errorf("first row read back %q, want round %d", got, older)
	}
	if c := e.lines[before+1].round.Changes[0]; c.ID != fmt.Sprintf("r%d-0", older) || c.Kind != model.Added {
		t.Errorf("read-back change %+v", c)
	}
}
