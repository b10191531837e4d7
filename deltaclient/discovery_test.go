package deltaclient_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/deltascope/deltascope/deltaclient"
	"github.com/deltascope/deltascope/deltaclient/deltatest"
)

func TestDiscover(t *testing.T) {
	t.Parallel()
	srv := deltatest.NewServer(deltatest.Options{Seed: 1, Companies: 2})
	defer srv.Close()
	c := &deltaclient.Client{}
	_, err := c.Discover(context.Background(), deltaclient.Target{URL: srv.ServiceRoot()})
	var choice *deltaclient.CompanyChoiceError
	if !errors.As(err, &choice) || len(choice.Companies) != 2 {
		t.Fatalf("two companies and no --company: want a choice error, got %v", err)
	}
	d, err := c.Discover(context.Background(), deltaclient.Target{URL: srv.ServiceRoot(), Company: "cronus usa, inc."})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range d.Sources {
		names = append(names, s.Name)
	}
	if strings.Join(names, ",") != "customers,vendors,items,balanceSheet" || d.Sources[0].URL != srv.CollectionURL("customers") {
		t.Errorf("sources %v, first URL %s", names, d.Sources[0].URL)
	}
	if !d.BusinessCentral || d.Company == nil || d.Company.ID != srv.CompanyID() {
		t.Errorf("a root with companies: BusinessCentral %v, company %+v", d.BusinessCentral, d.Company)
	}
	d, err = c.Discover(context.Background(), deltaclient.Target{URL: srv.ServiceRoot(), Company: srv.CompanyID(), Entities: []string{"items"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Sources) != 1 || d.Sources[0].URL != srv.CollectionURL("items") {
		t.Errorf("--entity items: %+v", d.Sources)
	}
	// A company URL with no --entity follows every set of the root's
	// service document, under that company.
	d, err = c.Discover(context.Background(), deltaclient.Target{URL: srv.ServiceRoot() + "/companies(" + srv.CompanyID() + ")"})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Sources) != 4 || d.Sources[2].URL != srv.CollectionURL("items") || !d.BusinessCentral {
		t.Errorf("company URL: %+v", d)
	}
}

func TestNameOfAndSplitCompany(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://graph.microsoft.com/v1.0/users/delta":                   "users",
		"https://graph.microsoft.com/v1.0/users/microsoft.graph.delta()": "users",
		"http://h/api/v2.0/companies(1)/customers":                       "customers",
		"http://h/api/data/v9.2/accounts?$select=name":                   "accounts",
	} {
		if got := deltaclient.NameOf(in); got != want {
			t.Errorf("NameOf(%q) = %q, want %q", in, got, want)
		}
	}
	root, co := deltaclient.SplitCompany("https://api.businesscentral.dynamics.com/v2.0/t/production/api/v2.0/companies(abc)")
	if root != "https://api.businesscentral.dynamics.com/v2.0/t/production/api/v2.0" || co != "/companies(abc)" {
		t.Errorf("SplitCompany: %q %q", root, co)
	}
	if root, co := deltaclient.SplitCompany("http://h/odata"); root != "http://h/odata" || co != "" {
		t.Errorf("SplitCompany without a company: %q %q", root, co)
	}
}

// --url with --entity-url follows the URLs only (the root gives the
// company and $metadata), and one set asked for twice is an error naming
// it, not two followers mixing their rounds under one name.
func TestDiscoverEntityURLsWithRoot(t *testing.T) {
	t.Parallel()
	srv := deltatest.NewServer(deltatest.Options{Seed: 1})
	defer srv.Close()
	c := &deltaclient.Client{}
	d, err := c.Discover(context.Background(), deltaclient.Target{URL: srv.ServiceRoot(), EntityURLs: []string{srv.CollectionURL("customers")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Sources) != 1 || d.Sources[0].Name != "customers" || d.Company == nil {
		t.Errorf("--url with --entity-url: %+v", d)
	}
	for _, tc := range []deltaclient.Target{
		{URL: srv.ServiceRoot(), Entities: []string{"customers"}, EntityURLs: []string{srv.CollectionURL("customers")}},
		{EntityURLs: []string{srv.CollectionURL("customers"), srv.CollectionURL("customers") + "?$select=id"}},
	} {
		_, err := c.Discover(context.Background(), tc)
		var dup *deltaclient.DuplicateSetError
		if !errors.As(err, &dup) || dup.Name != "customers" || !strings.Contains(err.Error(), "asked for twice") {
			t.Errorf("%+v: %v, want a DuplicateSetError for customers", tc, err)
		}
	}
}

// A service addressed with a query (Business Central's ODataV4 web
// services take ?company=, some gateways a tenant parameter) wants it on
// every request; and a set's url in the service document may differ from
// its name.
func TestDiscoverKeepsTheRootQueryAndTheDocumentURL(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var asked []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked = append(asked, r.URL.Path)
		mu.Unlock()
		if r.URL.Query().Get("company") != "CRONUS" {
			http.Error(w, `{"error":{"code":"BadRequest","message":"no company"}}`, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/ODataV4/":
			io.WriteString(w, `{"value":[{"name":"customers","kind":"EntitySet","url":"Customer_Card"},{"name":"vendors","kind":"EntitySet","url":"Vendor_Card"}]}`)
		case "/ODataV4/Customer_Card":
			io.WriteString(w, `{"value":[{"id":"1","name":"Adatum"}],"@odata.deltaLink":"/ODataV4/Customer_Card?company=CRONUS&$deltatoken=1"}`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	c := &deltaclient.Client{}
	root := srv.URL + "/ODataV4?company=CRONUS"
	d, err := c.Discover(context.Background(), deltaclient.Target{URL: root, Entities: []string{"customers"}, Select: "id,name"})
	if err != nil {
		t.Fatal(err)
	}
	want := srv.URL + "/ODataV4/Customer_Card?company=CRONUS&$select=id,name"
	if len(d.Sources) != 1 || d.Sources[0].URL != want {
		t.Fatalf("--entity customers under %s: sources %+v, want the URL %s", root, d.Sources, want)
	}
	if d.Root != root {
		t.Errorf("root %q, want %q", d.Root, root)
	}
	res, err := c.BaselinePages(context.Background(), d.Sources[0].URL, nil, nil)
	if err != nil || res.DeltaLink == "" {
		t.Fatalf("baseline of %s: %v", d.Sources[0].URL, err)
	}
	d, err = c.Discover(context.Background(), deltaclient.Target{URL: root + "&"})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Sources) != 2 || !strings.HasPrefix(d.Sources[1].URL, srv.URL+"/ODataV4/Vendor_Card?company=CRONUS") {
		t.Errorf("every set of the service document: %+v", d.Sources)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, p := range asked {
		if strings.Contains(p, "?") || strings.Contains(p, "company") {
			t.Errorf("a path carried the query: %q", p)
		}
	}
}
