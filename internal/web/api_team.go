package web

import (
	"context"
	"net/http"
	"strconv"

	"outpost/internal/errcode"
	"outpost/internal/outpost"
	"outpost/internal/plan"
)

// teamRoutes are the routes of the team and its data: API keys, members
// and invites, the audit log, workspaces and plans, notification
// preferences, the data export and deletions.
func (s *Server) teamRoutes() []route {
	force := []param{{"force", "boolean", "also when a scheduled publication still needs a file: it is canceled"}}
	return []route{
		{Method: "GET", Path: "/api/v1/api-keys", Tag: "api-keys", Summary: "List the workspace's API keys (never their secrets), revoked ones included",
			Handler: s.listAPIKeys, Status: 200, Response: page[outpost.APIKeyInfo]{}},
		{Method: "POST", Path: "/api/v1/api-keys", Tag: "api-keys", Summary: "Create an API key with scopes: its secret is in this answer only",
			Handler: s.createAPIKey, Request: outpost.APIKeyRequest{}, Status: 201, Response: outpost.NewAPIKey{}},
		{Method: "POST", Path: "/api/v1/api-keys/{id}/revoke", Tag: "api-keys", Summary: "Revoke an API key: refused at once, on every node",
			Handler: s.revokeAPIKey, Status: 200, Response: outpost.APIKeyInfo{}},
		{Method: "POST", Path: "/api/v1/api-keys/{id}/rotate", Tag: "api-keys", Summary: "Replace an API key with a new secret; the old one works for the grace period (default 24h, \"0\" stops it at once)",
			Handler: s.rotateAPIKey, Request: rotateRequest{}, Status: 201, Response: outpost.NewAPIKey{}},

		{Method: "GET", Path: "/api/v1/members", Tag: "members", Summary: "The workspace's members with their roles (and pending invites, for those who manage members)",
			Handler: s.listMembers, Status: 200, Response: outpost.MemberList{}},
		{Method: "PATCH", Path: "/api/v1/members/{id}", Tag: "members", Summary: "Change a member's role (only an owner makes owners; a workspace keeps one)",
			Handler: s.setMemberRole, Request: roleRequest{}, Status: 200, Response: outpost.Member{}},
		{Method: "DELETE", Path: "/api/v1/members/{id}", Tag: "members", Summary: "Remove a member from the workspace (a member may remove themselves: leave)",
			Handler: s.removeMember, Status: 204},
		{Method: "GET", Path: "/api/v1/invites", Tag: "members", Summary: "Pending invites",
			Handler: s.listInvites, Status: 200, Response: page[outpost.Invite]{}},
		{Method: "POST", Path: "/api/v1/invites", Tag: "members", Summary: "Invite someone with a role: a link shown once, and an email when asked (needs OUTPOST_SMTP_URL)",
			Handler: s.createInvite, Request: outpost.InviteRequest{}, Status: 201, Response: outpost.Invite{}},
		{Method: "DELETE", Path: "/api/v1/invites/{id}", Tag: "members", Summary: "Revoke a pending invite",
			Handler: s.revokeInvite, Status: 204},
		{Method: "POST", Path: "/api/v1/invites/accept", Tag: "members", Summary: "Accept an invite as the signed-in user (the token of the invite link)",
			Handler: s.acceptInvite, Request: acceptRequest{}, Status: 200, Response: outpost.Member{}},

		{Method: "GET", Path: "/api/v1/audit", Tag: "audit", Summary: "The workspace's audit log, newest first: sign-ins, keys, members, connections, deletions",
			Handler: s.listAudit, Query: append([]param{
				{"action", "string", "one action, e.g. api_key.revoked"},
				{"actor_id", "string", "events by this user or key"},
				{"target_id", "string", "events about this record"},
			}, pageParams...), Status: 200, Response: page[outpost.AuditEvent]{}},

		{Method: "GET", Path: "/api/v1/workspaces", Tag: "workspaces", Summary: "The caller's workspaces (every one, for the instance admin)",
			Handler: s.listWorkspaces, Status: 200, Response: outpost.WorkspaceList{}},
		{Method: "POST", Path: "/api/v1/workspaces", Tag: "workspaces", Summary: "Create a workspace, owned by the caller (the instance admin)",
			Handler: s.createWorkspace, Request: workspaceRequest{}, Status: 201, Response: outpost.Workspace{}},
		{Method: "POST", Path: "/api/v1/workspaces/{id}/switch", Tag: "workspaces", Summary: "Make another of the signed-in user's workspaces the current one",
			Handler: s.switchWorkspace, Status: 200, Response: outpost.Workspace{}},
		{Method: "PATCH", Path: "/api/v1/workspaces/{id}", Tag: "workspaces", Summary: "Rename a workspace (its owner)",
			Handler: s.renameWorkspace, Request: workspaceRequest{}, Status: 200, Response: outpost.Workspace{}},
		{Method: "GET", Path: "/api/v1/workspaces/{id}/plan", Tag: "workspaces", Summary: "A workspace's plan (limits) and usage; {id} may be \"current\"",
			Handler: s.getPlan, Status: 200, Response: outpost.Plan{}},
		{Method: "PUT", Path: "/api/v1/workspaces/{id}/plan", Tag: "workspaces", Summary: "Set a workspace's plan (the instance admin); 0 and false are unlimited",
			Handler: s.setPlan, Request: plan.Limits{}, Status: 200, Response: outpost.Plan{}},
		{Method: "DELETE", Path: "/api/v1/workspaces/{id}", Tag: "workspaces", Summary: "Delete a workspace with everything in it (its owner); posts on the platforms stay",
			Handler: s.deleting(s.svc.Deletions.Workspace), Query: force, Status: 200, Response: outpost.DeleteResult{}},

		{Method: "GET", Path: "/api/v1/me/notifications", Tag: "notifications", Summary: "The signed-in user's email preferences, and whether this server sends email",
			Handler: s.getNotifications, Status: 200, Response: outpost.NotificationPrefs{}},
		{Method: "PATCH", Path: "/api/v1/me/notifications", Tag: "notifications", Summary: "Turn kinds of email on or off: {\"email\":{\"export_failed\":true,…}}",
			Handler: s.setNotifications, Request: notificationsRequest{}, Status: 200, Response: outpost.NotificationPrefs{}},
		{Method: "GET", Path: "/api/v1/me/share-defaults", Tag: "connections", Summary: "The signed-in user's \"share to\" default in the workspace: the accounts a share starts with ticked (active ones only)",
			Handler: s.getShareDefaults, Status: 200, Response: outpost.ShareDefaults{}},
		{Method: "PUT", Path: "/api/v1/me/share-defaults", Tag: "connections", Summary: "Save the signed-in user's \"share to\" default: {\"connection_ids\":[…]} (empty clears it)",
			Handler: s.setShareDefaults, Request: outpost.ShareDefaults{}, Status: 200, Response: outpost.ShareDefaults{}},

		{Method: "GET", Path: "/api/v1/export-data", Tag: "workspaces", Summary: "The workspace's data export: a zip of JSON (members, projects, exports, renditions, publications, presets, brand kits, webhooks) with links to the stored files",
			Handler: s.exportData, Status: 200},
		{Method: "DELETE", Path: "/api/v1/exports/{id}", Tag: "exports", Summary: "Delete an export: its files, thumbnails, caption sidecars and history rows (posts on the platforms stay)",
			Handler: s.deleting(s.svc.Deletions.Export), Query: force, Status: 200, Response: outpost.DeleteResult{}},
		{Method: "DELETE", Path: "/api/v1/projects/{id}", Tag: "projects", Summary: "Delete a project with its source and its exports (posts on the platforms stay)",
			Handler: s.deleting(s.svc.Deletions.Project), Query: force, Status: 200, Response: outpost.DeleteResult{}},
		{Method: "DELETE", Path: "/api/v1/users/{id}", Tag: "members", Summary: "Delete a user's account (one's own, or any for the instance admin)",
			Handler: s.deleteUser, Status: 204},
	}
}

