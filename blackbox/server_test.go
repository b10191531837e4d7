//go:build linux

package blackbox

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
)

// bcCustomer writes a Business Central-shaped customer of about 560 bytes:
// etag first, id second.
func bcCustomer(b []byte, i int) []byte {
	return fmt.Appendf(b, `{"@odata.etag":"W/\"JzE5OzE2NTU0MzYxNjY3OTk2NzU3NjE3MTswMDsn%06d\"","id":"6cb4e290-a784-4105-b340-%012d","number":"%d","displayName":"Customer %d Corporation","type":"Company","addressLine1":"%d Main Street","addressLine2":"","city":"Atlanta","state":"GA","country":"US","postalCode":"31772","phoneNumber":"+1 404 555 %04d","email":"info@customer%d.example.com","website":"www.customer%d.example.com","salespersonCode":"PS","balanceDue":%d.%02d,"creditLimit":%d,"taxLiable":true,"currencyCode":"USD","blocked":" ","lastModifiedDateTime":"2026-11-02T08:00:00Z"}`,
		i%1000000, i, 10000+i*10, i, i%9000, i%10000, i, i, i%50000, i%100, 5000*(1+i%20))
}

// graphUser writes a Microsoft Graph-shaped user from /users/delta: the id
// is the last member, arrays and nulls on the way.
func graphUser(b []byte, i int) []byte {
	return fmt.Appendf(b, `{"businessPhones":["+1 425 555 %04d"],"displayName":"User %d","givenName":"Given%d","jobTitle":"Engineer","mail":"user%d@contoso.example.com","mobilePhone":null,"officeLocation":"%d/%d","preferredLanguage":"en-US","surname":"Surname%d","userPrincipalName":"user%d@contoso.example.com","id":"0b1f3c2a-%04x-4e5f-8a9b-%012x"}`,
		i%10000, i, i, i, 10+i%90, 1000+i%3000, i, i, int64(i)>>48&0xffff, i)
}

// wire is a minimal OData server holding every page of one baseline in
// memory, and gzip-compressed, so what is measured is the client. It runs
// in its own process (serveWire), so the clients, forked from a small
// test process, report their own peak RSS: Linux carries the parent's
// over a fork and exec. Pages are under /length/, /chunked/ and /gzip/;
// the delta link answers an empty round.
type wire struct {
	pages     [][]byte
	zipped    [][]byte
	jsonBytes int64
}

// serveWire builds the pages and serves them until stdin closes, having
// printed "URL JSON-BYTES" on stdout.
func serveWire(shape string, records int) error {
	rec, pageSize := bcCustomer, 20000 // Business Central's page size
	if shape == "graph" {
		rec, pageSize = graphUser, 999 // Graph's largest $top
	}
	w := &wire{}
	for start := 0; start < records; start += pageSize {
		b := make([]byte, 0, pageSize*600)
		b = append(b, `{"@odata.context":"http://h/api/v2.0/$metadata#customers","value":[`...)
		for i := start; i < min(start+pageSize, records); i++ {
			if i > start {
				b = append(b, ',')
			}
			b = rec(b, i)
		}
		b = append(b, ']')
		if start+pageSize < records {
			b = fmt.Appendf(b, `,"@odata.nextLink":"customers?page=%d"`, len(w.pages)+1)
		} else {
			b = append(b, `,"@odata.deltaLink":"customers?deltatoken=1"`...)
		}
		b = append(b, '}')
		w.pages = append(w.pages, bytes.Clone(b))
		w.jsonBytes += int64(len(b))
	}
	w.zipped = make([][]byte, len(w.pages))
	var wg sync.WaitGroup
	for i := range w.pages {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
			zw.Write(w.pages[i])
			zw.Close()
			w.zipped[i] = buf.Bytes()
		}()
		if i%2 == 1 {
			wg.Wait()
		}
	}
	wg.Wait()
	srv := httptest.NewServer(http.HandlerFunc(w.serve))
	defer srv.Close()
	fmt.Printf("%s %d\n", srv.URL, w.jsonBytes)
	io.Copy(io.Discard, os.Stdin)
	return nil
}

func (w *wire) serve(rw http.ResponseWriter, r *http.Request) {
	mode, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	pages := w.pages
	if mode == "gzip" {
		if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			http.Error(rw, "this benchmark server only sends gzip", http.StatusNotAcceptable)
			return
		}
		pages = w.zipped
	}
	body := pages[0]
	switch q := r.URL.Query(); {
	case q.Get("deltatoken") != "":
		body = []byte(`{"@odata.context":"http://h/api/v2.0/$metadata#customers/$delta","value":[],"@odata.deltaLink":"customers?deltatoken=2"}`)
		mode = "length"
	case q.Get("page") != "":
		n, err := strconv.Atoi(q.Get("page"))
		if err != nil || n < 0 || n >= len(pages) {
			http.Error(rw, "no such page", http.StatusNotFound)
			return
		}
		body = pages[n]
	}
	h := rw.Header()
	h.Set("Content-Type", "application/json; odata.metadata=minimal")
	h.Set("Preference-Applied", "odata.track-changes")
	switch mode {
	case "gzip":
		h.Set("Content-Encoding", "gzip")
	case "chunked":
		rw.WriteHeader(http.StatusOK)
		rw.(http.Flusher).Flush()
	default:
		h.Set("Content-Length", strconv.Itoa(len(body)))
	}
	rw.Write(body)
}
