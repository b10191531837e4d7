package deltatest_test

import (
	"strings"
	"testing"

	"github.com/deltascope/deltascope/deltaclient/deltatest"
)

// A query naming a property the set does not have is a 400, as on a real
// OData service, not an empty answer or every field: a typo in --filter
// or --select must not look like "no records" on the demo.
func TestUnknownPropertyIsRejected(t *testing.T) {
	t.Parallel()
	for _, noDelta := range []bool{false, true} {
		srv := deltatest.NewServer(deltatest.Options{Seed: 5, Records: 10, NoDelta: noDelta})
		defer srv.Close()
		for _, set := range []string{"customers", "balanceSheet"} {
			coll := srv.CollectionURL(set)
			for _, opts := range []string{
				"$filter=nosuch eq 1",
				"$filter=nosuch in (1,2)",
				"$filter=not (nosuch eq 1)",
				"$select=nosuch",
				"$orderby=nosuch desc",
			} {
				for _, u := range []string{coll + "?", coll + "/$count?"} {
					if strings.HasSuffix(u, "$count?") && !strings.HasPrefix(opts, "$filter") {
						continue
					}
					resp, m := get(t, u+strings.ReplaceAll(opts, " ", "%20"), "")
					e, _ := m["error"].(map[string]any)
					msg, _ := e["message"].(string)
					if resp.StatusCode != 400 || !strings.Contains(msg, "nosuch") {
						t.Errorf("%s%s: %d %v, want 400 naming the property", u, opts, resp.StatusCode, m)
					}
				}
			}
		}
		// The properties the set has still work.
		for _, opts := range []string{"$filter=city%20eq%20'x'&$select=id,city&$orderby=number", "$filter=lastModifiedDateTime%20ge%202026-01-01T00:00:00Z"} {
			if resp, _ := get(t, srv.CollectionURL("customers")+"?"+opts, ""); resp.StatusCode != 200 {
				t.Errorf("%s: %d, want 200", opts, resp.StatusCode)
			}
		}
	}
}
