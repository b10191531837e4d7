package model

import (
	"bytes"
	"time"
)

// Kind is what happened to a record.
type Kind uint8

const (
	Added Kind = iota
	Updated
	Deleted
)

func (k Kind) String() string {
	switch k {
	case Added:
		return "added"
	case Updated:
		return "updated"
	}
	return "deleted"
}

// Reasons a record left the set.
const (
	ReasonDeleted = "deleted" // destroyed
	ReasonChanged = "changed" // no longer matches the query
)

// ViaRebaseline marks changes found by comparing a new baseline with the
// old snapshot, after a delta link expired or on request.
const ViaRebaseline = "rebaseline"

// Change is one entry of a round, as the client understood it.
type Change struct {
	Kind Kind
	ID   string
	// Record is the record after the change (added, updated), or the
	// record as last known before it went (deleted; nil when unknown).
	Record []byte
	// Previous is the record before an update.
	Previous []byte
	// Fields lists what an update changed, in record order.
	Fields []FieldChange
	// Reason is why a record was deleted: ReasonDeleted, ReasonChanged,
	// or "" when the server gave none.
	Reason string
	// Unknown marks a deletion of a record the snapshot never had.
	Unknown bool
	// Inferred marks a deletion found by a re-baseline: the record is gone
	// from the new baseline, but the server never said so.
	Inferred bool
}

// Round is the result of applying one delta (or comparing two baselines).
type Round struct {
	Seq      int // 0 is the baseline; rounds count from 1
	Time     time.Time
	Duration time.Duration
	Pages    int
	Bytes    int64
	Via      string // "" or ViaRebaseline
	// Baseline is set on the entry that stands for the baseline itself.
	Baseline bool
	Records  int // records in the snapshot after the round
	Changes  []Change
	// Net counts per record: a record added then updated in one round
	// counts once as added; added then deleted, not at all.
	Added, Updated, Deleted int
}

// Apply applies a complete delta to the snapshot in server order and
// returns what changed. Entries for unknown records are additions;
// entries for known records are merged into them (a partial entry keeps
// the fields it omits) and their changed fields listed.
func (s *Snapshot) Apply(entries []Entry) *Round {
	a := s.begin(len(entries), false)
	a.Add(entries)
	return a.Finish()
}

// Per record touched by a round: did it exist before the round, does it
// now, and was every entry for it a removal.
const (
	stBefore = 1 << iota
	stAfter
	stUpdated
)

// Applier applies one delta round page by page, so a round's first pages
// are applied while its later ones are still being fetched and decoded.
// Until Finish, Rollback puts the snapshot back as it was before Begin: a
// round that fails part way changes nothing. The snapshot must not be
// changed otherwise while an Applier is open.
type Applier struct {
	s      *Snapshot
	r      *Round
	fields []FieldChange // the round's field changes, in shared arrays
	staged bool
	undo   []undo
	// The state of each record touched (stBefore...): for a record in
	// the snapshot in its position's mark (marked lists those positions),
	// for one not there now in gone. Counts follow each state change, so
	// the round's net counts need no pass over its ids at the end.
	marked []int32
	gone   map[string]uint8
	count  [4]int // by class: none, added, updated, deleted
	// The id arena at Begin: what the snapshot's records use of it then
	// is what they use after a rollback, and all it gained is dead.
	idsLen, idsDead int
}

const stSeen = 1 << 3 // a mark is set

// undo is what Rollback needs to reverse one change.
type undo struct {
	kind Kind
	pos  int32
	h    uint32
	rec  rec // the record as it was (updates, removals)
}

// Begin opens a staged round; n is about how many entries it will have.
func (s *Snapshot) Begin(n int) *Applier { return s.begin(n, true) }

func (s *Snapshot) begin(n int, staged bool) *Applier {
	if len(s.marks) < s.n {
		s.marks = append(s.marks, make([]uint8, s.n-len(s.marks))...)
	}
	return &Applier{
		s:       s,
		r:       &Round{Changes: make([]Change, 0, n)},
		marked:  make([]int32, 0, n),
		staged:  staged,
		idsLen:  len(s.ids),
		idsDead: s.idsDead,
	}
}

// class is how a record's state counts in the round: 0 not at all, 1
// added, 2 updated, 3 deleted.
func class(st uint8) int {
	switch {
	case st&stBefore != 0 && st&stAfter != 0:
		return 2
	case st&stBefore == 0 && st&stAfter != 0:
		return 1
	case st&stBefore != 0, st&stUpdated == 0: // gone, or only removals of unknown records
		return 3
	}
	return 0
}

