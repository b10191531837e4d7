package track_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/deltascope/deltascope/deltaclient"
	"github.com/deltascope/deltascope/deltaclient/deltatest"
	"github.com/deltascope/deltascope/track"
)

// pollScenario makes one change of each kind, polls, and checks the exact
// round; a second poll with nothing changed must report nothing, and the
// tracker must hold what the server holds.
func pollScenario(t *testing.T, srv *deltatest.Server, tr *track.Tracker, wantMethod string) {
	t.Helper()
	r, err := tr.Baseline(ctx, nil)
	must(t, err)
	if want := len(srv.IDs("customers")); r.Records != want || r.Via != track.ViaPoll {
		t.Fatalf("baseline: %d records via %q, want %d via poll", r.Records, r.Via, want)
	}
	if got := tr.Method(); got != wantMethod {
		t.Fatalf("method %q, want %q", got, wantMethod)
	}
	ids := srv.IDs("customers")
	old, _ := srv.Record("customers", ids[3])
	must(t, srv.Update("customers", ids[3], map[string]any{"displayName": "Super Cloud"}))
	must(t, srv.Delete("customers", ids[7]))
	added, err := srv.Add("customers", map[string]any{"displayName": "Alpine Ski House"})
	must(t, err)

	r, err = tr.Poll(ctx, nil)
	must(t, err)
	want := []string{
		"added " + added,
		fmt.Sprintf("updated %s displayName:%q->\"Super Cloud\"", ids[3], old["displayName"]),
		"deleted " + ids[7] + " (deleted)",
	}
	got := summary(r)
	sort.Strings(got)
	sort.Strings(want)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("round (-want +got):\n%s", d)
	}
	if r.Via != track.ViaPoll || r.Added != 1 || r.Updated != 1 || r.Deleted != 1 || r.Records != len(srv.IDs("customers")) {
		t.Errorf("round via %q +%d ~%d -%d of %d records", r.Via, r.Added, r.Updated, r.Deleted, r.Records)
	}
	r, err = tr.Poll(ctx, nil)
	must(t, err)
	if len(r.Changes) != 0 {
		t.Errorf("a round with nothing changed reported %v", summary(r))
	}
	got2 := tr.Records()
	truth := srv.Records("customers")
	if len(got2) != len(truth) {
		t.Fatalf("tracker holds %d records, server %d", len(got2), len(truth))
	}
	for id, raw := range truth {
		if string(got2[id]) != string(raw) {
			t.Errorf("%s differs:\n%s\n%s", id, got2[id], raw)
		}
	}
}

func TestPollModifiedTimestamp(t *testing.T) {
	t.Parallel()
	srv := deltatest.NewServer(deltatest.Options{Seed: 7, Records: 60, PageSize: 25, NoDelta: true})
	defer srv.Close()
	var mu sync.Mutex
	var urls []string
	c := client(0)
	c.OnRequest = func(ri deltaclient.RequestInfo) {
		mu.Lock()
		urls = append(urls, ri.URL)
		mu.Unlock()
	}
	tr := track.New("customers", srv.CollectionURL("customers"), c)
	tr.Hints = track.PollHints{Timestamp: "lastModifiedDateTime", KeyFields: []string{"id"}, Types: map[string]string{"id": "Edm.Guid"}}
	pollScenario(t, srv, tr, "lastModifiedDateTime + key scan")
	st, ok := tr.PollState()
	if !ok || st.Watermark == "" || st.Rounds != 2 {
		t.Errorf("poll state %+v", st)
	}
	mu.Lock()
	defer mu.Unlock()
	var modified, scans, counts int
	for _, u := range urls {
		if strings.Contains(u, "lastModifiedDateTime%20ge%20") {
			modified++
		}
		if strings.Contains(u, "$select=id,lastModifiedDateTime&$orderby=id") {
			scans++
		}
		if strings.HasSuffix(u, "/$count") {
			counts++
		}
	}
	// Round 1 deleted a record: the count says so and the keys are
	// scanned; round 2 changed nothing: the count agrees, no scan.
	if modified != 2 || counts != 2 || scans != 1 {
		t.Errorf("%d timestamp reads, %d counts and %d key scans in:\n%s", modified, counts, scans, strings.Join(urls, "\n"))
	}
}

