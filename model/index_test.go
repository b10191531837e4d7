package model

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// The snapshot's own hash index against a Go map, through adds, updates,
// removals (which shift probe runs back) and compactions, with ids that
// collide in the table's low bits often because the table is small.
func TestSnapshotIndexAgainstMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	s := NewSnapshot(0)
	want := map[string]string{}
	seen := map[string]int{} // when each live record was first seen
	compactions, prevN := 0, 0
	for step := 0; step < 200_000; step++ {
		id := fmt.Sprintf("id-%d", rng.IntN(5000))
		switch r := rng.IntN(10); {
		case r < 6:
			raw := fmt.Sprintf(`{"id":%q,"v":%d}`, id, step)
			if _, ok := want[id]; !ok {
				seen[id] = step
			}
			want[id] = raw
			s.put(id, []byte(raw))
			if s.n < prevN {
				compactions++
			}
			prevN = s.n
		default:
			got, ok := s.remove(id)
			if w, had := want[id]; ok != had || string(got) != w {
				t.Fatalf("step %d: remove %s = %q %v, want %q %v", step, id, got, ok, w, had)
			}
			delete(want, id)
			delete(seen, id)
		}
		if step%20_000 == 0 || step == 199_999 {
			if s.Len() != len(want) {
				t.Fatalf("step %d: Len %d, want %d", step, s.Len(), len(want))
			}
			for id, w := range want {
				if got, ok := s.Get(id); !ok || string(got) != w {
					t.Fatalf("step %d: Get %s = %q %v, want %q", step, id, got, ok, w)
				}
			}
			if _, ok := s.Get("absent"); ok {
				t.Fatal("Get found an absent id")
			}
			// Each goes in first-seen order, over live records only.
			var each []string
			s.Each(func(id string, raw []byte) bool { each = append(each, id); return true })
			if len(each) != len(want) {
				t.Fatalf("step %d: Each gave %d records, want %d", step, len(each), len(want))
			}
			for i := 1; i < len(each); i++ {
				if seen[each[i-1]] >= seen[each[i]] {
					t.Fatalf("step %d: Each gives %s (first seen at %d) before %s (%d)", step, each[i-1], seen[each[i-1]], each[i], seen[each[i]])
				}
			}
		}
	}
	if compactions == 0 {
		t.Error("the test never compacted the snapshot")
	}
	c := s.Clone()
	c.put("new", []byte(`{}`))
	if _, ok := s.Get("new"); ok || c.Len() != s.Len()+1 {
		t.Fatal("Clone shares its index with the original")
	}
}

// Grow sizes the index for the records to come at once, and the snapshot
// still finds every record it held and every one added after.
func TestSnapshotGrow(t *testing.T) {
	s := NewSnapshot(10)
	for i := 0; i < 100; i++ {
		s.put(fmt.Sprint("a", i), []byte("{}"))
	}
	s.Grow(100_000)
	grown := len(s.idx.slots)
	if grown*7 < 100_100*10 {
		t.Fatalf("%d slots after Grow(100000): more than 70%% full at 100,100 records", grown)
	}
	for i := 0; i < 100_000; i++ {
		s.put(fmt.Sprint("b", i), []byte("{}"))
	}
	if len(s.idx.slots) != grown {
		t.Errorf("the table grew again after Grow: %d slots, then %d", grown, len(s.idx.slots))
	}
	for _, id := range []string{"a0", "a99", "b0", "b99999"} {
		if _, ok := s.Get(id); !ok {
			t.Errorf("%s lost", id)
		}
	}
	if s.Len() != 100_100 {
		t.Errorf("Len %d, want 100100", s.Len())
	}
	// Grow moves to the final table at once: no table on the way is
	// left as garbage (a snapshot and its first table, then one more).
	if allocs := testing.AllocsPerRun(3, func() { NewSnapshot(10).Grow(100_000) }); allocs > 3 {
		t.Errorf("NewSnapshot(10).Grow(100000) allocates %v times, want at most 3", allocs)
	}
}
