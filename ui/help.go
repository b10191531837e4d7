package ui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
)

// The ? overlay scrolls like any pane: on a small terminal its end is a
// j, pgdn or G away.

// helpLines is the whole overlay, before scrolling.
func (m *Model) helpLines() []string {
	st := m.styles
	// The overlay tells what works once it is closed.
	cols := m.keysFor(normalMode).FullHelp()
	names := []string{"Delta rounds", "Moving", "Panes and views"}
	var blocks [][]string
	widths := make([]int, len(cols))
	for ci, col := range cols {
		block := []string{st.Name.Render(names[ci])}
		for _, b := range col {
			h := b.Help()
			state := ""
			if !b.Enabled() {
				state = st.Dim.Render(" (not now)")
			}
			block = append(block, st.HelpKey.Render(fmt.Sprintf("%-6s", h.Key))+" "+h.Desc+state)
		}
		for _, l := range block {
			widths[ci] = max(widths[ci], ansi.StringWidth(l)+2)
		}
		blocks = append(blocks, block)
	}
	total := 0
	for _, w := range widths {
		total += w
	}
	var out []string
	// One space of margin; the last column needs no gap after it.
	if 1+total-2 <= m.width {
		// Side by side, each column as wide as its longest line.
		rows := 0
		for _, bl := range blocks {
			rows = max(rows, len(bl))
		}
		for r := 0; r < rows; r++ {
			line := " "
			for ci, bl := range blocks {
				cell := ""
				if r < len(bl) {
					cell = bl[r]
				}
				if ci == len(blocks)-1 {
					line += cell
				} else {
					line += pad(cell, widths[ci])
				}
			}
			out = append(out, line)
		}
	} else {
		for i, bl := range blocks {
			if i > 0 {
				out = append(out, "")
			}
			for _, l := range bl {
				out = append(out, " "+l)
			}
		}
	}
	out = append(out, "")
	for _, note := range helpNotes {
		for _, l := range strings.Split(ansi.Wrap(note, max(10, m.width-2), " "), "\n") {
			out = append(out, st.Dim.Render(" "+l))
		}
	}
	return out
}

var helpNotes = []string{
	"+ added   ~ updated (field: old -> new)   - deleted (reason)",
	"Filter: /text keeps the rows that mention it, with their record and round; a leading + ~ or - keeps one kind: /- deletions, /~ creditLimit updates of creditLimit.",
	"410 expired: b takes a new baseline and shows what changed meanwhile; B does it for every expired entity.",
	"q and esc go back from a view or this help; q quits from the main screen.",
}

// helpView is the overlay's visible part under its title.
func (m *Model) helpView(h int) []string {
	lines := m.helpLines()
	rows := max(1, h-1)
	m.helpScroll.offset = min(max(0, m.helpScroll.offset), max(0, len(lines)-rows))
	title := "Help"
	if len(lines) > rows {
		title += fmt.Sprintf(" · lines %d-%d of %d · j/k to scroll", m.helpScroll.offset+1, min(len(lines), m.helpScroll.offset+rows), len(lines))
	}
	out := []string{m.title(title, true)}
	end := min(len(lines), m.helpScroll.offset+rows)
	return append(out, lines[m.helpScroll.offset:end]...)
}

// helpKey scrolls or closes the overlay.
func (m *Model) helpKey(msg tea.KeyMsg) tea.Cmd {
	k := m.keys
	rows := max(1, m.bodyHeight()-1)
	n := len(m.helpLines())
	last := max(0, n-rows)
	s := &m.helpScroll
	switch {
	case key.Matches(msg, k.Help, k.Back) || msg.String() == "q":
		m.mode = m.helpFrom
	case msg.String() == "ctrl+c":
		return tea.Quit
	case key.Matches(msg, k.Up):
		s.offset = max(0, s.offset-1)
	case key.Matches(msg, k.Down):
		s.offset = min(last, s.offset+1)
	case key.Matches(msg, k.PageUp):
		s.offset = max(0, s.offset-rows)
	case key.Matches(msg, k.PageDown):
		s.offset = min(last, s.offset+rows)
	case key.Matches(msg, k.Top):
		s.offset = 0
	case key.Matches(msg, k.Bottom):
		s.offset = last
	}
	s.cursor = s.offset
	return nil
}
