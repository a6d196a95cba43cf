package store

import (
	"context"
	"fmt"
	"time"
)

// DeletionScope is what a deletion takes: one export, a project with its
// exports, or a whole workspace. Its SQL conditions select the rows in it.
type DeletionScope struct {
	kind string // "export", "project" or "workspace"
	ID   string
}

// Deletion scopes.
func ExportScope(id string) DeletionScope    { return DeletionScope{kind: "export", ID: id} }
func ProjectScope(id string) DeletionScope   { return DeletionScope{kind: "project", ID: id} }
func WorkspaceScope(id string) DeletionScope { return DeletionScope{kind: "workspace", ID: id} }

// exports is the condition on an exports row (alias a) in the scope, with
// the scope's id as $1.
func (sc DeletionScope) exports(a string) string {
	switch sc.kind {
	case "export":
		return a + ".id = $1"
	case "project":
		return a + ".project_id = $1"
	}
	return a + ".workspace_id = $1"
}

// projects is the condition on a projects row in the scope.
func (sc DeletionScope) projects(a string) string {
	switch sc.kind {
	case "project":
		return a + ".id = $1"
	case "workspace":
		return a + ".workspace_id = $1"
	}
	return "1 = 0"
}

// kits is the condition on a brand_kits row in the scope.
func (sc DeletionScope) kits(a string) string {
	if sc.kind == "workspace" {
		return a + ".workspace_id = $1"
	}
	return "1 = 0"
}

// DeletionCheck is what stands in a deletion's way, and what it leaves.
type DeletionCheck struct {
	// LiveExports are exports in the scope still queued or running.
	LiveExports []string
	// NeedFile are publications in the scope that still need their file
	// (pending, scheduled here, uploading, or waiting for a reconnect).
	NeedFile []Publication
	// RemotePosts counts posts already on the platforms (published, or
	// uploaded and scheduled there): a deletion here leaves them.
	RemotePosts int
	// UsedBy names what outside the scope uses one of its projects (a
	// brand kit's intro or outro, a timeline's clip, a live export's
	// intro or outro): a deletion would break it.
	UsedBy []string
}

// CheckDeletion reports what stands in the way of deleting the scope.
func (q *Queries) CheckDeletion(ctx context.Context, sc DeletionScope) (DeletionCheck, error) {
	var c DeletionCheck
	rows, err := q.query(ctx, `SELECT e.id FROM exports e WHERE `+sc.exports("e")+` AND e.status IN ($2, $3)
		ORDER BY e.created_at`, sc.ID, ExportQueued, ExportRunning)
	if err != nil {
		return c, fmt.Errorf("check deletion: %w", err)
	}
	if c.LiveExports, err = collect(rows, scanString); err != nil {
		return c, fmt.Errorf("check deletion: %w", err)
	}
	if c.NeedFile, err = q.listPublications(ctx, "publications needing a file",
		`export_id IN (SELECT e.id FROM exports e WHERE `+sc.exports("e")+`) AND `+openPublicationCond, sc.ID); err != nil {
		return c, err
	}
	if err := q.queryRow(ctx, `SELECT COUNT(*) FROM publications WHERE export_id IN (SELECT e.id FROM exports e WHERE `+
		sc.exports("e")+`) AND (state = $2 OR (state = $3 AND post_url <> ''))`, sc.ID, PublicationPublished,
		PublicationScheduled).Scan(&c.RemotePosts); err != nil {
		return c, fmt.Errorf("count remote posts: %w", err)
	}
	if sc.kind == "export" {
		return c, nil
	}
	// Projects are referenced by id: brand kits' intro and outro, the
	// clips of timeline projects and the accepted request of an export.
	// Ids are random and unique, so a match inside the JSON is a use.
	rows, err = q.query(ctx, `SELECT 'brand kit "' || b.name || '"' FROM brand_kits b JOIN projects p ON `+sc.projects("p")+`
			AND (b.intro_project_id = p.id OR b.outro_project_id = p.id) WHERE NOT (`+sc.kits("b")+`)
		UNION SELECT 'timeline project "' || t.name || '"' FROM projects t JOIN projects p ON `+sc.projects("p")+`
			AND t.id <> p.id AND CAST(t.timeline AS TEXT) LIKE '%' || p.id || '%' WHERE NOT (`+sc.projects("t")+`)
		UNION SELECT 'export ' || e.id || ' (still rendering)' FROM exports e JOIN projects p ON `+sc.projects("p")+`
			AND e.project_id <> p.id AND CAST(e.request AS TEXT) LIKE '%' || p.id || '%'
			WHERE e.status IN ($2, $3) AND NOT (`+sc.exports("e")+`)
		ORDER BY 1`, sc.ID, ExportQueued, ExportRunning)
	if err != nil {
		return c, fmt.Errorf("check project uses: %w", err)
	}
	if c.UsedBy, err = collect(rows, scanString); err != nil {
		return c, fmt.Errorf("check project uses: %w", err)
	}
	return c, nil
}

