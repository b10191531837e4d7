package store

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// acquire takes the session's writer lock: a lock on a file beside the
// session that holds the owner's pid (flock on Unix, LockFileEx on
// Windows). The kernel drops the lock when the process dies, kill -9
// included, so a stale lock never needs cleaning.
func acquire(path, name string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("session store: %w", err)
	}
	if err := lockFile(f); err != nil {
		defer f.Close()
		if errors.Is(err, errLocked) {
			b := make([]byte, 32)
			n, _ := f.ReadAt(b, 0)
			pid, _ := strconv.Atoi(strings.TrimSpace(string(b[:n])))
			return nil, &LockedError{Name: name, PID: pid}
		}
		return nil, fmt.Errorf("session store lock: %w", err)
	}
	f.Truncate(0)
	f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return f, nil
}

func release(f *os.File) {
	f.Truncate(0)
	unlockFile(f)
	f.Close()
}
