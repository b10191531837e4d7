// Package deltaclient speaks the OData delta protocol over HTTP: baselines
// with Prefer: odata.track-changes, paging, delta rounds from a deltaLink
// taken byte for byte, and typed errors for expired links and entity sets
// that do not support deltas. It keeps no snapshot and draws nothing.
package deltaclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
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
	// Credentials authenticate requests to Origin only.
	Credentials Credentials
	// Origin is the origin the user named ("https://host[:port]"):
	// credentials and Header go there and nowhere else (see origin.go).
	// "" means the origin of the URL each baseline starts from; trackers
	// set it (WithOrigin) so a delta link or a 410 Location elsewhere
	// never inherits credentials.
	Origin string
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
	// Secrets, when set, is the session's redactor: it learns every
	// credential the client applies, and server text in errors passes
	// through it.
	Secrets Redactor
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
	Page    int // the page of the walk being retried, from 1
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
	Bytes     int64
	// TrackingApplied is true when the first page of a baseline carried
	// Preference-Applied: odata.track-changes.
	TrackingApplied bool
}

// BaselinePages fetches the whole collection at url with change tracking
// asked for, following every nextLink (the deltaLink comes from the last
// page; a collection without one is an *UnsupportedError), and hands each
// page's entries to page as it arrives, in order: the caller
// builds its snapshot while the next pages are still decoding. On error
// what page received is incomplete and must be discarded, with one
// exception: an *UnsupportedError with NoDeltaLink comes with the Result,
// after every page was handed to page, so what page received is the whole
// collection as a plain read (polling keeps it as its first snapshot).
// The slice page receives is reused for a later page once page returns:
// keep its entries (copies of them), not the slice.
func (c *Client) BaselinePages(ctx context.Context, url string, progress func(Progress), page func([]Entry)) (*Result, error) {
	return c.run(ctx, url, modeBaseline, progress, page)
}

// ReadPages reads the collection at url without asking for change
// tracking, following every nextLink, and hands each page's entries to
// page as it arrives; a deltaLink, if any, is kept in the Result but none
// is needed. As with BaselinePages, the slice page receives is reused
// once page returns: keep its entries, not the slice. Polling reads entity sets that have no delta links with it.
// On error what page received is incomplete and must be discarded.
func (c *Client) ReadPages(ctx context.Context, url string, progress func(Progress), page func([]Entry)) (*Result, error) {
	return c.run(ctx, url, modeRead, progress, page)
}

// Delta fetches one round from deltaLink, used exactly as given, following
// nextLinks; the result carries the new deltaLink from the last page.
func (c *Client) Delta(ctx context.Context, deltaLink string, progress func(Progress)) (*Result, error) {
	return c.run(ctx, deltaLink, modeDelta, progress, nil)
}

// DeltaPages is Delta handing each page's entries to page as it arrives
// (the Result then holds no Entries), so a caller can apply a page while
// the next one is fetched and decoded. On error what page received is an
// incomplete round that must be undone. As with BaselinePages, the slice
// page receives is reused once page returns: keep its entries, not the
// slice.
func (c *Client) DeltaPages(ctx context.Context, deltaLink string, progress func(Progress), page func([]Entry)) (*Result, error) {
	return c.run(ctx, deltaLink, modeDelta, progress, page)
}

// runMode is what a chain of pages is for.
type runMode uint8

const (
	modeBaseline runMode = iota // track-changes asked; the last page must carry a deltaLink
	modeDelta                   // a round from a deltaLink; the last page must carry the next one
	modeRead                    // a plain read; no deltaLink expected
)

var errPageLimit = errors.New("page limit reached")

// ErrPagingLoop is wrapped when a nextLink leads back to a page already
// fetched in the same baseline or round: the server's paging loops, and
// following it would never end.
var ErrPagingLoop = errors.New("paging loop on the server, stopped")

