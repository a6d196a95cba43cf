package store

import (
	"context"
	"fmt"
	"time"
)

// NotificationPrefs returns the user's stored email preferences by kind
// (notify's kinds). A kind with no stored preference is on.
func (q *Queries) NotificationPrefs(ctx context.Context, userID string) (map[string]bool, error) {
	rows, err := q.query(ctx, `SELECT kind, email FROM notification_prefs WHERE user_id = $1`, userID)
	if err != nil {
		return nil, fmt.Errorf("notification prefs: %w", err)
	}
	type pref struct {
		kind string
		on   bool
	}
	ps, err := collect(rows, func(sc rowScanner) (pref, error) {
		var p pref
		err := sc.Scan(&p.kind, &p.on)
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("notification prefs: %w", err)
	}
	out := make(map[string]bool, len(ps))
	for _, p := range ps {
		out[p.kind] = p.on
	}
	return out, nil
}

// SetNotificationPref turns the user's email for kind on or off.
func (q *Queries) SetNotificationPref(ctx context.Context, userID, kind string, email bool) error {
	_, err := q.exec(ctx, `INSERT INTO notification_prefs (user_id, kind, email, updated_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (user_id, kind) DO UPDATE SET email = excluded.email, updated_at = excluded.updated_at`,
		userID, kind, email, now(time.Time{}))
	if err != nil {
		return fmt.Errorf("set notification pref %s: %w", kind, err)
	}
	return nil
}

// Recipient is a member who gets an email.
type Recipient struct {
	UserID string `json:"user_id"`
	Email  string `json:"email"`
	Name   string `json:"name,omitempty"`
	Role   Role   `json:"role"`
}

// ListNotificationRecipients returns the workspace's members who get email
// of kind (on unless they turned it off), by email.
func (q *Queries) ListNotificationRecipients(ctx context.Context, workspaceID, kind string) ([]Recipient, error) {
	rows, err := q.query(ctx, `SELECT u.id, u.email, u.name, m.role FROM memberships m
		JOIN users u ON u.id = m.user_id
		LEFT JOIN notification_prefs p ON p.user_id = u.id AND p.kind = $2
		WHERE m.workspace_id = $1 AND COALESCE(p.email, TRUE)
		ORDER BY u.email`, workspaceID, kind)
	if err != nil {
		return nil, fmt.Errorf("list notification recipients: %w", err)
	}
	rs, err := collect(rows, func(sc rowScanner) (Recipient, error) {
		var r Recipient
		err := sc.Scan(&r.UserID, &r.Email, &r.Name, &r.Role)
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("list notification recipients: %w", err)
	}
	return rs, nil
}
