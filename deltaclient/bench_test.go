package deltaclient

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/deltascope/deltascope/deltaclient/deltatest"
)

// rawDownload fetches every page of a baseline with io.Copy and nothing
// else: the wire's speed, the yardstick for the client.
func rawDownload(b *testing.B, hc *http.Client, url string, decode bool) (bytes int64) {
	var buf bytesBuffer
	for url != "" {
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("Prefer", "odata.track-changes, odata.maxpagesize=2000")
		resp, err := hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		buf.Reset()
		n, err := io.Copy(&buf, resp.Body)
		resp.Body.Close()
		if err != nil {
			b.Fatal(err)
		}
		bytes += n
		if decode {
			var page map[string]any
			if err := json.Unmarshal(buf.Bytes(), &page); err != nil {
				b.Fatal(err)
			}
		}
		url = guessNextLink(buf.Bytes())
	}
	return bytes
}

type bytesBuffer = bytes.Buffer

// BenchmarkBaseline200kRecords measures a 200,000-record baseline (about
// 100 MB of Business Central-shaped customers in pages of 2,000) three
// ways in one run: a raw download (io.Copy), deltascope's client (fetch,
// stream-decode, classify), and encoding/json into map[string]any.
// x-raw = client/raw (target <= 5); x-stdjson = stdjson/client (>= 4);
// serve-x = client/raw too seen from the server side (>= 3: the demo
// service is not what is measured).
func BenchmarkBaseline200kRecords(b *testing.B) {
	srv := deltatest.NewServer(deltatest.Options{Seed: 1, Records: 200_000, PageSize: 2000, Sets: []string{"customers"}})
	defer srv.Close()
	url := srv.CollectionURL("customers")
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	c := &Client{HTTP: hc, MaxPageSize: 2000}
	// Warm up connections and the server's page cursors.
	size := rawDownload(b, hc, url, false)
	var raw, client, std time.Duration
	b.SetBytes(size)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		rawDownload(b, hc, url, false)
		t1 := time.Now()
		res, err := c.Baseline(context.Background(), url, nil)
		if err != nil || len(res.Entries) != 200_000 {
			b.Fatalf("%v, %d entries", err, len(res.Entries))
		}
		t2 := time.Now()
		rawDownload(b, hc, url, true)
		t3 := time.Now()
		raw, client, std = raw+t1.Sub(t0), client+t2.Sub(t1), std+t3.Sub(t2)
	}
	b.ReportMetric(float64(client)/float64(raw), "x-raw")
	b.ReportMetric(float64(std)/float64(client), "x-stdjson")
	b.ReportMetric(float64(client.Milliseconds())/float64(b.N), "client-ms")
	b.ReportMetric(float64(raw.Milliseconds())/float64(b.N), "raw-ms")
	b.ReportMetric(float64(size)/1e6, "MB")
}
