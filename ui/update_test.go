package ui

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/deltascope/deltascope/deltaclient"
	"github.com/deltascope/deltascope/deltaclient/deltatest"
	"github.com/deltascope/deltascope/model"
)

func TestStartTakesEveryBaseline(t *testing.T) {
	t.Parallel()
	f := newFixture(t, deltatest.Options{}).start()
	f.mustShow("customers", "30", "vendors", "15", "items", "18", "tracking", "balanceSheet", "unsupported",
		"baseline · 14:03:00 · 30 records · 1 page")
}

func TestFilterModeOwnsTheKeys(t *testing.T) {
	t.Parallel()
	f := newFixture(t, deltatest.Options{}).start()
	f.press("/")
	if f.m.mode != filterMode {
		t.Fatal("/ did not open the filter")
	}
	_, cmd := f.m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("q")})
	if isQuit(cmd) {
		t.Fatal("typing q in the filter quit the program")
	}
	f.press("u", "e") // "que" matches nothing; back to "qu"? no: type a real filter
	f.press("backspace", "backspace", "backspace", "i", "t")
	if got := f.m.filter.Value(); got != "it" {
		t.Fatalf("filter value %q", got)
	}
	f.mustShow("items")
	f.mustNotShow("customers", "vendors")
	f.press("enter")
	if f.m.mode != normalMode || f.m.list.query != "it" {
		t.Fatalf("enter must keep the filter: mode %d query %q", f.m.mode, f.m.list.query)
	}
	f.press("esc")
	f.mustShow("customers", "vendors", "items")
	if !isQuit(f.pressCmd("q")) {
		t.Error("q in normal mode must quit")
	}
}

func TestDiffFilterMatchesRowText(t *testing.T) {
	t.Parallel()
	f := newFixture(t, deltatest.Options{}).start()
	ids := f.srv.IDs("customers")
	f.srv.Update("customers", ids[0], map[string]any{"displayName": "Super Cloud"})
	f.srv.Update("customers", ids[1], map[string]any{"displayName": "Other Name"})
	f.press("r", "tab", "/", "s", "u", "p", "e", "r")
	f.mustShow("Super Cloud", "/super 4 rows") // the round, the record, its two fields
	f.mustNotShow("Other Name")
	f.press("esc")
	f.mustShow("Other Name")
}

func isQuit(cmd tea.Cmd) bool {
	if cmd == nil {
		return false
	}
	_, ok := cmd().(tea.QuitMsg)
	return ok
}

func TestFocusAndNavigation(t *testing.T) {
	t.Parallel()
	f := newFixture(t, deltatest.Options{}).start()
	if f.m.focus != focusList {
		t.Fatal("the list starts focused")
	}
	f.press("j", "j")
	if _, e := f.m.selected(); e.Name != "items" {
		t.Fatalf("j j selects %s", e.Name)
	}
	f.press("G")
	if _, e := f.m.selected(); e.Name != "balanceSheet" {
		t.Fatalf("G selects %s", e.Name)
	}
	f.press("gg") // two keys read at once arrive as one message
	if _, e := f.m.selected(); e.Name != "customers" {
		t.Fatalf("gg selects %s", e.Name)
	}
	f.press("tab")
	if f.m.focus != focusChanges {
		t.Fatal("tab moves focus to the diff pane")
	}
	f.press("tab")
	if f.m.focus != focusList {
		t.Fatal("tab moves focus back")
	}
	f.press("enter")
	if f.m.focus != focusChanges {
		t.Fatal("enter on the list opens the entity's changes")
	}
	f.press("esc")
	if f.m.focus != focusList {
		t.Fatal("esc returns to the list")
	}
}

func TestOneRoundInFlightAndStaleResultsDropped(t *testing.T) {
	t.Parallel()
	f := newFixture(t, deltatest.Options{}).start()
	first := f.pressCmd("r")
	if first == nil {
		t.Fatal("r must start a round")
	}
	if second := f.pressCmd("r"); second != nil {
		t.Fatal("a second r while a round is in flight must not start another")
	}
	if f.m.keys.Refresh.Enabled() {
		t.Error("the help must not offer r while a round is in flight")
	}
	_, e := f.m.selected()
	gen := e.gen
	// A result from an older generation is dropped and changes nothing.
	f.m.Update(opDoneMsg{entity: 0, gen: gen - 1, op: opRound, err: errors.New("stale")})
	if e.banner != nil || !e.busy {
		t.Fatal("a stale result was applied")
	}
	f.settle(first)
	if e.busy || e.Last == nil || e.Last.Baseline {
		t.Fatalf("round not applied: busy %v last %+v", e.busy, e.Last)
	}
}

