// Package deltaclient speaks the OData delta protocol over HTTP: baselines
// with Prefer: odata.track-changes, paging, delta rounds from a deltaLink
// taken byte for byte, and typed errors for expired links and entity sets
// that do not support deltas. It keeps no snapshot and draws nothing.
package deltaclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Client fetches baselines and delta rounds. Its zero value works; set
// fields before first use and do not change them while it is in use.
type Client struct {
	// HTTP is the transport; nil means a client with no overall timeout
	// (each request is bounded by RequestTimeout instead).
	HTTP *http.Client
	// Header is added to every request (--header), only to the origin of
	// the URL a baseline or round started from.
	Header http.Header
	// Credentials authenticate requests to the starting origin only.
	Credentials Credentials
	// MaxPageSize asks for odata.maxpagesize=N when > 0.
	MaxPageSize int
	// RequestTimeout bounds one page, headers and body; 0 means 2 minutes.
	RequestTimeout time.Duration
	// Identity says how records are identified.
	Identity Identity
	// MaxPages stops a runaway nextLink chain; 0 means 100000.
	MaxPages int
	// MaxBody bounds one response body; 0 means 256 MiB.
	MaxBody int64
	// AllowCrossOrigin follows next and delta links to another origin,
	// without credentials or extra headers. When false they are refused.
	AllowCrossOrigin bool
	// Retry governs retries of throttled and failed pages.
	Retry RetryPolicy
	// OnRequest, when set, is told about every HTTP request made.
	OnRequest func(RequestInfo)
}

// RequestInfo describes one HTTP request for the request log.
type RequestInfo struct {
	Time      time.Time
	Method    string
	URL       string
	Status    int // 0 when no answer came
	Bytes     int64
	Duration  time.Duration
	RequestID string
	Err       error
}

// Progress is reported after every page of a baseline or round.
type Progress struct {
	Pages   int
	Records int   // records and removals so far
	Bytes   int64 // body bytes so far
	Count   int64 // @odata.count from the first page, -1 when not given
	Retry   *RetryInfo
	// TrackingApplied: the first page carried Preference-Applied:
	// odata.track-changes.
	TrackingApplied bool
}

// RetryInfo says a page failed and will be tried again.
type RetryInfo struct {
	Attempt int // the attempt that failed, from 1
	Max     int
	Wait    time.Duration
	Err     error
}

// Result is a complete baseline or delta round: every page arrived.
type Result struct {
	Entries   []Entry
	DeltaLink string // absolute; the link for the next round
	Pages     int
	Links     int // $link / $deletedLink rows skipped
	Bytes     int64
	// TrackingApplied is true when the first page of a baseline carried
	// Preference-Applied: odata.track-changes.
	TrackingApplied bool
}

// Baseline fetches the whole collection at url with change tracking asked
// for, following every nextLink; the deltaLink comes from the last page.
// A collection without a deltaLink is an *UnsupportedError.
func (c *Client) Baseline(ctx context.Context, url string, progress func(Progress)) (*Result, error) {
	return c.run(ctx, url, true, progress, nil)
}

// BaselinePages is Baseline handing each page's entries to page as it
// arrives, in order, instead of collecting them in the Result: the caller
// builds its snapshot while the next pages are still decoding. On error
// what page received is incomplete and must be discarded.
func (c *Client) BaselinePages(ctx context.Context, url string, progress func(Progress), page func([]Entry)) (*Result, error) {
	return c.run(ctx, url, true, progress, page)
}

// Delta fetches one round from deltaLink, used exactly as given, following
// nextLinks; the result carries the new deltaLink from the last page.
func (c *Client) Delta(ctx context.Context, deltaLink string, progress func(Progress)) (*Result, error) {
	return c.run(ctx, deltaLink, false, progress, nil)
}

