package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Event is a stored tracking event ("export.queued", "publication.failed"…).
type Event struct {
	ID          string          `json:"id"`
	WorkspaceID string          `json:"workspace_id"`
	Type        string          `json:"type"`
	SubjectID   string          `json:"subject_id,omitempty"` // the export, publication… it is about
	Payload     json.RawMessage `json:"payload,omitempty"`
	CreatedAt   time.Time       `json:"created_at"`
}

const eventColumns = `id, workspace_id, type, subject_id, payload, created_at`

func scanEvent(sc rowScanner) (Event, error) {
	var e Event
	err := sc.Scan(&e.ID, &e.WorkspaceID, &e.Type, &e.SubjectID, scanJSON(&e.Payload), scanTime(&e.CreatedAt))
	return e, err
}

// InsertEvent stores an event; ID and CreatedAt are filled in when zero.
func (q *Queries) InsertEvent(ctx context.Context, e Event) (Event, error) {
	if e.ID == "" {
		e.ID = NewID(PrefixEvent)
	}
	e.CreatedAt = now(e.CreatedAt)
	_, err := q.exec(ctx, `INSERT INTO events (`+eventColumns+`) VALUES ($1, $2, $3, $4, $5, $6)`,
		e.ID, e.WorkspaceID, e.Type, e.SubjectID, e.Payload, e.CreatedAt)
	if err != nil {
		return Event{}, fmt.Errorf("insert event: %w", err)
	}
	return e, nil
}

// EventFilter selects events. Zero fields match all.
type EventFilter struct {
	WorkspaceID string // required
	Type        string
	SubjectID   string
	Since       time.Time // created_at >= Since
	Until       time.Time // created_at < Until
	Limit       int       // 50 when zero, at most 500 (ListEvents only)
	Cursor      string    // from the previous page's NextCursor (ListEvents only)
}

// EventPage is one page of events, newest first.
type EventPage struct {
	Events     []Event `json:"events"`
	NextCursor string  `json:"next_cursor,omitempty"`
}

func (f EventFilter) where(p *params) string {
	conds := []string{"workspace_id = " + p.add(f.WorkspaceID)}
	if f.Type != "" {
		conds = append(conds, "type = "+p.add(f.Type))
	}
	if f.SubjectID != "" {
		conds = append(conds, "subject_id = "+p.add(f.SubjectID))
	}
	if !f.Since.IsZero() {
		conds = append(conds, "created_at >= "+p.add(f.Since))
	}
	if !f.Until.IsZero() {
		conds = append(conds, "created_at < "+p.add(f.Until))
	}
	return strings.Join(conds, " AND ")
}

// ListEvents returns a page of events, newest first.
func (q *Queries) ListEvents(ctx context.Context, f EventFilter) (EventPage, error) {
	var p params
	where := f.where(&p)
	keyset, err := keysetCondition(&p, "", f.Cursor)
	if err != nil {
		return EventPage{}, fmt.Errorf("list events: %w", err)
	}
	limit := pageLimit(f.Limit)
	rows, err := q.query(ctx, `SELECT `+eventColumns+` FROM events WHERE `+where+keyset+
		` ORDER BY created_at DESC, id DESC LIMIT `+p.add(limit+1), p.args...)
	if err != nil {
		return EventPage{}, fmt.Errorf("list events: %w", err)
	}
	events, err := collect(rows, scanEvent)
	if err != nil {
		return EventPage{}, fmt.Errorf("list events: %w", err)
	}
	page := EventPage{Events: events}
	if len(events) > limit {
		page.Events = events[:limit]
		last := page.Events[limit-1]
		page.NextCursor = encodeCursor(last.CreatedAt, last.ID)
	}
	return page, nil
}

// CountEvents counts the events matching f (Limit and Cursor are ignored).
func (q *Queries) CountEvents(ctx context.Context, f EventFilter) (int64, error) {
	var p params
	var n int64
	if err := q.queryRow(ctx, `SELECT COUNT(*) FROM events WHERE `+f.where(&p), p.args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count events: %w", err)
	}
	return n, nil
}

// InsertEventOnce stores an event with a caller-chosen ID unless one with
// that ID exists, and reports whether it stored it: an event that a retried
// job reaches again is recorded (and sent to webhooks) once.
func (q *Queries) InsertEventOnce(ctx context.Context, e Event) (Event, bool, error) {
	if e.ID == "" {
		return Event{}, false, fmt.Errorf("insert event: %w", ErrNotFound)
	}
	e.CreatedAt = now(e.CreatedAt)
	res, err := q.exec(ctx, `INSERT INTO events (`+eventColumns+`) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (id) DO NOTHING`, e.ID, e.WorkspaceID, e.Type, e.SubjectID, e.Payload, e.CreatedAt)
	if err != nil {
		return Event{}, false, fmt.Errorf("insert event: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return Event{}, false, fmt.Errorf("insert event: %w", err)
	}
	return e, n > 0, nil
}

// GetEvent returns the event with id.
func (q *Queries) GetEvent(ctx context.Context, id string) (Event, error) {
	e, err := scanEvent(q.queryRow(ctx, `SELECT `+eventColumns+` FROM events WHERE id = $1`, id))
	if err != nil {
		return Event{}, fmt.Errorf("get event %s: %w", id, notFound(err))
	}
	return e, nil
}
