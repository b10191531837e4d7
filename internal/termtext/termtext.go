// Package termtext makes text from a server safe to put on a terminal:
// what the server sent is data, and must never move the cursor, set the
// title, write the clipboard or reorder what the user reads.
package termtext

import (
	"strings"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
)

// Sanitize returns s as one line of plain text: escape sequences (CSI, OSC,
// DCS, SOS, PM, APC and two-byte ESC forms) removed whole; other C0 and C1
// controls, DEL, bidirectional overrides and zero-width characters removed;
// tabs and line breaks turned into spaces; invalid UTF-8 replaced.
func Sanitize(s string) string {
	if clean(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 {
			b.WriteRune(utf8.RuneError)
			i++
			continue
		}
		switch {
		case r == 0x1b:
			i = skipEscape(s, i)
			continue
		case r == '\t' || r == '\n':
			b.WriteByte(' ')
		case r < 0x20 || r == 0x7f:
		case r >= 0x80 && r <= 0x9f:
			if r == 0x9b || r == 0x9d || r == 0x90 || r == 0x98 || r == 0x9e || r == 0x9f {
				i = skipC1(s, i+size, r)
				continue
			}
		case invisible(r):
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// clean reports whether s needs no change: printable ASCII only, the
// common case, checked without allocating.
func clean(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

// invisible reports characters that change how text reads without being
// seen: bidi embeddings, overrides and isolates, marks, zero-width spaces
// and joiners, the BOM, and line/paragraph separators.
func invisible(r rune) bool {
	switch {
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069,
		r == 0x200e, r == 0x200f, r == 0x061c,
		r >= 0x200b && r <= 0x200d, r == 0x2060, r == 0xfeff,
		r == 0x2028, r == 0x2029, r == 0x180e:
		return true
	}
	return false
}

// skipEscape returns the index after the escape sequence at s[i] (ESC).
func skipEscape(s string, i int) int {
	i++
	if i >= len(s) {
		return i
	}
	switch s[i] {
	case '[': // CSI: parameters and intermediates, then a final byte
		i++
		for i < len(s) {
			c := s[i]
			i++
			if c >= 0x40 && c <= 0x7e {
				return i
			}
			if c < 0x20 || c > 0x7e {
				return i - 1
			}
		}
		return i
	case ']', 'P', 'X', '^', '_': // OSC, DCS, SOS, PM, APC: to BEL or ST
		return skipString(s, i+1)
	default: // two-byte forms such as ESC c, ESC 7, or ESC ( B
		if s[i] >= 0x20 && s[i] <= 0x2f && i+1 < len(s) {
			return i + 2
		}
		return i + 1
	}
}

// skipC1 skips the body of an 8-bit CSI, OSC, DCS, SOS, PM or APC.
func skipC1(s string, i int, intro rune) int {
	if intro != 0x9b {
		return skipString(s, i)
	}
	for i < len(s) {
		c := s[i]
		if c >= 0x40 && c <= 0x7e {
			return i + 1
		}
		if c < 0x20 || c > 0x7e {
			return i
		}
		i++
	}
	return i
}

// skipString skips to just past a string terminator: BEL, ESC \ or the
// 8-bit ST (U+009C).
func skipString(s string, i int) int {
	for i < len(s) {
		switch {
		case s[i] == 0x07:
			return i + 1
		case s[i] == 0x1b && i+1 < len(s) && s[i+1] == '\\':
			return i + 2
		case strings.HasPrefix(s[i:], "\u009c"):
			return i + len("\u009c")
		}
		i++
	}
	return i
}

// Clip sanitises s and cuts it to at most width terminal cells, marking
// the cut with an ellipsis. Wide characters count as two cells.
func Clip(s string, width int) string {
	s = Sanitize(s)
	if width <= 0 {
		return ""
	}
	if ansi.StringWidth(s) <= width {
		return s
	}
	return ansi.Truncate(s, width, "…")
}