func (c *Client) run(ctx context.Context, start string, baseline bool, progress func(Progress), each func([]Entry)) (*Result, error) {
	origin, err := originOf(start)
	if err != nil {
		return nil, err
	}
	// Progress comes from this goroutine and from the ones fetching pages;
	// callers see one call at a time.
	var mu sync.Mutex
	report := func(p Progress) {
		if progress != nil {
			mu.Lock()
			progress(p)
			mu.Unlock()
		}
	}
	res := &Result{}
	count := int64(-1)
	records := 0
	maxPages := c.MaxPages
	if maxPages <= 0 {
		maxPages = 100000
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops any page still being fetched ahead
	// last is the progress so far, for retries reported from the page
	// goroutines.
	var last Progress
	pl := &pipeline{c: c, ctx: ctx, origin: origin, slots: make(chan struct{}, 2), onRetry: func(r *RetryInfo) {
		mu.Lock()
		p := last
		mu.Unlock()
		p.Retry = r
		report(p)
	}}
	job := pl.start(start, baseline, maxPages-1)
	for {
		if res.Pages >= maxPages {
			return nil, fmt.Errorf("%w: stopped after %d pages without a deltaLink (raise --max-pages if the set is really this large)", errPageLimit, res.Pages)
		}
		r := <-job.done
		if r.slot {
			<-pl.slots
		}
		res.Bytes += r.n
		if r.err != nil {
			if ct := r.contentType; errors.Is(r.err, ErrNotJSON) && ct != "" {
				r.err = fmt.Errorf("%w; Content-Type %s (a sign-in or proxy page? check --url and credentials)", r.err, ct)
			}
			return nil, fmt.Errorf("page %d: %w", res.Pages+1, r.err)
		}
		p := r.page
		if res.Pages == 0 {
			res.TrackingApplied = r.applied
			count = p.count
		}
		res.Pages++
		res.Links += p.links
		records += len(p.entries)
		if each != nil {
			each(p.entries)
		} else {
			if res.Entries == nil && p.count > 0 && p.count < 1<<24 {
				res.Entries = make([]Entry, 0, p.count)
			}
			res.Entries = append(res.Entries, p.entries...)
		}
		mu.Lock()
		last = Progress{Pages: res.Pages, Records: records, Bytes: res.Bytes, Count: count, TrackingApplied: res.TrackingApplied}
		mu.Unlock()
		report(last)
		if p.nextLink == "" {
			// Only the last page's deltaLink counts: one on a page that
			// also has a nextLink is ignored.
			if p.deltaLink == "" {
				if baseline {
					return nil, &UnsupportedError{NoDeltaLink: true}
				}
				return nil, fmt.Errorf("page %d of the round has neither a nextLink nor a new deltaLink; the previous link is kept", res.Pages)
			}
			if res.DeltaLink, err = resolve(job.link, p.deltaLink); err != nil {
				return nil, fmt.Errorf("page %d: the deltaLink %q is not a URL: %w", res.Pages, p.deltaLink, err)
			}
			if err := c.checkOrigin(origin, res.DeltaLink, "deltaLink"); err != nil {
				return nil, err
			}
			return res, nil
		}
		next, err := resolve(job.link, p.nextLink)
		if err != nil {
			return nil, fmt.Errorf("page %d: the nextLink %q is not a URL: %w", res.Pages, p.nextLink, err)
		}
		if next == job.link {
			return nil, fmt.Errorf("page %d: the nextLink points at the page itself (a paging loop on the server)", res.Pages)
		}
		if err := c.checkOrigin(origin, next, "nextLink"); err != nil {
			return nil, err
		}
		ahead := job.next.Load()
		if ahead == nil || ahead.link != next {
			// The guess was wrong (or there was none): drop it, fetch
			// the real next page.
			if ahead != nil {
				pl.drop(ahead)
			}
			ahead = pl.start(next, false, maxPages-res.Pages-1)
		}
		job = ahead
	}
}

// pipeline fetches and decodes pages in goroutines, two at a time: when a
// page's body has arrived, the next page (its nextLink guessed from the
// body's tail) is fetched while this one decodes, so download and decoding
// overlap and both cores decode. The loop in run takes results in order
// and checks each guess against the decoded page.
type pipeline struct {
	c       *Client
	ctx     context.Context
	origin  string
	slots   chan struct{} // pages fetched or decoded but not yet taken
	onRetry func(*RetryInfo)
}

type pageJob struct {
	link   string
	done   chan pageResult
	cancel context.CancelFunc
	next   atomic.Pointer[pageJob] // the page after, started on a guess
}

type pageResult struct {
	fetched
	page page
	slot bool // the job holds a slot, released by whoever takes the result
}

// drop cancels a page fetched on a wrong guess, and the ones it started.
func (pl *pipeline) drop(j *pageJob) {
	j.cancel()
	go func() {
		if r := <-j.done; r.slot {
			<-pl.slots
		}
		if n := j.next.Load(); n != nil {
			pl.drop(n)
		}
	}()
}

// start fetches and decodes link in a goroutine. budget is how many more
// pages may be started ahead of it.
func (pl *pipeline) start(link string, track bool, budget int) *pageJob {
	return pl.startIn(pl.ctx, link, track, budget)
}

// startIn starts a job under parent: dropping a job cancels the ones it
// started too.
func (pl *pipeline) startIn(parent context.Context, link string, track bool, budget int) *pageJob {
	ctx, cancel := context.WithCancel(parent)
	j := &pageJob{link: link, done: make(chan pageResult, 1), cancel: cancel}
	go func() {
		select {
		case pl.slots <- struct{}{}:
		case <-ctx.Done():
			j.done <- pageResult{fetched: fetched{err: ctx.Err()}}
			return
		}
		f := pl.c.fetchWithRetry(ctx, link, pl.origin, track, pl.onRetry)
		if f.err != nil {
			j.done <- pageResult{fetched: f, slot: true}
			return
		}
		if guess := guessNextLink(f.body); guess != "" && budget > 0 {
			if next, err := resolve(link, guess); err == nil && next != link && pl.c.checkOrigin(pl.origin, next, "nextLink") == nil {
				j.next.Store(pl.startIn(ctx, next, false, budget-1))
			}
		}
		p, err := decodePage(f.body, pl.c.Identity)
		f.err = err
		j.done <- pageResult{fetched: f, page: p, slot: true}
	}()
	return j
}

var errPageLimit = errors.New("page limit reached")

// ErrCrossOrigin is wrapped by the error for a next or delta link that
// points at another origin than the one the credentials were given for.
var ErrCrossOrigin = errors.New("link to another origin refused")

func (c *Client) checkOrigin(origin, link, what string) error {
	o, err := originOf(link)
	if err != nil {
		return err
	}
	if o != origin && !c.AllowCrossOrigin {
		return fmt.Errorf("%w: the %s goes to %s, not %s; credentials are only sent to the service you named (use --allow-cross-origin to follow it without them)", ErrCrossOrigin, what, o, origin)
	}
	return nil
}

// fetched is one page's body, read whole.
type fetched struct {
	body        []byte
	applied     bool
	contentType string
	n           int64
	err         error
}

// guessNextLink finds a top-level nextLink by looking at the page's last
// bytes (Business Central and the demo put it after the value array) or
// first bytes (Graph puts it before). It is only a hint for fetching
// ahead: the decoded page decides.
func guessNextLink(body []byte) string {
	for _, part := range [][]byte{body[max(0, len(body)-4096):], body[:min(len(body), 4096)]} {
		for _, key := range []string{`"@odata.nextLink":"`, `"@nextLink":"`} {
			i := bytes.LastIndex(part, []byte(key))
			if i < 0 {
				continue
			}
			rest := part[i+len(key):]
			end := bytes.IndexByte(rest, '"')
			if end < 0 || bytes.IndexByte(rest[:end], '\\') >= 0 {
				return ""
			}
			return string(rest[:end])
		}
	}
	return ""
}

func (c *Client) fetchWithRetry(ctx context.Context, link, origin string, track bool, onRetry func(*RetryInfo)) fetched {
	pol := c.Retry.withDefaults()
	var total int64
	for attempt := 1; ; attempt++ {
		f := c.fetch(ctx, link, origin, track)
		total += f.n
		f.n = total
		if f.err == nil {
			return f
		}
		wait, retryable := pol.delay(f.err, attempt)
		if !retryable || attempt >= pol.Tries || ctx.Err() != nil {
			if retryable && attempt > 1 {
				f.err = fmt.Errorf("gave up after %d tries: %w", attempt, f.err)
			}
			return f
		}
		onRetry(&RetryInfo{Attempt: attempt, Max: pol.Tries, Wait: wait, Err: f.err})
		if err := pol.Sleep(ctx, wait); err != nil {
			f.err = err
			return f
		}
	}
}

// fetch GETs one page and reads its body whole, bounded by MaxBody.
func (c *Client) fetch(ctx context.Context, link, origin string, track bool) (f fetched) {
	var prefer []string
	if track {
		prefer = append(prefer, "odata.track-changes")
	}
	if c.MaxPageSize > 0 {
		prefer = append(prefer, "odata.maxpagesize="+strconv.Itoa(c.MaxPageSize))
	}
	f.n, f.err = c.do(ctx, link, origin, prefer, func(resp *http.Response, body io.Reader) error {
		f.applied = strings.Contains(resp.Header.Get("Preference-Applied"), "track-changes")
		f.contentType = resp.Header.Get("Content-Type")
		var err error
		f.body, err = readBody(body, resp.ContentLength)
		return err
	})
	return f
}

// readBody reads a whole body into a slice of exactly its size: records
// stay in it for as long as the snapshot holds them, so slack would be
// kept too.
func readBody(r io.Reader, length int64) ([]byte, error) {
	if length > 0 && length < 1<<31 {
		b := make([]byte, length)
		n, err := io.ReadFull(r, b)
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return b[:n], networkError(io.ErrUnexpectedEOF)
		}
		return b, err
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(r); err != nil {
		return nil, err
	}
	if buf.Cap()-buf.Len() > buf.Len()/8 {
		return bytes.Clone(buf.Bytes()), nil
	}
	return buf.Bytes(), nil
}

// do sends one GET (see send); after a 401, credentials that can be
// renewed (a token command) are renewed once and the request sent again.
func (c *Client) do(ctx context.Context, u, origin string, prefer []string, read func(*http.Response, io.Reader) error) (int64, error) {
	n, err := c.send(ctx, u, origin, prefer, read)
	var he *HTTPError
	if r, ok := c.Credentials.(Refresher); ok && errors.As(err, &he) && he.Status == http.StatusUnauthorized {
		if rerr := r.Refresh(ctx); rerr != nil {
			return n, fmt.Errorf("%w; renewing the token failed: %v", err, rerr)
		}
		return c.send(ctx, u, origin, prefer, read)
	}
	return n, err
}

// send sends one GET with the client's headers, and its credentials when u is
// on origin. On a 2xx answer it calls read with the body, bounded by
// MaxBody; other answers become typed errors. It returns the body bytes read.
func (c *Client) send(ctx context.Context, u, origin string, prefer []string, read func(*http.Response, io.Reader) error) (n int64, err error) {
	timeout := c.RequestTimeout
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("OData-MaxVersion", "4.0")
	req.Header.Set("OData-Version", "4.0")
	if len(prefer) > 0 {
		req.Header.Set("Prefer", strings.Join(prefer, ", "))
	}
	sameOrigin := false
	if o, _ := originOf(u); o == origin {
		sameOrigin = true
		for k, vs := range c.Header {
			for _, v := range vs {
				req.Header.Add(k, v)
			}
		}
		if c.Credentials != nil {
			if err := c.Credentials.Apply(ctx, req); err != nil {
				return 0, fmt.Errorf("credentials: %w", err)
			}
		}
	}
	hc := c.httpClient()
	info := RequestInfo{Time: time.Now(), Method: http.MethodGet, URL: u}
	defer func() {
		if c.OnRequest != nil {
			info.Duration, info.Bytes, info.Err = time.Since(info.Time), n, err
			c.OnRequest(info)
		}
	}()
	resp, err := hc.Do(req)
	if err != nil {
		return 0, networkError(err)
	}
	defer resp.Body.Close()
	info.Status = resp.StatusCode
	for _, h := range requestIDHeaders {
		if v := resp.Header.Get(h); v != "" {
			info.RequestID = v
			break
		}
	}
	maxBody := c.MaxBody
	if maxBody <= 0 {
		maxBody = 256 << 20
	}
	body := &countingReader{r: resp.Body, limit: maxBody}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		b, _ := io.ReadAll(io.LimitReader(body, 64<<10))
		err := errorFromResponse(resp, b, u)
		var he *HTTPError
		if errors.As(err, &he) && (he.Status == http.StatusUnauthorized || he.Status == http.StatusForbidden) {
			he.Credentials = "no credentials"
			if c.Credentials != nil && sameOrigin {
				he.Credentials = c.Credentials.Describe()
			}
		}
		return body.n, err
	}
	if err := read(resp, body); err != nil {
		if body.err != nil {
			return body.n, body.err
		}
		return body.n, err
	}
	return body.n, nil
}

