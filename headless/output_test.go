package headless

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/deltascope/deltascope/reqlog"
)

// FuzzEventLine feeds arbitrary bytes, as the content of a record's string
// (the decoder lets invalid UTF-8 through there), to the output boundary:
// every line must be one valid UTF-8 JSON object, inert on a terminal,
// without the known secret, and unchanged in meaning when nothing needed
// repair.
func FuzzEventLine(f *testing.F) {
	f.Add([]byte("plain"))
	f.Add([]byte("bad \xff\x9b2J end"))
	f.Add([]byte("\xc2\x9b31m red \xe2\x80\xae rtl"))
	f.Add([]byte("tok-s3cr3t-value inside"))
	f.Add([]byte("\xed\xa0\x80 surrogate"))
	f.Fuzz(func(t *testing.T, in []byte) {
		// Keep the record JSON-shaped: drop the bytes that would end or
		// escape the string, as the decoder would have rejected them.
		// Byte by byte, so invalid UTF-8 stays.
		var s []byte
		for _, c := range in {
			if c != '"' && c != '\\' && c >= 0x20 {
				s = append(s, c)
			}
		}
		record := append(append([]byte(`{"id":"1","v":"`), s...), `"}`...)
		var out bytes.Buffer
		o := &output{stdout: &out, secrets: reqlog.NewSecrets("tok-s3cr3t-value")}
		if err := o.event(Event{Entity: "e", Event: "added", ID: "1", Record: record}); err != nil {
			t.Fatal(err)
		}
		line := out.Bytes()
		if !bytes.HasSuffix(line, []byte("\n")) || bytes.Count(line, []byte("\n")) != 1 {
			t.Fatalf("not one line: %q", line)
		}
		if !utf8.Valid(line) || !json.Valid(line) {
			t.Fatalf("not valid UTF-8 JSON: %q", line)
		}
		if bytes.ContainsFunc(line, func(r rune) bool { return r == 0x1b || needsEscape(r) }) {
			t.Fatalf("terminal controls left raw: %q", line)
		}
		if bytes.Contains(line, []byte("tok-s3cr3t-value")) {
			t.Fatalf("secret printed: %q", line)
		}
		var ev struct {
			Repaired bool `json:"repaired"`
			Record   struct {
				V string `json:"v"`
			} `json:"record"`
		}
		if err := json.Unmarshal(line, &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Repaired == utf8.Valid(s) {
			t.Fatalf("repaired=%v for input valid=%v: %q", ev.Repaired, utf8.Valid(s), line)
		}
		if utf8.Valid(s) && ev.Record.V != strings.ReplaceAll(string(s), "tok-s3cr3t-value", reqlog.Redacted) {
			t.Fatalf("valid text changed: %q -> %q", s, ev.Record.V)
		}
	})
}
