package headless

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/deltascope/deltascope/deltaclient"
	"github.com/deltascope/deltascope/reqlog"
	"github.com/deltascope/deltascope/track"
)

// origin is one httptest server standing for one origin: answers by path,
// and a record of every request's path, credentials and Referer.
type origin struct {
	mu     sync.Mutex
	routes map[string]http.HandlerFunc
	seen   []string
	srv    *httptest.Server
}

func newOrigin(t *testing.T) *origin {
	o := &origin{routes: map[string]http.HandlerFunc{}}
	o.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.mu.Lock()
		o.seen = append(o.seen, fmt.Sprintf("%s auth=%q key=%q referer=%q", r.URL.Path, r.Header.Get("Authorization"), r.Header.Get("X-Api-Key"), r.Header.Get("Referer")))
		h := o.routes[r.URL.Path]
		o.mu.Unlock()
		if h == nil {
			http.NotFound(w, r)
			return
		}
		h(w, r)
	}))
	t.Cleanup(o.srv.Close)
	return o
}

func (o *origin) json(path string, status int, body string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.routes[path] = func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write([]byte(body))
	}
}

func (o *origin) handle(path string, h http.HandlerFunc) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.routes[path] = h
}

func (o *origin) requests() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.seen...)
}

// credentialed lists the requests that carried a credential or a Referer.
func (o *origin) credentialed() []string {
	var out []string
	for _, r := range o.requests() {
		if !strings.Contains(r, `auth="" key="" referer=""`) {
			out = append(out, r)
		}
	}
	return out
}

const testToken = "tok-9a8b7c6d5e4f"

type run struct {
	err            error
	stdout, stderr string
}

// watchURL runs watch on one --entity-url the way main wires it: a bearer
// token, a secret header, the session's redactor in the client and at the
// output.
func watchURL(t *testing.T, entityURL string, allow bool, opts WatchOptions) run {
	t.Helper()
	secrets := reqlog.NewSecrets(testToken, "k3y-value-42")
	c := &deltaclient.Client{
		Credentials:      deltaclient.Bearer{Token: testToken, Source: "--token"},
		Header:           http.Header{"X-Api-Key": {"k3y-value-42"}},
		AllowCrossOrigin: allow,
		Secrets:          secrets,
		Retry:            deltaclient.RetryPolicy{Tries: 1},
	}
	trackers, _, err := track.Open(context.Background(), c, deltaclient.Target{EntityURLs: []string{entityURL}})
	if err != nil {
		t.Fatal(err)
	}
	return watchTrackers(t, trackers, secrets, opts)
}

func watchTrackers(t *testing.T, trackers []*track.Tracker, secrets *reqlog.Secrets, opts WatchOptions) run {
	t.Helper()
	opts.Trackers, opts.Interval = trackers, time.Millisecond
	if secrets != nil {
		opts.Secrets = secrets
	}
	if opts.Rounds == 0 {
		opts.Rounds = 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	err := Watch(ctx, opts, &out, &errOut)
	if ctx.Err() != nil {
		t.Fatalf("watch did not end: stdout %s", out.String())
	}
	return run{err, out.String(), errOut.String()}
}

// Point 1: a 410 whose Location is on another origin: refused with a clear
// error, the other origin never asked; with --allow-cross-origin followed
// without credentials, and so is every later round.
func TestWatchGoneLocationOnAnotherOrigin(t *testing.T) {
	t.Parallel()
	for _, allow := range []bool{false, true} {
		a, b := newOrigin(t), newOrigin(t)
		a.json("/svc/items", 200, `{"value":[{"id":"1"}],"@odata.deltaLink":"`+a.srv.URL+`/svc/items?t=1"}`)
		a.handle("/svc/items", func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("t") != "" {
				w.Header().Set("Location", b.srv.URL+"/moved/items")
				w.WriteHeader(http.StatusGone)
				return
			}
			w.Write([]byte(`{"value":[{"id":"1"}],"@odata.deltaLink":"` + a.srv.URL + `/svc/items?t=1"}`))
		})
		b.json("/moved/items", 200, `{"value":[{"id":"1"},{"id":"2"}],"@odata.deltaLink":"`+b.srv.URL+`/moved/delta"}`)
		b.json("/moved/delta", 200, `{"value":[{"id":"3"}],"@odata.deltaLink":"`+b.srv.URL+`/moved/delta"}`)
		r := watchURL(t, a.srv.URL+"/svc/items", allow, WatchOptions{Rounds: 3})
		if bad := b.credentialed(); len(bad) > 0 {
			t.Errorf("allow=%v: credentials sent to the other origin: %q", allow, bad)
		}
		if !allow {
			if len(b.requests()) != 0 || !strings.Contains(r.stdout, "the 410 Location goes to "+b.srv.URL) {
				t.Errorf("refused Location: other origin saw %q; stdout %s", b.requests(), r.stdout)
			}
			continue
		}
		if len(b.requests()) < 2 || !strings.Contains(r.stdout, `"via":"rebaseline"`) {
			t.Errorf("allowed Location: other origin saw %q; stdout %s", b.requests(), r.stdout)
		}
	}
}

