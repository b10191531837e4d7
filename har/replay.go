package har

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/deltascope/deltascope/reqlog"
)

// Replay serves a recorded session as a service. A request is matched by
// method, path and query (the query as the recording keeps it: credentials
// redacted, OData cursors intact); repeated requests get their recorded
// answers in order, the last one repeating. Every origin of the recording
// is rewritten to the replay's own in bodies, nextLinks, deltaLinks and
// Location headers. A delta request past the end of the recording (a
// deltaLink no recorded round asked for) gets an empty delta: the last
// recorded answer of that path that carried a deltaLink, with no changes
// in it. Anything else unknown is a 404 that says so.
type Replay struct {
	mu      sync.Mutex
	answers map[string][]*Entry // by key
	served  map[string]int
	deltas  map[string]*Entry // last delta answer by method and path
	origins []string
	// Session is what the recorded run was pointed at, when the file says.
	Session *Session
	// Entries is how many answers the replay holds.
	Entries int
}

// NewReplay indexes the entries of a HAR log.
func NewReplay(l *Log) (*Replay, error) {
	r := &Replay{answers: map[string][]*Entry{}, served: map[string]int{}, deltas: map[string]*Entry{}, Session: l.Session}
	seen := map[string]bool{}
	for i := range l.Entries {
		e := &l.Entries[i]
		u, err := url.Parse(e.Request.URL)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("entry %d: the URL %q is not absolute", i+1, e.Request.URL)
		}
		if o := u.Scheme + "://" + u.Host; !seen[o] {
			seen[o] = true
			r.origins = append(r.origins, o)
		}
		k := key(e.Request.Method, u)
		r.answers[k] = append(r.answers[k], e)
		// The last answer of a path that carried a deltaLink (a delta
		// round, or a baseline's last page) stands for rounds past the end.
		if e.Response.Status == http.StatusOK && e.Error == "" {
			if body, err := e.Response.Content.Body(); err == nil && bytes.Contains(body, []byte("eltaLink")) || hasDeltaCursor(u) {
				r.deltas[e.Request.Method+" "+u.Path] = e
			}
		}
		r.Entries++
	}
	return r, nil
}

// key matches requests: method, path, and the query after the same
// redaction the recording went through.
func key(method string, u *url.URL) string {
	k := method + " " + u.Path
	if u.RawQuery != "" {
		r, _ := url.Parse(reqlog.Redact("http://h/?" + u.RawQuery))
		if r != nil {
			k += "?" + r.RawQuery
		} else {
			k += "?" + u.RawQuery
		}
	}
	return k
}

func hasDeltaCursor(u *url.URL) bool {
	for _, p := range strings.Split(u.RawQuery, "&") {
		name, _, _ := strings.Cut(p, "=")
		switch strings.ToLower(name) {
		case "$deltatoken", "deltatoken", "%24deltatoken":
			return true
		}
	}
	return false
}

// Origins are the recorded origins that the replay stands in for.
func (r *Replay) Origins() []string { return r.origins }

// Rewrite maps a URL of the recording to the replay at base
// (http://127.0.0.1:PORT).
func (r *Replay) Rewrite(s, base string) string {
	for _, o := range r.origins {
		s = strings.ReplaceAll(s, o, base)
	}
	return s
}

func (r *Replay) next(method string, u *url.URL) (e *Entry, empty bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := key(method, u)
	list := r.answers[k]
	if len(list) == 0 {
		if hasDeltaCursor(u) {
			if d := r.deltas[method+" "+u.Path]; d != nil {
				return d, true
			}
		}
		return nil, false
	}
	i := r.served[k]
	r.served[k]++
	return list[min(i, len(list)-1)], false
}

// hopHeaders are not replayed: the body is served decoded and whole, and
// net/http frames it anew.
var hopHeaders = map[string]bool{"content-length": true, "content-encoding": true, "transfer-encoding": true, "connection": true, "keep-alive": true, "date": true}

func (r *Replay) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	e, empty := r.next(req.Method, req.URL)
	if e == nil {
		http.Error(w, fmt.Sprintf("deltascope replay: no recorded answer for %s %s (the recording has %d exchanges; a request must match method, path and query)",
			req.Method, req.URL.RequestURI(), r.Entries), http.StatusNotFound)
		return
	}
	base := "http://" + req.Host
	if e.Response.Status == 0 {
		// No answer was recorded (the connection failed): fail the same way.
		hangUp(w, false, true)
		return
	}
	body, err := e.Response.Content.Body()
	if err != nil {
		http.Error(w, "deltascope replay: the recorded body is not valid base64", http.StatusInternalServerError)
		return
	}
	if empty {
		body = emptyDelta(body)
	}
	body = []byte(r.Rewrite(string(body), base))
	h := w.Header()
	for _, nv := range e.Response.Headers {
		if strings.HasPrefix(nv.Name, ":") || hopHeaders[strings.ToLower(nv.Name)] {
			continue
		}
		h.Add(nv.Name, r.Rewrite(nv.Value, base))
	}
	if empty {
		h.Set("X-Deltascope-Replay", "past the recording: an empty delta")
	}
	if e.Error != "" && !empty {
		// The body was cut on the wire: promise more than is sent, then
		// hang up, so the client sees the same truncated answer.
		h.Set("Content-Length", strconv.Itoa(len(body)+1))
		w.WriteHeader(e.Response.Status)
		w.Write(body)
		hangUp(w, true, strings.Contains(e.Error, "reset"))
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(e.Response.Status)
	w.Write(body)
}

// hangUp closes the connection, after sending what was written when flush;
// with reset it is a TCP reset (RST), as a dropped link looks, not a close.
func hangUp(w http.ResponseWriter, flush, reset bool) {
	if hj, ok := w.(http.Hijacker); ok {
		if f, ok := w.(http.Flusher); ok && flush {
			f.Flush()
		}
		if c, _, err := hj.Hijack(); err == nil {
			if tc, ok := c.(*net.TCPConn); ok && reset {
				tc.SetLinger(0)
			}
			c.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// emptyDelta is a delta page with its changes taken out: the annotations
// (context, deltaLink) stay, value is empty, there is no next page.
func emptyDelta(body []byte) []byte {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return body
	}
	m["value"] = json.RawMessage("[]")
	delete(m, "@odata.nextLink")
	delete(m, "@nextLink")
	delete(m, "odata.nextLink")
	out, err := json.Marshal(m)
	if err != nil {
		return body
	}
	return out
}