func (s *Server) listAPIKeys(w http.ResponseWriter, r *http.Request) error {
	keys, err := s.svc.APIKeys.List(r.Context(), callerOf(r))
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, newPage(keys, ""))
	return nil
}

func (s *Server) createAPIKey(w http.ResponseWriter, r *http.Request) error {
	var req outpost.APIKeyRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	k, err := s.svc.APIKeys.Create(r.Context(), callerOf(r), req)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusCreated, k)
	return nil
}

func (s *Server) revokeAPIKey(w http.ResponseWriter, r *http.Request) error {
	k, err := s.svc.APIKeys.Revoke(r.Context(), callerOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, k)
	return nil
}

// rotateRequest sets how long the old key keeps working.
type rotateRequest struct {
	// Grace is a duration such as "1h"; "0" stops the old key at once.
	// Default "24h".
	Grace string `json:"grace,omitempty"`
}

func (s *Server) rotateAPIKey(w http.ResponseWriter, r *http.Request) error {
	var req rotateRequest
	if r.ContentLength != 0 {
		if err := decodeJSON(r, &req); err != nil {
			return err
		}
	}
	k, err := s.svc.APIKeys.Rotate(r.Context(), callerOf(r), r.PathValue("id"), req.Grace)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusCreated, k)
	return nil
}