// Point 2: --allow-cross-origin with a deltaLink on another origin, handed
// over by a cross-origin nextLink's page: every round goes there without
// credentials.
func TestWatchCrossOriginDeltaLinkWithoutCredentials(t *testing.T) {
	t.Parallel()
	a, b := newOrigin(t), newOrigin(t)
	a.json("/svc/items", 200, `{"value":[{"id":"1"}],"@odata.nextLink":"`+b.srv.URL+`/page2"}`)
	b.json("/page2", 200, `{"value":[{"id":"2"}],"@odata.deltaLink":"`+b.srv.URL+`/delta"}`)
	b.json("/delta", 200, `{"value":[{"id":"3"}],"@odata.deltaLink":"`+b.srv.URL+`/delta"}`)
	r := watchURL(t, a.srv.URL+"/svc/items", true, WatchOptions{Rounds: 3})
	if r.err != nil || strings.Count(r.stdout, `"event":"round"`) != 3 {
		t.Fatalf("err %v, stdout %s, stderr %s", r.err, r.stdout, r.stderr)
	}
	if n := len(b.requests()); n != 4 {
		t.Errorf("other origin saw %d requests, want page 2 and 3 rounds", n)
	}
	if bad := b.credentialed(); len(bad) > 0 {
		t.Errorf("credentials sent to the other origin: %q", bad)
	}
}

// Point 3: --entity-url with sig= and access_token= redirected to another
// origin: no Referer, no credentials; without the flag not followed.
func TestWatchRedirectCarriesNoReferer(t *testing.T) {
	t.Parallel()
	for _, allow := range []bool{false, true} {
		a, b := newOrigin(t), newOrigin(t)
		a.handle("/items", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, b.srv.URL+"/blob/items", http.StatusFound)
		})
		b.json("/blob/items", 200, `{"value":[{"id":"1"}],"@odata.deltaLink":"`+b.srv.URL+`/blob/delta"}`)
		b.json("/blob/delta", 200, `{"value":[],"@odata.deltaLink":"`+b.srv.URL+`/blob/delta"}`)
		r := watchURL(t, a.srv.URL+"/items?sig=SIGSECRET&access_token=TOKSECRET", allow, WatchOptions{Rounds: 1})
		for _, req := range b.requests() {
			if strings.Contains(req, "SECRET") || strings.Contains(req, "referer=\"http") {
				t.Errorf("allow=%v: the other origin saw %s", allow, req)
			}
		}
		if bad := b.credentialed(); len(bad) > 0 {
			t.Errorf("allow=%v: credentials sent to the other origin: %q", allow, bad)
		}
		if !allow && (len(b.requests()) != 0 || !strings.Contains(r.stderr, "the server redirected to "+b.srv.URL)) {
			t.Errorf("redirect without the flag: other origin saw %q; stderr %s", b.requests(), r.stderr)
		}
		if strings.Contains(r.stdout+r.stderr, "SECRET") {
			t.Errorf("the URL's secrets reached the output: %s %s", r.stdout, r.stderr)
		}
	}
}

// Point 4: a server that echoes the Authorization header (a bearer token,
// the base64 of user:password) in its 401 and 400 bodies: the echo reaches
// neither stdout nor stderr.
func TestWatchNeverPrintsEchoedSecrets(t *testing.T) {
	t.Parallel()
	echo := func(status int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("t") == "" {
				w.Write([]byte(`{"value":[{"id":"1"}],"@odata.deltaLink":"/svc/items?t=1"}`))
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			fmt.Fprintf(w, `{"error":{"code":"Echo","message":"you sent %s and X-Api-Key %s"}}`, r.Header.Get("Authorization"), r.Header.Get("X-Api-Key"))
		}
	}
	a := newOrigin(t)
	a.handle("/svc/items", echo(http.StatusUnauthorized))
	r := watchURL(t, a.srv.URL+"/svc/items", false, WatchOptions{Rounds: 2, MaxFailures: 1})
	if r.err == nil || !strings.Contains(r.stderr, "you sent Bearer [redacted]") {
		t.Fatalf("err %v; stderr %s", r.err, r.stderr)
	}
	for _, leak := range []string{testToken, "k3y-value-42"} {
		if strings.Contains(r.stdout+r.stderr, leak) {
			t.Errorf("%s printed:\nstdout %s\nstderr %s", leak, r.stdout, r.stderr)
		}
	}

	// Basic auth: the password and its base64 form in a 400 body.
	b := newOrigin(t)
	b.handle("/svc/items", echo(http.StatusBadRequest))
	secrets := reqlog.NewSecrets()
	secrets.AddBasic("ADMIN", "pa55-word!")
	c := &deltaclient.Client{Credentials: deltaclient.Basic{User: "ADMIN", Password: "pa55-word!"}, Secrets: secrets, Retry: deltaclient.RetryPolicy{Tries: 1}}
	trackers, _, err := track.Open(context.Background(), c, deltaclient.Target{EntityURLs: []string{b.srv.URL + "/svc/items"}})
	if err != nil {
		t.Fatal(err)
	}
	r = watchTrackers(t, trackers, secrets, WatchOptions{Rounds: 2, MaxFailures: 1})
	if enc := base64.StdEncoding.EncodeToString([]byte("ADMIN:pa55-word!")); strings.Contains(r.stdout+r.stderr, enc) || !strings.Contains(r.stderr, "you sent Basic [redacted]") {
		t.Errorf("basic credentials printed or not redacted:\nstdout %s\nstderr %s", r.stdout, r.stderr)
	}
}

