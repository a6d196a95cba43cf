//go:build unix

package jobs

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// canLock says that lockFile works (TakeNode can keep ids across restarts).
const canLock = true

// lockFile opens path and takes an exclusive, non-blocking flock on it. ok is
// false when another process holds it. Closing the file releases the lock.
func lockFile(path string) (f *os.File, ok bool, err error) {
	f, err = os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, false, fmt.Errorf("open %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("lock %s: %w", path, err)
	}
	return f, true, nil
}
