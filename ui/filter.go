package ui

import (
	"strings"

	"github.com/deltascope/deltascope/model"
)

// rowQuery is a parsed / filter of the changes pane: an optional leading
// + ~ or - keeps one kind of change, the rest is text matched case-blind.
type rowQuery struct {
	kind    model.Kind
	anyKind bool
	text    string // lower case
}

func parseRowQuery(q string) rowQuery {
	q = strings.ToLower(strings.TrimSpace(q))
	rq := rowQuery{anyKind: true}
	if q != "" {
		switch q[0] {
		case '+':
			rq.kind, rq.anyKind = model.Added, false
		case '~':
			rq.kind, rq.anyKind = model.Updated, false
		case '-':
			rq.kind, rq.anyKind = model.Deleted, false
		}
		if !rq.anyKind {
			q = strings.TrimSpace(q[1:])
		}
	}
	rq.text = q
	return rq
}

func (q rowQuery) textMatch(l *line) bool {
	return q.text == "" || strings.Contains(strings.ToLower(l.Text()), q.text)
}

// matchRows returns the indexes of the rows of lines (whole rounds, each
// header first) that a filter keeps. A match never stands alone: a field
// keeps its record's row, a record keeps all its field rows, and both keep
// their round's header. A header that matches keeps its whole round.
// With a kind, only that kind of change is kept, and headers only above
// one.
func matchRows(lines []line, query string) []int {
	q := parseRowQuery(query)
	var out []int
	for h := 0; h < len(lines); {
		if lines[h].kind == lineQuiet {
			if q.anyKind && q.text != "" && q.textMatch(&lines[h]) {
				out = append(out, h)
			}
			h++
			continue
		}
		end := h + 1
		for end < len(lines) && lines[end].kind != lineHeader && lines[end].kind != lineQuiet {
			end++
		}
		out = appendRound(out, lines, h, end, q)
		h = end
	}
	return out
}

// appendRound adds the kept rows of the round in lines[h:end].
func appendRound(out []int, lines []line, h, end int, q rowQuery) []int {
	whole := q.anyKind && q.text != "" && q.textMatch(&lines[h])
	headerAt := len(out)
	out = append(out, h)
	kept := false
	for c := h + 1; c < end; {
		fe := c + 1
		for fe < end && lines[fe].kind == lineField {
			fe++
		}
		l := &lines[c]
		if l.kind != lineHeader && l.change >= 0 && (q.anyKind || l.round.Changes[l.change].Kind == q.kind) {
			all := whole || q.textMatch(l)
			for i := c; i < fe; i++ {
				if i == c {
					if all || anyMatch(lines[c+1:fe], q) {
						out, kept = append(out, c), true
					} else {
						break
					}
					continue
				}
				if all || q.textMatch(&lines[i]) {
					out = append(out, i)
				}
			}
		}
		c = fe
	}
	if !kept && !whole {
		return out[:headerAt]
	}
	return out
}

func anyMatch(fields []line, q rowQuery) bool {
	for i := range fields {
		if q.textMatch(&fields[i]) {
			return true
		}
	}
	return false
}