// httpClient is the transport with a redirect policy that keeps
// credentials and extra headers on the origin they were given for.
func (c *Client) httpClient() *http.Client {
	hc := http.Client{}
	if c.HTTP != nil {
		hc = *c.HTTP
	}
	next := hc.CheckRedirect
	hc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		from, _ := originOf(via[0].URL.String())
		if to, _ := originOf(req.URL.String()); to != from {
			req.Header.Del("Authorization")
			req.Header.Del("Cookie")
			for k := range c.Header {
				req.Header.Del(k)
			}
		}
		if next != nil {
			return next(req, via)
		}
		return nil
	}
	return &hc
}

// ErrTooLarge is wrapped when a body passes Client.MaxBody.
var ErrTooLarge = errors.New("response body too large")

type countingReader struct {
	r     io.Reader
	n     int64
	limit int64
	err   error
}

func (c *countingReader) Read(b []byte) (int, error) {
	if c.n >= c.limit {
		c.err = fmt.Errorf("%w: more than %d bytes in one page (raise --max-body or ask for smaller pages with --maxpagesize)", ErrTooLarge, c.limit)
		return 0, c.err
	}
	if rem := c.limit - c.n; int64(len(b)) > rem {
		b = b[:rem]
	}
	n, err := c.r.Read(b)
	c.n += int64(n)
	if err != nil && err != io.EOF {
		c.err = networkError(err)
	}
	return n, err
}

