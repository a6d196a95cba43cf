package service

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"outpost/internal/authz"
	"outpost/internal/errcode"
	"outpost/internal/outpost"
	"outpost/internal/store"
)

// MaxRotationGrace is the longest a rotated key may keep working.
const MaxRotationGrace = 30 * 24 * time.Hour

// APIKeys are a workspace's API keys: made with a secret shown once,
// listed, revoked and rotated. Every change is audited.
type APIKeys struct {
	store *store.Store
	now   func() time.Time
}

var _ outpost.APIKeys = (*APIKeys)(nil)

// keyView is a key as lists show it, its state as of at; creators are
// named by email when known.
func keyView(k store.APIKey, at time.Time, creator string) outpost.APIKeyInfo {
	v := outpost.APIKeyInfo{ID: k.ID, Name: k.Name, Prefix: k.Prefix, Scopes: k.Scopes, CreatedBy: creator,
		CreatedAt: k.CreatedAt, LastUsedAt: k.LastUsedAt, RevokedAt: k.RevokedAt, ExpiresAt: k.ExpiresAt,
		ReplacedBy: k.ReplacedBy, State: outpost.KeyActive}
	switch {
	case k.RevokedAt != nil:
		v.State = outpost.KeyRevoked
	case k.ExpiresAt != nil && !at.Before(*k.ExpiresAt):
		v.State = outpost.KeyExpired
	case k.ExpiresAt != nil:
		v.State = outpost.KeyExpiring
	}
	return v
}

// List returns the workspace's keys, revoked ones included, newest first.
func (s *APIKeys) List(ctx context.Context, c outpost.Caller) ([]outpost.APIKeyInfo, error) {
	if err := c.Check(authz.ManageKeys); err != nil {
		return nil, err
	}
	keys, err := s.store.ListAPIKeys(ctx, c.WorkspaceID)
	if err != nil {
		return nil, err
	}
	emails := map[string]string{}
	out := make([]outpost.APIKeyInfo, len(keys))
	at := s.now()
	for i, k := range keys {
		out[i] = keyView(k, at, s.creator(ctx, emails, k.CreatedBy))
	}
	return out, nil
}

func (s *APIKeys) creator(ctx context.Context, known map[string]string, userID string) string {
	if userID == "" {
		return ""
	}
	if e, ok := known[userID]; ok {
		return e
	}
	u, err := s.store.GetUser(ctx, userID)
	if err == nil {
		known[userID] = u.Email
	}
	return known[userID]
}

// Create makes a key with a name and scopes; its secret is in the answer
// only.
func (s *APIKeys) Create(ctx context.Context, c outpost.Caller, req outpost.APIKeyRequest) (outpost.NewAPIKey, error) {
	if err := c.Check(authz.ManageKeys); err != nil {
		return outpost.NewAPIKey{}, err
	}
	name := strings.TrimSpace(req.Name)
	if name == "" || utf8.RuneCountInString(name) > 100 {
		return outpost.NewAPIKey{}, errcode.New(errcode.InvalidOption, "name: give the key a name of 1 to 100 characters (what uses it)")
	}
	names := make([]string, len(req.Scopes))
	for i, sc := range req.Scopes {
		names[i] = string(sc)
	}
	scopes, err := authz.ParseScopes(strings.Join(names, ","))
	if err != nil {
		return outpost.NewAPIKey{}, err
	}
	var out outpost.NewAPIKey
	err = inTx(ctx, s.store, func(q *store.Queries, _ *sql.Tx) error {
		k, secret, err := q.IssueAPIKey(ctx, store.APIKey{WorkspaceID: c.WorkspaceID, Name: name, Scopes: scopes, CreatedBy: c.UserID})
		if err != nil {
			return err
		}
		out = outpost.NewAPIKey{APIKeyInfo: keyView(k, s.now(), creatorName(c)), Secret: secret}
		return audit(ctx, q, c, store.AuditAPIKeyCreated, "api_key", k.ID, map[string]any{"name": name, "prefix": k.Prefix, "scopes": scopes})
	})
	return out, err
}

