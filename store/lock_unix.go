//go:build unix

package store

import (
	"errors"
	"os"
	"syscall"
)

// errLocked is the lock held by another process.
var errLocked = syscall.EWOULDBLOCK

func lockFile(f *os.File) error {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return errLocked
	}
	return err
}

func unlockFile(f *os.File) { syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }
