package store

import (
	"context"
	"fmt"
	"time"
)

// ShareDefaults returns the connections a user's shares start with ticked
// in a workspace (their saved "share to" default), in the order saved. A
// disconnected account's row goes with its connection; an expired or
// revoked one stays (the service offers only active accounts).
func (q *Queries) ShareDefaults(ctx context.Context, workspaceID, userID string) ([]string, error) {
	rows, err := q.query(ctx, `SELECT connection_id FROM share_defaults WHERE workspace_id = $1 AND user_id = $2
		ORDER BY created_at, connection_id`, workspaceID, userID)
	if err != nil {
		return nil, fmt.Errorf("share defaults: %w", err)
	}
	ids, err := collect(rows, func(sc rowScanner) (string, error) {
		var id string
		err := sc.Scan(&id)
		return id, err
	})
	if err != nil {
		return nil, fmt.Errorf("share defaults: %w", err)
	}
	return ids, nil
}

// SetShareDefaults replaces a user's saved "share to" default in a
// workspace with connectionIDs (none: no default). Run it in a
// transaction: it deletes, then inserts.
func (q *Queries) SetShareDefaults(ctx context.Context, workspaceID, userID string, connectionIDs []string) error {
	if _, err := q.exec(ctx, `DELETE FROM share_defaults WHERE workspace_id = $1 AND user_id = $2`, workspaceID, userID); err != nil {
		return fmt.Errorf("set share defaults: %w", err)
	}
	at := now(time.Time{})
	for i, id := range connectionIDs {
		// One microsecond apart: ShareDefaults keeps the order saved.
		if _, err := q.exec(ctx, `INSERT INTO share_defaults (workspace_id, user_id, connection_id, created_at)
			VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, workspaceID, userID, id, at.Add(time.Duration(i)*time.Microsecond)); err != nil {
			return fmt.Errorf("set share defaults: %w", err)
		}
	}
	return nil
}
