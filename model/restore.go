package model

// Restore applies stored entries to a snapshot without classifying them:
// a record replaces the one with its id (or is added), a removal drops
// it. It rebuilds a snapshot from a store, where the changes were
// reported when they happened.
func (s *Snapshot) Restore(entries []Entry) {
	for i := range entries {
		e := &entries[i]
		if e.Removed {
			s.remove(e.ID)
			continue
		}
		s.put(e.ID, e.Raw)
	}
}
