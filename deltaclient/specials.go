package deltaclient

import (
	"encoding/binary"
	"math/bits"
	"sync"
)

// The scanner finds where strings end from a bitmap of a page's special
// bytes (quotes, backslashes, control characters), made a block of 64
// bytes at a time ahead of the walk (with AVX2 where the CPU has it):
// a string's end is then the next set bit, found with one shift and one
// count, where testing the string's own bytes cost a dozen operations
// per eight bytes and a branch on its length.

// specialBits sets bit i%64 of out[i/64] for each byte b[i] that is a
// quote, a backslash or below 0x20; len(b) is a multiple of 64 and out
// has len(b)/64 words.
var specialBits = specialBitsGo

func specialBitsGo(b []byte, out []uint64) {
	const lo7, hi = 0x7f7f7f7f7f7f7f7f, 0x8080808080808080
	for k := range out {
		var m uint64
		for w := range 8 {
			x := binary.LittleEndian.Uint64(b[k*64+w*8:])
			// Exact per byte (no borrow between bytes): the high bit
			// of q, bs and c is clear where the low seven bits are a
			// quote, a backslash or below 0x20; bytes of 0x80 and more
			// are never special.
			t := x & lo7
			q := t ^ 0x2222222222222222 + lo7
			bs := t ^ 0x5c5c5c5c5c5c5c5c + lo7
			c := t + 0x6060606060606060
			f := ^(q&bs&c | x) & hi
			// Gather the eight high bits into one byte.
			m |= (f >> 7 * 0x0102040810204080 >> 56) << (8 * w)
		}
		out[k] = m
	}
}

// specialMap is a page's bitmap, made as far as the walk needs it.
type specialMap struct {
	bm   []uint64
	done int // words made; the last two are the tail and a sentinel
}

var specialMaps sync.Pool

func (s *scanner) initSpecials() {
	n := len(s.b)/64 + 2
	if v, ok := specialMaps.Get().(*[]uint64); ok && cap(*v) >= n {
		s.bm = (*v)[:n]
	} else {
		s.bm = make([]uint64, n)
	}
	s.done = 0
}

func (s *scanner) putSpecials() {
	bm := s.bm
	s.bm = nil
	specialMaps.Put(&bm)
}

// endOf is nextSpecial, inlined where the bitmap is already made and the
// next special byte is within 64.
func (s *scanner) endOf(p int) int {
	k := p >> 6
	if k+2 <= s.done {
		sh := uint(p) & 63
		if w := s.bm[k]>>sh | s.bm[k+1]<<(64-sh); w != 0 {
			return p + bits.TrailingZeros64(w)
		}
	}
	return s.nextSpecial(p)
}

// window returns the special bits of b[p:p+64] (p <= len(b)).
func (s *scanner) window(p int) uint64 {
	k := p >> 6
	if k+2 > s.done {
		s.more(k + 2)
	}
	sh := uint(p) & 63
	return s.bm[k]>>sh | s.bm[k+1]<<(64-sh)
}

// windowEnd is nextSpecial(p) given w, the window at p.
func (s *scanner) windowEnd(p int, w uint64) int {
	if w != 0 {
		return p + bits.TrailingZeros64(w)
	}
	return s.nextSpecial(p + 64)
}

// nextSpecial returns the index of the first special byte at or after p
// (p <= len(b)), or len(b) or more when there is none.
func (s *scanner) nextSpecial(p int) int {
	for {
		k := p >> 6
		if k+2 > s.done {
			s.more(k + 2)
		}
		sh := uint(p) & 63
		// Bits p..p+63; a shift by 64 is 0 in Go.
		if w := s.bm[k]>>sh | s.bm[k+1]<<(64-sh); w != 0 {
			return p + bits.TrailingZeros64(w)
		}
		p += 64
	}
}

// more makes the bitmap's first need words, and at least the next 512
// (32 KB of the page, in cache when the walk gets there).
func (s *scanner) more(need int) {
	full := len(s.b) / 64
	if s.done < full {
		to := min(max(need, s.done+512), full)
		specialBits(s.b[s.done*64:to*64], s.bm[s.done:to])
		s.done = to
	}
	if need > s.done {
		// The last bytes, padded with quotes, then all ones: a string
		// still open at the end of the page ends at len(b) or later.
		var pad [64]byte
		for i := range pad {
			pad[i] = '"'
		}
		copy(pad[:], s.b[full*64:])
		specialBitsGo(pad[:], s.bm[full:full+1])
		s.bm[full+1] = ^uint64(0)
		s.done = full + 2
	}
}
