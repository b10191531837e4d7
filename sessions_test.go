package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/deltascope/deltascope/deltaclient/deltatest"
	"github.com/deltascope/deltascope/store"
)

// TestMain keeps the sessions real-service runs store by default out of
// the home directory of whoever runs the tests.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "deltascope-state-")
	if err != nil {
		panic(err)
	}
	os.Setenv("XDG_STATE_HOME", dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func storedEvents(t *testing.T, out []byte) []map[string]any {
	t.Helper()
	var evs []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var ev map[string]any
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("not JSON: %q", sc.Text())
		}
		evs = append(evs, ev)
	}
	return evs
}

func runOK(t *testing.T, args ...string) []byte {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run(context.Background(), args, &out, &errb); code != 0 {
		t.Fatalf("%v: exit %d: %s", args, code, errb.String())
	}
	return out.Bytes()
}

func TestWatchSessionResumesAndHistory(t *testing.T) {
	t.Parallel()
	srv := deltatest.NewServer(deltatest.Options{Seed: 31, Records: 20})
	defer srv.Close()
	dir := t.TempDir()
	ids := srv.IDs("customers")
	watch := func(extra ...string) []map[string]any {
		args := append([]string{"watch", "--url", srv.ServiceRoot(), "--entity", "customers", "--state-dir", dir, "--session", "bc", "--interval", "10ms"}, extra...)
		return storedEvents(t, runOK(t, args...))
	}
	first := watch("--rounds", "1")
	if first[0]["event"] != "baseline" {
		t.Fatalf("first run starts with %v", first[0])
	}
	srv.Update("customers", ids[0], map[string]any{"displayName": "While Off"})
	srv.Delete("customers", ids[1])
	second := watch("--rounds", "2")
	res := second[0]
	if res["event"] != "resume" || res["entity"] != "customers" || res["records"].(float64) != 20 {
		t.Fatalf("second run starts with %v", res)
	}
	if _, err := time.Parse(time.RFC3339, res["since"].(string)); err != nil {
		t.Errorf("since %q: %v", res["since"], err)
	}
	var rounds []float64
	for _, ev := range second {
		if ev["event"] == "round" {
			rounds = append(rounds, ev["round"].(float64))
		}
	}
	if len(rounds) != 2 || rounds[0] != 2 || rounds[1] != 3 {
		t.Errorf("rounds of the resumed run %v, want 2 and 3 (the session's numbering)", rounds)
	}
	if second[1]["event"] != "updated" || second[1]["id"] != ids[0] || second[2]["event"] != "deleted" {
		t.Errorf("the first resumed round must show what changed while off: %v %v", second[1], second[2])
	}

	srv.Update("customers", ids[0], map[string]any{"displayName": "Later"})
	third := watch("--rounds", "1")

	// resume's since passed back as history --since shows what this run
	// found and nothing the runs before it had already shown.
	sinceResume := storedEvents(t, runOK(t, "history", "--state-dir", dir, "--session", "bc", "--since", third[0]["since"].(string)))
	if len(sinceResume) != 1 || sinceResume[0]["round"].(float64) != 4 {
		t.Errorf("history --since %s (resume's since): %v", third[0]["since"], sinceResume)
	}

	hist := storedEvents(t, runOK(t, "history", "--state-dir", dir, "--session", "bc"))
	if len(hist) != 3 {
		t.Fatalf("history has %d events, want 3: %v", len(hist), hist)
	}
	for i, ev := range hist {
		if _, ok := ev["round"].(float64); !ok {
			t.Errorf("event %d has no integer round: %v", i, ev)
		}
	}
	byKey := storedEvents(t, runOK(t, "history", "--state-dir", dir, "--session", "bc", "--key", ids[0]))
	if len(byKey) != 2 || byKey[0]["id"] != ids[0] || byKey[1]["changes"] == nil || byKey[0]["round"].(float64) != 2 || byKey[1]["round"].(float64) != 4 {
		t.Errorf("--key: %v", byKey)
	}
	// --since the first event's time: every later event, none before.
	since := hist[1]["time"].(string)
	after := storedEvents(t, runOK(t, "history", "--state-dir", dir, "--session", "bc", "--since", hist[0]["time"].(string)))
	if len(after) != 1 || after[0]["time"].(string) <= hist[0]["time"].(string) {
		t.Errorf("--since %s: %v", since, after)
	}

	out := runOK(t, "history", "--state-dir", dir, "--session", "bc", "--format", "csv")
	rows, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("CSV: %v\n%s", err, out)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	for _, h := range []string{"event", "id", "round", "time"} {
		if _, ok := col[h]; !ok {
			t.Fatalf("CSV header %v lacks %q", rows[0], h)
		}
	}
	if len(rows) != 4 {
		t.Fatalf("CSV has %d rows", len(rows))
	}
	for i, r := range rows[1:] {
		if r[col["id"]] != hist[i]["id"] || r[col["event"]] != hist[i]["event"] {
			t.Errorf("CSV row %d %v, NDJSON %v", i, r, hist[i])
		}
		if n, err := strconv.Atoi(r[col["round"]]); err != nil || float64(n) != hist[i]["round"].(float64) {
			t.Errorf("CSV round %q", r[col["round"]])
		}
	}
	var changes []map[string]any
	if err := json.Unmarshal([]byte(rows[1][col["changes"]]), &changes); err != nil || changes[0]["field"] != "displayName" {
		t.Errorf("changes column %q: %v", rows[1][col["changes"]], err)
	}

	snap := runOK(t, "snapshot", "--state-dir", dir, "--session", "bc", "--entity", "customers")
	got := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(snap)), "\n") {
		var r struct{ ID string }
		json.Unmarshal([]byte(l), &r)
		got[r.ID] = l
	}
	want := srv.Records("customers")
	if len(got) != len(want) {
		t.Fatalf("snapshot has %d records, service %d", len(got), len(want))
	}
	for id, raw := range want {
		if got[id] != string(raw) {
			t.Errorf("record %s stored as %s, service has %s", id, got[id], raw)
		}
	}

	list := runOK(t, "sessions", "--state-dir", dir)
	if !strings.Contains(string(list), "bc ") || !strings.Contains(string(list), srv.ServiceRoot()) || !strings.Contains(string(list), " 19 ") {
		t.Errorf("sessions:\n%s", list)
	}
	fresh := watch("--rounds", "1", "--fresh")
	if fresh[0]["event"] != "baseline" {
		t.Errorf("--fresh starts with %v", fresh[0])
	}
	if h := storedEvents(t, runOK(t, "history", "--state-dir", dir, "--session", "bc")); len(h) != 0 {
		t.Errorf("--fresh keeps %d old events; it discards the session", len(h))
	}
	runOK(t, "sessions", "rm", "bc", "--state-dir", dir)
	if _, err := os.Stat(filepath.Join(dir, "bc.session")); !os.IsNotExist(err) {
		t.Errorf("sessions rm left the file: %v", err)
	}
}

