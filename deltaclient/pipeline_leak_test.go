package deltaclient_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deltascope/deltascope/deltaclient"
)

// The page pipeline runs each page in a goroutine, fetches up to three
// ahead on a nextLink guessed from a body's bytes, and drops the pages of
// a wrong guess. Whichever way a walk ends (a page that fails to decode
// while pages after it are in flight, a server error, a wrong guess on
// every page, a cancelled context, a guess on the last page), every
// goroutine it started ends, and every slot a dropped page held comes
// back (else the walk stalls once three are lost), and a dropped guess
// is cancelled rather than followed.
//
// Not parallel: goroutines are counted, and parallel tests start only
// after the sequential ones are done.
func TestPipelineLeavesNoGoroutines(t *testing.T) {
	const pages = 12
	record := func(i int, extra string) string {
		return fmt.Sprintf(`{"id":"r%d","name":"record %d","pad":"%s"%s}`, i, i, strings.Repeat("p", 200), extra)
	}
	// page writes page k of the walk. trap puts a nested member named
	// @odata.nextLink in the last record, after the real nextLink, where
	// the guess looks first: the guess is wrong.
	page := func(k int, trap bool) string {
		var b strings.Builder
		b.WriteString(`{"@odata.context":"c",`)
		if trap && k < pages {
			fmt.Fprintf(&b, `"@odata.nextLink":"/p/%d",`, k+1)
		}
		b.WriteString(`"value":[`)
		for i := 0; i < 20; i++ {
			extra := ""
			if trap && i == 19 {
				extra = fmt.Sprintf(`,"more":{"@odata.nextLink":"/trap/%d"}`, k)
			}
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(record(k*100+i, extra))
		}
		b.WriteString(`]`)
		switch {
		case k < pages && !trap:
			fmt.Fprintf(&b, `,"@odata.nextLink":"/p/%d"`, k+1)
		case k == pages:
			b.WriteString(`,"@odata.deltaLink":"/d"`)
		}
		b.WriteString(`}`)
		return b.String()
	}

	type scenario struct {
		name string
		// serve answers /p/k; it may block until the request is gone.
		serve  func(w http.ResponseWriter, r *http.Request, k int)
		cancel int // cancel the walk's context after this many pages; 0 never
		// ahead is a page that must be in flight when the walk ends:
		// after waitAt pages the walk waits until it is asked for.
		ahead, waitAt int
		// waitTrap: after the first page, wait until a page of the wrong
		// guess is asked for, so a dropped page was really in flight.
		waitTrap bool
		check    func(t *testing.T, res *deltaclient.Result, err error)
	}
	// hang holds a request until the client gives up on it.
	hang := func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}
	var trapHits atomic.Int64
	scenarios := []scenario{
		{
			name: "a page that does not decode, later pages in flight",
			serve: func(w http.ResponseWriter, r *http.Request, k int) {
				switch {
				case k == 3:
					// The tail still names page 4, so pages ahead start.
					fmt.Fprintf(w, `{"value":[{"id":"x"} {"id":"y"}],"@odata.nextLink":"/p/4"}`)
				case k > 3:
					hang(w, r)
				default:
					fmt.Fprint(w, page(k, false))
				}
			},
			ahead: 4, waitAt: 2,
			check: func(t *testing.T, res *deltaclient.Result, err error) {
				var me *deltaclient.MalformedError
				if !errors.As(err, &me) || !strings.Contains(err.Error(), "page 3") {
					t.Errorf("error %v, want a malformed page 3", err)
				}
			},
		},
		{
			name: "a server error part way",
			serve: func(w http.ResponseWriter, r *http.Request, k int) {
				if k == 5 {
					http.Error(w, "no", http.StatusNotFound)
					return
				}
				fmt.Fprint(w, page(k, false))
			},
			check: func(t *testing.T, res *deltaclient.Result, err error) {
				if err == nil || !strings.Contains(err.Error(), "page 5") {
					t.Errorf("error %v, want one at page 5", err)
				}
			},
		},
		{
			name:     "a wrong guess on every page",
			waitTrap: true,
			serve: func(w http.ResponseWriter, r *http.Request, k int) {
				fmt.Fprint(w, page(k, true))
			},
			check: func(t *testing.T, res *deltaclient.Result, err error) {
				if err != nil || res.Pages != pages || len(res.Entries) != pages*20 {
					t.Fatalf("%v; %+v", err, res)
				}
				if trapHits.Load() == 0 {
					t.Error("no page was fetched on the wrong guess: the test checks nothing")
				}
				// A dropped guess is cancelled, not followed: each wrong
				// page guesses another, and only the cancellation stops
				// the chain (uncancelled, it ran to some 100 pages).
				if n := trapHits.Load(); n > 2*pages {
					t.Errorf("%d pages fetched on wrong guesses for %d pages: a dropped guess goes on", n, pages)
				}
			},
		},
		{
			name: "cancelled while pages are in flight",
			serve: func(w http.ResponseWriter, r *http.Request, k int) {
				if k > 3 {
					hang(w, r)
					return
				}
				fmt.Fprint(w, page(k, false))
			},
			cancel: 3,
			ahead:  4, waitAt: 3,
			check: func(t *testing.T, res *deltaclient.Result, err error) {
				if !errors.Is(err, context.Canceled) {
					t.Errorf("error %v, want context.Canceled", err)
				}
			},
		},
		{
			name: "a guess on the last page",
			serve: func(w http.ResponseWriter, r *http.Request, k int) {
				body := page(k, false)
				if k == pages {
					body = strings.Replace(body, `"name"`, `"more":{"@odata.nextLink":"/trap/last"},"name"`, 1)
				}
				fmt.Fprint(w, body)
			},
			check: func(t *testing.T, res *deltaclient.Result, err error) {
				if err != nil || res.Pages != pages {
					t.Fatalf("%v; %+v", err, res)
				}
			},
		},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			var asked [pages + 2]atomic.Bool
			mux := http.NewServeMux()
			mux.HandleFunc("/p/", func(w http.ResponseWriter, r *http.Request) {
				k, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/p/"))
				asked[min(k, pages+1)].Store(true)
				w.Header().Set("Content-Type", "application/json")
				sc.serve(w, r, k)
			})
			mux.HandleFunc("/trap/", func(w http.ResponseWriter, r *http.Request) {
				// A wrong guess's page answers, and guesses again.
				trapHits.Add(1)
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprintf(w, `{"value":[{"id":"t"}],"@odata.nextLink":"%s/x"}`, r.URL.Path)
			})
			srv := httptest.NewServer(mux)
			defer srv.Close()
			// Counted with the server up: its goroutines for a request
			// end only when the client lets the request go, and closing
			// the server first would end them anyway. No keep-alives:
			// an idle connection's goroutines are not the walk's.
			before := runtime.NumGoroutine()
			tr := &http.Transport{DisableKeepAlives: true}
			c := &deltaclient.Client{HTTP: &http.Client{Transport: tr}, Retry: noSleep(1)}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			res, err := c.Baseline(ctx, srv.URL+"/p/1", func(p deltaclient.Progress) {
				if sc.waitAt > 0 && p.Pages == sc.waitAt && p.Retry == nil {
					for end := time.Now().Add(5 * time.Second); !asked[sc.ahead].Load() && time.Now().Before(end); {
						time.Sleep(time.Millisecond)
					}
				}
				for end := time.Now().Add(5 * time.Second); sc.waitTrap && p.Pages == 1 && trapHits.Load() == 0 && time.Now().Before(end); {
					time.Sleep(time.Millisecond)
				}
				if sc.cancel > 0 && p.Pages == sc.cancel {
					cancel()
				}
			})
			if errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("the walk stalled: %v", err)
			}
			sc.check(t, res, err)
			if sc.ahead > 0 && !asked[sc.ahead].Load() {
				t.Errorf("page %d was not fetched ahead: the walk ended with nothing in flight", sc.ahead)
			}
			waitGoroutines(t, before)
		})
	}
}

// waitGoroutines waits (a bounded time) for the goroutines to be back
// to at most n, and fails with their stacks if they are not.
func waitGoroutines(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > n {
		if time.Now().After(deadline) {
			var b strings.Builder
			pprof.Lookup("goroutine").WriteTo(&b, 1)
			t.Fatalf("%d goroutines, %d before the walk:\n%s", runtime.NumGoroutine(), n, b.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
