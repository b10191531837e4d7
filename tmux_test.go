package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// TestBinaryInTmux runs the built binary as a user would, in a real
// terminal (tmux) at 80x24 with NO_COLOR: it opens on the demo, keys work,
// a resize to 40x10 redraws within the new size, and q quits.
func TestBinaryInTmux(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed; the TUI is covered by teatest in ui/")
	}
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "deltascope")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	sock := filepath.Join(t.TempDir(), "tmux.sock")
	tmux := func(args ...string) string {
		out, err := exec.Command("tmux", append([]string{"-S", sock}, args...)...).CombinedOutput()
		if err != nil && args[0] != "kill-server" {
			t.Fatalf("tmux %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	tmux("new-session", "-d", "-s", "ds", "-x", "80", "-y", "24", "env NO_COLOR=1 TERM=xterm-256color "+bin+" --interval 2s; echo exited $?; sleep 60")
	defer tmux("kill-server")
	screen := func() string { return tmux("capture-pane", "-p", "-e", "-t", "ds") }
	waitFor := func(what string, ok func(string) bool) string {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			s := screen()
			if ok(s) {
				return s
			}
			if time.Now().After(deadline) {
				t.Fatalf("waiting for %s; screen:\n%s", what, s)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	has := func(texts ...string) func(string) bool {
		return func(s string) bool {
			for _, x := range texts {
				if !strings.Contains(s, x) {
					return false
				}
			}
			return true
		}
	}
	s := waitFor("the demo to load", has("customers", "tracking", "polling", "auto 2s"))
	if strings.Contains(s, "\x1b[") {
		t.Errorf("NO_COLOR: the screen carries colour or style sequences:\n%q", s)
	}
	waitFor("a live round", has("round 1"))
	tmux("send-keys", "-t", "ds", "?")
	waitFor("the help", has("Delta rounds", "re-baseline"))
	tmux("send-keys", "-t", "ds", "Escape")
	tmux("resize-window", "-t", "ds", "-x", "40", "-y", "10")
	s = waitFor("a redraw at 40x10", has("Entities", "deltascope"))
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > 10 {
		t.Errorf("%d lines at 40x10", len(lines))
	}
	for _, l := range lines {
		if n := utf8.RuneCountInString(l); n > 40 {
			t.Errorf("a line of %d cells at 40 columns: %q", n, l)
		}
	}
	tmux("send-keys", "-t", "ds", "q")
	waitFor("the program to quit", has("exited 0"))
	_ = os.Remove(bin)
}
