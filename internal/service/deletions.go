package service

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"outpost/internal/authz"
	"outpost/internal/blob"
	"outpost/internal/errcode"
	"outpost/internal/jobs"
	"outpost/internal/outpost"
	"outpost/internal/publish/platforms"
	"outpost/internal/store"
)

// Deletions take data out for good: an export (its renditions' files,
// thumbnails and caption sidecars, and its history rows), a project with
// its exports and source, a user, a workspace with everything in it.
//
// A deletion runs in one transaction: what stands in its way is checked
// (an export still rendering, a project another record uses, a
// publication that still needs a file unless forced), the files nothing
// else holds are listed — one file may back several renditions, and a
// file another record still holds stays —, the rows are deleted, the
// event is audited, and a job to delete the files is queued. After the
// commit the files are deleted at once; the job makes sure they go even if
// this process stops first. Posts already on the platforms stay there.
type Deletions struct {
	store  *store.Store
	blob   *blob.Store
	queue  *jobs.Queue
	logger *slog.Logger
	now    func() time.Time
}

var _ outpost.Deletions = (*Deletions)(nil)

// Export deletes one of the workspace's exports.
func (s *Deletions) Export(ctx context.Context, c outpost.Caller, id string, force bool) (outpost.DeleteResult, error) {
	if err := c.Check(authz.Delete); err != nil {
		return outpost.DeleteResult{}, err
	}
	e, err := exportIn(ctx, s.store, c.WorkspaceID, id)
	if err != nil {
		return outpost.DeleteResult{}, err
	}
	return s.run(ctx, c, store.ExportScope(e.ID), force, store.AuditExportDeleted, "export",
		map[string]any{"project_id": e.ProjectID, "presets": e.PresetIDs})
}

// Project deletes one of the workspace's projects with its exports.
func (s *Deletions) Project(ctx context.Context, c outpost.Caller, id string, force bool) (outpost.DeleteResult, error) {
	if err := c.Check(authz.Delete); err != nil {
		return outpost.DeleteResult{}, err
	}
	p, err := projectIn(ctx, s.store, c.WorkspaceID, id)
	if err != nil {
		return outpost.DeleteResult{}, err
	}
	return s.run(ctx, c, store.ProjectScope(p.ID), force, store.AuditProjectDeleted, "project",
		map[string]any{"name": p.Name})
}

// Workspace deletes a workspace the caller owns, with everything in it.
// Its members keep their accounts (and move to another of their
// workspaces); the default workspace stays.
func (s *Deletions) Workspace(ctx context.Context, c outpost.Caller, id string, force bool) (outpost.DeleteResult, error) {
	if err := c.User(); err != nil {
		return outpost.DeleteResult{}, err
	}
	m, err := s.store.GetMember(ctx, id, c.UserID)
	if err != nil {
		return outpost.DeleteResult{}, coded(err, "workspace", id)
	}
	if err := authz.MemberPrincipal(m.Role).Check(authz.ManageWorkspace); err != nil {
		return outpost.DeleteResult{}, err
	}
	w, err := s.store.GetWorkspace(ctx, id)
	if err != nil {
		return outpost.DeleteResult{}, coded(err, "workspace", id)
	}
	if w.Slug == store.DefaultWorkspaceSlug {
		return outpost.DeleteResult{}, &errcode.Error{Code: errcode.Conflict, Message: "the default workspace cannot be deleted",
			Remedy: "Delete its exports and projects instead, or another workspace."}
	}
	// The instance's log keeps the record: the workspace's own goes with
	// nobody left to read it.
	a := c
	a.WorkspaceID = ""
	return s.run(ctx, a, store.WorkspaceScope(w.ID), force, store.AuditWorkspaceDeleted, "workspace",
		map[string]any{"name": w.Name, "slug": w.Slug})
}

// User deletes an account: the caller's own, or anyone's for an instance
// admin. A workspace whose only owner they are must get another owner (or
// be deleted) first.
func (s *Deletions) User(ctx context.Context, c outpost.Caller, userID string) error {
	if err := c.User(); err != nil {
		return err
	}
	if userID != c.UserID {
		admin, err := s.store.IsInstanceAdmin(ctx, c.UserID)
		if err != nil {
			return err
		}
		if !admin {
			return errcode.New(errcode.Forbidden, "you may delete your own account; other accounts are the instance admin's to delete")
		}
	}
	u, err := s.store.GetUser(ctx, userID)
	if err != nil {
		return coded(err, "user", userID)
	}
	alone, err := s.store.OwnedAlone(ctx, userID)
	if err != nil {
		return err
	}
	if len(alone) > 0 {
		names := make([]string, len(alone))
		for i, w := range alone {
			names[i] = fmt.Sprintf("%q", w.Name)
		}
		return &errcode.Error{Code: errcode.Conflict,
			Message: fmt.Sprintf("%s is the only owner of %s", u.Email, strings.Join(names, ", ")),
			Remedy:  "Make another member an owner of each, or delete them, then delete the account."}
	}
	ws, err := s.store.ListUserWorkspaces(ctx, userID)
	if err != nil {
		return err
	}
	return inTx(ctx, s.store, func(q *store.Queries, _ *sql.Tx) error {
		for _, w := range ws {
			a := c
			a.WorkspaceID = w.ID
			if err := audit(ctx, q, a, store.AuditUserDeleted, "user", userID, map[string]any{"email": u.Email, "role": w.Role}); err != nil {
				return err
			}
		}
		return coded(q.DeleteUser(ctx, userID), "user", userID)
	})
}

