// Package model is deltascope's pure state: the snapshot of each entity set,
// the classification of a delta into added, updated and deleted records,
// field-level diffs, and each entity's status. It does no I/O.
package model

// Entry is one item of a baseline or delta as the server sent it, in order.
type Entry struct {
	ID      string
	Raw     []byte // the record JSON; nil for a removal
	Removed bool
	Reason  string // removals: "deleted", "changed" or ""
}

// Snapshot is what the client knows of one entity set: every record by
// identity, as raw JSON, in the order first seen. Records are never
// modified in place; an update stores a new slice.
type Snapshot struct {
	idx index
	// recs holds the records in first-seen order, in segments of
	// segSize: growing never copies the ones already held. A removed
	// record leaves a hole (raw nil) until compaction.
	recs [][]rec
	n    int // positions used, holes included
	dead int
	// marks has a byte per position for the round being applied; all
	// zero between rounds (see Applier).
	marks []uint8
	sink  int32 // keeps warm's loads from being optimised away
}

type rec struct {
	id  string
	raw []byte
}

const segBits = 14
const segSize = 1 << segBits

// NewSnapshot returns an empty snapshot sized for about n records.
func NewSnapshot(n int) *Snapshot {
	return &Snapshot{idx: newIndex(n)}
}

// Grow makes room for about n more records at once, so a baseline whose
// size is known (from @odata.count) is indexed without rehashing.
func (s *Snapshot) Grow(n int) {
	if want := newIndex(s.idx.count + n); len(want.slots) > len(s.idx.slots) {
		for len(s.idx.slots) < len(want.slots) {
			s.idx.grow()
		}
	}
}

// BuildSnapshot takes a baseline's entries. Removals inside a baseline (Graph
// sends them) are not records and are skipped; a record seen twice keeps
// its last form. It returns the snapshot and how many removals it skipped.
func BuildSnapshot(entries []Entry) (*Snapshot, int) {
	s := NewSnapshot(len(entries))
	return s, s.Add(entries)
}

// Add puts a baseline's entries into the snapshot as they arrive, page by
// page, with the rules of BuildSnapshot; it returns the removals skipped.
func (s *Snapshot) Add(entries []Entry) (skipped int) {
	// A baseline's ids land all over the table: warming a batch overlaps
	// the cache misses of its probes, as a delta round's lookups do.
	var hashes [warmBatch]uint32
	for i := 0; i < len(entries); i += warmBatch {
		batch := entries[i:min(i+warmBatch, len(entries))]
		s.warm(batch, &hashes)
		for k := range batch {
			e := &batch[k]
			if e.Removed {
				skipped++
				continue
			}
			h := hashes[k]
			if at, ok := s.idx.find(e.ID, h, s.idAt); ok {
				s.at(at).raw = e.Raw
				continue
			}
			s.push(h, e.ID, e.Raw)
		}
	}
	return skipped
}

// Clone returns a snapshot with the same records that changes
// independently (the records themselves are shared: they never change).
func (s *Snapshot) Clone() *Snapshot {
	c := &Snapshot{idx: index{slots: append([]slot(nil), s.idx.slots...), count: s.idx.count}, n: s.n, dead: s.dead}
	c.recs = make([][]rec, len(s.recs))
	for i, seg := range s.recs {
		c.recs[i] = append(make([]rec, 0, segSize), seg...)
	}
	return c
}

// Len is the number of records.
func (s *Snapshot) Len() int { return s.idx.count }

// Get returns the record with this identity.
func (s *Snapshot) Get(id string) ([]byte, bool) {
	at, ok := s.idx.find(id, hashOf(id), s.idAt)
	if !ok {
		return nil, false
	}
	return s.at(at).raw, true
}

// Each calls fn for every record in first-seen order until fn returns false.
func (s *Snapshot) Each(fn func(id string, raw []byte) bool) {
	for _, seg := range s.recs {
		for _, r := range seg {
			if r.raw != nil && !fn(r.id, r.raw) {
				return
			}
		}
	}
}

func (s *Snapshot) at(pos int32) *rec { return &s.recs[pos>>segBits][pos&(segSize-1)] }

