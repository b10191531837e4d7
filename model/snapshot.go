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
	index map[string]int32
	ids   []string
	raws  [][]byte
	dead  int
}

// NewSnapshot returns an empty snapshot sized for about n records.
func NewSnapshot(n int) *Snapshot {
	return &Snapshot{index: make(map[string]int32, n), ids: make([]string, 0, n), raws: make([][]byte, 0, n)}
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
	for i := range entries {
		e := &entries[i]
		if e.Removed {
			skipped++
			continue
		}
		s.put(e.ID, e.Raw)
	}
	return skipped
}

// Clone returns a snapshot with the same records that changes
// independently (the records themselves are shared: they never change).
func (s *Snapshot) Clone() *Snapshot {
	n := len(s.ids) + len(s.ids)/8 // room to grow without copying at once
	c := &Snapshot{index: make(map[string]int32, n), ids: append(make([]string, 0, n), s.ids...), raws: append(make([][]byte, 0, n), s.raws...), dead: s.dead}
	for k, v := range s.index {
		c.index[k] = v
	}
	return c
}

// Len is the number of records.
func (s *Snapshot) Len() int { return len(s.index) }

// Get returns the record with this identity.
func (s *Snapshot) Get(id string) ([]byte, bool) {
	i, ok := s.index[id]
	if !ok {
		return nil, false
	}
	return s.raws[i], true
}

// Each calls fn for every record in first-seen order until fn returns false.
func (s *Snapshot) Each(fn func(id string, raw []byte) bool) {
	for i, raw := range s.raws {
		if raw == nil {
			continue
		}
		if !fn(s.ids[i], raw) {
			return
		}
	}
}

func (s *Snapshot) put(id string, raw []byte) {
	if i, ok := s.index[id]; ok {
		s.raws[i] = raw
		return
	}
	s.index[id] = int32(len(s.ids))
	s.ids = append(s.ids, id)
	s.raws = append(s.raws, raw)
}

func (s *Snapshot) remove(id string) ([]byte, bool) {
	i, ok := s.index[id]
	if !ok {
		return nil, false
	}
	raw := s.raws[i]
	delete(s.index, id)
	s.ids[i], s.raws[i] = "", nil
	s.dead++
	if s.dead > 1024 && s.dead > len(s.ids)/2 {
		s.compact()
	}
	return raw, true
}

// compact drops the holes deletions left, keeping order.
func (s *Snapshot) compact() {
	j := 0
	for i, raw := range s.raws {
		if raw == nil {
			continue
		}
		s.ids[j], s.raws[j] = s.ids[i], raw
		s.index[s.ids[j]] = int32(j)
		j++
	}
	clear(s.ids[j:])
	clear(s.raws[j:])
	s.ids, s.raws, s.dead = s.ids[:j], s.raws[:j], 0
}
