// Package track follows the changes of one entity set: it takes baselines
// and delta rounds with deltaclient and keeps their result in a model
// snapshot. It is the one place that needs both, so the TUI and the
// headless commands share it; its methods do I/O and belong in a tea.Cmd
// or a goroutine, never in Update.
package track

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/deltascope/deltascope/deltaclient"
	"github.com/deltascope/deltascope/model"
	"github.com/deltascope/deltascope/store"
)

// Tracker holds one entity set's snapshot and delta link, or, for a set
// without delta links, what polling needs. Its methods are safe to call
// from several goroutines. Operations (Baseline, Poll, Rebaseline) run one
// at a time behind a gate, so a round and a re-baseline never interleave;
// the state itself is guarded by a short lock never held across network
// I/O, so DeltaLink and PollState answer at once during a round.
type Tracker struct {
	Name   string // entity set name, as shown
	URL    string // the collection (or delta function) URL baselines start from
	Client *deltaclient.Client

	// Clock stamps rounds; set it before first use (tests fix it).
	Clock func() time.Time

	// DeltaOnly refuses to poll: a set without delta links stays an
	// *UnsupportedError (watch --delta-only).
	DeltaOnly bool
	// Hints say what $metadata knows about the set, for choosing a poll
	// method; the zero value polls by etag scan or full read.
	Hints PollHints
	// ScanEvery runs the deletion scan of the timestamp method every N
	// rounds; 0 or 1 means every round.
	ScanEvery int
	// Overlap is how far before the watermark the timestamp method reads
	// again; 0 means DefaultOverlap.
	Overlap time.Duration

	gate chan struct{} // held by the one operation running

	mu        sync.Mutex // guards what follows; held briefly, never across network I/O
	snap      *model.Snapshot
	deltaLink string
	seq       int
	poll      *PollState // nil while following delta links

	session *store.Session // nil: nothing outlives the process
}

// New returns a tracker with no baseline yet. Its client is c with its
// credentials kept on url's origin (unless c names one already): delta
// links and 410 Locations elsewhere never get them.
func New(name, url string, c *deltaclient.Client) *Tracker {
	return &Tracker{Name: name, URL: url, Client: c.WithOrigin(url), Clock: time.Now, gate: make(chan struct{}, 1)}
}

