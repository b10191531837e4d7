package ui

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/bubbles/cursor"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"

	"github.com/deltascope/deltascope/deltaclient"
	"github.com/deltascope/deltascope/deltaclient/deltatest"
	"github.com/deltascope/deltascope/reqlog"
	"github.com/deltascope/deltascope/track"
)

func TestMain(m *testing.M) {
	// Goldens are plain text: no colour, whatever the terminal running
	// the tests supports.
	lipgloss.SetColorProfile(termenv.Ascii)
	os.Exit(m.Run())
}

// clock is a fixed, settable time for goldens and countdown tests.
type clock struct{ t time.Time }

func (c *clock) Now() time.Time { return c.t }

var epoch = time.Date(2026, 11, 25, 14, 3, 0, 0, time.UTC)

// fixture is a model on a seeded demo service, with no clock ticking and
// every command run synchronously by settle.
type fixture struct {
	t     *testing.T
	srv   *deltatest.Server
	m     *Model
	clock *clock
	clip  *bytes.Buffer
}

func newFixture(t *testing.T, opts deltatest.Options) *fixture {
	t.Helper()
	if opts.Seed == 0 {
		opts.Seed = 7
	}
	if opts.Records == 0 {
		opts.Records = 30
	}
	srv := deltatest.NewServer(opts)
	t.Cleanup(srv.Close)
	ck := &clock{t: epoch}
	log := reqlog.New(100, nil)
	c := &deltaclient.Client{Retry: deltaclient.RetryPolicy{Tries: 1}, HTTP: &http.Client{Transport: log.Transport(nil)}}
	var trackers []*track.Tracker
	for _, set := range srv.EntitySets() {
		tr := track.New(set, srv.CollectionURL(set), c)
		tr.Clock = ck.Now
		// On a service with delta links the fixture does not poll (as
		// --delta-only), so balanceSheet keeps showing the unsupported
		// state; a NoDelta service is polled.
		tr.DeltaOnly = !opts.NoDelta
		trackers = append(trackers, tr)
	}
	clip := &bytes.Buffer{}
	m := New(Config{Context: context.Background(), Service: "demo http://127.0.0.1:8080/api/v2.0", Trackers: trackers, Now: ck.Now, Clipboard: clip, Log: log})
	m.tick = func() tea.Cmd { return nil }
	m.filter.Cursor.SetMode(cursor.CursorStatic) // no blink timers to wait for
	f := &fixture{t: t, srv: srv, m: m, clock: ck, clip: clip}
	f.size(80, 24)
	return f
}

// settle runs cmd and every command it leads to, feeding the messages
// that matter (results of baselines and rounds) back into Update.
func (f *fixture) settle(cmd tea.Cmd) {
	f.t.Helper()
	queue := []tea.Cmd{cmd}
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		if c == nil {
			continue
		}
		switch msg := c().(type) {
		case tea.BatchMsg:
			queue = append(queue, msg...)
		case opDoneMsg:
			_, next := f.m.Update(msg)
			queue = append(queue, next)
		}
	}
}

func (f *fixture) start() *fixture {
	f.settle(f.m.Init())
	return f
}

func (f *fixture) size(w, h int) {
	f.m.Update(tea.WindowSizeMsg{Width: w, Height: h})
}

// press sends keys; names such as "tab", "enter", "esc" are special keys.
func (f *fixture) press(keys ...string) {
	f.t.Helper()
	for _, k := range keys {
		var msg tea.KeyMsg
		switch k {
		case "tab":
			msg = tea.KeyMsg{Type: tea.KeyTab}
		case "enter":
			msg = tea.KeyMsg{Type: tea.KeyEnter}
		case "esc":
			msg = tea.KeyMsg{Type: tea.KeyEsc}
		case "down":
			msg = tea.KeyMsg{Type: tea.KeyDown}
		case "up":
			msg = tea.KeyMsg{Type: tea.KeyUp}
		case "backspace":
			msg = tea.KeyMsg{Type: tea.KeyBackspace}
		case "ctrl+c":
			msg = tea.KeyMsg{Type: tea.KeyCtrlC}
		default:
			msg = tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)}
		}
		_, cmd := f.m.Update(msg)
		f.settle(cmd)
	}
}

// pressCmd sends one key and returns its command without running it.
func (f *fixture) pressCmd(k string) tea.Cmd {
	_, cmd := f.m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)})
	return cmd
}

// selectEntity moves the list cursor to the named entity.
func (f *fixture) selectEntity(name string) {
	f.t.Helper()
	for j, i := range f.m.list.visible {
		if f.m.entities[i].Name == name {
			f.m.list.cursor.cursor = j
			f.m.syncKeys()
			return
		}
	}
	f.t.Fatalf("no entity %s", name)
}

func (f *fixture) screen() string {
	return ansi.Strip(f.m.View())
}

func (f *fixture) mustShow(texts ...string) {
	f.t.Helper()
	s := f.screen()
	for _, text := range texts {
		if !strings.Contains(s, text) {
			f.t.Fatalf("screen lacks %q:\n%s", text, s)
		}
	}
}

func (f *fixture) mustNotShow(texts ...string) {
	f.t.Helper()
	s := f.screen()
	for _, text := range texts {
		if strings.Contains(s, text) {
			f.t.Fatalf("screen shows %q:\n%s", text, s)
		}
	}
}
