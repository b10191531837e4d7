package track_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/deltascope/deltascope/deltaclient"
	"github.com/deltascope/deltascope/store"
	"github.com/deltascope/deltascope/track"
)

// servedSet serves a baseline in pages and, at its delta link, a delta in
// pages; both with nextLinks, as Business Central does.
type servedSet struct {
	base, delta [][]byte
	jsonBytes   int64
}

func newServedSet(n, changes, pageSize int) *servedSet {
	s := &servedSet{base: pages(n, pageSize, func(b []byte, i int) []byte { return customer(b, i, 0) })}
	for _, p := range s.base {
		s.jsonBytes += int64(len(p))
	}
	if changes > 0 {
		rng := rand.New(rand.NewPCG(3, 4))
		s.delta = pages(changes, pageSize, func(buf []byte, i int) []byte {
			switch k := i % 10; {
			case k < 7:
				rec := strings.Replace(string(customer(nil, rng.IntN(n), 1)), `"city":"Atlanta"`, `"city":"Boston"`, 1)
				return append(buf, rec...)
			case k < 9:
				return customer(buf, n+i, 1)
			default:
				return fmt.Appendf(buf, `{"@odata.context":"http://h/api/v2.0/$metadata#companies(1)/customers/$deletedEntity","id":"6cb4e290-a784-4105-b340-%012d","reason":"deleted"}`, rng.IntN(n))
			}
		})
		for i, p := range s.delta { // the delta's pages link on within the delta
			s.delta[i] = []byte(strings.Replace(string(p), `customers?$skiptoken=`, `customers?deltaToken=x&$skiptoken=`, 1))
		}
	}
	return s
}

func (s *servedSet) serve() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i, _ := strconv.Atoi(r.URL.Query().Get("$skiptoken"))
		ps := s.base
		if r.URL.Query().Get("deltaToken") != "" {
			ps = s.delta
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(ps[i])))
		w.Write(ps[i])
	}))
}

func dirSize(dir string) int64 {
	var n int64
	filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n += fi.Size()
		}
		return nil
	})
	return n
}

// BenchmarkSessionBaseline1MRecords takes the same 1,000,000-record
// baseline (pages of 20,000, as Business Central serves) in memory only
// and with a session, and reports what storing it adds (overhead-%,
// target <= 25) and the file against the JSON it holds (disk/json, target
// <= 1.2; not compressed).
func BenchmarkSessionBaseline1MRecords(b *testing.B) {
	set := newServedSet(1_000_000, 0, 20_000)
	srv := set.serve()
	defer srv.Close()
	var mem, durable time.Duration
	var disk int64
	for i := 0; i < b.N; i++ {
		tr := track.New("customers", srv.URL+"/customers", &deltaclient.Client{})
		t0 := time.Now()
		if _, err := tr.Baseline(ctx, nil); err != nil {
			b.Fatal(err)
		}
		mem += time.Since(t0)
		tr = nil
		heap() // the first snapshot goes before the second is built

		dir := b.TempDir()
		s, err := store.Open(dir, "bench", srv.URL, false)
		if err != nil {
			b.Fatal(err)
		}
		tr = track.New("customers", srv.URL+"/customers", &deltaclient.Client{})
		tr.UseSession(s)
		t0 = time.Now()
		if _, err := tr.Baseline(ctx, nil); err != nil {
			b.Fatal(err)
		}
		durable += time.Since(t0)
		s.Close()
		disk = dirSize(dir)
		heap()
	}
	b.ReportMetric(float64(mem.Milliseconds())/float64(b.N), "ms-memory")
	b.ReportMetric(float64(durable.Milliseconds())/float64(b.N), "ms-session")
	b.ReportMetric(100*(float64(durable)/float64(mem)-1), "overhead-%")
	b.ReportMetric(float64(disk)/float64(set.jsonBytes), "disk/json")
	b.ReportMetric(float64(set.jsonBytes)/1e6, "json-MB")
}

