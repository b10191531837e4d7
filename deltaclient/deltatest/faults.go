package deltatest

import (
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Faults makes the service misbehave the way real ones do. Each page
// request draws once: with probability Rate, one of Kinds happens.
//
//	429, 503   throttled, with Retry-After: RetryAfter seconds
//	reset      the connection closes before any answer
//	truncate   the body stops half way
//	slow       the page is delayed by Slow
//	410        a delta link answers 410 Gone (with Location)
//	dup        a delta repeats one of its entries on a later page
//	hostile    adds a "contacts" set whose values carry terminal escapes
type Faults struct {
	Rate       float64
	Kinds      []string
	RetryAfter int           // seconds to ask for in Retry-After
	Slow       time.Duration // how long a slow page takes; 0 means 2s
}

// ParseFaults reads the demo's --faults flag:
// "rate=0.1,kinds=429,503,reset,retry-after=2,slow=500ms". Retry-After
// defaults to 1 second.
func ParseFaults(s string) (Faults, error) {
	f := Faults{RetryAfter: 1}
	if strings.TrimSpace(s) == "" {
		return f, nil
	}
	known := map[string]bool{"429": true, "503": true, "reset": true, "truncate": true, "slow": true, "410": true, "dup": true, "hostile": true}
	inKinds := false
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		k, v, hasEq := strings.Cut(part, "=")
		switch {
		case hasEq && k == "rate":
			r, err := strconv.ParseFloat(v, 64)
			if err != nil || r < 0 || r > 1 {
				return f, fmt.Errorf("faults: rate must be a number from 0 to 1, not %q", v)
			}
			f.Rate, inKinds = r, false
		case hasEq && k == "retry-after":
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return f, fmt.Errorf("faults: retry-after must be whole seconds, not %q", v)
			}
			f.RetryAfter, inKinds = n, false
		case hasEq && k == "slow":
			d, err := time.ParseDuration(v)
			if err != nil || d < 0 {
				return f, fmt.Errorf("faults: slow must be a duration such as 500ms, not %q", v)
			}
			f.Slow, inKinds = d, false
		case hasEq && k == "kinds":
			inKinds = true
			part = v
			fallthrough
		case !hasEq && inKinds:
			if !known[part] {
				return f, fmt.Errorf("faults: unknown kind %q (known: 429, 503, reset, truncate, slow, 410, dup, hostile)", part)
			}
			f.Kinds = append(f.Kinds, part)
		default:
			return f, fmt.Errorf("faults: expected rate=N or kinds=a,b,c, not %q", part)
		}
	}
	if f.Rate > 0 && len(f.Kinds) == 0 {
		return f, fmt.Errorf("faults: rate given but no kinds")
	}
	return f, nil
}

func (f Faults) has(kind string) bool {
	for _, k := range f.Kinds {
		if k == kind {
			return true
		}
	}
	return false
}

func (f Faults) hostile() bool { return f.has("hostile") }

// pageFaults are the kinds drawn for every page.
var pageFaults = []string{"429", "503", "reset", "truncate", "slow"}

// SetFaults changes the faults from now on (a test turns them off before
// its final check).
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.Faults = f
}

func (s *Server) faults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.opts.Faults
}

// roll draws whether a fault of this kind happens now, and counts it.
func (s *Server) roll(kind string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rollLocked(kind)
}

// InjectFault makes the page request that comes after skip more page
// requests fail with kind (one of the page kinds: 429, 503, reset,
// truncate, slow), whatever the random rate says. For tests.
func (s *Server) InjectFault(kind string, skip int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.injected = append(s.injected, injected{kind: kind, at: s.stats.Pages + skip})
}

type injected struct {
	kind string
	at   int // the value of stats.Pages when it fires
}

// takeInjected returns the kind injected for page request n, if any.
func (s *Server) takeInjected(n int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, in := range s.injected {
		if in.at == n {
			s.injected = append(s.injected[:i], s.injected[i+1:]...)
			s.stats.Faults[in.kind]++
			return in.kind
		}
	}
	return ""
}

