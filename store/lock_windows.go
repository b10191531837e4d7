//go:build windows

package store

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

// errLocked is the lock held by another process.
var errLocked = errors.New("locked by another process")

// lockAt is the byte locked: far past the pid at the start of the file,
// since Windows locks are mandatory and would keep a second process from
// reading whose the lock is.
const lockAt = 1 << 30

func lockFile(f *os.File) error {
	ol := windows.Overlapped{Offset: lockAt}
	err := windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &ol)
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) || errors.Is(err, windows.ERROR_IO_PENDING) {
		return errLocked
	}
	return err
}

func unlockFile(f *os.File) {
	ol := windows.Overlapped{Offset: lockAt}
	windows.UnlockFileEx(windows.Handle(f.Fd()), 0, 1, 0, &ol)
}
