package ui

import (
	tea "github.com/charmbracelet/bubbletea"

	"github.com/deltascope/deltascope/internal/termtext"
)

// deltaLinkMsg carries an entity's current delta link, read off the
// Update goroutine: the tracker holds its lock through a round.
type deltaLinkMsg struct {
	entity string
	link   string
}

// deltaLink reads the selected entity's delta link; Update then shows and
// copies it.
func (m *Model) deltaLink() tea.Cmd {
	_, e := m.selected()
	if e == nil || e.tracker == nil {
		return nil
	}
	t, name := e.tracker, e.Name
	return func() tea.Msg { return deltaLinkMsg{entity: name, link: t.DeltaLink()} }
}

// showDeltaLink opens the link, wrapped whole, and copies it. The link is
// shown as the log shows URLs: credentials in it are redacted, OData's
// cursors are not.
func (m *Model) showDeltaLink(msg deltaLinkMsg) {
	st := m.styles
	name := termtext.Sanitize(msg.entity)
	if msg.link == "" {
		m.note = name + " has no delta link yet: it comes with the baseline's last page"
		return
	}
	link := m.log.Secrets().URL(msg.link)
	lines := []string{st.Name.Render("The link the next round of " + name + " will fetch"), "", link, "",
		st.Dim.Render("It was copied to the clipboard (OSC 52); c copies it again.")}
	m.request = newDetailView("Delta link · "+name, lines, link)
	m.request.setSize(m.width, m.bodyHeight())
	m.requestFrom, m.mode = m.mode, requestMode
	m.copyText(link, "the delta link")
}
