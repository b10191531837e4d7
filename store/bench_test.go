package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/deltascope/deltascope/model"
	"github.com/deltascope/deltascope/store"
)

// BenchmarkHistoryKey1MChanges answers `history --key` for one record in
// a session holding 1,000,000 stored changes (ten rounds of 100,000 over
// 200,000 records): open the file, find the record's changes through the
// key index, decode them (target <= 100 ms).
func BenchmarkHistoryKey1MChanges(b *testing.B) {
	dir := b.TempDir()
	s, err := store.Open(dir, "hist", "svc", false)
	if err != nil {
		b.Fatal(err)
	}
	w, _ := s.StartBaseline("customers")
	if _, err := w.Commit("http://svc/link", 0, t0, nil); err != nil {
		b.Fatal(err)
	}
	const rounds, per, records = 10, 100_000, 200_000
	for seq := 1; seq <= rounds; seq++ {
		r := &model.Round{Seq: seq, Time: t0.Add(time.Duration(seq) * time.Minute)}
		for i := range per {
			id := fmt.Sprintf("6cb4e290-a784-4105-b340-%012d", (i*7+seq*13)%records)
			rec := fmt.Appendf(nil, `{"id":%q,"displayName":"Customer %d","balanceDue":%d}`, id, i, seq)
			r.Changes = append(r.Changes, model.Change{Kind: model.Updated, ID: id, Record: rec,
				Fields: []model.FieldChange{{Path: "balanceDue", Old: fmt.Append(nil, seq-1), New: fmt.Append(nil, seq)}}})
		}
		r.Updated = per
		if _, err := s.CommitRound("customers", r, "http://svc/link", nil); err != nil {
			b.Fatal(err)
		}
	}
	s.Close()
	key := fmt.Sprintf("6cb4e290-a784-4105-b340-%012d", 4242)
	b.ResetTimer()
	found := 0
	for i := 0; i < b.N; i++ {
		ro, err := store.OpenReadOnly(dir, "hist")
		if err != nil {
			b.Fatal(err)
		}
		found = 0
		if err := ro.History(store.Filter{Key: key}, func(e *store.Event) error {
			found++
			return nil
		}); err != nil {
			b.Fatal(err)
		}
		ro.Close()
	}
	if found == 0 {
		b.Fatal("no changes found for the key")
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms")
	b.ReportMetric(float64(found), "changes-found")
}
