package deltaclient

import (
	"bytes"
	"context"
	"runtime"
	"sync/atomic"
)

// pipeline fetches and decodes pages in goroutines, up to three at a
// time: when a page's body has arrived, the next page (its nextLink
// guessed from the body's tail) is fetched while this one decodes, so download and decoding
// overlap and both cores decode. The loop in run takes results in order
// and checks each guess against the decoded page.
type pipeline struct {
	c       *Client
	ctx     context.Context
	origin  string
	slots   chan struct{} // pages fetched or decoded but not yet taken
	onRetry func(*RetryInfo)
}

type pageJob struct {
	link   string
	done   chan pageResult
	cancel context.CancelFunc
	next   atomic.Pointer[pageJob] // the page after, started on a guess
}

type pageResult struct {
	fetched
	page page
	slot bool // the job holds a slot, released by whoever takes the result
}

// drop cancels a page fetched on a wrong guess, and the ones it started.
func (pl *pipeline) drop(j *pageJob) {
	j.cancel()
	go func() {
		if r := <-j.done; r.slot {
			<-pl.slots
		}
		if n := j.next.Load(); n != nil {
			pl.drop(n)
		}
	}()
}

// start fetches and decodes link in a goroutine. budget is how many more
// pages may be started ahead of it. Every job's context is a child of the
// walk's, never of the job that guessed it: a chain of a thousand pages
// nested a thousand contexts deep, and each Deadline or Value lookup of a
// request (several per read) walked the whole chain, a cost that grew
// with the square of the page count. drop cancels the guessed jobs in turn.
//
// n is the page's number in the walk, from 1: a retry names it, since
// with pages fetched ahead the walk may not have counted the one before.
func (pl *pipeline) start(link string, n int, track bool, budget int) *pageJob {
	ctx, cancel := context.WithCancel(pl.ctx)
	j := &pageJob{link: link, done: make(chan pageResult, 1), cancel: cancel}
	onRetry := func(r *RetryInfo) {
		r.Page = n
		pl.onRetry(r)
	}
	go func() {
		select {
		case pl.slots <- struct{}{}:
		case <-ctx.Done():
			j.done <- pageResult{fetched: fetched{err: ctx.Err()}}
			return
		}
		var p page
		for attempt := 1; ; attempt++ {
			f := pl.c.fetchWithRetry(ctx, link, pl.origin, track, onRetry)
			if f.err != nil {
				j.done <- pageResult{fetched: f, slot: true}
				return
			}
			if guess := guessNextLink(f.body); guess != "" && budget > 0 && attempt == 1 {
				if next, err := resolve(link, guess); err == nil && next != link && pl.c.checkOrigin(pl.origin, next, "nextLink") == nil {
					j.next.Store(pl.start(next, n+1, false, budget-1))
					// Let the next page's request go out now: a new
					// goroutine waits on this P until its current one
					// blocks, and decoding this page first held every
					// request back by a page's decoding (about a fifth of
					// a baseline's wall time went to that wait).
					runtime.Gosched()
				}
			}
			p, f.err = decodePage(f.body, pl.c.Identity)
			if pl.c.retryTruncated(ctx, f.err, attempt, onRetry) {
				continue
			}
			j.done <- pageResult{fetched: f, page: p, slot: true}
			return
		}
	}()
	return j
}

// fetched is one page's body, read whole.
type fetched struct {
	body        []byte
	applied     bool
	contentType string
	n           int64
	err         error
}

// guessNextLink finds a top-level nextLink by looking at the page's last
// bytes (Business Central and the demo put it after the value array) or
// first bytes (Graph puts it before). It is only a hint for fetching
// ahead: the decoded page decides.
func guessNextLink(body []byte) string {
	for _, part := range [][]byte{body[max(0, len(body)-4096):], body[:min(len(body), 4096)]} {
		for _, key := range []string{`"@odata.nextLink":"`, `"@nextLink":"`} {
			i := bytes.LastIndex(part, []byte(key))
			if i < 0 {
				continue
			}
			rest := part[i+len(key):]
			end := bytes.IndexByte(rest, '"')
			if end < 0 || bytes.IndexByte(rest[:end], '\\') >= 0 {
				return ""
			}
			return string(rest[:end])
		}
	}
	return ""
}
