package ui

import (
	"context"
	"errors"
	"fmt"
	"net/http"
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
	entity int
	gen    int
	op     opKind
	round  *model.Round
	err    error
}

// entity is the UI's state for one entity set.
type entity struct {
	model.Entity
	tracker *track.Tracker

	gen      int
	busy     bool
	op       opKind
	progress atomic.Pointer[deltaclient.Progress] // written by the running cmd
	shown    deltaclient.Progress                 // copied from progress on ticks
	started  time.Time                            // when the op in flight began
	queued   bool                                 // a re-baseline waits for the round in flight

	banner   *banner
	location string // Location of the last 410, for the re-baseline

	lines  []line // diff rows, newest round first
	diff   scroller
	unseen int          // rounds that arrived while the user was scrolled down
	quiet  *model.Round // the latest round, when it brought no changes
	match  []int
	query  string
}

// banner is a plain-words message that belongs to one entity.
type banner struct {
	level int // 0 info, 1 warning, 2 error
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

const (
	levelInfo = iota
	levelWarn
	levelErr
)

// start launches op for e unless one is in flight; a re-baseline asked for
// during a round runs when the round ends.
func (m *Model) start(i int, op opKind) tea.Cmd {
	e := m.entities[i]
	if e.busy {
		if op == opRebaseline {
			e.queued = true
		}
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
			r, err = tr.Baseline(ctx, report)
		case opRound:
			r, err = tr.Poll(ctx, report)
		case opRebaseline:
			r, err = tr.Rebaseline(ctx, loc, report)
		}
		return opDoneMsg{entity: i, gen: gen, op: op, round: r, err: err}
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
	if msg.err != nil {
		m.fail(msg.entity, msg.op, msg.err)
	} else {
		e.banner = nil
		if m.lastErrOf == msg.entity {
			m.lastErr, m.lastErrOf = "", -1
		}
		if msg.op == opRebaseline {
			e.location = ""
		}
		e.AddRound(msg.round)
		m.addLines(e, msg.round)
	}
	if e.queued {
		e.queued = false
		return m.start(msg.entity, opRebaseline)
	}
	return nil
}

// fail turns an error into the entity's status and banner, in plain words
// with the key that fixes it.
func (m *Model) fail(i int, op opKind, err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	e := m.entities[i]
	name := termtext.Sanitize(e.Name)
	e.Status = model.Failed // unless the error says more, below
	var (
		gone *deltaclient.GoneError
		uns  *deltaclient.UnsupportedError
		he   *deltaclient.HTTPError
		ne   *deltaclient.NetworkError
	)
	switch {
	case errors.As(err, &gone):
		e.Status = model.Expired
		e.location = gone.Location
		text := fmt.Sprintf("%s: the delta link expired (%d %s). Press b to take a new baseline; changes made meanwhile will be shown.", name, gone.Status, http.StatusText(gone.Status))
		if gone.Location != "" {
			text += "\nLocation: " + termtext.Sanitize(gone.Location)
		}
		e.banner = &banner{level: levelWarn, text: text}
	case errors.As(err, &uns):
		e.Status = model.Unsupported
		var text string
		if uns.NoDeltaLink {
			text = fmt.Sprintf("%s does not support delta requests: the server returned the whole collection without a deltaLink.", name)
		} else {
			text = fmt.Sprintf("%s does not support delta requests (%d): the server returned %q.", name, uns.Status, termtext.Sanitize(uns.Message))
		}
		e.banner = &banner{level: levelInfo, text: text}
	case errors.As(err, &he) && (he.Status == http.StatusUnauthorized || he.Status == http.StatusForbidden):
		what := "the service refused the credentials"
		switch {
		case he.Credentials == "no credentials":
			what = "the service wants credentials and none were sent"
		case he.Credentials != "" && he.Status == http.StatusForbidden:
			what = "the " + he.Credentials + " lacks permission"
		case he.Credentials != "":
			what = "the " + he.Credentials + " was rejected"
		}
		e.banner = &banner{level: levelErr, text: fmt.Sprintf("%s: %s (%d %s): %s. Check --token, DELTASCOPE_TOKEN or the other credentials, then press r.",
			name, what, he.Status, http.StatusText(he.Status), termtext.Clip(he.Message, 200))}
	case errors.As(err, &he) && he.Status == http.StatusTooManyRequests:
		e.banner = &banner{level: levelWarn, text: fmt.Sprintf("%s: throttled by the service (429) and still throttled after retrying. Press r to try again, or a to pause auto-refresh.", name)}
	case errors.As(err, &ne):
		e.banner = &banner{level: levelErr, text: fmt.Sprintf("%s: cannot reach the service: %s. Press r to try again.", name, termtext.Sanitize(ne.Err.Error()))}
	default:
		what := map[opKind]string{opBaseline: "baseline", opRound: "delta round", opRebaseline: "re-baseline"}[op]
		text := fmt.Sprintf("%s: the %s failed: %s.", name, what, termtext.Sanitize(strings.TrimSuffix(err.Error(), ".")))
		if e.Baselined {
			text += " The snapshot and delta link are unchanged; press r to try again."
		} else {
			text += " Press b to try again."
		}
		e.banner = &banner{level: levelErr, text: text}
	}
	if e.banner.level > levelInfo {
		m.lastErr, m.lastErrOf = e.banner.text, i
	}
}

// addLines puts a new round's rows on top. If the user scrolled away from
// the top, the view keeps its place and counts the unseen rounds.
func (m *Model) addLines(e *entity, r *model.Round) {
	// A round that brought nothing is noted in the title, not as rows:
	// auto-refresh would otherwise bury the changes under empty headers.
	if !r.Baseline && r.Via == "" && len(r.Changes) == 0 {
		e.quiet = r
		return
	}
	e.quiet = nil
	nl := linesOf(r)
	lines := make([]line, 0, len(nl)+len(e.lines))
	lines = append(lines, nl...)
	e.lines = append(lines, e.lines...)
	if e.query != "" {
		var match []int
		for i := range nl {
			if matches(&e.lines[i], e.query) {
				match = append(match, i)
			}
		}
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
	if e.diff.cursor > 0 && !r.Baseline {
		e.unseen++
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

func matches(l *line, q string) bool {
	return strings.Contains(strings.ToLower(l.Text()), q)
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

// setQuery filters the diff rows by text.
func (e *entity) setQuery(q string) {
	q = strings.ToLower(q)
	e.query = q
	e.match = e.match[:0]
	if q != "" {
		for i := range e.lines {
			if matches(&e.lines[i], q) {
				e.match = append(e.match, i)
			}
		}
	}
	e.diff = scroller{}
	e.unseen = 0
}

// statusWord is what the list shows for e.
func (m *Model) statusWord(e *entity) string {
	switch {
	case e.busy && e.shown.Retry != nil:
		return fmt.Sprintf("retrying %d/%d", e.shown.Retry.Attempt, e.shown.Retry.Max)
	case e.busy && (e.op != opRound || !e.Baselined):
		p := e.shown
		if p.Pages == 0 {
			return "loading"
		}
		if p.Count > 0 && p.Records > 0 {
			per := max(1, p.Records/p.Pages)
			return fmt.Sprintf("loading %d/%d pages", p.Pages, (int(p.Count)+per-1)/per)
		}
		return "loading " + plural(p.Pages, "page")
	case e.Status == model.Tracking && !m.auto:
		return "paused"
	}
	return e.Status.String()
}
