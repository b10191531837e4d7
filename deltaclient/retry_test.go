package deltaclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestRetryDelay(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	p := RetryPolicy{Now: func() time.Time { return now }}.withDefaults()
	cases := []struct {
		name      string
		err       error
		attempt   int
		min, max  time.Duration
		retryable bool
	}{
		{"429 Retry-After seconds", &HTTPError{Status: 429, RetryAfter: "12"}, 1, 12 * time.Second, 12 * time.Second, true},
		{"503 Retry-After HTTP date", &HTTPError{Status: 503, RetryAfter: now.Add(7 * time.Second).Format(http.TimeFormat)}, 1, 7 * time.Second, 7 * time.Second, true},
		{"Retry-After beyond the cap", &HTTPError{Status: 429, RetryAfter: "315"}, 1, 30 * time.Second, 30 * time.Second, true},
		{"Retry-After that overflows a Duration backs off", &HTTPError{Status: 429, RetryAfter: "9223372037"}, 1, 250 * time.Millisecond, 500 * time.Millisecond, true},
		{"Retry-After past int64 backs off", &HTTPError{Status: 503, RetryAfter: "99999999999999999999999"}, 1, 250 * time.Millisecond, 500 * time.Millisecond, true},
		{"negative Retry-After backs off", &HTTPError{Status: 429, RetryAfter: "-5"}, 2, 500 * time.Millisecond, time.Second, true},
		{"Retry-After date in year 9999 backs off", &HTTPError{Status: 503, RetryAfter: "Fri, 31 Dec 9999 23:59:59 GMT"}, 1, 250 * time.Millisecond, 500 * time.Millisecond, true},
		{"429 without Retry-After backs off", &HTTPError{Status: 429}, 1, 250 * time.Millisecond, 500 * time.Millisecond, true},
		{"backoff doubles", &HTTPError{Status: 502}, 3, time.Second, 2 * time.Second, true},
		{"backoff is capped", &HTTPError{Status: 500}, 12, 15 * time.Second, 30 * time.Second, true},
		{"truncated body", fmt.Errorf("page: %w", io.ErrUnexpectedEOF), 1, 250 * time.Millisecond, 500 * time.Millisecond, true},
		{"reset", &NetworkError{Err: errors.New("read: connection reset by peer")}, 2, 500 * time.Millisecond, time.Second, true},
		{"timeout", context.DeadlineExceeded, 1, 250 * time.Millisecond, 500 * time.Millisecond, true},
		{"404 is final", &HTTPError{Status: 404}, 1, 0, 0, false},
		{"401 is final", &HTTPError{Status: 401}, 1, 0, 0, false},
		{"unsupported 500 is final", &UnsupportedError{Status: 500}, 1, 0, 0, false},
		{"410 is final", &GoneError{Status: 410}, 1, 0, 0, false},
		{"too large is final", fmt.Errorf("x: %w", ErrTooLarge), 1, 0, 0, false},
		{"malformed JSON is final", errors.New("malformed JSON at byte 3"), 1, 0, 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for i := 0; i < 50; i++ { // jitter: every draw stays in bounds
				d, ok := p.delay(tc.err, tc.attempt)
				if ok != tc.retryable || d < tc.min || d > tc.max {
					t.Fatalf("delay = %v, %v; want %v in [%v, %v]", d, ok, tc.retryable, tc.min, tc.max)
				}
			}
		})
	}
}

// A page that keeps failing is tried Tries times, with the waits the
// policy asks for (recorded, not slept), then gives up saying so.
func TestRetryGivesUp(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Retry-After", "3")
		w.WriteHeader(503)
		fmt.Fprint(w, `{"error":{"code":"ServiceUnavailable","message":"busy"}}`)
	}))
	defer srv.Close()
	var waits []time.Duration
	c := &Client{Retry: RetryPolicy{Tries: 4, Sleep: func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }}}
	_, err := c.Baseline(context.Background(), srv.URL, nil)
	if err == nil || !strings.Contains(err.Error(), "gave up after 4 tries") || !strings.Contains(err.Error(), "503") {
		t.Fatalf("error %v", err)
	}
	if hits.Load() != 4 || fmt.Sprint(waits) != "[3s 3s 3s]" {
		t.Errorf("%d requests, waits %v; want 4 and [3s 3s 3s]", hits.Load(), waits)
	}
	// Cancelling stops the wait.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c.Retry.Sleep = nil
	if _, err := c.Baseline(ctx, srv.URL, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestBoundedResources(t *testing.T) {
	t.Parallel()
	deep := `{"value":[{"id":"1","a":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}],"@odata.deltaLink":"x"}`
	big := `{"value":[{"id":"1","a":"` + strings.Repeat("x", 4096) + `"}],"@odata.deltaLink":"x"}`
	mux := http.NewServeMux()
	mux.HandleFunc("/deep", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, deep) })
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, big) })
	mux.HandleFunc("/many", func(w http.ResponseWriter, r *http.Request) {
		n := len(r.URL.Query().Get("p"))
		fmt.Fprintf(w, `{"value":[],"@odata.nextLink":"/many?p=%s"}`, strings.Repeat("x", n+1))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c := &Client{MaxBody: 1024, MaxPages: 5, Retry: RetryPolicy{Tries: 1}}
	for path, want := range map[string]string{
		"/deep": "nests deeper than 64 levels",
		"/big":  "more than 1024 bytes in one page",
		"/many": "stopped after 5 pages",
	} {
		if _, err := c.Baseline(context.Background(), srv.URL+path, nil); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v; want %q", path, err, want)
		}
	}
}
