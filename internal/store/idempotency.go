package store

import (
	"outpost/internal/outpost"

	"context"
	"fmt"
	"time"
)

// IdempotencyRecord is the stored outcome of a POST made with an
// Idempotency-Key (outpost.IdempotencyRecord).
type IdempotencyRecord = outpost.IdempotencyRecord

const idempotencyColumns = `workspace_id, key, method, path, request_hash, response_status,
	response_body, created_at`

// GetIdempotencyKey returns the record stored for the workspace's key.
func (q *Queries) GetIdempotencyKey(ctx context.Context, workspaceID, key string) (IdempotencyRecord, error) {
	var r IdempotencyRecord
	err := q.queryRow(ctx, `SELECT `+idempotencyColumns+` FROM idempotency_keys
		WHERE workspace_id = $1 AND key = $2`, workspaceID, key).Scan(
		&r.WorkspaceID, &r.Key, &r.Method, &r.Path, &r.RequestHash, &r.ResponseStatus,
		&r.ResponseBody, scanTime(&r.CreatedAt))
	if err != nil {
		return IdempotencyRecord{}, fmt.Errorf("get idempotency key: %w", notFound(err))
	}
	return r, nil
}

// PutIdempotencyKey stores a record; CreatedAt is filled in when zero. A key
// already stored gives ErrConflict (a concurrent request won the race: read
// its record).
func (q *Queries) PutIdempotencyKey(ctx context.Context, r IdempotencyRecord) error {
	res, err := q.exec(ctx, `INSERT INTO idempotency_keys (`+idempotencyColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (workspace_id, key) DO NOTHING`,
		r.WorkspaceID, r.Key, r.Method, r.Path, r.RequestHash, r.ResponseStatus, r.ResponseBody,
		now(r.CreatedAt))
	if err != nil {
		return fmt.Errorf("put idempotency key: %w", err)
	}
	if err := rowsAffected(res); err != nil {
		return fmt.Errorf("put idempotency key %q: %w", r.Key, ErrConflict)
	}
	return nil
}

// DeleteIdempotencyKeysBefore deletes records created before t and returns
// how many.
func (q *Queries) DeleteIdempotencyKeysBefore(ctx context.Context, t time.Time) (int64, error) {
	res, err := q.exec(ctx, `DELETE FROM idempotency_keys WHERE created_at < $1`, t)
	if err != nil {
		return 0, fmt.Errorf("delete idempotency keys: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("delete idempotency keys: %w", err)
	}
	return n, nil
}
