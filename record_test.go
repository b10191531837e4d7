package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/deltascope/deltascope/deltaclient/deltatest"
	"github.com/deltascope/deltascope/har"
	"github.com/deltascope/deltascope/har/hartest"
)

// readHAR checks a recording against the HAR 1.2 schema (a consumer we did
// not write), reads it with ours and checks the contract details every
// entry must meet.
func readHAR(t *testing.T, path string) *har.Log {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := hartest.Validate(data); err != nil {
		t.Fatalf("%s is not valid HAR 1.2: %v", path, err)
	}
	l, err := har.Read(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var raw struct {
		Log struct {
			Entries []map[string]any `json:"entries"`
		} `json:"log"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatalf("the recording is not JSON: %v", err)
	}
	for i, e := range l.Entries {
		if !regexp.MustCompile(`(Z|[+-]\d\d:\d\d)$`).MatchString(e.StartedDateTime) {
			t.Errorf("entry %d: startedDateTime %q has no time zone", i, e.StartedDateTime)
		}
		if strings.Contains(e.Request.URL, "?") && len(e.Request.QueryString) == 0 {
			t.Errorf("entry %d: %s has an empty queryString", i, e.Request.URL)
		}
		tm := raw.Log.Entries[i]["timings"].(map[string]any)
		for _, k := range []string{"send", "wait", "receive"} {
			if _, ok := tm[k]; !ok {
				t.Errorf("entry %d: timings.%s missing", i, k)
			}
		}
	}
	return l
}

// wireEvents parses watch output and returns its NDJSON events without time and ms
// (and with the wait of a retry, which carries jitter, masked), and with
// base URLs replaced by ORIGIN.
func wireEvents(t *testing.T, out string, origins ...string) []map[string]any {
	t.Helper()
	var evs []map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<24)
	wait := regexp.MustCompile(`retrying in [0-9.]+m?s`)
	conn := regexp.MustCompile(`tcp [0-9.:]+(->|-\\u003e)[0-9.:]+:`) // ports differ from run to run
	// A retry's page number comes from the progress so far, which races
	// with the page fetched ahead: a live run varies the same way.
	page := regexp.MustCompile(`"page \d+: `)
	for sc.Scan() {
		line := sc.Text()
		for _, o := range origins {
			line = strings.ReplaceAll(line, o, "ORIGIN")
		}
		line = wait.ReplaceAllString(line, "retrying in WAIT")
		line = conn.ReplaceAllString(line, "tcp LOCAL->REMOTE:")
		if strings.Contains(line, `"retrying":true`) {
			line = page.ReplaceAllString(line, `"page N: `)
		}
		var ev map[string]any
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("not JSON: %q", line)
		}
		delete(ev, "time")
		delete(ev, "ms")
		evs = append(evs, ev)
	}
	return evs
}

// TestRecordReplayWatch: watch recorded against deltatest with a retry
// (503), a dropped connection, a 410 and a 500 (an entity without deltas,
// then polled),
// then watch on `deltascope replay` of that file prints the same events,
// and a replay with more rounds gets empty deltas after the recorded ones.
func TestRecordReplayWatch(t *testing.T) {
	t.Parallel()
	srv := deltatest.NewServer(deltatest.Options{Seed: 9, Records: 14, PageSize: 5, Faults: deltatest.Faults{RetryAfter: 0}})
	defer srv.Close()
	path := filepath.Join(t.TempDir(), "watch.har")
	ids := srv.IDs("customers")
	srv.InjectFault("503", 1)
	srv.InjectFault("reset", 4)
	rounds := 0
	out := &hookWriter{onLine: func(line string) {
		switch {
		case strings.Contains(line, `"entity":"customers","event":"baseline"`):
			srv.Update("customers", ids[2], map[string]any{"displayName": "Super Cloud"})
			srv.Delete("customers", ids[5])
		case strings.Contains(line, `"entity":"customers","event":"round"`):
			rounds++
			if rounds == 1 {
				srv.Add("customers", map[string]any{"displayName": "Alpine Ski House"})
				srv.Expire("customers")
			}
		}
	}}
	var stderr bytes.Buffer
	code := run(context.Background(), []string{"watch", "--url", srv.ServiceRoot(), "--rounds", "3", "--interval", "10ms", "--record", path}, out, &stderr)
	if code != 0 {
		t.Fatalf("recording run: exit %d: %s", code, stderr.String())
	}
	recorded := wireEvents(t, out.buf.String(), srv.URL)
	text := out.buf.String()
	for _, want := range []string{`"retrying":true`, `"event":"gone"`, `"via":"poll"`, `"via":"rebaseline"`, `"event":"deleted"`, `"event":"updated"`} {
		if !strings.Contains(text, want) {
			t.Fatalf("the recorded run lacks %s; the test is not exercising it:\n%s", want, text)
		}
	}
	l := readHAR(t, path)
	statuses := map[int]int{}
	for _, e := range l.Entries {
		statuses[e.Response.Status]++
	}
	if statuses[503] != 1 || statuses[410] != 1 || statuses[500] == 0 || statuses[200] < 10 {
		t.Errorf("statuses recorded: %v (every attempt is one entry)", statuses)
	}
	if st := srv.Stats(); len(l.Entries) < st.Pages {
		t.Errorf("%d entries for %d page requests", len(l.Entries), st.Pages)
	}

	base, stop := serveReplay(t, path)
	defer stop()
	var replayed bytes.Buffer
	stderr.Reset()
	code = run(context.Background(), []string{"watch", "--url", base + "/api/v2.0", "--rounds", "3", "--interval", "10ms"}, &replayed, &stderr)
	if code != 0 {
		t.Fatalf("replayed run: exit %d: %s", code, stderr.String())
	}
	if diff := cmp.Diff(recorded, wireEvents(t, replayed.String(), base)); diff != "" {
		t.Errorf("the replayed run differs from the recorded one (-recorded +replayed):\n%s", diff)
	}

	// More rounds than were recorded: the same, then empty rounds.
	base, stop = serveReplay(t, path)
	defer stop()
	replayed.Reset()
	code = run(context.Background(), []string{"watch", "--url", base + "/api/v2.0", "--rounds", "5", "--interval", "10ms"}, &replayed, &stderr)
	if code != 0 {
		t.Fatalf("longer replay: exit %d: %s", code, stderr.String())
	}
	longer := wireEvents(t, replayed.String(), base)
	if diff := cmp.Diff(recorded, longer[:len(recorded)]); diff != "" {
		t.Errorf("the longer replay starts differently:\n%s", diff)
	}
	for _, ev := range longer[len(recorded):] {
		if ev["event"] != "round" || ev["added"].(float64)+ev["updated"].(float64)+ev["deleted"].(float64) != 0 {
			t.Errorf("past the recording a round must be empty: %v", ev)
		}
	}
}

// serveReplay runs `deltascope replay FILE` and returns the base URL from
// its first line.
func serveReplay(t *testing.T, path string) (string, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	lines := make(chan string, 1)
	out := &hookWriter{onLine: func(l string) {
		select {
		case lines <- l:
		default:
		}
	}}
	done := make(chan int)
	go func() {
		var stderr bytes.Buffer
		done <- run(ctx, []string{"replay", path}, out, &stderr)
	}()
	select {
	case base := <-lines:
		if !strings.HasPrefix(base, "http://127.0.0.1:") {
			t.Fatalf("first line %q is not the base URL", base)
		}
		return base, func() { cancel(); <-done }
	case code := <-done:
		t.Fatalf("replay exited %d", code)
	}
	return "", nil
}

func TestRecordReplayProbe(t *testing.T) {
	t.Parallel()
	srv := deltatest.NewServer(deltatest.Options{Seed: 3, Records: 9, Faults: deltatest.Faults{RetryAfter: 0}})
	defer srv.Close()
	srv.InjectFault("429", 2)
	path := filepath.Join(t.TempDir(), "probe.har")
	var out, stderr bytes.Buffer
	code := run(context.Background(), []string{"probe", "--json", "--concurrency", "1", "--url", srv.ServiceRoot(), "--record", path}, &out, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	l := readHAR(t, path)
	n429 := 0
	for _, e := range l.Entries {
		if e.Response.Status == 429 {
			n429++
		}
	}
	if n429 != 1 {
		t.Errorf("%d 429s recorded, want the retried one", n429)
	}
	base, stop := serveReplay(t, path)
	defer stop()
	var again bytes.Buffer
	stderr.Reset()
	code = run(context.Background(), []string{"probe", "--json", "--concurrency", "1", "--url", base + "/api/v2.0"}, &again, &stderr)
	if code != 0 {
		t.Fatalf("replayed probe: exit %d: %s", code, stderr.String())
	}
	norm := func(s, origin string) string {
		return regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.`).ReplaceAllString(strings.ReplaceAll(s, origin, "ORIGIN"), "ID.")
	}
	if diff := cmp.Diff(norm(out.String(), srv.URL), norm(again.String(), base)); diff != "" {
		t.Errorf("replayed probe differs:\n%s", diff)
	}
	if !strings.Contains(out.String(), `"supports": "no"`) || !strings.Contains(out.String(), `"supports": "yes"`) {
		t.Errorf("probe output: %s", out.String())
	}
}

// TestRecordingHoldsNoSecret records a session with each way to
// authenticate, against a service that echoes the Authorization header in
// every body and header, and a token endpoint that echoes the client
// secret; then looks for every secret in every encoding the process used.
func TestRecordingHoldsNoSecret(t *testing.T) {
	const (
		token    = "tok+en/1234=="
		password = `pa:ss w+rd/"<1>`
		cmdToken = "cmd+tok/5678=="
		secret   = `cl&ient sec+ret/"9"`
		issued   = "AT+issued/9999=="
	)
	demo := deltatest.New(deltatest.Options{Seed: 2, Records: 5})
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		demo.ServeHTTP(rec, r)
		auth := r.Header.Get("Authorization")
		for k, vs := range rec.Header() {
			w.Header()[k] = vs
		}
		w.Header().Set("X-Echo", auth)
		w.Header().Del("Content-Length")
		w.WriteHeader(rec.Code)
		body := rec.Body.Bytes()
		if bytes.HasPrefix(body, []byte("{")) {
			q, _ := json.Marshal(auth)
			body = append([]byte(`{"echo":`+string(q)+`,`), body[1:]...)
		}
		w.Write(body)
	}))
	defer echo.Close()
	tokenSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"access_token": issued, "token_type": "Bearer", "expires_in": 3599, "echo": r.Form.Get("client_secret")})
	}))
	defer tokenSrv.Close()

	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	jsonForms := func(s string) []string {
		q, _ := json.Marshal(s)
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		enc.Encode(s)
		return []string{string(q[1 : len(q)-1]), strings.TrimSpace(b.String())[1 : len(strings.TrimSpace(b.String()))-1]}
	}
	encodings := func(s string) []string {
		return append([]string{s, url.QueryEscape(s), url.PathEscape(s), b64(s)}, jsonForms(s)...)
	}
	cases := []struct {
		name    string
		env     map[string]string
		args    []string
		secrets []string
	}{
		{"bearer", map[string]string{"DELTASCOPE_TOKEN": token}, nil, append(encodings(token), b64("Bearer "+token))},
		{"basic", map[string]string{"DELTASCOPE_PASSWORD": password}, []string{"--user", "admin"}, append(encodings(password), encodings(b64("admin:"+password))...)},
		{"token command", nil, []string{"--token-command", "echo '" + cmdToken + "'"}, encodings(cmdToken)},
		{"client credentials", map[string]string{"DELTASCOPE_CLIENT_SECRET": secret}, []string{"--client-id", "app-1", "--tenant", "contoso", "--token-url", tokenSrv.URL},
			append(encodings(secret), encodings(issued)...)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			dir := t.TempDir()
			path, logPath := filepath.Join(dir, "s.har"), filepath.Join(dir, "log.ndjson")
			var stdout, stderr bytes.Buffer
			args := append([]string{"watch", "--url", echo.URL + "/api/v2.0", "--entity", "customers", "--rounds", "1", "--interval", "1ms", "--record", path, "--log", logPath}, tc.args...)
			if code := run(context.Background(), args, &stdout, &stderr); code != 0 {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
			l := readHAR(t, path)
			sawEcho, sawAuth := false, false
			for _, e := range l.Entries {
				for _, h := range e.Request.Headers {
					sawAuth = sawAuth || h.Name == "Authorization" && strings.HasSuffix(h.Value, "[redacted]")
				}
				sawEcho = sawEcho || strings.Contains(e.Response.Content.Text, `"echo":"`)
			}
			if !sawAuth || !sawEcho {
				t.Fatalf("the recording must show a redacted Authorization (%v) and the echoes (%v)", sawAuth, sawEcho)
			}
			har, _ := os.ReadFile(path)
			logText, _ := os.ReadFile(logPath)
			for _, s := range tc.secrets {
				for name, text := range map[string][]byte{"recording": har, "--log": logText, "stdout": stdout.Bytes(), "stderr": stderr.Bytes()} {
					if i := bytes.Index(text, []byte(s)); i >= 0 {
						t.Errorf("%s holds the secret as %q: …%s…", name, s, text[max(0, i-80):min(len(text), i+80)])
					}
				}
			}
			if tc.name == "client credentials" && !bytes.Contains(har, []byte(`"url":"`+tokenSrv.URL)) {
				t.Error("the token request is not in the recording")
			}
			if t.Failed() {
				fmt.Println(string(har[:min(len(har), 3000)]))
			}
		})
	}
}

