package deltaclient

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// Edges of the page scanner's bitmap of special bytes: pages of every
// length modulo 64 held in buffers with no room after them, strings that
// end on the last byte, escapes, control characters and invalid UTF-8
// on the 64-byte block boundaries, and the pure Go bitmap (the one used
// where the CPU has no AVX2) driven through the same walk on amd64.

// bitmapMakers are the bitmap functions to run the scanner with: the one
// the package chose and, when it differs, the pure Go one.
func bitmapMakers() map[string]func([]byte, []uint64) {
	return map[string]func([]byte, []uint64){"used": specialBits, "go": specialBitsGo}
}

// withBitmap runs f with specialBits set to bitmap. The tests that call it
// are not parallel: parallel tests start only after the sequential ones
// have finished, so none sees the swap.
func withBitmap(t *testing.T, bitmap func([]byte, []uint64), f func()) {
	t.Helper()
	saved := specialBits
	specialBits = bitmap
	defer func() { specialBits = saved }()
	f()
}

// exact returns a copy of b in a buffer of exactly len(b): no slack after
// its last byte, so a read past it is a read past the allocation.
func exact(b []byte) []byte {
	c := make([]byte, len(b))
	copy(c, b)
	return c
}

// sameAsDecoder checks decodePage (the scanner, falling back to the token
// decoder when it gives up) against the token decoder alone: the same
// page or the same error, whether or not the scanner gave up.
func sameAsDecoder(t *testing.T, in []byte) {
	t.Helper()
	got, gerr := decodePage(in, Identity{})
	want, werr := decodeJSONPage(in, Identity{})
	if werr != nil {
		if gerr == nil {
			t.Fatalf("input %.120q: decodePage gave a page, the decoder %v", in, werr)
		}
		return
	}
	if gerr != nil {
		t.Fatalf("input %.120q: decodePage %v, the decoder a page", in, gerr)
	}
	if got.nextLink != want.nextLink || got.deltaLink != want.deltaLink || got.count != want.count || len(got.entries) != len(want.entries) {
		t.Fatalf("input %.120q:\ndecodePage %+v\ndecoder %+v", in, got, want)
	}
	for i := range got.entries {
		a, b := got.entries[i], want.entries[i]
		if a.Kind != b.Kind || a.ID != b.ID || a.Reason != b.Reason || !bytes.Equal(a.Raw, b.Raw) {
			t.Fatalf("input %.120q: entry %d:\ndecodePage %+v\ndecoder %+v", in, i, a, b)
		}
	}
}

// pageOfLen returns a valid page of exactly n bytes (n >= 63) whose last
// record's last string runs up to the closing brackets.
func pageOfLen(n int, fill byte) []byte {
	head := `{"@odata.deltaLink":"d","value":[{"id":"a"},{"id":"b","s":"`
	tail := `"}]}`
	pad := n - len(head) - len(tail)
	if pad < 0 {
		panic(n)
	}
	return exact([]byte(head + strings.Repeat(string([]byte{fill}), pad) + tail))
}

