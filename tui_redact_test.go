package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deltascope/deltascope/reqlog"
)

// The TUI's frames pass the session's redactor on their way to the
// terminal: a token echoed inside a record is not drawn.
func TestTUIFramesAreRedacted(t *testing.T) {
	t.Parallel()
	f, err := os.Create(filepath.Join(t.TempDir(), "tty"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	secrets := reqlog.NewSecrets("tok-echoed-1234")
	frame := "\x1b[1m customers \x1b[0m\r\n  note: tok-echoed-1234 in a record\r\n"
	n, err := redactedTerminal{File: f, secrets: secrets}.Write([]byte(frame))
	if err != nil || n != len(frame) {
		t.Fatalf("wrote %d of %d: %v", n, len(frame), err)
	}
	got, _ := os.ReadFile(f.Name())
	if strings.Contains(string(got), "tok-echoed-1234") || !strings.Contains(string(got), "note: [redacted] in a record") {
		t.Errorf("frame on the terminal: %q", got)
	}
}
