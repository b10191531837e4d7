package deltatest_test

import (
	"testing"

	"github.com/deltascope/deltascope/deltaclient/deltatest"
)

// BenchmarkStart1MRecords is what `deltascope demo --records 1000000`
// does before it serves: generate and encode the data (target < 3 s).
func BenchmarkStart1MRecords(b *testing.B) {
	for i := 0; i < b.N; i++ {
		s := deltatest.New(deltatest.Options{Seed: 1, Records: 1_000_000})
		if len(s.IDs("customers")) != 1_000_000 {
			b.Fatal("short")
		}
	}
}
