package ui

import (
	tea "github.com/charmbracelet/bubbletea"
)

// Mouse (unless --no-mouse): the wheel scrolls the pane under the pointer,
// a click selects the entity or row under it. Keys stay the way to do
// everything; the mouse is a shortcut.

const wheelStep = 3

func (m *Model) mouse(msg tea.MouseMsg) tea.Cmd {
	if !m.mouseOn {
		return nil
	}
	wheel := 0
	switch msg.Button {
	case tea.MouseButtonWheelUp:
		wheel = -wheelStep
	case tea.MouseButtonWheelDown:
		wheel = wheelStep
	case tea.MouseButtonLeft:
		if msg.Action != tea.MouseActionPress {
			return nil
		}
	default:
		return nil
	}
	switch m.mode {
	case recordMode:
		return m.record.update(msg)
	case helpMode:
		n := len(m.helpLines())
		m.helpScroll.offset = min(max(0, m.helpScroll.offset+wheel), max(0, n-(m.bodyHeight()-1)))
		return nil
	case logMode:
		m.logMove(wheel)
		return nil
	case requestMode:
		return m.request.update(msg)
	case filterMode:
		return nil
	}
	y := msg.Y - chromeTop
	if y < 0 || y >= m.bodyHeight() {
		return nil
	}
	onList := m.focus == focusList
	if m.split() {
		onList = msg.X < m.listWidth()
	}
	if onList {
		p := m.list
		if wheel != 0 {
			p.cursor.move(wheel/wheelStep, len(p.visible), p.rows())
			return nil
		}
		m.focus = focusList
		if row := p.cursor.offset + (y-1)/2; y >= 1 && row < len(p.visible) {
			p.cursor.cursor = row
		}
		return nil
	}
	_, e := m.selected()
	if e == nil {
		return nil
	}
	if wheel != 0 {
		e.diff.move(wheel, e.rows(), m.changes.rowsShown(e))
		if e.diff.cursor == 0 {
			e.unseen = 0
		}
		return nil
	}
	m.focus = focusChanges
	if y < len(m.changes.rowAt) {
		if row := m.changes.rowAt[y]; row >= 0 {
			e.diff.cursor = row
		}
	}
	return nil
}
