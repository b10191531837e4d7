package model

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkIndex100kLookupsIn1M looks up 100,000 random ids of a
// 1,000,000-record snapshot, and the same in a Go map of the same ids, in
// one run: the delta's hot path.
func BenchmarkIndex100kLookupsIn1M(b *testing.B) {
	const n = 1_000_000
	arena := make([]byte, 0, n*40)
	ids := make([]string, n)
	for i := range ids {
		start := len(arena)
		arena = fmt.Appendf(arena, "6cb4e290-a784-4105-b340-%012d", i)
		ids[i] = string(arena[start:])
	}
	s := NewSnapshot(0)
	m := map[string]int32{}
	for i, id := range ids {
		s.put(id, []byte("{}"))
		m[id] = int32(i)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	probe := make([]string, 100_000)
	for i := range probe {
		probe[i] = ids[rng.IntN(n)]
	}
	b.Run("snapshot", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			for _, id := range probe {
				if _, _, ok := s.lookup(id); !ok {
					b.Fatal(id)
				}
			}
		}
	})
	b.Run("gomap", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			for _, id := range probe {
				if _, ok := m[id]; !ok {
					b.Fatal(id)
				}
			}
		}
	})
}

// BenchmarkApply100kInto1M applies 100,000 updates of random records of a
// 1,000,000-record snapshot, records unchanged but for one field.
func BenchmarkApply100kInto1M(b *testing.B) {
	const n = 1_000_000
	base := NewSnapshot(n)
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("6cb4e290-a784-4105-b340-%012d", i)
		base.put(ids[i], fmt.Appendf(nil, `{"id":%q,"a":"x","b":%d}`, ids[i], i))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	entries := make([]Entry, 100_000)
	for i := range entries {
		k := rng.IntN(n)
		entries[i] = Entry{ID: ids[k], Raw: fmt.Appendf(nil, `{"id":%q,"a":"y","b":%d}`, ids[k], k)}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		s := base.Clone()
		b.StartTimer()
		if r := s.Apply(entries); r.Updated == 0 {
			b.Fatal("nothing updated")
		}
	}
}
