//go:build linux

package store

import (
	"syscall"
	"unsafe"
)

// dropPages tells the kernel this process is done with the file pages
// under b (a value read straight from the memory-mapped file): loading a
// large snapshot copies it into memory once, and without this the mapped
// file would count a second time in the process's resident memory.
func dropPages(b []byte) {
	const page = 4096
	if len(b) < 2*page {
		return
	}
	start := uintptr(unsafe.Pointer(&b[0]))
	end := start + uintptr(len(b))
	start = (start + page - 1) &^ (page - 1)
	end &^= page - 1
	if end <= start {
		return
	}
	syscall.Syscall(syscall.SYS_MADVISE, start, end-start, syscall.MADV_DONTNEED)
}
