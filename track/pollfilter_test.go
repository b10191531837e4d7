package track_test

import (
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/deltascope/deltascope/deltaclient/deltatest"
	"github.com/deltascope/deltascope/track"
)

// With the user's $filter, a record that no longer matches it is reported
// deleted with reason changed, as a delta round reports it; only a record
// that is gone is reason deleted. Each poll method.
func TestPollRecordLeavingFilterIsChanged(t *testing.T) {
	t.Parallel()
	for name, hints := range map[string]track.PollHints{
		"lastModifiedDateTime + key scan": {Timestamp: "lastModifiedDateTime", KeyFields: []string{"id"}, Types: map[string]string{"id": "Edm.Guid"}},
		"etag scan":                       {KeyFields: []string{"id"}, Types: map[string]string{"id": "Edm.Guid"}},
		"full read":                       {Method: track.MethodFull, KeyFields: []string{"id"}, Types: map[string]string{"id": "Edm.Guid"}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := deltatest.NewServer(deltatest.Options{Seed: 4, Records: 60, PageSize: 25, NoDelta: true})
			defer srv.Close()
			tr := track.New("customers", srv.CollectionURL("customers")+"?$filter=creditLimit%20ge%2050000", client(0))
			tr.Hints = hints
			_, err := tr.Baseline(ctx, nil)
			must(t, err)
			if got := tr.Method(); got != name {
				t.Fatalf("method %q, want %q", got, name)
			}
			var in []string
			for id := range tr.Records() {
				in = append(in, id)
			}
			sort.Strings(in)
			if len(in) < 2 {
				t.Fatalf("only %d records match the filter", len(in))
			}
			must(t, srv.Update("customers", in[0], map[string]any{"creditLimit": 1}))
			must(t, srv.Delete("customers", in[1]))
			r, err := tr.Poll(ctx, nil)
			must(t, err)
			got := summary(r)
			sort.Strings(got)
			want := []string{"deleted " + in[0] + " (changed)", "deleted " + in[1] + " (deleted)"}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("round (-want +got):\n%s", d)
			}
			if r.Deleted != 2 || strings.Contains(strings.Join(got, " "), "added") {
				t.Errorf("round +%d ~%d -%d", r.Added, r.Updated, r.Deleted)
			}
		})
	}
}
