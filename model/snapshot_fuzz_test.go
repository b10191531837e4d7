package model

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unsafe"
)

// The snapshot keeps a record in 16 bytes with unsafe pointers, its id as
// an offset into its JSON or in a compacted arena, and an index that
// inserts where a lookup ended. These tests drive it and a plain map
// through the same operations (baseline pages, staged and direct delta
// rounds, rollbacks, restores, clones, mass deletions that compact) and
// check after every step that both say the same.

// refSnap is the reference: a map by id and the order records were first
// seen in (a removed record that comes back is new, at the end).
type refSnap struct {
	m   map[string]refRec
	seq int
}

type refRec struct {
	raw []byte
	seq int
}

func newRef() *refSnap { return &refSnap{m: map[string]refRec{}} }

func (r *refSnap) clone() *refSnap {
	c := &refSnap{m: make(map[string]refRec, len(r.m)), seq: r.seq}
	for k, v := range r.m {
		c.m[k] = v
	}
	return c
}

// put stores raw (a copy: the reference shares no memory with the
// snapshot, so a write into a record's bytes shows as a difference).
func (r *refSnap) put(id string, raw []byte) {
	raw = append(make([]byte, 0, len(raw)), raw...)
	if old, ok := r.m[id]; ok {
		r.m[id] = refRec{raw: raw, seq: old.seq}
		return
	}
	r.m[strings.Clone(id)] = refRec{raw: raw, seq: r.seq}
	r.seq++
}

func (r *refSnap) ids() []string {
	ids := make([]string, 0, len(r.m))
	for id := range r.m {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b string) int { return r.m[a].seq - r.m[b].seq })
	return ids
}

// pair is one snapshot and its reference.
type pair struct {
	s   *Snapshot
	ref *refSnap
}

// snapDriver reads operations from a byte string (a fuzzer's input or a
// seeded random one); past its end every read is zero.
type snapDriver struct {
	t     testing.TB
	in    []byte
	pairs [2]pair
	pad   []byte // a MiB of padding, made once
	step  int
	gone  []string // ids removed at some point: Get must miss them
	bulks int      // bulk operations so far: each costs thousands of records
}

func (d *snapDriver) byte() byte {
	if len(d.in) == 0 {
		return 0
	}
	b := d.in[0]
	d.in = d.in[1:]
	return b
}

func (d *snapDriver) intn(n int) int { return int(d.byte()) % n }

// idPool holds the ids rounds pick from: plain ones, ones that are
// prefixes of others, ones that JSON escapes (so never inside their
// record as bytes), composite keys, non-ASCII, empty, and ids of 2047,
// 2048 and 3000 bytes (inside a record only up to 2047).
var idPool = func() []string {
	ids := []string{"", "r1", "r10", "r100", "x", "é1", `q"1`, `back\slash`, "k=1,n='a'", "ctl\x01", "1", "v"}
	for i := 0; i < 10; i++ {
		ids = append(ids, fmt.Sprint("p", i))
	}
	ids = append(ids, strings.Repeat("L", 2047), strings.Repeat("M", 2048), strings.Repeat("N", 2999)+"z")
	return ids
}()

// How an entry's id relates to its record's bytes.
const (
	idView    = iota // a view of the record's bytes, as the decoder gives it
	idCopy           // a copy of bytes the record holds (a session store's)
	idOutside        // the record does not hold it (composite, partial entry)
	idFar            // a view, past the record's first MiB
	idModes
)

// record returns an entry for id in the given mode, version v; page is
// a buffer several records share, as a decoded page does (the record is
// a subslice with spare capacity after it: nothing may append into it).
func (d *snapDriver) record(page *[]byte, id string, mode, v int) Entry {
	q, _ := json.Marshal(id)
	quoted := string(q)
	if quoted != `"`+id+`"` && mode != idOutside {
		mode = idCopy // the JSON holds an escaped form: the decoder copies
	}
	if mode == idFar {
		// A record of more than a MiB gets a buffer of its own.
		var own []byte
		page = &own
	}
	start := len(*page)
	switch mode {
	case idOutside:
		*page = fmt.Appendf(*page, `{"v":%d,"w":"%d"}`, v, d.step)
	case idFar:
		*page = append(*page, `{"pad":"`...)
		*page = append(*page, d.pad...)
		*page = fmt.Appendf(*page, `","id":%s,"v":%d}`, quoted, v)
	default:
		*page = fmt.Appendf(*page, `{"id":%s,"v":%d}`, quoted, v)
	}
	raw := (*page)[start:len(*page):len(*page)]
	if (mode == idView || mode == idFar) && id != "" {
		i := bytes.LastIndex(raw, []byte(`"id":`+quoted))
		return Entry{ID: unsafe.String(&raw[i+6], len(id)), Raw: raw}
	}
	return Entry{ID: strings.Clone(id), Raw: raw}
}

