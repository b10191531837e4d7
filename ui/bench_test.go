package ui

import (
	"context"
	"fmt"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/deltascope/deltascope/model"
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
	m.refilterList()
	base := &model.Round{Baseline: true, Time: epoch, Records: 1_000_000}
	e.AddRound(base)
	m.addLines(e, base)
	// About 40% of changes are single rows, 60% have three rows.
	r := bigRound(rows * 10 / 22)
	e.AddRound(r)
	m.addLines(e, r)
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	m.focus = diffPane
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
	h := m.diffRows(e)
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
