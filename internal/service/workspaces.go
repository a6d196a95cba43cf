package service

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"outpost/internal/authz"
	"outpost/internal/blob"
	"outpost/internal/dataexport"
	"outpost/internal/errcode"
	"outpost/internal/outpost"
	"outpost/internal/plan"
	"outpost/internal/store"
)

// dataExportLinkTTL is how long the download links in a data export work:
// long enough to fetch every file after the zip is saved.
const dataExportLinkTTL = 24 * time.Hour

// Workspaces are the workspaces a user belongs to (and, for the instance
// admin, all of them): switching, creating, plans and the data export.
type Workspaces struct {
	store  *store.Store
	blob   *blob.Store
	logger *slog.Logger
	now    func() time.Time
}

var _ outpost.Workspaces = (*Workspaces)(nil)

func workspaceView(w store.Workspace, role outpost.Role, current string) outpost.Workspace {
	return outpost.Workspace{ID: w.ID, Slug: w.Slug, Name: w.Name, CreatedAt: w.CreatedAt, Role: role, Current: w.ID == current}
}

// instanceAdmin reports whether the caller is a signed-in instance admin.
func (s *Workspaces) instanceAdmin(ctx context.Context, c outpost.Caller) (bool, error) {
	if c.User() != nil {
		return false, nil
	}
	return s.store.IsInstanceAdmin(ctx, c.UserID)
}

// List returns the caller's workspaces: a user's memberships (every
// workspace for an instance admin), or an API key's own.
func (s *Workspaces) List(ctx context.Context, c outpost.Caller) (outpost.WorkspaceList, error) {
	if c.User() != nil {
		if err := c.Check(authz.View); err != nil {
			return outpost.WorkspaceList{}, err
		}
		w, err := s.store.GetWorkspace(ctx, c.WorkspaceID)
		if err != nil {
			return outpost.WorkspaceList{}, err
		}
		return outpost.WorkspaceList{Workspaces: []outpost.Workspace{workspaceView(w, "", c.WorkspaceID)}}, nil
	}
	mine, err := s.store.ListUserWorkspaces(ctx, c.UserID)
	if err != nil {
		return outpost.WorkspaceList{}, err
	}
	admin, err := s.instanceAdmin(ctx, c)
	if err != nil {
		return outpost.WorkspaceList{}, err
	}
	out := outpost.WorkspaceList{Workspaces: []outpost.Workspace{}, InstanceAdmin: admin}
	roles := map[string]outpost.Role{}
	for _, m := range mine {
		roles[m.ID] = m.Role
		out.Workspaces = append(out.Workspaces, workspaceView(m.Workspace, m.Role, c.WorkspaceID))
	}
	if admin {
		all, err := s.store.ListWorkspaces(ctx)
		if err != nil {
			return outpost.WorkspaceList{}, err
		}
		for _, w := range all {
			if _, ok := roles[w.ID]; !ok {
				out.Workspaces = append(out.Workspaces, workspaceView(w, "", c.WorkspaceID))
			}
		}
	}
	return out, nil
}

var nonSlug = regexp.MustCompile(`[^a-z0-9]+`)

// slugOf derives a slug from a name ("Acme Corp" → "acme-corp").
func slugOf(name string) string {
	s := strings.Trim(nonSlug.ReplaceAllString(strings.ToLower(name), "-"), "-")
	if len(s) > 63 {
		s = strings.TrimRight(s[:63], "-")
	}
	return s
}