// creatorName is the email a new key lists as its creator.
func creatorName(c outpost.Caller) string {
	if c.KeyID != "" {
		return ""
	}
	return c.Name
}

// key returns one of the workspace's keys.
func (s *APIKeys) key(ctx context.Context, workspaceID, id string) (store.APIKey, error) {
	return inWorkspace(ctx, workspaceID, "api key", id, s.store.GetAPIKey, func(k store.APIKey) string { return k.WorkspaceID })
}

// Revoke stops a key at once: every node looks keys up in the database on
// every request. Revoking twice keeps the first time.
func (s *APIKeys) Revoke(ctx context.Context, c outpost.Caller, id string) (outpost.APIKeyInfo, error) {
	if err := c.Check(authz.ManageKeys); err != nil {
		return outpost.APIKeyInfo{}, err
	}
	k, err := s.key(ctx, c.WorkspaceID, id)
	if err != nil {
		return outpost.APIKeyInfo{}, err
	}
	err = inTx(ctx, s.store, func(q *store.Queries, _ *sql.Tx) error {
		if err := q.RevokeAPIKey(ctx, k.ID, s.now()); err != nil {
			return err
		}
		if k.RevokedAt != nil {
			return nil // already revoked: nothing changed
		}
		return audit(ctx, q, c, store.AuditAPIKeyRevoked, "api_key", k.ID, map[string]any{"name": k.Name, "prefix": k.Prefix})
	})
	if err != nil {
		return outpost.APIKeyInfo{}, err
	}
	if k, err = s.store.GetAPIKey(ctx, k.ID); err != nil {
		return outpost.APIKeyInfo{}, err
	}
	return keyView(k, s.now(), s.creator(ctx, map[string]string{}, k.CreatedBy)), nil
}

// Rotate makes a replacement key with the same name and scopes; the old
// one keeps working for grace ("" is store.DefaultRotationGrace, "0" stops
// it at once).
func (s *APIKeys) Rotate(ctx context.Context, c outpost.Caller, id, graceText string) (outpost.NewAPIKey, error) {
	if err := c.Check(authz.ManageKeys); err != nil {
		return outpost.NewAPIKey{}, err
	}
	grace := store.DefaultRotationGrace
	if g := strings.TrimSpace(graceText); g != "" {
		var err error
		if grace, err = time.ParseDuration(g); err != nil {
			return outpost.NewAPIKey{}, errcode.New(errcode.InvalidOption, "grace %q: a duration such as 1h, 24h or 0", graceText)
		}
	}
	if grace < 0 || grace > MaxRotationGrace {
		return outpost.NewAPIKey{}, errcode.New(errcode.InvalidOption, "grace: from 0 (the old key stops at once) to %d days", int(MaxRotationGrace.Hours()/24))
	}
	old, err := s.key(ctx, c.WorkspaceID, id)
	if err != nil {
		return outpost.NewAPIKey{}, err
	}
	var out outpost.NewAPIKey
	err = inTx(ctx, s.store, func(q *store.Queries, _ *sql.Tx) error {
		k, secret, err := q.RotateAPIKey(ctx, old.ID, grace, c.UserID, s.now())
		if errors.Is(err, store.ErrConflict) {
			return &errcode.Error{Code: errcode.Conflict, Message: "this key is revoked, expired or already rotated",
				Remedy: "Rotate its replacement, or create a new key."}
		}
		if err != nil {
			return err
		}
		out = outpost.NewAPIKey{APIKeyInfo: keyView(k, s.now(), creatorName(c)), Secret: secret}
		return audit(ctx, q, c, store.AuditAPIKeyRotated, "api_key", old.ID,
			map[string]any{"name": old.Name, "prefix": old.Prefix, "replaced_by": k.ID, "grace_seconds": grace.Seconds()})
	})
	return out, err
}
