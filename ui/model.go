// Package ui is deltascope's terminal interface: a Bubble Tea program with
// an entity list, a live diff pane, a record view, banners and help. All
// network work runs in tea.Cmds; Update only moves state.
package ui

import (
	"context"
	"io"
	"os"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/deltascope/deltascope/model"
	"github.com/deltascope/deltascope/reqlog"
	"github.com/deltascope/deltascope/track"
)

// Config is what the program needs from main.
type Config struct {
	Context context.Context
	Service string // shown in the status bar; must carry no secrets
	// Session names the stored session the trackers commit to ("" for
	// none); the status bar shows it and when it was last resumed.
	Session  string
	Trackers []*track.Tracker
	Interval time.Duration // auto-refresh interval; 0 means 10s
	// Concurrency is how many baselines run at once; 0 means 4. The rest
	// are queued.
	Concurrency int
	// RebaselineOnGone takes a new baseline on its own when a delta link
	// expires (--on-gone rebaseline); otherwise a banner asks for b.
	RebaselineOnGone bool
	// NoMouse leaves the mouse to the terminal (its own selection).
	NoMouse bool
	// Company is the name of the company open, for the header; "" when
	// the service has none.
	Company string
	// CanSwitchCompany enables the key that opens the company picker.
	CanSwitchCompany bool
	NoAuto           bool // start with auto-refresh off
	// Now is the clock for the countdown; nil means time.Now.
	Now func() time.Time
	// Clipboard receives OSC 52 sequences for y; nil means stderr.
	Clipboard io.Writer
	// Log is the session's request log, shown with l; nil means an empty
	// one.
	Log *reqlog.Log
}

type mode uint8

const (
	normalMode mode = iota
	filterMode
	helpMode
	recordMode
	logMode
	requestMode // a request of the log, or an entity's delta link
)

// intervals are the steps of + and -, from MinInterval to MaxInterval.
var intervals = []time.Duration{MinInterval, 5 * time.Second, 10 * time.Second, 30 * time.Second, time.Minute, MaxInterval}

// The bounds of the auto-refresh interval (--interval, + and -): shorter
// would hammer the service, longer is no longer "live".
const (
	MinInterval = 2 * time.Second
	MaxInterval = 5 * time.Minute
)

// Model is the root model: it owns layout, focus, mode and the global keys,
// and routes the rest to the focused pane.
type Model struct {
	ctx       context.Context
	service   string
	company   string
	switching bool // the company key works
	now       func() time.Time
	clipboard io.Writer

	styles Styles
	keys   keyMap
	help   help.Model

	width, height int
	focus         focus
	mode          mode

	entities         []*entity
	concurrency      int
	rebaselineOnGone bool
	mouseOn          bool
	queue            []int // entities waiting for a baseline slot, in order
	list             *listPane
	changes          *changesPane
	panes            [2]pane // by focus

	filter   textinput.Model
	spinner  spinner.Model
	spinning bool

	auto     bool
	interval time.Duration
	next     time.Time // when auto-refresh polls next

	log       *reqlog.Log
	logScroll scroller
	logAnchor int  // the log's total when logScroll.cursor was placed
	logFollow bool // the cursor is on the newest request and stays there

	request     *detailView
	requestFrom mode // where the detail was opened; esc returns there

	helpScroll scroller
	helpFrom   mode // where ? was pressed; closing the help returns there

	record *recordView
	tick   func() tea.Cmd // the countdown clock; tests stop it
	note   string         // a short confirmation, like "copied"

	session   string
	resumedAt time.Time // when an entity last resumed from the session
}

// tickMsg drives the auto-refresh countdown, once a second.
type tickMsg time.Time

