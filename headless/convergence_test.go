package headless

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/deltascope/deltascope/deltaclient"
	"github.com/deltascope/deltascope/deltaclient/deltatest"
	"github.com/deltascope/deltascope/track"
)

var allFaults = []string{"429", "503", "reset", "truncate", "slow", "410", "dup"}

// TestConvergence is the property that makes deltascope trustworthy: under
// any mix of changes and faults, (1) the client's snapshot ends equal to
// the service's data, and (2) replaying the events watch printed over the
// baseline gives the same state: nothing lost, nothing doubled.
// DELTASCOPE_LONG=1 runs many more seeds.
func TestConvergence(t *testing.T) {
	seeds, rounds := 12, 40
	if os.Getenv("DELTASCOPE_LONG") != "" {
		seeds, rounds = 300, 100
	}
	var faults, events, changes int
	seen := map[string]int{}
	for seed := 1; seed <= seeds; seed++ {
		f, e, c, kinds := converge(t, uint64(seed), rounds)
		faults, events, changes = faults+f, events+e, changes+c
		for k, n := range kinds {
			seen[k] += n
		}
		if t.Failed() {
			t.Fatalf("seed %d diverged", seed)
		}
	}
	var kinds []string
	for _, k := range allFaults {
		kinds = append(kinds, fmt.Sprintf("%s:%d", k, seen[k]))
	}
	t.Logf("%d seeds x %d rounds: %d service changes, %d faults (%s), %d events; 0 divergences", seeds, rounds, changes, faults, strings.Join(kinds, " "), events)
	for _, k := range allFaults {
		if seen[k] == 0 {
			t.Errorf("fault %s never happened; the test is not exercising it", k)
		}
	}
}

func converge(t *testing.T, seed uint64, rounds int) (faults, events, changes int, kinds map[string]int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 99))
	opts := deltatest.Options{Seed: seed, Records: 25, PageSize: 7, PartialUpdates: seed%2 == 0,
		Faults: deltatest.Faults{Rate: 0.3, Kinds: allFaults, Slow: time.Millisecond}}
	if seed%3 == 0 {
		opts.Deletions = deltatest.Deletions401
	}
	srv := deltatest.NewServer(opts)
	defer srv.Close()
	c := &deltaclient.Client{Retry: deltaclient.RetryPolicy{Tries: 6, Sleep: func(context.Context, time.Duration) error { return nil }}}
	filter := ""
	if seed%4 == 1 {
		filter = "blocked eq ' '" // updates move customers out of (and into) the query
	}
	var trackers []*track.Tracker
	for _, set := range []string{"customers", "vendors", "items"} {
		u := srv.CollectionURL(set)
		if set == "customers" && filter != "" {
			u += "?$filter=" + url.PathEscape(filter)
		}
		trackers = append(trackers, track.New(set, u, c))
	}
	baseline := map[string]map[string]json.RawMessage{}
	var out, errOut bytes.Buffer
	err := Watch(context.Background(), WatchOptions{
		Trackers: trackers, Interval: time.Microsecond, Rounds: rounds, MaxFailures: rounds,
		BeforeRound: func(round int) {
			if round == 1 {
				for _, tr := range trackers {
					baseline[tr.Name] = raw(tr.Records())
				}
			}
			if round == rounds {
				srv.SetFaults(deltatest.Faults{}) // the last round is clean, so the end state is comparable
			}
			n := rng.IntN(6)
			for range n {
				srv.Step()
			}
			changes += n
			if rng.IntN(15) == 0 {
				srv.Expire([]string{"customers", "vendors", "items"}[rng.IntN(3)])
			}
		},
	}, &out, &errOut)
	if err != nil {
		t.Fatalf("seed %d: watch: %v: %s", seed, err, errOut.String())
	}
	replayed := baseline
	sc := bufio.NewScanner(&out)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		events++
		var ev Event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("seed %d: bad line %q", seed, sc.Text())
		}
		switch ev.Event {
		case "added", "updated":
			replayed[ev.Entity][ev.ID] = ev.Record
		case "deleted":
			delete(replayed[ev.Entity], ev.ID)
		}
	}
	for _, tr := range trackers {
		truth := srv.Records(tr.Name)
		if tr.Name == "customers" && filter != "" {
			for id, r := range truth {
				if !strings.Contains(string(r), `"blocked":" "`) {
					delete(truth, id)
				}
			}
		}
		want := decodeAll(t, truth)
		if got := decodeAll(t, raw(tr.Records())); !reflect.DeepEqual(want, got) {
			t.Errorf("seed %d %s: snapshot diverged from the service: %s", seed, tr.Name, diffIDs(want, got))
		}
		if got := decodeAll(t, replayed[tr.Name]); !reflect.DeepEqual(want, got) {
			t.Errorf("seed %d %s: replayed events diverged from the service: %s", seed, tr.Name, diffIDs(want, got))
		}
	}
	kinds = srv.Stats().Faults
	for _, n := range kinds {
		faults += n
	}
	return faults, events, changes, kinds
}

