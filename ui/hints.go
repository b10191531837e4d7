package ui

import "github.com/deltascope/deltascope/model"

// pollHint tells a newcomer (or a demo audience) when the first delta
// round of e will come, until it has: "next poll in 7s · r to poll now".
func (m *Model) pollHint(e *entity) string {
	if e == nil || !e.Baselined || e.polled || e.busy || e.Status != model.Tracking {
		return ""
	}
	if !m.auto {
		return "auto-refresh is off · r to poll now, a to turn it on"
	}
	return "next poll in " + short(max(m.next.Sub(m.now()), 0)) + " · r to poll now"
}

// legend is the key to the row symbols, shown in the changes pane's title
// on terminals of at least legendWidth columns.
const (
	legend      = "+ added  ~ updated  - deleted"
	legendWidth = 100
)
