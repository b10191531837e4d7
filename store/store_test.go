package store_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/deltascope/deltascope/model"
	"github.com/deltascope/deltascope/store"
)

func rec(id, body string) model.Entry { return model.Entry{ID: id, Raw: []byte(body)} }

func records(s *model.Snapshot) map[string]string {
	out := map[string]string{}
	s.Each(func(id string, raw []byte) bool { out[id] = string(raw); return true })
	return out
}

// baseline stores entries as entity's baseline, committed at t0.
func baseline(t *testing.T, s *store.Session, entity string, at time.Time, entries ...model.Entry) *model.Snapshot {
	t.Helper()
	w, err := s.StartBaseline(entity)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Add(entries); err != nil {
		t.Fatal(err)
	}
	snap, _ := model.BuildSnapshot(entries)
	if _, err := w.Commit("http://svc/link0", snap.Len(), at, nil); err != nil {
		t.Fatal(err)
	}
	return snap
}

var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func TestRoundsSurviveAndHistoryFilters(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, err := store.Open(dir, "bc", "http://svc", false)
	if err != nil {
		t.Fatal(err)
	}
	// The raw bytes are kept exactly, odd spacing and key order included.
	snap := baseline(t, s, "customers", t0, rec("1", `{"id":"1", "n":1}`), rec("2", `{"n":2,"id":"2"}`), rec("3", `{"id":"3","n":3}`))
	rounds := [][]model.Entry{
		{rec("1", `{"id":"1", "n":10}`), rec("4", `{"id":"4","n":4}`)},
		{{ID: "2", Removed: true, Reason: "deleted"}, rec("1", `{"id":"1", "n":11}`)},
		{rec("5", `{"id":"5","n":5}`)},
	}
	for i, entries := range rounds {
		r := snap.Apply(entries)
		r.Seq, r.Time = i+1, t0.Add(time.Duration(i+1)*time.Minute)
		if _, err := s.CommitRound("customers", r, fmt.Sprintf("http://svc/link%d", i+1), nil); err != nil {
			t.Fatal(err)
		}
	}
	// A round out of order is refused: nothing is applied twice.
	r := snap.Apply(nil)
	r.Seq = 2
	if _, err := s.CommitRound("customers", r, "x", nil); err == nil {
		t.Error("round 2 committed twice")
	}
	s.Close()

	s, err = store.Open(dir, "bc", "http://svc", false)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, st, err := s.Load("customers")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(records(snap), records(got)); d != "" {
		t.Errorf("stored snapshot (-want +got):\n%s", d)
	}
	if st.Seq != 3 || st.Link != "http://svc/link3" || !st.Since.Equal(t0.Add(3*time.Minute)) || st.Records != 4 {
		t.Errorf("state = %+v", st)
	}

	type ev struct {
		Round  int
		Kind   string
		ID     string
		Fields string
	}
	history := func(f store.Filter) []ev {
		var out []ev
		if err := s.History(f, func(e *store.Event) error {
			var fs []string
			for _, f := range e.Fields {
				fs = append(fs, f.Path+":"+string(f.Old)+">"+string(f.New))
			}
			out = append(out, ev{e.Round.Seq, e.Kind.String(), e.ID, strings.Join(fs, ",")})
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	all := []ev{{1, "updated", "1", "n:1>10"}, {1, "added", "4", ""}, {2, "deleted", "2", ""}, {2, "updated", "1", "n:10>11"}, {3, "added", "5", ""}}
	for _, tc := range []struct {
		name string
		f    store.Filter
		want []ev
	}{
		{"all", store.Filter{}, all},
		{"entity", store.Filter{Entity: "customers"}, all},
		{"other entity", store.Filter{Entity: "vendors"}, nil},
		{"key", store.Filter{Key: "1"}, []ev{all[0], all[3]}},
		{"key not a prefix of another", store.Filter{Key: "4"}, []ev{all[1]}},
		{"since a round's time excludes it", store.Filter{Since: t0.Add(2 * time.Minute)}, all[4:]},
		{"since between rounds", store.Filter{Since: t0.Add(90 * time.Second)}, all[2:]},
		{"since before all", store.Filter{Since: t0}, all},
		{"since after all", store.Filter{Since: t0.Add(time.Hour)}, nil},
		{"key and since", store.Filter{Key: "1", Since: t0.Add(time.Minute)}, []ev{all[3]}},
	} {
		if d := cmp.Diff(tc.want, history(tc.f)); d != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, d)
		}
	}
	r2, err := s.Round("customers", 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(r2.Changes) != 2 || r2.Deleted != 1 || r2.Updated != 1 || r2.Changes[1].Fields[0].Path != "n" || !r2.Time.Equal(t0.Add(2*time.Minute)) {
		t.Errorf("round 2 = %+v", r2)
	}
}

func TestKilledBaselineLeavesTheOldOne(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, err := store.Open(dir, "s", "", false)
	if err != nil {
		t.Fatal(err)
	}
	w, err := s.StartBaseline("items")
	if err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("x", 1<<20)
	for i := range 6 { // more than one chunk reaches the file
		if err := w.Add([]model.Entry{rec(fmt.Sprint(i), `{"v":"`+big+`"}`)}); err != nil {
			t.Fatal(err)
		}
	}
	s.Close() // as if killed: no Commit
	s, err = store.Open(dir, "s", "", false)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := s.State("items"); st.Baselined() {
		t.Fatal("a baseline that never committed counts as stored")
	}
	baseline(t, s, "items", t0, rec("a", `{"id":"a"}`))
	// A second baseline killed half-way keeps the first.
	w, _ = s.StartBaseline("items")
	w.Add([]model.Entry{rec("b", `{"id":"b"}`)})
	w.Abort()
	snap, st, err := s.Load("items")
	if err != nil {
		t.Fatalf("after an aborted re-baseline: %v", err)
	}
	if snap.Len() != 1 || st.Gen != 1 {
		t.Fatalf("after an aborted re-baseline: %v records, state %+v, %v", snap.Len(), st, err)
	}
	// A replaced baseline's file goes with it; sessions rm takes them all.
	baseline(t, s, "items", t0, rec("c", `{"id":"c"}`))
	if bases, _ := filepath.Glob(store.Path(dir, "s") + ".base.*"); len(bases) != 1 || !strings.HasSuffix(bases[0], ".2") {
		t.Errorf("baseline files after a re-baseline: %v", bases)
	}
	s.Close()
	if err := store.Remove(dir, "s"); err != nil {
		t.Fatal(err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) != 0 {
		t.Errorf("left after sessions rm: %v", left)
	}
}

func TestCorruptAndIncompatibleStores(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(store.Path(dir, "junk"), []byte(strings.Repeat("not a session ", 1000)), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := store.Open(dir, "junk", "", false)
	var ce *store.CorruptError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "--fresh") {
		t.Fatalf("corrupt store: %v", err)
	}
	if b, _ := os.ReadFile(store.Path(dir, "junk")); !strings.HasPrefix(string(b), "not a session") {
		t.Error("a corrupt store was overwritten without --fresh")
	}
	if _, err := store.OpenReadOnly(dir, "junk"); !errors.As(err, &ce) {
		t.Errorf("read-only open of a corrupt store: %v", err)
	}
	s, err := store.Open(dir, "junk", "", true)
	if err != nil {
		t.Fatalf("--fresh must start over: %v", err)
	}
	s.Close()

	// A session whose baseline bytes were damaged on disk.
	s, _ = store.Open(dir, "torn", "", false)
	noise := make([]byte, 9000) // incompressible, so it is in the file as is
	for i, r := 0, rand.New(rand.NewPCG(1, 2)); i < len(noise); i++ {
		noise[i] = 'a' + byte(r.IntN(26))
	}
	baseline(t, s, "customers", t0, rec("1", `{"id":"1","name":"`+string(noise)+`"}`))
	s.Close()
	// The records are in the baseline file beside the session's.
	bases, _ := filepath.Glob(store.Path(dir, "torn") + ".base.*")
	if len(bases) != 1 {
		t.Fatalf("baseline files: %v", bases)
	}
	p := bases[0]
	b, _ := os.ReadFile(p)
	i := bytes.Index(b, noise[4000:4100])
	if i < 0 {
		t.Fatal("record bytes not found in the file")
	}
	copy(b[i:i+20], strings.Repeat("Z", 20)) // a bit rot in the record
	os.WriteFile(p, b, 0o600)
	s, err = store.Open(dir, "torn", "", false)
	if err == nil {
		_, _, err = s.Load("customers")
		s.Close()
	}
	if !errors.As(err, &ce) {
		t.Errorf("damaged record: %v, want a CorruptError", err)
	}
	// A baseline file gone missing.
	os.Remove(p)
	s, err = store.Open(dir, "torn", "", false)
	if err == nil {
		_, _, err = s.Load("customers")
		s.Close()
	}
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing baseline file: %v, want a CorruptError", err)
	}
}

func TestLockedSession(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, err := store.Open(dir, "shared", "http://svc", false)
	if err != nil {
		t.Fatal(err)
	}
	baseline(t, s, "customers", t0, rec("1", `{"id":"1"}`))
	_, err = store.Open(dir, "shared", "http://svc", false)
	var le *store.LockedError
	if !errors.As(err, &le) || le.PID != os.Getpid() || !strings.Contains(err.Error(), fmt.Sprintf("in use by pid %d", os.Getpid())) {
		t.Fatalf("second writer: %v", err)
	}
	if err := store.Remove(dir, "shared"); !errors.As(err, &le) {
		t.Errorf("rm of a session in use: %v", err)
	}
	ro, err := store.OpenReadOnly(dir, "shared")
	if err != nil {
		t.Fatalf("read-only open while locked: %v", err)
	}
	if snap, _, err := ro.Load("customers"); err != nil || snap.Len() != 1 {
		t.Errorf("read-only load: %v", err)
	}
	ro.Close()
	list, err := store.List(dir)
	if err != nil || len(list) != 1 || list[0].Name != "shared" || list[0].Records != 1 || list[0].Service != "http://svc" || list[0].Size == 0 {
		t.Errorf("List = %+v, %v", list, err)
	}
	s.Close()
	if err := store.Remove(dir, "shared"); err != nil {
		t.Fatal(err)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "*")); len(m) != 0 {
		t.Errorf("left behind: %v", m)
	}
}

func TestNames(t *testing.T) {
	t.Parallel()
	a := store.NameFor("https://api.businesscentral.dynamics.com/v2.0/tenant/Production/api/v2.0", "c1")
	b := store.NameFor("https://api.businesscentral.dynamics.com/v2.0/tenant/Production/api/v2.0", "c2")
	if a == b || !strings.HasPrefix(a, "api.businesscentral.dynamics.com-") || store.CheckName(a) != nil {
		t.Errorf("names %q %q", a, b)
	}
	if n := store.NameFor("https://user:secret@host:8080/x", ""); strings.Contains(n, "secret") || strings.Contains(n, "user") {
		t.Errorf("name %q carries credentials", n)
	}
	for _, bad := range []string{"", "../x", "a/b", ".hidden", "x..y"} {
		if store.CheckName(bad) == nil {
			t.Errorf("name %q accepted", bad)
		}
	}
}

// A round larger than one history block: every change comes back in
// order, by round, by key and through the snapshot.
func TestLargeRoundSpansBlocks(t *testing.T) {
	t.Parallel()
	s, err := store.Open(t.TempDir(), "big", "svc", false)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	snap := baseline(t, s, "customers", t0, rec("keep", `{"id":"keep"}`))
	var entries []model.Entry
	for i := range 600 {
		entries = append(entries, rec(fmt.Sprintf("r%03d", i), fmt.Sprintf(`{"id":"r%03d","n":%d}`, i, i)))
	}
	r := snap.Apply(entries)
	r.Seq, r.Time = 1, t0.Add(time.Minute)
	if _, err := s.CommitRound("customers", r, "l", nil); err != nil {
		t.Fatal(err)
	}
	got, err := s.Round("customers", 1)
	if err != nil || len(got.Changes) != 600 {
		t.Fatalf("round: %d changes, %v", len(got.Changes), err)
	}
	for i, c := range got.Changes {
		if c.ID != fmt.Sprintf("r%03d", i) || string(c.Record) != fmt.Sprintf(`{"id":"r%03d","n":%d}`, i, i) {
			t.Fatalf("change %d = %s %s", i, c.ID, c.Record)
		}
	}
	for _, id := range []string{"r000", "r255", "r256", "r599"} {
		var found []string
		s.History(store.Filter{Key: id}, func(e *store.Event) error { found = append(found, e.ID); return nil })
		if len(found) != 1 || found[0] != id {
			t.Errorf("history --key %s: %v", id, found)
		}
	}
	loaded, _, err := s.Load("customers")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(records(snap), records(loaded)); d != "" {
		t.Errorf("snapshot (-want +got):\n%s", d)
	}
}

// TestEncodedRoundMatchesPlain commits one round with its history
// compressed page by page as it was applied and reads it back whole.
func TestEncodedRoundMatchesPlain(t *testing.T) {
	t.Parallel()
	s, err := store.Open(t.TempDir(), "enc", "svc", false)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	snap := baseline(t, s, "customers", t0, rec("keep", `{"id":"keep"}`))
	a := snap.Begin(0)
	enc := store.NewRoundEncoder()
	for page := range 7 { // pages of 100: blocks of 256 span pages
		var es []model.Entry
		for i := page * 100; i < page*100+100; i++ {
			es = append(es, rec(fmt.Sprintf("r%03d", i), fmt.Sprintf(`{"id":"r%03d","n":%d}`, i, i)))
		}
		a.Add(es)
		enc.Feed(a.Changes())
	}
	r := a.Finish()
	r.Seq, r.Time = 1, t0.Add(time.Minute)
	if _, err := s.CommitEncodedRound("customers", r, "l", nil, enc); err != nil {
		t.Fatal(err)
	}
	got, err := s.Round("customers", 1)
	if err != nil || len(got.Changes) != 700 {
		t.Fatalf("round: %v", err)
	}
	for i, c := range got.Changes {
		if c.ID != fmt.Sprintf("r%03d", i) || string(c.Record) != fmt.Sprintf(`{"id":"r%03d","n":%d}`, i, i) {
			t.Fatalf("change %d = %s %s", i, c.ID, c.Record)
		}
	}
	loaded, _, err := s.Load("customers")
	if err != nil || loaded.Len() != 701 {
		t.Fatalf("load: %v", err)
	}
}
