package deltatest

import (
	"compress/gzip"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// How a page goes on the wire. By default with a Content-Length; real
// services often send none: Options.Chunked streams pages with chunked
// transfer encoding, and Options.Gzip compresses them for clients that
// accept gzip, as Business Central and Graph do (Go's transport then
// hands the client a body of unknown length).

var gzipWriters = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed)
	return w
}}

// send writes a page's parts as the options say.
func (s *Server) send(w http.ResponseWriter, r *http.Request, size int, parts [][]byte) {
	h := w.Header()
	if s.opts.Gzip {
		h.Add("Vary", "Accept-Encoding")
		if r != nil && acceptsGzip(r.Header.Values("Accept-Encoding")) {
			h.Set("Content-Encoding", "gzip")
			w.WriteHeader(http.StatusOK)
			gz := gzipWriters.Get().(*gzip.Writer)
			gz.Reset(w)
			for _, p := range parts {
				gz.Write(p)
			}
			gz.Close()
			gzipWriters.Put(gz)
			return
		}
	}
	if !s.opts.Chunked {
		h.Set("Content-Length", strconv.Itoa(size))
	}
	w.WriteHeader(http.StatusOK)
	if s.opts.Chunked {
		// Flushed at once, so even a short page goes without a length.
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
	}
	for _, p := range parts {
		w.Write(p)
	}
}

// acceptsGzip reports an Accept-Encoding that lists gzip with a non-zero
// quality.
func acceptsGzip(values []string) bool {
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			if !strings.EqualFold(strings.TrimSpace(name), "gzip") {
				continue
			}
			q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
			if q == "q=0" || q == "q=0.0" || q == "q=0.00" || q == "q=0.000" {
				return false
			}
			return true
		}
	}
	return false
}

// len is the number of items in the listing.
func (c *cursor) len() int {
	if c.recs != nil {
		return len(c.recs)
	}
	return len(c.items)
}

// appendPage appends the page of items [offset, end) up to its value
// array's end: the records of the initial data are generated here.
func (c *cursor) appendPage(body []byte, offset, end int) []byte {
	size := 128
	if c.recs != nil {
		size += (end - offset) * 640
	} else {
		for _, it := range c.items[offset:end] {
			size += len(it) + 1
		}
	}
	body = slices.Grow(body, size)
	body = append(body, `{"@odata.context":"`...)
	body = append(body, c.context...)
	body = append(body, '"')
	if offset == 0 && c.counted {
		body = append(body, `,"@odata.count":`...)
		body = strconv.AppendInt(body, int64(c.count), 10)
	}
	body = append(body, `,"value":[`...)
	var scratch members
	for i := offset; i < end; i++ {
		if i > offset {
			body = append(body, ',')
		}
		if c.recs != nil {
			body = c.recs[i].appendJSON(body, &scratch)
		} else {
			body = append(body, c.items[i]...)
		}
	}
	return append(body, ']')
}

// pageCacheBudget bounds the encoded pages kept for reuse: the demo serves
// an unchanged listing again without encoding it (benchmarks take the
// same baseline often), but a ten-million-record demo cannot keep a copy
// of all its JSON. A listing larger than this is never cached; its pages
// are encoded into reused buffers as they are sent.
const pageCacheBudget = 192 << 20

// pageBuffers are the buffers pages not cached are encoded into.
var pageBuffers = sync.Pool{New: func() any { return new([]byte) }}

// pageCache is a listing's encoded pages by offset, shared by the copies
// of its cursor.
type pageCache struct {
	pages map[int][]byte
	size  int
	off   bool // the listing is too large to cache
}

func (s *Server) cachedPage(c *cursor, offset int) []byte {
	if c.pages == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return c.pages.pages[offset]
}

// cachePage keeps body, the page of n items at offset, if the listing
// fits the budget; it reports whether it did.
func (s *Server) cachePage(c *cursor, offset, n int, body []byte) bool {
	if c.pages == nil || n == 0 {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	pc := c.pages
	if estimate := len(body) / n * c.len(); estimate > pageCacheBudget {
		pc.off = true
	}
	if _, ok := pc.pages[offset]; ok || pc.off || s.cached+len(body) > pageCacheBudget {
		return false
	}
	pc.pages[offset] = body
	pc.size += len(body)
	s.cached += len(body)
	return true
}

// dropPages forgets a cursor's cached pages; s.mu is held.
func (s *Server) dropPages(c *cursor) {
	if c.pages != nil {
		s.cached -= c.pages.size
		c.pages.size = 0
		clear(c.pages.pages)
	}
}