func TestBannersSetAndClear(t *testing.T) {
	t.Parallel()
	f := newFixture(t, deltatest.Options{}).start()
	f.size(200, 40)
	ids := f.srv.IDs("customers")
	f.srv.Delete("customers", ids[2])
	f.srv.Expire("customers")
	f.press("r")
	f.mustShow("customers: the delta link expired (410 Gone). Press b to take", "Location:", "expired")
	if f.m.keys.Refresh.Enabled() || !f.m.keys.Rebaseline.Enabled() {
		t.Error("on 410 the help must offer b, not r")
	}
	f.press("b")
	f.mustNotShow("delta link expired")
	f.mustShow("re-baseline · 14:03:00 · +0 ~0 -1", "gone from the new baseline", "tracking")

	f.selectEntity("balanceSheet")
	f.mustShow("balanceSheet does not support delta requests (500): the server returned", "Entity does not support delta requests.")
	if f.m.keys.Refresh.Enabled() || f.m.keys.Rebaseline.Enabled() {
		t.Error("an unsupported entity offers neither r nor b")
	}
	if bar := strings.SplitN(f.screen(), "\n", 2)[0]; strings.Contains(bar, "error") {
		t.Errorf("unsupported is a fact about the entity, not an error in the status bar: %s", bar)
	}
}

func TestErrorBannersInPlainWords(t *testing.T) {
	t.Parallel()
	cases := []struct {
		err  error
		want string
	}{
		{&deltaclient.HTTPError{Status: 401, Message: "The token expired", Credentials: "bearer token from DELTASCOPE_TOKEN"}, "customers: the bearer token from DELTASCOPE_TOKEN was rejected (401 Unauthorized): The token expired. Check --token"},
		{&deltaclient.HTTPError{Status: 403, Message: "No access", Credentials: "no credentials"}, "customers: the service wants credentials and none were sent (403 Forbidden)"},
		{&deltaclient.HTTPError{Status: 429}, "customers: throttled by the service (429)"},
		{&deltaclient.NetworkError{Err: errors.New("connection refused")}, "customers: cannot reach the service: connection refused. Press r to try again."},
		{errors.New("page 2: malformed JSON at byte 12"), "customers: the delta round failed: page 2: malformed JSON at byte 12. The snapshot and delta link are unchanged"},
	}
	for _, tc := range cases {
		f := newFixture(t, deltatest.Options{}).start()
		f.size(160, 30)
		_, e := f.m.selected()
		f.m.start(0, opRound)
		f.m.Update(opDoneMsg{entity: 0, gen: e.gen, op: opRound, err: tc.err})
		f.mustShow(tc.want)
		bar := strings.SplitN(f.screen(), "\n", 2)[0]
		if !strings.Contains(bar, "✗ 1 error") || !strings.Contains(bar, "http://127.0.0.1:8080/api/v2.0") {
			t.Errorf("status bar must count the error and keep the service URL:\n%s", bar)
		}
		// The error belongs to its entity: another entity shows none.
		f.selectEntity("vendors")
		f.mustNotShow(tc.want[:30])
		f.selectEntity("customers")
		// Recovery clears the banner and the status bar.
		f.press("r")
		f.mustNotShow(tc.want[:30], "✗ 1 error")
	}
}

func TestNewRoundsKeepTheScrolledView(t *testing.T) {
	t.Parallel()
	f := newFixture(t, deltatest.Options{}).start()
	ids := f.srv.IDs("customers")
	f.srv.Update("customers", ids[0], map[string]any{"displayName": "First"})
	f.press("r", "tab", "j", "j")
	_, e := f.m.selected()
	row := e.row(e.diff.cursor).Text()
	f.srv.Update("customers", ids[1], map[string]any{"displayName": "Second"})
	f.press("r")
	if got := e.row(e.diff.cursor).Text(); got != row {
		t.Fatalf("the cursor moved from %q to %q", row, got)
	}
	f.mustShow("↑ 1 new round above · g to jump")
	f.press("g")
	f.mustNotShow("new round above")
	f.mustShow("round 2")
}

