package headless

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"unicode/utf8"

	"github.com/deltascope/deltascope/internal/termtext"
)

// Redactor removes every secret the session knows from text; the
// session's one redactor (reqlog.Secrets) implements it.
type Redactor interface {
	Text(string) string
	Bytes([]byte) []byte
	URL(string) string
}

// output is the one boundary through which watch and probe write. Server
// text is data and may carry escape sequences, invalid UTF-8 or echoed
// secrets; whatever reaches stdout or stderr passed through here once:
//
//   - a stderr line is sanitised whole (termtext: no escape sequence,
//     control or bidi character survives) and redacted;
//   - an NDJSON line is valid UTF-8 (invalid bytes in a record become
//     U+FFFD and the event says "repaired": true), redacted, and has C1,
//     bidi and line-separator characters written as \u escapes, so it is
//     the same JSON but inert on a terminal.
type output struct {
	mu      sync.Mutex // progress callbacks write from the client's goroutines
	stdout  io.Writer
	stderr  io.Writer
	secrets Redactor // nil when the session knows no secret
	buf     bytes.Buffer
}

func (o *output) redact(s string) string {
	if o.secrets == nil {
		return s
	}
	return o.secrets.Text(s)
}

// say writes one line to stderr: "deltascope: " and the text.
func (o *output) say(format string, args ...any) {
	line := termtext.Sanitize(o.redact(fmt.Sprintf(format, args...)))
	o.mu.Lock()
	defer o.mu.Unlock()
	fmt.Fprintf(o.stderr, "deltascope: %s\n", line)
}

// event writes ev as one NDJSON line to stdout.
func (o *output) event(ev Event) error {
	if o.secrets != nil && ev.Location != "" {
		ev.Location = o.secrets.URL(ev.Location)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	line := o.encode(ev)
	if !utf8.Valid(line) {
		// Only string contents of a record can be invalid: the decoder
		// checked everything else.
		ev.Repaired = true
		line = bytes.ToValidUTF8(o.encode(ev), []byte("\uFFFD"))
	}
	if o.secrets != nil {
		line = o.secrets.Bytes(line)
	}
	_, err := o.stdout.Write(escapeInvisible(line))
	return err
}

func (o *output) encode(ev Event) []byte {
	o.buf.Reset()
	if err := json.NewEncoder(&o.buf).Encode(ev); err != nil {
		// A record that is not valid JSON cannot be passed through; say so
		// instead of writing a broken line.
		ev.Record, ev.Changes = nil, nil
		ev.Message = "record not valid JSON: " + err.Error()
		o.buf.Reset()
		json.NewEncoder(&o.buf).Encode(ev)
	}
	return o.buf.Bytes()
}

// inertJSON is a JSON value made safe for a line of text: invalid UTF-8
// repaired to U+FFFD, invisible and C1 characters escaped.
func inertJSON(b []byte) []byte {
	if !utf8.Valid(b) {
		b = bytes.ToValidUTF8(b, []byte("\uFFFD"))
	}
	return escapeInvisible(b)
}

// escapeInvisible writes C1 controls, bidi controls and line separators as
// \u escapes. Valid JSON only has them inside strings, where the escape
// means the same, so the line stays the same JSON but can no longer act on
// a terminal it is printed to.
func escapeInvisible(b []byte) []byte {
	if !bytes.ContainsFunc(b, needsEscape) {
		return b
	}
	var out []byte
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if needsEscape(r) {
			out = fmt.Appendf(out, `\u%04x`, r)
		} else {
			out = append(out, b[:size]...)
		}
		b = b[size:]
	}
	return out
}

func needsEscape(r rune) bool {
	return r >= 0x80 && r <= 0x9f || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 ||
		r == 0x200e || r == 0x200f || r == 0x061c || r == 0x2028 || r == 0x2029
}

// plural writes "1 page", "2 pages": a count and its noun.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
