package deltaclient_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/deltascope/deltascope/deltaclient"
)

// Point 6: a nextLink cycle longer than one page (A -> B -> C -> A) ends
// with a clear error, in a baseline and in a round, after each page was
// fetched about once.
func TestNextLinkCycleOfAnyLengthEnds(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	mux := http.NewServeMux()
	page := func(next string) func(http.ResponseWriter, *http.Request) {
		return func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			w.Write([]byte(`{"value":[{"id":"` + r.URL.Path + `"}],"@odata.nextLink":"` + next + `"}`))
		}
	}
	mux.HandleFunc("/a", page("/b"))
	mux.HandleFunc("/b", page("/c?x=1"))
	mux.HandleFunc("/c", page("/a"))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c := &deltaclient.Client{Retry: noSleep(1)}
	for name, run := range map[string]func() error{
		"baseline": func() error { _, err := c.Baseline(context.Background(), srv.URL+"/a", nil); return err },
		"round":    func() error { _, err := c.Delta(context.Background(), srv.URL+"/b", nil); return err },
	} {
		hits.Store(0)
		err := run()
		if !errors.Is(err, deltaclient.ErrPagingLoop) || !strings.Contains(err.Error(), "goes back to page 1") {
			t.Errorf("%s: error %v, want a paging loop back to page 1", name, err)
		}
		// Three pages, plus at most the pages fetched ahead on a guess.
		if n := hits.Load(); n > 5 {
			t.Errorf("%s: %d requests for a 3-page cycle", name, n)
		}
	}
}

// Point 9: a connection closed mid-body without Content-Length is a
// truncation and is retried, as one with Content-Length is.
func TestTruncatedBodyWithoutContentLengthIsRetried(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	full := `{"value":[{"id":"1"},{"id":"2"}],"@odata.deltaLink":"/d"}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := full
		if hits.Add(1) == 1 {
			body = full[:20] // cut inside the value array
		}
		// A close-delimited body: no Content-Length, no chunking.
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n"+body)
	}))
	defer srv.Close()
	var retries int
	res, err := (&deltaclient.Client{Retry: noSleep(3)}).Baseline(context.Background(), srv.URL+"/items", func(p deltaclient.Progress) {
		if p.Retry != nil {
			retries++
		}
	})
	if err != nil {
		t.Fatalf("truncated body not retried: %v", err)
	}
	if len(res.Entries) != 2 || hits.Load() != 2 || retries != 1 {
		t.Errorf("%d entries after %d requests, %d retries reported; want 2 after 2, 1", len(res.Entries), hits.Load(), retries)
	}
}
