// Package reqlog keeps the session's HTTP exchanges: a bounded ring for the
// TUI's request log and its request detail, NDJSON lines for --log, and a
// hook for --record. Exchanges are captured at the transport (Transport)
// and redacted by the session's one redactor (Secrets) before anything is
// kept, so nothing secret or hostile is stored.
package reqlog

import (
	"encoding/json"
	"io"
	"sync"
	"time"

	"github.com/deltascope/deltascope/deltaclient"
	"github.com/deltascope/deltascope/internal/termtext"
)

// Entry is one request, or a note about the session (Method ""). It is
// also the --log line.
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
	// Exchange is the whole exchange for the request detail, its body cut
	// to DetailBody bytes; nil for notes, and once the ring's body budget
	// dropped it.
	Exchange *Exchange `json:"-"`
}

// DetailBody is how much of a body the ring keeps for the request detail.
const DetailBody = 64 << 10

// bodyBudget bounds the bodies the ring holds in all; the oldest go first.
const bodyBudget = 32 << 20

// Log is safe for concurrent use: exchanges are added from the goroutines
// that make them.
type Log struct {
	mu      sync.Mutex
	ring    []Entry
	next    int
	full    bool
	total   int
	bodies  int // bytes of bodies held by the ring
	enc     *json.Encoder
	secrets *Secrets
	hook    func(*Exchange)
	hookMu  sync.Mutex // one hook call at a time
	limit   int64
	// noBodies: the ring keeps no bodies (see DropBodies).
	noBodies bool
}

// New keeps the newest n entries; when out is not nil every entry is also
// written to it as one JSON line. secrets are never written, whatever
// field they turn up in; more are learned as the session runs.
func New(n int, out io.Writer, secrets ...string) *Log {
	l := &Log{ring: make([]Entry, max(n, 1)), secrets: NewSecrets(secrets...), limit: DetailBody}
	if out != nil {
		l.enc = json.NewEncoder(out)
		l.enc.SetEscapeHTML(false)
	}
	return l
}

// Secrets is the log's redactor, for every other writer of the session.
func (l *Log) Secrets() *Secrets { return l.secrets }

// OnExchange makes every completed exchange also go to f (the HAR
// recorder), whole up to maxBody bytes of body (0: whole). Set it before
// the first request; f is called from the goroutine that finished the
// exchange, one call at a time.
func (l *Log) OnExchange(maxBody int64, f func(*Exchange)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.hook, l.limit = f, maxBody
	if maxBody > 0 && maxBody < DetailBody {
		l.limit = DetailBody
	}
}

// DropBodies makes the ring keep no response bodies, for front ends that
// never show the request detail (watch, probe): a baseline's pages would
// otherwise each be captured (DetailBody bytes, grown by appending) and
// the ring hold up to bodyBudget of them, memory the snapshot's records
// could use. A --record hook (OnExchange) still gets every body.
func (l *Log) DropBodies() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.noBodies = true
}

// captureLimit is how much of a body the transport keeps: 0 all of it, -1
// none.
func (l *Log) captureLimit() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.noBodies && l.hook == nil {
		return -1
	}
	return l.limit
}

func (l *Log) dropsBodies() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.noBodies
}

// Note records something the user should know about the session, such as
// how records are identified.
func (l *Log) Note(text string) {
	l.add(Entry{Time: time.Now(), Note: termtext.Sanitize(l.secrets.Text(text))}, nil)
}

// exchange records a finished exchange.
func (l *Log) exchange(x *Exchange) {
	e := Entry{Time: x.Start, Method: x.Method, URL: x.URL, Status: x.Status, Bytes: x.BodySize,
		MS: x.Timings.Total().Milliseconds(), RequestID: termtext.Sanitize(x.RequestID()), Error: x.Err}
	if e.Error == "" && x.NotJSON() {
		e.Error = "the answer is not JSON (Content-Type " + termtext.Sanitize(x.ResponseHeader.Get("Content-Type")) + ")"
	}
	kept := *x
	kept.Body, _ = bodyText(x.Body, DetailBody)
	kept.BodyCut = x.BodyCut || len(kept.Body) < len(x.Body)
	if l.dropsBodies() {
		kept.Body, kept.BodyCut = nil, true
	}
	e.Exchange = &kept
	l.add(e, x)
}

func (l *Log) add(e Entry, x *Exchange) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if old := l.ring[l.next].Exchange; old != nil {
		l.bodies -= len(old.Body)
	}
	l.ring[l.next] = e
	if e.Exchange != nil {
		l.bodies += len(e.Exchange.Body)
	}
	l.next = (l.next + 1) % len(l.ring)
	l.full = l.full || l.next == 0
	l.total++
	l.trim()
	if l.enc != nil {
		l.enc.Encode(e)
	}
	hook := l.hook
	if x == nil || hook == nil {
		return
	}
	// The recorder writes a file: not under mu, which View waits on.
	l.hookMu.Lock()
	l.mu.Unlock()
	defer l.mu.Lock()
	defer l.hookMu.Unlock()
	hook(x)
}

// trim drops the bodies of the oldest entries until the ring holds at
// most bodyBudget bytes of them; their other details stay.
func (l *Log) trim() {
	size := l.size()
	for i := size - 1; i > 0 && l.bodies > bodyBudget; i-- {
		j := (l.next - 1 - i + len(l.ring)) % len(l.ring)
		if x := l.ring[j].Exchange; x != nil && x.Body != nil {
			l.bodies -= len(x.Body)
			dropped := *x
			dropped.Body, dropped.BodyCut = nil, true
			l.ring[j].Exchange = &dropped
		}
	}
}

func (l *Log) size() int {
	if l.full {
		return len(l.ring)
	}
	return l.next
}

// Len is the number of entries kept.
func (l *Log) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.size()
}

// Cap is the number of entries the log keeps at most.
func (l *Log) Cap() int { return len(l.ring) }

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
	size := l.size()
	var out []Entry
	for i := skip; i < size && len(out) < n; i++ {
		j := (l.next - 1 - i + len(l.ring)) % len(l.ring)
		out = append(out, l.ring[j])
	}
	return out
}

// Redact removes credentials from a URL by the rules alone (no known
// secrets): user info, secret query parameters, a token fragment. Delta
// and skip tokens stay: they are what the log is for.
func Redact(raw string) string { return (*Secrets)(nil).URL(raw) }

// Request records what the client reports of one request (its
// OnRequest), without headers or body. Transport captures more and also
// sees token requests: use one or the other, not both.
func (l *Log) Request(info deltaclient.RequestInfo) {
	e := Entry{Time: info.Time, Method: info.Method, URL: l.secrets.URL(info.URL), Status: info.Status, Bytes: info.Bytes,
		MS: info.Duration.Milliseconds(), RequestID: termtext.Sanitize(info.RequestID)}
	if info.Err != nil {
		e.Error = l.secrets.Text(termtext.Sanitize(info.Err.Error()))
	}
	l.add(e, nil)
}
