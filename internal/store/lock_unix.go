//go:build unix

package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// lockSQLiteFile takes an exclusive flock on DB.lock, so that processes
// sharing the SQLite file (serve and workers on one host) open a new
// database and migrate one at a time: switching a new file to WAL fails with
// SQLITE_BUSY when two connections race, and neither goose nor rivermigrate
// locks on SQLite. It waits for the lock, checking ctx between attempts.
func lockSQLiteFile(ctx context.Context, dbPath string) (func() error, error) {
	if dbPath == "" {
		return func() error { return nil }, nil
	}
	path := dbPath + ".lock"
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			_ = f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			_ = f.Close()
			return nil, fmt.Errorf("wait for lock %s: %w", path, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
	return func() error {
		// Closing the file releases the lock.
		return f.Close()
	}, nil
}