func TestPollETagScan(t *testing.T) {
	t.Parallel()
	srv := deltatest.NewServer(deltatest.Options{Seed: 8, Records: 60, PageSize: 25, NoDelta: true})
	defer srv.Close()
	tr := track.New("customers", srv.CollectionURL("customers"), client(0))
	pollScenario(t, srv, tr, "etag scan")
}

// A server that refuses $filter and $select (501) is read whole each
// round: the tracker tries the timestamp method once and falls back.
func TestPollFallsBackToFullRead(t *testing.T) {
	t.Parallel()
	srv := deltatest.NewServer(deltatest.Options{Seed: 9, Records: 60, PageSize: 25, NoDelta: true})
	defer srv.Close()
	strict := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Has("$filter") || q.Has("$select") {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotImplemented)
			w.Write([]byte(`{"error":{"code":"501","message":"not implemented"}}`))
			return
		}
		srv.ServeHTTP(w, r)
	}))
	defer strict.Close()
	u := strings.Replace(srv.CollectionURL("customers"), srv.URL, strict.URL, 1)
	tr := track.New("customers", u, client(0))
	tr.Hints = track.PollHints{Timestamp: "lastModifiedDateTime"}
	r, err := tr.Baseline(ctx, nil)
	must(t, err)
	ids := srv.IDs("customers")
	must(t, srv.Delete("customers", ids[0]))
	r, err = tr.Poll(ctx, nil)
	must(t, err)
	if tr.Method() != "full read" || len(r.Changes) != 1 || r.Deleted != 1 || r.Changes[0].ID != ids[0] {
		t.Errorf("method %q, round %v", tr.Method(), summary(r))
	}
}

// watch --delta-only: a set without delta links stays unsupported.
func TestDeltaOnlyRefusesToPoll(t *testing.T) {
	t.Parallel()
	srv := deltatest.NewServer(deltatest.Options{Seed: 10, NoDelta: true})
	defer srv.Close()
	tr := track.New("customers", srv.CollectionURL("customers"), client(0))
	tr.DeltaOnly = true
	_, err := tr.Baseline(ctx, nil)
	var ue *deltaclient.UnsupportedError
	if !errors.As(err, &ue) {
		t.Fatalf("err = %v, want unsupported", err)
	}
	if _, ok := tr.PollState(); ok {
		t.Error("a delta-only tracker polls")
	}
}

