package model

import (
	"fmt"
	"strings"
	"testing"
)

// Rounds that fail and are rolled back, again and again (a flaky server
// during a long watch), leave the id arena bounded: the ids their added
// and updated records put there are counted as dead, so compaction drops
// them. Composite keys are never inside their records, so every record of
// a keyed entity set has its id in the arena.
func TestRolledBackRoundsLeaveTheIDArenaBounded(t *testing.T) {
	t.Parallel()
	s := NewSnapshot(0)
	for i := 0; i < 10; i++ {
		s.put(fmt.Sprintf("no='%d',line=%d", i, i), []byte(`{"v":0}`))
	}
	pad := strings.Repeat("k", 100)
	for round := 0; round < 300; round++ {
		a := s.Begin(0)
		es := make([]Entry, 0, 110)
		for i := 0; i < 100; i++ {
			es = append(es, Entry{ID: fmt.Sprintf("no='%s%d-%d'", pad, round, i), Raw: []byte(`{"v":1}`)})
		}
		for i := 0; i < 10; i += 2 {
			es = append(es, Entry{ID: fmt.Sprintf("no='%d',line=%d", i, i), Removed: true})
		}
		a.Add(es)
		a.Rollback()
		s.Apply(nil) // a round that works: compaction runs when it finishes
	}
	if s.Len() != 10 {
		t.Fatalf("Len %d after rolled-back rounds, want 10", s.Len())
	}
	if live := 10 * ownLen("no='0',line=0"); len(s.ids) > 2*(64<<10)+live {
		t.Fatalf("the id arena holds %d bytes for %d bytes of live ids after 300 rolled-back rounds", len(s.ids), live)
	}
}