// run deletes the scope: checks, rows, audit and the files' job in one
// transaction, then the files.
func (s *Deletions) run(ctx context.Context, c outpost.Caller, sc store.DeletionScope, force bool,
	action store.AuditAction, kind string, details map[string]any) (outpost.DeleteResult, error) {
	var res outpost.DeleteResult
	var free []string
	err := inTx(ctx, s.store, func(q *store.Queries, tx *sql.Tx) error {
		chk, err := q.CheckDeletion(ctx, sc)
		if err != nil {
			return err
		}
		if err := blocked(kind, chk, force); err != nil {
			return err
		}
		for _, p := range chk.NeedFile {
			if err := s.queue.CancelJob(ctx, tx, p.JobID); err != nil {
				return err
			}
		}
		res.PublicationsCanceled, res.RemotePosts = len(chk.NeedFile), chk.RemotePosts
		var held []string
		if free, held, err = q.DeletionFiles(ctx, sc); err != nil {
			return err
		}
		res.FilesKept = len(held)
		n, err := q.DeleteScope(ctx, sc)
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return errcode.New(errcode.NotFound, "%s %s not found", kind, sc.ID)
			}
			return err
		}
		res.Exports, res.Projects = int(n.Exports), int(n.Projects)
		details["exports"], details["projects"], details["files"] = res.Exports, res.Projects, len(free)
		details["files_kept"], details["remote_posts"], details["publications_canceled"] = res.FilesKept, res.RemotePosts, res.PublicationsCanceled
		if err := audit(ctx, q, c, action, kind, sc.ID, details); err != nil {
			return err
		}
		return s.queue.InsertDeleteFiles(ctx, tx, free)
	})
	if err != nil {
		return outpost.DeleteResult{}, err
	}
	// At once, for the answer; the queued job finishes what fails here.
	n, err := jobs.DeleteFiles(ctx, s.blob, free)
	res.FilesDeleted = n
	if err != nil {
		s.logger.WarnContext(ctx, "delete files now: the queued job retries", slog.String(kind+"_id", sc.ID), slog.Any("error", err))
	}
	s.logger.InfoContext(ctx, kind+" deleted", slog.String(kind+"_id", sc.ID), slog.Int("exports", res.Exports),
		slog.Int("files", len(free)), slog.Int("files_kept", res.FilesKept), slog.Int("remote_posts", res.RemotePosts))
	return res, nil
}

// blocked returns the conflict that stops a deletion, or nil.
func blocked(kind string, chk store.DeletionCheck, force bool) error {
	switch {
	case len(chk.LiveExports) > 0:
		return &errcode.Error{Code: errcode.Conflict,
			Message: fmt.Sprintf("export %s is still rendering%s", chk.LiveExports[0], more(len(chk.LiveExports))),
			Remedy:  "Cancel it (or let it finish), then delete."}
	case len(chk.UsedBy) > 0:
		return &errcode.Error{Code: errcode.Conflict,
			Message: fmt.Sprintf("the %s is used by %s%s", kind, chk.UsedBy[0], more(len(chk.UsedBy))),
			Remedy:  "Remove it from there first (change the brand kit or the timeline, or wait for the export), then delete."}
	case len(chk.NeedFile) > 0 && !force:
		p := chk.NeedFile[0]
		when := "now"
		if p.ScheduleAt != nil {
			when = p.ScheduleAt.UTC().Format("2006-01-02 15:04 UTC")
		}
		return &errcode.Error{Code: errcode.Conflict,
			Message: fmt.Sprintf("%d scheduled publication(s) still need the files: %s to %s (%s)%s",
				len(chk.NeedFile), p.ID, platforms.Name(p.Platform), when, more(len(chk.NeedFile))),
			Remedy: "Cancel those publications, or delete with force to cancel them too."}
	}
	return nil
}

// more says how many others there are after the first of n.
func more(n int) string {
	if n <= 1 {
		return ""
	}
	return fmt.Sprintf(" (and %d more)", n-1)
}
