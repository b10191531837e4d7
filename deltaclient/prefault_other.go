//go:build !linux

package deltaclient

// prefault is a no-op where MADV_POPULATE_WRITE does not exist: the pages
// fault in as they are written.
func prefault([]byte) {}
