package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/deltascope/deltascope/deltaclient/deltatest"
	"github.com/deltascope/deltascope/store"
)

// TestKillNineResumes runs the built binary's `watch --session` against the
// demo service with its change generator on, kills it with SIGKILL at
// random moments and starts it again, many times over. Then the stored
// snapshot must equal the service's data, the stored history replayed on
// the first baseline must give the same, and no round may be in the
// history twice. DELTASCOPE_CRASH_KILLS sets the number of kills (the
// default fits CI; try 200).
func TestKillNineResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the binary; skipped with -short")
	}
	t.Parallel()
	kills, minRounds := 20, 200
	if v, err := strconv.Atoi(os.Getenv("DELTASCOPE_CRASH_KILLS")); err == nil && v > 0 {
		kills, minRounds = v, 10*v
	}
	bin := filepath.Join(t.TempDir(), "deltascope")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	srv := deltatest.NewServer(deltatest.Options{Seed: 77, Records: 300, PageSize: 40, ChangeEvery: 2 * time.Millisecond, Sets: []string{"customers"}})
	defer srv.Close()
	srv.PauseChanges()
	time.Sleep(20 * time.Millisecond) // a generator step in flight ends
	first := srv.Records("customers")
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	state := func() store.State {
		s, err := store.OpenReadOnly(dir, "crash")
		var nf *store.NotFoundError
		if errors.As(err, &nf) {
			return store.State{} // killed before it made the file
		}
		if err != nil {
			t.Fatalf("after a kill: %v", err)
		}
		defer s.Close()
		st, err := s.State("customers")
		if err != nil {
			t.Fatalf("after a kill: %v", err)
		}
		return st
	}
	watch := func(args ...string) *exec.Cmd {
		cmd := exec.Command(bin, append([]string{"watch", "--url", srv.ServiceRoot(), "--entity", "customers", "--state-dir", dir, "--session", "crash", "--interval", "3ms", "--maxpagesize", "40"}, args...)...)
		cmd.Stdout, cmd.Stderr = new(bytes.Buffer), new(bytes.Buffer)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	killed, resumed := 0, 0
	slack := time.Duration(0) // grows while runs die before they commit anything
	for killed < kills || state().Seq < minRounds {
		before := state()
		cmd := watch()
		// Mostly mid-run; now and then right at the start, during the
		// baseline or the resume.
		wait := slack + time.Duration(40+rng.IntN(300))*time.Millisecond
		if rng.IntN(4) == 0 {
			wait = time.Duration(rng.IntN(15)) * time.Millisecond
		}
		time.Sleep(wait)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		killed++
		if bytes.Contains(cmd.Stdout.(*bytes.Buffer).Bytes(), []byte(`"event":"resume"`)) {
			resumed++
		}
		st := state()
		if st.Baselined() {
			srv.ResumeChanges() // changes start once the first baseline is stored
		}
		switch {
		case wait < 15*time.Millisecond:
		case st.Seq == before.Seq && st.Gen == before.Gen:
			slack = min(2*slack+100*time.Millisecond, 3*time.Second) // a slow machine
		default:
			slack /= 2
		}
		if killed > 20*kills {
			t.Fatalf("after %d kills only %d rounds are stored", killed, state().Seq)
		}
	}
	srv.PauseChanges()
	time.Sleep(20 * time.Millisecond)
	// One clean run catches up with the service as it now stands.
	cmd := watch("--rounds", "1")
	if err := cmd.Wait(); err != nil {
		t.Fatalf("final run: %v\n%s", err, cmd.Stderr)
	}
	want := srv.Records("customers")
	t.Logf("%d kills, %d runs resumed, %d rounds stored, %d records", killed, resumed, state().Seq, len(want))
	if resumed == 0 {
		t.Error("no run resumed")
	}

	// The stored snapshot is the service's data, byte for byte.
	s, err := store.OpenReadOnly(dir, "crash")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	snap, _, err := s.Load("customers")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]json.RawMessage{}
	snap.Each(func(id string, raw []byte) bool { got[id] = raw; return true })
	assertSameRecords(t, "stored snapshot", want, got)

	// `history` replayed on the first baseline gives the same, and each
	// round appears once, in order.
	var out, errb bytes.Buffer
	if code := run(t.Context(), []string{"history", "--state-dir", dir, "--session", "crash"}, &out, &errb); code != 0 {
		t.Fatalf("history: %s", errb.String())
	}
	replay := map[string]json.RawMessage{}
	for id, raw := range first {
		replay[id] = raw
	}
	seen := map[int]bool{}
	last := 0
	sc := bufio.NewScanner(&out)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var ev struct {
			Event, ID string
			Round     int
			Record    json.RawMessage
		}
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Round != last {
			if seen[ev.Round] || ev.Round < last {
				t.Fatalf("round %d appears twice in the history (after round %d)", ev.Round, last)
			}
			seen[ev.Round], last = true, ev.Round
		}
		switch ev.Event {
		case "added", "updated":
			replay[ev.ID] = ev.Record
		case "deleted":
			delete(replay, ev.ID)
		}
	}
	if len(seen) < minRounds/4 {
		t.Errorf("only %d rounds brought changes", len(seen))
	}
	assertSameRecords(t, "history replayed on the first baseline", want, replay)
}

func assertSameRecords(t *testing.T, what string, want, got map[string]json.RawMessage) {
	t.Helper()
	bad := 0
	for id, w := range want {
		if g, ok := got[id]; !ok || !bytes.Equal(g, w) {
			if bad++; bad <= 3 {
				t.Errorf("%s: record %s is %s, service has %s", what, id, g, w)
			}
		}
	}
	for id := range got {
		if _, ok := want[id]; !ok {
			if bad++; bad <= 3 {
				t.Errorf("%s: record %s is not in the service", what, id)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d records differ of %d", what, bad, len(want))
	}
}

// An interrupt ends `watch --rounds 0` cleanly with exit 0, and what it
// committed is resumed by the next run.
func TestInterruptExitsZeroAndResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "deltascope")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	srv := deltatest.NewServer(deltatest.Options{Seed: 78, Records: 50, ChangeEvery: 2 * time.Millisecond, Sets: []string{"customers"}})
	defer srv.Close()
	dir := t.TempDir()
	for i, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		cmd := exec.Command(bin, "watch", "--url", srv.ServiceRoot(), "--entity", "customers", "--state-dir", dir, "--session", "sig", "--interval", "5ms", "--rounds", "0")
		rounds := make(chan struct{}, 1)
		out := &hookWriter{onLine: func(line string) {
			if strings.Contains(line, `"event":"round"`) {
				select {
				case rounds <- struct{}{}:
				default:
				}
			}
		}}
		cmd.Stdout = out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		select { // signal once it is in its rounds, however slow the machine
		case <-rounds:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			t.Fatal("no round within 30s")
		}
		cmd.Process.Signal(sig)
		err := cmd.Wait()
		if code := cmd.ProcessState.ExitCode(); code != 0 {
			t.Fatalf("%v: exit %d (%v)", sig, code, err)
		}
		out.mu.Lock()
		first := strings.SplitN(out.buf.String(), "\n", 2)[0]
		out.mu.Unlock()
		want := []string{`"event":"baseline"`, `"event":"resume"`}[i]
		if !strings.Contains(first, want) {
			t.Errorf("run %d starts with %s, want %s", i+1, first, want)
		}
	}
}
