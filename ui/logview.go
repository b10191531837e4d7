package ui

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/deltascope/deltascope/internal/termtext"
	"github.com/deltascope/deltascope/reqlog"
)

// The request log lists the session's HTTP requests, newest first, with a
// cursor. Requests keep arriving while it is open: a cursor on the newest
// request follows the new ones (like tail -f); anywhere else it stays on
// the request it was on (logAnchor is the log's total when the cursor was
// placed; each newer request pushes the cursor's row one down).

// logWindow is the cursor and offset now, counted from the newest.
func (m *Model) logWindow() scroller {
	s := m.logScroll
	if m.logFollow {
		return scroller{}
	}
	d := m.log.Total() - m.logAnchor
	s.cursor, s.offset = s.cursor+d, s.offset+d
	return s
}

// logCursor is the row of the cursor now, counted from the newest.
func (m *Model) logCursor() int { return m.logWindow().cursor }

// logView draws the list: the rows on screen only.
func (m *Model) logView(h int) []string {
	st := m.styles
	total := m.log.Len()
	rows := max(1, h-1)
	s := m.logWindow()
	s.clamp(total, rows)
	title := fmt.Sprintf("Request log · %s of %s kept · newest first", count(total), count(m.log.Total()))
	if total > rows {
		title += fmt.Sprintf(" · %d-%d", s.offset+1, min(total, s.offset+rows))
	}
	out := []string{m.title(title, true)}
	for i, e := range m.log.Newest(s.offset, rows) {
		line := logLine(e, st, m.width < 70)
		if s.offset+i == s.cursor {
			line = st.Cursor.Render(">") + " " + line
		} else {
			line = "  " + line
		}
		out = append(out, line)
	}
	if total == 0 {
		out = append(out, st.Dim.Render("  no requests yet"))
	}
	return out
}

// logLine is one request: time, status, size, duration (not when narrow),
// request id, then the path, which is the part that gets cut. A request
// that failed says so in its status column ("200!" for a 200 whose body
// could not be used), not by colour alone.
func logLine(e reqlog.Entry, st Styles, narrow bool) string {
	t := e.Time.Format("15:04:05")
	if e.Method == "" {
		return st.Dim.Render(t + "  note  " + e.Note)
	}
	status := fmt.Sprint(e.Status)
	style := st.Added
	switch {
	case e.Status == 0:
		status, style = "---", st.Deleted
	case e.Error != "":
		status, style = status+"!", st.Deleted
	case e.Status >= 400:
		style = st.Deleted
	}
	line := fmt.Sprintf("%s %s %s %8s %5dms ", t, e.Method, style.Render(fmt.Sprintf("%-4s", status)), bytesText(e.Bytes), e.MS)
	id := "id " + termtext.Clip(e.RequestID, 40)
	if narrow {
		line, id = fmt.Sprintf("%s %s ", t[:5], style.Render(fmt.Sprintf("%-4s", status))), termtext.Clip(e.RequestID, 12)
	}
	if e.RequestID != "" {
		line += st.Dim.Render(id) + " "
	}
	line += pathOf(e.URL)
	if e.Error != "" {
		first, _, _ := strings.Cut(e.Error, "\n")
		line += "  " + st.Deleted.Render(first)
	}
	return line
}

// logSelected is the entry under the cursor.
func (m *Model) logSelected() (reqlog.Entry, bool) {
	es := m.log.Newest(m.logCursor(), 1)
	if len(es) == 0 {
		return reqlog.Entry{}, false
	}
	return es[0], true
}

// logMove moves the cursor d rows (the mouse wheel).
func (m *Model) logMove(d int) {
	m.logScroll, m.logAnchor = m.logWindow(), m.log.Total()
	m.logScroll.move(d, m.log.Len(), max(1, m.bodyHeight()-1))
	m.logFollow = m.logScroll.cursor == 0
}

