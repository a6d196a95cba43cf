package store

import (
	"outpost/internal/outpost"

	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// Role is what a user may do in their workspace.
type Role = outpost.Role

// Roles.
const (
	RoleOwner  = outpost.RoleOwner
	RoleAdmin  = outpost.RoleAdmin
	RoleMember = outpost.RoleMember
)

// User is a person who signs in to the web UI.
type User struct {
	ID          string `json:"id"`
	WorkspaceID string `json:"workspace_id"`
	// Email is stored trimmed and lower-cased, and is unique.
	Email string `json:"email"`
	Name  string `json:"name,omitempty"`
	// PasswordHash is the caller's password hash (bcrypt, argon2id…).
	PasswordHash string    `json:"-"`
	Role         Role      `json:"role"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

const userColumns = `id, workspace_id, email, name, password_hash, role, created_at, updated_at`

func scanUser(sc rowScanner) (User, error) {
	var u User
	err := sc.Scan(&u.ID, &u.WorkspaceID, &u.Email, &u.Name, &u.PasswordHash, &u.Role,
		scanTime(&u.CreatedAt), scanTime(&u.UpdatedAt))
	return u, err
}

func normEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// CreateUser stores a user. A taken email gives ErrConflict.
func (q *Queries) CreateUser(ctx context.Context, u User) (User, error) {
	if u.ID == "" {
		u.ID = NewID(PrefixUser)
	}
	if u.Role == "" {
		u.Role = RoleMember
	}
	u.Email = normEmail(u.Email)
	u.CreatedAt = now(u.CreatedAt)
	u.UpdatedAt = u.CreatedAt
	res, err := q.exec(ctx, `INSERT INTO users (`+userColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (email) DO NOTHING`,
		u.ID, u.WorkspaceID, u.Email, u.Name, u.PasswordHash, u.Role, u.CreatedAt, u.UpdatedAt)
	if err != nil {
		return User{}, fmt.Errorf("create user: %w", err)
	}
	if err := rowsAffected(res); err != nil {
		return User{}, fmt.Errorf("create user %s: email taken: %w", u.Email, ErrConflict)
	}
	return u, nil
}

// GetUser returns the user with id.
func (q *Queries) GetUser(ctx context.Context, id string) (User, error) {
	u, err := scanUser(q.queryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
	if err != nil {
		return User{}, fmt.Errorf("get user %s: %w", id, notFound(err))
	}
	return u, nil
}

// GetUserByEmail returns the user with email (compared case-insensitively).
func (q *Queries) GetUserByEmail(ctx context.Context, email string) (User, error) {
	u, err := scanUser(q.queryRow(ctx, `SELECT `+userColumns+` FROM users WHERE email = $1`, normEmail(email)))
	if err != nil {
		return User{}, fmt.Errorf("get user by email: %w", notFound(err))
	}
	return u, nil
}

// ListUsers returns the workspace's users by email.
func (q *Queries) ListUsers(ctx context.Context, workspaceID string) ([]User, error) {
	rows, err := q.query(ctx, `SELECT `+userColumns+` FROM users WHERE workspace_id = $1 ORDER BY email`, workspaceID)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	us, err := collect(rows, scanUser)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return us, nil
}

// UpdateUser writes the name, password hash and role of u.
func (q *Queries) UpdateUser(ctx context.Context, u User) (User, error) {
	res, err := q.exec(ctx, `UPDATE users SET name = $2, password_hash = $3, role = $4, updated_at = $5
		WHERE id = $1`, u.ID, u.Name, u.PasswordHash, u.Role, now(time.Time{}))
	if err != nil {
		return User{}, fmt.Errorf("update user %s: %w", u.ID, err)
	}
	if err := rowsAffected(res); err != nil {
		return User{}, fmt.Errorf("update user %s: %w", u.ID, err)
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
