package deltatest

import (
	"compress/gzip"
	"net/http"
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
