package deltaclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

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

// retryTruncated says whether a page whose body decoded as cut short
// (its JSON ends before the document does) is fetched again, after the
// policy's wait. A connection closed mid-body without Content-Length ends
// the body cleanly as far as HTTP can tell; only the JSON shows the cut,
// and it is the same truncation as a short Content-Length body, which the
// transport retries.
func (c *Client) retryTruncated(ctx context.Context, err error, attempt int, onRetry func(*RetryInfo)) bool {
	if err == nil || !errors.Is(err, io.ErrUnexpectedEOF) {
		return false
	}
	pol := c.Retry.withDefaults()
	if attempt >= pol.Tries || ctx.Err() != nil {
		return false
	}
	wait, _ := pol.delay(err, attempt)
	onRetry(&RetryInfo{Attempt: attempt, Max: pol.Tries, Wait: wait, Err: err})
	return pol.Sleep(ctx, wait) == nil
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

// maxRetryAfter is the longest Retry-After taken at its word; past it
// (a day) the value is absurd and the normal backoff applies. Checked in
// seconds, before converting: 9223372037 seconds overflows time.Duration.
const maxRetryAfter = 24 * time.Hour

// parseRetryAfter reads delay-seconds or an HTTP date. A negative, absurd
// or unreadable value is not a wait: ok is false and backoff applies.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil || errors.Is(err, strconv.ErrRange) {
		if err != nil || s < 0 || s > int64(maxRetryAfter/time.Second) {
			return 0, false
		}
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		if t.After(now.Add(maxRetryAfter)) {
			return 0, false
		}
		return max(t.Sub(now), 0), true
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