func (s *Snapshot) idAt(pos int32) string { return s.recs[pos>>segBits][pos&(segSize-1)].id }

// lookup finds id, returning its hash for a put or remove that follows.
func (s *Snapshot) lookup(id string) (pos int32, h uint32, ok bool) {
	h = hashOf(id)
	pos, ok = s.idx.find(id, h, s.idAt)
	return pos, h, ok
}

// push appends a record that is not in the snapshot.
func (s *Snapshot) push(h uint32, id string, raw []byte) {
	if s.n>>segBits == len(s.recs) {
		s.recs = append(s.recs, make([]rec, 0, segSize))
	}
	seg := &s.recs[len(s.recs)-1]
	*seg = append(*seg, rec{id: id, raw: raw})
	s.idx.insert(h, int32(s.n))
	s.n++
}

func (s *Snapshot) put(id string, raw []byte) {
	if at, h, ok := s.lookup(id); ok {
		s.at(at).raw = raw
	} else {
		s.push(h, id, raw)
	}
}

// removeAt removes the record at pos, whose id hashes to h. With compact,
// the holes are dropped once they are half the positions; a staged round
// (whose undo log holds positions) compacts when it finishes.
func (s *Snapshot) removeAt(pos int32, h uint32, compact bool) []byte {
	r := s.at(pos)
	raw := r.raw
	s.idx.remove(h, pos)
	*r = rec{}
	s.dead++
	if compact {
		s.maybeCompact()
	}
	return raw
}

func (s *Snapshot) maybeCompact() {
	if s.dead > 1024 && s.dead > s.n/2 {
		s.compact()
	}
}

// pop removes the record push put last at pos, whose id hashes to h.
func (s *Snapshot) pop(h uint32, pos int32) {
	s.idx.remove(h, pos)
	seg := &s.recs[len(s.recs)-1]
	(*seg)[len(*seg)-1] = rec{}
	*seg = (*seg)[:len(*seg)-1]
	if len(*seg) == 0 {
		s.recs = s.recs[:len(s.recs)-1]
	}
	s.n--
}

func (s *Snapshot) remove(id string) ([]byte, bool) {
	at, h, ok := s.lookup(id)
	if !ok {
		return nil, false
	}
	return s.removeAt(at, h, true), true
}

// compact drops the holes deletions left, keeping order.
func (s *Snapshot) compact() {
	j := int32(0)
	for i := int32(0); i < int32(s.n); i++ {
		r := *s.at(i)
		if r.raw == nil {
			continue
		}
		if i != j {
			*s.at(j) = r
			s.idx.set(hashOf(r.id), i, j)
		}
		j++
	}
	keep := (int(j) + segSize - 1) >> segBits
	clear(s.recs[keep:])
	s.recs = s.recs[:keep]
	if len(s.recs) > 0 {
		last := &s.recs[len(s.recs)-1]
		*last = (*last)[:int(j)-(len(s.recs)-1)*segSize]
		clear((*last)[len(*last):cap(*last)])
	}
	s.n, s.dead = int(j), 0
}

// warmBatch is how many entries warm looks ahead.
const warmBatch = 16

// warm hashes the ids of a batch of entries into hashes and touches the
// table slots and records their lookups will read: independent loads the
// processor overlaps, where the lookups one by one wait for each cache
// miss in turn (a delta's records are spread over the whole snapshot).
func (s *Snapshot) warm(batch []Entry, hashes *[warmBatch]uint32) {
	if len(s.idx.slots) == 0 {
		for k := range batch {
			hashes[k] = hashOf(batch[k].ID)
		}
		return
	}
	mask := uint32(len(s.idx.slots) - 1)
	var sink int32
	for k := range batch {
		h := hashOf(batch[k].ID)
		hashes[k] = h
		sink += s.idx.slots[h&mask].pos
	}
	for k := range batch {
		if sl := s.idx.slots[hashes[k]&mask]; sl.pos != 0 && sl.hash == hashes[k] {
			if r := s.at(sl.pos - 1); len(r.id) > 0 {
				sink += int32(r.id[0])
			}
		}
	}
	s.sink = sink
}