func (m *Model) logKey(msg tea.KeyMsg) tea.Cmd {
	k := m.keys
	rows := max(1, m.bodyHeight()-1)
	n := m.log.Len()
	// Re-anchor: from here the cursor counts from the newest request now.
	m.logScroll, m.logAnchor = m.logWindow(), m.log.Total()
	s := &m.logScroll
	defer func() { m.logFollow = m.mode == logMode && s.cursor == 0 }()
	switch {
	case key.Matches(msg, k.Log), key.Matches(msg, k.Back), msg.String() == "q":
		m.mode = normalMode
	case msg.String() == "ctrl+c":
		return tea.Quit
	case key.Matches(msg, k.Help):
		m.openHelp()
	case key.Matches(msg, k.Up):
		s.move(-1, n, rows)
	case key.Matches(msg, k.Down):
		s.move(1, n, rows)
	case key.Matches(msg, k.PageUp):
		s.move(-rows, n, rows)
	case key.Matches(msg, k.PageDown):
		s.move(rows, n, rows)
	case key.Matches(msg, k.Top):
		s.move(-n, n, rows)
	case key.Matches(msg, k.Bottom):
		s.move(n, n, rows)
	case key.Matches(msg, k.Open):
		if e, ok := m.logSelected(); ok && e.Method != "" {
			m.request = requestDetail(e, m.styles)
			m.request.setSize(m.width, m.bodyHeight())
			m.mode, m.requestFrom = requestMode, logMode
		}
	case key.Matches(msg, k.Curl):
		if e, ok := m.logSelected(); ok && e.Exchange != nil {
			m.copyText(e.Exchange.Curl(), "the request as curl")
		}
	}
	return nil
}

// requestKey scrolls the request detail; c copies it as curl.
func (m *Model) requestKey(msg tea.KeyMsg) tea.Cmd {
	if cmd, ok := m.pagerKey(msg, &m.request.pager, func() { m.mode, m.request = m.requestFrom, nil }); ok {
		return cmd
	}
	if key.Matches(msg, m.keys.Curl) && m.request.copy != "" {
		what := m.request.what
		if what == "" {
			what = "the request as curl"
		}
		m.copyText(m.request.copy, what)
		return nil
	}
	return m.request.update(msg)
}

// pagerKey handles the keys every pager view shares: back (esc or q, by
// calling back), ctrl+c, help, top and bottom. ok is false for the
// view's own keys.
func (m *Model) pagerKey(msg tea.KeyMsg, p *pager, back func()) (cmd tea.Cmd, ok bool) {
	switch {
	case key.Matches(msg, m.keys.Back), msg.String() == "q":
		back()
	case msg.String() == "ctrl+c":
		return tea.Quit, true
	case key.Matches(msg, m.keys.Help):
		m.openHelp()
	case key.Matches(msg, m.keys.Top):
		p.vp.GotoTop()
	case key.Matches(msg, m.keys.Bottom):
		p.vp.GotoBottom()
	default:
		return nil, false
	}
	return nil, true
}

// copyText puts text on the clipboard with OSC 52 (it works over ssh and
// in tmux with set-clipboard on) and says so.
func (m *Model) copyText(text, what string) {
	fmt.Fprintf(m.clipboard, "\x1b]52;c;%s\a", base64.StdEncoding.EncodeToString([]byte(text)))
	m.note = fmt.Sprintf("copied %s (%s bytes) to the clipboard", what, count(len(text)))
}

// pathOf drops the scheme and host, which the status bar already shows,
// and long keys in the path (Business Central's companies(<guid>)), so the
// part that differs (entity set, delta token) fits on the line. The
// request detail shows the URL whole.
func pathOf(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		if j := strings.IndexByte(u[i+3:], '/'); j >= 0 {
			u = u[i+3+j:]
		}
	}
	path, query, hasQuery := strings.Cut(u, "?")
	path = longKey.ReplaceAllString(path, "(…)")
	if hasQuery {
		return path + "?" + query
	}
	return path
}

var longKey = regexp.MustCompile(`\([^()/]{13,}\)`)
