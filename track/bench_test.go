package track_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/deltascope/deltascope/deltaclient"
	"github.com/deltascope/deltascope/model"
	"github.com/deltascope/deltascope/track"
)

// customer writes a Business Central-shaped customer of about 520 bytes.
func customer(b []byte, i, version int) []byte {
	return fmt.Appendf(b, `{"@odata.etag":"W/\"JzE5OzE2NTU0MzYxNjY3OTk2NzU3NjE3MTswMDsn%06d\"","id":"6cb4e290-a784-4105-b340-%012d","number":"%d","displayName":"Customer %d Corporation","type":"Company","addressLine1":"%d Main Street","addressLine2":"","city":"Atlanta","state":"GA","country":"US","postalCode":"31772","phoneNumber":"+1 404 555 %04d","email":"info@customer%d.example.com","website":"www.customer%d.example.com","salespersonCode":"PS","balanceDue":%d.%02d,"creditLimit":%d,"taxLiable":true,"currencyCode":"USD","blocked":" ","lastModifiedDateTime":"2026-11-0%dT08:00:00Z"}`,
		version%1000000, i, 10000+i*10, i, i%9000, i%10000, i, i, i%50000, i%100, 5000*(1+i%20), 1+version%9)
}

// pages encodes n records in pages of size, nextLinks relative.
func pages(n, size int, record func(b []byte, i int) []byte) [][]byte {
	var out [][]byte
	for start := 0; start < n; start += size {
		b := []byte(`{"@odata.context":"http://h/api/v2.0/$metadata#companies(1)/customers","value":[`)
		for i := start; i < min(start+size, n); i++ {
			if i > start {
				b = append(b, ',')
			}
			b = record(b, i)
		}
		b = append(b, ']')
		if start+size < n {
			b = fmt.Appendf(b, `,"@odata.nextLink":"customers?$skiptoken=%d"`, len(out)+1)
		} else {
			b = append(b, `,"@odata.deltaLink":"customers?deltaToken=x"`...)
		}
		out = append(out, append(b, '}'))
	}
	return out
}

func serve(pages [][]byte) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i, _ := strconv.Atoi(r.URL.Query().Get("$skiptoken"))
		w.Header().Set("Content-Length", strconv.Itoa(len(pages[i])))
		w.Write(pages[i])
	}))
}

func heap() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// BenchmarkSnapshot1MRecordsMemory takes a 1,000,000-record baseline over
// loopback and reports the heap that holds the snapshot against the JSON
// bytes it came from (heap/json, target <= 1.3).
func BenchmarkSnapshot1MRecordsMemory(b *testing.B) {
	const n = 1_000_000
	held, jsonBytes := heldByBaseline(b, n, pages(n, 2000, func(b []byte, i int) []byte { return customer(b, i, 0) }))
	b.ReportMetric(float64(held)/float64(jsonBytes), "heap/json")
	b.ReportMetric(float64(jsonBytes)/1e6, "json-MB")
}

// graphUser writes a Microsoft Graph-shaped user of about 350 bytes, its
// id last, as /users/delta sends them.
func graphUser(b []byte, i int) []byte {
	return fmt.Appendf(b, `{"businessPhones":["+1 425 555 %04d"],"displayName":"User %d","givenName":"Given%d","jobTitle":"Engineer","mail":"user%d@contoso.example.com","mobilePhone":null,"officeLocation":"%d/%d","preferredLanguage":"en-US","surname":"Surname%d","userPrincipalName":"user%d@contoso.example.com","id":"0b1f3c2a-%04x-4e5f-8a9b-%012x"}`,
		i%10000, i, i, i, 10+i%90, 1000+i%3000, i, i, int64(i)>>48&0xffff, i)
}

// BenchmarkSnapshot1MGraphUsersMemory is Snapshot1MRecordsMemory for
// Graph-shaped users in pages of 999 with no @odata.count, where the
// snapshot's own structure weighs more against the smaller records: the
// heap against the JSON, and the bytes per record beyond it.
func BenchmarkSnapshot1MGraphUsersMemory(b *testing.B) {
	const n = 1_000_000
	held, jsonBytes := heldByBaseline(b, n, pages(n, 999, graphUser))
	b.ReportMetric(float64(held)/float64(jsonBytes), "heap/json")
	b.ReportMetric((float64(held)-float64(jsonBytes))/n, "B/record-beyond-json")
	b.ReportMetric(float64(jsonBytes)/1e6, "json-MB")
}

// heldByBaseline serves ps (n records) over loopback, takes a baseline of
// them b.N times and returns the heap the last one holds, and the JSON
// bytes.
func heldByBaseline(b *testing.B, n int, ps [][]byte) (held uint64, jsonBytes int) {
	for _, p := range ps {
		jsonBytes += len(p)
	}
	srv := serve(ps)
	defer srv.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		before := heap()
		tr := track.New("set", srv.URL+"/set", &deltaclient.Client{})
		r, err := tr.Baseline(context.Background(), nil)
		if err != nil || r.Records != n {
			b.Fatalf("%v, %d records", err, r.Records)
		}
		held = heap() - before
		runtime.KeepAlive(tr)
	}
	return held, jsonBytes
}

