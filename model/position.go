package model

// Locate is Get with the record's position: a number below Span that
// stays the record's until the snapshot changes, so a caller comparing a
// full read with the snapshot can mark the records it saw in a bitset
// instead of a map of ids.
func (s *Snapshot) Locate(id string) (pos int, raw []byte, ok bool) {
	at, ok := s.idx.find(id, hashOf(id), s.idAt)
	if !ok {
		return 0, nil, false
	}
	return int(at), s.at(at).raw(), true
}

// Span bounds the positions Locate returns.
func (s *Snapshot) Span() int { return s.n }

// EachPos is Each with each record's position.
func (s *Snapshot) EachPos(fn func(pos int, id string, raw []byte) bool) {
	pos := 0
	for _, seg := range s.recs {
		for i := range seg {
			if r := &seg[i]; r.data != nil && !fn(pos, r.idIn(s.ids), r.raw()) {
				return
			}
			pos++
		}
	}
}
