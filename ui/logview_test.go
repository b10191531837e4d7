package ui

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/deltascope/deltascope/deltaclient/deltatest"
	"github.com/deltascope/deltascope/reqlog"
	"github.com/deltascope/deltascope/track"
)

const wireToken = "s3cr3t-t0ken-abcdef"

// wire is a service with canned answers of the kinds the log must show:
// a page with annotations, a throttled answer, a sign-in page served with
// 200, an expired delta link, and a long delta URL.
func wire(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("request-id", "rid-"+r.URL.Query().Get("n"))
		switch r.URL.Path {
		case "/api/customers":
			h.Set("Content-Type", "application/json; odata.metadata=minimal")
			h.Set("OData-Version", "4.0")
			h.Set("Preference-Applied", "odata.track-changes")
			fmt.Fprintf(w, `{"@odata.context":"http://%s/api/$metadata#customers","value":[{"@odata.etag":"W/\"1\"","id":"c1","displayName":"Adatum"},{"id":"c2","displayName":"Fabrikam"}],"@odata.nextLink":"http://%s/api/customers?$skiptoken=c2"}`, r.Host, r.Host)
		case "/api/throttled":
			h.Set("Retry-After", "7")
			h.Set("Content-Type", "application/json")
			w.WriteHeader(429)
			fmt.Fprint(w, `{"error":{"code":"TooManyRequests","message":"slow down"}}`)
		case "/api/signin":
			h.Set("Content-Type", "text/html")
			fmt.Fprint(w, "<html><body>Sign in to your account</body></html>")
		case "/api/gone":
			h.Set("Location", "http://"+r.Host+"/api/customers")
			w.WriteHeader(410)
		default:
			h.Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"value":[]}`)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// wireModel is a model whose log holds the answers of wire, and n more
// plain requests.
func wireModel(t *testing.T, n int) (*Model, *httptest.Server, *bytes.Buffer, *http.Client) {
	t.Helper()
	srv := wire(t)
	log := reqlog.New(1000, nil, wireToken)
	c := &http.Client{Transport: log.Transport(nil)}
	clip := &bytes.Buffer{}
	m := New(Config{Context: context.Background(), Service: "demo http://127.0.0.1:8080/api/v2.0", Now: (&clock{t: epoch}).Now, Clipboard: clip, Log: log})
	m.tick = func() tea.Cmd { return nil }
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	for i := 0; i < n; i++ {
		send(t, c, fmt.Sprintf("%s/api/other?n=%d", srv.URL, i))
	}
	for _, p := range []string{"/api/gone", "/api/signin", "/api/throttled", "/api/customers?deltaToken=" + strings.Repeat("eyJjIjowLCJzIjoiY3VzdG9tZXJzIn0", 4)} {
		send(t, c, srv.URL+p)
	}
	return m, srv, clip, c
}

func send(t *testing.T, c *http.Client, u string) {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+wireToken)
	req.Header.Set("Prefer", "odata.track-changes, odata.maxpagesize=2")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

func keys(m *Model, ks ...string) {
	for _, k := range ks {
		var msg tea.KeyMsg
		switch k {
		case "enter":
			msg = tea.KeyMsg{Type: tea.KeyEnter}
		case "esc":
			msg = tea.KeyMsg{Type: tea.KeyEsc}
		case "pgdown":
			msg = tea.KeyMsg{Type: tea.KeyPgDown}
		case "pgup":
			msg = tea.KeyMsg{Type: tea.KeyPgUp}
		default:
			msg = tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)}
		}
		m.Update(msg)
	}
}

func screenOf(m *Model) string { return ansi.Strip(m.View()) }

// cursorLine is the line the > cursor is on.
func cursorLine(t *testing.T, m *Model) string {
	t.Helper()
	for _, l := range strings.Split(screenOf(m), "\n") {
		if strings.HasPrefix(l, "> ") {
			return l
		}
	}
	t.Fatalf("no cursor:\n%s", screenOf(m))
	return ""
}

func TestLogScrolls(t *testing.T) {
	t.Parallel()
	m, srv, _, c := wireModel(t, 60)
	keys(m, "l")
	if !strings.Contains(cursorLine(t, m), "/api/customers?deltaToken=") {
		t.Fatalf("the cursor starts on the newest request: %q", cursorLine(t, m))
	}
	if got := pathOf("http://h/api/v2.0/companies(1263b8de-7a2b-4442-a62a-7e3ea8cd6b49)/customers?$filter=id eq (12345678901234)"); got != "/api/v2.0/companies(…)/customers?$filter=id eq (12345678901234)" {
		t.Errorf("pathOf = %q", got)
	}
	keys(m, "j", "j")
	if l := cursorLine(t, m); !strings.Contains(l, "/api/signin") {
		t.Errorf("j j: %q", l)
	}
	keys(m, "k")
	if l := cursorLine(t, m); !strings.Contains(l, "/api/throttled") {
		t.Errorf("k: %q", l)
	}
	keys(m, "G")
	if l := cursorLine(t, m); !strings.Contains(l, "/api/other?n=0") || !strings.Contains(screenOf(m), "44-64") {
		t.Errorf("G goes to the oldest: %q\n%s", l, screenOf(m))
	}
	keys(m, "pgup")
	if l := cursorLine(t, m); !strings.Contains(l, "/api/other?n=21") {
		t.Errorf("pgup moves a page (21 rows): %q", l)
	}
	keys(m, "g", "pgdown")
	if l := cursorLine(t, m); !strings.Contains(l, "/api/other?n=42") {
		t.Errorf("g pgdown: %q", l)
	}
	// New requests arrive: the cursor stays on its request.
	send(t, c, srv.URL+"/api/other?n=100")
	send(t, c, srv.URL+"/api/other?n=101")
	if l := cursorLine(t, m); !strings.Contains(l, "/api/other?n=42") {
		t.Errorf("the cursor moved with new requests: %q", l)
	}
	keys(m, "j")
	if l := cursorLine(t, m); !strings.Contains(l, "/api/other?n=41") {
		t.Errorf("j after new requests: %q", l)
	}
	keys(m, "g")
	if l := cursorLine(t, m); !strings.Contains(l, "n=101") {
		t.Errorf("g goes to the newest: %q", l)
	}
	// On the newest request the cursor follows new ones, like tail -f.
	send(t, c, srv.URL+"/api/other?n=102")
	if l := cursorLine(t, m); !strings.Contains(l, "n=102") {
		t.Errorf("the cursor on the newest request must follow: %q", l)
	}
	keys(m, "j")
	if l := cursorLine(t, m); !strings.Contains(l, "n=101") {
		t.Errorf("j after following: %q", l)
	}
	m.Update(tea.MouseMsg{Button: tea.MouseButtonWheelDown, Action: tea.MouseActionPress})
	if l := cursorLine(t, m); !strings.Contains(l, "/api/throttled") {
		t.Errorf("the wheel moves the cursor three rows: %q", l)
	}
	keys(m, "esc")
	if m.mode != normalMode {
		t.Error("esc closes the log")
	}
}

func TestLogKeepsTheNewestN(t *testing.T) {
	t.Parallel()
	srv := wire(t)
	log := reqlog.New(5, nil)
	c := &http.Client{Transport: log.Transport(nil)}
	for i := 0; i < 12; i++ {
		send(t, c, fmt.Sprintf("%s/api/other?n=%d", srv.URL, i))
	}
	m := New(Config{Log: log, Clipboard: io.Discard})
	m.Update(tea.WindowSizeMsg{Width: 100, Height: 24})
	keys(m, "l", "G")
	s := screenOf(m)
	if !strings.Contains(s, "5 of 12 kept") || !strings.Contains(cursorLine(t, m), "n=7") || strings.Contains(s, "n=6") {
		t.Errorf("the log keeps the newest 5:\n%s", s)
	}
}

func TestLogMarksFailures(t *testing.T) {
	t.Parallel()
	m, _, _, _ := wireModel(t, 0)
	m.Update(tea.WindowSizeMsg{Width: 160, Height: 24})
	keys(m, "l")
	s := screenOf(m)
	for _, want := range []string{
		"GET 200!", "/api/signin  the answer is not JSON (Content-Type text/html)", // a sign-in page is no success
		"GET 429 ", "id rid- /api/throttled",
		"GET 410 ",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("log lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "GET 200!  ") && strings.Contains(s, "/api/customers?deltaToken") && regexp.MustCompile(`200! .*deltaToken`).MatchString(s) {
		t.Error("a JSON 200 is marked as failed")
	}
}

func TestRequestDetail(t *testing.T) {
	t.Parallel()
	m, srv, clip, _ := wireModel(t, 0)
	m.Update(tea.WindowSizeMsg{Width: 40, Height: 60})
	keys(m, "l", "enter")
	if m.mode != requestMode {
		t.Fatal("enter opens the request")
	}
	s := screenOf(m)
	u := srv.URL + "/api/customers?deltaToken=" + strings.Repeat("eyJjIjowLCJzIjoiY3VzdG9tZXJzIn0", 4)
	joined := strings.ReplaceAll(strings.ReplaceAll(s, "\n", ""), " ", "")
	if !strings.Contains(joined, u) {
		t.Errorf("the URL is not shown whole (wrapped):\n%s", s)
	}
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 60})
	s = screenOf(m)
	for _, want := range []string{"GET 200", "request id rid-", "Request headers", "Authorization: Bearer [redacted]", "Prefer: odata.track-changes, odata.maxpagesize=2",
		"Response 200 OK", "Preference-Applied: odata.track-changes", "OData-Version: 4.0", "Request-Id: rid-", "Timing", "wait ", "receive ", "Body", `"@odata.context": "http://`,
		`"value": [`, `"displayName": "Adatum"`, `"@odata.nextLink":`} {
		if !strings.Contains(s, want) {
			t.Errorf("detail lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, wireToken) {
		t.Error("the detail shows the token")
	}
	keys(m, "c")
	curl := clipboard(t, clip)
	for _, want := range []string{"curl -sS '" + u + "'", `-H "Authorization: Bearer $DELTASCOPE_TOKEN"`, `-H 'Prefer: odata.track-changes, odata.maxpagesize=2'`} {
		if !strings.Contains(curl, want) {
			t.Errorf("curl lacks %s:\n%s", want, curl)
		}
	}
	if strings.Contains(curl, wireToken) || !strings.Contains(screenOf(m), "copied the request as curl") {
		t.Errorf("curl: %s", curl)
	}
	keys(m, "esc")
	if m.mode != logMode {
		t.Fatal("esc goes back to the log")
	}
	keys(m, "j", "enter")
	for _, want := range []string{"GET 429", "Retry-After: 7", `"code": "TooManyRequests"`} {
		if !strings.Contains(screenOf(m), want) {
			t.Errorf("the 429 lacks %q:\n%s", want, screenOf(m))
		}
	}
	keys(m, "esc", "j", "j", "enter")
	if s := screenOf(m); !strings.Contains(s, "Location: http://127.0.0.1:") || !strings.Contains(s, "GET 410") {
		t.Errorf("the 410:\n%s", s)
	}
	keys(m, "esc", "k", "enter")
	if s := screenOf(m); !strings.Contains(s, "error: the answer is not JSON") || !strings.Contains(s, "<html><body>Sign in") {
		t.Errorf("the sign-in page:\n%s", s)
	}
}

func clipboard(t *testing.T, clip *bytes.Buffer) string {
	t.Helper()
	s := clip.String()
	i := strings.LastIndex(s, "\x1b]52;c;")
	if i < 0 || !strings.HasSuffix(s, "\a") {
		t.Fatalf("no OSC 52 on the clipboard writer: %q", s)
	}
	b, err := base64.StdEncoding.DecodeString(s[i+7 : len(s)-1])
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestRequestDetailScrolls(t *testing.T) {
	t.Parallel()
	m, _, _, _ := wireModel(t, 0)
	keys(m, "l", "enter")
	before := screenOf(m)
	keys(m, "j", "j", "j")
	if after := screenOf(m); after == before || strings.Contains(after, "Request headers") == strings.Contains(before, "Request headers") && strings.Contains(before, "▸ GET") == false {
		t.Errorf("j does not scroll the detail")
	}
	keys(m, "G")
	if !strings.Contains(screenOf(m), `"@odata.nextLink":`) {
		t.Errorf("G shows the end of the body:\n%s", screenOf(m))
	}
}

func TestDeltaLinkKey(t *testing.T) {
	t.Parallel()
	f := newFixture(t, deltatest.Options{}).start()
	f.selectEntity("customers")
	_, cmd := f.m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("d")})
	if cmd == nil {
		t.Fatal("d starts reading the delta link")
	}
	f.m.Update(cmd()) // off the Update goroutine: the tracker may be mid-round
	if f.m.mode != requestMode {
		t.Fatalf("d opens the delta link:\n%s", f.screen())
	}
	link := f.m.entities[0].tracker.DeltaLink()
	f.mustShow("Delta link · customers", "copied the delta link")
	if got := clipboard(t, f.clip); got != link || !strings.Contains(link, "deltaToken=") {
		t.Errorf("copied %q, link %q", got, link)
	}
	joined := strings.ReplaceAll(f.screen(), "\n", "")
	if !strings.Contains(strings.ReplaceAll(joined, " ", ""), link) {
		t.Errorf("the link is not shown whole:\n%s", f.screen())
	}
	f.press("esc")
	if f.m.mode != normalMode {
		t.Error("esc closes the link")
	}
}