// A polled set resumes from its session: the watermark and method come
// back, no baseline is read again, and the first round shows what changed
// while nothing ran, once. A session stopped right after its poll
// baseline (no round stored yet) resumes polling too.
func TestPollResumesFromSession(t *testing.T) {
	t.Parallel()
	srv := deltatest.NewServer(deltatest.Options{Seed: 31, Records: 40, NoDelta: true})
	defer srv.Close()
	dir := t.TempDir()
	hints := track.PollHints{Timestamp: "lastModifiedDateTime", KeyFields: []string{"id"}}
	tr, s := durable(t, srv, dir, "poll", "customers")
	tr.Hints = hints
	_, err := tr.Baseline(ctx, nil)
	must(t, err)
	ids := srv.IDs("customers")
	must(t, srv.Update("customers", ids[0], map[string]any{"displayName": "Round One"}))
	r1, err := tr.Poll(ctx, nil)
	must(t, err)
	if r1.Updated != 1 || r1.Seq != 1 {
		t.Fatalf("round 1: %v", summary(r1))
	}
	before, _ := tr.PollState()
	s.Close()

	old1, _ := srv.Record("customers", ids[1])
	must(t, srv.Update("customers", ids[1], map[string]any{"displayName": "While Off"}))
	must(t, srv.Delete("customers", ids[2]))
	tr2, _ := durable(t, srv, dir, "poll", "customers")
	tr2.Hints = hints
	res, err := tr2.Resume()
	if err != nil || res == nil || res.Records != 40 || res.Seq != 1 {
		t.Fatalf("Resume = %+v, %v", res, err)
	}
	after, ok := tr2.PollState()
	if !ok || after.Watermark != before.Watermark || after.Method != track.MethodModified {
		t.Fatalf("poll state resumed as %+v, was %+v", after, before)
	}
	r2, err := tr2.Poll(ctx, nil)
	must(t, err)
	got := summary(r2)
	sort.Strings(got)
	want := []string{"deleted " + ids[2] + " (deleted)", fmt.Sprintf("updated %s displayName:%q->\"While Off\"", ids[1], old1["displayName"])}
	sort.Strings(want)
	if d := cmp.Diff(want, got); d != "" || r2.Seq != 2 || r2.Via != track.ViaPoll {
		t.Errorf("first round after resume %d via %q (-want +got):\n%s", r2.Seq, r2.Via, d)
	}

	// Stopped after the baseline: the method is chosen again from the
	// stored snapshot.
	dir2 := t.TempDir()
	tr3, s3 := durable(t, srv, dir2, "fresh", "customers")
	tr3.Hints = hints
	_, err = tr3.Baseline(ctx, nil)
	must(t, err)
	s3.Close()
	tr4, _ := durable(t, srv, dir2, "fresh", "customers")
	tr4.Hints = hints
	if res, err := tr4.Resume(); err != nil || res == nil {
		t.Fatalf("Resume = %v, %v", res, err)
	}
	if m := tr4.Method(); m != "lastModifiedDateTime + key scan" {
		t.Errorf("resumed a poll baseline as %q", m)
	}
	r, err := tr4.Poll(ctx, nil)
	must(t, err)
	if len(r.Changes) != 0 {
		t.Errorf("nothing changed since, got %v", summary(r))
	}
}

// A poll round that fails part way (here its key scan) changes nothing:
// the snapshot, the watermark and the round count stay, and the next
// round reports the changes, once.
func TestPollRoundIsAtomic(t *testing.T) {
	t.Parallel()
	srv := deltatest.NewServer(deltatest.Options{Seed: 41, Records: 40, NoDelta: true})
	defer srv.Close()
	tr := track.New("customers", srv.CollectionURL("customers"), client(0))
	tr.Hints = track.PollHints{Timestamp: "lastModifiedDateTime", KeyFields: []string{"id"}}
	_, err := tr.Baseline(ctx, nil)
	must(t, err)
	before, _ := tr.PollState()
	records := tr.Records()
	ids := srv.IDs("customers")
	must(t, srv.Update("customers", ids[5], map[string]any{"displayName": "Once"}))
	must(t, srv.Delete("customers", ids[6]))
	srv.InjectFault("503", 1) // the changed read passes, the key scan fails
	if _, err := tr.Poll(ctx, nil); err == nil {
		t.Fatal("the round did not fail")
	}
	after, _ := tr.PollState()
	if d := cmp.Diff(before, after); d != "" {
		t.Errorf("a failed round changed the poll state:\n%s", d)
	}
	if d := cmp.Diff(records, tr.Records()); d != "" {
		t.Errorf("a failed round changed the snapshot:\n%s", d)
	}
	r, err := tr.Poll(ctx, nil)
	must(t, err)
	if r.Updated != 1 || r.Deleted != 1 || len(r.Changes) != 2 {
		t.Errorf("the next round: %v", summary(r))
	}
	r, err = tr.Poll(ctx, nil)
	must(t, err)
	if len(r.Changes) != 0 {
		t.Errorf("reported again: %v", summary(r))
	}
}

