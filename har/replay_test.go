package har

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func entry(method, u string, status int, body string, headers ...NameValue) Entry {
	return Entry{Request: Request{Method: method, URL: u}, Response: Response{Status: status, Headers: headers, Content: Content{Text: body}}}
}

func serve(t *testing.T, l *Log) *httptest.Server {
	t.Helper()
	r, err := NewReplay(l)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv
}

func fetch(t *testing.T, u string) (int, string, http.Header) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func TestReplayServesInRecordedOrder(t *testing.T) {
	t.Parallel()
	rec := "https://bc.example.com:7048"
	l := &Log{Entries: []Entry{
		entry("GET", rec+"/api/customers", 200, `{"value":[],"@odata.nextLink":"`+rec+`/api/customers?$skiptoken=2"}`),
		entry("GET", rec+"/api/customers?$skiptoken=2", 429, `{"error":{}}`, NameValue{"Retry-After", "0"}),
		entry("GET", rec+"/api/customers?$skiptoken=2", 200, `{"value":[{"id":"1"}],"@odata.deltaLink":"`+rec+`/api/customers?deltaToken=A"}`),
		entry("GET", rec+"/api/customers?deltaToken=A", 410, `{}`, NameValue{"Location", rec + "/api/customers"}),
		entry("GET", rec+"/api/customers?deltaToken=B", 200, `{"@odata.context":"c","value":[{"id":"2"}],"@odata.deltaLink":"`+rec+`/api/customers?deltaToken=C"}`),
	}}
	srv := serve(t, l)
	st, body, _ := fetch(t, srv.URL+"/api/customers")
	if st != 200 || !strings.Contains(body, srv.URL+"/api/customers?$skiptoken=2") || strings.Contains(body, rec) {
		t.Errorf("nextLink not rewritten: %d %s", st, body)
	}
	for _, want := range []int{429, 200, 200} { // the last answer repeats
		if st, _, _ := fetch(t, srv.URL+"/api/customers?$skiptoken=2"); st != want {
			t.Errorf("status %d, want %d", st, want)
		}
	}
	if st, _, h := fetch(t, srv.URL+"/api/customers?deltaToken=A"); st != 410 || h.Get("Location") != srv.URL+"/api/customers" {
		t.Errorf("410: %d Location %q", st, h.Get("Location"))
	}
	st, body, _ = fetch(t, srv.URL+"/api/customers?deltaToken=Z")
	if st != 200 || strings.Contains(body, `"id":"2"`) || !strings.Contains(body, `"value":[]`) || !strings.Contains(body, srv.URL+"/api/customers?deltaToken=C") {
		t.Errorf("a delta past the recording must be empty: %d %s", st, body)
	}
	if st, body, _ := fetch(t, srv.URL+"/api/vendors"); st != 404 || !strings.Contains(body, "no recorded answer for GET /api/vendors") {
		t.Errorf("unknown request: %d %s", st, body)
	}
}

func TestReplayFailsLikeTheRecording(t *testing.T) {
	t.Parallel()
	l := &Log{Entries: []Entry{
		{Request: Request{Method: "GET", URL: "http://h/reset"}, Error: "connection reset"},
		{Request: Request{Method: "GET", URL: "http://h/cut"}, Error: "unexpected EOF", Response: Response{Status: 200, Content: Content{Text: `{"value":[`}}},
	}}
	srv := serve(t, l)
	if _, err := http.Get(srv.URL + "/reset"); err == nil {
		t.Error("a recorded reset must fail the request")
	}
	resp, err := http.Get(srv.URL + "/cut")
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("a recorded cut body must be cut again: %v", err)
	}
}

// TestReplayReadsDevtoolsHAR: a browser's export has fields we do not
// know, lacks ones we write, and may carry bodies in base64.
func TestReplayReadsDevtoolsHAR(t *testing.T) {
	t.Parallel()
	body := `{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#users","value":[{"id":"u1"}],"@odata.deltaLink":"https://graph.microsoft.com/v1.0/users/delta?$deltatoken=X1"}`
	devtools := `{"log":{"version":"1.2","creator":{"name":"WebInspector","version":"537.36"},"pages":[{"startedDateTime":"2026-11-25T14:03:00.000Z","id":"page_1","title":"x","pageTimings":{}}],
"entries":[{"_initiator":{"type":"script"},"_priority":"High","_resourceType":"fetch","cache":{},"connection":"443","pageref":"page_1",
"request":{"method":"GET","url":"https://graph.microsoft.com/v1.0/users/delta?$select=displayName","httpVersion":"http/2.0","headers":[{"name":":authority","value":"graph.microsoft.com"}],"queryString":[{"name":"$select","value":"displayName"}],"cookies":[],"headersSize":-1,"bodySize":0},
"response":{"status":200,"statusText":"","httpVersion":"http/2.0","headers":[{"name":"content-type","value":"application/json"},{"name":"content-encoding","value":"gzip"},{"name":"content-length","value":"99"}],"cookies":[],
"content":{"size":140,"mimeType":"application/json","compression":-20,"text":"` + base64.StdEncoding.EncodeToString([]byte(body)) + `","encoding":"base64"},"redirectURL":"","headersSize":-1,"bodySize":-1,"_transferSize":200,"_error":null},
"serverIPAddress":"20.190.1.1","startedDateTime":"2026-11-25T14:03:00.100Z","time":80.5,"timings":{"blocked":1,"dns":-1,"ssl":-1,"connect":-1,"send":0.1,"wait":70,"receive":9,"_blocked_queueing":0.5}}]}}`
	l, err := Read(strings.NewReader(devtools))
	if err != nil {
		t.Fatal(err)
	}
	srv := serve(t, l)
	st, got, h := fetch(t, srv.URL+"/v1.0/users/delta?$select=displayName")
	if st != 200 || h.Get("Content-Encoding") != "" || !strings.Contains(got, `"id":"u1"`) || !strings.Contains(got, srv.URL+"/v1.0/users/delta?$deltatoken=X1") {
		t.Errorf("%d %v %s", st, h, got)
	}
	// Its deltaLink was never fetched in the recording: an empty delta.
	st, got, _ = fetch(t, srv.URL+"/v1.0/users/delta?$deltatoken=X1")
	if st != 200 || !strings.Contains(got, `"value":[]`) || !strings.Contains(got, "$deltatoken=X1") {
		t.Errorf("past the recording: %d %s", st, got)
	}
}

func TestReadRejectsOtherFiles(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"", "{}", `{"value":[]}`, "<html>"} {
		if _, err := Read(bytes.NewReader([]byte(in))); err == nil {
			t.Errorf("Read(%q) accepted it", in)
		}
	}
}
