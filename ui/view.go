package ui

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/deltascope/deltascope/deltaclient"
	"github.com/deltascope/deltascope/internal/termtext"
	"github.com/deltascope/deltascope/model"
)

// Layout. Below minSplit columns one pane shows at a time (tab switches).
const (
	minSplit  = 60
	listMin   = 24
	listMax   = 36
	chromeTop = 1 // status bar
	chromeBot = 1 // help or filter line
)

func (m *Model) bodyHeight() int { return max(1, m.height-chromeTop-chromeBot) }

func (m *Model) split() bool { return m.width >= minSplit }

func (m *Model) listWidth() int {
	if !m.split() {
		return m.width
	}
	return min(max(m.width*3/10, listMin), listMax)
}

func (m *Model) diffWidth() int {
	if !m.split() {
		return m.width
	}
	return m.width - m.listWidth() - 1
}

// View draws the screen; its cost is proportional to the rows on screen.
func (m *Model) View() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString(m.statusBar())
	b.WriteByte('\n')
	var body []string
	switch m.mode {
	case helpMode:
		body = m.helpView(m.bodyHeight())
	case recordMode:
		body = m.record.view()
	case logMode:
		body = m.logView(m.bodyHeight())
	case requestMode:
		body = m.request.view()
	default:
		body = m.body()
	}
	h := m.bodyHeight()
	for i := 0; i < h; i++ {
		if i < len(body) {
			b.WriteString(fit(body[i], m.width))
		}
		b.WriteByte('\n')
	}
	b.WriteString(m.bottomLine())
	return b.String()
}

// fit truncates a styled line to w cells.
func fit(s string, w int) string {
	if ansi.StringWidth(s) <= w {
		return s
	}
	return ansi.Truncate(s, w, "…")
}

// pad truncates or pads a styled line to exactly w cells.
func pad(s string, w int) string {
	s = fit(s, w)
	if n := ansi.StringWidth(s); n < w {
		s += strings.Repeat(" ", w-n)
	}
	return s
}

// statusBar is the top line: name, service, auto-refresh, activity, how
// many entities failed and a note. Errors themselves belong to their
// entity (list and banner), so the bar never names one the keys do not act
// on. The service URL gives way first when space is short.
func (m *Model) statusBar() string {
	st := m.styles
	var parts []string
	if m.auto {
		left := max(m.next.Sub(m.now()), 0)
		parts = append(parts, fmt.Sprintf("auto %s · next %s", short(m.interval), short(left)))
	} else {
		// + and - still set the interval; show it so the keys visibly work.
		parts = append(parts, "auto off · "+short(m.interval))
	}
	if n := m.busy(); n > 0 {
		parts = append(parts, m.spinner.View()+fmt.Sprintf(" %d in flight", n))
	}
	if n := m.queued(); n > 0 {
		parts = append(parts, fmt.Sprintf("%d queued", n))
	}
	if n := m.failing(); n > 0 {
		parts = append(parts, "✗ "+plural(n, "error"))
	}
	if m.note != "" {
		parts = append(parts, m.note)
	}
	if m.session != "" {
		s := "session " + termtext.Sanitize(m.session)
		if !m.resumedAt.IsZero() {
			s += " · resumed " + m.resumedAt.Format("15:04")
		}
		parts = append([]string{s}, parts...)
	}
	rest := " │ " + strings.Join(parts, " │ ")
	head := " deltascope"
	// The company gives way after the URL, before the countdown.
	if room := m.width - ansi.StringWidth(head+rest) - 3; m.company != "" && room >= 8 {
		head += " │ " + termtext.Clip(m.company, min(30, room))
	}
	if room := m.width - ansi.StringWidth(head+rest) - 3; room >= 16 {
		head += " │ " + termtext.Clip(m.service, room)
	}
	return st.Bar.Render(pad(head+rest, m.width))
}

// failing counts the entities whose last operation failed.
func (m *Model) failing() int {
	n := 0
	for _, e := range m.entities {
		if e.Status == model.Failed {
			n++
		}
	}
	return n
}

// short writes a duration the way a person would: 10s, 1m, 1m30s, 5m.
func short(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d/time.Second)) + "s"
	case d%time.Minute == 0:
		return strconv.Itoa(int(d/time.Minute)) + "m"
	}
	return strconv.Itoa(int(d/time.Minute)) + "m" + strconv.Itoa(int(d%time.Minute/time.Second)) + "s"
}

func (m *Model) bottomLine() string {
	if m.mode == filterMode {
		what := "entity names"
		if m.focus == focusChanges {
			what = "rows"
		}
		return fit(m.filter.View()+m.styles.Dim.Render("  filtering "+what+" · enter keep · esc clear"), m.width)
	}
	return fit(m.help.View(helpLine{m}), m.width)
}

// panes lays out the list and the diff pane side by side, or the focused
// one alone on a narrow terminal.
func (m *Model) body() []string {
	h := m.bodyHeight()
	if !m.split() {
		return m.panes[m.focus].View()
	}
	left, right := m.list.View(), m.changes.View()
	lw, dw := m.listWidth(), m.diffWidth()
	sep := m.styles.Sep.Render("│")
	out := make([]string, h)
	for i := range out {
		var l, r string
		if i < len(left) {
			l = left[i]
		}
		if i < len(right) {
			r = right[i]
		}
		out[i] = pad(l, lw) + sep + fit(r, dw)
	}
	return out
}

func (m *Model) title(text string, on bool) string {
	if on {
		return m.styles.TitleOn.Render("▸ " + text)
	}
	return m.styles.Title.Render("  " + text)
}

// retryText says why a page is being tried again and when, in the words
// every front end uses (RetryInfo.String).
func retryText(name string, r *deltaclient.RetryInfo) string {
	return termtext.Sanitize(name) + ": " + r.String()
}

// progressText says how far a baseline has come: pages, records, bytes,
// speed, and the time left when the server gave @odata.count.
func (m *Model) progressText(e *entity) string {
	p := e.shown
	s := fmt.Sprintf("%s, %s, %s", plural(p.Pages, "page"), plural(p.Records, "record"), bytesText(p.Bytes))
	elapsed := m.now().Sub(e.started)
	if elapsed < time.Second || p.Records == 0 {
		return s
	}
	rate := float64(p.Records) / elapsed.Seconds()
	s += fmt.Sprintf(", %s records/s", count(int(rate)))
	if p.Count > int64(p.Records) {
		s += ", about " + short(time.Duration(float64(p.Count-int64(p.Records))/rate*float64(time.Second))) + " left"
	}
	return s
}

func bytesText(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// render styles the row for width w, once per width. A long field or
// re-baseline header takes several lines, joined with "\n".
func (l *line) render(st *Styles, w int) string {
	if l.styledW == w && l.styled != "" {
		return l.styled
	}
	var s string
	text := l.Text()
	switch l.kind {
	case lineQuiet:
		s = st.Dim.Render(fit("── "+text+" ", w))
	case lineHeader:
		style := st.RoundHeader
		if l.round.Via != "" {
			style = st.Rebaseline
		}
		parts := wrapText("── "+text, w)
		for i := range parts {
			parts[i] = style.Render(fit(parts[i], w))
		}
		s = strings.Join(parts, "\n")
	case lineAdded:
		s = st.Added.Render(fit(text, w))
	case lineUpdated:
		s = st.Updated.Render(fit(text, w))
	case lineDeleted:
		s = st.Deleted.Render(fit(text, w))
	case lineField:
		f := l.round.Changes[l.change].Fields[l.field]
		s = renderField(st, f.Path, f.Old, f.New, w)
	}
	l.styled, l.styledW = s, w
	return s
}
