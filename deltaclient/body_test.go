package deltaclient_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"

	"github.com/deltascope/deltascope/deltaclient"
	"github.com/deltascope/deltascope/deltaclient/deltatest"
)

// Pages without a Content-Length (chunked, gzip) give the same baseline as
// pages with one.
func TestBaselineWithoutContentLength(t *testing.T) {
	t.Parallel()
	var want map[string]string
	for _, opts := range []deltatest.Options{{}, {Chunked: true}, {Gzip: true}} {
		opts.Seed, opts.Records, opts.Sets = 5, 3000, []string{"customers"}
		srv := deltatest.NewServer(opts)
		c := &deltaclient.Client{MaxPageSize: 700}
		res, err := c.Baseline(context.Background(), srv.CollectionURL("customers"), nil)
		srv.Close()
		if err != nil {
			t.Fatalf("chunked %v gzip %v: %v", opts.Chunked, opts.Gzip, err)
		}
		got := map[string]string{}
		for _, e := range res.Entries {
			got[e.ID] = string(e.Raw)
		}
		if len(got) != 3000 || res.Pages != 5 {
			t.Fatalf("chunked %v gzip %v: %d records in %d pages, want 3000 in 5", opts.Chunked, opts.Gzip, len(got), res.Pages)
		}
		if want == nil {
			want = got
			continue
		}
		for id, raw := range want {
			if got[id] != raw {
				t.Fatalf("chunked %v gzip %v: record %s differs:\n%s\n%s", opts.Chunked, opts.Gzip, id, got[id], raw)
			}
		}
	}
}

// A gzip bomb (a small body that inflates past --max-body) is refused
// having allocated about --max-body, not a doubling buffer's 2-4x.
func TestGzipBombBoundedByMaxBody(t *testing.T) {
	const maxBody = 16 << 20
	var zipped bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&zipped, gzip.BestCompression)
	zw.Write([]byte(`{"value":[`))
	zw.Write(make([]byte, 8*maxBody)) // zeros compress about 1000:1
	zw.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(zipped.Bytes())
	}))
	defer srv.Close()
	c := &deltaclient.Client{MaxBody: maxBody, Retry: noSleep(1)}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := c.Baseline(context.Background(), srv.URL+"/customers", nil)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, deltaclient.ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > maxBody*5/4 {
		t.Errorf("allocated %.1f MB reading a body bounded at %d MB; want at most 1.25x", float64(alloc)/(1<<20), maxBody>>20)
	}
}

// A chunked body is kept in a slice of exactly its size, with no slack
// held as long as its records are, and read with at most one copy.
func TestChunkedBodyExactSize(t *testing.T) {
	// Few large records, so what is measured is the body, not the entries.
	page := []byte(`{"value":[`)
	for i := 0; i < 50; i++ {
		if i > 0 {
			page = append(page, ',')
		}
		page = fmt.Appendf(page, `{"id":"r%d","text":"%s"}`, i, bytes.Repeat([]byte("lorem ipsum "), 9000))
	}
	page = append(page, `],"@odata.deltaLink":"x?d=1"}`...)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		for b := page; len(b) > 0; b = b[min(len(b), 10000):] {
			w.Write(b[:min(len(b), 10000)])
		}
	}))
	defer srv.Close()
	c := &deltaclient.Client{}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	res, err := c.Baseline(context.Background(), srv.URL+"/customers", nil)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	last := res.Entries[len(res.Entries)-1].Raw
	if end := cap(last) - len(last); end != len(`],"@odata.deltaLink":"x?d=1"}`) && end != 0 {
		t.Errorf("%d bytes of capacity after the last record, want the page's tail only", end)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > uint64(len(page))*5/2 {
		t.Errorf("allocated %.1f MB reading a %.1f MB body; want at most 2.5x", float64(alloc)/(1<<20), float64(len(page))/(1<<20))
	}
}
