//go:build linux

package blackbox

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// deltascope builds the binary of this module once per run.
func deltascope(b *testing.B) string {
	buildOnce.Do(func() {
		goCmd, err := exec.LookPath("go")
		if err != nil {
			goCmd = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
		dir, err := os.MkdirTemp("", "deltascope-blackbox")
		if err != nil {
			buildErr = err
			return
		}
		binary = filepath.Join(dir, "deltascope")
		cmd := exec.Command(goCmd, "build", "-o", binary, "github.com/deltascope/deltascope")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		b.Fatal(buildErr)
	}
	return binary
}

// measured is one child process: its wall time and peak RSS.
type measured struct {
	wall time.Duration
	rss  int64 // bytes
	out  string
}

func runChild(b *testing.B, cmd *exec.Cmd) measured {
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	t0 := time.Now()
	err := cmd.Run()
	wall := time.Since(t0)
	if err != nil {
		b.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, stderr.String())
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	return measured{wall: wall, rss: int64(ru.Maxrss) << 10, out: stdout.String()}
}

func peer(b *testing.B, name, url string) measured {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "BLACKBOX_CHILD="+name, "BLACKBOX_URL="+url)
	return runChild(b, cmd)
}

// server starts the wire server for shape and n records in a child
// process; stop ends it.
func server(b *testing.B, shape string, n int) (url string, jsonBytes int64, stop func()) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "BLACKBOX_CHILD=serve", "BLACKBOX_SHAPE="+shape, fmt.Sprintf("BLACKBOX_RECORDS=%d", n))
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	if _, err := fmt.Fscan(stdout, &url, &jsonBytes); err != nil {
		b.Fatalf("wire server: %v", err)
	}
	return url, jsonBytes, func() { stdin.Close(); cmd.Wait() }
}

// sizes are the baselines measured; BLACKBOX_BIG=1 adds 5,000,000 records
// (3 GB of BC JSON: about 8 GB of memory for server and client).
func sizes() []int {
	if os.Getenv("BLACKBOX_BIG") != "" {
		return []int{200_000, 1_000_000, 5_000_000}
	}
	return []int{200_000, 1_000_000}
}

// BenchmarkWire runs, per shape (bc: Business Central customers in pages
// of 20,000; graph: Graph users with the id last, pages of 999), size and
// way of sending pages, a raw download, `deltascope watch` (baseline and
// one empty round) and, for pages with a length, a plain encoding/json
// client, one after the other against the same server. x-raw is watch
// time / raw time (goal <= 3), rss/json watch's peak RSS / the JSON bytes
// (goal <= 1.25), x-stdjson the plain client's time / watch's.
func BenchmarkWire(b *testing.B) {
	for _, shape := range []string{"bc", "graph"} {
		for _, n := range sizes() {
			label := fmt.Sprintf("%s-%dk", shape, n/1000)
			if n >= 1_000_000 {
				label = fmt.Sprintf("%s-%dM", shape, n/1_000_000)
			}
			b.Run(label, func(b *testing.B) {
				url, jsonBytes, stop := server(b, shape, n)
				defer stop()
				for _, mode := range []string{"length", "chunked", "gzip"} {
					b.Run(mode, func(b *testing.B) {
						// The plain client needs about 6x the JSON in memory:
						// not past a million records, and not when asked.
						peers := mode == "length" && n <= 1_000_000 && os.Getenv("BLACKBOX_NOPEERS") == ""
						benchWire(b, url+"/"+mode+"/customers", jsonBytes, n, peers)
					})
				}
			})
		}
	}
}

func benchWire(b *testing.B, url string, jsonBytes int64, records int, peers bool) {
	bin := deltascope(b)
	var raw, watch, std []measured
	for i := 0; i < b.N; i++ {
		r := peer(b, "raw", url)
		if strings.TrimSpace(r.out) != fmt.Sprint(jsonBytes) {
			b.Fatalf("raw download read %s bytes, want %d", r.out, jsonBytes)
		}
		raw = append(raw, r)
		m := runChild(b, exec.Command(bin, "watch", "--no-session", "--entity-url", url, "--rounds", "1", "--interval", "1ms"))
		if want := fmt.Sprintf(`"records":%d`, records); !strings.Contains(m.out, want) {
			b.Fatalf("watch printed no %s:\n%.1000s", want, m.out)
		}
		watch = append(watch, m)
		if peers {
			s := peer(b, "stdjson", url)
			if strings.TrimSpace(s.out) != fmt.Sprint(records) {
				b.Fatalf("stdjson client kept %s records, want %d", s.out, records)
			}
			std = append(std, s)
		}
	}
	rw, rr := median(raw)
	ww, wr := median(watch)
	b.ReportMetric(float64(ww)/float64(rw), "x-raw")
	b.ReportMetric(float64(wr)/float64(jsonBytes), "rss/json")
	b.ReportMetric(float64(rw.Milliseconds()), "raw-ms")
	b.ReportMetric(float64(ww.Milliseconds()), "watch-ms")
	b.ReportMetric(float64(rr)/1e6, "raw-MB")
	b.ReportMetric(float64(wr)/1e6, "watch-MB")
	b.ReportMetric(float64(jsonBytes)/1e6, "json-MB")
	b.ReportMetric(float64(records)/ww.Seconds(), "records/s")
	if len(std) > 0 {
		sw, sr := median(std)
		b.ReportMetric(float64(sw)/float64(ww), "x-stdjson")
		b.ReportMetric(float64(sw.Milliseconds()), "stdjson-ms")
		b.ReportMetric(float64(sr)/1e6, "stdjson-MB")
	}
}

// median returns the median wall time and peak RSS of the runs.
func median(ms []measured) (time.Duration, int64) {
	walls := make([]time.Duration, len(ms))
	rss := make([]int64, len(ms))
	for i, m := range ms {
		walls[i], rss[i] = m.wall, m.rss
	}
	sort.Slice(walls, func(i, j int) bool { return walls[i] < walls[j] })
	sort.Slice(rss, func(i, j int) bool { return rss[i] < rss[j] })
	return walls[len(walls)/2], rss[len(rss)/2]
}