// New builds the root model.
func New(cfg Config) *Model {
	if cfg.Context == nil {
		cfg.Context = context.Background()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 10 * time.Second
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 4
	}
	if cfg.Clipboard == nil {
		cfg.Clipboard = os.Stderr
	}
	if cfg.Log == nil {
		cfg.Log = reqlog.New(1, nil)
	}
	m := &Model{
		ctx: cfg.Context, service: cfg.Service, session: cfg.Session, company: cfg.Company, switching: cfg.CanSwitchCompany, now: cfg.Now, clipboard: cfg.Clipboard, log: cfg.Log,
		styles: DefaultStyles(), keys: newKeyMap(), help: help.New(),
		auto: !cfg.NoAuto, interval: cfg.Interval, concurrency: cfg.Concurrency, rebaselineOnGone: cfg.RebaselineOnGone, mouseOn: !cfg.NoMouse,
		width: 80, height: 24, tick: tick,
	}
	m.help.ShortSeparator = " · "
	m.filter = textinput.New()
	m.filter.Prompt = "/"
	m.filter.CharLimit = 200
	m.spinner = spinner.New(spinner.WithSpinner(spinner.MiniDot))
	for _, t := range cfg.Trackers {
		m.entities = append(m.entities, &entity{Entity: model.Entity{Name: t.Name}, tracker: t})
	}
	m.list, m.changes = &listPane{m: m}, &changesPane{m: m}
	m.panes = [2]pane{m.list, m.changes}
	m.list.SetFilter("")
	m.resize()
	m.next = m.now().Add(m.interval)
	m.syncKeys()
	return m
}

// Init takes every baseline and starts the clock.
func (m *Model) Init() tea.Cmd {
	cmds := []tea.Cmd{m.tick()}
	for i := range m.entities {
		cmds = append(cmds, m.start(i, opBaseline))
	}
	return tea.Batch(cmds...)
}

func tick() tea.Cmd {
	return tea.Tick(time.Second, func(t time.Time) tea.Msg { return tickMsg(t) })
}

// spin starts the spinner if it is not running; it stops by itself when
// nothing is in flight.
func (m *Model) spin() tea.Cmd {
	if m.spinning {
		return nil
	}
	m.spinning = true
	return m.spinner.Tick
}

func (m *Model) busy() int {
	n := 0
	for _, e := range m.entities {
		if e.busy {
			n++
		}
	}
	return n
}

// Update routes messages. It never blocks and does no I/O.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	var cmd tea.Cmd
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.resize()
	case deltaLinkMsg:
		if m.mode == normalMode {
			m.showDeltaLink(msg)
		}
	case opDoneMsg:
		cmd = m.finish(msg)
	case olderMsg:
		m.addOlder(msg)
	case recordHistoryMsg:
		if m.record != nil {
			m.record.setHistory(msg, m.styles)
		}
	case spinner.TickMsg:
		for _, e := range m.entities {
			if p := e.progress.Load(); p != nil {
				e.shown = *p
			}
		}
		if m.busy() == 0 {
			m.spinning = false
			break
		}
		m.spinner, cmd = m.spinner.Update(msg)
	case tickMsg:
		cmd = tea.Batch(m.tick(), m.autoPoll())
	case tea.MouseMsg:
		cmd = tea.Batch(m.mouse(msg), m.dequeue())
	case tea.KeyMsg:
		// Keys typed faster than a read arrive as one message ("jj");
		// outside the filter each rune is its own key.
		if msg.Type == tea.KeyRunes && len(msg.Runes) > 1 && !msg.Paste && m.mode != filterMode {
			var cmds []tea.Cmd
			for _, r := range msg.Runes {
				cmds = append(cmds, m.key(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}, Alt: msg.Alt}))
			}
			cmd = tea.Batch(cmds...)
			break
		}
		cmd = m.key(msg)
	}
	if _, ok := msg.(tea.KeyMsg); ok {
		// The user may have selected a queued entity: it goes first.
		cmd = tea.Batch(cmd, m.dequeue())
	}
	m.syncKeys()
	return m, cmd
}

// autoPoll starts a round for every tracking entity when the countdown ends.
func (m *Model) autoPoll() tea.Cmd {
	if !m.auto || m.now().Before(m.next) {
		return nil
	}
	m.next = m.now().Add(m.interval)
	return m.pollAll()
}

