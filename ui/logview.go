package ui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// logView lists the session's HTTP requests, newest first.
func (m *Model) logView(h int) []string {
	st := m.styles
	total := m.log.Len()
	out := []string{m.title(fmt.Sprintf("Request log · %s kept of %s · newest first", count(total), count(m.log.Total())), true)}
	rows := max(1, h-1)
	m.logScroll.clamp(total, rows)
	for _, e := range m.log.Newest(m.logScroll.offset, rows) {
		t := e.Time.Format("15:04:05")
		if e.Method == "" {
			out = append(out, st.Dim.Render(t+"  note  "+e.Note))
			continue
		}
		status := fmt.Sprint(e.Status)
		style := st.Added
		switch {
		case e.Status == 0:
			status, style = "---", st.Deleted
		case e.Status >= 400:
			style = st.Deleted
		}
		line := fmt.Sprintf("%s  %s %s %8s %6dms  %s", t, e.Method, style.Render(status), bytesText(e.Bytes), e.MS, pathOf(e.URL))
		if e.RequestID != "" {
			line += st.Dim.Render("  id " + e.RequestID)
		}
		if e.Error != "" {
			first, _, _ := strings.Cut(e.Error, "\n")
			line += "  " + st.Deleted.Render(first)
		}
		out = append(out, line)
	}
	if total == 0 {
		out = append(out, st.Dim.Render("  no requests yet"))
	}
	return out
}

func (m *Model) logKey(msg tea.KeyMsg) tea.Cmd {
	k := m.keys
	rows := max(1, m.bodyHeight()-1)
	n := m.log.Len()
	switch {
	case key.Matches(msg, k.Log), key.Matches(msg, k.Back), msg.String() == "q":
		m.mode = normalMode
	case msg.String() == "ctrl+c":
		return tea.Quit
	case key.Matches(msg, k.Up):
		m.logScroll.offset = max(0, m.logScroll.offset-1)
	case key.Matches(msg, k.Down):
		m.logScroll.offset = min(max(0, n-rows), m.logScroll.offset+1)
	case key.Matches(msg, k.PageUp):
		m.logScroll.offset = max(0, m.logScroll.offset-rows)
	case key.Matches(msg, k.PageDown):
		m.logScroll.offset = min(max(0, n-rows), m.logScroll.offset+rows)
	case key.Matches(msg, k.Top):
		m.logScroll.offset = 0
	case key.Matches(msg, k.Bottom):
		m.logScroll.offset = max(0, n-rows)
	}
	return nil
}

// pathOf drops the scheme and host, which the status bar already shows,
// so the part that differs (path, delta token) fits on the line.
func pathOf(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		if j := strings.IndexByte(u[i+3:], '/'); j >= 0 {
			return u[i+3+j:]
		}
	}
	return u
}
