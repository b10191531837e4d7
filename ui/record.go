package ui

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/deltascope/deltascope/internal/termtext"
	"github.com/deltascope/deltascope/model"
	"github.com/deltascope/deltascope/track"
)

// recordView shows one record as indented JSON, its changed fields marked
// and their previous values beside them.
type recordView struct {
	pager
	json []byte // what y copies: the record as known after the change
	// history is how many stored changes of the record were added below
	// its JSON (-1 until they arrive or without a session).
	history int
}

func newRecordView(c *model.Change, entity string, st Styles) *recordView {
	r := &recordView{pager: newPager("", nil), json: c.Record, history: -1}
	kind := c.Kind.String()
	if c.Kind == model.Deleted {
		kind += " (" + reasonText(c.Reason) + "); the record as last known"
	}
	r.title = termtext.Sanitize(entity) + " · " + kind + " · " + termtext.Sanitize(c.ID)
	if c.Record == nil {
		r.lines = []string{st.Dim.Render("The snapshot never had this record, so there is nothing to show but its id.")}
		return r
	}
	changed := map[string][]model.FieldChange{}
	for _, f := range c.Fields {
		top, _, _ := strings.Cut(f.Path, ".")
		changed[top] = append(changed[top], f)
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, c.Record, "", "  "); err != nil {
		buf.Reset()
		buf.Write(c.Record)
	}
	for _, l := range strings.Split(buf.String(), "\n") {
		clean := termtext.Sanitize(l)
		fs := changed[topKey(l)]
		if len(fs) == 0 {
			r.lines = append(r.lines, "  "+clean)
			continue
		}
		r.lines = append(r.lines, st.Changed.Render("~ "+clean))
		for _, f := range fs {
			r.lines = append(r.lines, st.Was.Render("      was "+termtext.Sanitize(f.Path)+": "+termtext.Sanitize(string(orNone(f.Old)))))
		}
	}
	if len(c.Fields) > 0 {
		r.lines = append(r.lines, "", st.Dim.Render("~ marks the fields this update changed; \"was\" is the value before."))
	}
	return r
}

func orNone(b []byte) []byte {
	if b == nil {
		return []byte("(none)")
	}
	return b
}

// topKey returns the member name of a line of two-space-indented JSON at
// the top level ("  \"name\": ..."), or "".
func topKey(l string) string {
	if !strings.HasPrefix(l, "  \"") || strings.HasPrefix(l, "   ") {
		return ""
	}
	end := strings.Index(l, "\": ")
	if end < 0 {
		return ""
	}
	name, err := strconv.Unquote(l[2 : end+1])
	if err != nil {
		return ""
	}
	return name
}

// recordHistoryMsg brings a record's stored history to its record view.
type recordHistoryMsg struct {
	view    *recordView // the view it was read for; another view drops it
	changes []track.RecordChange
	err     error
}

// loadRecordHistory reads id's history from the tracker's session, if it
// has one.
func loadRecordHistory(tr *track.Tracker, id string, v *recordView) tea.Cmd {
	if tr == nil || tr.Session() == nil {
		return nil
	}
	return func() tea.Msg {
		cs, err := tr.RecordHistory(id)
		return recordHistoryMsg{view: v, changes: cs, err: err}
	}
}

// setHistory adds the record's history below its JSON: every stored round
// that touched it, field by field, oldest first.
func (r *recordView) setHistory(msg recordHistoryMsg, st Styles) {
	if msg.view != r {
		return
	}
	lines := []string{"", st.Dim.Render("History from the session")}
	switch {
	case msg.err != nil:
		lines = append(lines, "  "+termtext.Sanitize(msg.err.Error()))
	case len(msg.changes) == 0:
		lines = append(lines, st.Dim.Render("  No stored round touched this record (it has not changed since the baseline)."))
	}
	for _, c := range msg.changes {
		head := fmt.Sprintf("  round %d · %s · %s", c.Round, c.Time.Format("2006-01-02 15:04:05"), c.Kind)
		if c.Via != "" {
			head += " (" + c.Via + ")"
		}
		if c.Kind == model.Deleted {
			head += " · " + reasonText(c.Reason)
		}
		lines = append(lines, head)
		for _, f := range c.Fields {
			lines = append(lines, "      "+termtext.Sanitize(f.Path)+": "+termtext.Sanitize(string(orNone(f.Old)))+" -> "+termtext.Sanitize(string(orNone(f.New))))
		}
	}
	r.lines = append(r.lines, lines...)
	r.history = len(msg.changes)
	r.rewrap()
}
