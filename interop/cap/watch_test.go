package cap

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/deltascope/deltascope/deltaclient"
	"github.com/deltascope/deltascope/headless"
	"github.com/deltascope/deltascope/track"
)

func authorID(n int) string { return fmt.Sprintf("%08x-0000-4000-8000-%012x", n, n*7919) }

func open(t *testing.T, s *server) []*track.Tracker {
	t.Helper()
	c := &deltaclient.Client{Retry: deltaclient.RetryPolicy{Tries: 2}}
	trackers, _, err := track.Open(context.Background(), c, deltaclient.Target{URL: s.Root, Entities: []string{"Books", "Authors", "Stock"}})
	if err != nil {
		t.Fatal(err)
	}
	return trackers
}

// watch on CAP: CAP never serves delta links, so every set is polled, by
// modifiedAt + key scan (managed) or etag scan; POST, PATCH and DELETE
// between rounds come out as exactly these events, each once.
func testWatch(t *testing.T, s *server) {
	var out, stderr bytes.Buffer
	err := headless.Watch(context.Background(), headless.WatchOptions{
		Trackers: open(t, s), Interval: time.Millisecond, Rounds: 3,
		BeforeRound: func(round int) {
			switch round {
			case 1:
				s.do(t, "POST", "Books", map[string]any{"ID": 5001, "title": "New Book", "stock": 1, "price": 9.5})
				s.do(t, "PATCH", "Books(7)", map[string]any{"title": "Changed 7"})
				s.do(t, "DELETE", "Books(9)", nil)
				s.do(t, "PATCH", "Authors("+authorID(3)+")", map[string]any{"name": "Renamed 3"})
				s.do(t, "DELETE", "Authors("+authorID(4)+")", nil)
				s.do(t, "DELETE", "Stock(book_ID=3,warehouse='WH1')", nil)
				s.do(t, "POST", "Stock", map[string]any{"book_ID": 1, "warehouse": "WH3", "quantity": 4})
			case 2:
				s.do(t, "PATCH", "Books(7)", map[string]any{"stock": 99})
			}
		},
	}, &out, &stderr)
	if err != nil {
		t.Fatalf("%v: %s", err, stderr.String())
	}
	type event struct {
		Entity, Event, ID, Via, Method, Reason string
		Records, Pages, Round                  *int
		Added, Updated, Deleted                *int
		Changes                                []struct {
			Field    string
			Old, New json.RawMessage
		}
	}
	got := map[string][]string{}
	ids := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var ev event
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		var s string
		switch ev.Event {
		case "baseline":
			s = fmt.Sprintf("baseline %d records, %d pages, via %s, %s", *ev.Records, *ev.Pages, ev.Via, ev.Method)
		case "round":
			s = fmt.Sprintf("round %d +%d ~%d -%d via %s, %s, %d records", *ev.Round, *ev.Added, *ev.Updated, *ev.Deleted, ev.Via, ev.Method, *ev.Records)
		case "updated":
			var fields []string
			for _, c := range ev.Changes {
				switch c.Field {
				case "modifiedAt", "rev", "@odata.etag":
					if bytes.Equal(c.Old, c.New) {
						t.Errorf("%s: %s did not change: %s", line, c.Field, c.Old)
					}
					fields = append(fields, c.Field)
				default:
					fields = append(fields, fmt.Sprintf("%s:%s->%s", c.Field, c.Old, c.New))
				}
			}
			sort.Strings(fields)
			s = "updated " + ev.ID + " " + strings.Join(fields, " ")
		case "deleted":
			s = "deleted " + ev.ID + " " + ev.Reason
		default:
			s = ev.Event + " " + ev.ID
		}
		if ev.Event != "baseline" && ev.Event != "round" && ev.Via != "poll" {
			s += " via " + ev.Via
		}
		if ev.Event == "added" || ev.Event == "deleted" || ev.Event == "updated" {
			if ids[ev.Entity+" "+s] {
				t.Errorf("reported twice: %s", line)
			}
			ids[ev.Entity+" "+s] = true
		}
		got[ev.Entity] = append(got[ev.Entity], s)
	}
	const mod = "modifiedAt + key scan"
	// Stock's composite key: the id names both parts.
	stockID := func(book int, wh string) string {
		for _, s := range got["Stock"] {
			if f := strings.Fields(s); len(f) > 1 && strings.Contains(f[1], fmt.Sprint(book)) && strings.Contains(f[1], wh) {
				return f[1]
			}
		}
		return fmt.Sprintf("<no event for book_ID=%d, warehouse=%s>", book, wh)
	}
	want := map[string][]string{
		"Books": {
			"baseline 2500 records, 3 pages, via poll, " + mod,
			`updated 7 modifiedAt title:"Book 7"->"Changed 7"`, // in key order, as read
			`added 5001`,
			`deleted 9 deleted`,
			"round 1 +1 ~1 -1 via poll, " + mod + ", 2500 records",
			`updated 7 modifiedAt stock:49->99`,
			"round 2 +0 ~1 -0 via poll, " + mod + ", 2500 records",
			"round 3 +0 ~0 -0 via poll, " + mod + ", 2500 records",
		},
		"Authors": {
			"baseline 1200 records, 2 pages, via poll, etag scan",
			`updated ` + authorID(3) + ` name:"Author 3"->"Renamed 3" rev`,
			`deleted ` + authorID(4) + ` deleted`,
			"round 1 +0 ~1 -1 via poll, etag scan, 1199 records",
			"round 2 +0 ~0 -0 via poll, etag scan, 1199 records",
			"round 3 +0 ~0 -0 via poll, etag scan, 1199 records",
		},
		"Stock": {
			"baseline 1200 records, 2 pages, via poll, " + mod,
			`added ` + stockID(1, "WH3"),
			`deleted ` + stockID(3, "WH1") + ` deleted`,
			"round 1 +1 ~0 -1 via poll, " + mod + ", 1200 records",
			"round 2 +0 ~0 -0 via poll, " + mod + ", 1200 records",
			"round 3 +0 ~0 -0 via poll, " + mod + ", 1200 records",
		},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("events (-want +got):\n%s\nstderr: %s", d, stderr.String())
	}
	if n := s.count(t, "Books"); n != 2500 {
		t.Errorf("Books/$count = %d", n)
	}
}
