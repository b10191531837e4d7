package store

import "github.com/deltascope/deltascope/model"

// RoundEncoder compresses a round's history blocks while the round is
// still being applied (page by page, as a delta round arrives), so the
// commit that must happen before the round is shown has only the last
// block left to encode. Feed and Commit come from one goroutine.
type RoundEncoder struct {
	next   int // changes handed to the encoding goroutine
	jobs   chan []model.Change
	blocks [][]byte
	done   chan struct{}
	closed bool
}

// NewRoundEncoder starts an encoder for one round.
func NewRoundEncoder() *RoundEncoder {
	e := &RoundEncoder{jobs: make(chan []model.Change, 1024), done: make(chan struct{})}
	go func() {
		defer close(e.done)
		var sc blockScratch
		for cs := range e.jobs {
			e.blocks = append(e.blocks, encodeBlock(cs, &sc))
		}
	}()
	return e
}

// Feed takes the round's changes so far: what an earlier Feed had is
// their unchanged prefix. Each full block is encoded in the background.
func (e *RoundEncoder) Feed(changes []model.Change) {
	for !e.closed && e.next+blockChanges <= len(changes) {
		e.jobs <- changes[e.next : e.next+blockChanges : e.next+blockChanges]
		e.next += blockChanges
	}
}

// blocksOf encodes the rest of changes (the whole round) and returns
// every block, or nil when the feeding did not match the round.
func (e *RoundEncoder) blocksOf(changes []model.Change) [][]byte {
	if e.closed || e.next > len(changes) {
		e.Abort()
		return nil
	}
	if e.next < len(changes) {
		e.jobs <- changes[e.next:]
		e.next = len(changes)
	}
	e.Abort()
	if len(e.blocks) != (len(changes)+blockChanges-1)/blockChanges {
		return nil
	}
	return e.blocks
}

// Abort stops the encoder; a round not committed calls it.
func (e *RoundEncoder) Abort() {
	if !e.closed {
		e.closed = true
		close(e.jobs)
	}
	<-e.done
}
