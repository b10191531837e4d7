package deltaclient

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// prefault maps every whole page of the slice it is given, and no other,
// without changing a byte: the bytes a read already put there stay.
func TestPrefaultMapsPagesKeepingBytes(t *testing.T) {
	const page, pages = 4096, 128
	mem, err := unix.Mmap(-1, 0, pages*page, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(mem)
	if err := unix.Madvise(mem[:page], unix.MADV_POPULATE_WRITE); err != nil {
		t.Skipf("this kernel has no MADV_POPULATE_WRITE (%v): prefault is a no-op here", err)
	}
	// Page 0 is mapped now; it holds bytes that must survive.
	copy(mem, "already read")
	// From the middle of page 0 to the middle of page 100: pages 1-99 are
	// whole, page 100 is not.
	b := mem[page/2 : 100*page+page/2]
	prefault(b)
	resident := make([]byte, pages)
	if _, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&mem[0])), uintptr(len(mem)), uintptr(unsafe.Pointer(&resident[0]))); errno != 0 {
		t.Fatal(errno)
	}
	for i, r := range resident {
		want := i < 100 // page 0 was mapped before
		if got := r&1 == 1; got != want {
			t.Errorf("page %d resident = %v, want %v", i, got, want)
		}
	}
	if !bytes.HasPrefix(mem, []byte("already read")) || bytes.ContainsFunc(mem[len("already read"):], func(r rune) bool { return r != 0 }) {
		t.Errorf("prefault changed the bytes")
	}
}

// A buffer sized by a guess has its pages mapped ahead of the data only
// up to where the body likely ends: the slack past it stays unmapped, as
// it is held as long as the records are.
func TestReadFullMapsNoSlackPastLikelyEnd(t *testing.T) {
	const page = 4096
	size := 3 * prefaultStep
	mem, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(mem)
	if err := unix.Madvise(mem[:page], unix.MADV_POPULATE_WRITE); err != nil {
		t.Skipf("this kernel has no MADV_POPULATE_WRITE (%v): prefault is a no-op here", err)
	}
	body := bytes.Repeat([]byte("x"), prefaultStep+page)
	likely := prefaultStep + prefaultStep/2
	n, err := readFull(bytes.NewReader(body), mem, likely)
	if n != len(body) || err != io.ErrUnexpectedEOF {
		t.Fatalf("readFull = %d, %v; want %d, ErrUnexpectedEOF", n, err, len(body))
	}
	// The goroutine mapping ahead may still be finishing its last step.
	var wrong []string
	for try := 0; try < 100; try++ {
		resident := make([]byte, size/page)
		if _, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&mem[0])), uintptr(len(mem)), uintptr(unsafe.Pointer(&resident[0]))); errno != 0 {
			t.Fatal(errno)
		}
		wrong = wrong[:0]
		for i, r := range resident {
			want := i*page < likely // the body, then mapped ahead up to likely
			if got := r&1 == 1; got != want {
				wrong = append(wrong, fmt.Sprintf("page %d (byte %d) resident = %v, want %v", i, i*page, got, want))
			}
		}
		if len(wrong) == 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("after a second:\n%s", strings.Join(wrong, "\n"))
}
