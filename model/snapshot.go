// Package model is deltascope's pure state: the snapshot of each entity set,
// the classification of a delta into added, updated and deleted records,
// field-level diffs, and each entity's status. It does no I/O.
package model

import (
	"bytes"
	"encoding/binary"
	"math"
	"unsafe"
)

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
	// ids holds the ids that are not inside their record's JSON, each
	// after its length as a uvarint; append-only between compactions, so
	// a record saved for a rollback still finds its id.
	ids     []byte
	idsDead int   // bytes of ids no record uses
	sink    int32 // keeps warm's loads from being optimised away
}

// rec is one record in 16 bytes, where a string and a slice took 40: a
// million records hold 24 MB less, and the collector scans one pointer
// each, not two. The record's JSON is data and n bytes, never modified;
// its id is, for a plain string id, where the decoder left it: a
// subslice of the record, kept as an offset and a length. Other ids
// (quoted, composite, from elsewhere) are in Snapshot.ids.
type rec struct {
	data *byte // the record's first byte; nil: a hole
	n    uint32
	id   uint32 // inRaw: offset<<idLenBits | length; else idsFlag | offset in ids
}

const (
	idLenBits = 11 // ids inside the record: up to 2047 bytes...
	idOffBits = 20 // ...starting in its first MiB
	idsFlag   = 1 << 31
)

// raw is the record's JSON; nil for a hole.
func (r *rec) raw() []byte {
	if r.data == nil {
		return nil
	}
	return unsafe.Slice(r.data, r.n)
}

// idIn returns the record's id; ids is the snapshot's.
func (r *rec) idIn(ids []byte) string {
	if r.id&idsFlag == 0 {
		return unsafe.String((*byte)(unsafe.Add(unsafe.Pointer(r.data), r.id>>idLenBits)), r.id&(1<<idLenBits-1))
	}
	at := r.id &^ idsFlag
	n, k := binary.Uvarint(ids[at:])
	if n == 0 {
		return ""
	}
	return unsafe.String(&ids[int(at)+k], int(n))
}

// makeRec returns the record for id and raw, appending id to s.ids when it
// does not lie inside raw.
func (s *Snapshot) makeRec(id string, raw []byte) rec {
	r := recOf(raw)
	if !r.idInRaw(id) {
		s.setOwnID(&r, id)
	}
	return r
}

// update replaces r's JSON by raw, keeping its id: an id already in s.ids
// stays there, so updating a record adds to s.ids at most once.
func (s *Snapshot) update(r *rec, id string, raw []byte) {
	n := recOf(raw)
	switch {
	case n.idInRaw(id):
		if r.id&idsFlag != 0 {
			s.idsDead += ownLen(id)
		}
	case r.id&idsFlag != 0:
		n.id = r.id
	default:
		s.setOwnID(&n, id)
	}
	*r = n
}

// recOf is the record for raw, its id not set yet.
func recOf(raw []byte) rec {
	if uint64(len(raw)) > math.MaxUint32 {
		panic("model: a record of 4 GiB or more")
	}
	return rec{data: unsafe.SliceData(raw), n: uint32(len(raw))}
}

// idInRaw sets r's id to where id lies inside r's JSON, if it does: the
// decoder's ids are views of their records, and an id from elsewhere (a
// session store keeps ids apart, a merged update is a new record) is
// looked for there, since any copy of its bytes will do.
func (r *rec) idInRaw(id string) bool {
	if r.data == nil || len(id) == 0 || len(id) >= 1<<idLenBits {
		return false
	}
	off := uintptr(unsafe.Pointer(unsafe.StringData(id))) - uintptr(unsafe.Pointer(r.data))
	if off > uintptr(r.n) || uintptr(len(id)) > uintptr(r.n)-off {
		i := bytes.Index(r.raw()[:min(r.n, 1<<idOffBits+uint32(len(id))-1)], unsafe.Slice(unsafe.StringData(id), len(id)))
		if i < 0 {
			return false
		}
		off = uintptr(i)
	}
	if off >= 1<<idOffBits {
		return false
	}
	r.id = uint32(off)<<idLenBits | uint32(len(id))
	return true
}

// ownLen is the bytes id takes in s.ids.
func ownLen(id string) int {
	k := 1
	for n := len(id); n >= 0x80; n >>= 7 {
		k++
	}
	return k + len(id)
}

// setOwnID keeps id in s.ids for r.
func (s *Snapshot) setOwnID(r *rec, id string) {
	if uint64(len(s.ids)) >= idsFlag {
		panic("model: more than 2 GiB of ids outside their records")
	}
	r.id = idsFlag | uint32(len(s.ids))
	s.ids = binary.AppendUvarint(s.ids, uint64(len(id)))
	s.ids = append(s.ids, id...)
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
	// One move to the final size: doubling step by step would leave
	// each table on the way as garbage.
	if size := slotsFor(s.idx.count + n); size > len(s.idx.slots) {
		s.idx.growTo(size)
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
			at, free, ok := s.idx.lookup(e.ID, h, s.idAt)
			if ok {
				s.update(s.at(at), e.ID, e.Raw)
				continue
			}
			s.pushAt(free, h, e.ID, e.Raw)
		}
	}
	return skipped
}

