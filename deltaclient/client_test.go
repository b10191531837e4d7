package deltaclient_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deltascope/deltascope/deltaclient"
	"github.com/deltascope/deltascope/deltaclient/deltatest"
)

// noSleep is a retry policy that never waits, for tests.
func noSleep(tries int) deltaclient.RetryPolicy {
	return deltaclient.RetryPolicy{Tries: tries, Sleep: func(context.Context, time.Duration) error { return nil }}
}

func TestBaselineFollowsEveryPage(t *testing.T) {
	t.Parallel()
	srv := deltatest.NewServer(deltatest.Options{Seed: 7, Records: 25})
	defer srv.Close()
	c := &deltaclient.Client{MaxPageSize: 10}
	var pages []int
	res, err := c.Baseline(context.Background(), srv.CollectionURL("customers"), func(p deltaclient.Progress) { pages = append(pages, p.Records) })
	if err != nil {
		t.Fatal(err)
	}
	if res.Pages != 3 || len(res.Entries) != 25 {
		t.Fatalf("got %d pages, %d entries; want 3 pages, 25 entries", res.Pages, len(res.Entries))
	}
	if fmt.Sprint(pages) != "[10 20 25]" {
		t.Errorf("progress reported %v, want [10 20 25]", pages)
	}
	if !res.TrackingApplied {
		t.Error("Preference-Applied: odata.track-changes was sent but not seen")
	}
	if !strings.Contains(res.DeltaLink, "deltaToken=") {
		t.Errorf("deltaLink %q has no token", res.DeltaLink)
	}
	ids := map[string]bool{}
	for _, e := range res.Entries {
		if e.Kind != deltaclient.Record || e.ID == "" || len(e.Raw) == 0 {
			t.Fatalf("bad entry %+v", e)
		}
		ids[e.ID] = true
	}
	if len(ids) != 25 {
		t.Errorf("%d distinct ids, want 25", len(ids))
	}
}

// pagedServer serves fixed pages by path, recording the raw request URIs.
type pagedServer struct {
	mu    sync.Mutex
	seen  []string
	pages map[string]func(w http.ResponseWriter, r *http.Request)
}

func (p *pagedServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.seen = append(p.seen, r.RequestURI)
	h := p.pages[r.URL.Path]
	p.mu.Unlock()
	if h == nil {
		http.NotFound(w, r)
		return
	}
	h(w, r)
}

func body(s string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, s)
	}
}

func TestDeltaLinkIsUsedByteForByte(t *testing.T) {
	t.Parallel()
	const token = `a%2Bb+c'd(e)=f==`
	ps := &pagedServer{pages: map[string]func(http.ResponseWriter, *http.Request){}}
	srv := httptest.NewServer(ps)
	defer srv.Close()
	ps.pages["/svc/Customers"] = body(`{"value":[{"id":"1","name":"A"}],"@odata.deltaLink":"` + srv.URL + `/svc/Customers?$deltatoken=` + token + `"}`)
	ps.pages["/svc/Customers2"] = body(`{"value":[],"@odata.deltaLink":"Customers?$deltatoken=next"}`)
	c := &deltaclient.Client{}
	res, err := c.Baseline(context.Background(), srv.URL+"/svc/Customers", nil)
	if err != nil {
		t.Fatal(err)
	}
	ps.pages["/svc/Customers"] = body(`{"value":[],"@odata.deltaLink":"Customers?$deltatoken=next"}`)
	if _, err := c.Delta(context.Background(), res.DeltaLink, nil); err != nil {
		t.Fatal(err)
	}
	want := "/svc/Customers?$deltatoken=" + token
	if got := ps.seen[len(ps.seen)-1]; got != want {
		t.Errorf("server saw %q, want the link exactly as given: %q", got, want)
	}
}

