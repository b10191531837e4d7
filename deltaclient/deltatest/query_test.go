package deltatest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/deltascope/deltascope/deltaclient/deltatest"
)

func ids(m map[string]any) []string {
	var out []string
	for _, v := range m["value"].([]any) {
		out = append(out, v.(map[string]any)["id"].(string))
	}
	return out
}

// The demo is an OData v4 service for the query options a client uses;
// what it does not implement is a 501, never silently ignored.
func TestQueryOptions(t *testing.T) {
	t.Parallel()
	srv := deltatest.NewServer(deltatest.Options{Seed: 3, Records: 30})
	defer srv.Close()
	all := srv.IDs("customers")
	coll := srv.CollectionURL("customers")
	q := func(opts string) (*http.Response, map[string]any) {
		return get(t, coll+"?"+strings.ReplaceAll(opts, " ", "%20"), "")
	}
	rec, _ := srv.Record("customers", all[4])
	city := rec["city"].(string)

	resp, m := q("$select=id,city&$top=3&$skip=2")
	if got := ids(m); len(got) != 3 || got[0] != all[2] || got[2] != all[4] {
		t.Errorf("$top=3&$skip=2: %v", got)
	}
	for _, v := range m["value"].([]any) {
		r := v.(map[string]any)
		if len(r) != 3 || r["city"] == nil || r["@odata.etag"] == nil {
			t.Errorf("$select=id,city gave %v", r)
		}
	}
	if v := resp.Header.Get("OData-Version"); v != "4.0" {
		t.Errorf("OData-Version %q", v)
	}

	_, m = q("$filter=city eq '" + url.PathEscape(city) + "'&$count=true")
	n := int(m["@odata.count"].(float64))
	if got := ids(m); n == 0 || len(got) != n {
		t.Errorf("$filter on city with $count: %d records, count %d", len(got), n)
	}
	_, m = q("$filter=id in (" + all[1] + "," + all[7] + ") or id eq " + all[9])
	if got := ids(m); strings.Join(got, " ") != all[1]+" "+all[7]+" "+all[9] {
		t.Errorf("in/or: %v", got)
	}
	_, m = q("$filter=lastModifiedDateTime ge 2026-11-02T06:00:00Z and creditLimit gt 0")
	if got := ids(m); len(got) != 2 || got[0] != all[0] || got[1] != all[1] {
		t.Errorf("ge on a date-time, and: %v", got)
	}
	_, m = q("$orderby=number desc&$top=1")
	if got := ids(m); len(got) != 1 || got[0] != all[len(all)-1] {
		t.Errorf("$orderby=number desc: %v", got)
	}

	resp, err := http.Get(coll + "/$count")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "30" || resp.Header.Get("OData-Version") != "4.0" {
		t.Errorf("/$count = %q, OData-Version %q", b, resp.Header.Get("OData-Version"))
	}

	for _, bad := range []string{"$expand=orders", "$search=blue", "$filter=contains(city,'a')"} {
		resp, _ := q(bad)
		if resp.StatusCode != http.StatusNotImplemented {
			t.Errorf("%s: %d, want 501", bad, resp.StatusCode)
		}
	}
	if resp, _ := q("$top=many"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("$top=many: %d, want 400", resp.StatusCode)
	}
	// $metadata declares properties and says its version too.
	resp, err = http.Get(srv.ServiceRoot() + "/$metadata")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`<Property Name="lastModifiedDateTime" Type="Edm.DateTimeOffset"/>`, `<Property Name="id" Type="Edm.Guid" Nullable="false"/>`, `ContainsTarget="true"`, `<EntitySet Name="companies"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("$metadata lacks %s", want)
		}
	}
	if resp.Header.Get("OData-Version") != "4.0" {
		t.Errorf("$metadata OData-Version %q", resp.Header.Get("OData-Version"))
	}
	// The service document's URLs work: sets at the root are the first
	// company's.
	if resp, m := get(t, srv.ServiceRoot()+"/customers", ""); resp.StatusCode != 200 || len(ids(m)) != 30 {
		t.Errorf("root customers: %d, %d records", resp.StatusCode, len(ids(m)))
	}
}

// --deletions 4.01 answers with OData-Version 4.01; a 4.0 $deletedEntity
// names its record by entity-id; --delta off ignores track-changes.
func TestVersionsAndDeltaOff(t *testing.T) {
	t.Parallel()
	v401 := deltatest.NewServer(deltatest.Options{Seed: 3, Deletions: deltatest.Deletions401})
	defer v401.Close()
	if resp, _ := get(t, v401.CollectionURL("customers"), ""); resp.Header.Get("OData-Version") != "4.01" {
		t.Errorf("4.01 service answers OData-Version %q", resp.Header.Get("OData-Version"))
	}

	srv := deltatest.NewServer(deltatest.Options{Seed: 3})
	defer srv.Close()
	_, m := get(t, srv.CollectionURL("customers"), "odata.track-changes")
	link := m["@odata.deltaLink"].(string)
	id := srv.IDs("customers")[0]
	srv.Delete("customers", id)
	_, m = get(t, link, "")
	removed := m["value"].([]any)[0].(map[string]any)
	if removed["id"] != "customers("+id+")" {
		t.Errorf("4.0 $deletedEntity id %v, want the entity-id customers(%s)", removed["id"], id)
	}

	off := deltatest.NewServer(deltatest.Options{Seed: 3, NoDelta: true})
	defer off.Close()
	resp, m := get(t, off.CollectionURL("customers"), "odata.track-changes")
	if m["@odata.deltaLink"] != nil || resp.Header.Get("Preference-Applied") != "" || resp.StatusCode != 200 {
		t.Errorf("delta off: %d, Preference-Applied %q, deltaLink %v", resp.StatusCode, resp.Header.Get("Preference-Applied"), m["@odata.deltaLink"])
	}
}

// A key scan of records never changed is answered without making their
// JSON; it must say exactly what their full JSON says.
func TestKeyScanMatchesRecords(t *testing.T) {
	t.Parallel()
	srv := deltatest.NewServer(deltatest.Options{Seed: 4, Records: 25})
	defer srv.Close()
	srv.Update("customers", srv.IDs("customers")[3], map[string]any{"city": "Oslo"})
	for _, sel := range []string{"id,lastModifiedDateTime", "lastModifiedDateTime", "id"} {
		_, m := get(t, srv.CollectionURL("customers")+"?$select="+sel+"&$orderby=id", "")
		rows := m["value"].([]any)
		if len(rows) != 25 {
			t.Fatalf("%s: %d rows", sel, len(rows))
		}
		last := ""
		for _, v := range rows {
			row := v.(map[string]any)
			var rec map[string]any
			for id, raw := range srv.Records("customers") {
				var full map[string]any
				json.Unmarshal(raw, &full)
				if row["id"] == id || row["id"] == nil && full["lastModifiedDateTime"] == row["lastModifiedDateTime"] {
					rec = full
				}
			}
			if rec == nil {
				t.Fatalf("%s: row %v matches no record", sel, row)
			}
			for k, v := range row {
				if rec[k] != v {
					t.Errorf("%s: %s is %v in the scan, %v in the record", sel, k, v, rec[k])
				}
			}
			if id, _ := row["id"].(string); id != "" {
				if id < last {
					t.Errorf("$orderby=id: %s after %s", id, last)
				}
				last = id
			}
		}
	}
}
