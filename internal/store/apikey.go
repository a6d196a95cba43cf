package store

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"outpost/internal/authz"
)

// APIKeyPrefix starts every API key this store generates.
const APIKeyPrefix = "opk_"

// apiKeyDisplayLen is how many leading characters of a key are kept for
// display ("opk_ab12…").
const apiKeyDisplayLen = 8

// DefaultRotationGrace is how long a rotated key keeps working next to its
// replacement unless the caller chooses otherwise.
const DefaultRotationGrace = 24 * time.Hour

// Scope is a permission an API key carries (authz has the rules).
type Scope = authz.Scope

// APIKey is a workspace's bearer key. The key itself is never stored: only
// its SHA-256 and first characters.
type APIKey struct {
	ID          string  `json:"id"`
	WorkspaceID string  `json:"workspace_id"`
	Name        string  `json:"name"`
	Prefix      string  `json:"prefix"`
	Scopes      []Scope `json:"scopes"`
	// CreatedBy is the user who made it; "" for the bootstrap key, the
	// first-run key and keys made with the CLI.
	CreatedBy  string     `json:"created_by,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	// ExpiresAt is when a rotated key stops working (its grace deadline).
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	// ReplacedBy is the id of the key that replaced this one on rotation.
	ReplacedBy string `json:"replaced_by,omitempty"`
}

// Live reports whether the key works at the time at.
func (k APIKey) Live(at time.Time) bool {
	return k.RevokedAt == nil && (k.ExpiresAt == nil || at.Before(*k.ExpiresAt))
}

const apiKeyColumns = `id, workspace_id, name, prefix, scopes, created_by, created_at, last_used_at, revoked_at,
	expires_at, replaced_by`

func scanAPIKey(sc rowScanner) (APIKey, string, error) {
	var k APIKey
	var hash, scopes string
	err := sc.Scan(&k.ID, &k.WorkspaceID, &k.Name, &k.Prefix, &scopes, scanText(&k.CreatedBy), scanTime(&k.CreatedAt),
		scanNullTime(&k.LastUsedAt), scanNullTime(&k.RevokedAt), scanNullTime(&k.ExpiresAt), scanText(&k.ReplacedBy), &hash)
	for _, f := range strings.Fields(scopes) {
		k.Scopes = append(k.Scopes, Scope(f))
	}
	return k, hash, err
}

func joinScopes(scopes []Scope) string {
	s := make([]string, len(scopes))
	for i, sc := range scopes {
		s[i] = string(sc)
	}
	return strings.Join(s, " ")
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

// CreateAPIKey generates a key with every scope for the workspace (the
// first-run key) and returns it with its plaintext, which is shown once and
// never again. IssueAPIKey chooses the scopes.
func (q *Queries) CreateAPIKey(ctx context.Context, workspaceID, name string) (APIKey, string, error) {
	return q.IssueAPIKey(ctx, APIKey{WorkspaceID: workspaceID, Name: name, Scopes: authz.Scopes})
}

// IssueAPIKey generates a key with k's workspace, name, scopes (at least
// one) and creator, and returns it with its plaintext, shown once.
func (q *Queries) IssueAPIKey(ctx context.Context, k APIKey) (APIKey, string, error) {
	if len(k.Scopes) == 0 {
		return APIKey{}, "", fmt.Errorf("create api key: no scopes")
	}
	plaintext := APIKeyPrefix + randomToken(20)
	out, err := q.insertAPIKey(ctx, k, plaintext, false)
	if err != nil {
		return APIKey{}, "", err
	}
	return out, plaintext, nil
}

// EnsureAPIKey makes sure plaintext is a key of the workspace (the
// bootstrap key from config), creating it named "bootstrap" with every
// scope if needed. A key that exists but was revoked stays revoked (check
// RevokedAt); one that belongs to another workspace gives ErrConflict.
func (q *Queries) EnsureAPIKey(ctx context.Context, workspaceID, plaintext string) (APIKey, error) {
	k, err := q.insertAPIKey(ctx, APIKey{WorkspaceID: workspaceID, Name: "bootstrap", Scopes: authz.Scopes}, plaintext, true)
	if err != nil {
		return APIKey{}, err
	}
	if k.WorkspaceID != workspaceID {
		return APIKey{}, fmt.Errorf("ensure api key %s: it belongs to another workspace: %w", k.Prefix, ErrConflict)
	}
	return k, nil
}

func (q *Queries) insertAPIKey(ctx context.Context, k APIKey, plaintext string, existingOK bool) (APIKey, error) {
	if plaintext == "" {
		return APIKey{}, fmt.Errorf("create api key: empty key")
	}
	if k.ID == "" {
		k.ID = NewID(PrefixAPIKey)
	}
	hash := hashAPIKey(plaintext)
	res, err := q.exec(ctx, `INSERT INTO api_keys (id, workspace_id, name, prefix, key_hash, created_at, scopes, created_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (key_hash) DO NOTHING`,
		k.ID, k.WorkspaceID, k.Name, displayPrefix(plaintext), hash, now(time.Time{}), joinScopes(k.Scopes), nullable(k.CreatedBy))
	if err != nil {
		return APIKey{}, fmt.Errorf("create api key: %w", err)
	}
	if err := rowsAffected(res); err != nil && !existingOK {
		return APIKey{}, fmt.Errorf("create api key: %w", ErrConflict)
	}
	out, _, err := scanAPIKey(q.queryRow(ctx, `SELECT `+apiKeyColumns+`, key_hash FROM api_keys WHERE key_hash = $1`, hash))
	if err != nil {
		return APIKey{}, fmt.Errorf("read api key: %w", notFound(err))
	}
	return out, nil
}

// LookupAPIKey returns the live key whose plaintext this is (not revoked,
// not past a rotation's grace deadline now), or ErrNotFound. Every node
// reads the database, so a revocation holds everywhere at once.
func (q *Queries) LookupAPIKey(ctx context.Context, plaintext string) (APIKey, error) {
	hash := hashAPIKey(plaintext)
	k, stored, err := scanAPIKey(q.queryRow(ctx, `SELECT `+apiKeyColumns+`, key_hash FROM api_keys
		WHERE key_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)`, hash, now(time.Time{})))
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

// GetAPIKey returns the key with id, whatever its state.
func (q *Queries) GetAPIKey(ctx context.Context, id string) (APIKey, error) {
	k, _, err := scanAPIKey(q.queryRow(ctx, `SELECT `+apiKeyColumns+`, key_hash FROM api_keys WHERE id = $1`, id))
	if err != nil {
		return APIKey{}, fmt.Errorf("get api key %s: %w", id, notFound(err))
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

// RotateAPIKey replaces a live key at the time at with a new one of the
// same workspace, name and scopes (made by createdBy, "" for the CLI), and
// returns the new key with its plaintext, shown once. The old key keeps
// working until at+grace (0: stops at once). A key that is revoked,
// expired or already rotated gives ErrConflict; a missing one, ErrNotFound.
func (q *Queries) RotateAPIKey(ctx context.Context, id string, grace time.Duration, createdBy string, at time.Time) (APIKey, string, error) {
	if grace < 0 {
		return APIKey{}, "", fmt.Errorf("rotate api key %s: negative grace period %v", id, grace)
	}
	at = now(at)
	var out APIKey
	var plaintext string
	err := q.atomic(ctx, func(q *Queries) error {
		old, err := q.GetAPIKey(ctx, id)
		if err != nil {
			return fmt.Errorf("rotate api key: %w", err)
		}
		if !old.Live(at) || old.ReplacedBy != "" {
			return fmt.Errorf("rotate api key %s: it is revoked, expired or rotated already: %w", id, ErrConflict)
		}
		out, plaintext, err = q.IssueAPIKey(ctx, APIKey{WorkspaceID: old.WorkspaceID, Name: old.Name,
			Scopes: old.Scopes, CreatedBy: createdBy})
		if err != nil {
			return err
		}
		// Conditional, so that of two rotations at once only one wins.
		res, err := q.exec(ctx, `UPDATE api_keys SET replaced_by = $2, expires_at = $3
			WHERE id = $1 AND replaced_by IS NULL AND revoked_at IS NULL`, id, out.ID, at.Add(grace))
		if err != nil {
			return fmt.Errorf("rotate api key %s: %w", id, err)
		}
		if rowsAffected(res) != nil {
			return fmt.Errorf("rotate api key %s: rotated meanwhile: %w", id, ErrConflict)
		}
		return nil
	})
	if err != nil {
		return APIKey{}, "", err
	}
	return out, plaintext, nil
}

// ListAPIKeys returns the workspace's keys, revoked ones included, newest
// first.
func (q *Queries) ListAPIKeys(ctx context.Context, workspaceID string) ([]APIKey, error) {
	rows, err := q.query(ctx, `SELECT `+apiKeyColumns+`, key_hash FROM api_keys
		WHERE workspace_id = $1 ORDER BY created_at DESC, id DESC`, workspaceID)
	if err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	keys, err := collect(rows, func(sc rowScanner) (APIKey, error) {
		k, _, err := scanAPIKey(sc)
		return k, err
	})
	if err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	return keys, nil
}