// BenchmarkSnapshotBuild1MRecords decodes in-memory pages and builds the
// snapshot: records/s (target >= 400,000).
func BenchmarkSnapshotBuild1MRecords(b *testing.B) {
	const n = 1_000_000
	ps := pages(n, 2000, func(b []byte, i int) []byte { return customer(b, i, 0) })
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		s := build(b, ps)
		if s.Len() != n {
			b.Fatal(s.Len())
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
	// CPU time (GC included) is steadier than wall time on a shared machine.
	b.ReportMetric(float64(n*b.N)/(cpuTime()-cpu0).Seconds(), "records/cpu-s")
}

// build adds each page to the snapshot as it is decoded, through one
// reused entry slice, as Tracker.Baseline does (not one slice of every
// entry grown by appending, which cost a sixth of the time measured).
func build(b *testing.B, ps [][]byte) *model.Snapshot {
	s := model.NewSnapshot(0)
	var buf []model.Entry
	for _, p := range ps {
		es, err := deltaclient.DecodePage(p, deltaclient.Identity{})
		if err != nil {
			b.Fatal(err)
		}
		buf = appendEntries(buf[:0], es)
		s.Add(buf)
	}
	return s
}

func appendEntries(out []model.Entry, in []deltaclient.Entry) []model.Entry {
	for _, e := range in {
		out = append(out, model.Entry{ID: e.ID, Raw: e.Raw, Removed: e.Kind == deltaclient.Removed, Reason: e.Reason})
	}
	return out
}

// BenchmarkDelta100kInto1M applies a 100,000-change delta (70% updates of
// one to three fields, 20% adds, 10% deletes) to a 1,000,000-record
// snapshot with a field diff for every update, against the time to
// stream-decode the same delta pages: x-decode (target <= 3) and ms
// (target < 500); overlap-ms is decode and apply together, each page
// applied while the next decodes, as Tracker.Poll does (target <= 150).
func BenchmarkDelta100kInto1M(b *testing.B) {
	const n, changes = 1_000_000, 100_000
	base := build(b, pages(n, 2000, func(b []byte, i int) []byte { return customer(b, i, 0) }))
	rng := rand.New(rand.NewPCG(1, 2))
	delta := pages(changes, 2000, func(buf []byte, i int) []byte {
		switch k := i % 10; {
		case k < 7: // update 1-3 fields of an existing customer
			id := rng.IntN(n)
			rec := string(customer(nil, id, 1))
			for f := 0; f < rng.IntN(3); f++ {
				rec = strings.Replace(rec, `"city":"Atlanta"`, `"city":"Boston"`, 1)
				rec = strings.Replace(rec, `"creditLimit":`, `"creditLimit":1`, 1)
			}
			return append(buf, rec...)
		case k < 9: // add
			return customer(buf, n+i, 1)
		default: // delete
			return fmt.Appendf(buf, `{"@odata.context":"http://h/api/v2.0/$metadata#companies(1)/customers/$deletedEntity","id":"6cb4e290-a784-4105-b340-%012d","reason":"deleted"}`, rng.IntN(n))
		}
	})
	var decode, apply, overlap time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		s := base.Clone()
		b.StartTimer()
		t0 := time.Now()
		var entries []model.Entry
		for _, p := range delta {
			es, err := deltaclient.DecodePage(p, deltaclient.Identity{})
			if err != nil {
				b.Fatal(err)
			}
			entries = appendEntries(entries, es)
		}
		t1 := time.Now()
		r := s.Apply(entries)
		t2 := time.Now()
		decode, apply = decode+t1.Sub(t0), apply+t2.Sub(t1)
		if len(r.Changes) != changes {
			b.Fatalf("%d changes", len(r.Changes))
		}
		// The same round as Tracker.Poll takes it: each page applied
		// as it arrives while a goroutine decodes the next.
		b.StopTimer()
		s = base.Clone()
		b.StartTimer()
		t0 = time.Now()
		decoded := make(chan []model.Entry, 2)
		go func() {
			defer close(decoded)
			for _, p := range delta {
				es, err := deltaclient.DecodePage(p, deltaclient.Identity{})
				if err != nil {
					panic(err)
				}
				decoded <- appendEntries(nil, es)
			}
		}()
		a := s.Begin(changes)
		for es := range decoded {
			a.Add(es)
		}
		r = a.Finish()
		overlap += time.Since(t0)
		if len(r.Changes) != changes {
			b.Fatalf("%d changes, overlapped", len(r.Changes))
		}
	}
	b.ReportMetric(float64(overlap.Milliseconds())/float64(b.N), "overlap-ms")
	b.ReportMetric(float64(apply)/float64(decode), "x-decode")
	b.ReportMetric(float64(apply.Milliseconds())/float64(b.N), "ms")
	b.ReportMetric(float64(decode.Milliseconds())/float64(b.N), "decode-ms")
}
