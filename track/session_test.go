package track_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/deltascope/deltascope/deltaclient"
	"github.com/deltascope/deltascope/deltaclient/deltatest"
	"github.com/deltascope/deltascope/store"
	"github.com/deltascope/deltascope/track"
)

// durable returns a tracker of set committing to session name in dir.
func durable(t *testing.T, srv *deltatest.Server, dir, name, set string) (*track.Tracker, *store.Session) {
	t.Helper()
	s, err := store.Open(dir, name, srv.ServiceRoot(), false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	tr := track.New(set, srv.CollectionURL(set), client(7))
	tr.UseSession(s)
	return tr, s
}

func TestResumeDelta(t *testing.T) {
	t.Parallel()
	srv := deltatest.NewServer(deltatest.Options{Seed: 21, Records: 30})
	defer srv.Close()
	dir := t.TempDir()
	tr, s := durable(t, srv, dir, "run", "customers")
	if res, err := tr.Resume(); res != nil || err != nil {
		t.Fatalf("nothing stored yet, Resume = %+v, %v", res, err)
	}
	if _, err := tr.Baseline(ctx, nil); err != nil {
		t.Fatal(err)
	}
	ids := srv.IDs("customers")
	must(t, srv.Update("customers", ids[0], map[string]any{"displayName": "Round One"}))
	r1, err := tr.Poll(ctx, nil)
	if err != nil || r1.Seq != 1 {
		t.Fatalf("round 1: %v %v", r1, err)
	}
	s.Close() // the process ends

	// Changes made while nothing runs.
	must(t, srv.Update("customers", ids[1], map[string]any{"displayName": "While Off"}))
	must(t, srv.Delete("customers", ids[2]))
	baselines := srv.Stats().Baselines

	tr2, _ := durable(t, srv, dir, "run", "customers")
	res, err := tr2.Resume()
	if err != nil || res == nil {
		t.Fatalf("Resume = %v, %v", res, err)
	}
	if res.Records != 30 || res.Seq != 1 || !res.Since.Equal(r1.Time) {
		t.Errorf("resumed %+v, want 30 records, round 1 at %v", res, r1.Time)
	}
	r2, err := tr2.Poll(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if srv.Stats().Baselines != baselines {
		t.Error("a resumed run took a baseline")
	}
	if r2.Seq != 2 || r2.Updated != 1 || r2.Deleted != 1 || r2.Changes[0].ID != ids[1] || r2.Changes[1].ID != ids[2] {
		t.Errorf("first resumed round %d: %v", r2.Seq, summary(r2))
	}
	assertConverged(t, srv, tr2, "customers")
}

func TestResumeAfterTheLinkExpired(t *testing.T) {
	t.Parallel()
	srv := deltatest.NewServer(deltatest.Options{Seed: 22, Records: 25})
	defer srv.Close()
	dir := t.TempDir()
	tr, s := durable(t, srv, dir, "run", "customers")
	if _, err := tr.Baseline(ctx, nil); err != nil {
		t.Fatal(err)
	}
	s.Close()
	ids := srv.IDs("customers")
	must(t, srv.Update("customers", ids[3], map[string]any{"displayName": "Gap"}))
	must(t, srv.Delete("customers", ids[4]))
	added, _ := srv.Add("customers", nil)
	srv.Expire("customers")

	tr2, s2 := durable(t, srv, dir, "run", "customers")
	if res, err := tr2.Resume(); err != nil || res == nil || res.Seq != 0 {
		t.Fatalf("Resume = %+v, %v", res, err)
	}
	_, err := tr2.Poll(ctx, nil)
	var gone *deltaclient.GoneError
	if !errors.As(err, &gone) {
		t.Fatalf("stored link should answer 410: %v", err)
	}
	r, err := tr2.Rebaseline(ctx, gone.Location, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, c := range r.Changes {
		got[c.ID] = c.Kind.String()
	}
	if d := cmp.Diff(map[string]string{ids[3]: "updated", ids[4]: "deleted", added: "added"}, got); d != "" || r.Seq != 1 || r.Via != "rebaseline" {
		t.Errorf("re-baseline round %d via %q (-want +got):\n%s", r.Seq, r.Via, d)
	}
	s2.Close()
	// The re-baseline is stored: the next run resumes from it.
	tr3, _ := durable(t, srv, dir, "run", "customers")
	res, err := tr3.Resume()
	if err != nil || res.Seq != 1 || res.Records != 25 {
		t.Fatalf("after the re-baseline: %+v %v", res, err)
	}
	assertConverged(t, srv, tr3, "customers")
	var hist []string
	s3, _ := store.OpenReadOnly(dir, "run")
	s3.History(store.Filter{}, func(e *store.Event) error {
		hist = append(hist, e.Kind.String()+" "+e.ID+" "+e.Round.Via)
		return nil
	})
	if len(hist) != 3 {
		t.Errorf("history %v", hist)
	}
}

// A set followed by polling resumes from its stored watermark: no full
// read, the method kept, and the first round shows what changed while off.
func TestResumePoll(t *testing.T) {
	t.Parallel()
	srv := deltatest.NewServer(deltatest.Options{Seed: 23, Records: 40, PageSize: 15, NoDelta: true})
	defer srv.Close()
	dir := t.TempDir()
	hints := track.PollHints{Timestamp: "lastModifiedDateTime", KeyFields: []string{"id"}, Types: map[string]string{"id": "Edm.Guid"}}
	tr, s := durable(t, srv, dir, "poll", "customers")
	tr.Hints = hints
	if _, err := tr.Baseline(ctx, nil); err != nil {
		t.Fatal(err)
	}
	ids := srv.IDs("customers")
	must(t, srv.Update("customers", ids[0], map[string]any{"displayName": "First"}))
	if r, err := tr.Poll(ctx, nil); err != nil || r.Seq != 1 || r.Updated != 1 {
		t.Fatalf("round 1: %v %v", r, err)
	}
	before, _ := tr.PollState()
	s.Close()

	must(t, srv.Update("customers", ids[5], map[string]any{"displayName": "While Off"}))
	must(t, srv.Delete("customers", ids[6]))
	tr2, _ := durable(t, srv, dir, "poll", "customers")
	tr2.Hints = hints
	res, err := tr2.Resume()
	if err != nil || res == nil || res.Seq != 1 || res.Records != 40 {
		t.Fatalf("Resume = %+v, %v", res, err)
	}
	after, ok := tr2.PollState()
	if !ok || after.Method != before.Method || after.Watermark != before.Watermark || after.Watermark == "" {
		t.Errorf("poll state stored %+v, resumed %+v", before, after)
	}
	r, err := tr2.Poll(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, c := range r.Changes {
		got[c.ID] = c.Kind.String()
	}
	if d := cmp.Diff(map[string]string{ids[5]: "updated", ids[6]: "deleted"}, got); d != "" || r.Seq != 2 || r.Via != track.ViaPoll {
		t.Errorf("first resumed poll round %d via %q (-want +got):\n%s", r.Seq, r.Via, d)
	}
	assertConverged(t, srv, tr2, "customers")
}
