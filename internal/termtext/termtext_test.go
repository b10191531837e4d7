package termtext

import (
	"strings"

	"github.com/charmbracelet/x/ansi"
	"testing"
	"unicode/utf8"
)

func TestSanitize(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Adatum Corporation":                   "Adatum Corporation",
		"\x1b[31mRED\x1b[0m Imports":           "RED Imports",
		"Title \x1b]0;pwned\x07Bar":            "Title Bar",
		"OSC 52 \x1b]52;c;aGVsbG8=\x1b\\ clip": "OSC 52  clip",
		"Carriage\rReturn":                     "CarriageReturn",
		"Back\bspace":                          "Backspace",
		"\u202eevil.exe\u202c":                 "evil.exe",
		"Zero\u200dWidth\u200bJoin\ufeff":      "ZeroWidthJoin",
		"\u009b31mC1":                          "C1",
		"\u009d0;title\u009cafter":             "after",
		"Bell\a":                               "Bell",
		"DCS \x1bPq#0;2;0\x1b\\ sixel":         "DCS  sixel",
		"Tab\tand\nnewline":                    "Tab and newline",
		"keep ünïcödé 日本 ✓":                    "keep ünïcödé 日本 ✓",
		"bad \xff utf8":                        "bad \uFFFD utf8",
		"ESC at end \x1b":                      "ESC at end ",
		"charset \x1b(B ok":                    "charset  ok",
		"DEL\x7f":                              "DEL",
	} {
		if got := Sanitize(in); got != want {
			t.Errorf("Sanitize(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzSanitize checks the promise of Sanitize on any input: nothing that a
// terminal would act on survives.
func FuzzSanitize(f *testing.F) {
	for _, s := range []string{"plain", "\x1b[2J\x1b[H", "\x1b]8;;http://x\x07link\x1b]8;;\x07", "\u202e\u2066x", "\xc2\x9b1m", "a\r\nb"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := Sanitize(in)
		if !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 out of %q", in)
		}
		for _, r := range out {
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) || invisible(r) {
				t.Fatalf("Sanitize(%q) left %U", in, r)
			}
		}
		if len(out) > len(in)*3+3 {
			t.Fatalf("output grew: %d from %d", len(out), len(in))
		}
		if Sanitize(out) != out {
			t.Fatalf("not idempotent on %q", in)
		}
		_ = strings.ToUpper(out)
	})
}

// FuzzClip checks that a clipped cell never passes its width, whatever the
// text: wide characters, combining marks, escapes.
func FuzzClip(f *testing.F) {
	for _, s := range []string{"Adatum Corporation", "日本語のテキスト", "e\u0301e\u0301", "\x1b[31mred\x1b[0m", "👩‍👩‍👧 family"} {
		f.Add(s, 8)
	}
	f.Fuzz(func(t *testing.T, in string, width int) {
		width = width%200 + 1
		if width < 1 {
			width = -width + 1
		}
		out := Clip(in, width)
		if w := ansi.StringWidth(out); w > width {
			t.Fatalf("Clip(%q, %d) = %q is %d cells wide", in, width, out, w)
		}
		if strings.ContainsRune(out, 0x1b) {
			t.Fatalf("escape survived in %q", out)
		}
	})
}
