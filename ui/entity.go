package ui

import (
	"strings"
	"sync/atomic"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/deltascope/deltascope/deltaclient"
	"github.com/deltascope/deltascope/internal/termtext"
	"github.com/deltascope/deltascope/model"
	"github.com/deltascope/deltascope/track"
)

type opKind uint8

const (
	opBaseline opKind = iota
	opRound
	opRebaseline
)

// opDoneMsg is the result of one baseline or round, tagged with the entity
// and the generation it was started in.
type opDoneMsg struct {
	entity  int
	gen     int
	op      opKind
	round   *model.Round
	resumed *track.Resumed // set instead of round when a session resumed
	err     error
	method  string // the tracker's poll method after the op; "" on delta links
}

// entity is the UI's state for one entity set.
type entity struct {
	model.Entity
	tracker *track.Tracker
	method  string // how it is polled ("etag scan"); "" while on delta links

	gen         int
	busy        bool
	op          opKind
	progress    atomic.Pointer[deltaclient.Progress] // written by the running cmd
	shown       deltaclient.Progress                 // copied from progress on ticks
	started     time.Time                            // when the op in flight began
	rebaseAfter bool                                 // a re-baseline waits for the round in flight
	waiting     bool                                 // in Model.queue, for a baseline slot
	waitOp      opKind                               // what it waits to run

	banner   *banner
	location string // Location of the last 410, for the re-baseline

	lines []line // diff rows, newest round first; a window, see trimRows
	// older is the newest stored round that fell out of lines (0: none);
	// scrolling past the last row reads it back from the session.
	older        int
	loadingOlder bool
	// since is when the resumed session's last round ran, until the first
	// round after the resume shows it in its header.
	since  time.Time
	diff   scroller
	unseen int  // rounds that arrived while the user was scrolled down
	polled bool // a delta round completed since the baseline
	match  []int
	query  string
}

// level is how much a banner asks of the user.
type level uint8

const (
	levelInfo level = iota // a fact, like "does not support delta requests"
	levelWarn              // needs a key press: expired, throttled
	levelErr               // something is wrong: auth, network, a failed round
)

// banner is a plain-words message that belongs to one entity.
type banner struct {
	level level
	text  string
	// wrapped is text wrapped for width, kept so frames do not rewrap it.
	wrapped []string
	width   int
}

// lines returns the banner wrapped to width, wrapping once per width.
func (b *banner) lines(width int) []string {
	if b.wrapped == nil || b.width != width {
		b.wrapped, b.width = strings.Split(ansi.Wrap(b.text, width, " "), "\n"), width
	}
	return b.wrapped
}

// start launches op for e unless one is in flight; a re-baseline asked for
// during a round runs when the round ends, and a baseline waits its turn
// when --concurrency are already running (queue.go).
func (m *Model) start(i int, op opKind) tea.Cmd {
	e := m.entities[i]
	if e.busy {
		if op == opRebaseline {
			e.rebaseAfter = true
		}
		if e.heavy(op) {
			m.unqueue(i)
		}
		return nil
	}
	if e.heavy(op) && !m.admit(i, op) {
		return nil
	}
	e.busy, e.op, e.started = true, op, m.now()
	e.gen++
	e.progress.Store(nil)
	e.shown = deltaclient.Progress{}
	if op != opRound || e.Status == model.Loading {
		e.Status = model.Loading
	}
	gen, tr, loc, ctx := e.gen, e.tracker, e.location, m.ctx
	report := func(p deltaclient.Progress) { e.progress.Store(&p) }
	return tea.Batch(m.spin(), func() tea.Msg {
		var r *model.Round
		var err error
		switch op {
		case opBaseline:
			// A stored session resumes instead: no baseline request.
			res, rerr := tr.Resume()
			if rerr != nil || res != nil {
				return opDoneMsg{entity: i, gen: gen, op: op, resumed: res, err: rerr, method: tr.Method()}
			}
			r, err = tr.Baseline(ctx, report)
		case opRound:
			r, err = tr.Poll(ctx, report)
		case opRebaseline:
			r, err = tr.Rebaseline(ctx, loc, report)
		}
		return opDoneMsg{entity: i, gen: gen, op: op, round: r, err: err, method: tr.Method()}
	})
}

// finish applies an op's result; stale generations are dropped.
func (m *Model) finish(msg opDoneMsg) tea.Cmd {
	if msg.entity < 0 || msg.entity >= len(m.entities) {
		return nil
	}
	e := m.entities[msg.entity]
	if msg.gen != e.gen {
		return nil
	}
	e.busy = false
	e.progress.Store(nil)
	e.method = msg.method
	if msg.err != nil {
		m.fail(msg.entity, msg.op, msg.err)
	} else {
		e.banner = nil
		if msg.op == opRebaseline {
			e.location = ""
		}
		if msg.resumed != nil {
			m.resume(e, msg.resumed)
		} else {
			e.AddRound(msg.round)
			m.addLines(e, msg.round)
		}
	}
	if e.Status == model.Expired && msg.op == opRound && m.rebaselineOnGone {
		e.banner = &banner{level: levelInfo, text: termtext.Sanitize(e.Name) + ": the delta link expired; taking a new baseline (--on-gone rebaseline). The changes made meanwhile will show as a re-baseline round."}
		e.rebaseAfter = true
	}
	if e.rebaseAfter {
		e.rebaseAfter = false
		return tea.Batch(m.start(msg.entity, opRebaseline), m.dequeue())
	}
	return m.dequeue()
}