func (s *Server) listMembers(w http.ResponseWriter, r *http.Request) error {
	ms, err := s.svc.Members.List(r.Context(), callerOf(r))
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, ms)
	return nil
}

// roleRequest changes a member's role.
type roleRequest struct {
	Role outpost.Role `json:"role"`
}

func (s *Server) setMemberRole(w http.ResponseWriter, r *http.Request) error {
	var req roleRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	m, err := s.svc.Members.SetRole(r.Context(), callerOf(r), r.PathValue("id"), req.Role)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, m)
	return nil
}

func (s *Server) removeMember(w http.ResponseWriter, r *http.Request) error {
	if err := s.svc.Members.Remove(r.Context(), callerOf(r), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listInvites(w http.ResponseWriter, r *http.Request) error {
	ms, err := s.svc.Members.List(r.Context(), callerOf(r))
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, newPage(ms.Invites, ""))
	return nil
}

func (s *Server) createInvite(w http.ResponseWriter, r *http.Request) error {
	var req outpost.InviteRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	inv, err := s.svc.Members.Invite(r.Context(), callerOf(r), req)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusCreated, inv)
	return nil
}

func (s *Server) revokeInvite(w http.ResponseWriter, r *http.Request) error {
	if err := s.svc.Members.RevokeInvite(r.Context(), callerOf(r), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// acceptRequest carries an invite link's token.
type acceptRequest struct {
	Token string `json:"token"`
}

func (s *Server) acceptInvite(w http.ResponseWriter, r *http.Request) error {
	var req acceptRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	m, err := s.svc.Members.Accept(r.Context(), callerOf(r), req.Token)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, m)
	return nil
}

func (s *Server) listAudit(w http.ResponseWriter, r *http.Request) error {
	cursor, limit, err := pageQuery(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	pg, err := s.svc.Audit.List(r.Context(), callerOf(r), outpost.AuditQuery{Action: q.Get("action"), ActorID: q.Get("actor_id"),
		TargetID: q.Get("target_id"), Limit: limit, Cursor: cursor})
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, newPage(pg.Events, pg.NextCursor))
	return nil
}

func (s *Server) listWorkspaces(w http.ResponseWriter, r *http.Request) error {
	ws, err := s.svc.Workspaces.List(r.Context(), callerOf(r))
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, ws)
	return nil
}

