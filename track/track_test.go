package track_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/deltascope/deltascope/deltaclient"
	"github.com/deltascope/deltascope/deltaclient/deltatest"
	"github.com/deltascope/deltascope/model"
	"github.com/deltascope/deltascope/track"
)

var ctx = context.Background()

func client(pageSize int) *deltaclient.Client {
	return &deltaclient.Client{MaxPageSize: pageSize, Retry: deltaclient.RetryPolicy{Tries: 1}}
}

func summary(r *model.Round) []string {
	var out []string
	for _, c := range r.Changes {
		s := c.Kind.String() + " " + c.ID
		for _, f := range c.Fields {
			if f.Path != "lastModifiedDateTime" {
				s += fmt.Sprintf(" %s:%s->%s", f.Path, f.Old, f.New)
			}
		}
		if c.Reason != "" {
			s += " (" + c.Reason + ")"
		}
		out = append(out, s)
	}
	return out
}

func baseline(t *testing.T, srv *deltatest.Server, set string, pageSize int) *track.Tracker {
	t.Helper()
	tr := track.New(set, srv.CollectionURL(set), client(pageSize))
	r, err := tr.Baseline(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := len(srv.IDs(set)); r.Records != want || !r.Baseline {
		t.Fatalf("baseline of %d records, want %d", r.Records, want)
	}
	return tr
}

// The example of Business Central's delta link documentation: a name
// changed to "Super Cloud", a customer deleted, "Alpine Ski House" added.
func TestSeedScenario(t *testing.T) {
	t.Parallel()
	srv := deltatest.NewServer(deltatest.Options{Seed: 42, Records: 30})
	defer srv.Close()
	tr := baseline(t, srv, "customers", 0)
	ids := srv.IDs("customers")
	old, _ := srv.Record("customers", ids[3])
	must(t, srv.Update("customers", ids[3], map[string]any{"displayName": "Super Cloud"}))
	must(t, srv.Delete("customers", ids[7]))
	added, err := srv.Add("customers", map[string]any{"displayName": "Alpine Ski House"})
	must(t, err)

	r, err := tr.Poll(ctx, nil)
	must(t, err)
	want := []string{
		fmt.Sprintf("updated %s displayName:%q->\"Super Cloud\"", ids[3], old["displayName"]),
		"deleted " + ids[7] + " (deleted)",
		"added " + added,
	}
	if d := cmp.Diff(want, summary(r)); d != "" {
		t.Errorf("round (-want +got):\n%s", d)
	}
	if r.Added != 1 || r.Updated != 1 || r.Deleted != 1 || r.Records != 30 {
		t.Errorf("counts +%d ~%d -%d, %d records", r.Added, r.Updated, r.Deleted, r.Records)
	}
	// A round with nothing new is empty, not an error.
	r, err = tr.Poll(ctx, nil)
	must(t, err)
	if len(r.Changes) != 0 {
		t.Errorf("second round: %v", summary(r))
	}
	assertConverged(t, srv, tr, "customers")
}

func TestDeltaAcrossPagesAndAtomicRounds(t *testing.T) {
	t.Parallel()
	srv := deltatest.NewServer(deltatest.Options{Seed: 5, Records: 20})
	defer srv.Close()
	tr := baseline(t, srv, "customers", 3)
	ids := srv.IDs("customers")
	for i := 0; i < 5; i++ {
		must(t, srv.Update("customers", ids[i], map[string]any{"creditLimit": 1000 * (i + 1)}))
	}
	link := tr.DeltaLink()
	before := tr.Records()

	srv.InjectFault("reset", 1) // page 2 of the round
	_, err := tr.Poll(ctx, nil)
	if err == nil || !strings.Contains(err.Error(), "page 2") {
		t.Fatalf("want a failure on page 2, got %v", err)
	}
	if tr.DeltaLink() != link {
		t.Error("a failed round moved the delta link")
	}
	if d := cmp.Diff(before, tr.Records()); d != "" {
		t.Errorf("a failed round changed the snapshot:\n%s", d)
	}

	r, err := tr.Poll(ctx, nil)
	must(t, err)
	if r.Pages != 2 || r.Updated != 5 || len(r.Changes) != 5 {
		t.Errorf("retry round: %d pages, %d updated, %d rows; want 2, 5, 5", r.Pages, r.Updated, len(r.Changes))
	}
	if tr.DeltaLink() == link {
		t.Error("a complete round must move the delta link")
	}
	assertConverged(t, srv, tr, "customers")
}

func TestGoneThenRebaselineShowsTheGap(t *testing.T) {
	t.Parallel()
	srv := deltatest.NewServer(deltatest.Options{Seed: 9, Records: 15})
	defer srv.Close()
	tr := baseline(t, srv, "customers", 0)
	ids := srv.IDs("customers")
	must(t, srv.Update("customers", ids[0], map[string]any{"displayName": "Renamed In The Gap"}))
	must(t, srv.Delete("customers", ids[1]))
	added, _ := srv.Add("customers", nil)
	srv.Expire("customers")

	_, err := tr.Poll(ctx, nil)
	var gone *deltaclient.GoneError
	if !errors.As(err, &gone) || gone.Status != 410 || !strings.HasSuffix(gone.Location, "/customers") {
		t.Fatalf("want *GoneError with Location, got %v", err)
	}
	r, err := tr.Rebaseline(ctx, gone.Location, nil)
	must(t, err)
	if r.Via != model.ViaRebaseline {
		t.Errorf("via %q", r.Via)
	}
	got := summary(r)
	for _, want := range []string{"updated " + ids[0], "added " + added, "deleted " + ids[1] + " (deleted)"} {
		found := false
		for _, g := range got {
			found = found || strings.HasPrefix(g, want)
		}
		if !found {
			t.Errorf("re-baseline round lacks %q: %v", want, got)
		}
	}
	if len(got) != 3 {
		t.Errorf("re-baseline found %d changes, want 3: %v", len(got), got)
	}
	// Tracking goes on from the new link.
	must(t, srv.Update("customers", ids[2], map[string]any{"email": "new@example.com"}))
	r, err = tr.Poll(ctx, nil)
	must(t, err)
	if r.Updated != 1 {
		t.Errorf("after re-baseline: %v", summary(r))
	}
	assertConverged(t, srv, tr, "customers")
}

func TestEncodingsAndFilters(t *testing.T) {
	t.Parallel()
	t.Run("4.01 @removed and partial updates", func(t *testing.T) {
		t.Parallel()
		srv := deltatest.NewServer(deltatest.Options{Seed: 11, Records: 10, Deletions: deltatest.Deletions401, PartialUpdates: true})
		defer srv.Close()
		tr := baseline(t, srv, "customers", 0)
		ids := srv.IDs("customers")
		must(t, srv.Update("customers", ids[0], map[string]any{"phoneNumber": "+1 555 0000"}))
		must(t, srv.Delete("customers", ids[1]))
		r, err := tr.Poll(ctx, nil)
		must(t, err)
		if r.Updated != 1 || r.Deleted != 1 || r.Changes[1].Unknown {
			t.Fatalf("round: %v", summary(r))
		}
		// The partial entry carried only the changed fields; the merged
		// record still has every other one.
		var m map[string]any
		must(t, json.Unmarshal(r.Changes[0].Record, &m))
		if m["phoneNumber"] != "+1 555 0000" || m["displayName"] == nil || m["city"] == nil {
			t.Errorf("merged record lost fields: %v", m)
		}
		assertConverged(t, srv, tr, "customers")
	})
	t.Run("record leaving a $filter is deleted with reason changed", func(t *testing.T) {
		t.Parallel()
		srv := deltatest.NewServer(deltatest.Options{Seed: 12, Records: 20})
		defer srv.Close()
		ids := srv.IDs("customers")
		for _, id := range ids[:4] {
			must(t, srv.Update("customers", id, map[string]any{"city": "Oslo"}))
		}
		tr := track.New("customers", srv.CollectionURL("customers")+"?$filter="+url.PathEscape("city eq 'Oslo'"), client(0))
		r, err := tr.Baseline(ctx, nil)
		must(t, err)
		if r.Records != 4 {
			t.Fatalf("filtered baseline has %d records, want 4", r.Records)
		}
		must(t, srv.Update("customers", ids[0], map[string]any{"city": "Bergen"}))
		r, err = tr.Poll(ctx, nil)
		must(t, err)
		if d := cmp.Diff([]string{"deleted " + ids[0] + " (changed)"}, summary(r)); d != "" {
			t.Error(d)
		}
	})
	t.Run("entity without delta support", func(t *testing.T) {
		t.Parallel()
		srv := deltatest.NewServer(deltatest.Options{Seed: 1})
		defer srv.Close()
		tr := track.New("balanceSheet", srv.CollectionURL("balanceSheet"), client(0))
		tr.DeltaOnly = true
		_, err := tr.Baseline(ctx, nil)
		var ue *deltaclient.UnsupportedError
		if !errors.As(err, &ue) || ue.Status != 500 || !strings.Contains(ue.Message, "Entity does not support delta requests") {
			t.Fatalf("want *UnsupportedError 500, got %v", err)
		}
		if _, err := tr.Poll(ctx, nil); !errors.Is(err, track.ErrNoBaseline) {
			t.Errorf("poll without baseline: %v", err)
		}
	})
}

// assertConverged checks the client's snapshot holds exactly the server's
// current records, field by field.
func assertConverged(t *testing.T, srv *deltatest.Server, tr *track.Tracker, set string) {
	t.Helper()
	decode := func(raw []byte) map[string]any {
		var m map[string]any
		must(t, json.Unmarshal(raw, &m))
		delete(m, "@odata.etag")
		return m
	}
	want := map[string]map[string]any{}
	for id, raw := range srv.Records(set) {
		want[id] = decode(raw)
	}
	got := map[string]map[string]any{}
	for id, raw := range tr.Records() {
		got[id] = decode(raw)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("client snapshot differs from the server (-server +client):\n%s", d)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

var _ = time.Second
