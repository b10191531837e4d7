package track

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/deltascope/deltascope/deltaclient"
	"github.com/deltascope/deltascope/internal/rawjson"
	"github.com/deltascope/deltascope/model"
	"github.com/deltascope/deltascope/store"
)

// ViaPoll marks rounds found by polling a set that has no delta links.
const ViaPoll = "poll"

// DefaultOverlap is how far back the timestamp method reads again each
// round: it covers clock skew between the service's nodes and transactions
// that commit after a later one was read.
const DefaultOverlap = 5 * time.Second

// PollMethod is how a set without delta links is followed, cheapest first.
type PollMethod string

const (
	// MethodModified reads records modified since the watermark (minus the
	// overlap) and scans the keys for deletions.
	MethodModified PollMethod = "modified"
	// MethodETag scans keys and etags, then fetches the changed records.
	MethodETag PollMethod = "etag"
	// MethodFull reads the whole set each round and compares.
	MethodFull PollMethod = "full"
)

// PollHints are what the service's $metadata says about a set, for
// choosing a poll method.
type PollHints struct {
	KeyFields []string          // key properties in key order; nil: "id"
	Types     map[string]string // Edm type by property name, where known
	Timestamp string            // a last-modified Edm.DateTimeOffset property
	ETag      bool              // the type declares optimistic concurrency
	// ETagField is the property the etag is computed from, when
	// $metadata names one (CAP's @odata.etag element).
	ETagField string
	// Method, when set, is used instead of the cheapest one that applies
	// (it still falls back when the server refuses its queries).
	Method PollMethod
}

// HintsOf turns what $metadata says of a set into poll hints.
func HintsOf(s deltaclient.EntitySchema) PollHints {
	h := PollHints{KeyFields: s.Key, Types: s.Properties, Timestamp: s.Timestamp, ETag: s.ETag}
	if len(s.ETagFields) == 1 {
		h.ETagField = s.ETagFields[0]
	}
	return h
}

// PollState is what a polling tracker needs to carry on, also after a
// restart (the session store saves and restores it with the snapshot).
type PollState struct {
	Method    PollMethod        `json:"method"`
	KeyFields []string          `json:"keyFields"`
	KeyTypes  map[string]string `json:"keyTypes,omitempty"`
	// Timestamp is the last-modified property of MethodModified; Watermark
	// the highest value of it seen so far, as the server wrote it.
	Timestamp string `json:"timestamp,omitempty"`
	Watermark string `json:"watermark,omitempty"`
	// ETagField is selected beside the keys in scans, when known.
	ETagField string `json:"etagField,omitempty"`
	// Fetch is how records are fetched by key: "in" ($filter=k in (…)),
	// "or" (k eq … or k eq …) or "one" (one request each).
	Fetch string `json:"fetch,omitempty"`
	// Unordered is set once the server refused $orderby on a scan.
	Unordered bool `json:"unordered,omitempty"`
	// NoCount is set once the server refused /$count: every scan round
	// then scans the keys.
	NoCount bool `json:"noCount,omitempty"`
	// Rounds counts poll rounds, for --scan-every.
	Rounds int `json:"rounds"`
}

// Label names the method as the status line, probe and the round event
// show it: "lastModifiedDateTime + key scan", "etag scan", "full read".
func (p PollState) Label() string {
	switch p.Method {
	case MethodModified:
		return p.Timestamp + " + key scan"
	case MethodETag:
		return "etag scan"
	}
	return "full read"
}

// PollState returns how the tracker polls; ok is false while it follows
// delta links (or has no baseline).
func (t *Tracker) PollState() (state PollState, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.poll == nil {
		return PollState{}, false
	}
	st := *t.poll
	st.KeyFields = slices.Clone(st.KeyFields)
	return st, true
}

// Method is the poll method's label, "" for a tracker on delta links.
func (t *Tracker) Method() string {
	st, ok := t.PollState()
	if !ok {
		return ""
	}
	return st.Label()
}

// maxOneByOne bounds the records fetched one request each in a round,
// when the server takes neither "in" nor "or"; past it the round reads
// the whole set.
const maxOneByOne = 200

// fullScanEvery makes every so many scan rounds of the timestamp method
// scan the keys even when the count agrees.
const fullScanEvery = 10

// maxFetch bounds the records a round fetches by key; past it the round
// reads the whole set.
const maxFetch = 2000

// fetchBatch is how many keys one fetch request names.
const fetchBatch = 40

