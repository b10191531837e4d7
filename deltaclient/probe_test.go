package deltaclient_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/deltascope/deltascope/deltaclient"
)

// capLike serves n records in pages of 1,000 whatever odata.maxpagesize
// asks, never with Preference-Applied or a deltaLink, as SAP CAP does for
// an entity without change tracking. It counts the pages it served.
func capLike(t *testing.T, n int, pages *atomic.Int64) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pages.Add(1)
		skip, _ := strconv.Atoi(r.URL.Query().Get("$skip"))
		var b strings.Builder
		b.WriteString(`{"value":[`)
		for i := skip; i < min(skip+1000, n); i++ {
			if i > skip {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"ID":%d,"title":"book %d"}`, i, i)
		}
		b.WriteString("]")
		if skip+1000 < n {
			fmt.Fprintf(&b, `,"@odata.nextLink":"Books?$skip=%d"`, skip+1000)
		}
		b.WriteString("}")
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(b.String()))
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/odata/v4/catalog/Books"
}

// Points 15 and 16: a server that ignores the page size is read for at
// most two pages, the evidence counts what arrived, and the verdict is the
// same for 1,500 and 3,500 rows: page 1 without Preference-Applied and a
// deltaLink decides it.
func TestProbeReadsTwoPagesAndPageOneDecides(t *testing.T) {
	t.Parallel()
	for _, rows := range []int{1500, 3500} {
		var pages atomic.Int64
		url := capLike(t, rows, &pages)
		c := &deltaclient.Client{Retry: noSleep(1), Identity: deltaclient.Identity{KeyFields: []string{"ID"}}}
		r := c.Probe(context.Background(), url, 3)
		if r.Support != deltaclient.NotSupport {
			t.Errorf("%d rows: verdict %s (%s), want no", rows, r.Support, r.Evidence)
		}
		if n := pages.Load(); n > 2 {
			t.Errorf("%d rows: probe read %d pages, want at most 2", rows, n)
		}
		if !strings.Contains(r.Evidence, "without Preference-Applied") || !strings.Contains(r.Evidence, "1000") || strings.Contains(r.Evidence, "of 1 record") {
			t.Errorf("%d rows: evidence %q does not say what arrived", rows, r.Evidence)
		}
	}
}

func TestProbeEvidenceWording(t *testing.T) {
	t.Parallel()
	var pages atomic.Int64
	r := (&deltaclient.Client{Retry: noSleep(1)}).Probe(context.Background(), capLike(t, 1500, &pages), 2)
	if want := "page 1 came without Preference-Applied: odata.track-changes; the set ended without a deltaLink after 2 pages (1000 and 500 records)"; r.Evidence != want {
		t.Errorf("evidence %q\n want %q", r.Evidence, want)
	}
	r = (&deltaclient.Client{Retry: noSleep(1)}).Probe(context.Background(), capLike(t, 3500, &pages), 2)
	if want := "page 1 came without Preference-Applied: odata.track-changes and without a deltaLink (the preference was ignored); no deltaLink after 2 pages of 1000 records, stopped there"; r.Evidence != want {
		t.Errorf("evidence %q\n want %q", r.Evidence, want)
	}
}
