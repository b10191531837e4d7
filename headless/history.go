package headless

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/deltascope/deltascope/internal/termtext"
	"github.com/deltascope/deltascope/model"
	"github.com/deltascope/deltascope/store"
)

// History formats.
const (
	FormatNDJSON = "ndjson"
	FormatCSV    = "csv"
)

// csvHeader is the column order of `history --format csv`; record and
// changes are JSON text.
var csvHeader = []string{"time", "round", "entity", "event", "id", "via", "reason", "changes", "record"}

// History prints a session's stored changes, oldest first, as watch's
// added/updated/deleted events with their round and time (RFC 3339 with
// nanoseconds, so a printed time passed back as --since is exact).
func History(s *store.Session, f store.Filter, format string, stdout io.Writer) error {
	var cw *csv.Writer
	if format == FormatCSV {
		cw = csv.NewWriter(stdout)
		cw.Write(csvHeader)
	}
	w := &watcher{out: &output{stdout: stdout}}
	err := s.History(f, func(e *store.Event) error {
		ev := changeEvent(e.Entity, e.Round.Via, &e.Change)
		ev.Round = ptr(e.Round.Seq)
		at := e.Round.Time.UTC().Format(time.RFC3339Nano)
		if cw == nil {
			ev.Time = at
			return w.write(ev)
		}
		changes := ""
		if len(ev.Changes) > 0 {
			b, _ := json.Marshal(ev.Changes)
			changes = string(inertJSON(b))
		}
		return cw.Write([]string{at, strconv.Itoa(e.Round.Seq), ev.Entity, ev.Event, ev.ID, ev.Via, ev.Reason, changes, string(inertJSON(ev.Record))})
	})
	if cw != nil {
		cw.Flush()
		if err == nil {
			err = cw.Error()
		}
	}
	return err
}

// Snapshot prints entity's stored records, one JSON object a line, each as
// it arrived from the service.
func Snapshot(s *store.Session, entity string, stdout io.Writer) error {
	snap, _, err := s.Load(entity)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	snap.Each(func(_ string, raw []byte) bool {
		buf.Write(escapeInvisible(raw))
		buf.WriteByte('\n')
		if buf.Len() > 1<<20 {
			_, err = stdout.Write(buf.Bytes())
			buf.Reset()
		}
		return err == nil
	})
	if err != nil {
		return err
	}
	_, err = stdout.Write(buf.Bytes())
	return err
}

// Sessions prints the stored sessions of a state directory as a table, or
// one JSON object a line.
func Sessions(list []store.Summary, asJSON bool, stdout io.Writer) error {
	if asJSON {
		enc := json.NewEncoder(stdout)
		for _, s := range list {
			v := struct {
				Name      string   `json:"name"`
				Service   string   `json:"service"`
				Entities  []string `json:"entities"`
				Records   int      `json:"records"`
				LastRound string   `json:"lastRound,omitempty"`
				Bytes     int64    `json:"bytes"`
				Error     string   `json:"error,omitempty"`
			}{Name: s.Name, Service: s.Service, Entities: s.Entities, Records: s.Records, Bytes: s.Size}
			if !s.LastRound.IsZero() {
				v.LastRound = s.LastRound.UTC().Format(time.RFC3339)
			}
			if s.Err != nil {
				v.Error = s.Err.Error()
			}
			if err := enc.Encode(v); err != nil {
				return err
			}
		}
		return nil
	}
	if len(list) == 0 {
		_, err := fmt.Fprintln(stdout, "no stored sessions")
		return err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%-28s %-8s %10s %-20s %9s  %s\n", "SESSION", "ENTITIES", "RECORDS", "LAST ROUND", "SIZE", "SERVICE")
	for _, s := range list {
		last := "-"
		if !s.LastRound.IsZero() {
			last = s.LastRound.UTC().Format(time.RFC3339)
		}
		service := s.Service
		if s.Err != nil {
			service = "unreadable: " + s.Err.Error()
		}
		fmt.Fprintf(&b, "%-28s %-8d %10d %-20s %9s  %s\n", termtext.Sanitize(s.Name), len(s.Entities), s.Records, last, size(s.Size), termtext.Sanitize(service))
	}
	_, err := stdout.Write(b.Bytes())
	return err
}

func size(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// changeEvent is the watch event of one change.
func changeEvent(entity, via string, c *model.Change) Event {
	ev := Event{Entity: entity, Event: c.Kind.String(), ID: c.ID, Via: via}
	switch c.Kind {
	case model.Added:
		ev.Record = c.Record
	case model.Updated:
		ev.Record = c.Record
		ev.Changes = make([]FieldJSON, 0, len(c.Fields))
		for _, f := range c.Fields {
			ev.Changes = append(ev.Changes, FieldJSON{Field: f.Path, Old: orNull(f.Old), New: orNull(f.New)})
		}
	case model.Deleted:
		ev.Reason, ev.Unknown = c.Reason, c.Unknown
	}
	return ev
}
