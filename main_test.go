package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deltascope/deltascope/deltaclient/deltatest"
)

// hookWriter calls onLine for each complete line written to it.
type hookWriter struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	onLine func(string)
}

func (h *hookWriter) Write(p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.buf.Write(p)
	for _, line := range strings.SplitAfter(string(p), "\n") {
		if strings.HasSuffix(line, "\n") && h.onLine != nil {
			h.onLine(strings.TrimSpace(line))
		}
	}
	return len(p), nil
}

func TestWatchEndToEnd(t *testing.T) {
	t.Parallel()
	srv := deltatest.NewServer(deltatest.Options{Seed: 4, Records: 12})
	defer srv.Close()
	ids := srv.IDs("customers")
	var added string
	out := &hookWriter{onLine: func(line string) {
		if strings.Contains(line, `"event":"baseline"`) {
			srv.Update("customers", ids[0], map[string]any{"displayName": "Super Cloud"})
			srv.Delete("customers", ids[1])
			added, _ = srv.Add("customers", map[string]any{"displayName": "Alpine Ski House"})
		}
	}}
	var stderr bytes.Buffer
	code := run(context.Background(), []string{"watch", "--url", srv.ServiceRoot(), "--entity", "customers", "--rounds", "2", "--interval", "20ms"}, out, &stderr)
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
	var events []map[string]any
	sc := bufio.NewScanner(&out.buf)
	for sc.Scan() {
		var ev map[string]any
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("line is not JSON: %q", sc.Text())
		}
		for _, k := range []string{"time", "entity", "event"} {
			if ev[k] == nil {
				t.Errorf("line lacks %q: %s", k, sc.Text())
			}
		}
		events = append(events, ev)
	}
	var kinds []string
	for _, ev := range events {
		kinds = append(kinds, ev["event"].(string))
	}
	if got := strings.Join(kinds, ","); got != "baseline,updated,deleted,added,round,round" {
		t.Fatalf("events %s", got)
	}
	if events[0]["records"].(float64) != 12 {
		t.Errorf("baseline records %v", events[0]["records"])
	}
	ch := events[1]["changes"].([]any)[0].(map[string]any)
	if ch["field"] != "displayName" || ch["new"] != "Super Cloud" || ch["old"] == nil {
		t.Errorf("updated change %v", ch)
	}
	if events[2]["id"] != ids[1] || events[2]["reason"] != "deleted" || events[3]["id"] != added {
		t.Errorf("deleted/added events: %v %v", events[2], events[3])
	}
	r := events[4]
	if r["round"].(float64) != 1 || r["added"].(float64) != 1 || r["updated"].(float64) != 1 || r["deleted"].(float64) != 1 {
		t.Errorf("round event %v", r)
	}
}

func TestWatchExitCodes(t *testing.T) {
	t.Parallel()
	srv := deltatest.NewServer(deltatest.Options{Seed: 1, Records: 3})
	t.Cleanup(srv.Close)
	dead := httptest.NewServer(nil)
	deadURL := dead.URL
	dead.Close()
	cases := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"bad flag", []string{"watch", "--bogus"}, 2, "unknown flag: --bogus"},
		{"bad interval", []string{"watch", "--interval", "soon"}, 2, `invalid argument "soon" for "-i, --interval" flag`},
		{"negative interval", []string{"watch", "--interval", "-1s"}, 2, "--interval -1s: must be positive"},
		{"bad rounds", []string{"watch", "--rounds", "-2"}, 2, "--rounds -2: must be 0"},
		{"url without scheme", []string{"probe", "--url", "127.0.0.1:8080/api"}, 2, `did you mean http://127.0.0.1:8080/api?`},
		{"url that is no url", []string{"probe", "--url", "notaurl"}, 2, `--url "notaurl" is not a URL`},
		{"stray argument", []string{"watch", "customers"}, 2, `unknown command "customers"`},
		{"unsupported entity", []string{"watch", "--url", srv.ServiceRoot(), "--entity", "balanceSheet", "--rounds", "1", "--delta-only", "--no-session"}, 3, "balanceSheet does not support delta requests (500)"},
		{"unreachable server", []string{"watch", "--url", deadURL + "/api/v2.0", "--rounds", "1"}, 1, "connection refused"},
		{"success", []string{"watch", "--url", srv.ServiceRoot(), "--entity", "items", "--rounds", "1", "--interval", "1ms", "--no-session"}, 0, ""},
		{"unknown command", []string{"wacth"}, 2, `unknown command "wacth"`},
		{"bad header", []string{"watch", "--header", "nocolon"}, 2, "must look like 'Name: value'"},
		{"failing token command", []string{"probe", "--url", srv.ServiceRoot(), "--token-command", "echo first >&2; echo 'Please run az login' >&2; exit 1"}, 1, "--token-command failed (exit status 1): Please run az login"},
		{"set asked for twice", []string{"watch", "--url", srv.ServiceRoot(), "--entity", "customers", "--entity-url", srv.CollectionURL("customers")}, 2, "the entity set customers is asked for twice"},
		{"unknown entity", []string{"watch", "--url", srv.ServiceRoot(), "--entity", "custmers"}, 2, "did you mean customers?"},
		{"TUI interval too short", []string{"--interval", "1ms"}, 2, "deltascope: --interval 1ms: must be between 2s and 5m"},
		{"TUI interval too long", []string{"-i", "1h"}, 2, "--interval 1h: must be between 2s and 5m"},
		{"TUI concurrency", []string{"--concurrency", "0"}, 2, "--concurrency 0: must be at least 1"},
		{"TUI on-gone", []string{"--on-gone", "exit"}, 2, `--on-gone "exit": must be ask or rebaseline`},
	}
	// Subtests against srv run in parallel: a shared session would be
	// locked by one of them, so those that reach the service keep none.
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tc.args, &stdout, &stderr)
			if code != tc.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tc.code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.stderr) {
				t.Errorf("stderr %q does not say %q", stderr.String(), tc.stderr)
			}
			if n := strings.Count(strings.TrimSpace(stderr.String()), "\n"); tc.stderr != "" && n != 0 {
				t.Errorf("want one line on stderr, got %d: %q", n+1, stderr.String())
			}
		})
	}
}