// entries makes n entries of a round or baseline page, removals among
// them when removals is set; partial adds entries without the old
// record's fields, which a round merges.
func (d *snapDriver) entries(n int, removals bool) []Entry {
	// Records share a page buffer, as in a decoded page (one that grows
	// leaves the earlier records in its old array, still valid).
	var page []byte
	es := make([]Entry, 0, n)
	for range n {
		op := d.byte()
		id := idPool[int(op>>3)%len(idPool)]
		if removals && op&7 == 7 {
			es = append(es, Entry{ID: strings.Clone(id), Removed: true, Reason: ReasonDeleted})
			continue
		}
		mode, v := int(op&7)%idModes, int(d.byte())
		if mode == idFar && v%16 != 0 {
			mode = idView // a MiB per record is slow: far ones are rare
		}
		if mode == idFar && len(d.pad) == 0 {
			d.pad = bytes.Repeat([]byte("x"), 1<<20)
		}
		e := d.record(&page, id, mode, v)
		if mode == idView && v%3 == 0 && id != "" {
			// The id a view of an earlier record of the page: the same
			// bytes, in the same array, outside this record.
			for _, prev := range es {
				if i := bytes.Index(prev.Raw, []byte(`"id":"`+id+`"`)); i >= 0 && !prev.Removed {
					e.ID = unsafe.String(&prev.Raw[i+6], len(id))
					break
				}
			}
		}
		es = append(es, e)
	}
	return es
}

// forget notes a removed id, so checks ask for it; the latest few only.
func (d *snapDriver) forget(id string) {
	if len(d.gone) >= 64 {
		d.gone = d.gone[1:]
	}
	d.gone = append(d.gone, strings.Clone(id))
}

// check compares every pair with its reference.
func (d *snapDriver) check(what string) {
	d.t.Helper()
	for k, p := range d.pairs {
		if p.s == nil {
			continue
		}
		checkPair(d.t, fmt.Sprintf("step %d (%s), snapshot %d", d.step, what, k), p, d.gone)
	}
}

func checkPair(t testing.TB, where string, p pair, gone []string) {
	t.Helper()
	s, ref := p.s, p.ref
	if s.Len() != len(ref.m) {
		t.Fatalf("%s: Len %d, reference %d", where, s.Len(), len(ref.m))
	}
	want := ref.ids()
	i := 0
	s.Each(func(id string, raw []byte) bool {
		if i >= len(want) {
			t.Fatalf("%s: Each gives more than %d records (%.40q)", where, len(want), id)
		}
		if id != want[i] || !bytes.Equal(raw, ref.m[want[i]].raw) {
			t.Fatalf("%s: Each record %d is %.40q=%.60s, reference %.40q=%.60s", where, i, id, raw, want[i], ref.m[want[i]].raw)
		}
		i++
		return true
	})
	if i != len(want) {
		t.Fatalf("%s: Each gives %d records, reference %d", where, i, len(want))
	}
	seen := map[int]bool{}
	for _, id := range want {
		raw, ok := s.Get(id)
		if !ok || !bytes.Equal(raw, ref.m[id].raw) {
			t.Fatalf("%s: Get %.40q = %.60s %v, reference %.60s", where, id, raw, ok, ref.m[id].raw)
		}
		pos, raw2, ok := s.Locate(id)
		if !ok || !bytes.Equal(raw2, raw) || pos < 0 || pos >= s.Span() || seen[pos] {
			t.Fatalf("%s: Locate %.40q = %d %v (span %d, position taken twice %v)", where, id, pos, ok, s.Span(), seen[pos])
		}
		seen[pos] = true
	}
	for _, id := range append(gone, idPool...) {
		if _, in := ref.m[id]; in {
			continue
		}
		if raw, ok := s.Get(id); ok {
			t.Fatalf("%s: Get %.40q = %.60s, the reference has no such record", where, id, raw)
		}
	}
	// Internal bookkeeping the next operations rely on.
	n, holes := 0, 0
	for _, seg := range s.recs {
		for _, r := range seg {
			n++
			if r.data == nil {
				holes++
			}
		}
	}
	if n != s.n || holes != s.dead || s.idx.count != s.n-s.dead {
		t.Fatalf("%s: %d positions (n %d), %d holes (dead %d), index holds %d", where, n, s.n, holes, s.dead, s.idx.count)
	}
	// The id arena's dead bytes are what compaction goes by: counted
	// exactly, or the arena grows without bound (or compacts for nothing).
	live := 0
	for _, seg := range s.recs {
		for i := range seg {
			if r := &seg[i]; r.data != nil && r.id&idsFlag != 0 {
				live += ownLen(r.idIn(s.ids))
			}
		}
	}
	if s.idsDead != len(s.ids)-live {
		t.Fatalf("%s: the id arena holds %d bytes, %d of them live, but counts %d dead", where, len(s.ids), live, s.idsDead)
	}
	for pos, m := range s.marks {
		if m != 0 {
			t.Fatalf("%s: position %d still marked between rounds", where, pos)
		}
	}
}