func TestDeltaLinkOnlyFromLastPage(t *testing.T) {
	t.Parallel()
	ps := &pagedServer{pages: map[string]func(http.ResponseWriter, *http.Request){}}
	srv := httptest.NewServer(ps)
	defer srv.Close()
	// Page 1 wrongly carries both links; the relative nextLink resolves
	// against the page URL.
	ps.pages["/svc/People"] = body(`{"@odata.deltaLink":"People?$deltatoken=bogus","value":[{"@odata.id":"People('a')","n":1}],"@odata.nextLink":"People2"}`)
	ps.pages["/svc/People2"] = body(`{"value":[{"@odata.id":"People('b')","n":2}],"@odata.nextLink":"/svc/People3"}`)
	ps.pages["/svc/People3"] = body(`{"value":[{"@id":"People('c')","n":3}],"@deltaLink":"People?$deltatoken=real"}`)
	res, err := (&deltaclient.Client{}).Baseline(context.Background(), srv.URL+"/svc/People", nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.DeltaLink != srv.URL+"/svc/People?$deltatoken=real" {
		t.Errorf("deltaLink %q, want the last page's, resolved", res.DeltaLink)
	}
	var ids []string
	for _, e := range res.Entries {
		ids = append(ids, e.ID)
	}
	if strings.Join(ids, ",") != "a,b,c" {
		t.Errorf("ids %v, want a,b,c (keys of the entity-ids)", ids)
	}
}

func TestTypedErrors(t *testing.T) {
	t.Parallel()
	ps := &pagedServer{pages: map[string]func(http.ResponseWriter, *http.Request){}}
	srv := httptest.NewServer(ps)
	defer srv.Close()
	status := func(code int, hdr map[string]string, b string) func(http.ResponseWriter, *http.Request) {
		return func(w http.ResponseWriter, r *http.Request) {
			for k, v := range hdr {
				w.Header().Set(k, v)
			}
			w.WriteHeader(code)
			fmt.Fprint(w, b)
		}
	}
	ps.pages["/gone"] = status(410, map[string]string{"Location": "/svc/Customers"}, `{"error":{"code":"Gone","message":"expired"}}`)
	ps.pages["/graphgone"] = status(400, nil, `{"error":{"code":"SyncStateNotFound","message":"The sync state generation is not found."}}`)
	ps.pages["/unsupported"] = status(500, nil, `{"error":{"code":"Internal_ServerError","message":"Entity does not support delta requests.  CorrelationId:  x."}}`)
	ps.pages["/nolink"] = body(`{"value":[{"id":"1"}]}`)
	ps.pages["/401"] = status(401, map[string]string{"request-id": "abc-123"}, `{"error":{"code":"Authentication_InvalidCredentials","message":"The server has rejected the client credentials."}}`)
	ps.pages["/html"] = func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<!DOCTYPE html><html><head><title>Sign in to your account</title></head></html>")
	}
	ps.pages["/htmlerror"] = status(502, map[string]string{"Content-Type": "text/html"}, "<html><body><h1>502 Bad Gateway</h1></body></html>")
	ps.pages["/midpage"] = body(`{"value":[{"id":"1","a":2},{"id":"2","a":`)
	ps.pages["/notarray"] = body(`{"value":{"id":"1"}}`)
	ps.pages["/itemnotobject"] = body(`{"value":[{"id":"1"},42]}`)
	ps.pages["/empty"] = body(``)
	ps.pages["/garbage"] = body(`{"value":[{"id":"1"}] trailing`)

	c := &deltaclient.Client{Retry: noSleep(1)}
	cases := []struct {
		path  string
		check func(t *testing.T, err error)
	}{
		{"/gone", func(t *testing.T, err error) {
			var ge *deltaclient.GoneError
			if !errors.As(err, &ge) || ge.Location != srv.URL+"/svc/Customers" {
				t.Errorf("want *GoneError with absolute Location, got %v", err)
			}
		}},
		{"/graphgone", func(t *testing.T, err error) {
			var ge *deltaclient.GoneError
			if !errors.As(err, &ge) || ge.Status != 400 {
				t.Errorf("400 syncStateNotFound must be *GoneError, got %v", err)
			}
		}},
		{"/unsupported", func(t *testing.T, err error) {
			var ue *deltaclient.UnsupportedError
			if !errors.As(err, &ue) || ue.Status != 500 || !strings.Contains(ue.Message, "does not support delta") {
				t.Errorf("want *UnsupportedError 500, got %v", err)
			}
		}},
		{"/nolink", func(t *testing.T, err error) {
			var ue *deltaclient.UnsupportedError
			if !errors.As(err, &ue) || !ue.NoDeltaLink {
				t.Errorf("want *UnsupportedError without deltaLink, got %v", err)
			}
		}},
		{"/401", func(t *testing.T, err error) {
			var he *deltaclient.HTTPError
			if !errors.As(err, &he) || he.Status != 401 || he.RequestID != "abc-123" || !strings.Contains(err.Error(), "none were sent") {
				t.Errorf("want *HTTPError 401 with request id and advice, got %v", err)
			}
		}},
		{"/html", wantMessage(deltaclient.ErrNotJSON, "text/html")},
		{"/htmlerror", func(t *testing.T, err error) {
			var he *deltaclient.HTTPError
			if !errors.As(err, &he) || he.Status != 502 || !strings.Contains(he.Message, "502 Bad Gateway") {
				t.Errorf("want *HTTPError 502 with the page's text, got %v", err)
			}
		}},
		{"/midpage", wantMessage(nil, "ended early")},
		{"/notarray", wantMessage(nil, `"value" is an object, not an array`)},
		{"/itemnotobject", wantMessage(nil, `item 2 of "value" is a number`)},
		{"/empty", wantMessage(deltaclient.ErrNotJSON, "empty")},
		{"/garbage", wantMessage(nil, "malformed JSON")},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			_, err := c.Baseline(context.Background(), srv.URL+tc.path, nil)
			if err == nil {
				t.Fatal("no error")
			}
			tc.check(t, err)
		})
	}
}

