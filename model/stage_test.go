package model

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
)

func contents(s *Snapshot) []string {
	var out []string
	s.Each(func(id string, raw []byte) bool {
		out = append(out, id+"="+string(raw))
		return true
	})
	return out
}

// TestRollbackRestoresTheSnapshot applies random rounds (updates, partial
// updates, adds, deletes, the same id several times, enough deletions to
// pass the compaction threshold) page by page and rolls them back: the
// snapshot must read as before, in the same order, and a round applied
// afterwards must give what it gives on an untouched copy.
func TestRollbackRestoresTheSnapshot(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const n = 5000
	base := NewSnapshot(0)
	for i := 0; i < n; i++ {
		id := fmt.Sprint("r", i)
		base.put(id, fmt.Appendf(nil, `{"id":%q,"a":%d,"b":"x"}`, id, i))
	}
	round := func(size int) []Entry {
		es := make([]Entry, size)
		for k := range es {
			id := fmt.Sprint("r", rng.IntN(n+n/2)) // a third unknown: adds
			switch rng.IntN(5) {
			case 0, 1:
				es[k] = Entry{ID: id, Removed: true, Reason: ReasonDeleted}
			case 2:
				es[k] = Entry{ID: id, Raw: fmt.Appendf(nil, `{"b":"y%d"}`, k)}
			default:
				es[k] = Entry{ID: id, Raw: fmt.Appendf(nil, `{"id":%q,"a":%d,"b":"z"}`, id, k)}
			}
		}
		return es
	}
	for trial := 0; trial < 20; trial++ {
		s := base.Clone()
		want := contents(s)
		es := round(1 + rng.IntN(4000))
		a := s.Begin(len(es))
		for k := 0; k < len(es); k += 300 {
			a.Add(es[k:min(k+300, len(es))])
		}
		a.Rollback()
		if got := contents(s); !reflect.DeepEqual(got, want) || s.Len() != base.Len() {
			t.Fatalf("trial %d: after rollback %d records, want %d (or different order/content)", trial, s.Len(), base.Len())
		}
		for i := 0; i < n; i++ {
			id := fmt.Sprint("r", i)
			got, ok := s.Get(id)
			exp, _ := base.Get(id)
			if !ok || string(got) != string(exp) {
				t.Fatalf("trial %d: %s is %s after rollback, want %s", trial, id, got, exp)
			}
		}
		if _, ok := s.Get(fmt.Sprint("r", n+1)); ok {
			t.Fatalf("trial %d: an added record survived the rollback", trial)
		}
		next := round(2000)
		r1, r2 := s.Apply(next), base.Clone().Apply(next)
		if fmt.Sprint(r1.Added, r1.Updated, r1.Deleted, r1.Records) != fmt.Sprint(r2.Added, r2.Updated, r2.Deleted, r2.Records) {
			t.Fatalf("trial %d: a round after the rollback counts %d/%d/%d/%d, on a fresh copy %d/%d/%d/%d", trial,
				r1.Added, r1.Updated, r1.Deleted, r1.Records, r2.Added, r2.Updated, r2.Deleted, r2.Records)
		}
	}
}

// TestStagedRoundEqualsApply: a round applied page by page and finished is
// the round Apply makes of the same entries at once.
func TestStagedRoundEqualsApply(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	base := NewSnapshot(0)
	for i := 0; i < 3000; i++ {
		base.put(fmt.Sprint(i), fmt.Appendf(nil, `{"id":"%d","v":%d}`, i, i))
	}
	var es []Entry
	for k := 0; k < 3000; k++ {
		id := fmt.Sprint(rng.IntN(4000))
		if rng.IntN(2) == 0 {
			es = append(es, Entry{ID: id, Removed: true})
		} else {
			es = append(es, Entry{ID: id, Raw: fmt.Appendf(nil, `{"id":%q,"v":-%d}`, id, k)})
		}
	}
	s1, s2 := base.Clone(), base.Clone()
	r1 := s1.Apply(es)
	a := s2.Begin(0)
	for k := 0; k < len(es); k += 7 {
		a.Add(es[k:min(k+7, len(es))])
	}
	r2 := a.Finish()
	if !reflect.DeepEqual(r1, r2) || !reflect.DeepEqual(contents(s1), contents(s2)) {
		t.Fatalf("staged round differs: %d/%d/%d vs %d/%d/%d", r1.Added, r1.Updated, r1.Deleted, r2.Added, r2.Updated, r2.Deleted)
	}
	if s2.dead != 0 && s2.dead > 1024 && s2.dead > s2.n/2 {
		t.Fatal("a finished round left the holes uncompacted")
	}
}

// TestRoundCountsNetEffect checks a round's counts against a plain model
// of the rule: per id, existed before and after: updated; only after:
// added; before but not after, or only removals of an unknown id: deleted;
// added then removed in the round: not counted. Ids come back several
// times, removed and added again, in pages.
func TestRoundCountsNetEffect(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for trial := 0; trial < 50; trial++ {
		s := NewSnapshot(0)
		present := map[string]bool{}
		for i := 0; i < 200; i++ {
			id := fmt.Sprint(i)
			s.put(id, []byte(`{"v":0}`))
			present[id] = true
		}
		before := map[string]bool{}
		for id := range present {
			before[id] = true
		}
		type state struct{ after, updated bool }
		touched := map[string]*state{}
		var es []Entry
		for k := 0; k < 400; k++ {
			id := fmt.Sprint(rng.IntN(300))
			st := touched[id]
			if st == nil {
				st = &state{}
				touched[id] = st
			}
			if rng.IntN(3) == 0 {
				es = append(es, Entry{ID: id, Removed: true})
				st.after = false
				present[id] = false
			} else {
				es = append(es, Entry{ID: id, Raw: fmt.Appendf(nil, `{"v":%d}`, k)})
				st.after, st.updated = true, true
				present[id] = true
			}
		}
		var wa, wu, wd int
		for id, st := range touched {
			switch {
			case before[id] && st.after:
				wu++
			case !before[id] && st.after:
				wa++
			case before[id], !st.updated:
				wd++
			}
		}
		a := s.Begin(len(es))
		for k := 0; k < len(es); k += 37 {
			a.Add(es[k:min(k+37, len(es))])
		}
		r := a.Finish()
		if r.Added != wa || r.Updated != wu || r.Deleted != wd {
			t.Fatalf("trial %d: %d added, %d updated, %d deleted; want %d, %d, %d", trial, r.Added, r.Updated, r.Deleted, wa, wu, wd)
		}
		n := 0
		for _, p := range present {
			if p {
				n++
			}
		}
		if r.Records != n {
			t.Fatalf("trial %d: %d records, want %d", trial, r.Records, n)
		}
		for i, m := range s.marks {
			if m != 0 {
				t.Fatalf("trial %d: position %d still marked after the round", trial, i)
			}
		}
	}
}