// The changed read starts --overlap before the watermark; --scan-every N
// looks for deletions every N rounds only.
func TestPollOverlapAndScanEvery(t *testing.T) {
	t.Parallel()
	srv := deltatest.NewServer(deltatest.Options{Seed: 51, Records: 30, NoDelta: true})
	defer srv.Close()
	var mu sync.Mutex
	var urls []string
	c := client(0)
	c.OnRequest = func(ri deltaclient.RequestInfo) {
		mu.Lock()
		urls = append(urls, ri.URL)
		mu.Unlock()
	}
	tr := track.New("customers", srv.CollectionURL("customers"), c)
	tr.Hints = track.PollHints{Timestamp: "lastModifiedDateTime", KeyFields: []string{"id"}}
	tr.Overlap = 90 * time.Second
	tr.ScanEvery = 2
	_, err := tr.Baseline(ctx, nil)
	must(t, err)
	ids := srv.IDs("customers")
	must(t, srv.Delete("customers", ids[3]))
	// Round 1 (Rounds 0 % 2 == 0) looks; delete again before round 2,
	// which does not; round 3 does.
	r, err := tr.Poll(ctx, nil)
	must(t, err)
	if r.Deleted != 1 {
		t.Errorf("round 1: %v", summary(r))
	}
	must(t, srv.Delete("customers", ids[4]))
	r, err = tr.Poll(ctx, nil)
	must(t, err)
	if len(r.Changes) != 0 {
		t.Errorf("round 2 is not a scan round: %v", summary(r))
	}
	r, err = tr.Poll(ctx, nil)
	must(t, err)
	if r.Deleted != 1 || r.Changes[0].ID != ids[4] {
		t.Errorf("round 3: %v", summary(r))
	}
	mu.Lock()
	defer mu.Unlock()
	// The newest record of the seeded data is from 07:00:00; 90s before.
	if !strings.Contains(strings.Join(urls, "\n"), "lastModifiedDateTime%20ge%202026-11-02T06:58:30Z") {
		t.Errorf("no changed read from watermark - overlap in:\n%s", strings.Join(urls, "\n"))
	}
}

// A server that refuses "in" gets or-chains; one that refuses both gets
// one request per record.
func TestPollFetchFallsBack(t *testing.T) {
	t.Parallel()
	for _, refuse := range []string{"%20in%20", "%20or%20"} {
		srv := deltatest.NewServer(deltatest.Options{Seed: 61, Records: 30, NoDelta: true})
		defer srv.Close()
		var mu sync.Mutex
		var fetches []string
		strict := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.Contains(r.URL.RawQuery, "%20in%20") || refuse == "%20or%20" && strings.Contains(r.URL.RawQuery, "%20or%20") {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				w.Write([]byte(`{"error":{"code":"400","message":"not supported"}}`))
				return
			}
			if strings.Contains(r.URL.RawQuery, "id%20eq%20") {
				mu.Lock()
				fetches = append(fetches, r.URL.RawQuery)
				mu.Unlock()
			}
			srv.ServeHTTP(w, r)
		}))
		defer strict.Close()
		tr := track.New("customers", strings.Replace(srv.CollectionURL("customers"), srv.URL, strict.URL, 1), client(0))
		_, err := tr.Baseline(ctx, nil)
		must(t, err)
		ids := srv.IDs("customers")
		must(t, srv.Update("customers", ids[1], map[string]any{"displayName": "One"}))
		must(t, srv.Update("customers", ids[2], map[string]any{"displayName": "Two"}))
		r, err := tr.Poll(ctx, nil)
		must(t, err)
		st, _ := tr.PollState()
		if r.Updated != 2 || tr.Method() != "etag scan" {
			t.Errorf("refusing %s: method %q, %v", refuse, tr.Method(), summary(r))
		}
		want := map[string]string{"%20in%20": "or", "%20or%20": "one"}[refuse]
		if st.Fetch != want || len(fetches) == 0 {
			t.Errorf("refusing %s: fetch %q, want %q; fetched %v", refuse, st.Fetch, want, fetches)
		}
	}
}
