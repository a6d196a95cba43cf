package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"outpost/internal/errcode"
)

// DefaultInviteTTL is how long an invite link works unless the inviter
// chooses otherwise.
const DefaultInviteTTL = 7 * 24 * time.Hour

// Invite is an invitation to join a workspace with a role. The link
// carries a random token; only its SHA-256 is stored.
type Invite struct {
	ID          string `json:"id"`
	WorkspaceID string `json:"workspace_id"`
	// Email, when set, is the only address that may accept; "" lets
	// anyone holding the link accept.
	Email      string     `json:"email,omitempty"`
	Role       Role       `json:"role"`
	InvitedBy  string     `json:"invited_by,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	AcceptedAt *time.Time `json:"accepted_at,omitempty"`
	AcceptedBy string     `json:"accepted_by,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// Pending reports whether the invite can still be accepted at the time at.
func (i Invite) Pending(at time.Time) bool {
	return i.AcceptedAt == nil && i.RevokedAt == nil && at.Before(i.ExpiresAt)
}

const inviteColumns = `id, workspace_id, email, role, invited_by, created_at, expires_at, accepted_at, accepted_by, revoked_at`

func scanInvite(sc rowScanner) (Invite, error) {
	var i Invite
	err := sc.Scan(&i.ID, &i.WorkspaceID, &i.Email, &i.Role, scanText(&i.InvitedBy), scanTime(&i.CreatedAt),
		scanTime(&i.ExpiresAt), scanNullTime(&i.AcceptedAt), scanText(&i.AcceptedBy), scanNullTime(&i.RevokedAt))
	return i, err
}

// CreateInvite stores an invite and returns it with the token for its link,
// shown once. ExpiresAt defaults to DefaultInviteTTL from now.
func (q *Queries) CreateInvite(ctx context.Context, i Invite) (Invite, string, error) {
	if !i.Role.Valid() {
		return Invite{}, "", fmt.Errorf("create invite: role %q: %w", i.Role, ErrInvalidRole)
	}
	i.ID = NewID(PrefixInvite)
	i.Email = normEmail(i.Email)
	i.CreatedAt = now(i.CreatedAt)
	if i.ExpiresAt.IsZero() {
		i.ExpiresAt = i.CreatedAt.Add(DefaultInviteTTL)
	}
	i.ExpiresAt = normTime(i.ExpiresAt)
	i.AcceptedAt, i.AcceptedBy, i.RevokedAt = nil, "", nil
	token := randomToken(32)
	_, err := q.exec(ctx, `INSERT INTO invites (id, workspace_id, email, role, token_hash, invited_by, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		i.ID, i.WorkspaceID, i.Email, i.Role, hashToken(token), nullable(i.InvitedBy), i.CreatedAt, i.ExpiresAt)
	if err != nil {
		return Invite{}, "", fmt.Errorf("create invite: %w", err)
	}
	return i, token, nil
}

// GetInvite returns the invite with id, whatever its state.
func (q *Queries) GetInvite(ctx context.Context, id string) (Invite, error) {
	i, err := scanInvite(q.queryRow(ctx, `SELECT `+inviteColumns+` FROM invites WHERE id = $1`, id))
	if err != nil {
		return Invite{}, fmt.Errorf("get invite %s: %w", id, notFound(err))
	}
	return i, nil
}

// ListInvites returns the workspace's invites still pending at the time at,
// newest first.
func (q *Queries) ListInvites(ctx context.Context, workspaceID string, at time.Time) ([]Invite, error) {
	rows, err := q.query(ctx, `SELECT `+inviteColumns+` FROM invites WHERE workspace_id = $1
		AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $2
		ORDER BY created_at DESC, id DESC`, workspaceID, at)
	if err != nil {
		return nil, fmt.Errorf("list invites: %w", err)
	}
	is, err := collect(rows, scanInvite)
	if err != nil {
		return nil, fmt.Errorf("list invites: %w", err)
	}
	return is, nil
}

// LookupInvite returns the invite of a link's token if it is pending at
// the time at; otherwise the error has code invite_invalid (and wraps
// ErrNotFound).
func (q *Queries) LookupInvite(ctx context.Context, token string, at time.Time) (Invite, error) {
	i, err := scanInvite(q.queryRow(ctx, `SELECT `+inviteColumns+` FROM invites WHERE token_hash = $1`, hashToken(token)))
	if err != nil {
		if err = notFound(err); errors.Is(err, ErrNotFound) {
			return Invite{}, errcode.Wrap(errcode.InviteInvalid, err, "no invite has this link")
		}
		return Invite{}, fmt.Errorf("look up invite: %w", err)
	}
	switch {
	case i.RevokedAt != nil:
		return Invite{}, errcode.Wrap(errcode.InviteInvalid, ErrNotFound, "this invite was revoked")
	case i.AcceptedAt != nil:
		return Invite{}, errcode.Wrap(errcode.InviteInvalid, ErrNotFound, "this invite was already used")
	case !at.Before(i.ExpiresAt):
		return Invite{}, errcode.Wrap(errcode.InviteInvalid, ErrNotFound, "this invite has expired")
	}
	return i, nil
}

// AcceptInvite makes the user a member of the invite's workspace with its
// role and moves them to that workspace, in one transaction; the invite is
// used up. A user who is a member already keeps their role. An invite that
// is not pending, or is meant for another email, gives an invite_invalid
// error; two users accepting one invite at once: one wins.
func (q *Queries) AcceptInvite(ctx context.Context, token, userID string, at time.Time) (Member, error) {
	var m Member
	err := q.atomic(ctx, func(q *Queries) error {
		inv, err := q.LookupInvite(ctx, token, at)
		if err != nil {
			return err
		}
		u, err := q.GetUser(ctx, userID)
		if err != nil {
			return err
		}
		if inv.Email != "" && inv.Email != u.Email {
			return errcode.Wrap(errcode.InviteInvalid, ErrNotFound, "this invite is meant for another email address")
		}
		res, err := q.exec(ctx, `UPDATE invites SET accepted_at = $2, accepted_by = $3
			WHERE id = $1 AND accepted_at IS NULL AND revoked_at IS NULL`, inv.ID, now(at), userID)
		if err != nil {
			return fmt.Errorf("accept invite: %w", err)
		}
		if rowsAffected(res) != nil {
			return errcode.Wrap(errcode.InviteInvalid, ErrNotFound, "this invite was already used")
		}
		if _, err := q.exec(ctx, `INSERT INTO memberships (workspace_id, user_id, role, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $4) ON CONFLICT (workspace_id, user_id) DO NOTHING`,
			inv.WorkspaceID, userID, inv.Role, now(at)); err != nil {
			return fmt.Errorf("accept invite: %w", err)
		}
		if _, err := q.SwitchWorkspace(ctx, userID, inv.WorkspaceID); err != nil {
			return err
		}
		m, err = q.GetMember(ctx, inv.WorkspaceID, userID)
		return err
	})
	return m, err
}

// RevokeInvite revokes a pending invite at the time at. One that is
// missing, used or revoked already gives ErrNotFound.
func (q *Queries) RevokeInvite(ctx context.Context, id string, at time.Time) error {
	res, err := q.exec(ctx, `UPDATE invites SET revoked_at = $2 WHERE id = $1 AND accepted_at IS NULL AND revoked_at IS NULL`,
		id, now(at))
	if err != nil {
		return fmt.Errorf("revoke invite %s: %w", id, err)
	}
	if err := rowsAffected(res); err != nil {
		return fmt.Errorf("revoke invite %s: %w", id, err)
	}
	return nil
}