// Create makes a workspace with the caller as its owner and moves them
// there. Only instance admins create workspaces: a workspace starts
// without limits, and its plan is theirs to set.
func (s *Workspaces) Create(ctx context.Context, c outpost.Caller, name, slug string) (outpost.Workspace, error) {
	if err := c.User(); err != nil {
		return outpost.Workspace{}, err
	}
	if admin, err := s.instanceAdmin(ctx, c); err != nil {
		return outpost.Workspace{}, err
	} else if !admin {
		return outpost.Workspace{}, errcode.New(errcode.Forbidden, "only the instance admin (an owner of the default workspace) creates workspaces")
	}
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > outpost.MaxLabelLen {
		return outpost.Workspace{}, errcode.New(errcode.InvalidOption, "name: give the workspace a name of 1 to %d characters", outpost.MaxLabelLen)
	}
	if slug = strings.TrimSpace(slug); slug == "" {
		slug = slugOf(name)
	}
	if !slugPattern.MatchString(slug) {
		return outpost.Workspace{}, errcode.New(errcode.InvalidOption, "slug %q: use 1 to 63 lowercase letters, digits and dashes, e.g. \"acme\"", slug)
	}
	var w store.Workspace
	err := inTx(ctx, s.store, func(q *store.Queries, _ *sql.Tx) error {
		var err error
		if w, err = q.CreateWorkspace(ctx, store.Workspace{Name: name, Slug: slug}); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return errcode.New(errcode.Conflict, "a workspace with slug %q already exists", slug)
			}
			return err
		}
		if _, err := q.AddMember(ctx, w.ID, c.UserID, authz.Owner); err != nil {
			return err
		}
		if _, err := q.SwitchWorkspace(ctx, c.UserID, w.ID); err != nil {
			return err
		}
		c.WorkspaceID, c.Role = w.ID, authz.Owner
		return audit(ctx, q, c, store.AuditMemberJoined, "user", c.UserID, map[string]any{"email": c.Name, "role": authz.Owner, "created_workspace": true})
	})
	if err != nil {
		return outpost.Workspace{}, err
	}
	return workspaceView(w, authz.Owner, w.ID), nil
}

// Switch makes another of the caller's workspaces their current one.
func (s *Workspaces) Switch(ctx context.Context, c outpost.Caller, id string) (outpost.Workspace, error) {
	if err := c.User(); err != nil {
		return outpost.Workspace{}, err
	}
	if _, err := s.store.SwitchWorkspace(ctx, c.UserID, id); err != nil {
		return outpost.Workspace{}, coded(err, "workspace", id)
	}
	m, err := s.store.GetMember(ctx, id, c.UserID)
	if err != nil {
		return outpost.Workspace{}, coded(err, "workspace", id)
	}
	w, err := s.store.GetWorkspace(ctx, id)
	if err != nil {
		return outpost.Workspace{}, coded(err, "workspace", id)
	}
	return workspaceView(w, m.Role, id), nil
}

// Rename changes the name of a workspace the caller owns.
func (s *Workspaces) Rename(ctx context.Context, c outpost.Caller, id, name string) (outpost.Workspace, error) {
	if err := c.User(); err != nil {
		return outpost.Workspace{}, err
	}
	m, err := s.store.GetMember(ctx, id, c.UserID)
	if err != nil {
		return outpost.Workspace{}, coded(err, "workspace", id)
	}
	if err := authz.MemberPrincipal(m.Role).Check(authz.ManageWorkspace); err != nil {
		return outpost.Workspace{}, err
	}
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > outpost.MaxLabelLen {
		return outpost.Workspace{}, errcode.New(errcode.InvalidOption, "name: give the workspace a name of 1 to %d characters", outpost.MaxLabelLen)
	}
	var w store.Workspace
	err = inTx(ctx, s.store, func(q *store.Queries, _ *sql.Tx) error {
		old, err := q.GetWorkspace(ctx, id)
		if err != nil {
			return err
		}
		if w, err = q.RenameWorkspace(ctx, id, name); err != nil {
			return err
		}
		a := c
		a.WorkspaceID = id
		return audit(ctx, q, a, store.AuditWorkspaceRenamed, "workspace", id, map[string]string{"from": old.Name, "to": name})
	})
	if err != nil {
		return outpost.Workspace{}, coded(err, "workspace", id)
	}
	return workspaceView(w, m.Role, c.WorkspaceID), nil
}

