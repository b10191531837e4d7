// Package har reads and writes HTTP Archive 1.2 files (the format browser
// devtools, Charles, Fiddler and Postman import) and serves a recorded
// session back as a service, for deltascope's --record, --replay and
// replay.
package har

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/deltascope/deltascope/reqlog"
)

// File is a HAR document.
type File struct {
	Log Log `json:"log"`
}

// Log is the archive: who wrote it and the exchanges, in the order they
// completed.
type Log struct {
	Version string  `json:"version"`
	Creator Creator `json:"creator"`
	Entries []Entry `json:"entries"`
	Comment string  `json:"comment,omitempty"`
	// Session is deltascope's own: what the recorded run was pointed at,
	// so --replay can run the same session. Other tools ignore it (HAR
	// allows custom fields that start with an underscore).
	Session *Session `json:"_deltascope,omitempty"`
}

// Session is what a recorded run was pointed at.
type Session struct {
	URL        string   `json:"url,omitempty"`
	Company    string   `json:"company,omitempty"`
	Entities   []string `json:"entities,omitempty"`
	EntityURLs []string `json:"entityUrls,omitempty"`
	Select     string   `json:"select,omitempty"`
	Filter     string   `json:"filter,omitempty"`
}

// Creator names the program that wrote the file.
type Creator struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Entry is one exchange.
type Entry struct {
	StartedDateTime string   `json:"startedDateTime"`
	Time            float64  `json:"time"`
	Request         Request  `json:"request"`
	Response        Response `json:"response"`
	Cache           struct{} `json:"cache"`
	Timings         Timings  `json:"timings"`
	Comment         string   `json:"comment,omitempty"`
	// Error says the exchange failed (a reset, a cut body); replay fails
	// it the same way.
	Error string `json:"_error,omitempty"`
}

// Request is what was sent, redacted.
type Request struct {
	Method      string      `json:"method"`
	URL         string      `json:"url"`
	HTTPVersion string      `json:"httpVersion"`
	Cookies     []NameValue `json:"cookies"`
	Headers     []NameValue `json:"headers"`
	QueryString []NameValue `json:"queryString"`
	PostData    *PostData   `json:"postData,omitempty"`
	HeadersSize int64       `json:"headersSize"`
	BodySize    int64       `json:"bodySize"`
}

// Response is what came back.
type Response struct {
	Status      int         `json:"status"`
	StatusText  string      `json:"statusText"`
	HTTPVersion string      `json:"httpVersion"`
	Cookies     []NameValue `json:"cookies"`
	Headers     []NameValue `json:"headers"`
	Content     Content     `json:"content"`
	RedirectURL string      `json:"redirectURL"`
	HeadersSize int64       `json:"headersSize"`
	BodySize    int64       `json:"bodySize"`
	Comment     string      `json:"comment,omitempty"`
}

// Content is a response body.
type Content struct {
	Size     int64  `json:"size"`
	MimeType string `json:"mimeType"`
	Text     string `json:"text,omitempty"`
	Encoding string `json:"encoding,omitempty"`
	Comment  string `json:"comment,omitempty"`
}

// PostData is a request body.
type PostData struct {
	MimeType string      `json:"mimeType"`
	Text     string      `json:"text"`
	Params   []NameValue `json:"params,omitempty"`
}

// NameValue is a header, a query parameter or a cookie.
type NameValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Timings are in milliseconds; -1 is a phase that did not happen.
type Timings struct {
	Blocked float64 `json:"blocked"`
	DNS     float64 `json:"dns"`
	Connect float64 `json:"connect"`
	Send    float64 `json:"send"`
	Wait    float64 `json:"wait"`
	Receive float64 `json:"receive"`
	SSL     float64 `json:"ssl"`
}

// Body is the response body as served: base64 content decoded.
func (c Content) Body() ([]byte, error) {
	if strings.EqualFold(c.Encoding, "base64") {
		return base64.StdEncoding.DecodeString(c.Text)
	}
	return []byte(c.Text), nil
}