func (m *Model) pollAll() tea.Cmd {
	var cmds []tea.Cmd
	for i, e := range m.entities {
		if e.Baselined && e.Status != model.Expired && e.Status != model.Unsupported {
			cmds = append(cmds, m.start(i, opRound))
		}
	}
	return tea.Batch(cmds...)
}

// selected is the entity under the list cursor, or nil.
func (m *Model) selected() (int, *entity) { return m.list.selected() }

func (m *Model) key(msg tea.KeyMsg) tea.Cmd {
	m.note = ""
	switch m.mode {
	case filterMode:
		return m.filterKey(msg)
	case helpMode:
		return m.helpKey(msg)
	case recordMode:
		return m.recordKey(msg)
	case logMode:
		return m.logKey(msg)
	case requestMode:
		return m.requestKey(msg)
	}
	i, e := m.selected()
	k := m.keys
	switch {
	case key.Matches(msg, k.Quit):
		return tea.Quit
	case key.Matches(msg, k.Help):
		m.openHelp()
	case key.Matches(msg, k.Log):
		m.mode, m.logScroll, m.logAnchor, m.logFollow = logMode, scroller{}, m.log.Total(), true
	case key.Matches(msg, k.DeltaLink) && k.DeltaLink.Enabled():
		return m.deltaLink()
	case key.Matches(msg, k.Tab):
		m.focus = 1 - m.focus
	case key.Matches(msg, k.Filter):
		m.mode = filterMode
		m.filter.SetValue(m.panes[m.focus].Filter())
		m.filter.CursorEnd()
		return m.filter.Focus()
	case key.Matches(msg, k.Refresh) && k.Refresh.Enabled():
		return m.start(i, opRound)
	case key.Matches(msg, k.RefreshAll):
		m.next = m.now().Add(m.interval)
		return m.pollAll()
	case key.Matches(msg, k.Auto):
		m.auto = !m.auto
		m.next = m.now().Add(m.interval)
	case key.Matches(msg, k.Slower):
		m.stepInterval(1)
	case key.Matches(msg, k.Faster):
		m.stepInterval(-1)
	case key.Matches(msg, k.Company) && k.Company.Enabled():
		return func() tea.Msg { return switchCompanyMsg{} }
	case key.Matches(msg, k.RebaselineAll) && k.RebaselineAll.Enabled():
		var cmds []tea.Cmd
		for j, x := range m.entities {
			if x.Status == model.Expired {
				cmds = append(cmds, m.start(j, opRebaseline))
			}
		}
		return tea.Batch(cmds...)
	case key.Matches(msg, k.Rebaseline) && k.Rebaseline.Enabled():
		if !e.Baselined {
			return m.start(i, opBaseline)
		}
		return m.start(i, opRebaseline)
	default:
		return m.panes[m.focus].Update(msg)
	}
	return nil
}

func (m *Model) openHelp() {
	m.mode, m.helpFrom, m.helpScroll = helpMode, m.mode, scroller{}
}

// stepInterval moves to the next step above (d > 0) or below the current
// interval, which may lie between steps when --interval set it.
func (m *Model) stepInterval(d int) {
	next := m.interval
	if d > 0 {
		for _, s := range intervals {
			if s > m.interval {
				next = s
				break
			}
		}
	} else {
		for _, s := range intervals {
			if s < m.interval {
				next = s
			}
		}
	}
	m.interval = next
	m.next = m.now().Add(m.interval)
}

// expired counts the entities whose delta link expired.
func (m *Model) expired() int {
	n := 0
	for _, e := range m.entities {
		if e.Status == model.Expired {
			n++
		}
	}
	return n
}

func (m *Model) filterKey(msg tea.KeyMsg) tea.Cmd {
	switch msg.String() {
	case "esc":
		m.filter.SetValue("")
		m.applyFilter()
		m.filter.Blur()
		m.mode = normalMode
		return nil
	case "enter":
		m.filter.Blur()
		m.mode = normalMode
		return nil
	case "ctrl+c":
		return tea.Quit
	}
	var cmd tea.Cmd
	m.filter, cmd = m.filter.Update(msg)
	m.applyFilter()
	return cmd
}

