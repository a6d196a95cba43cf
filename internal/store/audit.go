package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// AuditAction names a security event. Values are stable: the audit log and
// its API show them.
type AuditAction string

// Audit actions.
const (
	AuditSignIn              AuditAction = "signin"
	AuditSignInLocked        AuditAction = "signin.locked"        // an address reached the failed sign-in limit
	AuditAPIKeyGuessLocked   AuditAction = "api_key.guess_locked" // an address reached the bad-key limit
	AuditAPIKeyCreated       AuditAction = "api_key.created"
	AuditAPIKeyRevoked       AuditAction = "api_key.revoked"
	AuditAPIKeyRotated       AuditAction = "api_key.rotated"
	AuditInviteCreated       AuditAction = "invite.created"
	AuditInviteRevoked       AuditAction = "invite.revoked"
	AuditMemberJoined        AuditAction = "member.joined"
	AuditMemberRoleChanged   AuditAction = "member.role_changed"
	AuditMemberRemoved       AuditAction = "member.removed"
	AuditConnectionAdded     AuditAction = "connection.connected"
	AuditConnectionRevoked   AuditAction = "connection.revoked"
	AuditExportDeleted       AuditAction = "export.deleted"
	AuditProjectDeleted      AuditAction = "project.deleted"
	AuditUserDeleted         AuditAction = "user.deleted"
	AuditWorkspaceDeleted    AuditAction = "workspace.deleted"
	AuditWorkspaceRenamed    AuditAction = "workspace.renamed"
	AuditWorkspaceExported   AuditAction = "workspace.data_exported"
	AuditWorkspacePlanSet    AuditAction = "workspace.plan_changed"
	AuditNotificationPrefs   AuditAction = "user.notifications_changed"
	AuditHistoryRetentionRan AuditAction = "history.deleted"
)

// ActorType says who acted.
type ActorType string

// Actor types.
const (
	ActorUser   ActorType = "user"
	ActorAPIKey ActorType = "api_key"
	ActorCLI    ActorType = "cli"    // `outpost keys …` on the server's database
	ActorSystem ActorType = "system" // the server itself (throttling, retention)
)

// AuditEvent is one entry of the audit log.
type AuditEvent struct {
	ID string `json:"id"`
	// WorkspaceID is "" for events of the instance (a sign-in lockout).
	WorkspaceID string    `json:"workspace_id,omitempty"`
	ActorType   ActorType `json:"actor_type"`
	ActorID     string    `json:"actor_id,omitempty"`
	// ActorName is the actor's email or key prefix when it happened, so
	// the log still reads after the user or key is gone.
	ActorName  string          `json:"actor_name,omitempty"`
	Action     AuditAction     `json:"action"`
	TargetType string          `json:"target_type,omitempty"`
	TargetID   string          `json:"target_id,omitempty"`
	IP         string          `json:"ip,omitempty"`
	Details    json.RawMessage `json:"details,omitempty"`
	CreatedAt  time.Time       `json:"created_at"`
}

const auditColumns = `id, workspace_id, actor_type, actor_id, actor_name, action, target_type, target_id, ip, details, created_at`

func scanAudit(sc rowScanner) (AuditEvent, error) {
	var e AuditEvent
	err := sc.Scan(&e.ID, &e.WorkspaceID, &e.ActorType, &e.ActorID, &e.ActorName, &e.Action, &e.TargetType,
		&e.TargetID, &e.IP, scanJSON(&e.Details), scanTime(&e.CreatedAt))
	return e, err
}

// InsertAuditEvent appends an event to the log; ID and CreatedAt are filled
// in when zero. Write it in the transaction of the change it records.
func (q *Queries) InsertAuditEvent(ctx context.Context, e AuditEvent) (AuditEvent, error) {
	if e.ID == "" {
		e.ID = NewID(PrefixAudit)
	}
	if e.ActorType == "" || e.Action == "" {
		return AuditEvent{}, fmt.Errorf("insert audit event: actor type and action are required")
	}
	e.CreatedAt = now(e.CreatedAt)
	_, err := q.exec(ctx, `INSERT INTO audit_events (`+auditColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		e.ID, e.WorkspaceID, e.ActorType, e.ActorID, e.ActorName, e.Action, e.TargetType, e.TargetID, e.IP, e.Details, e.CreatedAt)
	if err != nil {
		return AuditEvent{}, fmt.Errorf("insert audit event %s: %w", e.Action, err)
	}
	return e, nil
}

// AuditFilter selects audit events.
type AuditFilter struct {
	WorkspaceID string // required ("" for the instance's events)
	Action      AuditAction
	ActorID     string
	TargetID    string
	Limit       int    // 50 when zero, at most 500
	Cursor      string // from the previous page's NextCursor
}

// AuditPage is one page of audit events, newest first.
type AuditPage struct {
	Events     []AuditEvent `json:"events"`
	NextCursor string       `json:"next_cursor,omitempty"`
}

// ListAuditEvents returns a page of the log, newest first.
func (q *Queries) ListAuditEvents(ctx context.Context, f AuditFilter) (AuditPage, error) {
	var p params
	where := "workspace_id = " + p.add(f.WorkspaceID)
	if f.Action != "" {
		where += " AND action = " + p.add(f.Action)
	}
	if f.ActorID != "" {
		where += " AND actor_id = " + p.add(f.ActorID)
	}
	if f.TargetID != "" {
		where += " AND target_id = " + p.add(f.TargetID)
	}
	keyset, err := keysetCondition(&p, "", f.Cursor)
	if err != nil {
		return AuditPage{}, fmt.Errorf("list audit events: %w", err)
	}
	limit := pageLimit(f.Limit)
	rows, err := q.query(ctx, `SELECT `+auditColumns+` FROM audit_events WHERE `+where+keyset+
		` ORDER BY created_at DESC, id DESC LIMIT `+p.add(limit+1), p.args...)
	if err != nil {
		return AuditPage{}, fmt.Errorf("list audit events: %w", err)
	}
	events, err := collect(rows, scanAudit)
	if err != nil {
		return AuditPage{}, fmt.Errorf("list audit events: %w", err)
	}
	var page AuditPage
	page.Events, page.NextCursor = trimPage(events, limit, func(e AuditEvent) (time.Time, string) { return e.CreatedAt, e.ID })
	return page, nil
}
