package deltaclient

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// specialBits (AVX2 where the CPU has it) and the pure Go version mark
// exactly the quotes, backslashes and control characters, bytes of 0x80
// and more never.
func TestSpecialBits(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, 64*40)
	for i := range b {
		switch rng.IntN(4) {
		case 0:
			b[i] = byte(rng.IntN(256))
		case 1:
			b[i] = `"\`[rng.IntN(2)]
		default:
			b[i] = byte(0x18 + rng.IntN(16)) // around 0x20
		}
	}
	for name, f := range map[string]func([]byte, []uint64){"go": specialBitsGo, "used": specialBits} {
		out := make([]uint64, len(b)/64)
		f(b, out)
		for i, c := range b {
			want := c == '"' || c == '\\' || c < 0x20
			if got := out[i/64]>>(i%64)&1 == 1; got != want {
				t.Fatalf("%s: byte %d (%#x): special %v, want %v", name, i, c, got, want)
			}
		}
	}
}

// Pages larger than one stretch of the bitmap (32 KB), with strings of
// every length up to a few hundred bytes, escapes and multi-byte UTF-8
// across the 64-byte blocks, decode as the token decoder does.
func TestScanLongPages(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 6))
	str := func(b []byte) []byte {
		b = append(b, '"')
		for n := rng.IntN(300); n > 0; n-- {
			switch rng.IntN(40) {
			case 0:
				b = append(b, `\"`...)
			case 1:
				b = append(b, `\u00e9`...)
			case 2:
				b = append(b, "é"...)
			default:
				b = append(b, byte('a'+rng.IntN(26)))
			}
		}
		return append(b, '"')
	}
	for round := 0; round < 4; round++ {
		body := []byte(`{"value":[`)
		for i := 0; len(body) < 100_000+round*40_000; i++ {
			if i > 0 {
				body = append(body, ',')
			}
			body = fmt.Appendf(body, `{"id":"r%d","n":%d,"s":`, i, i)
			body = str(body)
			body = append(body, `,"o":{"a":[`...)
			body = str(body)
			body = append(body, `]}}`...)
		}
		body = append(body, `],"@odata.deltaLink":"d"}`...)
		if !sameDecoding(t, body, Identity{}) {
			t.Fatalf("round %d: the scanner gave up on a valid page of %d bytes", round, len(body))
		}
		// Cut inside the page: an error, never a page.
		if cut := body[:len(body)-rng.IntN(len(body)/2)-30]; sameDecoding(t, cut, Identity{}) {
			t.Fatalf("round %d: the scanner decoded a page cut at %d bytes", round, len(cut))
		}
	}
}
