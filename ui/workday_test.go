package ui

import (
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/deltascope/deltascope/deltaclient/deltatest"
)

// TestHelpScrolls: at 40x10 the whole help is a few keys away, and at
// 80x24 no line is cut.
func TestHelpScrolls(t *testing.T) {
	t.Parallel()
	f := newFixture(t, deltatest.Options{}).start()
	f.size(40, 10)
	f.press("?")
	f.mustShow("Delta rounds", "lines 1-7 of")
	f.mustNotShow("q quits from the main screen")
	f.press("G")
	f.mustShow("q quits from the main screen")
	f.mustNotShow("Delta rounds")
	f.press("g", "j")
	f.mustShow("lines 2-8 of")
	f.press(" ") // page down
	f.mustShow("lines 9-15 of")

	f.size(80, 24)
	f.press("g")
	for _, l := range strings.Split(f.screen(), "\n") {
		if strings.Contains(l, "…") {
			t.Errorf("help line cut at 80x24: %q", l)
		}
	}
	f.mustShow("copy JSON (not now)")
}

// TestQGoesBackFromViews: one rule for q. It quits from the main screen
// and goes back from the record, the log and the help, and the help line
// says so.
func TestQGoesBackFromViews(t *testing.T) {
	t.Parallel()
	f := newFixture(t, deltatest.Options{}).start()
	f.size(120, 30)
	ids := f.srv.IDs("customers")
	f.srv.Update("customers", ids[0], map[string]any{"displayName": "Super Cloud"})
	f.press("r", "tab", "j")
	for _, open := range [][]string{{"enter"}, {"l"}, {"?"}, {"enter", "?"}} {
		f.press(open...)
		line := lastLine(f.screen())
		if !strings.Contains(line, "esc/q back") || strings.Contains(line, "quit") {
			t.Errorf("after %v the help line is %q", open, line)
		}
		if isQuit(f.pressCmd("q")) {
			t.Fatalf("q quit from %v", open)
		}
		if f.m.mode != normalMode && !(open[0] == "enter" && len(open) == 2 && f.m.mode == recordMode) {
			t.Errorf("q after %v left mode %d", open, f.m.mode)
		}
		if f.m.mode == recordMode {
			f.press("q")
		}
	}
	if line := lastLine(f.screen()); !strings.Contains(line, "q quit") {
		t.Errorf("the main screen's help line is %q", line)
	}
}

// TestNewRoundHintNamesAKeyThatWorks: g moves the list when the list has
// focus, so the hint says tab there.
func TestNewRoundHintNamesAKeyThatWorks(t *testing.T) {
	t.Parallel()
	f := newFixture(t, deltatest.Options{}).start()
	ids := f.srv.IDs("customers")
	f.srv.Update("customers", ids[0], map[string]any{"displayName": "First"})
	f.press("r", "tab", "j", "j")
	f.srv.Update("customers", ids[1], map[string]any{"displayName": "Second"})
	f.press("r")
	f.mustShow("↑ 1 new round above · g to jump")
	f.press("tab")
	f.mustNotShow("g to jump")
	f.mustShow("↑ 1 new round above · tab, then g")
}

// TestGrammar: one of a thing is singular.
func TestGrammar(t *testing.T) {
	t.Parallel()
	f := newFixture(t, deltatest.Options{Records: 1}).start()
	f.size(120, 30)
	f.mustShow("customers · 1 record ·", "baseline · 14:03:00 · 1 record · 1 page")
	f.mustNotShow("1 records", "1 pages")
	f.press("tab", "/", "b", "a", "s", "e")
	f.mustShow("/base 1 row")
	f.mustNotShow("1 rows")
}

// TestDemoHints: the first poll is announced, and the legend shows on a
// wide terminal.
func TestDemoHints(t *testing.T) {
	t.Parallel()
	f := newFixture(t, deltatest.Options{}).start()
	f.clock.t = f.clock.t.Add(3 * time.Second)
	f.mustShow("next poll in 7s · r to poll now")
	f.mustNotShow("+ added  ~ updated  - deleted")
	f.press("a")
	f.mustShow("auto-refresh is off · r to poll now")
	f.press("a", "r")
	f.mustNotShow("next poll in", "r to poll now")
	f.size(100, 30)
	f.mustShow("+ added  ~ updated  - deleted")
}

// TestOnGone: a 410 on one entity never stops the others; with --on-gone
// rebaseline the TUI takes the new baseline itself and shows the gap; B
// re-baselines every expired entity at once.
func TestOnGone(t *testing.T) {
	t.Parallel()
	t.Run("ask", func(t *testing.T) {
		f := newFixture(t, deltatest.Options{}).start()
		f.size(160, 30)
		f.srv.Expire("customers")
		f.srv.Expire("vendors")
		ids := f.srv.IDs("items")
		f.srv.Update("items", ids[0], map[string]any{"displayName": "Still Followed"})
		f.press("R")
		if got := f.m.expired(); got != 2 {
			t.Fatalf("%d expired, want 2", got)
		}
		if it := f.m.entities[2]; it.Updated != 1 || it.Status.String() != "tracking" {
			t.Fatalf("items stopped with the others: %+v", it.Entity)
		}
		f.mustShow("Press b to take a new baseline", "B re-baseline all")
		f.press("B")
		if got := f.m.expired(); got != 0 {
			t.Fatalf("B left %d expired", got)
		}
		f.mustShow("re-baseline · 14:03:00")
		f.mustNotShow("B re-baseline all")
	})
	t.Run("rebaseline", func(t *testing.T) {
		f := newFixture(t, deltatest.Options{})
		f.m.rebaselineOnGone = true
		f.start()
		f.size(160, 30)
		ids := f.srv.IDs("customers")
		f.srv.Delete("customers", ids[1])
		f.srv.Expire("customers")
		f.press("r")
		_, e := f.m.selected()
		if e.Status.String() != "tracking" || e.banner != nil {
			t.Fatalf("no automatic re-baseline: %v, banner %v", e.Status, e.banner)
		}
		f.mustShow("re-baseline · 14:03:00 · +0 ~0 -1", "gone from the new baseline")
	})
}