// choose picks the cheapest method the hints and the first snapshot allow.
func (t *Tracker) choose(snap *model.Snapshot) *PollState {
	h := t.Hints
	st := &PollState{Method: MethodFull, KeyFields: h.KeyFields, ETagField: h.ETagField, Fetch: "in"}
	if len(st.KeyFields) == 0 {
		st.KeyFields = t.Client.Identity.KeyFields
	}
	var sample []byte
	snap.Each(func(_ string, raw []byte) bool {
		sample = raw
		return false
	})
	if len(st.KeyFields) == 0 && (sample == nil || rawjson.Lookup(sample, "id") != nil) {
		st.KeyFields = []string{"id"}
	}
	st.KeyTypes = map[string]string{}
	for _, k := range st.KeyFields {
		if typ := h.Types[k]; typ != "" {
			st.KeyTypes[k] = typ
		}
	}
	switch {
	case len(st.KeyFields) == 0 || h.Method == MethodFull:
		// No way to name a record in a query: read it all.
	case h.Method == MethodETag:
		st.Method = MethodETag
	case h.Timestamp != "":
		st.Method, st.Timestamp = MethodModified, h.Timestamp
		st.Watermark = maxStamp(snap, h.Timestamp, "")
	case h.ETag || sample != nil && rawjson.Lookup(sample, "@odata.etag") != nil:
		st.Method = MethodETag
	}
	return st
}

// pollBaseline makes the tracker poll: snap and res are the read a
// baseline attempt already made (a collection without a deltaLink; w,
// when storing, holds it too), or nil when the server refused change
// tracking outright and a plain read is needed.
func (t *Tracker) pollBaseline(ctx context.Context, start time.Time, snap *model.Snapshot, res *deltaclient.Result, w *store.BaselineWriter, why *deltaclient.UnsupportedError, progress func(deltaclient.Progress)) (*model.Round, error) {
	snap, res, w, err := t.pollRead(ctx, snap, res, w, why, progress)
	if err != nil {
		return nil, err
	}
	st := t.choose(snap)
	seq := 0
	if w != nil {
		// No delta link: a stored baseline with an empty link is a poll
		// baseline; the poll state goes with the first round.
		stored, err := w.Commit("", snap.Len(), start, nil)
		if err != nil {
			return nil, err
		}
		seq = stored.Seq
	}
	t.mu.Lock()
	t.snap, t.deltaLink, t.seq, t.poll = snap, "", seq, st
	t.mu.Unlock()
	return &model.Round{Baseline: true, Seq: seq, Time: start, Duration: t.Clock().Sub(start), Pages: res.Pages, Bytes: res.Bytes, Records: snap.Len(), Via: ViaPoll}, nil
}

// pollRead completes a baseline attempt that found no delta links into a
// plain read: it keeps the read the attempt made, or makes one.
func (t *Tracker) pollRead(ctx context.Context, snap *model.Snapshot, res *deltaclient.Result, w *store.BaselineWriter, why *deltaclient.UnsupportedError, progress func(deltaclient.Progress)) (*model.Snapshot, *deltaclient.Result, *store.BaselineWriter, error) {
	if snap != nil && res != nil {
		return snap, res, w, nil
	}
	if w != nil {
		w.Abort()
		var err error
		if w, err = t.startStoring(); err != nil {
			return nil, nil, nil, err
		}
	}
	snap, res, err := t.read(ctx, t.URL, progress, w, 0)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%w; reading it to poll instead failed: %w", why, err)
	}
	return snap, res, w, nil
}

