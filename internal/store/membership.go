package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Member is a user's membership of a workspace, with the user's email and
// name for lists.
type Member struct {
	WorkspaceID string    `json:"workspace_id"`
	UserID      string    `json:"user_id"`
	Email       string    `json:"email"`
	Name        string    `json:"name,omitempty"`
	Role        Role      `json:"role"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

const memberSelect = `SELECT m.workspace_id, m.user_id, u.email, u.name, m.role, m.created_at, m.updated_at
	FROM memberships m JOIN users u ON u.id = m.user_id`

func scanMember(sc rowScanner) (Member, error) {
	var m Member
	err := sc.Scan(&m.WorkspaceID, &m.UserID, &m.Email, &m.Name, &m.Role, scanTime(&m.CreatedAt), scanTime(&m.UpdatedAt))
	return m, err
}

// AddMember makes the user a member of the workspace with role. A user who
// is a member already gives ErrConflict.
func (q *Queries) AddMember(ctx context.Context, workspaceID, userID string, role Role) (Member, error) {
	if !role.Valid() {
		return Member{}, fmt.Errorf("add member: role %q: %w", role, ErrInvalidRole)
	}
	at := now(time.Time{})
	res, err := q.exec(ctx, `INSERT INTO memberships (workspace_id, user_id, role, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $4) ON CONFLICT (workspace_id, user_id) DO NOTHING`, workspaceID, userID, role, at)
	if err != nil {
		return Member{}, fmt.Errorf("add member %s to %s: %w", userID, workspaceID, err)
	}
	if err := rowsAffected(res); err != nil {
		return Member{}, fmt.Errorf("add member %s to %s: already a member: %w", userID, workspaceID, ErrConflict)
	}
	return q.GetMember(ctx, workspaceID, userID)
}

// GetMember returns the user's membership of the workspace, or ErrNotFound
// when they are not a member.
func (q *Queries) GetMember(ctx context.Context, workspaceID, userID string) (Member, error) {
	m, err := scanMember(q.queryRow(ctx, memberSelect+` WHERE m.workspace_id = $1 AND m.user_id = $2`, workspaceID, userID))
	if err != nil {
		return Member{}, fmt.Errorf("get member %s of %s: %w", userID, workspaceID, notFound(err))
	}
	return m, nil
}

// ListMembers returns the workspace's members by email.
func (q *Queries) ListMembers(ctx context.Context, workspaceID string) ([]Member, error) {
	rows, err := q.query(ctx, memberSelect+` WHERE m.workspace_id = $1 ORDER BY u.email`, workspaceID)
	if err != nil {
		return nil, fmt.Errorf("list members: %w", err)
	}
	ms, err := collect(rows, scanMember)
	if err != nil {
		return nil, fmt.Errorf("list members: %w", err)
	}
	return ms, nil
}

// lockWorkspace takes the workspace's row lock until the transaction ends
// (PostgreSQL; SQLite transactions are serialised anyway), so that two
// concurrent changes cannot both see a second owner and both remove one.
func (q *Queries) lockWorkspace(ctx context.Context, id string) error {
	res, err := q.exec(ctx, `UPDATE workspaces SET name = name WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("lock workspace %s: %w", id, err)
	}
	if err := rowsAffected(res); err != nil {
		return fmt.Errorf("lock workspace %s: %w", id, err)
	}
	return nil
}

// keepAnOwner fails with ErrLastOwner when the member is the workspace's
// only owner. Call it inside a transaction holding lockWorkspace.
func (q *Queries) keepAnOwner(ctx context.Context, m Member) error {
	if m.Role != RoleOwner {
		return nil
	}
	var owners int
	if err := q.queryRow(ctx, `SELECT COUNT(*) FROM memberships WHERE workspace_id = $1 AND role = $2`,
		m.WorkspaceID, RoleOwner).Scan(&owners); err != nil {
		return fmt.Errorf("count owners of %s: %w", m.WorkspaceID, err)
	}
	if owners <= 1 {
		return fmt.Errorf("change member %s of %s: %w", m.UserID, m.WorkspaceID, ErrLastOwner)
	}
	return nil
}

