package store

import (
	"context"
	"fmt"
	"time"
)

// DefaultWorkspaceSlug is the slug of the workspace DefaultWorkspace
// ensures.
const DefaultWorkspaceSlug = "default"

// Workspace is the tenancy unit: users, API keys, projects, presets,
// connections and webhooks belong to one.
type Workspace struct {
	ID        string    `json:"id"`
	Slug      string    `json:"slug"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

const workspaceColumns = `id, slug, name, created_at`

func scanWorkspace(sc rowScanner) (Workspace, error) {
	var w Workspace
	err := sc.Scan(&w.ID, &w.Slug, &w.Name, scanTime(&w.CreatedAt))
	return w, err
}

// CreateWorkspace stores a new workspace; ID and CreatedAt are filled in
// when zero. A taken slug gives ErrConflict.
func (q *Queries) CreateWorkspace(ctx context.Context, w Workspace) (Workspace, error) {
	if w.Slug == "" {
		return Workspace{}, fmt.Errorf("create workspace: empty slug")
	}
	if w.ID == "" {
		w.ID = NewID(PrefixWorkspace)
	}
	w.CreatedAt = now(w.CreatedAt)
	res, err := q.exec(ctx, `INSERT INTO workspaces (`+workspaceColumns+`) VALUES ($1, $2, $3, $4)
		ON CONFLICT (slug) DO NOTHING`, w.ID, w.Slug, w.Name, w.CreatedAt)
	if err != nil {
		return Workspace{}, fmt.Errorf("create workspace: %w", err)
	}
	if err := rowsAffected(res); err != nil {
		return Workspace{}, fmt.Errorf("create workspace %q: %w", w.Slug, ErrConflict)
	}
	return w, nil
}

// GetWorkspace returns the workspace with id.
func (q *Queries) GetWorkspace(ctx context.Context, id string) (Workspace, error) {
	w, err := scanWorkspace(q.queryRow(ctx, `SELECT `+workspaceColumns+` FROM workspaces WHERE id = $1`, id))
	if err != nil {
		return Workspace{}, fmt.Errorf("get workspace %s: %w", id, notFound(err))
	}
	return w, nil
}

// GetWorkspaceBySlug returns the workspace with slug.
func (q *Queries) GetWorkspaceBySlug(ctx context.Context, slug string) (Workspace, error) {
	w, err := scanWorkspace(q.queryRow(ctx, `SELECT `+workspaceColumns+` FROM workspaces WHERE slug = $1`, slug))
	if err != nil {
		return Workspace{}, fmt.Errorf("get workspace %q: %w", slug, notFound(err))
	}
	return w, nil
}

// DefaultWorkspace returns the default workspace, creating it on first use.
// Concurrent callers (several processes starting at once) get the same one.
func (q *Queries) DefaultWorkspace(ctx context.Context) (Workspace, error) {
	_, err := q.exec(ctx, `INSERT INTO workspaces (`+workspaceColumns+`) VALUES ($1, $2, $3, $4)
		ON CONFLICT (slug) DO NOTHING`, NewID(PrefixWorkspace), DefaultWorkspaceSlug, "Default", now(time.Time{}))
	if err != nil {
		return Workspace{}, fmt.Errorf("ensure default workspace: %w", err)
	}
	return q.GetWorkspaceBySlug(ctx, DefaultWorkspaceSlug)
}

// ListWorkspaces returns every workspace of the instance by name, for
// instance admins (plans).
func (q *Queries) ListWorkspaces(ctx context.Context) ([]Workspace, error) {
	rows, err := q.query(ctx, `SELECT `+workspaceColumns+` FROM workspaces ORDER BY name, slug`)
	if err != nil {
		return nil, fmt.Errorf("list workspaces: %w", err)
	}
	ws, err := collect(rows, scanWorkspace)
	if err != nil {
		return nil, fmt.Errorf("list workspaces: %w", err)
	}
	return ws, nil
}

// RenameWorkspace changes the workspace's name (its slug stays).
func (q *Queries) RenameWorkspace(ctx context.Context, id, name string) (Workspace, error) {
	res, err := q.exec(ctx, `UPDATE workspaces SET name = $2 WHERE id = $1`, id, name)
	if err != nil {
		return Workspace{}, fmt.Errorf("rename workspace %s: %w", id, err)
	}
	if err := rowsAffected(res); err != nil {
		return Workspace{}, fmt.Errorf("rename workspace %s: %w", id, err)
	}
	return q.GetWorkspace(ctx, id)
}