// acquire waits for the gate (or for ctx to end) and returns its release.
func (t *Tracker) acquire(ctx context.Context) (func(), error) {
	select {
	case t.gate <- struct{}{}:
		return func() { <-t.gate }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// ErrNoBaseline is returned by Poll before a baseline completed.
var ErrNoBaseline = errors.New("no baseline yet")

// Baseline takes the first baseline. The returned round stands for it:
// Baseline is set and Records is the record count; it has no changes.
//
// A set without delta links is followed by polling instead (unless
// DeltaOnly): the baseline is then a plain read and PollState says how
// later rounds find changes.
func (t *Tracker) Baseline(ctx context.Context, progress func(deltaclient.Progress)) (*model.Round, error) {
	release, err := t.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	return t.baseline(ctx, t.URL, progress)
}

// baseline replaces the snapshot with a new baseline of url; the gate is
// held.
func (t *Tracker) baseline(ctx context.Context, url string, progress func(deltaclient.Progress)) (*model.Round, error) {
	start := t.Clock()
	w, err := t.startStoring()
	if err != nil {
		return nil, err
	}
	snap, res, err := t.fetchBaseline(ctx, url, progress, w)
	var ue *deltaclient.UnsupportedError
	if errors.As(err, &ue) && !t.DeltaOnly {
		return t.pollBaseline(ctx, start, snap, res, w, ue, progress)
	}
	if err != nil {
		if w != nil {
			w.Abort()
		}
		return nil, err
	}
	seq := 0
	if w != nil {
		st, err := w.Commit(res.DeltaLink, snap.Len(), start, nil)
		if err != nil {
			return nil, err
		}
		seq = st.Seq
	}
	t.mu.Lock()
	t.snap, t.deltaLink, t.seq, t.poll = snap, res.DeltaLink, seq, nil
	t.mu.Unlock()
	return &model.Round{Baseline: true, Seq: seq, Time: start, Duration: t.Clock().Sub(start), Pages: res.Pages, Bytes: res.Bytes, Records: snap.Len()}, nil
}

// Poll fetches one delta round from the current delta link and applies it.
// On any error the snapshot and the link stay as they were.
//
// A polling tracker runs a poll round instead (see PollState), with the
// same promise: a round that fails part way changes nothing.
func (t *Tracker) Poll(ctx context.Context, progress func(deltaclient.Progress)) (*model.Round, error) {
	release, err := t.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	t.mu.Lock()
	snap, link, polling := t.snap, t.deltaLink, t.poll != nil
	t.mu.Unlock()
	if snap == nil {
		return nil, ErrNoBaseline
	}
	if polling {
		return t.pollRound(ctx, progress)
	}
	if link == "" {
		return nil, &deltaclient.GoneError{Status: http.StatusGone, Message: "the stored delta link belongs to another address of the service; a new baseline is compared with the stored snapshot"}
	}
	start := t.Clock()
	// Each page is applied as it arrives, while the next is fetched and
	// decoded; a round that fails part way is rolled back. t.mu is held
	// for each page's apply, never across the network, and Records waits
	// for the gate, so no one sees a round half applied.
	var a *model.Applier
	var buf []model.Entry
	// With a session, the round's history is compressed page by page
	// beside the download, so its commit has little left to do.
	var enc *store.RoundEncoder
	if t.session != nil {
		enc = store.NewRoundEncoder()
	}
	res, err := t.Client.DeltaPages(ctx, link, progress, func(page []deltaclient.Entry) {
		buf = appendEntries(buf[:0], page)
		t.mu.Lock()
		if a == nil {
			a = t.snap.Begin(len(page))
		}
		a.Add(buf)
		if enc != nil {
			enc.Feed(a.Changes())
		}
		t.mu.Unlock()
	})
	t.mu.Lock()
	defer t.mu.Unlock()
	if a == nil {
		a = t.snap.Begin(0)
	}
	if err != nil {
		a.Rollback()
		if enc != nil {
			enc.Abort()
		}
		return nil, err
	}
	r := a.Finish()
	r.Seq, r.Time, r.Duration, r.Pages, r.Bytes = t.seq+1, start, t.Clock().Sub(start), res.Pages, res.Bytes
	if err := t.commitEncodedRound(r, res.DeltaLink, nil, enc); err != nil {
		return nil, err
	}
	t.deltaLink = res.DeltaLink
	t.seq++
	return r, nil
}

// Rebaseline takes a new baseline from url ("" means the original URL; after
// a 410 pass the Location) and compares it with the old snapshot: the round
// it returns holds every difference, marked via re-baseline, so changes
// made while the link was expired are not lost. Without an old snapshot it
// is the same as Baseline. On error the old snapshot stays.
//
// A polling tracker takes a fresh full read instead and compares it the
// same way; the poll method stays.
func (t *Tracker) Rebaseline(ctx context.Context, url string, progress func(deltaclient.Progress)) (*model.Round, error) {
	release, err := t.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	t.mu.Lock()
	old, polling := t.snap, t.poll != nil
	t.mu.Unlock()
	if old == nil {
		return t.baseline(ctx, t.URL, progress)
	}
	if polling {
		return t.pollRebaseline(ctx, progress)
	}
	if url == "" {
		url = t.URL
	} else if err := t.Client.CheckLink(url, "410 Location"); err != nil {
		return nil, err
	}
	start := t.Clock()
	w, err := t.startStoring()
	if err != nil {
		return nil, err
	}
	snap, res, err := t.fetchBaseline(ctx, url, progress, w)
	var ue *deltaclient.UnsupportedError
	if errors.As(err, &ue) && !t.DeltaOnly {
		// Delta links are gone for good (Business Central since 2024
		// wave 1): poll from here on; this read is compared as usual.
		return t.pollSwitch(ctx, start, old, snap, res, w, ue, progress)
	}
	if err != nil {
		if w != nil {
			w.Abort()
		}
		return nil, err
	}
	r := model.Compare(old, snap)
	r.Seq, r.Time, r.Duration, r.Pages, r.Bytes = t.seq+1, start, t.Clock().Sub(start), res.Pages, res.Bytes
	if w != nil {
		if _, err := w.Commit(res.DeltaLink, snap.Len(), start, r); err != nil {
			return nil, err
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.snap, t.deltaLink = snap, res.DeltaLink
	t.seq++
	return r, nil
}

// fetchBaseline builds a new snapshot page by page as the baseline
// arrives; it is only returned once every page did.
// With w, each page is stored as it comes too; on error w is aborted.
func (t *Tracker) fetchBaseline(ctx context.Context, url string, progress func(deltaclient.Progress), w *store.BaselineWriter) (*model.Snapshot, *deltaclient.Result, error) {
	return t.fill(ctx, t.Client.BaselinePages, url, progress, w, 0)
}

// fill reads a whole set with fetch (a baseline or a plain read) into a
// new snapshot, page by page as they arrive, and into w when not nil
// (aborted on error). size is how many records to expect, 0 if unknown.
// A baseline that ended without a deltaLink (*UnsupportedError with
// NoDeltaLink) still read every page: its snapshot comes back with the
// error, whole, as a plain read.
func (t *Tracker) fill(ctx context.Context, fetch func(context.Context, string, func(deltaclient.Progress), func([]deltaclient.Entry)) (*deltaclient.Result, error),
	url string, progress func(deltaclient.Progress), w *store.BaselineWriter, size int) (*model.Snapshot, *deltaclient.Result, error) {
	var snap *model.Snapshot
	var buf []model.Entry
	report := progress
	// Progress counts distinct records (the snapshot's size), not the
	// entries received: a server that sends records again counts once.
	// Page reports come from the goroutine that fills snap; retry
	// reports (from others) leave the count as it was.
	progress = func(p deltaclient.Progress) {
		if p.Retry == nil && snap != nil {
			if p.Pages == 1 && p.Count > int64(snap.Len()) && p.Count < 1<<31 {
				// The first page told the set's size (@odata.count):
				// size the index for it at once.
				snap.Grow(int(p.Count) - snap.Len())
			}
			p.Records = snap.Len()
		}
		if report != nil {
			report(p)
		}
	}
	res, err := fetch(ctx, url, progress, func(page []deltaclient.Entry) {
		if snap == nil {
			snap = model.NewSnapshot(max(len(page), size+size/16))
		}
		buf = appendEntries(buf[:0], page)
		snap.Add(buf)
		if w != nil {
			w.Add(buf) // an error is kept and returned by Commit
		}
	})
	var ue *deltaclient.UnsupportedError
	if err != nil && !(errors.As(err, &ue) && ue.NoDeltaLink && res != nil) {
		if w != nil {
			w.Abort()
		}
		return nil, nil, err
	}
	if snap == nil {
		snap = model.NewSnapshot(0)
	}
	return snap, res, err
}

// DeltaLink is the link the next round will use.
func (t *Tracker) DeltaLink() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.deltaLink
}

// Records returns a copy of the snapshot's records by id, for checks. It
// waits for a running operation to end, so it never sees a delta round
// half applied.
func (t *Tracker) Records() map[string][]byte {
	t.gate <- struct{}{}
	defer func() { <-t.gate }()
	t.mu.Lock()
	defer t.mu.Unlock()
	out := map[string][]byte{}
	if t.snap != nil {
		t.snap.Each(func(id string, raw []byte) bool {
			out[id] = raw
			return true
		})
	}
	return out
}

// appendEntries converts the client's entries to the model's, links
// dropped.
func appendEntries(out []model.Entry, in []deltaclient.Entry) []model.Entry {
	for i := range in {
		e := &in[i]
		switch e.Kind {
		case deltaclient.Record:
			out = append(out, model.Entry{ID: e.ID, Raw: e.Raw})
		case deltaclient.Removed:
			out = append(out, model.Entry{ID: e.ID, Removed: true, Reason: e.Reason})
		}
	}
	return out
}