// fail applies describe's verdict to entity i. The error stays with its
// entity (list and banner); the status bar only counts failing entities.
func (m *Model) fail(i int, op opKind, err error) {
	e := m.entities[i]
	status, b := describe(operation{kind: op, entity: e.Name, baselined: e.Baselined}, err)
	if b == nil {
		return
	}
	e.Status, e.banner = status, b
	if status == model.Expired {
		e.location = goneLocation(err)
	}
}

// addLines puts a new round's rows on top. If the user scrolled away from
// the top, the view keeps its place and counts the unseen rounds.
func (m *Model) addLines(e *entity, r *model.Round) {
	if !r.Baseline {
		e.polled = true
	}
	// Rounds that bring nothing share one row ("rounds 6-9 · no changes"),
	// so their numbers never jump and auto-refresh does not bury the
	// changes under empty headers.
	if quietRound(r) && len(e.lines) > 0 && e.lines[0].kind == lineQuiet {
		e.lines[0].extend(r)
		return
	}
	nl := linesOf(r)
	if !e.since.IsZero() && !r.Baseline {
		nl[0].since, e.since = e.since, time.Time{}
		if nl[0].kind == lineQuiet {
			nl[0].kind = lineHeader // the first round after a resume always gets its header
		}
	}
	lines := make([]line, 0, len(nl)+len(e.lines))
	lines = append(lines, nl...)
	e.lines = append(lines, e.lines...)
	if e.query != "" {
		match := matchRows(e.lines[:len(nl)], e.query)
		for _, j := range e.match {
			match = append(match, j+len(nl))
		}
		e.match = match
		if len(nl) > 0 && e.diff.cursor > 0 {
			e.diff.shift(countBelow(match, len(nl)))
		}
	} else if e.diff.cursor > 0 || e.diff.offset > 0 {
		e.diff.shift(len(nl))
	}
	if e.diff.cursor > 0 && !r.Baseline && nl[0].kind != lineQuiet {
		e.unseen++
	}
	e.trimRows()
}

// Bounds of the rows kept in memory per entity. Following live (cursor in
// the newest rows) keeps about maxRows; reading far back may hold up to
// maxRowsBack before the oldest are let go again. Rows let go are read
// back from the session store when scrolled to.
const (
	maxRows     = 2000
	maxRowsBack = 4 * maxRows
)

// trimRows drops the oldest whole rounds beyond the window, remembering
// the newest dropped round so it can be read back.
func (e *entity) trimRows() {
	limit := maxRows
	if e.diff.cursor >= maxRows/2 {
		limit = maxRowsBack // the user is reading old rows: keep them
	}
	if len(e.lines) <= limit {
		return
	}
	cut := limit
	for cut > 0 && e.lines[cut].kind != lineHeader && e.lines[cut].kind != lineQuiet {
		cut-- // never split a round
	}
	if cut == 0 {
		cut = limit
	}
	if r := e.lines[cut].round; r != nil && !r.Baseline && r.Seq > e.older {
		e.older = r.Seq
	}
	clear(e.lines[cut:]) // let go of the rounds' records
	e.lines = e.lines[:cut:cut]
	if e.query != "" {
		k := 0
		for k < len(e.match) && e.match[k] < cut {
			k++
		}
		e.match = e.match[:k]
	}
	e.diff.clamp(e.rows(), 1)
}

// resume shows a session picked up where an earlier run stopped: no
// baseline was taken, and the next round is headed "since <time>".
func (m *Model) resume(e *entity, r *track.Resumed) {
	e.Records, e.Baselined, e.Status = r.Records, true, model.Tracking
	e.since, e.older = r.Since, r.Seq
	m.resumedAt = m.now()
}

// olderMsg brings stored rounds older than the rows in memory.
type olderMsg struct {
	entity int
	rounds []*model.Round
	err    error
}

// loadOlder reads the rounds before the oldest row of entity i from the
// session, when the cursor reached the last row.
func (m *Model) loadOlder(i int) tea.Cmd {
	e := m.entities[i]
	if e.older <= 0 || e.loadingOlder || e.diff.cursor < e.rows()-1 {
		return nil
	}
	e.loadingOlder = true
	tr, from := e.tracker, e.older
	return func() tea.Msg {
		rs, err := tr.StoredRounds(from, maxRows/4)
		return olderMsg{entity: i, rounds: rs, err: err}
	}
}

// addOlder appends stored rounds below the rows in memory.
func (m *Model) addOlder(msg olderMsg) {
	if msg.entity < 0 || msg.entity >= len(m.entities) {
		return
	}
	e := m.entities[msg.entity]
	e.loadingOlder = false
	if msg.err != nil {
		m.note = "older rounds: " + termtext.Sanitize(msg.err.Error())
		return
	}
	e.older = 0
	for _, r := range msg.rounds { // newest first, each older than the rows
		at := len(e.lines)
		e.lines = append(e.lines, linesOf(r)...)
		if e.query != "" {
			for _, k := range matchRows(e.lines[at:], e.query) {
				e.match = append(e.match, at+k)
			}
		}
		e.older = r.Seq - 1
	}
}

func countBelow(sorted []int, n int) int {
	c := 0
	for _, v := range sorted {
		if v < n {
			c++
		}
	}
	return c
}

// rows is the number of rows the diff pane shows for e (filtered or not).
func (e *entity) rows() int {
	if e.query != "" {
		return len(e.match)
	}
	return len(e.lines)
}

// row returns the i-th visible row.
func (e *entity) row(i int) *line {
	if e.query != "" {
		return &e.lines[e.match[i]]
	}
	return &e.lines[i]
}

// setQuery filters the diff rows (filter.go).
func (e *entity) setQuery(q string) {
	e.query = q
	e.match = nil
	if q != "" {
		e.match = matchRows(e.lines, q)
	}
	e.diff = scroller{}
	e.unseen = 0
}