// target resolves the workspace a plan request names ("" or "current":
// the caller's): the caller's own, or any for an instance admin.
func (s *Workspaces) target(ctx context.Context, c outpost.Caller, id string) (string, bool, error) {
	admin, err := s.instanceAdmin(ctx, c)
	if err != nil {
		return "", false, err
	}
	if id == "" || id == "current" || id == c.WorkspaceID {
		return c.WorkspaceID, admin, nil
	}
	if !admin {
		return "", false, errcode.New(errcode.NotFound, "workspace %s not found", id)
	}
	if _, err := s.store.GetWorkspace(ctx, id); err != nil {
		return "", false, coded(err, "workspace", id)
	}
	return id, admin, nil
}

// Plan returns a workspace's limits and usage: the caller's, or any for
// an instance admin.
func (s *Workspaces) Plan(ctx context.Context, c outpost.Caller, id string) (outpost.Plan, error) {
	if err := c.Check(authz.View); err != nil {
		return outpost.Plan{}, err
	}
	ws, _, err := s.target(ctx, c, id)
	if err != nil {
		return outpost.Plan{}, err
	}
	return planView(ctx, s.store.Queries, ws)
}

func planView(ctx context.Context, q *store.Queries, workspaceID string) (outpost.Plan, error) {
	p, err := q.GetPlan(ctx, workspaceID)
	if err != nil {
		return outpost.Plan{}, err
	}
	u, err := q.WorkspaceUsage(ctx, workspaceID)
	if err != nil {
		return outpost.Plan{}, err
	}
	return outpost.Plan{WorkspaceID: workspaceID, Limits: p.Limits, Usage: u, UpdatedAt: p.UpdatedAt}, nil
}

// SetPlan sets a workspace's limits; only instance admins set plans.
func (s *Workspaces) SetPlan(ctx context.Context, c outpost.Caller, id string, l plan.Limits) (outpost.Plan, error) {
	if err := c.User(); err != nil {
		return outpost.Plan{}, err
	}
	ws, admin, err := s.target(ctx, c, id)
	if err != nil {
		return outpost.Plan{}, err
	}
	if !admin {
		return outpost.Plan{}, errcode.New(errcode.Forbidden, "only the instance admin (an owner of the default workspace) sets plans")
	}
	if l.MaxResolution < 0 || l.MaxConcurrentExports < 0 || l.MaxStoredBytes < 0 {
		return outpost.Plan{}, errcode.New(errcode.InvalidOption, "plan: limits are 0 (unlimited) or more")
	}
	var out outpost.Plan
	err = inTx(ctx, s.store, func(q *store.Queries, _ *sql.Tx) error {
		if _, err := q.SetPlan(ctx, store.Plan{WorkspaceID: ws, Limits: l}); err != nil {
			return err
		}
		a := c
		a.WorkspaceID = ws
		if err := audit(ctx, q, a, store.AuditWorkspacePlanSet, "workspace", ws, l); err != nil {
			return err
		}
		out, err = planView(ctx, q, ws)
		return err
	})
	return out, err
}

// ExportData returns the caller's workspace's data export: a zip of its
// records with links to its files (valid for dataExportLinkTTL). The
// export is audited when it is written.
func (s *Workspaces) ExportData(ctx context.Context, c outpost.Caller) (outpost.DataExport, error) {
	if err := c.Check(authz.ExportData); err != nil {
		return outpost.DataExport{}, err
	}
	w, err := s.store.GetWorkspace(ctx, c.WorkspaceID)
	if err != nil {
		return outpost.DataExport{}, err
	}
	at := s.now()
	link := func(ctx context.Context, key, filename string) (string, error) {
		u, _, err := s.blob.SignedURL(ctx, key, dataExportLinkTTL, filename)
		return u, err
	}
	return outpost.DataExport{
		Filename: fmt.Sprintf("outpost-%s-%s.zip", w.Slug, at.UTC().Format("20060102-150405")),
		Write: func(out io.Writer) error {
			auditAfter(ctx, s.store, s.logger, c, store.AuditWorkspaceExported, "workspace", w.ID, nil)
			return dataexport.Write(ctx, out, s.store, w.ID, link, at)
		},
	}, nil
}
