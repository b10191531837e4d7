package ui

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/deltascope/deltascope/deltaclient"
	"github.com/deltascope/deltascope/deltaclient/deltatest"
	"github.com/deltascope/deltascope/model"
	"github.com/deltascope/deltascope/track"
)

// bigRound makes a round of n changes: 70% updates of two fields, 20% adds,
// 10% deletes, BC-shaped.
func bigRound(n int) *model.Round {
	r := &model.Round{Seq: 1, Time: epoch, Pages: n / 2000}
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("6cb4e290-a784-4105-b340-%012d", i)
		rec := []byte(fmt.Sprintf(`{"@odata.etag":"W/\"x\"","id":%q,"number":"%d","displayName":"Customer %d","city":"Atlanta","balanceDue":%d}`, id, 10000+i, i, i))
		switch i % 10 {
		case 0:
			r.Changes = append(r.Changes, model.Change{Kind: model.Deleted, ID: id, Record: rec, Reason: "deleted"})
			r.Deleted++
		case 1, 2:
			r.Changes = append(r.Changes, model.Change{Kind: model.Added, ID: id, Record: rec})
			r.Added++
		default:
			r.Changes = append(r.Changes, model.Change{Kind: model.Updated, ID: id, Record: rec, Previous: rec, Fields: []model.FieldChange{
				{Path: "displayName", Old: []byte(`"Old name"`), New: []byte(`"New name"`)},
				{Path: "balanceDue", Old: []byte(`1`), New: []byte(`2`)},
			}})
			r.Updated++
		}
	}
	return r
}

func benchModel(rows int) (*Model, *entity) {
	m := New(Config{Context: context.Background(), Service: "bench", Now: func() time.Time { return epoch }})
	e := &entity{Entity: model.Entity{Name: "customers"}}
	m.entities = append(m.entities, e)
	m.list.SetFilter(m.list.query)
	base := &model.Round{Baseline: true, Time: epoch, Records: 1_000_000}
	e.AddRound(base)
	m.addLines(e, base)
	// About 40% of changes are single rows, 60% have three rows. The rows
	// go in directly: addLines would trim them to the window kept while
	// following live (maxRows), and these benchmarks measure that drawing
	// and filtering cost what is on screen, not what is kept.
	r := bigRound(rows * 10 / 22)
	e.AddRound(r)
	e.lines = append(linesOf(r), e.lines...)
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	m.focus = focusChanges
	return m, e
}

// BenchmarkView100kRows120x40 draws a frame of the diff pane with 100,000
// change rows in the selected entity, paging down each frame so that every
// frame shows rows never rendered before (the worst case).
func BenchmarkView100kRows120x40(b *testing.B) {
	m, e := benchModel(100_000)
	if e.rows() < 100_000 {
		b.Fatalf("only %d rows", e.rows())
	}
	h := m.changes.rowsShown(e)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.diff.move(h, e.rows(), h)
		if e.diff.cursor >= e.rows()-1 {
			e.diff = scroller{}
		}
		_ = m.View()
	}
	b.ReportMetric(float64(e.rows()), "rows")
}

// BenchmarkFilter100kRows measures / over 100,000 rows: the first query
// builds every row's text, as a user's first keystroke would.
func BenchmarkFilter100kRows(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		_, e := benchModel(100_000)
		b.StartTimer()
		e.setQuery("customer 4242")
		if len(e.match) == 0 {
			b.Fatal("no match")
		}
	}
}

// loadingInBackground keeps a 1,000,000-record baseline loading (again and
// again) from the demo service until stop is closed, reporting progress
// into e as the real command does.
func loadingInBackground(b *testing.B, m *Model) (stop func()) {
	srv := deltatest.NewServer(deltatest.Options{Seed: 1, Records: 1_000_000, PageSize: 2000, Sets: []string{"customers"}})
	tr := track.New("big", srv.CollectionURL("customers"), &deltaclient.Client{MaxPageSize: 2000})
	e := &entity{Entity: model.Entity{Name: "big"}, tracker: tr}
	m.entities = append(m.entities, e)
	m.list.SetFilter(m.list.query)
	done := make(chan struct{})
	finished := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	m.start(len(m.entities)-1, opBaseline) // marks it loading; the loop below does the work
	go func() {
		defer close(finished)
		for {
			select {
			case <-done:
				return
			default:
			}
			tr.Baseline(ctx, func(p deltaclient.Progress) { e.progress.Store(&p) })
		}
	}()
	// Wait until the first pages are in, so every frame is drawn mid-load.
	for e.progress.Load() == nil {
		time.Sleep(time.Millisecond)
	}
	return func() { close(done); cancel(); <-finished; srv.Close() }
}

// BenchmarkViewWhileLoading1M draws frames of the diff pane with 100,000
// change rows while a 1,000,000-record baseline loads on both cores in
// the background (target < 2 ms a frame).
func BenchmarkViewWhileLoading1M(b *testing.B) {
	m, e := benchModel(100_000)
	stop := loadingInBackground(b, m)
	defer stop()
	h := m.changes.rowsShown(e)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.diff.move(h, e.rows(), h)
		m.Update(spinner.TickMsg{})
		_ = m.View()
	}
}

// BenchmarkKeyWhileLoading1M handles a key press (Update) while a
// 1,000,000-record baseline loads (target: well under 100 ms).
func BenchmarkKeyWhileLoading1M(b *testing.B) {
	m, _ := benchModel(100_000)
	stop := loadingInBackground(b, m)
	defer stop()
	keys := []tea.KeyMsg{{Type: tea.KeyRunes, Runes: []rune("j")}, {Type: tea.KeyRunes, Runes: []rune("k")}, {Type: tea.KeyTab}}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m.Update(keys[i%len(keys)])
	}
}
