package deltaclient

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// prefault maps the whole pages of b writable, without changing a byte, in
// one madvise(MADV_POPULATE_WRITE) call. A body read into fresh memory
// otherwise takes one page fault per 4 KiB inside the socket copy (800,000
// for 3 GB of pages); populating them in one call skips the exception
// entry, the VMA lookup and the return of each fault. Errors (a kernel
// before 5.14) are ignored: the pages then fault in as they are written.
func prefault(b []byte) {
	if len(b) < prefaultMin {
		return
	}
	const page = 4096
	start := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	lo := (start + page - 1) &^ (page - 1)
	hi := (start + uintptr(len(b))) &^ (page - 1)
	if hi <= lo {
		return
	}
	_ = unix.Madvise(b[lo-start:hi-start], unix.MADV_POPULATE_WRITE)
}
