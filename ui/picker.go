package ui

import (
	"fmt"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/deltascope/deltascope/deltaclient"
	"github.com/deltascope/deltascope/internal/termtext"
)

// picker asks which company to open when a service has several, at start
// and when the user switches company.
type picker struct {
	companies []deltaclient.Company
	cursor    int
	chosen    bool
	cancelled bool
	styles    Styles
	width     int
	current   string // the company open now, marked in the list; "" at start
}

func newPicker(companies []deltaclient.Company, current string, st Styles, width int) *picker {
	p := &picker{companies: companies, styles: st, width: width, current: current}
	for i, c := range companies {
		if c.ID == current {
			p.cursor = i
		}
	}
	return p
}

// update moves the cursor, or ends with chosen or cancelled set.
func (p *picker) update(msg tea.KeyMsg) {
	switch msg.String() {
	case "up", "k":
		p.cursor = max(0, p.cursor-1)
	case "down", "j":
		p.cursor = min(len(p.companies)-1, p.cursor+1)
	case "g", "home":
		p.cursor = 0
	case "G", "end":
		p.cursor = len(p.companies) - 1
	case "enter":
		p.chosen = true
	case "q", "esc", "ctrl+c":
		p.cancelled = true
	}
}

func (p *picker) choice() deltaclient.Company { return p.companies[p.cursor] }

func (p *picker) view(h int) string {
	var b strings.Builder
	title := "This service has several companies. Which one?"
	if p.current != "" {
		title = "Switch to which company?"
	}
	head := strings.Split(ansi.Wrap("▸ "+title, max(p.width, 20), " "), "\n")
	for _, l := range head {
		b.WriteString(p.styles.TitleOn.Render(l) + "\n")
	}
	b.WriteString("\n")
	rows := max(1, h-len(head)-3) // the title, two blank lines and the keys
	first := max(0, min(p.cursor-rows/2, len(p.companies)-rows))
	for i := first; i < len(p.companies) && i < first+rows; i++ {
		c := p.companies[i]
		mark := "  "
		name := termtext.Sanitize(c.Name)
		if i == p.cursor {
			mark, name = "> ", p.styles.Cursor.Render(name)
		}
		open := ""
		if c.ID == p.current {
			open = " (open now)"
		}
		b.WriteString(fit(fmt.Sprintf("%s%s%s  %s", mark, name, open, p.styles.Dim.Render(termtext.Sanitize(c.ID))), max(p.width, 20)) + "\n")
	}
	back := "q cancel · --company skips this"
	if p.current != "" {
		back = "esc/q back"
	}
	b.WriteString("\n" + p.styles.Dim.Render(fit("↑/↓ choose · enter open · "+back, max(p.width, 20))))
	return b.String()
}
