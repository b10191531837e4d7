// Package reqlog keeps the session's HTTP requests: a bounded ring for the
// TUI's log pane and, optionally, NDJSON lines for --log. URLs are
// redacted and text sanitised on the way in, so nothing secret or hostile
// is kept.
package reqlog

import (
	"encoding/json"
	"io"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/deltascope/deltascope/deltaclient"
	"github.com/deltascope/deltascope/internal/termtext"
)

// Entry is one request, or a note about the session (Method "").
type Entry struct {
	Time      time.Time `json:"time"`
	Method    string    `json:"method,omitempty"`
	URL       string    `json:"url,omitempty"`
	Status    int       `json:"status,omitempty"`
	Bytes     int64     `json:"bytes,omitempty"`
	MS        int64     `json:"ms"`
	RequestID string    `json:"requestId,omitempty"`
	Error     string    `json:"error,omitempty"`
	Note      string    `json:"note,omitempty"`
}

// Log is safe for concurrent use: requests are added from the goroutines
// that make them.
type Log struct {
	mu      sync.Mutex
	ring    []Entry
	next    int
	full    bool
	total   int
	out     io.Writer
	enc     *json.Encoder
	secrets []string
}

// New keeps the last n entries; when out is not nil every entry is also
// written to it as one JSON line. secrets are never written, whatever
// field they turn up in.
func New(n int, out io.Writer, secrets ...string) *Log {
	l := &Log{ring: make([]Entry, max(n, 1)), out: out}
	for _, s := range secrets {
		if len(s) >= 4 {
			l.secrets = append(l.secrets, s)
		}
	}
	if out != nil {
		l.enc = json.NewEncoder(out)
	}
	return l
}

// Request records one request; use it as deltaclient.Client.OnRequest.
func (l *Log) Request(info deltaclient.RequestInfo) {
	e := Entry{Time: info.Time, Method: info.Method, URL: Redact(info.URL), Status: info.Status, Bytes: info.Bytes,
		MS: info.Duration.Milliseconds(), RequestID: termtext.Sanitize(info.RequestID)}
	if info.Err != nil {
		e.Error = termtext.Sanitize(info.Err.Error())
	}
	l.add(e)
}

// Note records something the user should know about the session, such as
// how records are identified.
func (l *Log) Note(text string) {
	l.add(Entry{Time: time.Now(), Note: termtext.Sanitize(text)})
}

func (l *Log) add(e Entry) {
	for _, s := range l.secrets {
		e.URL = strings.ReplaceAll(e.URL, s, "[redacted]")
		e.Error = strings.ReplaceAll(e.Error, s, "[redacted]")
		e.Note = strings.ReplaceAll(e.Note, s, "[redacted]")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ring[l.next] = e
	l.next = (l.next + 1) % len(l.ring)
	l.full = l.full || l.next == 0
	l.total++
	if l.enc != nil {
		l.enc.Encode(e)
	}
}

// Len is the number of entries kept.
func (l *Log) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.full {
		return len(l.ring)
	}
	return l.next
}

// Total is the number of entries ever added.
func (l *Log) Total() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total
}

// Newest returns up to n entries starting skip entries back from the
// newest, newest first.
func (l *Log) Newest(skip, n int) []Entry {
	l.mu.Lock()
	defer l.mu.Unlock()
	size := l.next
	if l.full {
		size = len(l.ring)
	}
	var out []Entry
	for i := skip; i < size && len(out) < n; i++ {
		j := (l.next - 1 - i + len(l.ring)) % len(l.ring)
		out = append(out, l.ring[j])
	}
	return out
}

// secretParams are query parameters that carry credentials in real
// services' URLs (SAS signatures, OAuth codes, API keys).
var secretParams = map[string]bool{"access_token": true, "client_secret": true, "password": true, "sig": true, "signature": true, "code": true, "api-key": true, "apikey": true, "key": true}

// Redact removes credentials from a URL: user info and secret query
// parameters. Delta and skip tokens stay: they are what the log is for.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return termtext.Sanitize(raw)
	}
	if u.User != nil {
		u.User = url.User("[redacted]")
	}
	if u.RawQuery != "" {
		parts := strings.Split(u.RawQuery, "&")
		for i, p := range parts {
			k, _, _ := strings.Cut(p, "=")
			if uk, err := url.QueryUnescape(k); err == nil && secretParams[strings.ToLower(uk)] {
				parts[i] = k + "=[redacted]"
			}
		}
		u.RawQuery = strings.Join(parts, "&")
	}
	return termtext.Sanitize(u.String())
}