// NetworkError is a failure to reach the service or to read its answer.
type NetworkError struct{ Err error }

func (e *NetworkError) Error() string {
	var dns *net.DNSError
	var op *net.OpError
	switch {
	case errors.As(e.Err, &dns):
		return fmt.Sprintf("cannot find the host %s (%s): check the host in --url", dns.Name, dns.Err)
	case errors.As(e.Err, &op) && op.Op == "dial":
		return fmt.Sprintf("cannot connect to %s (%v): check --url and that the service is running", op.Addr, op.Err)
	}
	return "network: " + e.Err.Error()
}
func (e *NetworkError) Unwrap() error { return e.Err }

func networkError(err error) error {
	if errors.Is(err, context.Canceled) {
		return err
	}
	var ne *NetworkError
	if errors.As(err, &ne) {
		return err
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return &NetworkError{Err: err}
}

func originOf(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("%q is not a URL: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return "", fmt.Errorf("%q is not an http(s) URL", raw)
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), nil
}

// resolve makes link absolute against the URL of the page it came on. An
// absolute link is returned untouched, byte for byte.
func resolve(base, link string) (string, error) {
	if strings.HasPrefix(link, "http://") || strings.HasPrefix(link, "https://") {
		return link, nil
	}
	b, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	r, err := url.Parse(link)
	if err != nil {
		return "", err
	}
	return b.ResolveReference(r).String(), nil
}

// RetryPolicy governs retries of one page. The zero value retries 5 times
// with exponential backoff from 500ms capped at 30s, honouring Retry-After.
type RetryPolicy struct {
	Tries int           // attempts in all, including the first; 1 disables retries
	Base  time.Duration // first backoff
	Cap   time.Duration // longest wait, also for Retry-After
	// Sleep waits d or until ctx ends; tests replace it to avoid real sleeps.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now gives the time for HTTP-date Retry-After values.
	Now func() time.Time
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.Tries <= 0 {
		p.Tries = 5
	}
	if p.Base <= 0 {
		p.Base = 500 * time.Millisecond
	}
	if p.Cap <= 0 {
		p.Cap = 30 * time.Second
	}
	if p.Sleep == nil {
		p.Sleep = sleepCtx
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	return p
}

// delay says whether err is worth another try and how long to wait first.
func (p RetryPolicy) delay(err error, attempt int) (time.Duration, bool) {
	var he *HTTPError
	switch {
	case errors.As(err, &he):
		switch he.Status {
		case http.StatusTooManyRequests, http.StatusServiceUnavailable:
			if d, ok := parseRetryAfter(he.RetryAfter, p.Now()); ok {
				return min(d, p.Cap), true
			}
		case http.StatusInternalServerError, http.StatusBadGateway, http.StatusGatewayTimeout, http.StatusRequestTimeout:
		default:
			return 0, false
		}
	case errors.Is(err, context.Canceled):
		return 0, false
	case errors.Is(err, ErrTooLarge):
		return 0, false
	default:
		var ne *NetworkError
		if !errors.As(err, &ne) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, context.DeadlineExceeded) {
			return 0, false
		}
		// A refused connection or an unknown host is a wrong URL far more
		// often than a blip: say so at once instead of backing off.
		var op *net.OpError
		var dns *net.DNSError
		if errors.As(err, &dns) || errors.As(err, &op) && op.Op == "dial" {
			return 0, false
		}
	}
	d := p.Base << (attempt - 1)
	if d <= 0 || d > p.Cap {
		d = p.Cap
	}
	// Full jitter in the upper half keeps clients from retrying in step.
	d = d/2 + rand.N(d/2+1)
	return d, true
}

func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now)
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
