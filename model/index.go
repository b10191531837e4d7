package model

import "hash/maphash"

// index finds a record's position by its id. It is an open-addressing hash
// table of 8-byte slots holding no pointers: a million records cost 16 MB
// of table that the garbage collector never scans, where a Go map of
// strings costs about 50 MB, all of it scanned. A slot keeps 32 bits of the
// id's hash, so growing the table never hashes an id again, and a probe
// reads an id only when those bits match.
type index struct {
	slots []slot
	count int
}

// slot is a record position plus one (0: empty) and its id's hash.
type slot struct {
	hash uint32
	pos  int32
}

var seed = maphash.MakeSeed()

func hashOf(id string) uint32 { return uint32(maphash.String(seed, id)) }

const minSlots = 64

func newIndex(n int) index { return index{slots: newSlots(slotsFor(n))} }

// slotsFor is the table size for n ids: at most 70% full.
func slotsFor(n int) int {
	size := minSlots
	for size*7 < n*10 {
		size *= 2
	}
	return size
}

// newSlots returns an empty table whose memory has been written once. A
// large allocation comes fresh from the kernel untouched; a table page
// first read (by a probe) maps the shared zero page, and the first insert
// into it then costs a copy-on-write fault and a TLB flush on every core.
// Writing the zeros first costs one ordinary fault per page instead.
func newSlots(n int) []slot {
	s := make([]slot, n)
	clear(s)
	return s
}

// find returns the position of id, using ids to check candidates.
func (x *index) find(id string, h uint32, idAt func(int32) string) (int32, bool) {
	if len(x.slots) == 0 {
		return 0, false
	}
	mask := uint32(len(x.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := x.slots[i]
		if s.pos == 0 {
			return 0, false
		}
		if s.hash == h && idAt(s.pos-1) == id {
			return s.pos - 1, true
		}
	}
}

// lookup is find that, for an absent id, also returns the empty slot
// that ends its probe run, where insertAt puts it without probing again.
func (x *index) lookup(id string, h uint32, idAt func(int32) string) (pos int32, free uint32, ok bool) {
	if len(x.slots) == 0 {
		return 0, 0, false
	}
	mask := uint32(len(x.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := x.slots[i]
		if s.pos == 0 {
			return 0, i, false
		}
		if s.hash == h && idAt(s.pos-1) == id {
			return s.pos - 1, 0, true
		}
	}
}

// insertAt adds a position for an absent id whose probe run lookup ended
// at free; the table must not have changed since.
func (x *index) insertAt(free, h uint32, pos int32) {
	if (x.count+1)*10 > len(x.slots)*7 {
		x.insert(h, pos)
		return
	}
	x.slots[free] = slot{hash: h, pos: pos + 1}
	x.count++
}

// insert adds a position for an id known to be absent.
func (x *index) insert(h uint32, pos int32) {
	if (x.count+1)*10 > len(x.slots)*7 {
		x.grow()
	}
	mask := uint32(len(x.slots) - 1)
	i := h & mask
	for x.slots[i].pos != 0 {
		i = (i + 1) & mask
	}
	x.slots[i] = slot{hash: h, pos: pos + 1}
	x.count++
}

func (x *index) grow() { x.growTo(max(minSlots, 2*len(x.slots))) }

// growTo moves the table to one of size slots, a power of two.
func (x *index) growTo(size int) {
	old := x.slots
	x.slots = newSlots(size)
	mask := uint32(len(x.slots) - 1)
	for _, s := range old {
		if s.pos == 0 {
			continue
		}
		i := s.hash & mask
		for x.slots[i].pos != 0 {
			i = (i + 1) & mask
		}
		x.slots[i] = s
	}
}

// remove deletes the slot of position pos (whose id hashes to h), moving
// later slots of the same probe run back so no tombstone is left.
func (x *index) remove(h uint32, pos int32) {
	mask := uint32(len(x.slots) - 1)
	i := h & mask
	for x.slots[i].pos != pos+1 {
		if x.slots[i].pos == 0 {
			return
		}
		i = (i + 1) & mask
	}
	x.count--
	for j := (i + 1) & mask; ; j = (j + 1) & mask {
		s := x.slots[j]
		if s.pos == 0 {
			break
		}
		// s may fill the hole at i unless its home lies cyclically in (i, j].
		if home := s.hash & mask; (j-home)&mask >= (j-i)&mask {
			x.slots[i] = s
			i = j
		}
	}
	x.slots[i] = slot{}
}

// set changes the position stored for an id (after compaction).
func (x *index) set(h uint32, from, to int32) {
	mask := uint32(len(x.slots) - 1)
	for i := h & mask; x.slots[i].pos != 0; i = (i + 1) & mask {
		if x.slots[i].pos == from+1 {
			x.slots[i].pos = to + 1
			return
		}
	}
}