// round applies entries to p as a delta round, in pages, checking each
// change against the reference; it finishes or rolls back.
func (d *snapDriver) round(p *pair, es []Entry, staged, rollback bool, pageLen int) {
	t := d.t
	t.Helper()
	before := p.ref.clone()
	type state struct{ before, after, updated bool }
	touched := map[string]*state{}
	var want []Change
	for _, e := range es {
		st := touched[e.ID]
		if st == nil {
			_, in := p.ref.m[e.ID]
			st = &state{before: in}
			touched[strings.Clone(e.ID)] = st
		}
		old, had := p.ref.m[e.ID]
		switch {
		case e.Removed:
			c := Change{Kind: Deleted, ID: e.ID, Reason: e.Reason, Unknown: !had}
			if had {
				c.Record = old.raw
			}
			want = append(want, c)
			delete(p.ref.m, e.ID)
			d.forget(e.ID)
			st.after = false
		case had:
			merged := Merge(old.raw, e.Raw)
			want = append(want, Change{Kind: Updated, ID: e.ID, Record: merged, Previous: old.raw})
			p.ref.put(e.ID, merged)
			st.after, st.updated = true, true
		default:
			want = append(want, Change{Kind: Added, ID: e.ID, Record: e.Raw})
			p.ref.put(e.ID, e.Raw)
			st.after, st.updated = true, true
		}
	}
	var r *Round
	if !staged {
		r = p.s.Apply(es)
	} else {
		a := p.s.Begin(len(es))
		for k := 0; k < len(es); k += pageLen {
			a.Add(es[k:min(k+pageLen, len(es))])
		}
		if rollback {
			a.Rollback()
			p.ref = before
			return
		}
		r = a.Finish()
	}
	if len(r.Changes) != len(want) {
		t.Fatalf("step %d: the round has %d changes, reference %d", d.step, len(r.Changes), len(want))
	}
	for i, c := range r.Changes {
		w := want[i]
		if c.Kind != w.Kind || c.ID != w.ID || !bytes.Equal(c.Record, w.Record) || (c.Record == nil) != (w.Record == nil) ||
			!bytes.Equal(c.Previous, w.Previous) || c.Unknown != w.Unknown || c.Reason != w.Reason {
			t.Fatalf("step %d: change %d is %v %.40q record %.60s previous %.60s unknown %v; reference %v %.40q record %.60s previous %.60s unknown %v",
				d.step, i, c.Kind, c.ID, c.Record, c.Previous, c.Unknown, w.Kind, w.ID, w.Record, w.Previous, w.Unknown)
		}
	}
	var wa, wu, wd int
	for _, st := range touched {
		switch {
		case st.before && st.after:
			wu++
		case !st.before && st.after:
			wa++
		case st.before, !st.updated:
			wd++
		}
	}
	if r.Added != wa || r.Updated != wu || r.Deleted != wd || r.Records != len(p.ref.m) {
		t.Fatalf("step %d: round counts %d/%d/%d, %d records; reference %d/%d/%d, %d", d.step, r.Added, r.Updated, r.Deleted, r.Records, wa, wu, wd, len(p.ref.m))
	}
}

