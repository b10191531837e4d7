package model_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/deltascope/deltascope/model"
)

func rec(id, body string) model.Entry { return model.Entry{ID: id, Raw: []byte(body)} }
func del(id, reason string) model.Entry {
	return model.Entry{ID: id, Removed: true, Reason: reason}
}

type row struct {
	Kind    string
	ID      string
	Fields  []string
	Reason  string
	Unknown bool
}

func rows(r *model.Round) []row {
	var out []row
	for _, c := range r.Changes {
		rw := row{Kind: c.Kind.String(), ID: c.ID, Reason: c.Reason, Unknown: c.Unknown}
		for _, f := range c.Fields {
			rw.Fields = append(rw.Fields, f.Path+": "+string(f.Old)+" -> "+string(f.New))
		}
		out = append(out, rw)
	}
	return out
}

func TestApply(t *testing.T) {
	t.Parallel()
	base := []model.Entry{
		rec("1", `{"@odata.etag":"W/1","id":"1","displayName":"Adatum","address":{"city":"Atlanta","zip":"31772"},"tags":["a"]}`),
		rec("2", `{"id":"2","displayName":"Trey"}`),
		del("9", "deleted"), // removals inside a baseline are not records
	}
	cases := []struct {
		name                    string
		delta                   []model.Entry
		want                    []row
		added, updated, deleted int
		records                 int
	}{
		{
			name: "seed scenario: update, delete, add",
			delta: []model.Entry{
				rec("1", `{"@odata.etag":"W/2","id":"1","displayName":"Super Cloud","address":{"city":"Atlanta","zip":"31772"},"tags":["a"]}`),
				del("2", "changed"),
				rec("3", `{"id":"3","displayName":"Alpine Ski House"}`),
			},
			want: []row{
				{Kind: "updated", ID: "1", Fields: []string{`displayName: "Adatum" -> "Super Cloud"`}},
				{Kind: "deleted", ID: "2", Reason: "changed"},
				{Kind: "added", ID: "3"},
			},
			added: 1, updated: 1, deleted: 1, records: 2,
		},
		{
			name:  "nested objects by dotted path, arrays as values",
			delta: []model.Entry{rec("1", `{"id":"1","displayName":"Adatum","address":{"city":"Boston","zip":"31772"},"tags":["a","b"]}`)},
			want: []row{{Kind: "updated", ID: "1", Fields: []string{
				`address.city: "Atlanta" -> "Boston"`, `tags: ["a"] -> ["a","b"]`,
			}}},
			updated: 1, records: 2,
		},
		{
			name:    "partial update keeps omitted fields",
			delta:   []model.Entry{rec("2", `{"id":"2","phone":"555"}`)},
			want:    []row{{Kind: "updated", ID: "2", Fields: []string{`phone:  -> "555"`}}},
			updated: 1, records: 2,
		},
		{
			name:    "deletion of an unknown id is reported",
			delta:   []model.Entry{del("404", "deleted")},
			want:    []row{{Kind: "deleted", ID: "404", Reason: "deleted", Unknown: true}},
			deleted: 1, records: 2,
		},
		{
			name: "same id twice: applied in order, counted by net effect",
			delta: []model.Entry{
				rec("5", `{"id":"5","n":1}`),
				rec("5", `{"id":"5","n":2}`),
				rec("1", `{"id":"1","displayName":"X"}`),
				del("1", "deleted"),
				rec("6", `{"id":"6"}`),
				del("6", "deleted"),
			},
			want: []row{
				{Kind: "added", ID: "5"},
				{Kind: "updated", ID: "5", Fields: []string{"n: 1 -> 2"}},
				{Kind: "updated", ID: "1", Fields: []string{`displayName: "Adatum" -> "X"`}},
				{Kind: "deleted", ID: "1", Reason: "deleted"},
				{Kind: "added", ID: "6"},
				{Kind: "deleted", ID: "6", Reason: "deleted"},
			},
			added: 1, deleted: 1, records: 2,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, skipped := model.BuildSnapshot(base)
			if s.Len() != 2 || skipped != 1 {
				t.Fatalf("baseline: %d records, %d skipped", s.Len(), skipped)
			}
			r := s.Apply(tc.delta)
			if d := cmp.Diff(tc.want, rows(r)); d != "" {
				t.Errorf("changes (-want +got):\n%s", d)
			}
			if r.Added != tc.added || r.Updated != tc.updated || r.Deleted != tc.deleted {
				t.Errorf("counts +%d ~%d -%d, want +%d ~%d -%d", r.Added, r.Updated, r.Deleted, tc.added, tc.updated, tc.deleted)
			}
			if s.Len() != tc.records || r.Records != tc.records {
				t.Errorf("snapshot has %d records (round says %d), want %d", s.Len(), r.Records, tc.records)
			}
		})
	}
}

