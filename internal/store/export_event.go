package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// ExportEvent is one stored live-progress event of an export ("progress",
// "rendition", "done"), kept so that a subscriber in any process, or one
// reconnecting, can read what it missed.
type ExportEvent struct {
	// Seq orders events: it only grows, across all exports, and is never
	// reused.
	Seq       int64           `json:"seq"`
	ExportID  string          `json:"export_id"`
	Type      string          `json:"type"`
	Data      json.RawMessage `json:"data,omitempty"`
	CreatedAt time.Time       `json:"created_at"`
}

// InsertExportEvent stores an event and returns it with its Seq.
// CreatedAt is filled in when zero.
func (q *Queries) InsertExportEvent(ctx context.Context, e ExportEvent) (ExportEvent, error) {
	e.CreatedAt = now(e.CreatedAt)
	err := q.queryRow(ctx, `INSERT INTO export_events (export_id, type, data, created_at)
		VALUES ($1, $2, $3, $4) RETURNING seq`, e.ExportID, e.Type, e.Data, e.CreatedAt).Scan(&e.Seq)
	if err != nil {
		return ExportEvent{}, fmt.Errorf("insert export event: %w", err)
	}
	return e, nil
}

// ListExportEvents returns up to limit of the export's events with Seq
// greater than afterSeq, oldest first.
func (q *Queries) ListExportEvents(ctx context.Context, exportID string, afterSeq int64, limit int) ([]ExportEvent, error) {
	if limit <= 0 {
		limit = 500
	}
	rows, err := q.query(ctx, `SELECT seq, export_id, type, data, created_at FROM export_events
		WHERE export_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`, exportID, afterSeq, limit)
	if err != nil {
		return nil, fmt.Errorf("list export events: %w", err)
	}
	evs, err := collect(rows, func(sc rowScanner) (ExportEvent, error) {
		var e ExportEvent
		err := sc.Scan(&e.Seq, &e.ExportID, &e.Type, scanJSON(&e.Data), scanTime(&e.CreatedAt))
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("list export events: %w", err)
	}
	return evs, nil
}

// DeleteExportEvents deletes all of the export's events (a retried export
// starts a new stream) and returns how many.
func (q *Queries) DeleteExportEvents(ctx context.Context, exportID string) (int64, error) {
	return q.deleteCount(ctx, "delete export events", `DELETE FROM export_events WHERE export_id = $1`, exportID)
}

// DeleteExportEventsBefore deletes the events of type typ created before t
// and returns how many. Pruning "progress" events keeps each export's
// "rendition" and "done" events, so a late subscriber still sees the end.
func (q *Queries) DeleteExportEventsBefore(ctx context.Context, typ string, t time.Time) (int64, error) {
	return q.deleteCount(ctx, "prune export events",
		`DELETE FROM export_events WHERE type = $1 AND created_at < $2`, typ, t)
}

func (q *Queries) deleteCount(ctx context.Context, what, query string, args ...any) (int64, error) {
	res, err := q.exec(ctx, query, args...)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	return n, nil
}