// bulk adds many records with ids outside and inside their JSON (long
// ones fill the id arena fast) and removes most of them, in one round or
// by Restore, so both compactions run.
func (d *snapDriver) bulk(p *pair) {
	n := 1100 + d.intn(8)*100
	tag := d.byte()
	long := d.byte()&1 == 1
	page := make([]byte, 0, n*200)
	es := make([]Entry, 0, n)
	for i := range n {
		id := fmt.Sprintf("b%d-%d", tag, i)
		if long && i%8 == 0 {
			id += strings.Repeat("z", 2100) // never inside its record
		}
		es = append(es, d.record(&page, id, []int{idView, idCopy, idOutside}[i%3], i))
	}
	d.round(p, es, d.byte()&1 == 1, false, 1+d.intn(512))
	d.check("bulk add")
	var rm []Entry
	for i := range n {
		if i%10 != 0 {
			rm = append(rm, Entry{ID: es[i].ID, Removed: true})
		}
	}
	if d.byte()&1 == 0 {
		d.round(p, rm, true, d.byte()&3 == 0, 1+d.intn(512))
		return
	}
	p.s.Restore(rm)
	for _, e := range rm {
		delete(p.ref.m, e.ID)
	}
}

// run performs the operations of d.in.
func (d *snapDriver) run() {
	d.pairs[0] = pair{s: NewSnapshot(d.intn(64)), ref: newRef()}
	for len(d.in) > 0 {
		d.step++
		op := d.byte()
		p := &d.pairs[op>>7]
		if p.s == nil {
			p = &d.pairs[0]
		}
		switch op & 0x7f % 8 {
		case 0, 1: // a baseline page: the last form of a record wins, removals skipped
			es := d.entries(1+d.intn(40), true)
			skipped := p.s.Add(es)
			want := 0
			for _, e := range es {
				if e.Removed {
					want++
					continue
				}
				p.ref.put(e.ID, e.Raw)
			}
			if skipped != want {
				d.t.Fatalf("step %d: Add skipped %d removals, want %d", d.step, skipped, want)
			}
			d.check("baseline page")
		case 2, 3: // a staged round in pages, finished or rolled back
			es := d.entries(1+d.intn(48), true)
			rollback := d.byte()&1 == 1
			d.round(p, es, true, rollback, 1+d.intn(20))
			d.check(fmt.Sprint("staged round, rolled back ", rollback))
		case 4: // a round at once
			d.round(p, d.entries(1+d.intn(48), true), false, false, 0)
			d.check("round")
		case 5: // a clone, which then changes apart from its original
			src := d.pairs[d.intn(2)]
			if src.s == nil {
				src = d.pairs[0]
			}
			d.pairs[1-int(op>>7)] = pair{s: src.s.Clone(), ref: src.ref.clone()}
			d.check("clone")
		case 6: // stored entries restored, without classification
			es := d.entries(1+d.intn(32), true)
			p.s.Restore(es)
			for _, e := range es {
				if e.Removed {
					delete(p.ref.m, e.ID)
					d.forget(e.ID)
					continue
				}
				p.ref.put(e.ID, e.Raw)
			}
			d.check("restore")
		case 7:
			if d.byte()&1 == 0 {
				p.s.Grow(d.intn(256) * 64)
				d.check("grow")
				continue
			}
			if d.bulks++; d.bulks > 3 {
				continue // the fuzzer repeats what it likes: bound the work of one input
			}
			d.bulk(p)
			d.check("bulk remove")
		}
	}
}

func FuzzSnapshotMatchesMap(f *testing.F) {
	for seed := range uint64(8) {
		f.Add(randomOps(seed, 200))
	}
	f.Add([]byte{7, 1, 0, 0, 0, 0, 7, 1, 1, 1, 2, 0, 0, 3})
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) > 2048 {
			ops = ops[:2048]
		}
		d := &snapDriver{t: t, in: ops}
		d.run()
	})
}

func randomOps(seed uint64, n int) []byte {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// TestSnapshotMatchesMap runs the differential test over seeded random
// operation strings; FuzzSnapshotMatchesMap explores further under -fuzz.
func TestSnapshotMatchesMap(t *testing.T) {
	t.Parallel()
	n := 60
	if testing.Short() || raceOn {
		n = 10
	}
	for seed := range uint64(n) {
		d := &snapDriver{t: t, in: randomOps(seed, 600)}
		d.run()
	}
}
