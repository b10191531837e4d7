package ui

import (
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/deltascope/deltascope/internal/termtext"
)

// A changed field that does not fit its row is never cut silently: the
// old value goes on one line and the new one on the next, each wrapped at
// word or character boundaries up to maxValueLines lines, then "…" and
// where to read the rest.
const (
	maxValueLines = 4
	maxValueBytes = 4096 // enough for maxValueLines of any terminal; enter shows all
	moreText      = "… enter shows it all"
)

// renderField styles a field row for width w: one line when it fits,
// else old and new on lines of their own.
func renderField(st *Styles, path string, old, new []byte, w int) string {
	p := termtext.Sanitize(path)
	o, n := fullValue(old), fullValue(new)
	plain := "    " + p + ": " + o + " -> " + n
	if ansi.StringWidth(plain) <= w {
		return "    " + st.Field.Render(p) + ": " + st.Old.Render(o) + " -> " + st.New.Render(n)
	}
	lines := wrapValue(st, "    "+st.Field.Render(p)+": ", o, st.Old, w)
	lines = append(lines, wrapValue(st, "      -> ", n, st.New, w)...)
	return strings.Join(lines, "\n")
}

type renderer interface{ Render(...string) string }

// wrapValue wraps v under prefix, continuation lines indented alike.
func wrapValue(st *Styles, prefix, v string, style renderer, w int) []string {
	room := max(8, w-ansi.StringWidth(prefix))
	parts := strings.Split(ansi.Wrap(v, room, " ,;"), "\n")
	cut := len(parts) > maxValueLines
	if cut {
		parts = parts[:maxValueLines]
	}
	indent := "      "
	out := make([]string, len(parts))
	for i, part := range parts {
		lead := indent
		if i == 0 {
			lead = prefix
		}
		if cut && i == len(parts)-1 {
			part = ansi.Truncate(part, max(1, room-len(moreText)), "") + st.Dim.Render(moreText)
			out[i] = fit(lead+style.Render(part), w)
			continue
		}
		out[i] = fit(lead+style.Render(part), w)
	}
	return out
}

// fullValue is a raw JSON value as a row shows it: sanitised, bounded;
// absent is (none).
func fullValue(raw []byte) string {
	if raw == nil {
		return "(none)"
	}
	if len(raw) > maxValueBytes {
		raw = raw[:maxValueBytes]
	}
	return termtext.Sanitize(string(raw))
}

// wrapText wraps a plain row (a re-baseline header) for width w.
func wrapText(s string, w int) []string {
	return strings.Split(ansi.Wrap(s, max(8, w), " "), "\n")
}