func scanString(sc rowScanner) (string, error) {
	var s string
	err := sc.Scan(&s)
	return s, err
}

// DeletionFiles returns the blob keys the scope's rows hold (its exports'
// renditions' files, thumbnails and caption sidecars not yet deleted; its projects'
// sources and posters; its brand kits' watermarks), split into those
// nothing outside the scope still holds — safe to delete from storage —
// and those something else holds: a rendition of another export whose file
// is not deleted yet (one file may back several renditions), another
// project, another brand kit.
func (q *Queries) DeletionFiles(ctx context.Context, sc DeletionScope) (free, held []string, err error) {
	rows, err := q.query(ctx, `WITH cand (k) AS (
			SELECT r.blob_key FROM renditions r JOIN exports e ON e.id = r.export_id WHERE r.deleted_at IS NULL AND `+sc.exports("e")+`
			UNION SELECT r.thumbnail_key FROM renditions r JOIN exports e ON e.id = r.export_id WHERE r.deleted_at IS NULL AND `+sc.exports("e")+`
			UNION SELECT r.captions_key FROM renditions r JOIN exports e ON e.id = r.export_id WHERE r.deleted_at IS NULL AND `+sc.exports("e")+`
			UNION SELECT p.source_key FROM projects p WHERE `+sc.projects("p")+`
			UNION SELECT p.thumbnail_key FROM projects p WHERE `+sc.projects("p")+`
			UNION SELECT b.watermark_key FROM brand_kits b WHERE `+sc.kits("b")+`)
		SELECT k, EXISTS (SELECT 1 FROM renditions r JOIN exports e ON e.id = r.export_id
				WHERE r.deleted_at IS NULL AND NOT (`+sc.exports("e")+`)
				AND (r.blob_key = cand.k OR r.thumbnail_key = cand.k OR r.captions_key = cand.k))
			OR EXISTS (SELECT 1 FROM projects p WHERE NOT (`+sc.projects("p")+`)
				AND (p.source_key = cand.k OR p.thumbnail_key = cand.k))
			OR EXISTS (SELECT 1 FROM brand_kits b WHERE NOT (`+sc.kits("b")+`) AND b.watermark_key = cand.k)
		FROM cand WHERE k <> '' ORDER BY k`, sc.ID)
	if err != nil {
		return nil, nil, fmt.Errorf("deletion files: %w", err)
	}
	type file struct {
		key  string
		held bool
	}
	fs, err := collect(rows, func(s rowScanner) (file, error) {
		var f file
		err := s.Scan(&f.key, &f.held)
		return f, err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("deletion files: %w", err)
	}
	for _, f := range fs {
		if f.held {
			held = append(held, f.key)
		} else {
			free = append(free, f.key)
		}
	}
	return free, held, nil
}

// DeletionCounts says how many rows a deletion removed.
type DeletionCounts struct {
	Exports  int64
	Projects int64
}

// DeleteScope deletes the scope's rows: its tracking events, its exports
// (their renditions, publications and progress events go with them), its
// projects and, for a workspace, the workspace with everything in it. A
// user whose current workspace it was moves to another of theirs, or to
// the default workspace without a role. Audit events stay (the log
// outlives what it names). Call it in a transaction, after the files.
func (q *Queries) DeleteScope(ctx context.Context, sc DeletionScope) (DeletionCounts, error) {
	var n DeletionCounts
	err := q.atomic(ctx, func(q *Queries) error {
		if _, err := q.exec(ctx, `DELETE FROM events WHERE subject_id IN (
				SELECT e.id FROM exports e WHERE `+sc.exports("e")+`
				UNION SELECT r.id FROM renditions r JOIN exports e ON e.id = r.export_id WHERE `+sc.exports("e")+`
				UNION SELECT pb.id FROM publications pb JOIN exports e ON e.id = pb.export_id WHERE `+sc.exports("e")+`
				UNION SELECT p.id FROM projects p WHERE `+sc.projects("p")+`)`, sc.ID); err != nil {
			return fmt.Errorf("delete %s %s: events: %w", sc.kind, sc.ID, err)
		}
		if sc.kind == "workspace" {
			return q.deleteWorkspace(ctx, sc.ID, &n)
		}
		var err error
		if n.Exports, err = q.deleteCount(ctx, "delete exports", `DELETE FROM exports WHERE `+sc.exports("exports"), sc.ID); err != nil {
			return err
		}
		if sc.kind == "project" {
			n.Projects, err = q.deleteCount(ctx, "delete project", `DELETE FROM projects WHERE id = $1`, sc.ID)
		}
		return err
	})
	return n, err
}

func (q *Queries) deleteWorkspace(ctx context.Context, id string, n *DeletionCounts) error {
	if err := q.queryRow(ctx, `SELECT (SELECT COUNT(*) FROM exports WHERE workspace_id = $1),
		(SELECT COUNT(*) FROM projects WHERE workspace_id = $1)`, id).Scan(&n.Exports, &n.Projects); err != nil {
		return fmt.Errorf("delete workspace %s: %w", id, err)
	}
	def, err := q.DefaultWorkspace(ctx)
	if err != nil {
		return err
	}
	if def.ID == id {
		return fmt.Errorf("delete workspace %s: the default workspace stays: %w", id, ErrConflict)
	}
	// users.workspace_id cascades: move everyone out first.
	if _, err := q.exec(ctx, `UPDATE users SET workspace_id = COALESCE((SELECT m.workspace_id FROM memberships m
			WHERE m.user_id = users.id AND m.workspace_id <> $1 ORDER BY m.created_at, m.workspace_id LIMIT 1), $2),
			updated_at = $3
		WHERE workspace_id = $1`, id, def.ID, now(time.Time{})); err != nil {
		return fmt.Errorf("delete workspace %s: move its users: %w", id, err)
	}
	res, err := q.exec(ctx, `DELETE FROM workspaces WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete workspace %s: %w", id, err)
	}
	if err := rowsAffected(res); err != nil {
		return fmt.Errorf("delete workspace %s: %w", id, err)
	}
	return nil
}

// OwnedAlone returns the workspaces of which the user is the only owner
// (deleting the user would leave them without one).
func (q *Queries) OwnedAlone(ctx context.Context, userID string) ([]Workspace, error) {
	rows, err := q.query(ctx, `SELECT w.id, w.slug, w.name, w.created_at FROM workspaces w
		JOIN memberships m ON m.workspace_id = w.id AND m.user_id = $1 AND m.role = $2
		WHERE NOT EXISTS (SELECT 1 FROM memberships o WHERE o.workspace_id = w.id AND o.role = $2 AND o.user_id <> $1)
		ORDER BY w.name`, userID, RoleOwner)
	if err != nil {
		return nil, fmt.Errorf("workspaces owned alone: %w", err)
	}
	ws, err := collect(rows, scanWorkspace)
	if err != nil {
		return nil, fmt.Errorf("workspaces owned alone: %w", err)
	}
	return ws, nil
}

// DeleteUser deletes a user's account: their memberships, sessions and
// preferences go with it; invites and keys they made stay, without them.
func (q *Queries) DeleteUser(ctx context.Context, id string) error {
	res, err := q.exec(ctx, `DELETE FROM users WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete user %s: %w", id, err)
	}
	if err := rowsAffected(res); err != nil {
		return fmt.Errorf("delete user %s: %w", id, err)
	}
	return nil
}
