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
	r := &Round{Changes: make([]Change, 0, len(entries))}
	// Per record touched: did it exist before the round, does it now, and
	// was every entry for it a removal. One map lookup each way.
	const (
		before = 1 << iota
		after
		updated
	)
	seen := make(map[string]uint8, len(entries))
	order := make([]string, 0, len(entries))
	var fields []FieldChange // the round's field changes, in shared arrays
	var hashes [warmBatch]uint32
	for i := range entries {
		if i%warmBatch == 0 {
			s.warm(entries[i:min(i+warmBatch, len(entries))], &hashes)
		}
		e := &entries[i]
		h := hashes[i%warmBatch]
		at, had := s.idx.find(e.ID, h, s.idAt)
		st, ok := seen[e.ID]
		if !ok {
			if had {
				st = before
			}
			order = append(order, e.ID)
		}
		if e.Removed {
			var old []byte
			if had {
				old = s.removeAt(at, h)
			}
			r.Changes = append(r.Changes, Change{Kind: Deleted, ID: e.ID, Record: old, Reason: e.Reason, Unknown: !had})
			seen[e.ID] = st &^ after
			continue
		}
		st |= after | updated
		seen[e.ID] = st
		if !had {
			s.push(h, e.ID, e.Raw)
			r.Changes = append(r.Changes, Change{Kind: Added, ID: e.ID, Record: e.Raw})
			continue
		}
		r0 := s.at(at)
		old := r0.raw
		if cap(fields)-len(fields) < 32 {
			fields = make([]FieldChange, 0, 4096)
		}
		start := len(fields)
		var merged []byte
		merged, fields = mergeDiff(old, e.Raw, fields)
		r0.raw = merged
		var fc []FieldChange
		if len(fields) > start {
			fc = fields[start:len(fields):len(fields)]
		}
		r.Changes = append(r.Changes, Change{Kind: Updated, ID: e.ID, Record: merged, Previous: old, Fields: fc})
	}
	for _, id := range order {
		st := seen[id]
		switch {
		case st&before != 0 && st&after != 0:
			r.Updated++
		case st&before == 0 && st&after != 0:
			r.Added++
		case st&before != 0, st&updated == 0: // gone, or only removals of unknown records
			r.Deleted++
		}
	}
	r.Records = s.Len()
	return r
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