func raw(m map[string][]byte) map[string]json.RawMessage {
	out := make(map[string]json.RawMessage, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// decodeAll compares records by value: etags aside, a merged partial
// update and the server's full record are the same data.
func decodeAll(t *testing.T, m map[string]json.RawMessage) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, r := range m {
		var v map[string]any
		if err := json.Unmarshal(r, &v); err != nil {
			t.Fatalf("record %s: %v", id, err)
		}
		delete(v, "@odata.etag")
		out[id] = v
	}
	return out
}

func diffIDs(want, got map[string]map[string]any) string {
	var d []string
	for id := range want {
		if g, ok := got[id]; !ok {
			d = append(d, "missing "+id)
		} else if !reflect.DeepEqual(g, want[id]) {
			d = append(d, fmt.Sprintf("differs %s: %v vs %v", id, want[id], g))
		}
	}
	for id := range got {
		if _, ok := want[id]; !ok {
			d = append(d, "extra "+id)
		}
	}
	sort.Strings(d)
	return strings.Join(d, "; ")
}

// TestWatch200RoundsAgainstFaultyDemo runs watch for 200 rounds against
// the demo service as `deltascope demo --faults` serves it: the change
// generator running on its own clock and a fifth of page requests failing
// in every way the demo knows. Then the generator pauses, the faults stop,
// one more round runs, and the client must hold exactly the service's data.
func TestWatch200RoundsAgainstFaultyDemo(t *testing.T) {
	t.Parallel()
	faults, err := deltatest.ParseFaults("rate=0.2,kinds=429,503,reset,truncate,slow,410,dup,retry-after=0,slow=2ms")
	if err != nil {
		t.Fatal(err)
	}
	srv := deltatest.NewServer(deltatest.Options{Seed: 5, Records: 60, PageSize: 20, ChangeEvery: 3 * time.Millisecond, Faults: faults})
	defer srv.Close()
	c := &deltaclient.Client{Retry: deltaclient.RetryPolicy{Tries: 6, Sleep: func(context.Context, time.Duration) error { return nil }}}
	var trackers []*track.Tracker
	for _, set := range []string{"customers", "vendors", "items"} {
		trackers = append(trackers, track.New(set, srv.CollectionURL(set), c))
	}
	const rounds = 200
	var out, errOut bytes.Buffer
	err = Watch(context.Background(), WatchOptions{Trackers: trackers, Interval: time.Millisecond, Rounds: rounds + 1, MaxFailures: rounds,
		BeforeRound: func(round int) {
			if round == rounds+1 {
				srv.PauseChanges()
				srv.SetFaults(deltatest.Faults{})
			}
		}}, &out, &errOut)
	if err != nil {
		t.Fatalf("watch: %v: %s", err, errOut.String())
	}
	for _, tr := range trackers {
		want, got := decodeAll(t, srv.Records(tr.Name)), decodeAll(t, raw(tr.Records()))
		if !reflect.DeepEqual(want, got) {
			t.Errorf("%s diverged: %s", tr.Name, diffIDs(want, got))
		}
	}
	st := srv.Stats()
	t.Logf("200 rounds, %d page requests, faults seen: %v, %d NDJSON lines, %d retries reported", st.Pages, st.Faults, strings.Count(out.String(), "\n"), strings.Count(out.String(), `"retrying":true`))
}

func TestProgressEvents(t *testing.T) {
	t.Parallel()
	srv := deltatest.NewServer(deltatest.Options{Seed: 2, Records: 30, PageSize: 10, Sets: []string{"customers"},
		Faults: deltatest.Faults{Rate: 1, Kinds: []string{"slow"}, Slow: 400 * time.Millisecond}})
	defer srv.Close()
	tr := track.New("customers", srv.CollectionURL("customers"), &deltaclient.Client{})
	var out, errOut bytes.Buffer
	if err := Watch(context.Background(), WatchOptions{Trackers: []*track.Tracker{tr}, Interval: time.Millisecond, Rounds: 1, Progress: true}, &out, &errOut); err != nil {
		t.Fatalf("watch: %v: %s", err, errOut.String())
	}
	var ev Event
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.Contains(line, `"event":"progress"`) {
			json.Unmarshal([]byte(line), &ev)
			break
		}
	}
	if ev.Event != "progress" || *ev.Pages < 1 || *ev.Records < 10 || *ev.Rate <= 0 {
		t.Errorf("no progress event in a baseline of over a second:\n%s", out.String())
	}
}