// Point 6: a round whose nextLinks cycle over two pages ends with an error
// event at once instead of growing for ever.
func TestWatchPagingLoopEnds(t *testing.T) {
	t.Parallel()
	a := newOrigin(t)
	a.json("/svc/items", 200, `{"value":[{"id":"1"}],"@odata.deltaLink":"/svc/delta"}`)
	a.json("/svc/delta", 200, `{"value":[{"id":"2"}],"@odata.nextLink":"/svc/p2"}`)
	a.json("/svc/p2", 200, `{"value":[{"id":"3"}],"@odata.nextLink":"/svc/delta"}`)
	r := watchURL(t, a.srv.URL+"/svc/items", false, WatchOptions{Rounds: 2, MaxFailures: 2})
	if r.err == nil || !strings.Contains(r.stdout, "paging loop on the server") || !strings.Contains(r.stderr, "goes back to page 1") {
		t.Errorf("err %v\nstdout %s\nstderr %s", r.err, r.stdout, r.stderr)
	}
	if n := len(a.requests()); n > 1+2*4 {
		t.Errorf("%d requests for two rounds of a two-page loop", n)
	}
}

// hostileName is an entity-set name from a service document carrying OSC 0
// (title), OSC 52 (clipboard write), CSI 2J (clear), DCS and 8-bit CSI.
const hostileName = "evil\x1b]0;pwned\x07\x1b]52;c;ZXZpbA==\x07\x1b[2J\x1bPq#0;2\x1b\\\u009b2Jset"

func assertInert(t *testing.T, what, s string) {
	t.Helper()
	if strings.ContainsAny(s, "\x1b\x07\u009b\u0090\u009d") {
		t.Errorf("%s carries terminal controls: %q", what, s)
	}
}

