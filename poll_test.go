package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/deltascope/deltascope/deltaclient/deltatest"
)

// watch on Business Central as it is since 2024 wave 1 (no delta links):
// one baseline of every page, then per round the exact change events and a
// round event with "via":"poll" and the method; each change once.
func TestWatchPollsWithoutDeltaLinks(t *testing.T) {
	t.Parallel()
	srv := deltatest.NewServer(deltatest.Options{Seed: 12, Records: 90, PageSize: 25, NoDelta: true})
	defer srv.Close()
	ids := srv.IDs("customers")
	before, _ := srv.Record("customers", ids[2])
	oldName, _ := json.Marshal(before["displayName"])
	oldLimit, _ := json.Marshal(before["creditLimit"])
	var added string
	rounds := 0
	out := &hookWriter{onLine: func(line string) {
		if !strings.Contains(line, `"event":"baseline"`) && !strings.Contains(line, `"event":"round"`) {
			return
		}
		rounds++
		switch rounds {
		case 1:
			srv.Update("customers", ids[2], map[string]any{"displayName": "Super Cloud"})
			srv.Delete("customers", ids[9])
			added, _ = srv.Add("customers", map[string]any{"displayName": "Alpine Ski House"})
		case 2:
			srv.Update("customers", ids[2], map[string]any{"creditLimit": 1})
		}
	}}
	var stderr bytes.Buffer
	code := run(context.Background(), []string{"watch", "--url", srv.ServiceRoot(), "--entity", "customers", "--rounds", "3", "--interval", "1ms"}, out, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	type event struct {
		Event, ID, Via, Method, Reason string
		Records, Pages, Round          *int
		Added, Updated, Deleted        *int
		Changes                        []struct {
			Field    string
			Old, New json.RawMessage
		}
	}
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(out.buf.String()), "\n") {
		var ev event
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		s := ev.Event + " " + ev.ID
		switch ev.Event {
		case "baseline":
			s = fmt.Sprintf("baseline records=%d pages=%d via=%s method=%s", *ev.Records, *ev.Pages, ev.Via, ev.Method)
		case "round":
			s = fmt.Sprintf("round %d +%d ~%d -%d via=%s method=%s", *ev.Round, *ev.Added, *ev.Updated, *ev.Deleted, ev.Via, ev.Method)
		case "updated":
			for _, c := range ev.Changes {
				if c.Field != "lastModifiedDateTime" && c.Field != "@odata.etag" {
					s += fmt.Sprintf(" %s:%s->%s", c.Field, c.Old, c.New)
				}
			}
		case "deleted":
			s += " " + ev.Reason
		}
		if ev.Event != "baseline" && ev.Event != "round" && ev.Via != "poll" {
			s += " via=" + ev.Via
		}
		got = append(got, s)
	}
	const method = "method=lastModifiedDateTime + key scan"
	want := []string{
		"baseline records=90 pages=4 via=poll " + method,
		"updated " + ids[2] + " displayName:" + string(oldName) + `->"Super Cloud"`,
		"added " + added,
		"deleted " + ids[9] + " deleted",
		"round 1 +1 ~1 -1 via=poll " + method,
		"updated " + ids[2] + " creditLimit:" + string(oldLimit) + "->1",
		"round 2 +0 ~1 -0 via=poll " + method,
		"round 3 +0 ~0 -0 via=poll " + method,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("events (-want +got):\n%s", d)
	}
}

// probe on the demo without delta links: every set says no, with the
// poll method it would get.
func TestProbeSaysHowToPoll(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"probe", "--json", "--demo-delta", "off", "--entity", "customers", "--entity", "balanceSheet"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var rows []struct{ Entity, Supports, Method string }
	if err := json.Unmarshal(stdout.Bytes(), &rows); err != nil {
		t.Fatalf("%v: %s", err, stdout.String())
	}
	got := fmt.Sprint(rows)
	if want := "[{customers no poll: lastModifiedDateTime + key scan} {balanceSheet no poll: full read}]"; got != want {
		t.Errorf("probe rows %s, want %s", got, want)
	}
}
