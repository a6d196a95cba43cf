package store

import (
	"context"
	"fmt"
	"time"
)

// AuthFailureKind is what failed: a sign-in or an API key.
type AuthFailureKind string

// Kinds of authentication failure.
const (
	FailedSignIn AuthFailureKind = "signin"
	FailedAPIKey AuthFailureKind = "api_key"
)

// AuthFailure is one failed sign-in or bad API key, kept for throttling.
type AuthFailure struct {
	Kind AuthFailureKind
	// IP is the client's address as the throttle keys it (IPv6: its /64).
	IP string
	// Account is the email tried (normalised like users' emails); "" for
	// API keys.
	Account string
	At      time.Time
}

// RecordAuthFailure stores a failure.
func (q *Queries) RecordAuthFailure(ctx context.Context, f AuthFailure) error {
	_, err := q.exec(ctx, `INSERT INTO auth_failures (kind, ip, account, at) VALUES ($1, $2, $3, $4)`,
		f.Kind, f.IP, normEmail(f.Account), now(f.At))
	if err != nil {
		return fmt.Errorf("record %s failure: %w", f.Kind, err)
	}
	return nil
}

// RecentFailuresByIP returns the times of the address's failures of kind
// after since, newest first, at most limit of them.
func (q *Queries) RecentFailuresByIP(ctx context.Context, kind AuthFailureKind, ip string, since time.Time, limit int) ([]time.Time, error) {
	rows, err := q.query(ctx, `SELECT at FROM auth_failures WHERE kind = $1 AND ip = $2 AND at > $3
		ORDER BY at DESC LIMIT $4`, kind, ip, since, limit)
	if err != nil {
		return nil, fmt.Errorf("recent %s failures by ip: %w", kind, err)
	}
	ts, err := collect(rows, func(sc rowScanner) (time.Time, error) {
		var t time.Time
		err := sc.Scan(scanTime(&t))
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("recent %s failures by ip: %w", kind, err)
	}
	return ts, nil
}

// FailuresByAccount returns how many failures of kind the account had
// after since, and the time of the last one (zero when none).
func (q *Queries) FailuresByAccount(ctx context.Context, kind AuthFailureKind, account string, since time.Time) (int, time.Time, error) {
	var n int
	var last *time.Time
	err := q.queryRow(ctx, `SELECT COUNT(*), MAX(at) FROM auth_failures WHERE kind = $1 AND account = $2 AND at > $3`,
		kind, normEmail(account), since).Scan(&n, scanNullTime(&last))
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("%s failures by account: %w", kind, err)
	}
	if last == nil {
		return n, time.Time{}, nil
	}
	return n, *last, nil
}

// ClearAuthFailures deletes the failures of kind from the address for the
// account (after a success there) and returns how many.
func (q *Queries) ClearAuthFailures(ctx context.Context, kind AuthFailureKind, ip, account string) (int64, error) {
	return q.deleteCount(ctx, "clear "+string(kind)+" failures",
		`DELETE FROM auth_failures WHERE kind = $1 AND ip = $2 AND account = $3`, kind, ip, normEmail(account))
}

// DeleteAuthFailuresBefore deletes failures older than t (past every
// throttling window) and returns how many.
func (q *Queries) DeleteAuthFailuresBefore(ctx context.Context, t time.Time) (int64, error) {
	return q.deleteCount(ctx, "delete old auth failures", `DELETE FROM auth_failures WHERE at < $1`, t)
}