// Point 13: the entity name reaches stderr only sanitised, in the
// "does not support delta requests", "N rounds in a row failed" and
// --on-gone exit lines.
func TestWatchStderrIsSanitised(t *testing.T) {
	t.Parallel()
	open := func(a *origin) []*track.Tracker {
		a.json("/svc/", 200, `{"value":[{"name":`+quote(hostileName)+`,"url":"items"}]}`)
		trackers, _, err := track.Open(context.Background(), &deltaclient.Client{Retry: deltaclient.RetryPolicy{Tries: 1}}, deltaclient.Target{URL: a.srv.URL + "/svc"})
		if err != nil {
			t.Fatal(err)
		}
		return trackers
	}
	a := newOrigin(t)
	a.json("/svc/items", 200, `{"value":[{"id":"1"}]}`)
	onlyDelta := open(a)
	for _, tr := range onlyDelta {
		tr.DeltaOnly = true // as --delta-only: the set is reported, not polled
	}
	r := watchTrackers(t, onlyDelta, nil, WatchOptions{})
	if !errors.Is(r.err, ErrNoDeltas) || !strings.Contains(r.stderr, "does not support delta requests") {
		t.Errorf("unsupported: err %v, stderr %q", r.err, r.stderr)
	}
	assertInert(t, "unsupported line", r.stderr)

	b := newOrigin(t)
	b.json("/svc/items", 200, `{"value":[{"id":"1"}],"@odata.deltaLink":"/svc/delta"}`)
	b.json("/svc/delta", 404, `{"error":{"code":"NotFound","message":"gone \u001b]0;x\u0007 away"}}`)
	r = watchTrackers(t, open(b), nil, WatchOptions{MaxFailures: 1})
	if r.err == nil || errors.Is(r.err, ErrNoDeltas) || !strings.Contains(r.stderr, "rounds in a row failed") {
		t.Errorf("failures: err %v, stderr %q", r.err, r.stderr)
	}
	assertInert(t, "rounds-failed line", r.stderr)

	c := newOrigin(t)
	c.json("/svc/items", 200, `{"value":[{"id":"1"}],"@odata.deltaLink":"/svc/delta"}`)
	c.json("/svc/delta", 410, `{}`)
	r = watchTrackers(t, open(c), nil, WatchOptions{ExitOnGone: true})
	if !errors.Is(r.err, ErrStoppedOnGone) || !strings.Contains(r.stderr, "the delta link expired") {
		t.Errorf("on-gone exit: err %v, stderr %q", r.err, r.stderr)
	}
	assertInert(t, "on-gone line", r.stderr)
	assertInert(t, "stdout", r.stdout)
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// Point 14: invalid UTF-8 in a record (with the 8-bit CSI byte 0x9b) never
// reaches NDJSON raw: every line is valid UTF-8 JSON, the bytes become
// U+FFFD and the event says it was repaired.
func TestWatchNDJSONIsValidUTF8(t *testing.T) {
	t.Parallel()
	a := newOrigin(t)
	a.json("/svc/items", 200, "{\"value\":[{\"id\":\"1\",\"name\":\"ok\"}],\"@odata.deltaLink\":\"/svc/delta\"}")
	a.json("/svc/delta", 200, "{\"value\":[{\"id\":\"1\",\"name\":\"bad \xff\x9b2J end\"},{\"id\":\"2\xfe\",\"name\":\"new\"}],\"@odata.deltaLink\":\"/svc/delta2\"}")
	a.json("/svc/delta2", 200, `{"value":[],"@odata.deltaLink":"/svc/delta2"}`)
	r := watchURL(t, a.srv.URL+"/svc/items", false, WatchOptions{Rounds: 2})
	if r.err != nil {
		t.Fatalf("err %v, stderr %s", r.err, r.stderr)
	}
	repaired := 0
	sc := bufio.NewScanner(strings.NewReader(r.stdout))
	for sc.Scan() {
		line := sc.Bytes()
		if !utf8.Valid(line) || !json.Valid(line) {
			t.Errorf("line is not valid UTF-8 JSON: %q", line)
		}
		var ev Event
		json.Unmarshal(line, &ev)
		if ev.Repaired {
			repaired++
			if !strings.Contains(string(line), "\uFFFD") {
				t.Errorf("repaired line without U+FFFD: %s", line)
			}
		}
	}
	if repaired != 2 {
		t.Errorf("%d events marked repaired, want 2:\n%s", repaired, r.stdout)
	}
	assertInert(t, "stdout", r.stdout)
}

// Point 17: an entity whose verdict is error makes probe answer
// ErrSomeUnprobed (exit 5), with the whole table still printed; none
// reachable is ErrUnreachable (exit 1).
func TestProbeExitCodeForAnErrorVerdict(t *testing.T) {
	t.Parallel()
	a := newOrigin(t)
	a.json("/svc/", 200, `{"value":[{"name":"good","url":"good"},{"name":"broken","url":"broken"}]}`)
	a.handle("/svc/good", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Preference-Applied", "odata.track-changes")
		w.Write([]byte(`{"value":[{"id":"1"}],"@odata.deltaLink":"/svc/good?t=1"}`))
	})
	a.json("/svc/broken", 403, `{"error":{"code":"Forbidden","message":"no access"}}`)
	trackers, _, err := track.Open(context.Background(), &deltaclient.Client{Retry: deltaclient.RetryPolicy{Tries: 1}}, deltaclient.Target{URL: a.srv.URL + "/svc"})
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	err = Probe(context.Background(), ProbeOptions{Trackers: trackers}, &out, &errOut)
	if !errors.Is(err, ErrSomeUnprobed) || !strings.Contains(out.String(), "good    yes") || !strings.Contains(out.String(), "broken  error") {
		t.Errorf("err %v, want ErrSomeUnprobed; table:\n%s", err, out.String())
	}
	if !strings.Contains(errOut.String(), "1 of 2 entity sets could not be probed") {
		t.Errorf("stderr %q", errOut.String())
	}
	// Reaching no set at all is a failure to run: exit 1.
	down := newOrigin(t)
	url := down.srv.URL + "/svc/items"
	down.srv.Close()
	err = Probe(context.Background(), ProbeOptions{Trackers: []*track.Tracker{track.New("items", url, &deltaclient.Client{Retry: deltaclient.RetryPolicy{Tries: 1}})}}, &out, &errOut)
	if !errors.Is(err, ErrUnreachable) {
		t.Errorf("unreachable service: err %v, want ErrUnreachable", err)
	}
}