func TestSessionErrors(t *testing.T) {
	t.Parallel()
	srv := deltatest.NewServer(deltatest.Options{Seed: 32, Records: 5})
	defer srv.Close()
	dir := t.TempDir()
	base := []string{"watch", "--url", srv.ServiceRoot(), "--entity", "customers", "--state-dir", dir, "--interval", "10ms", "--rounds", "1"}

	// Locked: a second writer is refused, readers are not.
	held, err := store.Open(dir, "busy", "x", false)
	if err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	code := run(context.Background(), append(base, "--session", "busy"), &out, &errb)
	if code != 1 || !strings.Contains(errb.String(), "session busy in use by pid "+strconv.Itoa(os.Getpid())) {
		t.Errorf("locked: exit %d, %q", code, errb.String())
	}
	runOK(t, "history", "--state-dir", dir, "--session", "busy")
	held.Close()

	// Corrupt: a clear message naming --fresh; the file is left alone.
	p := filepath.Join(dir, "bad.session")
	os.WriteFile(p, []byte(strings.Repeat("garbage!", 2048)), 0o600)
	out.Reset()
	errb.Reset()
	code = run(context.Background(), append(base, "--session", "bad"), &out, &errb)
	if code != 1 || !strings.Contains(errb.String(), "--fresh") || strings.Count(errb.String(), "\n") != 1 {
		t.Errorf("corrupt: exit %d, %q", code, errb.String())
	}
	if b, _ := os.ReadFile(p); !bytes.HasPrefix(b, []byte("garbage!")) {
		t.Error("corrupt store overwritten")
	}
	if evs := storedEvents(t, runOK(t, append(base, "--session", "bad", "--fresh")...)); evs[0]["event"] != "baseline" {
		t.Errorf("--fresh on a corrupt store: %v", evs[0])
	}

	// A default session for a real service; none for --no-session.
	runOK(t, append(base, "--no-session")...)
	before, _ := filepath.Glob(filepath.Join(dir, "*.session"))
	runOK(t, base...)
	after, _ := filepath.Glob(filepath.Join(dir, "*.session"))
	if len(after) != len(before)+1 {
		t.Errorf("a real service gets a session by default: %v -> %v", before, after)
	}
	for _, bad := range [][]string{
		{"history", "--state-dir", dir, "--session", "bad", "--format", "xml"},
		{"history", "--state-dir", dir, "--session", "bad", "--since", "yesterday"},
		{"history", "--state-dir", dir, "--session", "nope"},
		{"history", "--state-dir", dir, "--session", "bad", "--entity", "vendors"},
		{"watch", "--no-session", "--session", "x"},
		{"watch", "--session", "../etc"},
	} {
		errb.Reset()
		if code := run(context.Background(), bad, &out, &errb); code != 2 || strings.Count(errb.String(), "\n") != 1 {
			t.Errorf("%v: exit %d, %q", bad, code, errb.String())
		}
	}
}