// TestIntervalSteps: + and - walk the steps in order from wherever the
// interval is, within 2s..5m.
func TestIntervalSteps(t *testing.T) {
	t.Parallel()
	f := newFixture(t, deltatest.Options{})
	f.m.interval = 7 * time.Second
	f.press("+")
	if f.m.interval != 10*time.Second {
		t.Errorf("7s + = %s, want 10s", f.m.interval)
	}
	f.m.interval = 7 * time.Second
	f.press("-")
	if f.m.interval != 5*time.Second {
		t.Errorf("7s - = %s, want 5s", f.m.interval)
	}
	f.m.interval = MaxInterval
	f.press("-")
	if f.m.interval != time.Minute {
		t.Errorf("5m - = %s, want 1m", f.m.interval)
	}
	for range 10 {
		f.press("+")
	}
	if f.m.interval != MaxInterval {
		t.Errorf("+ past the end: %s", f.m.interval)
	}
}

// TestLongValuesWrap: at 80 columns a changed field that does not fit
// shows old and new on lines of their own, the new value in full up to a
// few lines, then "…" and enter; a re-baseline header wraps too.
func TestLongValuesWrap(t *testing.T) {
	t.Parallel()
	f := newFixture(t, deltatest.Options{}).start()
	ids := f.srv.IDs("customers")
	long := "Contoso Pharmaceuticals and Medical Devices International Holding Company Limited"
	f.srv.Update("customers", ids[0], map[string]any{"displayName": long})
	f.srv.Update("customers", ids[1], map[string]any{"address": strings.Repeat("very long street name ", 40)})
	f.press("r", "tab")
	screen := f.screen()
	// Every word of the new value is on screen, none cut.
	joined := strings.Join(strings.Fields(screen), " ")
	for _, w := range strings.Fields(long) {
		if !strings.Contains(joined, w) {
			t.Fatalf("%q of the new value is not on screen:\n%s", w, screen)
		}
	}
	f.mustShow("-> \"Contoso", "… enter shows it all")
	if strings.Contains(screen, "Contoso Pharmaceuticals and Medical Devices International…") {
		t.Errorf("the value was cut:\n%s", screen)
	}

	f.srv.Expire("customers")
	f.press("r", "b")
	f.mustShow("re-baseline · 14:03:00", "differences from the old")
	f.mustShow("snapshot")
}

// TestMouse: the wheel scrolls the pane under the pointer, a click selects
// the entity or row under it; with NoMouse the program ignores the mouse.
func TestMouse(t *testing.T) {
	t.Parallel()
	f := newFixture(t, deltatest.Options{}).start()
	f.size(100, 30)
	ids := f.srv.IDs("customers")
	f.srv.Update("customers", ids[0], map[string]any{"displayName": "Super Cloud"})
	f.srv.Delete("customers", ids[1])
	f.press("r")
	click := func(x, y int) {
		f.screen() // the program draws between events; a click reads the last frame
		f.m.Update(tea.MouseMsg{X: x, Y: y, Button: tea.MouseButtonLeft, Action: tea.MouseActionPress})
	}
	wheel := func(x, y int, b tea.MouseButton) {
		f.m.Update(tea.MouseMsg{X: x, Y: y, Button: b, Action: tea.MouseActionPress})
	}
	// Entities are two lines each under the status bar and the title.
	click(3, 6)
	if _, e := f.m.selected(); e.Name != "items" || f.m.focus != focusList {
		t.Fatalf("click on the third entity selected %s", e.Name)
	}
	wheel(3, 6, tea.MouseButtonWheelUp) // one entity a notch
	if _, e := f.m.selected(); e.Name != "vendors" {
		t.Fatalf("wheel up over the list selected %s", e.Name)
	}
	click(3, 2)
	// The changes pane: the title, the round header, then the rows.
	lw := f.m.listWidth()
	click(lw+5, 4)
	_, e := f.m.selected()
	if f.m.focus != focusChanges || e.diff.cursor != 2 {
		t.Fatalf("click on the changes: focus %d cursor %d\n%s", f.m.focus, e.diff.cursor, f.screen())
	}
	wheel(lw+5, 4, tea.MouseButtonWheelDown)
	if e.diff.cursor != 5 {
		t.Errorf("wheel down over the changes: cursor %d, want 5", e.diff.cursor)
	}

	off := newFixture(t, deltatest.Options{})
	off.m.mouseOn = false
	off.start()
	off.m.Update(tea.MouseMsg{X: 3, Y: 6, Button: tea.MouseButtonLeft, Action: tea.MouseActionPress})
	if _, e := off.m.selected(); e.Name != "customers" {
		t.Errorf("with NoMouse a click selected %s", e.Name)
	}
}
