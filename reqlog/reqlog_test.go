package reqlog

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/deltascope/deltascope/deltaclient"
)

func TestRedactURL(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://u:pw@h/svc/Customers?$deltatoken=abc":                    "https://%5Bredacted%5D@h/svc/Customers?$deltatoken=abc",
		"https://h/blob?sv=2020&sig=SECRET&se=1":                          "https://h/blob?sv=2020&sig=[redacted]&se=1",
		"https://h/x?access_token=SECRET&deltaToken=ZmYw==":               "https://h/x?access_token=[redacted]&deltaToken=ZmYw==",
		"https://h/x?$skiptoken=A1&$skip=20&$top=5":                       "https://h/x?$skiptoken=A1&$skip=20&$top=5",
		"https://h/x?token=T&refresh_token=R&X-Amz-Signature=S":           "https://h/x?token=[redacted]&refresh_token=[redacted]&X-Amz-Signature=[redacted]",
		"https://h/x?subscription-key=K&client_assertion=A&api-version=1": "https://h/x?subscription-key=[redacted]&client_assertion=[redacted]&api-version=1",
		"https://h/cb#access_token=SECRET&state=1":                        "https://h/cb#[redacted]",
		"https://h/x?name=\x1b]0;title\x07":                               "https://h/x?[redacted]",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSecretsInEveryEncoding(t *testing.T) {
	t.Parallel()
	const pw = `p@ss w/rd+&"<x>`
	s := NewSecrets(pw)
	s.AddBasic("ADMIN", pw)
	for _, form := range []string{pw, url.QueryEscape(pw), url.PathEscape(pw), `p@ss w/rd+&\"<x>`} {
		if got := s.Text("before " + form + " after"); got != "before [redacted] after" {
			t.Errorf("Text(%q) = %q", form, got)
		}
	}
	if got := s.Header("Authorization", "Basic QURNSU46eA=="); got != "Basic [redacted]" {
		t.Errorf("Authorization kept %q", got)
	}
	if got := s.Header("Accept-Language", "en-US"); got != "en-US" {
		t.Errorf("an ordinary header was redacted: %q", got)
	}
	if got := s.Header("Location", "https://blob/x?sv=1&sig=S3CR3T&$skiptoken=2"); got != "https://blob/x?sv=1&sig=[redacted]&$skiptoken=2" {
		t.Errorf("Location kept %q", got)
	}
	if got := s.Header("Ocp-Apim-Subscription-Key", "abc123"); got != Redacted {
		t.Errorf("a key header was kept: %q", got)
	}
	form := s.Form("grant_type=client_credentials&client_id=app&client_secret=" + url.QueryEscape("Sec+ret/1") + "&scope=x")
	if form != "grant_type=client_credentials&client_id=app&client_secret=[redacted]&scope=x" {
		t.Errorf("Form = %q", form)
	}
	if got := s.Text("echo Sec+ret/1"); got != "echo [redacted]" {
		t.Errorf("a form secret was not learned: %q", got)
	}
	tok := s.TokenResponse([]byte(`{"token_type":"Bearer","access_token":"eyJ0.abc.def","expires_in":3599}`))
	if strings.Contains(string(tok), "eyJ0.abc.def") || s.Text("x eyJ0.abc.def") != "x [redacted]" {
		t.Errorf("token response %s", tok)
	}
	if user := s.Learn("Bearer cmd-token-1234"); user != "" || s.Text("cmd-token-1234") != Redacted {
		t.Error("a bearer token from a header was not learned")
	}
}

// TestSecretsEchoedByOtherJSONEncoders: a server that echoes a secret in a
// JSON body writes it with its own encoder (PHP's \/, .NET's \u002B), and
// --record keeps the body as served: those forms are secrets too.
func TestSecretsEchoedByOtherJSONEncoders(t *testing.T) {
	t.Parallel()
	const pw = `p@ss w/rd+&"<x>`
	s := NewSecrets(pw)
	s.AddBasic("ADMIN", pw)
	basic := base64.StdEncoding.EncodeToString([]byte("ADMIN:" + pw))
	if !strings.Contains(basic, "+") {
		t.Fatalf("the Basic form %s has no +: pick another password", basic)
	}
	for _, echoed := range []string{
		`p@ss w\/rd+&\"<x>`,                         // PHP, Java
		`p@ss w/rd\u002B\u0026\u0022\u003Cx\u003E`,  // .NET System.Text.Json
		`p@ss w/rd\u002b\u0026\u0022\u003cx\u003e`,  // lower case hex
		`p@ss w\/rd\u002b\u0026\u0022\u003cx\u003e`, // lower case hex and \/
		strings.ReplaceAll(basic, "+", `\u002B`),    // the Basic form, .NET
	} {
		body := `{"error":{"message":"got ` + echoed + `"}}`
		if got := string(s.Bytes([]byte(body))); got != `{"error":{"message":"got [redacted]"}}` {
			t.Errorf("echo %s kept: %s", echoed, got)
		}
	}
}

func server(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/html":
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, "<html>sign in</html>")
		case "/token":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"token_type":"Bearer","access_token":"tok-4ccess-7890","expires_in":3599}`)
		case "/echo":
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("request-id", "rid-1")
			w.Header().Set("Preference-Applied", "odata.track-changes")
			fmt.Fprintf(w, `{"@odata.context":"x","auth":%q,"value":[]}`, r.Header.Get("Authorization"))
		default:
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"value":[`+strings.Repeat(`{"a":1},`, 20000)+`{"a":2}]}`)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, c *http.Client, u string, h ...string) []byte {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	for i := 0; i+1 < len(h); i += 2 {
		req.Header.Set(h[i], h[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return b
}

func TestTransportCapturesTheExchange(t *testing.T) {
	t.Parallel()
	srv := server(t)
	var out bytes.Buffer
	l := New(10, &out, "hunter22")
	var recorded []*Exchange
	l.OnExchange(0, func(x *Exchange) { recorded = append(recorded, x) })
	c := &http.Client{Transport: l.Transport(nil)}
	body := get(t, c, srv.URL+"/echo?$deltatoken=D1&sig=S", "Authorization", "Bearer hunter22", "Prefer", "odata.track-changes", "Accept", "application/json")
	if !strings.Contains(string(body), "hunter22") {
		t.Fatal("the client must get the body unchanged")
	}
	get(t, c, srv.URL+"/html", "Accept", "application/json")
	big := get(t, c, srv.URL+"/big", "Accept", "application/json")

	if l.Len() != 3 || len(recorded) != 3 {
		t.Fatalf("len %d, recorded %d", l.Len(), len(recorded))
	}
	es := l.Newest(0, 3)
	echo := es[2].Exchange
	if echo.URL != srv.URL+"/echo?$deltatoken=D1&sig=[redacted]" || echo.Status != 200 || echo.StatusText != "OK" {
		t.Errorf("echo %s %d %q", echo.URL, echo.Status, echo.StatusText)
	}
	if got := echo.RequestHeader.Get("Authorization"); got != "Bearer [redacted]" {
		t.Errorf("request Authorization %q", got)
	}
	if echo.RequestHeader.Get("Prefer") != "odata.track-changes" || echo.ResponseHeader.Get("Preference-Applied") != "odata.track-changes" || es[2].RequestID != "rid-1" {
		t.Errorf("headers: %v %v", echo.RequestHeader, echo.ResponseHeader)
	}
	if strings.Contains(string(echo.Body), "hunter22") || !strings.Contains(string(echo.Body), `"auth":"Bearer [redacted]"`) || !echo.Complete {
		t.Errorf("echoed secret kept: %s", echo.Body)
	}
	if echo.Timings.Send < 0 || echo.Timings.Wait < 0 || echo.Timings.Receive < 0 {
		t.Errorf("timings %+v", echo.Timings)
	}
	if es[1].Error == "" || !strings.Contains(es[1].Error, "not JSON") || es[2].Error != "" {
		t.Errorf("a 200 HTML answer must be an error: %q; JSON: %q", es[1].Error, es[2].Error)
	}
	if x := es[0].Exchange; len(x.Body) != DetailBody || !x.BodyCut || x.BodySize != int64(len(big)) {
		t.Errorf("detail body %d cut %v size %d of %d", len(x.Body), x.BodyCut, x.BodySize, len(big))
	}
	if x := recorded[2]; len(x.Body) != len(big) || x.BodyCut {
		t.Errorf("recorded body %d of %d", len(x.Body), len(big))
	}
	if strings.Contains(out.String(), "hunter22") || strings.Count(out.String(), "\n") != 3 {
		t.Errorf("--log: %s", out.String())
	}
}

// TestDropBodies: watch and probe keep no bodies in the ring, yet a token
// response still teaches the redactor its token and --record still gets
// every body whole.
func TestDropBodies(t *testing.T) {
	t.Parallel()
	srv := server(t)
	for _, record := range []bool{false, true} {
		l := New(10, nil)
		l.DropBodies()
		var recorded []*Exchange
		if record {
			l.OnExchange(0, func(x *Exchange) { recorded = append(recorded, x) })
		}
		c := &http.Client{Transport: l.Transport(nil)}
		big := get(t, c, srv.URL+"/big")
		resp, err := c.PostForm(srv.URL+"/token", url.Values{"grant_type": {"client_credentials"}})
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		for _, e := range l.Newest(0, 2) {
			if x := e.Exchange; x == nil || x.Body != nil || !x.BodyCut || x.Status != 200 {
				t.Errorf("record %v: ring kept %+v", record, x)
			}
		}
		if got := l.Secrets().Text("Bearer tok-4ccess-7890"); strings.Contains(got, "tok-4ccess") {
			t.Errorf("record %v: the token response was not learnt: %q", record, got)
		}
		if record && (len(recorded) != 2 || len(recorded[0].Body) != len(big) || recorded[0].BodyCut) {
			t.Errorf("--record got %d exchanges", len(recorded))
		}
	}
}

func TestRingKeepsTheNewest(t *testing.T) {
	t.Parallel()
	srv := server(t)
	l := New(3, nil)
	c := &http.Client{Transport: l.Transport(nil)}
	for i := 0; i < 5; i++ {
		get(t, c, fmt.Sprintf("%s/echo?i=%d", srv.URL, i))
	}
	l.Note("identified by id")
	if l.Len() != 3 || l.Total() != 6 || l.Cap() != 3 {
		t.Fatalf("len %d total %d", l.Len(), l.Total())
	}
	newest := l.Newest(0, 2)
	if newest[0].Note != "identified by id" || !strings.HasSuffix(newest[1].URL, "i=4") {
		t.Errorf("newest %+v", newest)
	}
}

func TestRingBodyBudget(t *testing.T) {
	t.Parallel()
	l := New(1000, nil)
	for i := 0; i < 600; i++ {
		l.exchange(&Exchange{Start: time.Now(), Method: "GET", URL: "u", Status: 200, Body: bytes.Repeat([]byte("x"), DetailBody)})
	}
	if l.bodies > bodyBudget {
		t.Fatalf("ring holds %d bytes of bodies, budget %d", l.bodies, bodyBudget)
	}
	if es := l.Newest(0, 1); len(es[0].Exchange.Body) != DetailBody {
		t.Error("the newest body was dropped")
	}
	if es := l.Newest(599, 1); es[0].Exchange.Body != nil || !es[0].Exchange.BodyCut {
		t.Error("the oldest body was kept")
	}
}

// TestLogFileKeepsURLsReadable: --log writes URLs as they are; & is not
// escaped as \u0026, so the file greps and reads like the URL.
func TestLogFileKeepsURLsReadable(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	l := New(10, &out)
	l.Request(deltaclient.RequestInfo{Time: time.Unix(0, 0), Method: "GET", URL: "https://h/svc/items?$select=a,b&$filter=x<1", Status: 200})
	if s := out.String(); !strings.Contains(s, `"url":"https://h/svc/items?$select=a,b&$filter=x<1"`) || strings.Contains(s, `\u0026`) {
		t.Errorf("log line %s", s)
	}
}