// pollSwitch is a re-baseline that found the delta links gone: the read
// is compared with the old snapshot and the tracker polls from now on.
func (t *Tracker) pollSwitch(ctx context.Context, start time.Time, old, snap *model.Snapshot, res *deltaclient.Result, w *store.BaselineWriter, why *deltaclient.UnsupportedError, progress func(deltaclient.Progress)) (*model.Round, error) {
	snap, res, w, err := t.pollRead(ctx, snap, res, w, why, progress)
	if err != nil {
		return nil, err
	}
	r := model.Compare(old, snap)
	r.Seq, r.Time, r.Duration, r.Pages, r.Bytes = t.seq+1, start, t.Clock().Sub(start), res.Pages, res.Bytes
	if w != nil {
		if _, err := w.Commit("", snap.Len(), start, r); err != nil {
			return nil, err
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.snap, t.deltaLink, t.poll = snap, "", t.choose(snap)
	t.seq++
	return r, nil
}

// read takes a plain full read of url into a new snapshot, stored by w
// page by page when not nil (aborted on error).
// size is how many records to expect (the old snapshot's), 0 if unknown.
func (t *Tracker) read(ctx context.Context, url string, progress func(deltaclient.Progress), w *store.BaselineWriter, size int) (*model.Snapshot, *deltaclient.Result, error) {
	return t.fill(ctx, t.Client.ReadPages, url, progress, w, size)
}

// pollRebaseline is b on a polling tracker: a fresh full read compared with
// the old snapshot.
func (t *Tracker) pollRebaseline(ctx context.Context, progress func(deltaclient.Progress)) (*model.Round, error) {
	start := t.Clock()
	w, err := t.startStoring()
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	size := t.snap.Len()
	t.mu.Unlock()
	snap, res, err := t.read(ctx, t.URL, progress, w, size)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	old, seq, st := t.snap, t.seq, *t.poll
	t.mu.Unlock()
	r := model.Compare(old, snap)
	r.Seq, r.Time, r.Duration, r.Pages, r.Bytes = seq+1, start, t.Clock().Sub(start), res.Pages, res.Bytes
	if st.Method == MethodModified {
		st.Watermark = maxStamp(snap, st.Timestamp, st.Watermark)
	}
	if w != nil {
		if _, err := w.Commit("", snap.Len(), start, r); err != nil {
			return nil, err
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.snap, t.poll = snap, &st
	t.seq++
	return r, nil
}

// pollRound is one round of a polling tracker; the gate is held. It reads
// without the lock (only operations change the snapshot, and they hold
// the gate) and applies everything at the end, so a failure part way
// changes nothing.
func (t *Tracker) pollRound(ctx context.Context, progress func(deltaclient.Progress)) (*model.Round, error) {
	t.mu.Lock()
	st := *t.poll
	snap := t.snap
	t.mu.Unlock()
	start := t.Clock()
	p := &poller{t: t, st: &st, snap: snap, progress: progress}
	var entries []model.Entry
	var err error
	for {
		entries, err = p.round(ctx)
		var he *deltaclient.HTTPError
		if err == nil || !errors.As(err, &he) || !rejected(he) || p.st.Method == MethodFull {
			break
		}
		// The server refused the query this method needs: fall back to
		// the next one and try again in the same round.
		if p.st.Method == MethodModified && (p.st.ETagField != "" || t.Hints.ETag || hasETag(snap)) {
			p.st.Method = MethodETag
		} else {
			p.st.Method = MethodFull
		}
	}
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.snap.Apply(entries)
	st.Rounds++
	if st.Method == MethodModified {
		st.Watermark = p.watermark
	}
	r.Seq, r.Time, r.Duration, r.Pages, r.Bytes, r.Via = t.seq+1, start, t.Clock().Sub(start), p.pages, p.bytes, ViaPoll
	if err := t.commitRound(r, "", &st); err != nil {
		return nil, err
	}
	t.poll = &st
	t.seq++
	return r, nil
}

// rejected says a query was refused as such (so another method may work),
// not that the service failed.
func rejected(he *deltaclient.HTTPError) bool {
	return he.Status == http.StatusBadRequest || he.Status == http.StatusNotImplemented
}

func hasETag(snap *model.Snapshot) bool {
	has := false
	snap.Each(func(_ string, raw []byte) bool {
		has = rawjson.Lookup(raw, "@odata.etag") != nil
		return false
	})
	return has
}

// poller is the work of one poll round.
type poller struct {
	t        *Tracker
	st       *PollState
	snap     *model.Snapshot
	progress func(deltaclient.Progress)

	pages     int
	bytes     int64
	watermark string
}

// round finds the round's changes as entries for Snapshot.Apply, only
// records that really changed.
func (p *poller) round(ctx context.Context) ([]model.Entry, error) {
	switch p.st.Method {
	case MethodFull:
		return p.fullRead(ctx)
	case MethodModified:
		return p.modified(ctx)
	}
	return p.etagScan(ctx)
}

// fullRead reads the whole set and compares it with the snapshot as the
// pages arrive (while the next ones download): only records new or
// different are kept, and records not read are deleted.
func (p *poller) fullRead(ctx context.Context) ([]model.Entry, error) {
	changed := map[string][]byte{}
	var order []string
	// The records read, marked by position in the snapshot: a bitset, not
	// a map of 100k ids.
	seen := make([]uint64, (p.snap.Span()+63)/64)
	nseen := 0
	res, err := p.t.Client.ReadPages(ctx, p.t.URL, p.progress, func(page []deltaclient.Entry) {
		for i := range page {
			e := &page[i]
			if e.Kind != deltaclient.Record || e.ID == "" {
				continue
			}
			pos, old, had := p.snap.Locate(e.ID)
			if had {
				if w, bit := pos/64, uint64(1)<<(pos%64); seen[w]&bit == 0 {
					seen[w] |= bit
					nseen++
				}
				if bytes.Equal(old, e.Raw) {
					continue
				}
			}
			if _, dup := changed[e.ID]; !dup {
				order = append(order, e.ID)
			}
			// A copy: the record would otherwise keep its whole page (of
			// thousands of records, all else garbage) alive in the
			// snapshot, a page more each round.
			changed[e.ID] = bytes.Clone(e.Raw)
		}
	})
	if err != nil {
		return nil, err
	}
	p.count(res)
	var gone []string
	if nseen != p.snap.Len() {
		p.snap.EachPos(func(pos int, id string, _ []byte) bool {
			if seen[pos/64]&(1<<(pos%64)) == 0 {
				gone = append(gone, id)
			}
			return true
		})
	}
	if len(gone) > 0 && len(p.st.KeyFields) > 0 && len(gone) <= maxFetch {
		// A read paged by row offset skips a row when another goes while
		// it pages (SAP CAP's $skiptoken): re-check before reporting.
		keys := make(map[string][]byte, len(gone))
		for _, id := range gone {
			keys[id], _ = p.snap.Get(id)
		}
		if err := p.fetch(ctx, p.t.URL, gone, keys, changed, &order); err != nil {
			var he *deltaclient.HTTPError
			if !errors.As(err, &he) || !rejected(he) {
				return nil, err
			}
		}
		still := gone[:0]
		for _, id := range gone {
			if _, back := changed[id]; !back {
				still = append(still, id)
			}
		}
		gone = still
		left, err := p.leftFilter(ctx, gone, keys)
		if err != nil {
			return nil, err
		}
		return p.entries(changed, order, gone, left), nil
	}
	return p.entries(changed, order, gone, nil), nil
}

func (p *poller) count(res *deltaclient.Result) {
	p.pages += res.Pages
	p.bytes += res.Bytes
}

// modified reads what changed since the watermark and, on scan rounds,
// finds deletions (and anything the timestamp missed) with a key scan.
func (p *poller) modified(ctx context.Context) ([]model.Entry, error) {
	st := p.st
	since := st.Watermark
	if w, err := time.Parse(time.RFC3339Nano, st.Watermark); err == nil {
		overlap := p.t.Overlap
		if overlap <= 0 {
			overlap = DefaultOverlap
		}
		since = w.Add(-overlap).UTC().Format(time.RFC3339Nano)
	}
	changed := map[string][]byte{}
	var order []string
	if since != "" {
		u := queryURL(p.t.URL, st.Timestamp+" ge "+since, withFields(userSelect(p.t.URL), append(slices.Clone(st.KeyFields), st.Timestamp)), "")
		if err := p.collect(ctx, u, changed, &order); err != nil {
			return nil, err
		}
	} else {
		// No record had a timestamp yet: every scan round compares.
	}
	p.watermark = st.Watermark
	for _, id := range order {
		p.watermark = laterStamp(p.watermark, changed[id], st.Timestamp)
	}
	every := max(1, p.t.ScanEvery)
	if st.Rounds%every != 0 {
		return p.entries(changed, order, nil, nil), nil
	}
	// The set's /$count first: when it is what the snapshot and the
	// records just read add up to, nothing was deleted and the key scan
	// (the round's largest read) is not needed.
	// Every tenth scan round scans anyway: an add the timestamp missed
	// (beyond the overlap) and a deletion would cancel out in the count.
	if scanRound := st.Rounds / every; !st.NoCount && scanRound%fullScanEvery != fullScanEvery-1 {
		n, b, err := p.t.Client.Count(ctx, countURL(p.t.URL))
		p.bytes += b
		var he *deltaclient.HTTPError
		switch {
		case err == nil:
			p.pages++
			want := int64(p.snap.Len())
			for _, id := range order {
				if _, had := p.snap.Get(id); !had {
					want++
				}
			}
			if n == want {
				return p.entries(changed, order, nil, nil), nil
			}
		case errors.As(err, &he) && (rejected(he) || he.Status == http.StatusNotFound):
			st.NoCount = true
		default:
			return nil, err
		}
	}
	scan, err := p.scan(ctx, st.Timestamp)
	if err != nil {
		return nil, err
	}
	// Rows the scan lists with another timestamp than known, or does not
	// list at all, are fetched: the first were missed by the watermark,
	// the second may be deleted or may have been skipped by a scan that
	// pages by row offset while rows go.
	var want, missing []string
	for id, stamp := range scan.stamps {
		if _, ok := changed[id]; ok {
			continue
		}
		old, had := p.snap.Get(id)
		if !had || !bytes.Equal(rawjson.Lookup(old, st.Timestamp), stamp) {
			want = append(want, id)
		}
	}
	p.snap.Each(func(id string, _ []byte) bool {
		if _, ok := scan.stamps[id]; !ok {
			if _, ok := changed[id]; !ok {
				missing = append(missing, id)
			}
		}
		return true
	})
	return p.fetchAndFinish(ctx, changed, order, scan, want, missing)
}

// etagScan lists keys and etags, fetches the records whose etag changed
// or that are new, and re-checks the ones missing before calling them
// deleted.
func (p *poller) etagScan(ctx context.Context) ([]model.Entry, error) {
	scan, err := p.scan(ctx, p.st.ETagField)
	if err != nil {
		return nil, err
	}
	if p.st.ETagField == "" {
		for _, raw := range scan.raws {
			if rawjson.Lookup(raw, "@odata.etag") == nil {
				// The server drops etags from a $select: the scan cannot
				// tell changed records, so read the whole set instead.
				return nil, &deltaclient.HTTPError{Status: http.StatusNotImplemented, Message: "the key scan carries no @odata.etag"}
			}
			break
		}
	}
	var want, missing []string
	for id, raw := range scan.raws {
		old, had := p.snap.Get(id)
		if !had || !bytes.Equal(rawjson.Lookup(old, "@odata.etag"), rawjson.Lookup(raw, "@odata.etag")) ||
			p.st.ETagField != "" && !bytes.Equal(rawjson.Lookup(old, p.st.ETagField), rawjson.Lookup(raw, p.st.ETagField)) {
			want = append(want, id)
		}
	}
	p.snap.Each(func(id string, _ []byte) bool {
		if _, ok := scan.raws[id]; !ok {
			missing = append(missing, id)
		}
		return true
	})
	return p.fetchAndFinish(ctx, map[string][]byte{}, nil, scan, want, missing)
}

// fetchAndFinish fetches want and missing by key, adds what came to
// changed, and reports the missing ones that did not come as deleted.
func (p *poller) fetchAndFinish(ctx context.Context, changed map[string][]byte, order []string, scan *scanResult, want, missing []string) ([]model.Entry, error) {
	slices.Sort(want)
	slices.Sort(missing)
	keys := make(map[string][]byte, len(want)+len(missing))
	for _, id := range want {
		keys[id] = scan.raws[id]
	}
	for _, id := range missing {
		old, _ := p.snap.Get(id)
		keys[id] = old
	}
	ids := append(slices.Clone(want), missing...)
	if len(ids) > maxFetch {
		// So many to fetch that reading the whole set costs less.
		return p.fullRead(ctx)
	}
	if err := p.fetch(ctx, p.t.URL, ids, keys, changed, &order); err != nil {
		return nil, err
	}
	if p.st.Method == MethodModified {
		for _, id := range order {
			p.watermark = laterStamp(p.watermark, changed[id], p.st.Timestamp)
		}
	}
	var gone []string
	for _, id := range missing {
		if _, ok := changed[id]; !ok {
			gone = append(gone, id)
		}
	}
	left, err := p.leftFilter(ctx, gone, keys)
	if err != nil {
		return nil, err
	}
	return p.entries(changed, order, gone, left), nil
}

// entries turns what a round read into entries: records new or different
// from the snapshot (re-read records that did not change give nothing),
// then the deletions.
func (p *poller) entries(changed map[string][]byte, order []string, gone []string, left map[string]bool) []model.Entry {
	var out []model.Entry
	for _, id := range order {
		raw := changed[id]
		if old, ok := p.snap.Get(id); ok && (bytes.Equal(old, raw) || len(model.Diff(old, raw)) == 0) {
			continue
		}
		out = append(out, model.Entry{ID: id, Raw: raw})
	}
	for _, id := range gone {
		reason := model.ReasonDeleted
		if left[id] {
			reason = model.ReasonChanged
		}
		out = append(out, model.Entry{ID: id, Removed: true, Reason: reason})
	}
	return out
}

// leftFilter returns which of gone still exist but no longer match the
// user's $filter: a delta round reports those with reason changed, not
// deleted, and so does a poll round. They are fetched by key without the
// filter; nil when the URL has no $filter.
func (p *poller) leftFilter(ctx context.Context, gone []string, keys map[string][]byte) (map[string]bool, error) {
	base := withoutFilter(p.t.URL)
	if len(gone) == 0 || base == p.t.URL || len(p.st.KeyFields) == 0 || len(gone) > maxFetch {
		return nil, nil
	}
	found := map[string][]byte{}
	var order []string
	if err := p.fetch(ctx, base, gone, keys, found, &order); err != nil {
		var he *deltaclient.HTTPError
		if errors.As(err, &he) && rejected(he) {
			return nil, nil // cannot tell: deleted, as before
		}
		return nil, err
	}
	left := make(map[string]bool, len(found))
	for id := range found {
		left[id] = true
	}
	return left, nil
}

// collect reads u, all pages, into records by id, in the order first seen.
func (p *poller) collect(ctx context.Context, u string, into map[string][]byte, order *[]string) error {
	res, err := p.t.Client.ReadPages(ctx, u, p.progress, func(page []deltaclient.Entry) {
		for _, e := range page {
			if e.Kind != deltaclient.Record || e.ID == "" {
				continue
			}
			if _, ok := into[e.ID]; !ok {
				*order = append(*order, e.ID)
			}
			into[e.ID] = e.Raw
		}
	})
	if err != nil {
		return err
	}
	p.count(res)
	return nil
}

type scanResult struct {
	raws   map[string][]byte // the scan's row of each key
	stamps map[string][]byte // the stamp property of each key, as JSON
}

// scan lists every key of the set (with stamp, when not ""), ordered by
// key where the server allows it.
func (p *poller) scan(ctx context.Context, stamp string) (*scanResult, error) {
	fields := slices.Clone(p.st.KeyFields)
	if stamp != "" {
		fields = append(fields, stamp)
	}
	orderby := ""
	if !p.st.Unordered {
		orderby = strings.Join(p.st.KeyFields, ",")
	}
	for {
		sr := &scanResult{raws: map[string][]byte{}, stamps: map[string][]byte{}}
		var order []string
		err := p.collect(ctx, queryURL(p.t.URL, "", fields, orderby), sr.raws, &order)
		var he *deltaclient.HTTPError
		if orderby != "" && errors.As(err, &he) && rejected(he) {
			p.st.Unordered, orderby = true, ""
			continue
		}
		if err != nil {
			return nil, err
		}
		if stamp != "" {
			for id, raw := range sr.raws {
				sr.stamps[id] = rawjson.Lookup(raw, stamp)
			}
		}
		return sr, nil
	}
}

// fetch reads the records ids by key, batched, into changed. keys holds
// a row of each id with its key properties.
func (p *poller) fetch(ctx context.Context, base string, ids []string, keys map[string][]byte, changed map[string][]byte, order *[]string) error {
	for len(ids) > 0 {
		switch p.st.Fetch {
		case "", "in", "or":
			n := min(len(ids), fetchBatch)
			var expr string
			if p.st.Fetch == "or" || len(p.st.KeyFields) > 1 {
				expr = p.orFilter(ids[:n], keys)
			} else {
				expr = p.inFilter(ids[:n], keys)
			}
			u := queryURL(base, expr, withFields(userSelect(base), p.st.KeyFields), "")
			err := p.collect(ctx, u, changed, order)
			var he *deltaclient.HTTPError
			if errors.As(err, &he) && rejected(he) {
				if p.st.Fetch == "or" || len(p.st.KeyFields) > 1 {
					p.st.Fetch = "one"
				} else {
					p.st.Fetch = "or"
				}
				continue
			}
			if err != nil {
				return err
			}
			ids = ids[n:]
		default:
			if len(ids) > maxOneByOne {
				return &deltaclient.HTTPError{Status: http.StatusNotImplemented, Message: fmt.Sprintf("%d records to fetch one by one; reading the whole set instead", len(ids))}
			}
			u := queryURL(base, p.keyExpr(keys[ids[0]]), withFields(userSelect(base), p.st.KeyFields), "")
			if err := p.collect(ctx, u, changed, order); err != nil {
				return err
			}
			ids = ids[1:]
		}
	}
	return nil
}

func (p *poller) inFilter(ids []string, keys map[string][]byte) string {
	k := p.st.KeyFields[0]
	lits := make([]string, 0, len(ids))
	for _, id := range ids {
		lits = append(lits, deltaclient.Literal(rawjson.Lookup(keys[id], k), p.st.KeyTypes[k]))
	}
	return k + " in (" + strings.Join(lits, ",") + ")"
}

func (p *poller) orFilter(ids []string, keys map[string][]byte) string {
	parts := make([]string, 0, len(ids))
	for _, id := range ids {
		e := p.keyExpr(keys[id])
		if len(p.st.KeyFields) > 1 {
			e = "(" + e + ")"
		}
		parts = append(parts, e)
	}
	return strings.Join(parts, " or ")
}

// keyExpr is "k1 eq v1 and k2 eq v2" for one row.
func (p *poller) keyExpr(row []byte) string {
	parts := make([]string, 0, len(p.st.KeyFields))
	for _, k := range p.st.KeyFields {
		parts = append(parts, k+" eq "+deltaclient.Literal(rawjson.Lookup(row, k), p.st.KeyTypes[k]))
	}
	return strings.Join(parts, " and ")
}

// maxStamp is the latest value of prop in snap, or floor when none is
// later.
func maxStamp(snap *model.Snapshot, prop, floor string) string {
	best := floor
	snap.Each(func(_ string, raw []byte) bool {
		best = laterStamp(best, raw, prop)
		return true
	})
	return best
}

// laterStamp returns the later of cur and the record's prop (a
// DateTimeOffset as text).
func laterStamp(cur string, raw []byte, prop string) string {
	v, ok := rawjson.String(rawjson.Lookup(raw, prop))
	if !ok || v == "" {
		return cur
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return cur
	}
	if c, err := time.Parse(time.RFC3339Nano, cur); err == nil && !t.After(c) {
		return cur
	}
	return v
}

// ProbePoll says how the set would be polled, from the hints and at most
// two small requests: one record filtered by the timestamp (does the
// server take the filter?), else one key row (does it carry an etag?).
// It returns the method's label, or an error when the set cannot be read.
func (t *Tracker) ProbePoll(ctx context.Context) (string, error) {
	h := t.Hints
	keys := h.KeyFields
	if len(keys) == 0 {
		keys = t.Client.Identity.KeyFields
	}
	pc := *t.Client
	pc.MaxPages = 1
	pc.Retry.Tries = min(max(pc.Retry.Tries, 1), 2)
	one := func(u string) ([]byte, error) {
		var row []byte
		_, err := pc.ReadPages(ctx, u, nil, func(page []deltaclient.Entry) {
			for _, e := range page {
				if e.Kind == deltaclient.Record && row == nil {
					row = e.Raw
				}
			}
		})
		return row, err
	}
	var he *deltaclient.HTTPError
	if h.Timestamp != "" {
		fields := append(slices.Clone(keys), h.Timestamp)
		if len(keys) == 0 {
			fields = nil
		}
		u := withTop(queryURL(t.URL, h.Timestamp+" ge 1900-01-01T00:00:00Z", fields, ""))
		_, err := one(u)
		if err == nil {
			return PollState{Method: MethodModified, Timestamp: h.Timestamp}.Label(), nil
		}
		if !errors.As(err, &he) || !rejected(he) {
			return "", err
		}
	}
	var fields []string
	if len(keys) > 0 {
		fields = slices.Clone(keys)
	}
	row, err := one(withTop(queryURL(t.URL, "", fields, "")))
	switch {
	case err == nil && (h.ETag || rawjson.Lookup(row, "@odata.etag") != nil) && (len(keys) > 0 || rawjson.Lookup(row, "id") != nil):
		return PollState{Method: MethodETag}.Label(), nil
	case err == nil || errors.As(err, &he) && rejected(he):
		return PollState{Method: MethodFull}.Label(), nil
	}
	return "", err
}

// withTop asks for one record.
func withTop(u string) string {
	if strings.Contains(u, "?") {
		return u + "&$top=1"
	}
	return u + "?$top=1"
}
