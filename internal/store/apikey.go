package store

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"time"
)

// APIKeyPrefix starts every API key this store generates.
const APIKeyPrefix = "opk_"

// apiKeyDisplayLen is how many leading characters of a key are kept for
// display ("opk_ab12…").
const apiKeyDisplayLen = 8

// APIKey is a workspace's bearer key. The key itself is never stored: only
// its SHA-256 and first characters.
type APIKey struct {
	ID          string     `json:"id"`
	WorkspaceID string     `json:"workspace_id"`
	Name        string     `json:"name"`
	Prefix      string     `json:"prefix"`
	CreatedAt   time.Time  `json:"created_at"`
	LastUsedAt  *time.Time `json:"last_used_at,omitempty"`
	RevokedAt   *time.Time `json:"revoked_at,omitempty"`
}

const apiKeyColumns = `id, workspace_id, name, prefix, created_at, last_used_at, revoked_at`

func scanAPIKey(sc rowScanner) (APIKey, string, error) {
	var k APIKey
	var hash string
	err := sc.Scan(&k.ID, &k.WorkspaceID, &k.Name, &k.Prefix, scanTime(&k.CreatedAt),
		scanNullTime(&k.LastUsedAt), scanNullTime(&k.RevokedAt), &hash)
	return k, hash, err
}

// hashAPIKey returns the hex SHA-256 of a key. Keys are long and random, so
// a fast hash is enough (no password stretching).
func hashAPIKey(plaintext string) string {
	sum := sha256.Sum256([]byte(plaintext))
	return hex.EncodeToString(sum[:])
}

func displayPrefix(plaintext string) string {
	return plaintext[:min(apiKeyDisplayLen, len(plaintext))]
}

// CreateAPIKey generates a new key for the workspace and returns it with its
// plaintext, which is shown once and never again.
func (q *Queries) CreateAPIKey(ctx context.Context, workspaceID, name string) (APIKey, string, error) {
	plaintext := APIKeyPrefix + randomToken(20)
	k, err := q.insertAPIKey(ctx, workspaceID, name, plaintext, false)
	if err != nil {
		return APIKey{}, "", err
	}
	return k, plaintext, nil
}

// EnsureAPIKey makes sure plaintext is a key of the workspace (the
// bootstrap key from config), creating it named "bootstrap" if needed. A key
// that exists but was revoked stays revoked (check RevokedAt); one that
// belongs to another workspace gives ErrConflict.
func (q *Queries) EnsureAPIKey(ctx context.Context, workspaceID, plaintext string) (APIKey, error) {
	k, err := q.insertAPIKey(ctx, workspaceID, "bootstrap", plaintext, true)
	if err != nil {
		return APIKey{}, err
	}
	if k.WorkspaceID != workspaceID {
		return APIKey{}, fmt.Errorf("ensure api key %s: it belongs to another workspace: %w", k.Prefix, ErrConflict)
	}
	return k, nil
}

func (q *Queries) insertAPIKey(ctx context.Context, workspaceID, name, plaintext string, existingOK bool) (APIKey, error) {
	if plaintext == "" {
		return APIKey{}, fmt.Errorf("create api key: empty key")
	}
	hash := hashAPIKey(plaintext)
	res, err := q.exec(ctx, `INSERT INTO api_keys (id, workspace_id, name, prefix, key_hash, created_at)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (key_hash) DO NOTHING`,
		NewID(PrefixAPIKey), workspaceID, name, displayPrefix(plaintext), hash, now(time.Time{}))
	if err != nil {
		return APIKey{}, fmt.Errorf("create api key: %w", err)
	}
	if err := rowsAffected(res); err != nil && !existingOK {
		return APIKey{}, fmt.Errorf("create api key: %w", ErrConflict)
	}
	k, _, err := scanAPIKey(q.queryRow(ctx, `SELECT `+apiKeyColumns+`, key_hash FROM api_keys WHERE key_hash = $1`, hash))
	if err != nil {
		return APIKey{}, fmt.Errorf("read api key: %w", notFound(err))
	}
	return k, nil
}

// LookupAPIKey returns the live (not revoked) key whose plaintext this is,
// or ErrNotFound.
func (q *Queries) LookupAPIKey(ctx context.Context, plaintext string) (APIKey, error) {
	hash := hashAPIKey(plaintext)
	k, stored, err := scanAPIKey(q.queryRow(ctx,
		`SELECT `+apiKeyColumns+`, key_hash FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL`, hash))
	if err != nil {
		return APIKey{}, fmt.Errorf("look up api key: %w", notFound(err))
	}
	// The index lookup already matched; compare again in constant time so
	// that no code path compares secrets byte by byte.
	if subtle.ConstantTimeCompare([]byte(stored), []byte(hash)) != 1 {
		return APIKey{}, fmt.Errorf("look up api key: %w", ErrNotFound)
	}
	return k, nil
}

// TouchAPIKey records that the key was used at t. Callers may throttle it:
// it is a write on every request otherwise.
func (q *Queries) TouchAPIKey(ctx context.Context, id string, t time.Time) error {
	res, err := q.exec(ctx, `UPDATE api_keys SET last_used_at = $2 WHERE id = $1`, id, now(t))
	if err != nil {
		return fmt.Errorf("touch api key %s: %w", id, err)
	}
	if err := rowsAffected(res); err != nil {
		return fmt.Errorf("touch api key %s: %w", id, err)
	}
	return nil
}

// RevokeAPIKey revokes the key at t; revoking twice keeps the first time.
func (q *Queries) RevokeAPIKey(ctx context.Context, id string, t time.Time) error {
	res, err := q.exec(ctx, `UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1`, id, now(t))
	if err != nil {
		return fmt.Errorf("revoke api key %s: %w", id, err)
	}
	if err := rowsAffected(res); err != nil {
		return fmt.Errorf("revoke api key %s: %w", id, err)
	}
	return nil
}

// ListAPIKeys returns the workspace's keys, revoked ones included, newest
// first.
func (q *Queries) ListAPIKeys(ctx context.Context, workspaceID string) ([]APIKey, error) {
	rows, err := q.query(ctx, `SELECT `+apiKeyColumns+`, key_hash FROM api_keys
		WHERE workspace_id = $1 ORDER BY created_at DESC, id DESC`, workspaceID)
	if err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	defer rows.Close()
	var keys []APIKey
	for rows.Next() {
		k, _, err := scanAPIKey(rows)
		if err != nil {
			return nil, fmt.Errorf("list api keys: %w", err)
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	return keys, nil
}