func TestAutoRefreshCountdownAndInterval(t *testing.T) {
	t.Parallel()
	f := newFixture(t, deltatest.Options{}).start()
	f.mustShow("auto 10s · next 10s")
	f.clock.t = f.clock.t.Add(4 * time.Second)
	f.mustShow("next 6s")
	f.press("+")
	f.mustShow("auto 30s · next 30s")
	f.press("-", "-", "-", "-")
	f.mustShow("auto 2s")
	if f.m.keys.Faster.Enabled() {
		t.Error("- at the shortest interval must be disabled")
	}
	f.press("a")
	f.mustShow("auto off", "paused")
	// When the countdown ends, every tracking entity gets a round.
	f.press("a")
	ids := f.srv.IDs("items")
	f.srv.Update("items", ids[0], map[string]any{"inventory": 7})
	f.clock.t = f.clock.t.Add(3 * time.Second)
	_, cmd := f.m.Update(tickMsg(f.clock.t))
	f.settle(cmd)
	if it := f.m.entities[2]; it.Updated != 1 || it.Last == nil || it.Last.Baseline {
		t.Fatalf("auto round on items: %+v", it.Entity)
	}
}

func TestRecordViewAndCopy(t *testing.T) {
	t.Parallel()
	f := newFixture(t, deltatest.Options{}).start()
	ids := f.srv.IDs("customers")
	f.srv.Update("customers", ids[0], map[string]any{"displayName": "Super Cloud"})
	f.press("r", "tab", "j", "enter")
	if f.m.mode != recordMode {
		t.Fatal("enter on a row opens the record")
	}
	f.mustShow("customers · updated · "+ids[0], `~   "displayName": "Super Cloud"`, `was displayName: "`)
	f.press("y")
	out := f.clip.String()
	if !strings.HasPrefix(out, "\x1b]52;c;") || !strings.HasSuffix(out, "\a") {
		t.Fatalf("y wrote %q, want an OSC 52 sequence", out)
	}
	f.mustShow("copied the record")
	f.size(80, 12)
	f.press("G")
	if f.m.record.vp.AtTop() || !f.m.record.vp.AtBottom() {
		t.Error("G goes to the end of the record")
	}
	f.press("g")
	if !f.m.record.vp.AtTop() {
		t.Error("g goes back to its top")
	}
	f.press("esc")
	if f.m.mode != normalMode {
		t.Fatal("esc closes the record")
	}
}