// TestRecordingIsValidHARWhateverTheExit: after an interrupt, an error exit
// and a kill -9 at random moments the file is whole HAR holding the
// exchanges made so far.
func TestRecordingIsValidHARWhateverTheExit(t *testing.T) {
	t.Parallel()
	srv := deltatest.NewServer(deltatest.Options{Seed: 4, Records: 12})
	defer srv.Close()
	dir := t.TempDir()

	t.Run("interrupt", func(t *testing.T) {
		path := filepath.Join(dir, "interrupt.har")
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		out := &hookWriter{onLine: func(line string) {
			if strings.Contains(line, `"event":"round"`) {
				cancel()
			}
		}}
		var stderr bytes.Buffer
		if code := run(ctx, []string{"watch", "--url", srv.ServiceRoot(), "--entity", "customers", "--interval", "5ms", "--record", path}, out, &stderr); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
		if l := readHAR(t, path); len(l.Entries) < 4 {
			t.Errorf("%d entries", len(l.Entries))
		}
	})
	t.Run("error exit", func(t *testing.T) {
		path := filepath.Join(dir, "error.har")
		denied := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":{"code":"Unauthorized","message":"no"}}`)
		}))
		defer denied.Close()
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), []string{"watch", "--url", denied.URL + "/api/v2.0", "--record", path}, &stdout, &stderr); code != 1 {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
		l := readHAR(t, path)
		if len(l.Entries) == 0 || l.Entries[0].Response.Status != 401 || !strings.Contains(l.Entries[0].Response.Content.Text, "Unauthorized") {
			t.Errorf("entries %+v", l.Entries)
		}
	})
	t.Run("kill -9", func(t *testing.T) {
		if testing.Short() {
			t.Skip("builds and kills the binary; skipped with -short")
		}
		bin := filepath.Join(t.TempDir(), "deltascope")
		if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
			t.Fatalf("build: %v\n%s", err, out)
		}
		most := 0
		for i := 0; i < 6; i++ {
			path := filepath.Join(dir, fmt.Sprintf("kill%d.har", i))
			cmd := exec.Command(bin, "watch", "--url", srv.ServiceRoot(), "--interval", "2ms", "--no-session", "--record", path)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// From before the first request to deep in the rounds,
			// whatever the machine's load: wait for i*5 entries.
			for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
				if data, err := os.ReadFile(path); err == nil && bytes.Count(data, []byte("\n{")) >= i*5 {
					break
				}
			}
			cmd.Process.Signal(syscall.SIGKILL)
			cmd.Wait()
			if _, err := os.Stat(path); err != nil {
				continue // killed before it opened the file
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if hartest.Validate(data) != nil {
				// The kernel stops a write between pages on SIGKILL, so
				// a kill inside the write of a large entry cuts it: that
				// entry is lost, not the file (README, har.Read).
				l, err := har.Read(bytes.NewReader(data))
				if err != nil {
					t.Fatalf("kill %d: a torn recording is not repaired: %v", i, err)
				}
				fixed, _ := json.Marshal(har.File{Log: *l})
				if err := hartest.Validate(fixed); err != nil {
					t.Fatalf("kill %d: the repaired recording is not valid HAR 1.2: %v", i, err)
				}
				if len(l.Entries) > most {
					most = len(l.Entries)
				}
				continue
			}
			if l := readHAR(t, path); len(l.Entries) > most {
				most = len(l.Entries)
			}
		}

		if most < 10 {
			t.Errorf("at most %d entries before a kill; the test is not reaching the rounds", most)
		}
	})
}

func TestReplayErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notHAR := filepath.Join(dir, "x.har")
	os.WriteFile(notHAR, []byte(`{"value":[]}`), 0o600)
	devtools := filepath.Join(dir, "devtools.har")
	os.WriteFile(devtools, []byte(`{"log":{"version":"1.2","creator":{"name":"WebInspector","version":"1"},"entries":[{"startedDateTime":"2026-11-25T14:03:00Z","time":1,"request":{"method":"GET","url":"https://graph.microsoft.com/v1.0/users/delta"},"response":{"status":200,"content":{"text":"{}"}}}]}}`), 0o600)
	for _, tc := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"replay", filepath.Join(dir, "none.har")}, 1, "deltascope replay: open "},
		{[]string{"replay", notHAR}, 1, "not a HAR file: no log.entries"},
		{[]string{"replay"}, 2, "accepts 1 arg(s)"},
		{[]string{"watch", "--replay", devtools}, 2, "the recording does not say which service it followed; give --url or --entity-url as they were recorded"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), tc.args, &stdout, &stderr); code != tc.code || !strings.Contains(stderr.String(), tc.stderr) || strings.Count(stderr.String(), "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q", tc.args, code, stderr.String())
		}
	}
}