// Clone returns a snapshot with the same records that changes
// independently (the records themselves are shared: they never change).
func (s *Snapshot) Clone() *Snapshot {
	// ids is append-only: the clone appends past its own length, never
	// into s's.
	c := &Snapshot{idx: index{slots: append([]slot(nil), s.idx.slots...), count: s.idx.count}, n: s.n, dead: s.dead, ids: s.ids[:len(s.ids):len(s.ids)], idsDead: s.idsDead}
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
	return s.at(at).raw(), true
}

// Each calls fn for every record in first-seen order until fn returns false.
func (s *Snapshot) Each(fn func(id string, raw []byte) bool) {
	for _, seg := range s.recs {
		for i := range seg {
			if r := &seg[i]; r.data != nil && !fn(r.idIn(s.ids), r.raw()) {
				return
			}
		}
	}
}

func (s *Snapshot) at(pos int32) *rec { return &s.recs[pos>>segBits][pos&(segSize-1)] }

func (s *Snapshot) idAt(pos int32) string { return s.recs[pos>>segBits][pos&(segSize-1)].idIn(s.ids) }

// lookup finds id, returning its hash for a put or remove that follows.
func (s *Snapshot) lookup(id string) (pos int32, h uint32, ok bool) {
	h = hashOf(id)
	pos, ok = s.idx.find(id, h, s.idAt)
	return pos, h, ok
}

// push appends a record that is not in the snapshot.
func (s *Snapshot) push(h uint32, id string, raw []byte) {
	s.appendRec(id, raw)
	s.idx.insert(h, int32(s.n))
	s.n++
}

// pushAt is push for an id whose lookup ended at the empty slot free.
func (s *Snapshot) pushAt(free, h uint32, id string, raw []byte) {
	s.appendRec(id, raw)
	s.idx.insertAt(free, h, int32(s.n))
	s.n++
}

func (s *Snapshot) appendRec(id string, raw []byte) {
	if s.n>>segBits == len(s.recs) {
		s.recs = append(s.recs, make([]rec, 0, segSize))
	}
	seg := &s.recs[len(s.recs)-1]
	*seg = append(*seg, s.makeRec(id, raw))
}

func (s *Snapshot) put(id string, raw []byte) {
	if at, h, ok := s.lookup(id); ok {
		s.update(s.at(at), id, raw)
	} else {
		s.push(h, id, raw)
	}
}

// removeAt removes the record at pos, whose id hashes to h. With compact,
// the holes are dropped once they are half the positions; a staged round
// (whose undo log holds positions) compacts when it finishes.
func (s *Snapshot) removeAt(pos int32, h uint32, compact bool) []byte {
	r := s.at(pos)
	raw := r.raw()
	if r.id&idsFlag != 0 {
		s.idsDead += ownLen(r.idIn(s.ids))
	}
	s.idx.remove(h, pos)
	*r = rec{}
	s.dead++
	if compact {
		s.maybeCompact()
	}
	return raw
}

func (s *Snapshot) maybeCompact() {
	switch {
	case s.dead > 1024 && s.dead > s.n/2:
		s.compact()
	case s.idsDead > 64<<10 && s.idsDead > len(s.ids)/2:
		s.compactIDs()
	}
}

// compactIDs drops the ids in s.ids that no record uses any more.
func (s *Snapshot) compactIDs() {
	var ids []byte
	for _, seg := range s.recs {
		for i := range seg {
			if r := &seg[i]; r.data != nil && r.id&idsFlag != 0 {
				id := r.idIn(s.ids)
				r.id = idsFlag | uint32(len(ids))
				ids = binary.AppendUvarint(ids, uint64(len(id)))
				ids = append(ids, id...)
			}
		}
	}
	s.ids, s.idsDead = ids, 0
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

// compact drops the holes deletions left, keeping order, and the ids in
// s.ids that no record uses any more.
func (s *Snapshot) compact() {
	var ids []byte
	j := int32(0)
	for i := int32(0); i < int32(s.n); i++ {
		r := *s.at(i)
		if r.data == nil {
			continue
		}
		if r.id&idsFlag != 0 {
			id := r.idIn(s.ids)
			r.id = idsFlag | uint32(len(ids))
			ids = binary.AppendUvarint(ids, uint64(len(id)))
			ids = append(ids, id...)
		}
		*s.at(j) = r
		if i != j {
			s.idx.set(hashOf(r.idIn(ids)), i, j)
		}
		j++
	}
	s.ids, s.idsDead = ids, 0
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
	// Hashing first, then loading: a loop of loads alone keeps all the
	// batch's misses in flight, where hash calls between them fill the
	// processor's window and leave only a few outstanding.
	for k := range batch {
		hashes[k] = hashOf(batch[k].ID)
	}
	mask := uint32(len(s.idx.slots) - 1)
	var sink int32
	for k := range batch {
		sink += s.idx.slots[hashes[k]&mask].pos
	}
	for k := range batch {
		if sl := s.idx.slots[hashes[k]&mask]; sl.pos != 0 && sl.hash == hashes[k] {
			if r := s.at(sl.pos - 1); r.data != nil {
				// The id's first byte: in the record, or in s.ids.
				if r.id&idsFlag == 0 {
					sink += int32(*(*byte)(unsafe.Add(unsafe.Pointer(r.data), r.id>>idLenBits)))
				} else {
					sink += int32(s.ids[r.id&^idsFlag])
				}
			}
		}
	}
	s.sink = sink
}