func TestHelpShowsOnlyWorkingKeys(t *testing.T) {
	t.Parallel()
	f := newFixture(t, deltatest.Options{}).start()
	f.size(200, 40)
	line := lastLine(f.screen())
	for _, want := range []string{"r refresh", "b re-baseline", "tab switch pane", "/ filter", "? help", "q quit"} {
		if !strings.Contains(line, want) {
			t.Errorf("help line lacks %q: %s", want, line)
		}
	}
	if strings.Contains(line, "copy") {
		t.Errorf("copy only works in the record view: %s", line)
	}
	f.press("?")
	f.mustShow("Delta rounds", "refresh all", "re-baseline", "page down")
	f.press("?")
	if f.m.mode != normalMode {
		t.Fatal("? closes the help")
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

func TestEverySizeFits(t *testing.T) {
	t.Parallel()
	f := newFixture(t, deltatest.Options{}).start()
	ids := f.srv.IDs("customers")
	f.srv.Update("customers", ids[0], map[string]any{"displayName": strings.Repeat("Very Long Name ", 20)})
	f.press("r")
	for _, sz := range [][2]int{{40, 10}, {200, 60}, {80, 24}, {20, 5}, {120, 40}} {
		f.size(sz[0], sz[1])
		for _, mode := range []string{"", "?", "tab"} {
			if mode != "" {
				f.press(mode)
			}
			lines := strings.Split(f.m.View(), "\n")
			if len(lines) != sz[1] {
				t.Errorf("%dx%d: %d lines", sz[0], sz[1], len(lines))
			}
			for i, l := range lines {
				if w := ansi.StringWidth(l); w > sz[0] {
					t.Errorf("%dx%d line %d is %d wide: %q", sz[0], sz[1], i, w, ansi.Strip(l))
				}
			}
			if mode == "?" {
				f.press("?")
			}
		}
	}
}

func TestHostileTextNeverReachesTheScreen(t *testing.T) {
	t.Parallel()
	f := newFixture(t, deltatest.Options{Faults: deltatest.Faults{Kinds: []string{"hostile"}}}).start()
	f.size(200, 60)
	f.selectEntity("contacts")
	ids := f.srv.IDs("contacts")
	f.srv.Update("contacts", ids[0], map[string]any{"displayName": "\x1b]0;owned\x07\x1b[2J\u202eevil"})
	f.press("r", "tab")
	screens := []string{f.m.View()}
	f.press("j", "enter")
	screens = append(screens, f.m.View())
	for _, s := range screens {
		plain := ansi.Strip(s)
		for _, bad := range []string{"\x1b", "\r", "\b", "\a", "\u202e", "\u200d", "\u009b"} {
			if strings.Contains(plain, bad) {
				t.Fatalf("%q reached the screen:\n%q", bad, plain)
			}
		}
	}
	if !strings.Contains(ansi.Strip(screens[0]), "evil") {
		t.Errorf("the sanitised text should still show:\n%s", ansi.Strip(screens[0]))
	}
}

var _ = model.Added

// TestEmptyRoundsShareOneRow: empty rounds are counted visibly, so round
// numbers never jump, but a run of them takes one row.
func TestEmptyRoundsShareOneRow(t *testing.T) {
	t.Parallel()
	f := newFixture(t, deltatest.Options{}).start()
	f.size(120, 30)
	_, e := f.m.selected()
	rows := e.rows()
	f.press("r")
	f.mustShow("round 1 · 14:03:00 · no changes")
	f.clock.t = f.clock.t.Add(10 * time.Second)
	f.press("r", "r")
	f.mustShow("rounds 1-3 · no changes · last 14:03:10")
	f.mustNotShow("round 1 · 14:03:00 · no changes")
	if e.rows() != rows+1 {
		t.Errorf("three empty rounds added %d rows, want 1", e.rows()-rows)
	}
	f.srv.Add("customers", nil)
	f.press("r")
	f.mustShow("round 4 · 14:03:10", "rounds 1-3 · no changes")
	f.press("r")
	f.mustShow("round 5 · 14:03:10 · no changes", "round 4 · 14:03:10", "rounds 1-3 · no changes")
}

// Polled sets count their empty rounds the same way.
func TestEmptyPollRoundsShareOneRow(t *testing.T) {
	t.Parallel()
	f := newFixture(t, deltatest.Options{NoDelta: true}).start()
	f.size(120, 30)
	f.press("r", "r", "r")
	f.mustShow("rounds 1-3 · no changes")
	f.mustNotShow("+0 ~0 -0")
}

func TestRetriesShowWhileTheyWait(t *testing.T) {
	t.Parallel()
	f := newFixture(t, deltatest.Options{}).start()
	f.size(120, 30)
	f.m.start(0, opRound)
	_, e := f.m.selected()
	e.progress.Store(&deltaclient.Progress{Retry: &deltaclient.RetryInfo{Attempt: 2, Max: 5, Wait: 12 * time.Second, Err: &deltaclient.HTTPError{Status: 429}}})
	f.m.Update(spinner.TickMsg{})
	f.mustShow("customers: throttled (429), retrying in 12s (2/5)", "retrying 2/5")
}

func TestRequestLogPane(t *testing.T) {
	t.Parallel()
	f := newFixture(t, deltatest.Options{}).start()
	f.size(160, 30)
	f.m.log.Note("customers: records are identified by their key id (from $metadata)")
	f.press("l")
	f.mustShow("Request log", "GET 200", "/companies(", "/customers", "note  customers: records are identified")
	f.mustShow("500") // the balanceSheet probe of change tracking
	f.press("l")
	if f.m.mode != normalMode {
		t.Fatal("l closes the log")
	}
}

func TestPicker(t *testing.T) {
	t.Parallel()
	p := newPicker([]deltaclient.Company{{ID: "a", Name: "CRONUS USA, Inc."}, {ID: "b", Name: "CRONUS \x1b[31mInternational"}}, "", DefaultStyles(), 80)
	p.update(tea.KeyMsg{Type: tea.KeyDown})
	p.update(tea.KeyMsg{Type: tea.KeyEnter})
	if !p.chosen || p.choice().ID != "b" {
		t.Errorf("picked %v %d", p.chosen, p.cursor)
	}
	// The Ascii profile draws no styles, so any ESC would be the server's.
	if v := p.view(24); !strings.Contains(v, "> CRONUS International") || strings.Contains(v, "\x1b") {
		t.Errorf("view %q", v)
	}
}

func TestBaselineProgressWithRateAndTimeLeft(t *testing.T) {
	t.Parallel()
	f := newFixture(t, deltatest.Options{})
	f.size(140, 30)
	f.m.start(0, opBaseline)
	f.clock.t = f.clock.t.Add(4 * time.Second)
	_, e := f.m.selected()
	e.progress.Store(&deltaclient.Progress{Pages: 20, Records: 40000, Bytes: 20 << 20, Count: 100000})
	f.m.Update(spinner.TickMsg{})
	f.mustShow("taking the baseline… 20 pages, 40,000 records, 20.0 MB, 10,000 records/s, about 6s left", "loading 20/50 pages")
}
