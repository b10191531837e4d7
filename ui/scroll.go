package ui

// scroller is a cursor over n rows with a window of h rows.
type scroller struct {
	cursor, offset int
}

func (s *scroller) clamp(n, h int) {
	if s.cursor >= n {
		s.cursor = n - 1
	}
	if s.cursor < 0 {
		s.cursor = 0
	}
	if h < 1 {
		h = 1
	}
	if s.offset > s.cursor {
		s.offset = s.cursor
	}
	if s.cursor >= s.offset+h {
		s.offset = s.cursor - h + 1
	}
	if s.offset > n-h {
		s.offset = max(0, n-h)
	}
	if s.offset < 0 {
		s.offset = 0
	}
}

func (s *scroller) move(d, n, h int) {
	s.cursor += d
	s.clamp(n, h)
}

// shift keeps the same rows in view when k rows are inserted above.
func (s *scroller) shift(k int) {
	s.cursor += k
	s.offset += k
}