// workspaceRequest creates a workspace.
type workspaceRequest struct {
	Name string `json:"name"`
	// Slug defaults to one made from the name.
	Slug string `json:"slug,omitempty"`
}

func (s *Server) createWorkspace(w http.ResponseWriter, r *http.Request) error {
	var req workspaceRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	ws, err := s.svc.Workspaces.Create(r.Context(), callerOf(r), req.Name, req.Slug)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusCreated, ws)
	return nil
}

func (s *Server) renameWorkspace(w http.ResponseWriter, r *http.Request) error {
	var req workspaceRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	ws, err := s.svc.Workspaces.Rename(r.Context(), callerOf(r), r.PathValue("id"), req.Name)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, ws)
	return nil
}

func (s *Server) switchWorkspace(w http.ResponseWriter, r *http.Request) error {
	ws, err := s.svc.Workspaces.Switch(r.Context(), callerOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, ws)
	return nil
}

func (s *Server) getPlan(w http.ResponseWriter, r *http.Request) error {
	p, err := s.svc.Workspaces.Plan(r.Context(), callerOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, p)
	return nil
}

func (s *Server) setPlan(w http.ResponseWriter, r *http.Request) error {
	var l plan.Limits
	if err := decodeJSON(r, &l); err != nil {
		return err
	}
	p, err := s.svc.Workspaces.SetPlan(r.Context(), callerOf(r), r.PathValue("id"), l)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, p)
	return nil
}

// notificationsRequest turns kinds of email on or off.
type notificationsRequest struct {
	Email map[string]bool `json:"email"`
}

func (s *Server) getNotifications(w http.ResponseWriter, r *http.Request) error {
	p, err := s.svc.Notifications.Get(r.Context(), callerOf(r))
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, p)
	return nil
}

func (s *Server) setNotifications(w http.ResponseWriter, r *http.Request) error {
	var req notificationsRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	p, err := s.svc.Notifications.Set(r.Context(), callerOf(r), req.Email)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, p)
	return nil
}

func (s *Server) getShareDefaults(w http.ResponseWriter, r *http.Request) error {
	d, err := s.svc.Connections.ShareDefaults(r.Context(), callerOf(r))
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, d)
	return nil
}

func (s *Server) setShareDefaults(w http.ResponseWriter, r *http.Request) error {
	var req outpost.ShareDefaults
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	d, err := s.svc.Connections.SetShareDefaults(r.Context(), callerOf(r), req.ConnectionIDs)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, d)
	return nil
}

func (s *Server) exportData(w http.ResponseWriter, r *http.Request) error {
	x, err := s.svc.Workspaces.ExportData(r.Context(), callerOf(r))
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "application/zip")
	h.Set("Content-Disposition", `attachment; filename="`+x.Filename+`"`)
	// Once the zip has started, a failure can only cut it short (the
	// client's unzip then fails): log it.
	if err := x.Write(w); err != nil {
		s.logger.ErrorContext(r.Context(), "data export failed while streaming", "error", err)
	}
	return nil
}

// forceOf reads the force query parameter.
func forceOf(r *http.Request) (bool, error) {
	v := r.URL.Query().Get("force")
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, errcode.New(errcode.InvalidOption, "force %q: want true or false", v)
	}
	return b, nil
}

// deleteFunc deletes the caller's record id (a method of
// outpost.Deletions).
type deleteFunc func(ctx context.Context, c outpost.Caller, id string, force bool) (outpost.DeleteResult, error)

// deleting serves a deletion of the path's id, with the force parameter.
func (s *Server) deleting(del deleteFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		force, err := forceOf(r)
		if err != nil {
			return err
		}
		res, err := del(r.Context(), callerOf(r), r.PathValue("id"), force)
		if err != nil {
			return err
		}
		s.writeJSON(w, r, http.StatusOK, res)
		return nil
	}
}

func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request) error {
	if err := s.svc.Deletions.User(r.Context(), callerOf(r), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
