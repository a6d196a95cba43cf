package service

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"

	"outpost/internal/authz"
	"outpost/internal/outpost"
	"outpost/internal/store"
)

// auditEvent is the audit log's record of c taking action on a target.
// Details are marshalled as JSON (nil for none).
func auditEvent(c outpost.Caller, action store.AuditAction, targetType, targetID string, details any) store.AuditEvent {
	e := store.AuditEvent{WorkspaceID: c.WorkspaceID, ActorName: c.Name, Action: action,
		TargetType: targetType, TargetID: targetID, IP: c.IP}
	switch {
	case c.KeyID != "":
		e.ActorType, e.ActorID = store.ActorAPIKey, c.KeyID
	case c.UserID != "":
		e.ActorType, e.ActorID = store.ActorUser, c.UserID
	default:
		e.ActorType = store.ActorSystem
	}
	if details != nil {
		if b, err := json.Marshal(details); err == nil {
			e.Details = b
		}
	}
	return e
}

// audit writes an event with q (the transaction of the change it records).
func audit(ctx context.Context, q *store.Queries, c outpost.Caller, action store.AuditAction, targetType, targetID string, details any) error {
	if _, err := q.InsertAuditEvent(ctx, auditEvent(c, action, targetType, targetID, details)); err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}

// auditAfter writes an event for a change already made (a sign-in, a
// lockout): a failure is logged, not returned, since the change stands.
func auditAfter(ctx context.Context, st *store.Store, logger *slog.Logger, c outpost.Caller, action store.AuditAction, targetType, targetID string, details any) {
	if err := audit(ctx, st.Queries, c, action, targetType, targetID, details); err != nil {
		logger.WarnContext(ctx, "write audit event", slog.String("action", string(action)), slog.Any("error", err))
	}
}

// Audit reads the audit log.
type Audit struct {
	store *store.Store
}

var _ outpost.Audit = (*Audit)(nil)

// List returns a page of the caller's workspace's audit log, newest first.
func (s *Audit) List(ctx context.Context, c outpost.Caller, q outpost.AuditQuery) (outpost.AuditPage, error) {
	if err := c.Check(authz.ViewAudit); err != nil {
		return outpost.AuditPage{}, err
	}
	pg, err := s.store.ListAuditEvents(ctx, store.AuditFilter{WorkspaceID: c.WorkspaceID, Action: store.AuditAction(q.Action),
		ActorID: q.ActorID, TargetID: q.TargetID, Limit: q.Limit, Cursor: q.Cursor})
	if err != nil {
		return outpost.AuditPage{}, coded(err, "audit", "")
	}
	out := outpost.AuditPage{NextCursor: pg.NextCursor, Events: make([]outpost.AuditEvent, len(pg.Events))}
	for i, e := range pg.Events {
		out.Events[i] = outpost.AuditEvent{ID: e.ID, ActorType: string(e.ActorType), ActorID: e.ActorID, ActorName: e.ActorName,
			Action: string(e.Action), TargetType: e.TargetType, TargetID: e.TargetID, IP: e.IP, Details: e.Details, CreatedAt: e.CreatedAt}
	}
	return out, nil
}

// inTx runs fn with the store's methods bound to one transaction (tx, for
// the job queue's inserts).
func inTx(ctx context.Context, st *store.Store, fn func(q *store.Queries, tx *sql.Tx) error) error {
	return st.WithTx(ctx, func(tx *sql.Tx) error { return fn(st.Using(tx), tx) })
}
