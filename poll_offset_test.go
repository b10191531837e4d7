package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// thingServer is a small OData v4 service with no delta links whose
// $skiptoken is a row offset, as SAP CAP's: a row deleted while a read
// pages moves the rows after it forward, and the next page skips one.
type thingServer struct {
	mu       sync.Mutex
	rows     map[int]map[string]any
	stamps   bool
	etags    bool
	pageSize int
	ver      int
	onScanP2 func() // called (locked) before serving page 2 of a key scan
}

func (s *thingServer) put(id int, name string, stamp string) {
	s.ver++
	r := map[string]any{"ID": id, "name": name}
	if s.stamps {
		r["modifiedAt"] = stamp
	}
	r["@odata.etag"] = fmt.Sprintf("W/\"%d\"", s.ver)
	s.rows[id] = r
}

var inRe = regexp.MustCompile(`^ID in \((.*)\)$`)
var geRe = regexp.MustCompile(`^modifiedAt ge (\S+)$`)

func (s *thingServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w.Header().Set("OData-Version", "4.0")
	switch r.URL.Path {
	case "/svc/", "/svc":
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"@odata.context":"$metadata","value":[{"name":"Things","kind":"EntitySet","url":"Things"}]}`)
		return
	case "/svc/$metadata":
		w.Header().Set("Content-Type", "application/xml")
		stamp := ""
		if s.stamps {
			stamp = `<Property Name="modifiedAt" Type="Edm.DateTimeOffset"/>`
		}
		fmt.Fprintf(w, `<?xml version="1.0" encoding="utf-8"?><edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx"><edmx:DataServices><Schema Namespace="T" xmlns="http://docs.oasis-open.org/odata/ns/edm"><EntityType Name="Thing"><Key><PropertyRef Name="ID"/></Key><Property Name="ID" Type="Edm.Int32" Nullable="false"/><Property Name="name" Type="Edm.String"/>%s</EntityType><EntityContainer Name="C"><EntitySet Name="Things" EntityType="T.Thing"/></EntityContainer></Schema></edmx:DataServices></edmx:Edmx>`, stamp)
		return
	case "/svc/Things/$count":
		fmt.Fprint(w, len(s.rows))
		return
	case "/svc/Things":
	default:
		http.NotFound(w, r)
		return
	}
	q := r.URL.Query()
	var ids []int
	for id := range s.rows {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	if f := q.Get("$filter"); f != "" {
		var keep []int
		if m := inRe.FindStringSubmatch(f); m != nil {
			for _, p := range strings.Split(m[1], ",") {
				n, _ := strconv.Atoi(strings.TrimSpace(p))
				if _, ok := s.rows[n]; ok {
					keep = append(keep, n)
				}
			}
			slices.Sort(keep)
		} else if m := geRe.FindStringSubmatch(f); m != nil && s.stamps {
			since, err := time.Parse(time.RFC3339Nano, m[1])
			if err != nil {
				http.Error(w, `{"error":{"message":"bad time"}}`, 400)
				return
			}
			for _, id := range ids {
				t, _ := time.Parse(time.RFC3339Nano, s.rows[id]["modifiedAt"].(string))
				if !t.Before(since) {
					keep = append(keep, id)
				}
			}
		} else {
			http.Error(w, `{"error":{"message":"filter not implemented"}}`, 501)
			return
		}
		ids = keep
	}
	off, _ := strconv.Atoi(q.Get("$skiptoken"))
	if off == s.pageSize && q.Get("$filter") == "" && s.onScanP2 != nil {
		s.onScanP2()
		s.onScanP2 = nil
		ids = ids[:0]
		for id := range s.rows {
			ids = append(ids, id)
		}
		slices.Sort(ids)
	}
	end := min(len(ids), off+s.pageSize)
	var sel []string
	if v := q.Get("$select"); v != "" {
		sel = strings.Split(v, ",")
	}
	vals := []map[string]any{}
	for _, id := range ids[min(off, len(ids)):end] {
		row := s.rows[id]
		out := map[string]any{}
		for k, v := range row {
			if k == "@odata.etag" && !s.etags {
				continue
			}
			if sel == nil || slices.Contains(sel, k) || k == "@odata.etag" {
				out[k] = v
			}
		}
		vals = append(vals, out)
	}
	body := map[string]any{"@odata.context": "$metadata#Things", "value": vals}
	if end < len(ids) {
		q.Set("$skiptoken", strconv.Itoa(end))
		body["@odata.nextLink"] = "Things?" + q.Encode()
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(body)
}

func stampAt(sec int) string {
	return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(sec) * time.Second).Format(time.RFC3339)
}

