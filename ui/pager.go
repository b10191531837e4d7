package ui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
)

// pager is a titled, scrollable page of styled, sanitised lines, wrapped
// to the width once per width (at spaces where it can, so prose is not
// cut mid-word): the record view, the request detail and the delta link
// view are pagers with their own content and keys.
type pager struct {
	title string
	lines []string // styled, sanitised, before wrapping
	vp    viewport.Model
	width int
}

func newPager(title string, lines []string) pager {
	return pager{title: title, lines: lines, vp: viewport.New(0, 0)}
}

func (p *pager) setSize(w, h int) {
	p.vp.Width, p.vp.Height = w, max(1, h-1)
	if w != p.width {
		p.width = w
		var wrapped []string
		for _, l := range p.lines {
			wrapped = append(wrapped, wrapLine(l, max(10, w))...)
		}
		p.vp.SetContent(strings.Join(wrapped, "\n"))
	}
}

// rewrap wraps the lines again, after some were added.
func (p *pager) rewrap() {
	w := p.width
	p.width = -1
	p.setSize(w, p.vp.Height+1)
}

func (p *pager) update(msg tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	p.vp, cmd = p.vp.Update(msg)
	return cmd
}

// view is the title, with the window's place when it does not show all,
// and the window.
func (p *pager) view() []string {
	title := "▸ " + p.title
	if n := p.vp.TotalLineCount(); n > p.vp.Height {
		title += fmt.Sprintf(" · lines %d-%d of %d", p.vp.YOffset+1, min(n, p.vp.YOffset+p.vp.Height), n)
	}
	return append([]string{title}, strings.Split(p.vp.View(), "\n")...)
}

// wrapLine wraps prose at spaces; a line with a word longer than the
// width (a URL, a token) is cut at the width instead, so it is not pushed
// below an empty line.
func wrapLine(l string, w int) []string {
	lines := strings.Split(ansi.Wordwrap(l, w, ""), "\n")
	for _, x := range lines {
		if ansi.StringWidth(x) > w {
			return strings.Split(ansi.Hardwrap(l, w, true), "\n")
		}
	}
	return lines
}
