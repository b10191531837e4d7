package deltatest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/deltascope/deltascope/deltaclient/deltatest"
)

func get(t *testing.T, url string, prefer string) (*http.Response, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if prefer != "" {
		req.Header.Set("Prefer", prefer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: not JSON: %q", url, b)
	}
	return resp, m
}

func TestSameSeedSameData(t *testing.T) {
	t.Parallel()
	a := deltatest.NewServer(deltatest.Options{Seed: 99, Records: 20})
	defer a.Close()
	b := deltatest.NewServer(deltatest.Options{Seed: 99, Records: 20})
	defer b.Close()
	for i := 0; i < 30; i++ {
		if sa, sb := a.Step(), b.Step(); sa != sb {
			t.Fatalf("step %d: %q vs %q", i, sa, sb)
		}
	}
	for _, set := range []string{"customers", "vendors", "items"} {
		ra, rb := a.Records(set), b.Records(set)
		if len(ra) == 0 || len(ra) != len(rb) {
			t.Fatalf("%s: %d vs %d records", set, len(ra), len(rb))
		}
		for id, raw := range ra {
			if string(rb[id]) != string(raw) {
				t.Fatalf("%s %s differs:\n%s\n%s", set, id, raw, rb[id])
			}
		}
	}
	c := deltatest.NewServer(deltatest.Options{Seed: 100, Records: 20})
	defer c.Close()
	if c.CompanyID() == a.CompanyID() {
		t.Error("another seed gave the same company id")
	}
}

func TestBusinessCentralShape(t *testing.T) {
	t.Parallel()
	srv := deltatest.NewServer(deltatest.Options{Seed: 1, Records: 5})
	defer srv.Close()
	_, doc := get(t, srv.ServiceRoot()+"/", "")
	var names []string
	for _, v := range doc["value"].([]any) {
		names = append(names, v.(map[string]any)["name"].(string))
	}
	if strings.Join(names, ",") != "companies,customers,vendors,items,balanceSheet" {
		t.Errorf("service document lists %v", names)
	}
	_, cos := get(t, srv.ServiceRoot()+"/companies", "")
	if co := cos["value"].([]any)[0].(map[string]any); co["id"] != srv.CompanyID() || co["name"] != "CRONUS USA, Inc." {
		t.Errorf("companies: %v", co)
	}
	resp, page := get(t, srv.CollectionURL("customers"), "odata.track-changes, odata.maxpagesize=2")
	if pa := resp.Header.Get("Preference-Applied"); pa != "odata.track-changes, odata.maxpagesize=2" {
		t.Errorf("Preference-Applied %q", pa)
	}
	if len(page["value"].([]any)) != 2 || page["@odata.nextLink"] == nil || page["@odata.deltaLink"] != nil {
		t.Errorf("first page: %v", page)
	}
	c := page["value"].([]any)[0].(map[string]any)
	for _, f := range []string{"@odata.etag", "id", "number", "displayName", "addressLine1", "city", "postalCode", "email", "balanceDue", "lastModifiedDateTime"} {
		if c[f] == nil {
			t.Errorf("customer lacks %s: %v", f, c)
		}
	}
	_, plain := get(t, srv.CollectionURL("customers"), "")
	if plain["@odata.deltaLink"] != nil {
		t.Error("a request without track-changes got a deltaLink")
	}
	resp, bs := get(t, srv.CollectionURL("balanceSheet"), "odata.track-changes")
	if resp.StatusCode != 500 || !strings.Contains(bs["error"].(map[string]any)["message"].(string), "Entity does not support delta requests") {
		t.Errorf("balanceSheet with track-changes: %d %v", resp.StatusCode, bs)
	}
	resp, _ = get(t, srv.CollectionURL("nope"), "")
	if resp.StatusCode != 404 {
		t.Errorf("unknown set: %d", resp.StatusCode)
	}
}

func TestParseFaults(t *testing.T) {
	t.Parallel()
	f, err := deltatest.ParseFaults("rate=0.1,kinds=429,503,reset,truncate,slow,410")
	if err != nil || f.Rate != 0.1 || len(f.Kinds) != 6 {
		t.Errorf("got %+v, %v", f, err)
	}
	for _, bad := range []string{"rate=2,kinds=429", "kinds=teapot", "rate=0.5", "speed=1"} {
		if _, err := deltatest.ParseFaults(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