// SetMemberRole changes a member's role. Demoting the workspace's last
// owner gives ErrLastOwner; a user who is not a member, ErrNotFound.
// Who may make the change is authz.CheckRoleChange's question.
func (q *Queries) SetMemberRole(ctx context.Context, workspaceID, userID string, role Role) (Member, error) {
	if !role.Valid() {
		return Member{}, fmt.Errorf("set member role: role %q: %w", role, ErrInvalidRole)
	}
	var out Member
	err := q.atomic(ctx, func(q *Queries) error {
		if err := q.lockWorkspace(ctx, workspaceID); err != nil {
			return err
		}
		m, err := q.GetMember(ctx, workspaceID, userID)
		if err != nil {
			return err
		}
		if role != RoleOwner {
			if err := q.keepAnOwner(ctx, m); err != nil {
				return err
			}
		}
		if _, err := q.exec(ctx, `UPDATE memberships SET role = $3, updated_at = $4
			WHERE workspace_id = $1 AND user_id = $2`, workspaceID, userID, role, now(time.Time{})); err != nil {
			return fmt.Errorf("set member role: %w", err)
		}
		out, err = q.GetMember(ctx, workspaceID, userID)
		return err
	})
	return out, err
}

// RemoveMember ends the user's membership of the workspace. Removing the
// last owner gives ErrLastOwner. A user who was in that workspace moves to
// another of theirs (the oldest membership); one with none left keeps the
// account and no role anywhere (User.Role is "").
func (q *Queries) RemoveMember(ctx context.Context, workspaceID, userID string) error {
	return q.atomic(ctx, func(q *Queries) error {
		if err := q.lockWorkspace(ctx, workspaceID); err != nil {
			return err
		}
		m, err := q.GetMember(ctx, workspaceID, userID)
		if err != nil {
			return err
		}
		if err := q.keepAnOwner(ctx, m); err != nil {
			return err
		}
		if _, err := q.exec(ctx, `DELETE FROM memberships WHERE workspace_id = $1 AND user_id = $2`,
			workspaceID, userID); err != nil {
			return fmt.Errorf("remove member: %w", err)
		}
		_, err = q.exec(ctx, `UPDATE users SET workspace_id = COALESCE((SELECT m.workspace_id FROM memberships m
				WHERE m.user_id = users.id ORDER BY m.created_at, m.workspace_id LIMIT 1), workspace_id)
			WHERE id = $1 AND workspace_id = $2`, userID, workspaceID)
		if err != nil {
			return fmt.Errorf("remove member: move user to another workspace: %w", err)
		}
		return nil
	})
}

// UserWorkspace is a workspace a user belongs to, with their role there.
type UserWorkspace struct {
	Workspace
	Role Role `json:"role"`
}

// ListUserWorkspaces returns the workspaces the user belongs to, by name.
func (q *Queries) ListUserWorkspaces(ctx context.Context, userID string) ([]UserWorkspace, error) {
	rows, err := q.query(ctx, `SELECT w.id, w.slug, w.name, w.created_at, m.role FROM memberships m
		JOIN workspaces w ON w.id = m.workspace_id WHERE m.user_id = $1 ORDER BY w.name, w.slug`, userID)
	if err != nil {
		return nil, fmt.Errorf("list user workspaces: %w", err)
	}
	ws, err := collect(rows, func(sc rowScanner) (UserWorkspace, error) {
		var w UserWorkspace
		err := sc.Scan(&w.ID, &w.Slug, &w.Name, scanTime(&w.CreatedAt), &w.Role)
		return w, err
	})
	if err != nil {
		return nil, fmt.Errorf("list user workspaces: %w", err)
	}
	return ws, nil
}

// SwitchWorkspace makes workspaceID the user's current workspace. A user
// who is not a member of it gets ErrNotFound.
func (q *Queries) SwitchWorkspace(ctx context.Context, userID, workspaceID string) (User, error) {
	res, err := q.exec(ctx, `UPDATE users SET workspace_id = $2, updated_at = $3 WHERE id = $1
		AND EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = $1 AND m.workspace_id = $2)`,
		userID, workspaceID, now(time.Time{}))
	if err != nil {
		return User{}, fmt.Errorf("switch workspace: %w", err)
	}
	if err := rowsAffected(res); err != nil {
		return User{}, fmt.Errorf("switch user %s to workspace %s: not a member: %w", userID, workspaceID, err)
	}
	return q.GetUser(ctx, userID)
}

// IsInstanceAdmin reports whether the user administers the instance (sets
// workspaces' plans): an owner of the default workspace, which the first
// run's admin is.
func (q *Queries) IsInstanceAdmin(ctx context.Context, userID string) (bool, error) {
	var role string
	err := q.queryRow(ctx, `SELECT m.role FROM memberships m JOIN workspaces w ON w.id = m.workspace_id
		WHERE m.user_id = $1 AND w.slug = $2`, userID, DefaultWorkspaceSlug).Scan(&role)
	if err != nil {
		if errors.Is(notFound(err), ErrNotFound) {
			return false, nil
		}
		return false, fmt.Errorf("is instance admin: %w", err)
	}
	return Role(role) == RoleOwner, nil
}
