package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"outpost/internal/authz"
)

// Role is what a user may do in a workspace (authz has the rules).
type Role = authz.Role

// Roles.
const (
	RoleOwner  = authz.Owner
	RoleAdmin  = authz.Admin
	RoleMember = authz.Member
	RoleViewer = authz.Viewer
)

// User is a person who signs in to the web UI.
type User struct {
	ID string `json:"id"`
	// WorkspaceID is the workspace the user is in now (the UI shows it);
	// SwitchWorkspace changes it to another of their memberships.
	WorkspaceID string `json:"workspace_id"`
	// Email is stored trimmed and lower-cased, and is unique.
	Email string `json:"email"`
	Name  string `json:"name,omitempty"`
	// PasswordHash is the caller's password hash (bcrypt, argon2id…).
	PasswordHash string `json:"-"`
	// Role is the user's role in WorkspaceID (from memberships; "" when
	// they are no longer a member of it). ListUsers gives the role in the
	// listed workspace instead.
	Role      Role      `json:"role"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// userSelect reads users with their role in their current workspace.
const userSelect = `SELECT u.id, u.workspace_id, u.email, u.name, u.password_hash, COALESCE(m.role, ''),
	u.created_at, u.updated_at FROM users u
	LEFT JOIN memberships m ON m.workspace_id = u.workspace_id AND m.user_id = u.id`

func scanUser(sc rowScanner) (User, error) {
	var u User
	err := sc.Scan(&u.ID, &u.WorkspaceID, &u.Email, &u.Name, &u.PasswordHash, &u.Role,
		scanTime(&u.CreatedAt), scanTime(&u.UpdatedAt))
	return u, err
}

func normEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// CreateUser stores a user and makes them a member of u.WorkspaceID with
// u.Role (default member), in one transaction. A taken email gives
// ErrConflict.
func (q *Queries) CreateUser(ctx context.Context, u User) (User, error) {
	if u.ID == "" {
		u.ID = NewID(PrefixUser)
	}
	if u.Role == "" {
		u.Role = RoleMember
	}
	if !u.Role.Valid() {
		return User{}, fmt.Errorf("create user: role %q: %w", u.Role, ErrInvalidRole)
	}
	u.Email = normEmail(u.Email)
	u.CreatedAt = now(u.CreatedAt)
	u.UpdatedAt = u.CreatedAt
	err := q.atomic(ctx, func(q *Queries) error {
		res, err := q.exec(ctx, `INSERT INTO users (id, workspace_id, email, name, password_hash, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (email) DO NOTHING`,
			u.ID, u.WorkspaceID, u.Email, u.Name, u.PasswordHash, u.CreatedAt, u.UpdatedAt)
		if err != nil {
			return fmt.Errorf("create user: %w", err)
		}
		if err := rowsAffected(res); err != nil {
			return fmt.Errorf("create user %s: email taken: %w", u.Email, ErrConflict)
		}
		_, err = q.AddMember(ctx, u.WorkspaceID, u.ID, u.Role)
		return err
	})
	if err != nil {
		return User{}, err
	}
	return u, nil
}

// GetUser returns the user with id.
func (q *Queries) GetUser(ctx context.Context, id string) (User, error) {
	u, err := scanUser(q.queryRow(ctx, userSelect+` WHERE u.id = $1`, id))
	if err != nil {
		return User{}, fmt.Errorf("get user %s: %w", id, notFound(err))
	}
	return u, nil
}

// GetUserByEmail returns the user with email (compared case-insensitively).
func (q *Queries) GetUserByEmail(ctx context.Context, email string) (User, error) {
	u, err := scanUser(q.queryRow(ctx, userSelect+` WHERE u.email = $1`, normEmail(email)))
	if err != nil {
		return User{}, fmt.Errorf("get user by email: %w", notFound(err))
	}
	return u, nil
}

// ListUsers returns the members of the workspace by email, each with their
// role in it.
func (q *Queries) ListUsers(ctx context.Context, workspaceID string) ([]User, error) {
	rows, err := q.query(ctx, `SELECT u.id, u.workspace_id, u.email, u.name, u.password_hash, m.role,
		u.created_at, u.updated_at FROM users u JOIN memberships m ON m.user_id = u.id
		WHERE m.workspace_id = $1 ORDER BY u.email`, workspaceID)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	us, err := collect(rows, scanUser)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return us, nil
}

// UpdateUser writes the name and password hash of u and, when u.Role is
// set, their role in their current workspace (as SetMemberRole: the last
// owner stays an owner).
func (q *Queries) UpdateUser(ctx context.Context, u User) (User, error) {
	err := q.atomic(ctx, func(q *Queries) error {
		res, err := q.exec(ctx, `UPDATE users SET name = $2, password_hash = $3, updated_at = $4
			WHERE id = $1`, u.ID, u.Name, u.PasswordHash, now(time.Time{}))
		if err != nil {
			return fmt.Errorf("update user %s: %w", u.ID, err)
		}
		if err := rowsAffected(res); err != nil {
			return fmt.Errorf("update user %s: %w", u.ID, err)
		}
		if u.Role == "" {
			return nil
		}
		cur, err := q.GetUser(ctx, u.ID)
		if err != nil {
			return err
		}
		if cur.Role == u.Role {
			return nil
		}
		_, err = q.SetMemberRole(ctx, cur.WorkspaceID, u.ID, u.Role)
		return err
	})
	if err != nil {
		return User{}, err
	}
	return q.GetUser(ctx, u.ID)
}

// Session is a signed-in browser. The cookie holds a random token; only
// its SHA-256 is stored.
type Session struct {
	ID         string    `json:"id"`
	UserID     string    `json:"user_id"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	ExpiresAt  time.Time `json:"expires_at"`
}

const sessionColumns = `id, user_id, created_at, last_seen_at, expires_at`

func scanSession(sc rowScanner) (Session, error) {
	var s Session
	err := sc.Scan(&s.ID, &s.UserID, scanTime(&s.CreatedAt), scanTime(&s.LastSeenAt), scanTime(&s.ExpiresAt))
	return s, err
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// CreateSession starts a session for the user, valid until expiresAt, and
// returns it with the token for the cookie.
func (q *Queries) CreateSession(ctx context.Context, userID string, expiresAt time.Time) (Session, string, error) {
	token := randomToken(32)
	at := now(time.Time{})
	s := Session{ID: NewID(PrefixSession), UserID: userID, CreatedAt: at, LastSeenAt: at, ExpiresAt: normTime(expiresAt)}
	_, err := q.exec(ctx, `INSERT INTO sessions (id, user_id, token_hash, created_at, last_seen_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, s.ID, s.UserID, hashToken(token), s.CreatedAt, s.LastSeenAt, s.ExpiresAt)
	if err != nil {
		return Session{}, "", fmt.Errorf("create session: %w", err)
	}
	return s, token, nil
}

// LookupSession returns the session of a cookie token if it has not expired
// at the time at, else ErrNotFound.
func (q *Queries) LookupSession(ctx context.Context, token string, at time.Time) (Session, error) {
	s, err := scanSession(q.queryRow(ctx, `SELECT `+sessionColumns+` FROM sessions
		WHERE token_hash = $1 AND expires_at > $2`, hashToken(token), at))
	if err != nil {
		return Session{}, fmt.Errorf("look up session: %w", notFound(err))
	}
	return s, nil
}

// TouchSession records activity at t and moves the expiry (sliding
// sessions).
func (q *Queries) TouchSession(ctx context.Context, id string, t, expiresAt time.Time) error {
	res, err := q.exec(ctx, `UPDATE sessions SET last_seen_at = $2, expires_at = $3 WHERE id = $1`, id, now(t), expiresAt)
	if err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	if err := rowsAffected(res); err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	return nil
}

// DeleteSession ends a session (sign out). Deleting a missing one is not an
// error.
func (q *Queries) DeleteSession(ctx context.Context, id string) error {
	if _, err := q.exec(ctx, `DELETE FROM sessions WHERE id = $1`, id); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteExpiredSessions deletes sessions expired at the time at and returns how
// many.
func (q *Queries) DeleteExpiredSessions(ctx context.Context, at time.Time) (int64, error) {
	res, err := q.exec(ctx, `DELETE FROM sessions WHERE expires_at <= $1`, at)
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	return n, nil
}