// writeBody sends a page made of parts, unless a page fault happens instead.
func (s *Server) writeBody(w http.ResponseWriter, r *http.Request, n int, parts ...[]byte) {
	size := 0
	for _, p := range parts {
		size += len(p)
	}
	body := parts[0]
	forced := s.takeInjected(n)
	for _, kind := range pageFaults {
		if kind != forced && !s.roll(kind) {
			continue
		}
		switch kind {
		case "429", "503":
			ra := s.faults().RetryAfter
			w.Header().Del("Preference-Applied")
			w.Header().Set("Retry-After", strconv.Itoa(ra))
			status, _ := strconv.Atoi(kind)
			writeError(w, status, "TooManyRequests", "The request was throttled by the demo service's fault injection.")
			return
		case "reset":
			resetMidBody(w, body, size)
			return
		case "truncate":
			w.Header().Set("Content-Length", strconv.Itoa(size))
			w.WriteHeader(http.StatusOK)
			w.Write(body[:len(body)/2])
			if fl, ok := w.(http.Flusher); ok {
				fl.Flush()
			}
			panic(http.ErrAbortHandler)
		case "slow":
			slow := s.faults().Slow
			if slow <= 0 {
				slow = 2 * time.Second
			}
			select {
			case <-time.After(slow):
			case <-s.stop:
			}
		}
	}
	s.send(w, r, size, parts)
}

// resetMidBody starts a 200 answer, sends a little of the body, then resets
// the TCP connection (RST, not FIN), as a dropped network link looks.
func resetMidBody(w http.ResponseWriter, body []byte, size int) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, buf, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", size)
	buf.Write(body[:min(len(body)/4, 512)])
	buf.Flush()
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	conn.Close()
}

// duplicate repeats an entry later in the delta, as Graph may. Applying the
// delta in order must still give the right state: the copy is the same
// version of the record, so it is a no-op for a correct client.
func (s *Server) duplicate(items [][]byte) [][]byte {
	if len(items) == 0 || !s.rollLocked("dup") {
		return items
	}
	i := s.faultRng.IntN(len(items))
	// Repeat it right after itself; the later state stays the latest.
	out := make([][]byte, 0, len(items)+1)
	out = append(out, items[:i+1]...)
	out = append(out, items[i])
	return append(out, items[i+1:]...)
}

func (s *Server) rollLocked(kind string) bool {
	f := s.opts.Faults
	if f.Rate <= 0 || !f.has(kind) {
		return false
	}
	if s.faultRng.Float64() >= f.Rate/float64(len(f.Kinds)) {
		return false
	}
	s.stats.Faults[kind]++
	return true
}

var hostileValues = []string{
	"Normal Name",
	"\x1b[31mRED\x1b[0m Imports",
	"Title \x1b]0;pwned\x07Bar",
	"Carriage\rReturn Ltd.",
	"Back\bspace\b\b Co.",
	"\u202eevil.exe\u202c Traders",
	"Zero\u200dWidth\u200bJoin",
	"OSC 52 \x1b]52;c;aGVsbG8=\x07 clipboard",
	"\u009b31mC1 CSI",
	"Bell\a Ringers",
	"DCS \x1bPq#0;2;0;0;0\x1b\\ sixel",
	"Tab\tand\nnewline",
}

func genHostile(g *gen, id string, m *members) {
	n := g.n
	m.str("id", id)
	m.str("number", fmt.Sprintf("CT%06d", n*10))
	m.str("displayName", hostileValues[n%len(hostileValues)])
	m.str("companyName", hostileValues[(n+3)%len(hostileValues)])
	m.str("email", "contact"+strconv.Itoa(n)+"@example.com")
}

func mutateHostile(s *Server, r *record) []field {
	return []field{f("displayName", hostileValues[s.rng.IntN(len(hostileValues))])}
}
