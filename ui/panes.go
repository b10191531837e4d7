package ui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/deltascope/deltascope/internal/termtext"
)

// pane is a part of the screen the root model routes keys to: the entity
// list and the changes of the selected entity. The root owns layout,
// focus, modes and the global keys; a pane owns its cursor, its filter and
// how it draws.
type pane interface {
	// Update handles a key the root did not take.
	Update(msg tea.KeyMsg) tea.Cmd
	// View draws the pane: at most its height in lines, each at most its
	// width, costing the rows on screen.
	View() []string
	SetSize(w, h int)
	// Filter is the pane's / query; SetFilter changes it.
	Filter() string
	SetFilter(q string)
	// Help is the pane's own bindings, for the help line.
	Help() []key.Binding
}

// focus says which pane has the keys.
type focus uint8

const (
	focusList focus = iota
	focusChanges
)

// listPane lists the entity sets: name, records, status, counters.
type listPane struct {
	m             *Model
	width, height int
	cursor        scroller
	visible       []int // indexes of the entities shown (after the filter)
	query         string
}

// selected is the entity under the cursor, or nil.
func (p *listPane) selected() (int, *entity) {
	if len(p.visible) == 0 {
		return -1, nil
	}
	i := p.visible[p.cursor.cursor]
	return i, p.m.entities[i]
}

// rows is how many entities fit: two lines each, under the title.
func (p *listPane) rows() int { return max(1, (p.height-1)/2) }

func (p *listPane) SetSize(w, h int) {
	p.width, p.height = w, h
	p.cursor.clamp(len(p.visible), p.rows())
}

func (p *listPane) Filter() string { return p.query }

// SetFilter shows the entities whose name contains q, keeping the
// selection when it is still shown.
func (p *listPane) SetFilter(q string) {
	p.query = q
	keep := -1
	if i, _ := p.selected(); i >= 0 {
		keep = i
	}
	p.visible = p.visible[:0]
	lq := strings.ToLower(q)
	for i, e := range p.m.entities {
		if lq == "" || strings.Contains(strings.ToLower(e.Name), lq) {
			p.visible = append(p.visible, i)
		}
	}
	p.cursor = scroller{}
	for j, i := range p.visible {
		if i == keep {
			p.cursor.cursor = j
		}
	}
	p.cursor.clamp(len(p.visible), p.rows())
}

func (p *listPane) Help() []key.Binding { return []key.Binding{p.m.keys.Open, p.m.keys.Back} }

func (p *listPane) Update(msg tea.KeyMsg) tea.Cmd {
	k := p.m.keys
	switch {
	case key.Matches(msg, k.Open):
		p.m.focus = focusChanges
	case key.Matches(msg, k.Back):
		if p.query != "" {
			p.SetFilter("")
		}
	default:
		navigate(&p.cursor, msg, k, len(p.visible), p.rows())
	}
	return nil
}

func (p *listPane) View() []string {
	m, st := p.m, &p.m.styles
	title := "Entities"
	if p.query != "" {
		title += " /" + termtext.Sanitize(p.query)
	}
	out := []string{m.title(title, m.focus == focusList)}
	if len(p.visible) == 0 {
		return append(out, st.Dim.Render("  no entity matches"))
	}
	rows := p.rows()
	p.cursor.clamp(len(p.visible), rows)
	for j := p.cursor.offset; j < len(p.visible) && j < p.cursor.offset+rows; j++ {
		e := m.entities[p.visible[j]]
		mark := "  "
		name := st.Name.Render(termtext.Sanitize(e.Name))
		if j == p.cursor.cursor {
			mark = "> "
			name = st.Cursor.Render(termtext.Sanitize(e.Name))
		}
		recs := ""
		if e.Baselined {
			recs = count(e.Records)
		}
		left := mark + name
		gap := p.width - ansi.StringWidth(left) - len(recs) - 1
		out = append(out, left+strings.Repeat(" ", max(1, gap))+st.Dim.Render(recs))
		state, word := m.status(e)
		ws := st.Status[state].Render(word)
		counters := ""
		if e.Added+e.Updated+e.Deleted > 0 {
			counters = "  " + st.Added.Render(fmt.Sprintf("+%d", e.Added)) + " " + st.Updated.Render(fmt.Sprintf("~%d", e.Updated)) + " " + st.Deleted.Render(fmt.Sprintf("-%d", e.Deleted))
		}
		out = append(out, "  "+ws+counters)
	}
	return out
}

