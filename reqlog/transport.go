package reqlog

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync"
	"time"

	"github.com/deltascope/deltascope/internal/termtext"
)

// Transport returns an http.RoundTripper that sends through base (nil:
// http.DefaultTransport) and records every exchange in the log: each
// attempt of a retried page, each token request (when the token client
// uses it too), each redirect hop. Capturing here, below the client,
// means the log shows what went over the wire, not what the client meant
// to send. Secrets are redacted before anything is kept.
func (l *Log) Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &transport{log: l, base: base}
}

type transport struct {
	log  *Log
	base http.RoundTripper
}

// maxRequestBody bounds the request body kept (token requests are small).
const maxRequestBody = 64 << 10

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	sec := t.log.secrets
	x := &Exchange{Start: time.Now(), Method: req.Method, Proto: req.Proto}
	if a := req.Header.Get("Authorization"); a != "" {
		x.BasicUser = sec.Learn(a)
	}
	x.URL = sec.URL(req.URL.String())
	x.RequestHeader = redactHeader(sec, req.Header)
	form := false
	if req.Body != nil && req.GetBody != nil {
		if rc, err := req.GetBody(); err == nil {
			b, _ := io.ReadAll(io.LimitReader(rc, maxRequestBody))
			rc.Close()
			if form = strings.HasPrefix(req.Header.Get("Content-Type"), "application/x-www-form-urlencoded"); form {
				x.RequestBody = []byte(sec.Form(string(b)))
			} else {
				x.RequestBody = sec.Bytes(b)
			}
		}
	}
	tr := &tracer{start: x.Start}
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), tr.trace()))
	resp, err := t.base.RoundTrip(req)
	tr.mu.Lock()
	x.Timings = tr.timings(time.Now())
	tr.mu.Unlock()
	if err != nil {
		x.Err = sec.Text(termtext.Sanitize(err.Error()))
		t.log.exchange(x)
		return nil, err
	}
	x.Status, x.Proto = resp.StatusCode, resp.Proto
	x.StatusText = http.StatusText(resp.StatusCode)
	if _, text, ok := strings.Cut(resp.Status, " "); ok {
		x.StatusText = text
	}
	x.ResponseHeader = redactHeader(sec, resp.Header)
	limit := t.log.captureLimit()
	if form && limit < 0 {
		// A token response is read all the same: the redactor learns
		// the tokens it carries.
		limit = DetailBody
	}
	c := &capture{rc: resp.Body, x: x, limit: limit, log: t.log, token: form, headers: time.Now()}
	if n := resp.ContentLength; n > 0 && (limit == 0 || 0 < limit && n <= limit) && n < 1<<30 {
		c.buf = make([]byte, 0, n)
	}
	resp.Body = c
	return resp, nil
}

func redactHeader(sec *Secrets, h http.Header) http.Header {
	out := make(http.Header, len(h))
	for k, vs := range h {
		for _, v := range vs {
			out[k] = append(out[k], termtext.Sanitize(sec.Header(k, v)))
		}
	}
	return out
}

// capture reads the body for the client and keeps what the log needs;
// the exchange is logged once, at the end of the body, a read error or
// Close, whichever comes first.
type capture struct {
	rc      io.ReadCloser
	x       *Exchange
	buf     []byte
	limit   int64 // 0: whole; -1: nothing
	log     *Log
	token   bool // a form POST: the answer may be a token response
	headers time.Time
	once    sync.Once
	mu      sync.Mutex
}

func (c *capture) Read(p []byte) (int, error) {
	n, err := c.rc.Read(p)
	c.mu.Lock()
	c.x.BodySize += int64(n)
	keep := n
	if c.limit != 0 {
		keep = int(min(int64(n), max(0, c.limit-int64(len(c.buf)))))
	}
	if keep < n {
		c.x.BodyCut = true
	}
	c.buf = append(c.buf, p[:keep]...)
	c.mu.Unlock()
	if err != nil {
		c.finish(err)
	}
	return n, err
}

func (c *capture) Close() error {
	c.finish(nil)
	return c.rc.Close()
}

func (c *capture) finish(err error) {
	c.once.Do(func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		x := c.x
		x.Timings.Receive = time.Since(c.headers)
		switch {
		case errors.Is(err, io.EOF):
			x.Complete = true
		case err != nil:
			x.Err = c.log.secrets.Text(termtext.Sanitize(err.Error()))
		}
		if !x.Complete {
			x.BodyCut = true
		}
		body := c.buf
		if c.token {
			body = c.log.secrets.TokenResponse(body)
		}
		x.Body = c.log.secrets.Bytes(body)
		c.log.exchange(x)
	})
}

// tracer times the phases of one request for HAR's timings.
type tracer struct {
	mu                                  sync.Mutex
	start                               time.Time
	getConn, dnsStart, dnsDone          time.Time
	connStart, connDone, tlsStart, tlsD time.Time
	gotConn, wrote, firstByte           time.Time
}

func (t *tracer) trace() *httptrace.ClientTrace {
	at := func(p *time.Time) {
		t.mu.Lock()
		if p.IsZero() {
			*p = time.Now()
		}
		t.mu.Unlock()
	}
	return &httptrace.ClientTrace{
		GetConn:              func(string) { at(&t.getConn) },
		DNSStart:             func(httptrace.DNSStartInfo) { at(&t.dnsStart) },
		DNSDone:              func(httptrace.DNSDoneInfo) { at(&t.dnsDone) },
		ConnectStart:         func(string, string) { at(&t.connStart) },
		ConnectDone:          func(string, string, error) { at(&t.connDone) },
		TLSHandshakeStart:    func() { at(&t.tlsStart) },
		TLSHandshakeDone:     func(tls.ConnectionState, error) { at(&t.tlsD) },
		GotConn:              func(httptrace.GotConnInfo) { at(&t.gotConn) },
		WroteRequest:         func(httptrace.WroteRequestInfo) { at(&t.wrote) },
		GotFirstResponseByte: func() { at(&t.firstByte) },
	}
}

// timings splits start..end (the headers' arrival) into HAR's phases;
// phases that did not happen are -1.
func (t *tracer) timings(end time.Time) Timings {
	span := func(a, b time.Time) time.Duration {
		if a.IsZero() || b.IsZero() {
			return -1
		}
		return max(0, b.Sub(a))
	}
	tm := Timings{Blocked: -1, DNS: span(t.dnsStart, t.dnsDone), Connect: span(t.connStart, t.connDone), SSL: span(t.tlsStart, t.tlsD)}
	if !t.gotConn.IsZero() {
		tm.Blocked = max(0, t.gotConn.Sub(t.start)-max(0, tm.DNS)-max(0, tm.Connect))
	}
	from := t.gotConn
	if from.IsZero() {
		from = t.start
	}
	wrote := t.wrote
	if wrote.IsZero() {
		wrote = end
	}
	tm.Send = max(0, wrote.Sub(from))
	tm.Wait = max(0, end.Sub(wrote))
	return tm
}

// bodyText is the body kept for the request detail: whole up to limit.
func bodyText(b []byte, limit int) ([]byte, bool) {
	if len(b) <= limit {
		return b, false
	}
	return bytes.Clone(b[:limit]), true
}