// stored returns a directory holding a session with a 1,000,000-record
// baseline of set, taken from srv.
func stored(b *testing.B, srv *httptest.Server) string {
	dir := b.TempDir()
	s, err := store.Open(dir, "bench", srv.URL, false)
	if err != nil {
		b.Fatal(err)
	}
	tr := track.New("customers", srv.URL+"/customers", &deltaclient.Client{})
	tr.UseSession(s)
	if _, err := tr.Baseline(ctx, nil); err != nil {
		b.Fatal(err)
	}
	s.Close()
	return dir
}

// BenchmarkSessionResume1MRecords resumes a stored 1,000,000-record
// session (open, load the snapshot and link: what happens before watch
// prints resume; target <= 1 s) and then applies a 1,000-change round
// (target <= 2 s from the start).
func BenchmarkSessionResume1MRecords(b *testing.B) {
	set := newServedSet(1_000_000, 1_000, 20_000)
	srv := set.serve()
	defer srv.Close()
	dir := stored(b, srv)
	base := heap()
	var held uint64
	var resume, round time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		s, err := store.Open(dir, "bench", srv.URL, false)
		if err != nil {
			b.Fatal(err)
		}
		tr := track.New("customers", srv.URL+"/customers", &deltaclient.Client{})
		tr.UseSession(s)
		res, err := tr.Resume()
		if err != nil || res == nil || res.Records < 1_000_000 {
			b.Fatalf("resume %+v %v", res, err)
		}
		t1 := time.Now()
		r, err := tr.Poll(ctx, nil)
		if err != nil || len(r.Changes) != 1000 {
			b.Fatalf("round: %v", err)
		}
		resume, round = resume+t1.Sub(t0), round+time.Since(t0)
		b.StopTimer()
		held += heap() - base
		s.Close()
		runtime.KeepAlive(tr)
		tr = nil
		heap()
		b.StartTimer()
	}
	// The heap a resumed 1M-record snapshot (and its session) holds.
	b.ReportMetric(float64(held)/1e6/float64(b.N), "heap-MB")
	b.ReportMetric(float64(resume.Milliseconds())/float64(b.N), "ms-to-resume")
	b.ReportMetric(float64(round.Milliseconds())/float64(b.N), "ms-to-round")
}

// BenchmarkSessionDelta100kInto1M takes a 100,000-change delta round into
// a 1,000,000-record snapshot in memory only and with a session, and
// reports the session's round time against the in-memory one
// (session/memory, target <= 1.5).
func BenchmarkSessionDelta100kInto1M(b *testing.B) {
	set := newServedSet(1_000_000, 100_000, 20_000)
	srv := set.serve()
	defer srv.Close()
	var mem, durable time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		tr := track.New("customers", srv.URL+"/customers", &deltaclient.Client{})
		if _, err := tr.Baseline(ctx, nil); err != nil {
			b.Fatal(err)
		}
		heap()
		b.StartTimer()
		t0 := time.Now()
		if _, err := tr.Poll(ctx, nil); err != nil {
			b.Fatal(err)
		}
		mem += time.Since(t0)
		b.StopTimer()
		tr = nil
		heap()
		dir := stored(b, srv)
		s, err := store.Open(dir, "bench", srv.URL, false)
		if err != nil {
			b.Fatal(err)
		}
		tr = track.New("customers", srv.URL+"/customers", &deltaclient.Client{})
		tr.UseSession(s)
		if _, err := tr.Resume(); err != nil {
			b.Fatal(err)
		}
		heap()
		b.StartTimer()
		t0 = time.Now()
		if _, err := tr.Poll(ctx, nil); err != nil {
			b.Fatal(err)
		}
		durable += time.Since(t0)
		s.Close()
	}
	b.ReportMetric(float64(mem.Milliseconds())/float64(b.N), "ms-memory")
	b.ReportMetric(float64(durable.Milliseconds())/float64(b.N), "ms-session")
	b.ReportMetric(float64(durable)/float64(mem), "session/memory")
}