// changesPane shows the selected entity's rounds, newest first, with its
// banner; its cursor, filter and scroll position live on the entity, so
// each entity keeps its own place.
type changesPane struct {
	m             *Model
	width, height int
	// rowAt maps each line of the last View to the row drawn there, -1
	// for title, banner and hints; a click reads it.
	rowAt []int
}

func (p *changesPane) entity() *entity {
	_, e := p.m.list.selected()
	return e
}

// rowsShown is how many of e's rows fit under the title, banner and markers.
func (p *changesPane) rowsShown(e *entity) int {
	h := p.height - 1 - len(p.bannerLines(e))
	if e.unseen > 0 {
		h--
	}
	if p.m.pollHint(e) != "" {
		h--
	}
	if e.busy && e.shown.Retry != nil {
		h--
	}
	return max(1, h)
}

func (p *changesPane) bannerLines(e *entity) []string {
	if e == nil || e.banner == nil {
		return nil
	}
	return e.banner.lines(max(10, p.width-2))
}

func (p *changesPane) SetSize(w, h int) {
	p.width, p.height = w, h
	for _, e := range p.m.entities {
		e.diff.clamp(e.rows(), p.rowsShown(e))
	}
}

func (p *changesPane) Filter() string {
	if e := p.entity(); e != nil {
		return e.query
	}
	return ""
}

func (p *changesPane) SetFilter(q string) {
	if e := p.entity(); e != nil {
		e.setQuery(q)
	}
}

func (p *changesPane) Help() []key.Binding { return []key.Binding{p.m.keys.Open, p.m.keys.Back} }

func (p *changesPane) Update(msg tea.KeyMsg) tea.Cmd {
	k := p.m.keys
	e := p.entity()
	switch {
	case key.Matches(msg, k.Open):
		return p.m.openRecord()
	case key.Matches(msg, k.Back):
		if e != nil && e.query != "" {
			e.setQuery("")
		} else {
			p.m.focus = focusList
		}
	case e != nil:
		navigate(&e.diff, msg, k, e.rows(), p.rowsShown(e))
		if e.diff.cursor == 0 {
			e.unseen = 0
		}
		i, _ := p.m.selected()
		return p.m.loadOlder(i)
	}
	return nil
}