// Add applies the next entries of the round, in server order.
func (a *Applier) Add(entries []Entry) {
	s, r := a.s, a.r
	var hashes [warmBatch]uint32
	for i := range entries {
		if i%warmBatch == 0 {
			s.warm(entries[i:min(i+warmBatch, len(entries))], &hashes)
		}
		e := &entries[i]
		h := hashes[i%warmBatch]
		at, free, had := s.idx.lookup(e.ID, h, s.idAt)
		var st uint8
		seen := false
		if had {
			if m := s.marks[at]; m != 0 {
				st, seen = m&^stSeen, true
			} else {
				st = stBefore
			}
		} else if a.gone != nil {
			st, seen = a.gone[e.ID]
		}
		if seen {
			a.count[class(st)]--
		}
		if e.Removed {
			var old []byte
			if had {
				if a.staged {
					a.undo = append(a.undo, undo{kind: Deleted, pos: at, h: h, rec: *s.at(at)})
				}
				old = s.removeAt(at, h, false)
				s.marks[at] = 0
			}
			r.Changes = append(r.Changes, Change{Kind: Deleted, ID: e.ID, Record: old, Reason: e.Reason, Unknown: !had})
			st &^= stAfter
			if a.gone == nil {
				a.gone = map[string]uint8{}
			}
			a.gone[e.ID] = st
			a.count[class(st)]++
			continue
		}
		st |= stAfter | stUpdated
		a.count[class(st)]++
		if !had {
			if a.staged {
				a.undo = append(a.undo, undo{kind: Added, pos: int32(s.n), h: h})
			}
			a.mark(int32(s.n), st)
			s.pushAt(free, h, e.ID, e.Raw)
			r.Changes = append(r.Changes, Change{Kind: Added, ID: e.ID, Record: e.Raw})
			continue
		}
		if s.marks[at] == 0 {
			a.marked = append(a.marked, at)
		}
		s.marks[at] = st | stSeen
		r0 := s.at(at)
		old := r0.raw()
		if a.staged {
			a.undo = append(a.undo, undo{kind: Updated, pos: at, rec: *r0})
		}
		if cap(a.fields)-len(a.fields) < 32 {
			a.fields = make([]FieldChange, 0, 4096)
		}
		start := len(a.fields)
		var merged []byte
		merged, a.fields = mergeDiff(old, e.Raw, a.fields)
		s.update(r0, e.ID, merged)
		var fc []FieldChange
		if len(a.fields) > start {
			fc = a.fields[start:len(a.fields):len(a.fields)]
		}
		r.Changes = append(r.Changes, Change{Kind: Updated, ID: e.ID, Record: merged, Previous: old, Fields: fc})
	}
}

// mark sets the state of the record about to be pushed at pos.
func (a *Applier) mark(pos int32, st uint8) {
	s := a.s
	for len(s.marks) <= int(pos) {
		s.marks = append(s.marks, 0)
	}
	s.marks[pos] = st | stSeen
	a.marked = append(a.marked, pos)
}

// unmark clears the marks of the round, so the next starts clean.
func (a *Applier) unmark() {
	for _, p := range a.marked {
		if int(p) < len(a.s.marks) {
			a.s.marks[p] = 0
		}
	}
	a.marked = nil
}

// Changes returns the round's changes so far. They are final: later Adds
// only append, so a caller may read them (say, to store them) while the
// round goes on.
func (a *Applier) Changes() []Change { return a.r.Changes }

// Finish ends the round and returns it; the changes stay.
func (a *Applier) Finish() *Round {
	r := a.r
	r.Added, r.Updated, r.Deleted = a.count[1], a.count[2], a.count[3]
	a.unmark()
	a.s.maybeCompact()
	r.Records = a.s.Len()
	a.undo = nil
	return r
}

// Rollback undoes every change since Begin, newest first.
func (a *Applier) Rollback() {
	s := a.s
	for k := len(a.undo) - 1; k >= 0; k-- {
		u := &a.undo[k]
		switch u.kind {
		case Updated:
			*s.at(u.pos) = u.rec
		case Deleted:
			*s.at(u.pos) = u.rec
			s.idx.insert(u.h, u.pos)
			s.dead--
		case Added:
			s.pop(u.h, u.pos)
		}
	}
	// Nothing compacts while a round is staged, so the arena is its old
	// self plus what the round appended, and the counts of the round's
	// removals and updates no longer hold.
	s.idsDead = a.idsDead + len(s.ids) - a.idsLen
	a.unmark()
	a.undo = nil
	a.r = &Round{}
}

// Compare returns what changed from old to new as a round marked via
// re-baseline: records only in new are added, records only in old deleted
// (Inferred), records whose fields differ updated.
func Compare(old, new *Snapshot) *Round {
	r := &Round{Via: ViaRebaseline}
	new.Each(func(id string, raw []byte) bool {
		prev, ok := old.Get(id)
		switch {
		case !ok:
			r.Changes = append(r.Changes, Change{Kind: Added, ID: id, Record: raw})
			r.Added++
		case !bytes.Equal(prev, raw):
			if f := Diff(prev, raw); len(f) > 0 {
				r.Changes = append(r.Changes, Change{Kind: Updated, ID: id, Record: raw, Previous: prev, Fields: f})
				r.Updated++
			}
		}
		return true
	})
	old.Each(func(id string, raw []byte) bool {
		if _, ok := new.Get(id); !ok {
			r.Changes = append(r.Changes, Change{Kind: Deleted, ID: id, Record: raw, Reason: ReasonDeleted, Inferred: true})
			r.Deleted++
		}
		return true
	})
	r.Records = new.Len()
	return r
}
