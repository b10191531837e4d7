package track_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/deltascope/deltascope/deltaclient"
	"github.com/deltascope/deltascope/track"
)

// fakeService serves fixed answers by path and query, like a recording of
// a real service.
type fakeService struct {
	mu     sync.Mutex
	routes map[string]func(w http.ResponseWriter, r *http.Request)
	srv    *httptest.Server
}

func newFake(t *testing.T) *fakeService {
	f := &fakeService{routes: map[string]func(http.ResponseWriter, *http.Request){}}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		h := f.routes[r.URL.RequestURI()]
		if h == nil {
			h = f.routes[r.URL.Path]
		}
		f.mu.Unlock()
		if h == nil {
			w.WriteHeader(404)
			fmt.Fprintf(w, `{"error":{"code":"0x80060888","message":"Resource not found for the segment '%s'."}}`, r.URL.Path)
			return
		}
		h(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeService) json(route string, status int, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.routes[route] = func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; odata.metadata=minimal")
		w.WriteHeader(status)
		fmt.Fprint(w, strings.ReplaceAll(body, "{URL}", f.srv.URL))
	}
}

// A Dataverse-shaped service: records carry accountid, not id; its
// $deletedEntity rows name the bare GUID; an entity without change
// tracking answers with Dataverse's error shape.
func TestDataverseKeysFromMetadata(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.json("/api/data/v9.2/", 200, `{"@odata.context":"{URL}/api/data/v9.2/$metadata","value":[{"name":"accounts","kind":"EntitySet","url":"accounts"},{"name":"audits","kind":"EntitySet","url":"audits"}]}`)
	f.mu.Lock()
	f.routes["/api/data/v9.2/$metadata"] = func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		fmt.Fprint(w, `<?xml version="1.0"?><edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx"><edmx:DataServices>
<Schema Namespace="Microsoft.Dynamics.CRM" Alias="mscrm" xmlns="http://docs.oasis-open.org/odata/ns/edm">
<EntityType Name="crmbaseentity" Abstract="true"/>
<EntityType Name="account" BaseType="mscrm.crmbaseentity"><Key><PropertyRef Name="accountid"/></Key><Property Name="accountid" Type="Edm.Guid"/></EntityType>
<EntityType Name="specialaccount" BaseType="mscrm.account"/>
<EntityType Name="audit" BaseType="mscrm.crmbaseentity"><Key><PropertyRef Name="auditid"/></Key></EntityType>
<EntityContainer Name="System"><EntitySet Name="accounts" EntityType="Microsoft.Dynamics.CRM.specialaccount"/><EntitySet Name="audits" EntityType="Microsoft.Dynamics.CRM.audit"/></EntityContainer>
</Schema></edmx:DataServices></edmx:Edmx>`)
	}
	f.mu.Unlock()
	f.json("/api/data/v9.2/accounts", 200, `{"@odata.context":"{URL}/api/data/v9.2/$metadata#accounts","value":[
{"@odata.etag":"W/\"1\"","name":"Fourth Coffee","accountnumber":"ABSS4G45","parentaccountid":"11111111-0000-0000-0000-000000000000","accountid":"aaaaaaaa-0000-0000-0000-000000000001"},
{"@odata.etag":"W/\"2\"","name":"Litware","accountnumber":"ACTBBDC3","parentaccountid":null,"accountid":"aaaaaaaa-0000-0000-0000-000000000002"}],
"@odata.deltaLink":"{URL}/api/data/v9.2/accounts?$deltatoken=919042%2108%2f22%2f2017%2008%3a10%3a44"}`)
	f.json("/api/data/v9.2/accounts?$deltatoken=919042%2108%2f22%2f2017%2008%3a10%3a44", 200, `{"@odata.context":"{URL}/api/data/v9.2/$metadata#accounts/$delta","value":[
{"@odata.etag":"W/\"3\"","name":"Fourth Coffee (sample)","accountnumber":"ABSS4G45","parentaccountid":"11111111-0000-0000-0000-000000000000","accountid":"aaaaaaaa-0000-0000-0000-000000000001"},
{"@odata.context":"{URL}/api/data/v9.2/$metadata#accounts/$deletedEntity","id":"aaaaaaaa-0000-0000-0000-000000000002","reason":"deleted"}],
"@odata.deltaLink":"{URL}/api/data/v9.2/accounts?$deltatoken=919043"}`)
	f.json("/api/data/v9.2/audits", 400, `{"error":{"code":"0x80048d19","message":"Change tracking is not enabled for the entity: audit"}}`)

	trackers, disc, err := track.Open(ctx, client(0), deltaclient.Target{URL: f.srv.URL + "/api/data/v9.2"})
	must(t, err)
	if len(trackers) != 2 || trackers[0].Name != "accounts" {
		t.Fatalf("trackers %v", trackers)
	}
	if note := disc.Sources[0].IdentityNote; !strings.Contains(note, "accounts: records are identified by their key accountid (from $metadata)") {
		t.Errorf("note %q", note)
	}
	if disc.BusinessCentral {
		t.Error("Dataverse taken for Business Central")
	}
	acc := trackers[0]
	r, err := acc.Baseline(ctx, nil)
	must(t, err)
	if r.Records != 2 {
		t.Fatalf("baseline %d records", r.Records)
	}
	r, err = acc.Poll(ctx, nil)
	must(t, err)
	want := []string{
		`updated aaaaaaaa-0000-0000-0000-000000000001 name:"Fourth Coffee"->"Fourth Coffee (sample)"`,
		"deleted aaaaaaaa-0000-0000-0000-000000000002 (deleted)",
	}
	if d := cmp.Diff(want, summary(r)); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if r.Changes[1].Unknown {
		t.Error("the deletion by bare GUID did not match the record keyed by accountid")
	}
	_, err = trackers[1].Baseline(ctx, nil)
	var ue *deltaclient.UnsupportedError
	if !errors.As(err, &ue) || ue.Status != 400 {
		t.Errorf("audits without change tracking: %v", err)
	}
}

