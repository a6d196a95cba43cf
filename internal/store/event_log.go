package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"

	"outpost/internal/events"
)

// EventLog is the store as the events broker keeps its events.
func (s *Store) EventLog() events.Store { return eventLog{s} }

type eventLog struct{ s *Store }

func (l eventLog) InsertEvent(ctx context.Context, tx *sql.Tx, exportID, typ string, data json.RawMessage) (events.Event, error) {
	q := l.s.Queries
	if tx != nil {
		q = l.s.Using(tx)
	}
	e, err := q.InsertExportEvent(ctx, ExportEvent{ExportID: exportID, Type: typ, Data: data})
	if err != nil {
		return events.Event{}, err
	}
	return liveEvent(e), nil
}

func (l eventLog) ListEvents(ctx context.Context, exportID string, afterSeq int64, limit int) ([]events.Event, error) {
	es, err := l.s.ListExportEvents(ctx, exportID, afterSeq, limit)
	if err != nil {
		return nil, err
	}
	out := make([]events.Event, len(es))
	for i, e := range es {
		out[i] = liveEvent(e)
	}
	return out, nil
}

func (l eventLog) ExportState(ctx context.Context, exportID string) (exists, settled bool, err error) {
	e, err := l.s.GetExport(ctx, exportID)
	if errors.Is(err, ErrNotFound) {
		return false, false, nil
	}
	if err != nil || !e.Status.Final() {
		return err == nil, false, err
	}
	n, err := l.s.CountDuePublications(ctx, exportID)
	return true, err == nil && n == 0, err
}

func liveEvent(e ExportEvent) events.Event {
	data := e.Data
	if len(data) == 0 {
		data = json.RawMessage("{}")
	}
	return events.Event{Seq: e.Seq, ExportID: e.ExportID, Type: e.Type, Data: data}
}
