package ui

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/deltascope/deltascope/internal/rawjson"
	"github.com/deltascope/deltascope/internal/termtext"
	"github.com/deltascope/deltascope/model"
)

type lineKind uint8

const (
	lineHeader lineKind = iota
	lineAdded
	lineUpdated
	lineField
	lineDeleted
	lineQuiet // one or more rounds in a row that brought no changes
)

// line is one row of the diff pane. Its text is built the first time it is
// needed (shown or filtered) and kept: plain, sanitised, not truncated.
type line struct {
	kind   lineKind
	round  *model.Round
	change int // index in round.Changes; -1 for the header
	field  int // index in the change's Fields, for lineField
	first  int // for lineQuiet: the first empty round; round is the last
	// since, on the header of the first round after a session resumed, is
	// the time of the last round the session had stored.
	since time.Time
	text  string
	built bool
	// styled is text rendered for width styledW.
	styled  string
	styledW int
}

// quietRound is a delta or poll round that brought nothing: such rounds
// share one row. A re-baseline always shows its header, even with no
// differences, since the user asked for it.
func quietRound(r *model.Round) bool {
	return !r.Baseline && r.Via != model.ViaRebaseline && len(r.Changes) == 0
}

// linesOf flattens one round into rows, header first, in server order.
func linesOf(r *model.Round) []line {
	if quietRound(r) {
		return []line{{kind: lineQuiet, round: r, change: -1, first: r.Seq}}
	}
	n := 1
	for i := range r.Changes {
		n += 1 + len(r.Changes[i].Fields)
	}
	out := make([]line, 0, n)
	out = append(out, line{kind: lineHeader, round: r, change: -1})
	for i := range r.Changes {
		c := &r.Changes[i]
		switch c.Kind {
		case model.Added:
			out = append(out, line{kind: lineAdded, round: r, change: i})
		case model.Updated:
			out = append(out, line{kind: lineUpdated, round: r, change: i})
			for f := range c.Fields {
				out = append(out, line{kind: lineField, round: r, change: i, field: f})
			}
		case model.Deleted:
			out = append(out, line{kind: lineDeleted, round: r, change: i})
		}
	}
	return out
}

// extend adds empty round r to a quiet row.
func (l *line) extend(r *model.Round) {
	l.round, l.built, l.styled = r, false, ""
}

// Text returns the row's plain text, building it once.
func (l *line) Text() string {
	if !l.built {
		l.text, l.built = l.build(), true
	}
	return l.text
}

func (l *line) build() string {
	r := l.round
	switch l.kind {
	case lineHeader:
		if !l.since.IsZero() {
			return fmt.Sprintf("round %d · since %s · +%d ~%d -%d", r.Seq, l.since.Format("15:04:05"), r.Added, r.Updated, r.Deleted)
		}
		return headerText(r)
	case lineQuiet:
		if l.first == r.Seq {
			return fmt.Sprintf("round %d · %s · no changes", r.Seq, r.Time.Format("15:04:05"))
		}
		return fmt.Sprintf("rounds %d-%d · no changes · last %s", l.first, r.Seq, r.Time.Format("15:04:05"))
	}
	c := &r.Changes[l.change]
	switch l.kind {
	case lineAdded:
		return "+ " + summary(c.ID, c.Record)
	case lineUpdated:
		s := "~ " + summary(c.ID, c.Record)
		if len(c.Fields) == 0 {
			s += " · no field changed"
		}
		return s
	case lineField:
		f := c.Fields[l.field]
		return "    " + termtext.Sanitize(f.Path) + ": " + fullValue(f.Old) + " -> " + fullValue(f.New)
	default:
		s := "- " + summary(c.ID, c.Record)
		switch {
		case c.Inferred:
			s += " · gone from the new baseline"
		case c.Unknown:
			s += " · " + reasonText(c.Reason) + " (not in the snapshot)"
		default:
			s += " · " + reasonText(c.Reason)
		}
		return s
	}
}

func reasonText(reason string) string {
	switch reason {
	case model.ReasonChanged:
		return "changed: no longer matches the query"
	case "":
		return "deleted (no reason given)"
	}
	return termtext.Sanitize(reason)
}

func headerText(r *model.Round) string {
	t := r.Time.Format("15:04:05")
	d := r.Duration.Round(time.Millisecond).String()
	switch {
	case r.Baseline:
		return fmt.Sprintf("baseline · %s · %s · %s · %s", t, plural(r.Records, "record"), plural(r.Pages, "page"), d)
	case r.Via == model.ViaRebaseline:
		return fmt.Sprintf("re-baseline · %s · +%d ~%d -%d · %s · %s · differences from the old snapshot", t, r.Added, r.Updated, r.Deleted, plural(r.Records, "record"), plural(r.Pages, "page"))
	}
	return fmt.Sprintf("round %d · %s · %s · %s · +%d ~%d -%d", r.Seq, t, d, plural(r.Pages, "page"), r.Added, r.Updated, r.Deleted)
}

// summaryFields are the fields that name a record to a person, in order of
// preference: Business Central's number and displayName, Graph's and
// Dataverse's names.
var summaryFields = []string{"number", "No", "displayName", "name", "fullname", "fullName", "title", "subject", "userPrincipalName", "mail", "CompanyName", "ContactName"}

const maxCell = 48

// summary names a record in one short line: its key fields when it has
// them, else its id and first string fields.
func summary(id string, raw []byte) string {
	var parts []string
	if raw != nil {
		for _, f := range summaryFields {
			if v := rawjson.Lookup(raw, f); v != nil {
				if s, ok := rawjson.String(v); ok && s != "" {
					parts = append(parts, termtext.Clip(s, maxCell))
				}
			}
			if len(parts) == 2 {
				break
			}
		}
	}
	if len(parts) == 0 {
		parts = append(parts, termtext.Clip(id, 40))
		if raw != nil {
			rawjson.Members(raw, func(name, v []byte) bool {
				if len(parts) >= 3 || name[0] == '@' || string(name) == "id" || v[0] != '"' {
					return true
				}
				s, _ := rawjson.String(v)
				if s != "" {
					parts = append(parts, termtext.Clip(s, maxCell))
				}
				return true
			})
		}
	}
	return strings.Join(parts, "  ")
}

// plural counts n words: "1 record", "1,204 records".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return count(n) + " " + word + "s"
}

// count formats a number with thousands separators: 1,204,000.
func count(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return s
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