func (m *Model) applyFilter() { m.panes[m.focus].SetFilter(m.filter.Value()) }

// openRecord opens the record under the cursor and, with a session,
// starts reading the record's history from it.
func (m *Model) openRecord() tea.Cmd {
	_, e := m.selected()
	if e == nil || e.rows() == 0 {
		return nil
	}
	l := e.row(e.diff.cursor)
	if l.change < 0 {
		return nil
	}
	c := &l.round.Changes[l.change]
	m.record = newRecordView(c, e.Name, m.styles)
	m.record.setSize(m.width, m.bodyHeight())
	m.mode = recordMode
	return loadRecordHistory(e.tracker, c.ID, m.record)
}

func (m *Model) recordKey(msg tea.KeyMsg) tea.Cmd {
	if cmd, ok := m.pagerKey(msg, &m.record.pager, func() { m.mode, m.record = normalMode, nil }); ok {
		return cmd
	}
	if key.Matches(msg, m.keys.Copy) {
		m.copyText(string(m.record.json), "the record")
		return nil
	}
	return m.record.update(msg)
}

// syncKeys enables exactly the bindings that work now.
func (m *Model) syncKeys() { m.keys = m.keysFor(m.mode) }

// keysFor is the keymap with the bindings that work in mode md enabled; the
// help overlay shows the normal mode's.
func (m *Model) keysFor(md mode) keyMap {
	k := m.keys
	_, e := m.selected()
	normal := md == normalMode
	k.Refresh.SetEnabled(normal && e != nil && e.Baselined && !e.busy && e.Status != model.Unsupported && e.Status != model.Expired)
	k.RefreshAll.SetEnabled(normal)
	k.Rebaseline.SetEnabled(normal && e != nil && !e.busy && e.Status != model.Unsupported)
	k.RebaselineAll.SetEnabled(normal && m.expired() > 0)
	k.Company.SetEnabled(normal && m.switching)
	for _, b := range []*key.Binding{&k.Auto, &k.Tab, &k.Filter} {
		b.SetEnabled(normal)
	}
	k.Log.SetEnabled(normal || md == logMode)
	k.Faster.SetEnabled(normal && m.interval > intervals[0])
	k.Slower.SetEnabled(normal && m.interval < intervals[len(intervals)-1])
	k.Open.SetEnabled(normal && (m.focus == focusList || (e != nil && e.rows() > 0)) || md == logMode && m.log.Len() > 0)
	// One rule for q: it quits from the main screen and goes back from a
	// view (record, log, help), as esc does.
	view := md == recordMode || md == helpMode || md == logMode || md == requestMode
	back := view || md == filterMode || (normal && (m.focus == focusChanges || m.list.query != ""))
	k.Back.SetEnabled(back)
	if view {
		k.Back.SetHelp("esc/q", "back")
	} else {
		k.Back.SetHelp("esc", "back")
	}
	k.Copy.SetEnabled(md == recordMode)
	k.Curl.SetEnabled(md == logMode && m.log.Len() > 0 || md == requestMode && m.request != nil && m.request.copy != "")
	if md == requestMode && m.requestFrom == normalMode {
		k.Curl.SetHelp("c", "copy link")
	} else {
		k.Curl.SetHelp("c", "copy curl")
	}
	k.DeltaLink.SetEnabled(normal && e != nil)
	k.Help.SetEnabled(md != filterMode)
	k.Quit.SetEnabled(normal)
	for _, b := range []*key.Binding{&k.Up, &k.Down, &k.Top, &k.Bottom, &k.PageUp, &k.PageDown} {
		b.SetEnabled(normal || view)
	}
	return k
}

func (m *Model) resize() {
	m.list.SetSize(m.listWidth(), m.bodyHeight())
	m.changes.SetSize(m.diffWidth(), m.bodyHeight())
	if m.record != nil {
		m.record.setSize(m.width, m.bodyHeight())
	}
	if m.request != nil {
		m.request.setSize(m.width, m.bodyHeight())
	}
	m.help.Width = m.width
}
