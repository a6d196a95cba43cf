package store

import "errors"

// Sentinel errors. Methods wrap them, so test with errors.Is.
var (
	// ErrNotFound reports that the row asked for does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict reports that a write clashed with an existing row (a
	// duplicate idempotency key, slug or name) or with the row's state (an
	// export that has already finished).
	ErrConflict = errors.New("store: conflict")
	// ErrInvalidCursor reports a pagination cursor that this store did not
	// issue.
	ErrInvalidCursor = errors.New("store: invalid cursor")
)
