package store

import (
	"fmt"
	"testing"
	"time"

	"github.com/deltascope/deltascope/model"
)

// TestUnindexedRoundsReadFromHistory commits rounds whose key index and
// overlay are not written (as when the process is killed right after a
// round's commit) and checks that Load and History see them all, and that
// a later index pass, across a re-baseline, gives the same answers.
func TestUnindexedRoundsReadFromHistory(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, err := Open(dir, "lag", "svc", false)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	var base []model.Entry
	for i := range 400 {
		base = append(base, model.Entry{ID: fmt.Sprintf("r%03d", i), Raw: fmt.Appendf(nil, `{"v":0,"i":%d}`, i)})
	}
	w, err := s.StartBaseline("c")
	if err != nil {
		t.Fatal(err)
	}
	w.Add(base)
	snap, _ := model.BuildSnapshot(base)
	if _, err := w.Commit("l0", snap.Len(), at, nil); err != nil {
		t.Fatal(err)
	}
	s.noIndex = true
	seq := 0
	round := func(entries []model.Entry) {
		t.Helper()
		r := snap.Apply(entries)
		seq++
		r.Seq, r.Time = seq, at.Add(time.Duration(seq)*time.Minute)
		if _, err := s.CommitRound("c", r, fmt.Sprintf("l%d", seq), nil); err != nil {
			t.Fatal(err)
		}
	}
	change := func(v, from, to int) []model.Entry {
		var es []model.Entry
		for i := from; i < to; i++ {
			es = append(es, model.Entry{ID: fmt.Sprintf("r%03d", i), Raw: fmt.Appendf(nil, `{"v":%d,"i":%d}`, v, i)})
		}
		return es
	}
	round(change(1, 0, 300))                                                   // spans two blocks
	round(append(change(2, 100, 150), model.Entry{ID: "r010", Removed: true})) // r010 deleted
	round(change(3, 10, 11))                                                   // and back
	check := func(when string, wantIndexed int) {
		t.Helper()
		got, st, err := s.Load("c")
		if err != nil {
			t.Fatal(err)
		}
		if st.Indexed != wantIndexed {
			t.Errorf("%s: indexed %d, want %d", when, st.Indexed, wantIndexed)
		}
		want := map[string]string{}
		snap.Each(func(id string, raw []byte) bool { want[id] = string(raw); return true })
		n := 0
		got.Each(func(id string, raw []byte) bool {
			n++
			if want[id] != string(raw) {
				t.Errorf("%s: %s = %s, want %s", when, id, raw, want[id])
			}
			return true
		})
		if n != len(want) {
			t.Errorf("%s: %d records, want %d", when, n, len(want))
		}
		var kinds []string
		err = s.History(Filter{Key: "r010"}, func(e *Event) error {
			kinds = append(kinds, fmt.Sprintf("%d:%s", e.Round.Seq, e.Kind))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(kinds) != "[1:updated 2:deleted 3:added]" {
			t.Errorf("%s: history --key r010 = %v", when, kinds)
		}
	}
	check("unindexed", 0)
	s.noIndex = false
	round(change(4, 390, 400))
	s.wg.Wait()
	check("indexed", 4)

	// A re-baseline: its round is indexed, never put in the overlay.
	s.noIndex = true
	round(change(5, 0, 5))
	next := change(6, 0, 400)
	next[10] = model.Entry{ID: "r010x", Raw: []byte(`{"new":true}`)}
	w, err = s.StartBaseline("c")
	if err != nil {
		t.Fatal(err)
	}
	w.Add(next)
	old := snap
	snap, _ = model.BuildSnapshot(next)
	r := model.Compare(old, snap)
	seq++
	r.Seq, r.Time = seq, at.Add(time.Hour)
	if _, err := w.Commit("l9", snap.Len(), r.Time, r); err != nil {
		t.Fatal(err)
	}
	s.noIndex = false
	round(change(7, 0, 3))
	s.Close()
	if s, err = Open(dir, "lag", "svc", false); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, st, err := s.Load("c")
	if err != nil || st.Indexed != seq || st.Base != seq-1 {
		t.Fatalf("after re-baseline: %+v %v", st, err)
	}
	if v, _ := got.Get("r010x"); string(v) != `{"new":true}` {
		t.Errorf("r010x = %s", v)
	}
	if v, _ := got.Get("r001"); string(v) != `{"v":7,"i":1}` {
		t.Errorf("r001 = %s", v)
	}
}