// A Microsoft Graph delta function: nextLink pages before the deltaLink,
// removals inside the baseline, partial updates and @removed in rounds.
func TestGraphDeltaFunction(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.json("/v1.0/users/delta", 200, `{"@odata.context":"{URL}/v1.0/$metadata#users(displayName,mail)","@odata.nextLink":"{URL}/v1.0/users/delta?$skiptoken=p2","value":[
{"displayName":"Adele Vance","mail":"adele@contoso.com","id":"u1"},{"displayName":"Alex Wilber","mail":"alex@contoso.com","id":"u2"}]}`)
	f.json("/v1.0/users/delta?$skiptoken=p2", 200, `{"@odata.nextLink":"{URL}/v1.0/users/delta?$skiptoken=p3","value":[]}`)
	f.json("/v1.0/users/delta?$skiptoken=p3", 200, `{"value":[{"displayName":"Megan","id":"u3"},{"id":"u9","@removed":{"reason":"changed"}}],
"@odata.deltaLink":"{URL}/v1.0/users/delta?$deltatoken=d1"}`)
	f.json("/v1.0/users/delta?$deltatoken=d1", 200, `{"@odata.nextLink":"{URL}/v1.0/users/delta?$skiptoken=d1p2","value":[{"id":"u1","mail":"adele.vance@contoso.com"}]}`)
	f.json("/v1.0/users/delta?$skiptoken=d1p2", 200, `{"value":[{"id":"u2","@removed":{"reason":"deleted"}},{"id":"u1","displayName":"Adele V."}],"@odata.deltaLink":"{URL}/v1.0/users/delta?$deltatoken=d2"}`)

	trackers, _, err := track.Open(ctx, client(0), deltaclient.Target{EntityURLs: []string{f.srv.URL + "/v1.0/users/delta"}})
	must(t, err)
	users := trackers[0]
	if users.Name != "users" {
		t.Fatalf("name %q", users.Name)
	}
	r, err := users.Baseline(ctx, nil)
	must(t, err)
	if r.Records != 3 || r.Pages != 3 {
		t.Fatalf("baseline: %d records on %d pages, want 3 on 3 (the removal is not a record)", r.Records, r.Pages)
	}
	r, err = users.Poll(ctx, nil)
	must(t, err)
	want := []string{
		`updated u1 mail:"adele@contoso.com"->"adele.vance@contoso.com"`,
		"deleted u2 (deleted)",
		`updated u1 displayName:"Adele Vance"->"Adele V."`,
	}
	if d := cmp.Diff(want, summary(r)); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if r.Updated != 1 || r.Deleted != 1 {
		t.Errorf("net counts ~%d -%d", r.Updated, r.Deleted)
	}
	rec := users.Records()["u1"]
	if !strings.Contains(string(rec), `"mail":"adele.vance@contoso.com"`) || !strings.Contains(string(rec), `"displayName":"Adele V."`) {
		t.Errorf("partial updates not merged: %s", rec)
	}
}

func TestSelectAndFilterGoOnTheBaselineOnly(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	var seen []string
	f.mu.Lock()
	f.routes["/svc/People"] = func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.URL.RequestURI())
		if r.URL.Query().Get("$deltatoken") != "" {
			fmt.Fprint(w, `{"value":[],"@odata.deltaLink":"People?$deltatoken=2"}`)
			return
		}
		fmt.Fprint(w, `{"value":[{"@odata.id":"People('a')","Name":"A"}],"@odata.deltaLink":"People?$deltatoken=1"}`)
	}
	f.mu.Unlock()
	trackers, _, err := track.Open(ctx, client(0), deltaclient.Target{EntityURLs: []string{f.srv.URL + "/svc/People"}, Select: "Name,Age", Filter: "Age gt 30"})
	must(t, err)
	_, err = trackers[0].Baseline(ctx, nil)
	must(t, err)
	_, err = trackers[0].Poll(ctx, nil)
	must(t, err)
	if seen[0] != "/svc/People?$select=Name,Age&$filter=Age%20gt%2030" || seen[1] != "/svc/People?$deltatoken=1" {
		t.Errorf("requests %v", seen)
	}
}