func TestMergeKeepsOmittedFieldsInPlace(t *testing.T) {
	t.Parallel()
	got := string(model.Merge([]byte(`{"id":"1","a":1,"b":{"x":1},"c":"z"}`), []byte(`{"id":"1","b":{"x":2},"d":true}`)))
	want := `{"id":"1","a":1,"b":{"x":2},"c":"z","d":true}`
	if got != want {
		t.Errorf("Merge = %s, want %s", got, want)
	}
	full := []byte(`{"c":"y","b":2,"a":0,"id":"1"}`)
	if got := model.Merge([]byte(`{"id":"1","a":1,"b":1,"c":"z"}`), full); string(got) != string(full) {
		t.Errorf("a full entry must replace the record, got %s", got)
	}
}

func TestDiffIgnoresControlInformation(t *testing.T) {
	t.Parallel()
	if d := model.Diff([]byte(`{"@odata.etag":"1","id":"1","n@odata.type":"#Int64","n":1}`), []byte(`{"@odata.etag":"2","id":"1","n@odata.type":"#Int32","n":1}`)); len(d) != 0 {
		t.Errorf("etag and annotations are not field changes: %+v", d)
	}
}

func TestCompareFindsWhatTheGapHid(t *testing.T) {
	t.Parallel()
	old, _ := model.BuildSnapshot([]model.Entry{rec("1", `{"id":"1","v":1}`), rec("2", `{"id":"2","v":1}`), rec("3", `{"id":"3","v":1}`)})
	// The same record re-encoded in another order is not a change.
	now, _ := model.BuildSnapshot([]model.Entry{rec("1", `{"v":1,"id":"1"}`), rec("2", `{"id":"2","v":2}`), rec("4", `{"id":"4","v":1}`)})
	r := model.Compare(old, now)
	want := []row{
		{Kind: "updated", ID: "2", Fields: []string{"v: 1 -> 2"}},
		{Kind: "added", ID: "4"},
		{Kind: "deleted", ID: "3", Reason: "deleted"},
	}
	if d := cmp.Diff(want, rows(r)); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if r.Via != model.ViaRebaseline || !r.Changes[2].Inferred {
		t.Errorf("re-baseline changes must be marked: via %q inferred %v", r.Via, r.Changes[2].Inferred)
	}
}

func TestSnapshotCompactionKeepsOrder(t *testing.T) {
	t.Parallel()
	var entries []model.Entry
	for i := 0; i < 5000; i++ {
		entries = append(entries, rec(string(rune('a'+i%26))+string(rune(i)), `{}`))
	}
	s, _ := model.BuildSnapshot(entries)
	var dels []model.Entry
	for i := 0; i < 4000; i++ {
		dels = append(dels, del(entries[i].ID, "deleted"))
	}
	s.Apply(dels)
	var got []string
	s.Each(func(id string, _ []byte) bool { got = append(got, id); return true })
	if len(got) != 1000 || got[0] != entries[4000].ID || got[999] != entries[4999].ID {
		t.Fatalf("after compaction: %d records, first %q last %q", len(got), got[0], got[len(got)-1])
	}
	if _, ok := s.Get(entries[4500].ID); !ok {
		t.Error("lookup broken after compaction")
	}
}