func TestWatchRebaselinesAfterGone(t *testing.T) {
	t.Parallel()
	srv := deltatest.NewServer(deltatest.Options{Seed: 8, Records: 6})
	defer srv.Close()
	ids := srv.IDs("vendors")
	out := &hookWriter{onLine: func(line string) {
		if strings.Contains(line, `"event":"baseline"`) {
			srv.Delete("vendors", ids[0])
			srv.Expire("vendors")
		}
	}}
	var stderr bytes.Buffer
	code := run(context.Background(), []string{"watch", "--url", srv.ServiceRoot(), "--entity", "vendors", "--rounds", "1", "--interval", "1ms"}, out, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	text := out.buf.String()
	for _, want := range []string{`"event":"gone"`, `"location":"` + srv.CollectionURL("vendors") + `"`, `"event":"deleted","id":"` + ids[0] + `","reason":"deleted","via":"rebaseline"`} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %s:\n%s", want, text)
		}
	}
	code = run(context.Background(), []string{"watch", "--url", srv.ServiceRoot(), "--entity", "vendors", "--rounds", "1", "--interval", "1ms", "--on-gone", "exit", "--no-session"},
		&hookWriter{onLine: func(line string) {
			if strings.Contains(line, `"event":"baseline"`) {
				srv.Expire("vendors")
			}
		}}, &stderr)
	if code != 4 {
		t.Errorf("--on-gone exit: code %d", code)
	}
}

func TestCommandLine(t *testing.T) {
	t.Parallel()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"completion", "bash"}, "bash completion"},
		{[]string{"completion", "zsh"}, "#compdef deltascope"},
		{[]string{"completion", "fish"}, "complete -c deltascope"},
		{[]string{"version"}, "deltascope "},
		{[]string{"--version"}, "deltascope "},
		{[]string{"watch", "--help"}, "--entity stringArray"},
		{[]string{"help", "probe"}, "Exit codes"},
		// The help names the code probe returns for an error verdict
		// (exitProbeError), as the README's table does.
		{[]string{"probe", "--help"}, "5 when some set's verdict is error"},
	}
	for _, tc := range cases {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), tc.args, &stdout, &stderr); code != 0 {
			t.Errorf("%v: exit %d, stderr %q", tc.args, code, stderr.String())
		}
		if !strings.Contains(stdout.String(), tc.want) {
			t.Errorf("%v: stdout lacks %q:\n%.300s", tc.args, tc.want, stdout.String())
		}
	}
}

// TestDemoBannerListsEveryCompany: with --companies 3 the banner names all
// three, so a client can pick any.
func TestDemoBannerListsEveryCompany(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	var stdout, stderr bytes.Buffer
	if code := run(ctx, []string{"demo", "--addr", "127.0.0.1:0", "--companies", "3"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	for _, want := range []string{"companies     ", "(CRONUS USA, Inc.)", "(CRONUS International Ltd.)", "(My Company)"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("banner lacks %q:\n%s", want, stdout.String())
		}
	}
}

// TestDemoChunkedAndGzip: --chunked sends pages without a Content-Length,
// --gzip compresses them for a client that accepts gzip.
func TestDemoChunkedAndGzip(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	urls := make(chan string, 1)
	out := &hookWriter{onLine: func(line string) {
		if u, ok := strings.CutPrefix(line, "customers"); ok {
			urls <- strings.TrimSpace(u)
		}
	}}
	var stderr bytes.Buffer
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"demo", "--addr", "127.0.0.1:0", "--chunked", "--gzip", "--change-every", "0"}, out, &stderr)
	}()
	var u string
	select {
	case u = <-urls:
	case code := <-done:
		t.Fatalf("demo exited %d: %s", code, stderr.String())
	}
	hc := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	for _, ae := range []string{"gzip", ""} {
		req, _ := http.NewRequestWithContext(ctx, "GET", u, nil)
		if ae != "" {
			req.Header.Set("Accept-Encoding", ae)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.ContentLength != -1 || resp.Header.Get("Content-Encoding") != ae {
			t.Errorf("Accept-Encoding %q: Content-Length %d, Content-Encoding %q", ae, resp.ContentLength, resp.Header.Get("Content-Encoding"))
		}
		if gz := len(body) > 2 && body[0] == 0x1f && body[1] == 0x8b; gz != (ae == "gzip") {
			t.Errorf("Accept-Encoding %q: the body starts %q", ae, body[:min(len(body), 10)])
		}
	}
	cancel()
	<-done
}
