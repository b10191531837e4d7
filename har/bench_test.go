package har_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/deltascope/deltascope/deltaclient"
	"github.com/deltascope/deltascope/deltaclient/deltatest"
	"github.com/deltascope/deltascope/har"
	"github.com/deltascope/deltascope/reqlog"
)

// BenchmarkBaseline50kCapture measures what seeing the wire costs: a
// 50,000-record baseline (about 27 MB in pages of 2,000) fetched with a
// plain transport, through the request log's capturing transport (the
// first 64 KB of each body kept), and with --record writing every body
// whole to a HAR file, side by side in one run.
// x-log and x-record are the times relative to the plain transport.
func BenchmarkBaseline50kCapture(b *testing.B) {
	srv := deltatest.NewServer(deltatest.Options{Seed: 1, Records: 50_000, PageSize: 2000, Sets: []string{"customers"}})
	defer srv.Close()
	url := srv.CollectionURL("customers")
	dir := b.TempDir()
	baseline := func(rt http.RoundTripper) time.Duration {
		c := &deltaclient.Client{HTTP: &http.Client{Transport: rt}, MaxPageSize: 2000}
		t0 := time.Now()
		n := 0
		_, err := c.BaselinePages(context.Background(), url, nil, func(es []deltaclient.Entry) { n += len(es) })
		if err != nil || n != 50_000 {
			b.Fatalf("%v, %d records", err, n)
		}
		return time.Since(t0)
	}
	plain := &http.Transport{MaxIdleConnsPerHost: 4}
	baseline(plain) // warm the demo's page cache
	var tPlain, tLog, tRecord time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tPlain += baseline(plain)
		l := reqlog.New(1000, nil)
		tLog += baseline(l.Transport(plain))
		f, err := os.Create(filepath.Join(dir, "b.har"))
		if err != nil {
			b.Fatal(err)
		}
		rec := reqlog.New(1000, nil)
		w, err := har.NewWriter(f, har.Creator{Name: "bench", Version: "1"}, nil)
		if err != nil {
			b.Fatal(err)
		}
		rec.OnExchange(0, func(x *reqlog.Exchange) {
			e := har.FromExchange(x, 0)
			w.Add(&e)
		})
		tRecord += baseline(rec.Transport(plain))
		f.Close()
	}
	b.ReportMetric(float64(tPlain.Milliseconds())/float64(b.N), "plain-ms")
	b.ReportMetric(float64(tLog)/float64(tPlain), "x-log")
	b.ReportMetric(float64(tRecord)/float64(tPlain), "x-record")
}
