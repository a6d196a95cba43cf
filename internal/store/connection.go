package store

import (
	"outpost/internal/outpost"

	"context"
	"fmt"
	"strings"
	"time"
)

// ConnectionStatus is the health of a connected account.
type ConnectionStatus = outpost.ConnectionStatus

// Connection statuses.
const (
	ConnectionActive  = outpost.ConnectionActive
	ConnectionExpired = outpost.ConnectionExpired
	ConnectionRevoked = outpost.ConnectionRevoked
)

// Connection is an OAuth-connected account on a platform. The tokens are
// sealed by the caller (AES-GCM under the config's secret key); the store
// only keeps the bytes.
type Connection struct {
	ID             string     `json:"id"`
	WorkspaceID    string     `json:"workspace_id"`
	Platform       string     `json:"platform"`
	AccountID      string     `json:"account_id"`
	AccountName    string     `json:"account_name,omitempty"`
	AvatarURL      string     `json:"avatar_url,omitempty"`
	AccessToken    []byte     `json:"-"`
	RefreshToken   []byte     `json:"-"`
	TokenExpiresAt *time.Time `json:"token_expires_at,omitempty"`
	// RefreshExpiresAt is when the refresh token (the grant) dies; nil when
	// unknown or never.
	RefreshExpiresAt *time.Time `json:"refresh_expires_at,omitempty"`
	// ExpiryWarnedAt is when connection.expiring was sent for the current
	// tokens; storing new tokens clears it.
	ExpiryWarnedAt *time.Time       `json:"-"`
	Scopes         []string         `json:"scopes"`
	Status         ConnectionStatus `json:"status"`
	CreatedAt      time.Time        `json:"created_at"`
	UpdatedAt      time.Time        `json:"updated_at"`
}

const connectionColumns = `id, workspace_id, platform, account_id, account_name, avatar_url,
	access_token, refresh_token, token_expires_at, scopes, status, created_at, updated_at,
	refresh_expires_at, expiry_warned_at`

func scanConnection(sc rowScanner) (Connection, error) {
	var c Connection
	var scopes string
	err := sc.Scan(&c.ID, &c.WorkspaceID, &c.Platform, &c.AccountID, &c.AccountName, &c.AvatarURL,
		&c.AccessToken, &c.RefreshToken, scanNullTime(&c.TokenExpiresAt), &scopes, &c.Status,
		scanTime(&c.CreatedAt), scanTime(&c.UpdatedAt), scanNullTime(&c.RefreshExpiresAt), scanNullTime(&c.ExpiryWarnedAt))
	c.Scopes = strings.Fields(scopes)
	return c, err
}

