package reqlog

import (
	"bytes"
	"mime"
	"net/http"
	"strings"
	"time"
)

// Exchange is one HTTP request and its answer as it went over the wire,
// already redacted: what the request detail shows, the curl copy builds
// on and --record writes.
type Exchange struct {
	Start          time.Time
	Method         string
	URL            string // redacted
	Proto          string // HTTP/1.1
	RequestHeader  http.Header
	RequestBody    []byte // redacted (token requests)
	Status         int    // 0 when no answer came
	StatusText     string
	ResponseHeader http.Header
	// Body is the response body as the client received it (decompressed),
	// redacted; at most the capture limit. BodySize is how many bytes
	// arrived in all.
	Body     []byte
	BodySize int64
	// BodyCut says Body holds only the first bytes: the body was longer
	// than the capture limit, or the client stopped reading (Complete).
	BodyCut  bool
	Complete bool // the body was read to its end
	Timings  Timings
	Err      string
	// BasicUser is the basic-auth user; the curl copy names it.
	BasicUser string
}

// Timings split an exchange the way HAR does; -1 means not applicable
// (a reused connection has no DNS or connect time).
type Timings struct {
	Blocked, DNS, Connect, SSL time.Duration
	Send, Wait, Receive        time.Duration
}

// Total is the whole exchange, from the first byte sent to the last read.
func (t Timings) Total() time.Duration {
	var d time.Duration
	for _, p := range []time.Duration{t.Blocked, t.DNS, t.Connect, t.Send, t.Wait, t.Receive} {
		if p > 0 {
			d += p
		}
	}
	return d
}

// RequestID is the service's id for the request (request-id,
// x-ms-request-id, ...), the first one present.
func (x *Exchange) RequestID() string {
	for _, h := range requestIDHeaders {
		if v := x.ResponseHeader.Get(h); v != "" {
			return v
		}
	}
	return ""
}

// requestIDHeaders are where real services put the id support asks for.
var requestIDHeaders = []string{"request-id", "x-ms-request-id", "ms-correlation-x", "x-correlation-id", "x-request-id", "client-request-id"}

// NotJSON says a successful answer was not JSON (a sign-in page, a proxy's
// error page): the client could not use it, so it counts as an error.
func (x *Exchange) NotJSON() bool {
	if x.Status < 200 || x.Status > 299 || x.Status == http.StatusNoContent || x.BodySize == 0 {
		return false
	}
	// $metadata may come as XML whatever was asked; otherwise only a
	// request for JSON alone expects JSON back.
	if path, _, _ := strings.Cut(x.URL, "?"); strings.HasSuffix(path, "/$metadata") {
		return false
	}
	if acc := strings.ToLower(x.RequestHeader.Get("Accept")); !strings.Contains(acc, "json") || strings.Contains(acc, "xml") {
		return false
	}
	if ct := x.ResponseHeader.Get("Content-Type"); ct != "" {
		mt, _, _ := mime.ParseMediaType(ct)
		if mt == "application/json" || strings.HasSuffix(mt, "+json") {
			return false
		}
		if mt != "" && mt != "text/plain" && mt != "application/octet-stream" {
			return true
		}
	}
	b := bytes.TrimLeft(x.Body, " \t\r\n\ufeff")
	return len(b) > 0 && b[0] != '{' && b[0] != '['
}
