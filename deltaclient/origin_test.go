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

	"github.com/deltascope/deltascope/deltaclient"
)

// spy is a server that records, for every request, the path and the
// credentials and Referer it carried.
type spy struct {
	mu   sync.Mutex
	seen []string
	srv  *httptest.Server
	mux  *http.ServeMux
}

func newSpy(t *testing.T) *spy {
	s := &spy{mux: http.NewServeMux()}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.seen = append(s.seen, fmt.Sprintf("%s auth=%q key=%q referer=%q", r.URL.Path, r.Header.Get("Authorization"), r.Header.Get("X-Api-Key"), r.Header.Get("Referer")))
		s.mu.Unlock()
		s.mux.ServeHTTP(w, r)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *spy) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.seen...)
}

// leaked reports any request to s that carried a credential or a Referer.
func (s *spy) leaked() []string {
	var bad []string
	for _, r := range s.requests() {
		if !strings.Contains(r, `auth="" key="" referer=""`) {
			bad = append(bad, r)
		}
	}
	return bad
}

func credClient(allow bool) *deltaclient.Client {
	return &deltaclient.Client{
		Credentials:      deltaclient.Bearer{Token: "s3cret-token", Source: "--token"},
		Header:           http.Header{"X-Api-Key": {"k3y-value"}},
		AllowCrossOrigin: allow,
		Retry:            noSleep(1),
	}
}

// Point 2: with --allow-cross-origin, a deltaLink on another origin (and a
// deltaLink that a cross-origin nextLink's page hands over) is followed on
// every round without credentials.
func TestCrossOriginDeltaLinkNeverGetsCredentials(t *testing.T) {
	t.Parallel()
	a, b := newSpy(t), newSpy(t)
	a.mux.HandleFunc("/svc/items", body(`{"value":[{"id":"1"}],"@odata.nextLink":"`+b.srv.URL+`/page2"}`))
	b.mux.HandleFunc("/page2", body(`{"value":[{"id":"2"}],"@odata.deltaLink":"`+b.srv.URL+`/delta?t=1"}`))
	b.mux.HandleFunc("/delta", body(`{"value":[],"@odata.deltaLink":"`+b.srv.URL+`/delta?t=2"}`))
	c := credClient(true).WithOrigin(a.srv.URL + "/svc/items")
	res, err := c.Baseline(context.Background(), a.srv.URL+"/svc/items", nil)
	if err != nil {
		t.Fatal(err)
	}
	for round := 0; round < 2; round++ {
		if res, err = c.Delta(context.Background(), res.DeltaLink, nil); err != nil {
			t.Fatal(err)
		}
	}
	if len(b.requests()) != 3 {
		t.Fatalf("origin B saw %q, want page 2 and two rounds", b.requests())
	}
	if bad := b.leaked(); len(bad) > 0 {
		t.Errorf("credentials sent to the other origin: %q", bad)
	}
	if got := a.requests(); len(got) != 1 || !strings.Contains(got[0], `auth="Bearer s3cret-token" key="k3y-value"`) {
		t.Errorf("the named origin saw %q, want one request with credentials", got)
	}
	// Without the flag the same deltaLink is refused.
	if _, err := credClient(false).WithOrigin(a.srv.URL).Delta(context.Background(), res.DeltaLink, nil); !errors.Is(err, deltaclient.ErrCrossOrigin) {
		t.Errorf("cross-origin deltaLink without the flag: %v", err)
	}
}

// Point 3: a redirect never carries a Referer (the URL's sig and
// access_token would travel on); to another origin it is refused, or
// with the flag followed without credentials; never into a link-local
// address.
func TestRedirectsCarryNoRefererAndKeepTheOriginPolicy(t *testing.T) {
	t.Parallel()
	a, b := newSpy(t), newSpy(t)
	a.mux.HandleFunc("/items", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, b.srv.URL+"/moved", http.StatusTemporaryRedirect)
	})
	a.mux.HandleFunc("/here", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/same", http.StatusMovedPermanently)
	})
	a.mux.HandleFunc("/same", body(`{"value":[{"id":"1"}],"@odata.deltaLink":"/same"}`))
	a.mux.HandleFunc("/meta", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
	})
	b.mux.HandleFunc("/moved", body(`{"value":[{"id":"1"}],"@odata.deltaLink":"/moved"}`))
	secretURL := a.srv.URL + "/items?sig=SIGSECRET&access_token=TOKSECRET"

	_, err := credClient(false).Baseline(context.Background(), secretURL, nil)
	if !errors.Is(err, deltaclient.ErrCrossOrigin) || len(b.requests()) != 0 {
		t.Errorf("cross-origin redirect without the flag: err %v, other origin saw %q", err, b.requests())
	}
	if _, err := credClient(true).Baseline(context.Background(), secretURL, nil); err != nil {
		t.Fatal(err)
	}
	if bad := b.leaked(); len(b.requests()) != 1 || len(bad) > 0 {
		t.Errorf("other origin saw %q; leaked %q", b.requests(), bad)
	}
	if _, err := credClient(false).Baseline(context.Background(), a.srv.URL+"/here?sig=X", nil); err != nil {
		t.Fatal(err)
	}
	for _, r := range a.requests() {
		if strings.Contains(r, "referer=\"http") {
			t.Errorf("a same-origin redirect carried a Referer: %s", r)
		}
	}
	_, err = credClient(true).Baseline(context.Background(), a.srv.URL+"/meta", nil)
	if !errors.Is(err, deltaclient.ErrUnsafeRedirect) {
		t.Errorf("redirect to the metadata address: %v", err)
	}
}

// Point 1 at the client: a 410 Location on another origin is a link like
// any other.
func TestCheckLinkAppliesTheOriginPolicy(t *testing.T) {
	t.Parallel()
	c := (&deltaclient.Client{}).WithOrigin("https://api.example.com/v1/items")
	for link, ok := range map[string]bool{
		"https://api.example.com/v1/items?x=1": true,
		"https://API.example.com:443/other":    true,
		"http://api.example.com/v1/items":      false,
		"https://evil.example.net/v1/items":    false,
		"https://api.example.com:8443/v1":      false,
	} {
		err := c.CheckLink(link, "410 Location")
		if (err == nil) != ok || err != nil && !strings.Contains(err.Error(), "the 410 Location goes to") {
			t.Errorf("CheckLink(%s) = %v, want ok=%v", link, err, ok)
		}
	}
	// With --allow-cross-origin a link elsewhere is followed, but never
	// into the link-local range (checked here without sending anything).
	c.AllowCrossOrigin = true
	for link, ok := range map[string]bool{
		"https://other.example.org/v1/items":                          true,
		"http://169.254.169.254/latest/meta-data/":                    false,
		"http://[fe80::1]/x":                                          false,
		"http://metadata.google.internal/computeMetadata/v1/":         false,
		"http://[fd00:ec2::254]/latest/meta-data/":                    false,
		"https://api.example.com/v1/items?$deltatoken=still-the-same": true,
	} {
		err := c.CheckLink(link, "nextLink")
		if (err == nil) != ok || err != nil && !errors.Is(err, deltaclient.ErrUnsafeRedirect) {
			t.Errorf("with --allow-cross-origin, CheckLink(%s) = %v, want ok=%v", link, err, ok)
		}
	}
}