type qaEvent struct {
	Event, ID, Reason, Method, Via, Message string
	Round                                   int
	Added, Updated, Deleted                 int
	Records                                 int
}

func runQA(t *testing.T, s *thingServer, rounds int, extra []string, before func(round int)) []qaEvent {
	t.Helper()
	srv := httptest.NewServer(s)
	defer srv.Close()
	n := 0
	out := &hookWriter{onLine: func(line string) {
		if strings.Contains(line, `"event":"baseline"`) || strings.Contains(line, `"event":"round"`) {
			n++
			s.mu.Lock()
			before(n)
			s.mu.Unlock()
		}
	}}
	var stderr bytes.Buffer
	args := append([]string{"watch", "--no-session", "--url", srv.URL + "/svc", "--entity", "Things", "--rounds", strconv.Itoa(rounds), "--interval", "1ms"}, extra...)
	if code := run(context.Background(), args, out, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var evs []qaEvent
	for _, line := range strings.Split(strings.TrimSpace(out.buf.String()), "\n") {
		var e qaEvent
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatal(err)
		}
		evs = append(evs, e)
	}
	return evs
}

func summary(evs []qaEvent) string {
	var b strings.Builder
	for _, e := range evs {
		switch e.Event {
		case "round":
			fmt.Fprintf(&b, "| r%d +%d~%d-%d n=%d\n", e.Round, e.Added, e.Updated, e.Deleted, e.Records)
		case "baseline":
			fmt.Fprintf(&b, "baseline n=%d %s\n", e.Records, e.Method)
		default:
			fmt.Fprintf(&b, "%s %s %s%s; ", e.Event, e.ID, e.Reason, e.Message)
		}
	}
	return b.String()
}

func newThings(stamps, etags bool, n int) *thingServer {
	s := &thingServer{rows: map[int]map[string]any{}, stamps: stamps, etags: etags, pageSize: 10}
	for i := 1; i <= n; i++ {
		s.put(i, fmt.Sprintf("thing %d", i), stampAt(i))
	}
	return s
}

// A row deleted while a poll round pages through the set (a key scan, or
// the full read) makes an offset-paged read skip the next row: that row
// must not be reported deleted (it is fetched again by key), the deleted
// one is found the round after, and each change comes once. Each method.
func TestPollOffsetPagingSkipsNoRow(t *testing.T) {
	t.Parallel()
	for _, mode := range []struct {
		method        string
		stamps, etags bool
	}{{"modifiedAt + key scan", true, false}, {"etag scan", false, true}, {"full read", false, false}} {
		t.Run(mode.method, func(t *testing.T) {
			t.Parallel()
			s := newThings(mode.stamps, mode.etags, 30)
			evs := runQA(t, s, 3, nil, func(r int) {
				switch r {
				case 1:
					delete(s.rows, 2) // the count disagrees: the keys are scanned
					// While page 2 is asked for, row 4 (already listed) goes:
					// row 12 moves onto page 1 and is not listed.
					s.onScanP2 = func() { delete(s.rows, 4) }
				case 2:
					s.put(12, "changed", stampAt(100))
				}
			})
			want := "baseline n=30 " + mode.method + "\n" +
				"deleted 2 deleted; | r1 +0~0-1 n=29\n" +
				"updated 12 ; deleted 4 deleted; | r2 +0~1-1 n=28\n" +
				"| r3 +0~0-0 n=28\n"
			if got := summary(evs); got != want {
				t.Errorf("events:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

// A deletion and an add in the same interval leave /$count as it was; the
// add, read by its timestamp, still makes the count disagree, so the
// deletion is found in the same round.
func TestPollDeleteAndAddInOneInterval(t *testing.T) {
	t.Parallel()
	s := newThings(true, false, 30)
	evs := runQA(t, s, 2, nil, func(r int) {
		if r == 1 {
			delete(s.rows, 7)
			s.put(100, "new", stampAt(1000))
		}
	})
	want := "baseline n=30 modifiedAt + key scan\nadded 100 ; deleted 7 deleted; | r1 +1~0-1 n=30\n| r2 +0~0-0 n=30\n"
	if got := summary(evs); got != want {
		t.Errorf("events:\n%s\nwant:\n%s", got, want)
	}
}
