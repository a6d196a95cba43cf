//go:build !unix

package store

import "context"

// lockSQLiteFile does nothing where flock is missing: run one process per
// SQLite file there.
func lockSQLiteFile(context.Context, string) (func() error, error) {
	return func() error { return nil }, nil
}