func TestPrettyJSONOfACutBody(t *testing.T) {
	t.Parallel()
	got := prettyJSON([]byte(`{"@odata.context":"x","value":[{"a":"b,\"{c"},{},[]],"@odata.nextLink":"y","d":{"e":[1,2`))
	want := `{
  "@odata.context": "x",
  "value": [
    {
      "a": "b,\"{c"
    },
    {},
    []
  ],
  "@odata.nextLink": "y",
  "d": {
    "e": [
      1,
      2`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if !isAnnotation(`  "@odata.nextLink": "y",`) || !isAnnotation(`    "@removed": {`) || isAnnotation(`  "value": [`) {
		t.Error("isAnnotation")
	}
}

// TestLogGolden pins the log and the request detail at 80x24 and 40x10.
// Times of day, durations and ports change from run to run and are
// replaced.
func TestLogGolden(t *testing.T) {
	norm := func(s string) string {
		s = regexp.MustCompile(`Date: .*`).ReplaceAllString(s, "Date: (date)")
		s = regexp.MustCompile(`\b\d\d:\d\d(:\d\d)?\b`).ReplaceAllStringFunc(s, func(x string) string { return "14:03:00"[:len(x)] })
		s = regexp.MustCompile(` +(\d+\.)?\d+ms`).ReplaceAllString(s, " #ms") // durations, padded to their width
		s = regexp.MustCompile(`127\.0\.0\.1:\d+`).ReplaceAllString(s, "127.0.0.1:PORT")
		s = regexp.MustCompile(`Date: .*`).ReplaceAllString(s, "Date: (date)")
		return s
	}
	for _, state := range []struct {
		name string
		keys []string
	}{{"log", []string{"l"}}, {"request", []string{"l", "enter"}}} {
		for _, sz := range [][2]int{{80, 24}, {40, 10}} {
			t.Run(fmt.Sprintf("%s_%dx%d", state.name, sz[0], sz[1]), func(t *testing.T) {
				m, _, _, _ := wireModel(t, 3)
				m.Update(tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
				keys(m, state.keys...)
				teatest.RequireEqualOutput(t, []byte(norm(screenOf(m))))
			})
		}
	}
}

func TestDeltaLinkKeyOnAPolledSet(t *testing.T) {
	t.Parallel()
	f := newFixture(t, deltatest.Options{NoDelta: true}).start()
	f.selectEntity("customers")
	_, cmd := f.m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("d")})
	f.m.Update(cmd())
	f.mustShow("Poll watermark · customers", "has no delta link: it is followed by polling (etag scan)", "keeps no watermark")

	// With a last-modified property the watermark is shown and copied.
	g := newFixture(t, deltatest.Options{NoDelta: true})
	for _, e := range g.m.entities {
		e.tracker.Hints = track.PollHints{Timestamp: "lastModifiedDateTime"}
	}
	g.start()
	g.selectEntity("customers")
	_, cmd = g.m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("d")})
	g.m.Update(cmd())
	st, _ := g.m.entities[0].tracker.PollState()
	want := "lastModifiedDateTime gt " + st.Watermark
	g.mustShow("$filter="+want, "copied the poll watermark")
	if got := clipboard(t, g.clip); got != want || st.Watermark == "" {
		t.Errorf("copied %q, want %q", got, want)
	}
}