func (c *Client) run(ctx context.Context, start string, mode runMode, progress func(Progress), each func([]Entry)) (*Result, error) {
	origin, err := c.home(start)
	if err != nil {
		return nil, err
	}
	what := "deltaLink"
	if mode == modeBaseline {
		what = "baseline URL"
	}
	if err := c.checkOrigin(origin, start, what); err != nil {
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
	ctx, cancel := context.WithCancel(withSizeHint(ctx, &sizeHint{}))
	defer cancel() // stops any page still being fetched ahead
	// last is the progress so far, for retries reported from the page
	// goroutines.
	var last Progress
	// Three slots: a page being fetched, one decoding and one decoded
	// that the loop has not taken yet; with two, the next request often
	// waited for the loop to take a page.
	pl := &pipeline{c: c, ctx: ctx, origin: origin, slots: make(chan struct{}, 3), onRetry: func(r *RetryInfo) {
		mu.Lock()
		p := last
		mu.Unlock()
		p.Retry = r
		report(p)
	}}
	job := pl.start(start, 1, mode == modeBaseline, maxPages-1)
	var guessed guessedKeys
	// seen is every link of this walk and the page it fetched.
	seen := map[string]int{start: 1}
	for {
		if res.Pages >= maxPages {
			return nil, fmt.Errorf("%w: stopped after %d pages without a deltaLink (raise --max-pages if the set is really this large)", errPageLimit, res.Pages)
		}
		r := <-job.done
		job.cancel() // its body is read: release the context
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
		records += len(p.entries)
		if mode != modeDelta && p.guessed {
			if err := guessed.check(p.entries); err != nil {
				return nil, fmt.Errorf("page %d: %w", res.Pages, err)
			}
		}
		if each != nil {
			each(p.entries)
		} else {
			if res.Entries == nil && p.count > 0 && p.count < 1<<24 {
				res.Entries = make([]Entry, 0, p.count)
			}
			res.Entries = append(res.Entries, p.entries...)
		}
		putEntries(p.entries)
		mu.Lock()
		last = Progress{Pages: res.Pages, Records: records, Bytes: res.Bytes, Count: count, TrackingApplied: res.TrackingApplied}
		mu.Unlock()
		report(last)
		if p.nextLink == "" {
			// Only the last page's deltaLink counts: one on a page that
			// also has a nextLink is ignored.
			if p.deltaLink == "" && mode == modeRead {
				return res, nil
			}
			if p.deltaLink == "" {
				if mode == modeBaseline {
					return res, &UnsupportedError{NoDeltaLink: true}
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
		if at, ok := seen[next]; ok {
			// A cycle of any length (A -> B -> A) would be walked forever:
			// in a round it grows memory without bound.
			if at == res.Pages {
				return nil, fmt.Errorf("%w: the nextLink of page %d points at the page itself", ErrPagingLoop, res.Pages)
			}
			return nil, fmt.Errorf("%w: the nextLink of page %d goes back to page %d", ErrPagingLoop, res.Pages, at)
		}
		seen[next] = res.Pages + 1
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
			ahead = pl.start(next, res.Pages+1, false, maxPages-res.Pages-1)
		}
		job = ahead
	}
}

// guessedKeys remembers the ids of a whole read (baseline or plain read)
// that came from a guessed key property, to catch a wrong guess: in one
// read of a set every record appears once, so two sharing a guessed key
// are two records the guess cannot tell apart (a foreign key such as
// customerID), and merging them would lose one silently.
type guessedKeys map[string]struct{}

// ErrGuessedKeyShared is wrapped when two records of one read share the
// value of the property guessed as their key.
var ErrGuessedKeyShared = errors.New("records share the property guessed as their key")

func (g *guessedKeys) check(entries []Entry) error {
	for _, e := range entries {
		if e.guessedKey == "" || e.Kind != Record {
			continue
		}
		if *g == nil {
			*g = guessedKeys{}
		}
		if _, dup := (*g)[e.ID]; dup {
			return fmt.Errorf("%w: two records have %s %s, and with no id, no @odata.id and no key from $metadata, %s was the guess; name the key fields with --key field[,field]",
				ErrGuessedKeyShared, e.guessedKey, e.ID, e.guessedKey)
		}
		(*g)[e.ID] = struct{}{}
	}
	return nil
}
