package model

import (
	"fmt"
	"testing"
)

// BenchmarkAdd1M puts a 1,000,000-record baseline into a snapshot, page by
// page as a Graph baseline comes (999 records, no @odata.count, so the
// index grows as it fills), with ids that are views of their records as
// the decoder gives them: the snapshot's share of a baseline.
func BenchmarkAdd1M(b *testing.B) {
	const n, page = 1_000_000, 999
	entries := make([]Entry, n)
	for i := range entries {
		raw := fmt.Appendf(nil, `{"displayName":"User %d","id":"0b1f3c2a-0000-4e5f-8a9b-%012x"}`, i, i)
		entries[i] = Entry{ID: idOf(raw, fmt.Sprintf("0b1f3c2a-0000-4e5f-8a9b-%012x", i)), Raw: raw}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s := NewSnapshot(page)
		for k := 0; k < n; k += page {
			s.Add(entries[k:min(k+page, n)])
		}
		if s.Len() != n {
			b.Fatal(s.Len())
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
}