func wantMessage(target error, text string) func(t *testing.T, err error) {
	return func(t *testing.T, err error) {
		t.Helper()
		if target != nil && !errors.Is(err, target) {
			t.Errorf("error %v is not %v", err, target)
		}
		if !strings.Contains(err.Error(), text) {
			t.Errorf("error %q does not say %q", err, text)
		}
	}
}

func TestUnreachableHostFailsFast(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	start := time.Now()
	_, err := (&deltaclient.Client{}).Baseline(context.Background(), url+"/x", nil)
	var ne *deltaclient.NetworkError
	if !errors.As(err, &ne) {
		t.Fatalf("want *NetworkError, got %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("a refused connection was retried for %v", time.Since(start))
	}
}

func TestCrossOriginLinkRefused(t *testing.T) {
	t.Parallel()
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			t.Errorf("credentials leaked to another origin")
		}
		fmt.Fprint(w, `{"value":[],"@odata.deltaLink":"/d"}`)
	}))
	defer other.Close()
	ps := &pagedServer{pages: map[string]func(http.ResponseWriter, *http.Request){}}
	srv := httptest.NewServer(ps)
	defer srv.Close()
	ps.pages["/a"] = body(`{"value":[],"@odata.nextLink":"` + other.URL + `/b"}`)
	c := &deltaclient.Client{Credentials: deltaclient.Bearer{Token: "s3cret", Source: "--token"}}
	_, err := c.Baseline(context.Background(), srv.URL+"/a", nil)
	if !errors.Is(err, deltaclient.ErrCrossOrigin) || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("want cross-origin refusal without the secret, got %v", err)
	}
	c.AllowCrossOrigin = true
	if _, err := c.Baseline(context.Background(), srv.URL+"/a", nil); err != nil {
		t.Fatalf("allowed cross-origin: %v", err)
	}
}