// UpsertConnection stores a connection, or, when the workspace already has
// this platform account (a reconnect), replaces its name, avatar, tokens,
// scopes and status, keeping its id. It returns the stored connection.
func (q *Queries) UpsertConnection(ctx context.Context, c Connection) (Connection, error) {
	if c.ID == "" {
		c.ID = NewID(PrefixConnection)
	}
	if c.Status == "" {
		c.Status = ConnectionActive
	}
	at := now(c.CreatedAt)
	_, err := q.exec(ctx, `INSERT INTO connections (`+connectionColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13, NULL)
		ON CONFLICT (workspace_id, platform, account_id) DO UPDATE SET
			account_name = excluded.account_name, avatar_url = excluded.avatar_url,
			access_token = excluded.access_token, refresh_token = excluded.refresh_token,
			token_expires_at = excluded.token_expires_at, scopes = excluded.scopes,
			status = excluded.status, updated_at = excluded.updated_at,
			refresh_expires_at = excluded.refresh_expires_at, expiry_warned_at = NULL`,
		c.ID, c.WorkspaceID, c.Platform, c.AccountID, c.AccountName, c.AvatarURL, c.AccessToken,
		c.RefreshToken, c.TokenExpiresAt, strings.Join(c.Scopes, " "), c.Status, at, c.RefreshExpiresAt)
	if err != nil {
		return Connection{}, fmt.Errorf("upsert connection: %w", err)
	}
	got, err := scanConnection(q.queryRow(ctx, `SELECT `+connectionColumns+` FROM connections
		WHERE workspace_id = $1 AND platform = $2 AND account_id = $3`, c.WorkspaceID, c.Platform, c.AccountID))
	if err != nil {
		return Connection{}, fmt.Errorf("upsert connection: %w", notFound(err))
	}
	return got, nil
}

// GetConnection returns the connection with id.
func (q *Queries) GetConnection(ctx context.Context, id string) (Connection, error) {
	c, err := scanConnection(q.queryRow(ctx, `SELECT `+connectionColumns+` FROM connections WHERE id = $1`, id))
	if err != nil {
		return Connection{}, fmt.Errorf("get connection %s: %w", id, notFound(err))
	}
	return c, nil
}

// ListConnections returns the workspace's connections by platform and
// account name.
func (q *Queries) ListConnections(ctx context.Context, workspaceID string) ([]Connection, error) {
	rows, err := q.query(ctx, `SELECT `+connectionColumns+` FROM connections WHERE workspace_id = $1
		ORDER BY platform, account_name, id`, workspaceID)
	if err != nil {
		return nil, fmt.Errorf("list connections: %w", err)
	}
	cs, err := collect(rows, scanConnection)
	if err != nil {
		return nil, fmt.Errorf("list connections: %w", err)
	}
	return cs, nil
}

// GetConnectionByAccount returns the workspace's connection of a platform
// account (to reuse its id on a reconnect).
func (q *Queries) GetConnectionByAccount(ctx context.Context, workspaceID, platform, accountID string) (Connection, error) {
	c, err := scanConnection(q.queryRow(ctx, `SELECT `+connectionColumns+` FROM connections
		WHERE workspace_id = $1 AND platform = $2 AND account_id = $3`, workspaceID, platform, accountID))
	if err != nil {
		return Connection{}, fmt.Errorf("get connection %s/%s: %w", platform, accountID, notFound(err))
	}
	return c, nil
}

// ListConnectionsDue returns active connections, of every workspace, whose
// access token expires before t or whose refresh token expires before warn:
// the periodic refresh job's work list.
func (q *Queries) ListConnectionsDue(ctx context.Context, t, warn time.Time, limit int) ([]Connection, error) {
	rows, err := q.query(ctx, `SELECT `+connectionColumns+` FROM connections
		WHERE status = $1 AND (token_expires_at < $2 OR refresh_expires_at < $3)
		ORDER BY token_expires_at, id LIMIT $4`, ConnectionActive, t, warn, pageLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("list connections due: %w", err)
	}
	cs, err := collect(rows, scanConnection)
	if err != nil {
		return nil, fmt.Errorf("list connections due: %w", err)
	}
	return cs, nil
}

// ConnectionTokens are the token fields of a connection, sealed by the
// caller.
type ConnectionTokens struct {
	AccessToken      []byte
	RefreshToken     []byte
	ExpiresAt        *time.Time
	RefreshExpiresAt *time.Time
	// KeepWarning keeps the expiry warning: the grant ends when it did.
	KeepWarning bool
}

// SwapConnectionTokens stores refreshed tokens and marks the connection
// active (clearing its expiry warning unless t.KeepWarning), but only
// while its refresh token is still
// oldRefresh: when another process refreshed first (a rotating refresh
// token is single use), it returns ErrConflict and the caller reads the
// winner's tokens.
func (q *Queries) SwapConnectionTokens(ctx context.Context, id string, oldRefresh []byte, t ConnectionTokens) error {
	res, err := q.exec(ctx, `UPDATE connections SET access_token = $3, refresh_token = $4,
		token_expires_at = $5, refresh_expires_at = $6, status = $7, updated_at = $8,
		expiry_warned_at = CASE WHEN $9 THEN expiry_warned_at ELSE NULL END
		WHERE id = $1 AND (refresh_token = $2 OR (refresh_token IS NULL AND $2 IS NULL))`,
		id, nullBytes(oldRefresh), t.AccessToken, nullBytes(t.RefreshToken), t.ExpiresAt, t.RefreshExpiresAt,
		ConnectionActive, now(time.Time{}), t.KeepWarning)
	if err != nil {
		return fmt.Errorf("update connection %s tokens: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("update connection %s tokens: %w", id, err)
	} else if n == 0 {
		if _, err := q.GetConnection(ctx, id); err != nil {
			return err
		}
		return fmt.Errorf("update connection %s tokens: refreshed meanwhile: %w", id, ErrConflict)
	}
	return nil
}

// ResealConnectionTokens replaces the connection's sealed tokens by the
// same tokens sealed under another key, only while they are still
// oldAccess and oldRefresh; otherwise (refreshed meanwhile) ErrConflict.
// Status, expiries and warnings are kept.
func (q *Queries) ResealConnectionTokens(ctx context.Context, id string, oldAccess, oldRefresh, access, refresh []byte) error {
	res, err := q.exec(ctx, `UPDATE connections SET access_token = $4, refresh_token = $5
		WHERE id = $1 AND (access_token = $2 OR (access_token IS NULL AND $2 IS NULL))
		AND (refresh_token = $3 OR (refresh_token IS NULL AND $3 IS NULL))`,
		id, nullBytes(oldAccess), nullBytes(oldRefresh), nullBytes(access), nullBytes(refresh))
	if err != nil {
		return fmt.Errorf("reseal connection %s tokens: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("reseal connection %s tokens: %w", id, err)
	} else if n == 0 {
		if _, err := q.GetConnection(ctx, id); err != nil {
			return err
		}
		return fmt.Errorf("reseal connection %s tokens: changed meanwhile: %w", id, ErrConflict)
	}
	return nil
}

// ListConnectionsAfter returns up to limit connections of every workspace
// with an id after after, in id order (to walk them all).
func (q *Queries) ListConnectionsAfter(ctx context.Context, after string, limit int) ([]Connection, error) {
	rows, err := q.query(ctx, `SELECT `+connectionColumns+` FROM connections WHERE id > $1
		ORDER BY id LIMIT $2`, after, pageLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("list connections: %w", err)
	}
	cs, err := collect(rows, scanConnection)
	if err != nil {
		return nil, fmt.Errorf("list connections: %w", err)
	}
	return cs, nil
}

func nullBytes(b []byte) any {
	if b == nil {
		return nil
	}
	return b
}

// MarkConnectionWarned records that connection.expiring was sent at t.
func (q *Queries) MarkConnectionWarned(ctx context.Context, id string, t time.Time) error {
	_, err := q.exec(ctx, `UPDATE connections SET expiry_warned_at = $2 WHERE id = $1`, id, t)
	if err != nil {
		return fmt.Errorf("mark connection %s warned: %w", id, err)
	}
	return nil
}

// UpdateConnectionTokens stores refreshed tokens and marks the connection
// active.
func (q *Queries) UpdateConnectionTokens(ctx context.Context, id string, access, refresh []byte, expiresAt *time.Time) error {
	res, err := q.exec(ctx, `UPDATE connections SET access_token = $2, refresh_token = $3,
		token_expires_at = $4, status = $5, updated_at = $6, expiry_warned_at = NULL WHERE id = $1`,
		id, access, refresh, expiresAt, ConnectionActive, now(time.Time{}))
	if err != nil {
		return fmt.Errorf("update connection %s tokens: %w", id, err)
	}
	if err := rowsAffected(res); err != nil {
		return fmt.Errorf("update connection %s tokens: %w", id, err)
	}
	return nil
}

// SetConnectionStatus flags a connection (expired when a refresh fails,
// revoked when the user disconnects).
func (q *Queries) SetConnectionStatus(ctx context.Context, id string, status ConnectionStatus) error {
	res, err := q.exec(ctx, `UPDATE connections SET status = $2, updated_at = $3 WHERE id = $1`,
		id, status, now(time.Time{}))
	if err != nil {
		return fmt.Errorf("set connection %s status: %w", id, err)
	}
	if err := rowsAffected(res); err != nil {
		return fmt.Errorf("set connection %s status: %w", id, err)
	}
	return nil
}

// DeleteConnection deletes a connection and its publications.
func (q *Queries) DeleteConnection(ctx context.Context, id string) error {
	res, err := q.exec(ctx, `DELETE FROM connections WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete connection %s: %w", id, err)
	}
	if err := rowsAffected(res); err != nil {
		return fmt.Errorf("delete connection %s: %w", id, err)
	}
	return nil
}

// RevokeConnection forgets a connection's tokens and marks it revoked,
// keeping the row (and its publications' history).
func (q *Queries) RevokeConnection(ctx context.Context, id string) error {
	res, err := q.exec(ctx, `UPDATE connections SET access_token = NULL, refresh_token = NULL, status = $2,
		expiry_warned_at = NULL, updated_at = $3 WHERE id = $1`, id, ConnectionRevoked, now(time.Time{}))
	if err != nil {
		return fmt.Errorf("revoke connection %s: %w", id, err)
	}
	if err := rowsAffected(res); err != nil {
		return fmt.Errorf("revoke connection %s: %w", id, err)
	}
	return nil
}
