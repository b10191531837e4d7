package ui

import (
	tea "github.com/charmbracelet/bubbletea"
)

// Baselines and re-baselines download whole entity sets, and so do the
// rounds of a set followed by polling (it has no delta links), so at most
// Model.concurrency of them run at a time; the rest wait in m.queue, in
// order, and show as "queued". The entity the user is looking at may use
// one slot more, so selecting a queued entity starts it without waiting
// for the others. Delta rounds are small and are not queued.

// heavy says whether op on e reads a whole entity set.
func (e *entity) heavy(op opKind) bool { return op != opRound || e.method != "" }

// baselining counts the heavy operations in flight.
func (m *Model) baselining() int {
	n := 0
	for _, e := range m.entities {
		if e.busy && e.heavy(e.op) {
			n++
		}
	}
	return n
}

// admit says whether heavy op on entity i may start now; if not, the
// entity joins the queue (once) and starts when its turn comes.
func (m *Model) admit(i int, op opKind) bool {
	n := m.baselining()
	sel, _ := m.selected()
	if n < m.concurrency || (i == sel && n < m.concurrency+1) {
		m.unqueue(i)
		return true
	}
	e := m.entities[i]
	if !e.waiting {
		e.waiting = true
		m.queue = append(m.queue, i)
	}
	e.waitOp = op
	return false
}

func (m *Model) unqueue(i int) {
	e := m.entities[i]
	if !e.waiting {
		return
	}
	e.waiting = false
	for j, q := range m.queue {
		if q == i {
			m.queue = append(m.queue[:j], m.queue[j+1:]...)
			break
		}
	}
}

// dequeue starts the waiting entities that fit now: the selected one
// first, then in the order they were queued.
func (m *Model) dequeue() tea.Cmd {
	var cmds []tea.Cmd
	if sel, e := m.selected(); e != nil && e.waiting {
		cmds = append(cmds, m.start(sel, e.waitOp))
	}
	for len(m.queue) > 0 && m.baselining() < m.concurrency {
		i := m.queue[0]
		cmds = append(cmds, m.start(i, m.entities[i].waitOp))
		if len(m.queue) > 0 && m.queue[0] == i {
			break // cannot happen: start either runs i or drops it from the queue
		}
	}
	return tea.Batch(cmds...)
}

// queued counts the entities waiting for a baseline.
func (m *Model) queued() int { return len(m.queue) }
