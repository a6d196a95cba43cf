package store

import (
	"context"
	"fmt"
	"time"
)

// OAuthState is a pending OAuth authorization, from the redirect to the
// platform until its callback. ID is the SHA-256 (hex) of the state
// parameter: the parameter itself is never stored.
type OAuthState struct {
	ID          string
	WorkspaceID string
	Platform    string
	// Verifier is the PKCE code verifier, sealed by the caller.
	Verifier []byte
	// BrowserHash is the SHA-256 (hex) of the cookie that binds the flow to
	// the browser that started it; empty for flows started through the API.
	BrowserHash string
	// ReturnTo is the local path to send the browser to afterwards.
	ReturnTo  string
	CreatedAt time.Time
	ExpiresAt time.Time
}

const oauthStateColumns = `id, workspace_id, platform, verifier, browser_hash, return_to, created_at, expires_at`

// CreateOAuthState stores a pending authorization.
func (q *Queries) CreateOAuthState(ctx context.Context, st OAuthState) error {
	st.CreatedAt = now(st.CreatedAt)
	_, err := q.exec(ctx, `INSERT INTO oauth_states (`+oauthStateColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		st.ID, st.WorkspaceID, st.Platform, st.Verifier, st.BrowserHash, st.ReturnTo, st.CreatedAt, st.ExpiresAt)
	if err != nil {
		return fmt.Errorf("create oauth state: %w", err)
	}
	return nil
}

// TakeOAuthState deletes and returns the pending authorization with id, if
// it has not expired at t: a state is good for one callback.
func (q *Queries) TakeOAuthState(ctx context.Context, id string, t time.Time) (OAuthState, error) {
	var st OAuthState
	err := q.queryRow(ctx, `DELETE FROM oauth_states WHERE id = $1 RETURNING `+oauthStateColumns, id).Scan(
		&st.ID, &st.WorkspaceID, &st.Platform, &st.Verifier, &st.BrowserHash, &st.ReturnTo,
		scanTime(&st.CreatedAt), scanTime(&st.ExpiresAt))
	if err != nil {
		return OAuthState{}, fmt.Errorf("take oauth state: %w", notFound(err))
	}
	if !t.Before(st.ExpiresAt) {
		return OAuthState{}, fmt.Errorf("take oauth state: expired: %w", ErrNotFound)
	}
	return st, nil
}

// DeleteOAuthStatesBefore deletes authorizations that expired before t and
// returns how many.
func (q *Queries) DeleteOAuthStatesBefore(ctx context.Context, t time.Time) (int64, error) {
	return q.deleteCount(ctx, "delete expired oauth states", `DELETE FROM oauth_states WHERE expires_at < $1`, t)
}

// LockExport takes the export's row lock until the transaction ends
// (PostgreSQL; SQLite transactions are serialised anyway), so that the
// render's end and a publication's end agree on which of them sends the
// export's last live event.
func (q *Queries) LockExport(ctx context.Context, id string) error {
	res, err := q.exec(ctx, `UPDATE exports SET updated_at = updated_at WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("lock export %s: %w", id, err)
	}
	if err := rowsAffected(res); err != nil {
		return fmt.Errorf("lock export %s: %w", id, err)
	}
	return nil
}
