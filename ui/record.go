package ui

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/deltascope/deltascope/internal/termtext"
	"github.com/deltascope/deltascope/model"
)

// recordView shows one record as indented JSON, its changed fields marked
// and their previous values beside them.
type recordView struct {
	title string
	json  []byte   // what y copies: the record as known after the change
	lines []string // styled, sanitised, before wrapping
	vp    viewport.Model
	width int
}

func newRecordView(c *model.Change, entity string, st Styles) *recordView {
	r := &recordView{json: c.Record}
	kind := c.Kind.String()
	if c.Kind == model.Deleted {
		kind += " (" + reasonText(c.Reason) + "); the record as last known"
	}
	r.title = termtext.Sanitize(entity) + " · " + kind + " · " + termtext.Sanitize(c.ID)
	if c.Record == nil {
		r.lines = []string{st.Dim.Render("The snapshot never had this record, so there is nothing to show but its id.")}
		r.vp = viewport.New(0, 0)
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
	r.vp = viewport.New(0, 0)
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

func (r *recordView) setSize(w, h int) {
	r.vp.Width, r.vp.Height = w, max(1, h-1)
	if w != r.width {
		r.width = w
		var wrapped []string
		for _, l := range r.lines {
			wrapped = append(wrapped, strings.Split(ansi.Hardwrap(l, max(10, w), true), "\n")...)
		}
		r.vp.SetContent(strings.Join(wrapped, "\n"))
	}
}

func (r *recordView) update(msg tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	r.vp, cmd = r.vp.Update(msg)
	return cmd
}

func (r *recordView) view(h int) []string {
	out := []string{"▸ " + r.title}
	return append(out, strings.Split(r.vp.View(), "\n")...)
}
