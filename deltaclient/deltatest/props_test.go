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

// A record is read by its key (the entity-id a 4.0 $deletedEntity names
// resolves while the record exists, 404 once it is gone); query options
// on companies, which the demo does not implement, are a 501, not ignored.
func TestReadByKeyAndCompaniesOptions(t *testing.T) {
	t.Parallel()
	srv := deltatest.NewServer(deltatest.Options{Seed: 6, Records: 10})
	defer srv.Close()
	id := srv.IDs("customers")[3]
	want, _ := srv.Record("customers", id)
	for _, u := range []string{srv.CollectionURL("customers") + "(" + id + ")", srv.ServiceRoot() + "/customers(" + id + ")"} {
		resp, m := get(t, u, "")
		if resp.StatusCode != 200 || m["id"] != id || m["displayName"] != want["displayName"] || m["@odata.etag"] == nil ||
			!strings.HasSuffix(m["@odata.context"].(string), "/customers/$entity") || resp.Header.Get("OData-Version") != "4.0" {
			t.Errorf("%s: %d %v", u, resp.StatusCode, m)
		}
	}
	if err := srv.Delete("customers", id); err != nil {
		t.Fatal(err)
	}
	if resp, _ := get(t, srv.CollectionURL("customers")+"("+id+")", ""); resp.StatusCode != 404 {
		t.Errorf("a deleted record: %d, want 404", resp.StatusCode)
	}
	if resp, _ := get(t, srv.CollectionURL("customers")+"("+srv.IDs("customers")[0]+")?$expand=x", ""); resp.StatusCode != 501 {
		t.Errorf("by key with $expand: %d, want 501", resp.StatusCode)
	}
	for _, opts := range []string{"$filter=name%20eq%20'x'", "$top=1", "$select=id"} {
		if resp, m := get(t, srv.ServiceRoot()+"/companies?"+opts, ""); resp.StatusCode != 501 {
			t.Errorf("companies?%s: %d %v, want 501", opts, resp.StatusCode, m)
		}
	}
	if resp, _ := get(t, srv.ServiceRoot()+"/companies", ""); resp.StatusCode != 200 {
		t.Errorf("companies: %d", resp.StatusCode)
	}
}