func TestRetriesResumeAtTheFailedPage(t *testing.T) {
	t.Parallel()
	srv := deltatest.NewServer(deltatest.Options{Seed: 3, Records: 30})
	defer srv.Close()
	var retries []string
	c := &deltaclient.Client{MaxPageSize: 10, Retry: noSleep(5)}
	srv.InjectFault("503", 1) // page 2
	srv.InjectFault("truncate", 2)
	res, err := c.Baseline(context.Background(), srv.CollectionURL("customers"), func(p deltaclient.Progress) {
		if p.Retry != nil {
			retries = append(retries, fmt.Sprintf("page %d attempt %d", p.Retry.Page, p.Retry.Attempt))
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Entries) != 30 || res.Pages != 3 {
		t.Errorf("got %d entries on %d pages, want 30 on 3", len(res.Entries), res.Pages)
	}
	if strings.Join(retries, "; ") != "page 2 attempt 1; page 2 attempt 2" {
		t.Errorf("retries: %v", retries)
	}
	if st := srv.Stats(); st.Pages != 5 {
		t.Errorf("server served %d page requests, want 5 (3 pages + 2 retried, never from the start)", st.Pages)
	}
}

func TestKeyOf(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Customers('ANTON')":                       "ANTON",
		"https://host/svc/Customers('O''Brien')":   "O'Brien",
		"companies(1)/customers(6cb4e290-a784)":    "6cb4e290-a784",
		"Orders(OrderID=10643,Line=2)":             "Line=2,OrderID=10643",
		"6cb4e290-a784-4105-b340-32bb3527bb87":     "6cb4e290-a784-4105-b340-32bb3527bb87",
		"http://h/s/Items(Code='A,B',Variant='x')": `Code="A,B",Variant=x`,
		"Products(5)":    "5",
		"Products('5')":  `"5"`,
		"Products(ID=5)": "5",
		"Flags(true)":    "true",
	} {
		if got := deltaclient.KeyOf(in); got != want {
			t.Errorf("KeyOf(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRedirectToAnotherOriginDropsCredentials(t *testing.T) {
	t.Parallel()
	var got []string
	var mu sync.Mutex
	record := func(where string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			got = append(got, where+":"+r.Header.Get("Authorization")+":"+r.Header.Get("X-Api-Key"))
			mu.Unlock()
			fmt.Fprint(w, `{"value":[],"@odata.deltaLink":"/d"}`)
		}
	}
	other := httptest.NewServer(record("other"))
	defer other.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("/away", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, other.URL+"/x", http.StatusFound) })
	mux.HandleFunc("/here", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/same", http.StatusFound) })
	mux.HandleFunc("/same", record("same"))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c := &deltaclient.Client{Credentials: deltaclient.Bearer{Token: "s3cret", Source: "--token"}, Header: http.Header{"X-Api-Key": {"k3y"}}, AllowCrossOrigin: true}
	for _, p := range []string{"/away", "/here"} {
		if _, err := c.Baseline(context.Background(), srv.URL+p, nil); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"other::", "same:Bearer s3cret:k3y"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("headers seen %v, want %v", got, want)
	}
}

func TestParseKeysFollowsBaseTypes(t *testing.T) {
	t.Parallel()
	keys, err := deltaclient.ParseKeys(strings.NewReader(`<edmx:Edmx xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx" Version="4.0"><edmx:DataServices>
<Schema Namespace="NS" Alias="n" xmlns="http://docs.oasis-open.org/odata/ns/edm">
<EntityType Name="Base"><Key><PropertyRef Name="ID"/></Key></EntityType>
<EntityType Name="Derived" BaseType="n.Base"/>
<EntityType Name="Line"><Key><PropertyRef Name="OrderID"/><PropertyRef Name="LineNo"/></Key></EntityType>
<EntityContainer Name="C"><EntitySet Name="Things" EntityType="NS.Derived"/><EntitySet Name="Lines" EntityType="NS.Line"/></EntityContainer>
</Schema></edmx:DataServices></edmx:Edmx>`))
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(keys["Things"]) != "[ID]" || fmt.Sprint(keys["Lines"]) != "[OrderID LineNo]" {
		t.Errorf("keys %v", keys)
	}
	if _, err := deltaclient.ParseKeys(strings.NewReader("<html>sign in</html>")); err == nil {
		t.Error("HTML accepted as CSDL")
	}
}