func (p *changesPane) View() []string {
	m, st := p.m, &p.m.styles
	p.rowAt = p.rowAt[:0]
	e := p.entity()
	if e == nil {
		return []string{m.title("Changes", m.focus == focusChanges)}
	}
	name, status := termtext.Sanitize(e.Name), m.statusWord(e)
	title := name + " · " + status
	if e.Baselined {
		// The count is in the entity list too: it gives way first when
		// the status (a poll method) would be cut.
		if full := name + " · " + plural(e.Records, "record") + " · " + status; ansi.StringWidth(full)+2 <= p.width {
			title = full
		}
	}
	if e.query != "" {
		title += fmt.Sprintf(" · /%s %s", termtext.Sanitize(e.query), plural(len(e.match), "row"))
	}
	head := m.title(title, m.focus == focusChanges)
	if gap := p.width - ansi.StringWidth(head) - len(legend); m.width >= legendWidth && gap >= 2 {
		head += strings.Repeat(" ", gap) + st.Dim.Render(legend)
	}
	out := []string{head}
	if bl := p.bannerLines(e); len(bl) > 0 {
		style := st.BannerInfo
		icon := "i "
		switch e.banner.level {
		case levelWarn:
			style, icon = st.BannerWarn, "! "
		case levelErr:
			style, icon = st.BannerErr, "✗ "
		}
		for i, l := range bl {
			if i == 0 {
				out = append(out, style.Render(icon+l))
			} else {
				out = append(out, style.Render("  "+l))
			}
		}
	}
	if r := e.shown.Retry; e.busy && r != nil {
		out = append(out, st.BannerWarn.Render("! "+retryText(e.Name, r)))
	}
	if e.unseen > 0 {
		// g jumps only where it moves this pane; from the list it would
		// move the list.
		jump := "tab, then g to see it"
		if m.focus == focusChanges {
			jump = "g to jump to the newest"
		}
		out = append(out, st.Marker.Render(fmt.Sprintf("↑ %s above · %s", plural(e.unseen, "new round"), jump)))
	}
	if hint := m.pollHint(e); hint != "" {
		out = append(out, st.Dim.Render("  "+hint))
	}
	rows := p.rowsShown(e)
	n := e.rows()
	if n == 0 {
		switch {
		case e.busy:
			out = append(out, st.Dim.Render("  "+m.spinner.View()+" taking the baseline… "+m.progressText(e)))
		case e.query != "":
			out = append(out, st.Dim.Render("  no row matches the filter"))
		case e.banner == nil:
			out = append(out, st.Dim.Render("  no rounds yet"))
		}
		return out
	}
	e.diff.clamp(n, rows)
	// Rows may take several lines: scroll on until the cursor's row is
	// whole on screen.
	for e.diff.offset < e.diff.cursor && p.linesBetween(e, e.diff.offset, e.diff.cursor) > rows {
		e.diff.offset++
	}
	room := len(out) + rows
	p.rowAt = p.rowAt[:0]
	for range out {
		p.rowAt = append(p.rowAt, -1)
	}
	for i := e.diff.offset; i < n && len(out) < room; i++ {
		for j, part := range strings.Split(e.row(i).render(st, p.width-2), "\n") {
			mark := "  "
			if j == 0 && i == e.diff.cursor && m.focus == focusChanges {
				mark = st.Cursor.Render(">") + " "
			}
			if len(out) < room {
				out = append(out, mark+part)
				p.rowAt = append(p.rowAt, i)
			}
		}
	}
	return out
}

// linesBetween is how many screen lines rows from..to of e take.
func (p *changesPane) linesBetween(e *entity, from, to int) int {
	n := 0
	for i := from; i <= to; i++ {
		n += 1 + strings.Count(e.row(i).render(&p.m.styles, p.width-2), "\n")
	}
	return n
}

// navigate moves a cursor over n rows shown h at a time.
func navigate(s *scroller, msg tea.KeyMsg, k keyMap, n, h int) {
	switch {
	case key.Matches(msg, k.Up):
		s.move(-1, n, h)
	case key.Matches(msg, k.Down):
		s.move(1, n, h)
	case key.Matches(msg, k.Top):
		s.move(-n, n, h)
	case key.Matches(msg, k.Bottom):
		s.move(n, n, h)
	case key.Matches(msg, k.PageUp):
		s.move(-h, n, h)
	case key.Matches(msg, k.PageDown):
		s.move(h, n, h)
	}
}

// helpLine is the short help: the focused pane's keys, then the global
// ones, each shown only while it works.
type helpLine struct{ m *Model }

func (h helpLine) ShortHelp() []key.Binding {
	k := h.m.keys
	var out []key.Binding
	if h.m.mode == normalMode {
		out = append(out, h.m.panes[h.m.focus].Help()...)
	} else {
		out = append(out, k.Back)
		if h.m.mode == logMode {
			out = append(out, k.Open)
		}
	}
	// Most needed first: a narrow terminal cuts the line's end, and ? shows
	// the rest.
	return append(out, k.Copy, k.Curl, k.Refresh, k.Rebaseline, k.RebaselineAll, k.Help, k.Quit, k.Tab, k.Auto, k.Filter, k.DeltaLink, k.Log, k.Company)
}

func (h helpLine) FullHelp() [][]key.Binding { return h.m.keys.FullHelp() }
