package ui

import (
	"fmt"

	"github.com/deltascope/deltascope/model"
)

// state is what the entity list says about an entity. The style of the
// status word is looked up by it, so a new word cannot silently lose its
// colour.
type state uint8

const (
	stateLoading state = iota
	stateQueued
	stateTracking
	statePolling
	statePaused
	stateRetrying
	stateUnsupported
	stateExpired
	stateError
	stateCount // number of states, for tables indexed by state
)

// status is what the list shows for e: its state and the words for it.
func (m *Model) status(e *entity) (state, string) {
	switch {
	case e.waiting:
		return stateQueued, "queued"
	case e.busy && e.shown.Retry != nil:
		return stateRetrying, fmt.Sprintf("retrying %d/%d", e.shown.Retry.Attempt, e.shown.Retry.Max)
	case e.busy && (e.op != opRound || !e.Baselined):
		p := e.shown
		if p.Pages == 0 {
			return stateLoading, "loading"
		}
		if p.Count > 0 && p.Records > 0 {
			per := max(1, p.Records/p.Pages)
			return stateLoading, fmt.Sprintf("loading %d/%d pages", p.Pages, (int(p.Count)+per-1)/per)
		}
		return stateLoading, "loading " + plural(p.Pages, "page")
	case e.Status == model.Tracking && !m.auto:
		return statePaused, "paused"
	}
	switch e.Status {
	case model.Loading:
		return stateLoading, "loading"
	case model.Tracking:
		if e.method != "" {
			// A set without delta links: say plainly it is polled (the
			// title adds how; the list is too narrow for it).
			return statePolling, "polling"
		}
		return stateTracking, "tracking"
	case model.Unsupported:
		return stateUnsupported, "unsupported"
	case model.Expired:
		return stateExpired, "expired"
	}
	return stateError, "error"
}

// statusWord is the words of status, for titles.
func (m *Model) statusWord(e *entity) string {
	st, w := m.status(e)
	switch {
	case e.method != "" && st == statePolling:
		w += " · " + e.method
	case e.method != "" && st == statePaused:
		w = "polling, paused · " + e.method
	}
	return w
}
