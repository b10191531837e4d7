package deltaclient

import (
	"runtime"
	"strings"
	"testing"
)

// A page's entries are sized from its first record, but a page whose
// first record is tiny and whose others are large (a note without and
// notes with an attachment) must not get room for millions of entries:
// decoding it costs about its own size, not many times more.
//
// Not parallel: it measures the bytes allocated while it runs.
func TestScanEntriesNotSizedByATinyFirstRecord(t *testing.T) {
	big := strings.Repeat("b", 8<<20)
	body := []byte(`{"value":[{"id":"1"},{"id":"2","doc":"` + big + `"}],"@odata.deltaLink":"d"}`)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	p, err, ok := scanPage(body, Identity{})
	runtime.ReadMemStats(&after)
	if !ok || err != nil || len(p.entries) != 2 {
		t.Fatalf("ok %v, %v, %d entries", ok, err, len(p.entries))
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > uint64(len(body)) {
		t.Fatalf("decoding a page of %d bytes and 2 records allocated %d bytes", len(body), alloc)
	}
}
