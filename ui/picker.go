package ui

import (
	"context"
	"fmt"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/deltascope/deltascope/deltaclient"
	"github.com/deltascope/deltascope/internal/termtext"
)

// picker asks which company to open when a service has several.
type picker struct {
	companies []deltaclient.Company
	cursor    int
	chosen    bool
	styles    Styles
	width     int
}

func (p *picker) Init() tea.Cmd { return nil }

func (p *picker) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		p.width = msg.Width
	case tea.KeyMsg:
		switch msg.String() {
		case "up", "k":
			p.cursor = max(0, p.cursor-1)
		case "down", "j":
			p.cursor = min(len(p.companies)-1, p.cursor+1)
		case "enter":
			p.chosen = true
			return p, tea.Quit
		case "q", "esc", "ctrl+c":
			return p, tea.Quit
		}
	}
	return p, nil
}

func (p *picker) View() string {
	var b strings.Builder
	b.WriteString(p.styles.TitleOn.Render("▸ This service has several companies. Which one?") + "\n\n")
	for i, c := range p.companies {
		mark := "  "
		name := termtext.Sanitize(c.Name)
		if i == p.cursor {
			mark, name = "> ", p.styles.Cursor.Render(name)
		}
		b.WriteString(fit(fmt.Sprintf("%s%s  %s", mark, name, p.styles.Dim.Render(termtext.Sanitize(c.ID))), max(p.width, 20)) + "\n")
	}
	b.WriteString("\n" + p.styles.Dim.Render("↑/↓ choose · enter open · q cancel · --company skips this"))
	return b.String()
}

// PickCompany shows the companies and returns the id chosen; ok is false
// when the user cancelled.
func PickCompany(ctx context.Context, companies []deltaclient.Company) (id string, ok bool, err error) {
	p := &picker{companies: companies, styles: DefaultStyles(), width: 80}
	if _, err := tea.NewProgram(p, tea.WithContext(ctx), tea.WithAltScreen()).Run(); err != nil {
		return "", false, err
	}
	if !p.chosen {
		return "", false, nil
	}
	return companies[p.cursor].ID, true, nil
}