// Pages of every length from 63 to 400 bytes (every residue modulo 64,
// pages shorter than one block and pages of several), each alone in a
// buffer of its length, decode as the token decoder decodes them; cut at
// every length, they never decode to a page; and the scanner itself
// takes the whole ones.
func TestScanExactLengthPages(t *testing.T) {
	for name, bitmap := range bitmapMakers() {
		withBitmap(t, bitmap, func() {
			for n := 63; n <= 400; n++ {
				for _, fill := range []byte{'x', 0xe9} { // ASCII, and bytes >= 0x80 (invalid UTF-8 alone)
					body := pageOfLen(n, fill)
					if cap(body) != n {
						t.Fatalf("cap %d", cap(body))
					}
					if !sameDecoding(t, body, Identity{}) {
						t.Fatalf("%s: the scanner gave up on a valid page of %d bytes", name, n)
					}
					p, err, _ := scanPage(body, Identity{})
					if err != nil || len(p.entries) != 2 || p.entries[1].ID != "b" || p.deltaLink != "d" {
						t.Fatalf("%s, %d bytes: %v %+v", name, n, err, p)
					}
					for cut := 1; cut < n; cut += 1 + cut/8 {
						short := exact(body[:n-cut])
						if _, err := decodePage(short, Identity{}); err == nil {
							t.Fatalf("%s: a page cut to %d of %d bytes decoded: %q", name, n-cut, n, short)
						}
						sameDecoding(t, short, Identity{})
					}
				}
			}
			// A body whose last byte closes a string: the page is cut,
			// and the string's end is the buffer's end.
			for n := 1; n < 200; n++ {
				s := `{"value":[],"@odata.deltaLink":"` + strings.Repeat("q", n) + `"`
				sameAsDecoder(t, exact([]byte(s)))
				s = `{"value":[{"id":"` + strings.Repeat("q", n) + `"`
				sameAsDecoder(t, exact([]byte(s)))
				s = `{"value":[{"id":"a","s":"` + strings.Repeat("q", n) + `\`
				sameAsDecoder(t, exact([]byte(s)))
			}
		})
	}
}

// Escapes, \u sequences, control characters, DEL, quotes and invalid
// UTF-8 at every offset around the 64-byte block boundaries, inside
// record values, member names and links: the same outcome as the token
// decoder, with either bitmap.
func TestScanSpecialsAtBlockBoundaries(t *testing.T) {
	inserts := []string{`\"`, `\\`, `\/`, `\u00e9`, `\u`, `\u00`, `\uZZZZ`, `\x`, "\x00", "\x1f", "\x7f", "\x80", "\xff", "\xc3", "é", "\t", "\n", `"`}
	for name, bitmap := range bitmapMakers() {
		withBitmap(t, bitmap, func() {
			for _, ins := range inserts {
				for at := 0; at < 140; at++ {
					pre := strings.Repeat("p", at)
					for _, tmpl := range []string{
						`{"value":[{"id":"a","s":"%s%s","t":1}],"@odata.deltaLink":"d"}`,
						`{"value":[{"id":"a","%s%s":1}],"@odata.deltaLink":"d"}`,
						`{"value":[{"id":"%s%s"}],"@odata.deltaLink":"d"}`,
						`{"value":[{"id":"a","o":{"k":["%s%s"]}}],"@odata.deltaLink":"d"}`,
						`{"value":[],"@odata.nextLink":"%s%s"}`,
					} {
						body := exact(fmt.Appendf(nil, tmpl, pre, ins))
						sameDecoding(t, body, Identity{})
						sameAsDecoder(t, body)
					}
				}
			}
		})
		_ = name
	}
}

// Nesting up to the limit and one past it, with the record at different
// offsets: the scanner and the decoder agree (past the limit, an error).
func TestScanNestingLimit(t *testing.T) {
	for name, bitmap := range bitmapMakers() {
		withBitmap(t, bitmap, func() {
			for depth := maxDepth - 3; depth <= maxDepth+2; depth++ {
				for _, open := range []string{"[", `{"k":`} {
					closeBy := "]"
					if open != "[" {
						closeBy = "}"
					}
					v := strings.Repeat(open, depth) + "1" + strings.Repeat(closeBy, depth)
					for pad := 0; pad < 70; pad += 23 {
						body := exact([]byte(`{"value":[{"id":"` + strings.Repeat("i", pad+1) + `","n":` + v + `}],"@odata.deltaLink":"d"}`))
						sameDecoding(t, body, Identity{})
						sameAsDecoder(t, body)
					}
				}
			}
			// Far past the limit: an error, never a crash or a page.
			deep := exact([]byte(`{"value":[{"id":"a","n":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}]}`))
			if _, err := decodePage(deep, Identity{}); err == nil {
				t.Errorf("%s: a record nested 10,000 deep decoded", name)
			}
		})
	}
}

// The pure Go bitmap drives the scanner through the mutated pages that
// TestScanMatchesTokens gives the one the package chose.
func TestScanMatchesTokensGoBitmap(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	alphabet := []byte(`{}[]":,\ u0aA@.-+eE19tfn` + "\x00\x1f\x7f\xff\t\n")
	withBitmap(t, specialBitsGo, func() {
		scanned := 0
		for _, seed := range scanSeeds {
			for n := 0; n < 600; n++ {
				b := mutate(rng, []byte(seed), alphabet)
				if sameDecoding(t, exact(b), Identity{}) {
					scanned++
				}
			}
		}
		if scanned < 500 {
			t.Errorf("the scanner decoded only %d mutated pages with the Go bitmap", scanned)
		}
	})
}

// Every byte value at every position of a block, and blocks of random
// bytes in runs of 1 to 9 blocks: the AVX2 bitmap (where used) and the Go
// one agree with the definition bit for bit.
func TestSpecialBitsEveryByteEveryPosition(t *testing.T) {
	t.Parallel()
	block := make([]byte, 64)
	out := make([]uint64, 1)
	for name, f := range bitmapMakers() {
		for pos := 0; pos < 64; pos++ {
			for c := 0; c < 256; c++ {
				for i := range block {
					block[i] = 'a'
				}
				block[pos] = byte(c)
				out[0] = 0xdeadbeef
				f(exact(block), out)
				want := uint64(0)
				if c == '"' || c == '\\' || c < 0x20 {
					want = 1 << pos
				}
				if out[0] != want {
					t.Fatalf("%s: byte %#x at %d: bitmap %#x, want %#x", name, c, pos, out[0], want)
				}
			}
		}
	}
	rng := rand.New(rand.NewPCG(13, 14))
	for blocks := 1; blocks <= 9; blocks++ {
		b := make([]byte, 64*blocks)
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		got, want := make([]uint64, blocks+1), make([]uint64, blocks+1)
		got[blocks], want[blocks] = 42, 42 // the word after is not written
		specialBits(exact(b), got[:blocks])
		specialBitsGo(b, want[:blocks])
		if fmt.Sprint(got) != fmt.Sprint(want) || got[blocks] != 42 {
			t.Fatalf("%d blocks: bitmap %x, Go %x", blocks, got, want)
		}
	}
}

// FuzzScanGoBitmapMatchesTokens is FuzzScanMatchesTokens with the pure Go
// bitmap (the one used without AVX2), and checks the two bitmaps agree on
// every input. Fuzz targets run after the tests, one input at a time, so
// the swap is seen by no other test.
func FuzzScanGoBitmapMatchesTokens(f *testing.F) {
	for _, s := range scanSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		whole := in[:len(in)/64*64]
		got, want := make([]uint64, len(whole)/64), make([]uint64, len(whole)/64)
		specialBits(whole, got)
		specialBitsGo(whole, want)
		for k := range got {
			if got[k] != want[k] {
				t.Fatalf("block %d of %q: bitmap %#x, Go %#x", k, whole[k*64:k*64+64], got[k], want[k])
			}
		}
		withBitmap(t, specialBitsGo, func() { sameDecoding(t, exact(in), Identity{}) })
	})
}
