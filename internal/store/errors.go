package store

import (
	"errors"
	"fmt"
)

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
	// ErrInvalidRole reports a role that authz does not know.
	ErrInvalidRole = errors.New("store: invalid role")
)

// ErrLastOwner reports a change that would leave a workspace without an
// owner. It is a conflict: errors.Is(err, ErrConflict) holds too.
var ErrLastOwner = fmt.Errorf("%w: a workspace keeps at least one owner", ErrConflict)
