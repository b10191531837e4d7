package deltaclient

import (
	"os"
	"strings"
	"syscall"
	"testing"
)

// guarded returns a buffer of n bytes that ends where a page the process
// may not read begins (and, with atStart, starts where such a page ends):
// a read past either end of the body crashes the test instead of reading
// whatever the heap holds next.
func guarded(t *testing.T, n int, atStart bool) []byte {
	t.Helper()
	ps := os.Getpagesize()
	data := (n + ps - 1) / ps * ps
	m, err := syscall.Mmap(-1, 0, data+2*ps, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Munmap(m) })
	if err := syscall.Mprotect(m[:ps], syscall.PROT_NONE); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mprotect(m[ps+data:], syscall.PROT_NONE); err != nil {
		t.Fatal(err)
	}
	if atStart {
		return m[ps : ps+n : ps+n]
	}
	return m[ps+data-n : ps+data : ps+data]
}

// Pages whose last byte is the last readable byte of the address space
// around them, and pages whose first byte is the first, of every length
// modulo 64 (shorter than a block, 32 bytes, several blocks), whole and
// cut, with either bitmap: the scanner reads nothing outside the body.
func TestScanReadsNothingPastTheBody(t *testing.T) {
	for name, bitmap := range bitmapMakers() {
		withBitmap(t, bitmap, func() {
			var bodies [][]byte
			for n := 63; n <= 63+64*3; n++ {
				bodies = append(bodies, pageOfLen(n, 'x'))
			}
			// A long page: the bitmap is made in stretches of 512 words.
			long := `{"value":[` + strings.Repeat(`{"id":"r","s":"`+strings.Repeat("y", 90)+`"},`, 400) + `{"id":"z"}],"@odata.deltaLink":"d"}`
			bodies = append(bodies, []byte(long))
			for _, src := range bodies {
				for cut := 0; cut < 4 && cut < len(src); cut++ {
					in := src[:len(src)-cut]
					for _, atStart := range []bool{false, true} {
						b := guarded(t, len(in), atStart)
						copy(b, in)
						p, err, ok := scanPage(b, Identity{})
						if cut == 0 && (!ok || err != nil || p.deltaLink != "d") {
							t.Fatalf("%s: a whole page of %d bytes: ok %v, %v", name, len(in), ok, err)
						}
						if cut > 0 && ok && err == nil {
							t.Fatalf("%s: a page cut to %d bytes decoded", name, len(in))
						}
					}
				}
			}
			// Bodies of 1 to 130 bytes of every kind of start.
			for n := 1; n <= 130; n++ {
				for _, src := range []string{`{"value":["`, `{"value":[{"id":"`, `{"`, `{"value":[{"id":"a","s":"\`} {
					in := []byte(src + strings.Repeat("w", n))[:n]
					b := guarded(t, n, false)
					copy(b, in)
					if _, err, ok := scanPage(b, Identity{}); ok && err == nil {
						t.Fatalf("%s: %q decoded", name, in)
					}
				}
			}
		})
	}
}