// SAP CAP answers $metadata as CSDL JSON to Accept: application/json. An
// entity keyed (orderYear, orderNo, lineNo) whose first ...ID property is a
// foreign key must keep one record per line, not one per customer.
func TestCAPCompositeKeyFromMetadata(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.json("/odata/v4/orders/", 200, `{"@odata.context":"$metadata","value":[{"name":"OrderLines","url":"OrderLines"}]}`)
	f.mu.Lock()
	f.routes["/odata/v4/orders/$metadata"] = func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.Header.Get("Accept"), "xml") {
			w.Header().Set("Content-Type", "application/xml")
			fmt.Fprint(w, `<?xml version="1.0"?><edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx"><edmx:DataServices>
<Schema Namespace="OrderService" xmlns="http://docs.oasis-open.org/odata/ns/edm"><EntityContainer Name="EntityContainer"><EntitySet Name="OrderLines" EntityType="OrderService.OrderLines"/></EntityContainer>
<EntityType Name="OrderLines"><Key><PropertyRef Name="orderYear"/><PropertyRef Name="orderNo"/><PropertyRef Name="lineNo"/></Key></EntityType></Schema></edmx:DataServices></edmx:Edmx>`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"$Version":"4.0","OrderService":{"EntityContainer":{"$Kind":"EntityContainer","OrderLines":{"$Collection":true,"$Type":"OrderService.OrderLines"}},"OrderLines":{"$Kind":"EntityType","$Key":["orderYear","orderNo","lineNo"]}}}`)
	}
	f.mu.Unlock()
	f.json("/odata/v4/orders/OrderLines", 200, `{"value":[
{"customerID":7,"orderYear":2025,"orderNo":1,"lineNo":1,"qty":1},
{"customerID":7,"orderYear":2025,"orderNo":1,"lineNo":2,"qty":2},
{"customerID":7,"orderYear":2026,"orderNo":1,"lineNo":1,"qty":3}],
"@odata.deltaLink":"{URL}/odata/v4/orders/OrderLines?$deltatoken=1"}`)
	trackers, notes, err := track.Open(ctx, client(0), deltaclient.Target{URL: f.srv.URL + "/odata/v4/orders/"})
	must(t, err)
	if len(trackers) != 1 || !strings.Contains(notes.Sources[0].IdentityNote, "key orderYear, orderNo, lineNo (from $metadata)") {
		t.Fatalf("trackers %v, sources %+v", trackers, notes.Sources)
	}
	r, err := trackers[0].Baseline(ctx, nil)
	must(t, err)
	if r.Records != 3 {
		t.Errorf("baseline has %d records, want 3 (one per order line)", r.Records)
	}
}

// Records without identity fail the baseline with a message that names the
// rule, the record and --key; --key then identifies them.
func TestRecordsWithoutIdentityNeedKey(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.json("/svc/Notes", 200, `{"value":[{"name":"a","n":1},{"name":"b","n":2},{"n":3}],"@odata.deltaLink":"{URL}/svc/Notes?$deltatoken=1"}`)
	trackers, _, err := track.Open(ctx, client(0), deltaclient.Target{EntityURLs: []string{f.srv.URL + "/svc/Notes"}})
	must(t, err)
	_, err = trackers[0].Baseline(ctx, nil)
	var ie *deltaclient.IdentityError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), `{"name":"a","n":1}`) || !strings.Contains(err.Error(), "--key") {
		t.Fatalf("baseline error %v, want an identity error naming the record and --key", err)
	}
	keyed := client(0)
	keyed.Identity = deltaclient.Identity{KeyFields: []string{"n"}, KeySource: "--key"}
	trackers, d, err := track.Open(ctx, keyed, deltaclient.Target{EntityURLs: []string{f.srv.URL + "/svc/Notes"}})
	must(t, err)
	notes := []string{d.Sources[0].IdentityNote}
	r, err := trackers[0].Baseline(ctx, nil)
	must(t, err)
	if r.Records != 3 || !strings.Contains(notes[0], "key n (from --key)") {
		t.Errorf("with --key n: %d records, notes %q", r.Records, notes)
	}
}

// Baseline progress counts distinct records: a record sent on two pages
// counts once.
func TestBaselineProgressCountsDistinctRecords(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.json("/svc/items", 200, `{"value":[{"id":"1"},{"id":"2"}],"@odata.nextLink":"{URL}/svc/items2"}`)
	f.json("/svc/items2", 200, `{"value":[{"id":"2"},{"id":"3"}],"@odata.deltaLink":"{URL}/svc/items?$deltatoken=1"}`)
	tr := track.New("items", f.srv.URL+"/svc/items", client(0))
	var counts []int
	r, err := tr.Baseline(ctx, func(p deltaclient.Progress) { counts = append(counts, p.Records) })
	must(t, err)
	if fmt.Sprint(counts) != "[2 3]" || r.Records != 3 {
		t.Errorf("progress %v, baseline %d records; want [2 3] and 3", counts, r.Records)
	}
}
