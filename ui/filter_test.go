package ui

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/deltascope/deltascope/deltaclient/deltatest"
)

// TestFilterKeepsRecordAndRound: a match keeps its record's row and its
// round's header; a record that matches keeps its field rows; a leading
// + ~ or - keeps one kind of change.
func TestFilterKeepsRecordAndRound(t *testing.T) {
	t.Parallel()
	f := newFixture(t, deltatest.Options{}).start()
	f.size(160, 40)
	ids := f.srv.IDs("customers")
	f.srv.Update("customers", ids[0], map[string]any{"displayName": "Super Cloud", "creditLimit": 5000})
	f.srv.Update("customers", ids[1], map[string]any{"city": "Oslo"})
	f.srv.Delete("customers", ids[2])
	f.srv.Add("customers", map[string]any{"displayName": "Alpine Ski House"})
	f.press("r", "tab")
	_, e := f.m.selected()
	shown := func(q string) []string {
		e.setQuery(q)
		var out []string
		for i := 0; i < e.rows(); i++ {
			out = append(out, kindName[e.row(i).kind])
		}
		return out
	}
	cases := []struct {
		q    string
		want []string
	}{
		// A field name: the field with its record and round.
		{"creditlimit", []string{"header", "updated", "field"}},
		// A record's name: the record with every field it changed.
		{"super cloud", []string{"header", "updated", "field", "field", "field"}},
		{"-", []string{"header", "deleted"}},
		{"+", []string{"header", "added"}},
		{"~ city", []string{"header", "updated", "field"}},
		{"~ alpine ski", nil}, // the added record is not an update
		{"~", []string{"header", "updated", "field", "field", "field", "updated", "field", "field"}},
		{"round 1", []string{"header", "updated", "field", "field", "field", "updated", "field", "field", "deleted", "added"}},
		{"nothing like it", nil},
	}
	for _, tc := range cases {
		if got := shown(tc.q); !cmp.Equal(got, tc.want) {
			t.Errorf("/%s: rows %v, want %v", tc.q, got, tc.want)
		}
	}
	e.setQuery("")
	f.press("/", "-")
	f.mustShow("/- 2 rows", "round 1 ·", "- ")
	f.mustNotShow("Super Cloud", "Alpine Ski House")
}

var kindName = map[lineKind]string{lineHeader: "header", lineAdded: "added", lineUpdated: "updated", lineField: "field", lineDeleted: "deleted", lineQuiet: "quiet"}