func ms(d time.Duration) float64 {
	if d < 0 {
		return -1
	}
	return float64(d.Microseconds()) / 1000
}

func pairs(h http.Header) []NameValue {
	out := []NameValue{}
	for _, k := range sortedKeys(h) {
		for _, v := range h[k] {
			out = append(out, NameValue{Name: k, Value: v})
		}
	}
	return out
}

// FromExchange makes a HAR entry of a captured (already redacted)
// exchange. maxBody > 0 cuts the body and says so in the entry's comment.
func FromExchange(x *reqlog.Exchange, maxBody int64) Entry {
	e := Entry{StartedDateTime: x.Start.Format(time.RFC3339Nano), Error: x.Err}
	e.Timings = Timings{Blocked: ms(x.Timings.Blocked), DNS: ms(x.Timings.DNS), Connect: ms(x.Timings.Connect), SSL: ms(x.Timings.SSL),
		Send: ms(x.Timings.Send), Wait: ms(x.Timings.Wait), Receive: ms(x.Timings.Receive)}
	e.Time = ms(x.Timings.Total())
	proto := x.Proto
	if proto == "" {
		proto = "HTTP/1.1"
	}
	e.Request = Request{Method: x.Method, URL: x.URL, HTTPVersion: proto, Cookies: []NameValue{}, Headers: pairs(x.RequestHeader),
		QueryString: []NameValue{}, HeadersSize: -1, BodySize: int64(len(x.RequestBody))}
	if u, err := url.Parse(x.URL); err == nil && u.RawQuery != "" {
		for _, p := range strings.Split(u.RawQuery, "&") {
			k, v, _ := strings.Cut(p, "=")
			uk, err1 := url.QueryUnescape(k)
			uv, err2 := url.QueryUnescape(v)
			if err1 != nil || err2 != nil {
				uk, uv = k, v
			}
			e.Request.QueryString = append(e.Request.QueryString, NameValue{Name: uk, Value: uv})
		}
	}
	if len(x.RequestBody) > 0 {
		e.Request.PostData = &PostData{MimeType: x.RequestHeader.Get("Content-Type"), Text: string(x.RequestBody)}
	}
	e.Response = Response{Status: x.Status, StatusText: x.StatusText, HTTPVersion: proto, Cookies: []NameValue{}, Headers: pairs(x.ResponseHeader),
		RedirectURL: x.ResponseHeader.Get("Location"), HeadersSize: -1, BodySize: x.BodySize}
	e.Response.Content = Content{Size: x.BodySize, MimeType: x.ResponseHeader.Get("Content-Type")}
	if e.Response.Content.MimeType == "" {
		e.Response.Content.MimeType = "x-unknown"
	}
	body := x.Body
	var notes []string
	if maxBody > 0 && int64(len(body)) > maxBody {
		body = body[:maxBody]
		notes = append(notes, "body cut at --record-max-body: "+itoa(len(body))+" of "+itoa(int(x.BodySize))+" bytes kept")
	} else if x.BodyCut && x.Complete {
		notes = append(notes, "body cut: "+itoa(len(body))+" of "+itoa(int(x.BodySize))+" bytes kept")
	}
	if !x.Complete && x.Status != 0 && x.Err == "" {
		notes = append(notes, "the client stopped reading after "+itoa(int(x.BodySize))+" bytes")
	}
	if x.Err != "" {
		notes = append(notes, "failed: "+x.Err)
	}
	e.Comment = strings.Join(notes, "; ")
	if isText(body) {
		e.Response.Content.Text = string(body)
	} else {
		e.Response.Content.Text, e.Response.Content.Encoding = base64.StdEncoding.EncodeToString(body), "base64"
	}
	return e
}

func sortedKeys(h http.Header) []string {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func itoa(n int) string { return strconv.Itoa(n) }

// isText says a body can be kept as HAR text; anything else is base64.
func isText(b []byte) bool { return utf8.Valid(b) }
