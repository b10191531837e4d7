package ui

import (
	tea "github.com/charmbracelet/bubbletea"

	"github.com/deltascope/deltascope/internal/termtext"
	"github.com/deltascope/deltascope/track"
)

// deltaLinkMsg carries an entity's current delta link, or for a set
// followed by polling its poll state, read off the Update goroutine: the
// tracker may hold its lock through a round.
type deltaLinkMsg struct {
	entity string
	link   string
	poll   *track.PollState
}

// deltaLink reads the selected entity's delta link; Update then shows and
// copies it.
func (m *Model) deltaLink() tea.Cmd {
	_, e := m.selected()
	if e == nil || e.tracker == nil {
		return nil
	}
	t, name := e.tracker, e.Name
	return func() tea.Msg {
		if st, ok := t.PollState(); ok {
			return deltaLinkMsg{entity: name, poll: &st}
		}
		return deltaLinkMsg{entity: name, link: t.DeltaLink()}
	}
}

// showDeltaLink opens the link, wrapped whole, and copies it. The link is
// shown as the log shows URLs: credentials in it are redacted, OData's
// cursors are not.
func (m *Model) showDeltaLink(msg deltaLinkMsg) {
	st := m.styles
	name := termtext.Sanitize(msg.entity)
	if p := msg.poll; p != nil {
		m.showWatermark(name, p)
		return
	}
	if msg.link == "" {
		m.note = name + " has no delta link yet: it comes with the baseline's last page"
		return
	}
	link := m.log.Secrets().URL(msg.link)
	lines := []string{st.Name.Render("The link the next round of " + name + " will fetch"), "", link, "",
		st.Dim.Render("It was copied to the clipboard (OSC 52); c copies it again.")}
	m.request = newDetailView("Delta link · "+name, lines, link)
	m.request.what = "the delta link"
	m.request.setSize(m.width, m.bodyHeight())
	m.requestFrom, m.mode = m.mode, requestMode
	m.copyText(link, "the delta link")
}

// showWatermark is the delta link's counterpart for a set followed by
// polling: the method, and the watermark the next round reads from.
func (m *Model) showWatermark(name string, p *track.PollState) {
	st := m.styles
	clean := termtext.Sanitize
	lines := []string{st.Name.Render(name + " has no delta link: it is followed by polling (" + clean(p.Label()) + ")"), ""}
	copied := ""
	if p.Timestamp != "" && p.Watermark != "" {
		copied = clean(p.Timestamp) + " gt " + clean(p.Watermark)
		lines = append(lines, "The next round reads the records whose "+clean(p.Timestamp)+" is after the watermark:", "", "  $filter="+copied, "",
			st.Dim.Render("It was copied to the clipboard (OSC 52); c copies it again."))
	} else {
		lines = append(lines, st.Dim.Render("This method keeps no watermark: each round compares keys and etags, or the whole set."))
	}
	m.request = newDetailView("Poll watermark · "+name, lines, copied)
	m.request.what = "the poll watermark"
	m.request.setSize(m.width, m.bodyHeight())
	m.requestFrom, m.mode = m.mode, requestMode
	if copied != "" {
		m.copyText(copied, "the poll watermark")
	}
}
