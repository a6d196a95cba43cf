package ui

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"outpost/internal/authz"
	"outpost/internal/errcode"
	"outpost/internal/outpost"
	"outpost/internal/plan"
)

// The Settings pages: the workspace (switch, create, plans, data export,
// deletion), its members and invites, API keys, the audit log, and the
// signed-in user's email notifications and account; and the page of an
// invite link. They speak to the team's services only.

// settingsRoutes registers the settings pages, the invite link's page,
// and the deletion of exports and projects (pageActions has each one's
// action).
func (h *Handler) settingsRoutes(m *http.ServeMux) {
	m.Handle("GET /settings", h.auth(h.settingsPage))
	m.Handle("GET /settings/workspace", h.auth(h.workspacePage))
	m.Handle("POST /settings/workspace/switch", h.auth(h.switchWorkspace))
	m.Handle("POST /settings/workspaces", h.auth(h.createWorkspace))
	m.Handle("POST /settings/workspaces/{id}/plan", h.auth(h.setPlan))
	m.Handle("POST /settings/workspace/delete", h.auth(h.deleteWorkspace))
	m.Handle("POST /settings/workspace/rename", h.auth(h.renameWorkspace))
	m.Handle("GET /settings/workspace/export", h.auth(h.downloadDataExport))
	m.Handle("GET /settings/members", h.auth(h.membersPage))
	m.Handle("POST /settings/invites", h.auth(h.createInvite))
	m.Handle("POST /settings/invites/{id}/revoke", h.auth(h.revokeInvite))
	m.Handle("POST /settings/members/{id}/role", h.auth(h.setMemberRole))
	m.Handle("POST /settings/members/{id}/remove", h.auth(h.removeMember))
	m.Handle("GET /settings/api-keys", h.auth(h.keysPage))
	m.Handle("POST /settings/api-keys", h.auth(h.createKey))
	m.Handle("POST /settings/api-keys/{id}/revoke", h.auth(h.revokeKey))
	m.Handle("POST /settings/api-keys/{id}/rotate", h.auth(h.rotateKey))
	m.Handle("GET /settings/audit", h.auth(h.auditPage))
	m.Handle("GET /settings/notifications", h.auth(h.notificationsPage))
	m.Handle("POST /settings/notifications", h.auth(h.saveNotifications))
	m.Handle("POST /settings/account/delete", h.auth(h.deleteAccount))
	m.Handle("POST /exports/{id}/delete", h.auth(h.deleteExport))
	m.Handle("POST /projects/{id}/delete", h.auth(h.deleteProject))
	m.HandleFunc("GET /invite/{token}", h.invitePage)
	m.Handle("POST /invite/{token}/accept", h.auth(h.acceptInvite))
	m.HandleFunc("POST /invite/{token}/join", h.joinInvite)
}

// settingsTab is an entry of the settings menu.
type settingsTab struct {
	Path, Label string
	Current     bool
}

// settingsBase is what every settings page shows: the menu of the pages
// the user's role opens.
type settingsBase struct {
	Tabs []settingsTab
}

func (h *Handler) settingsBase(r *http.Request, current string) settingsBase {
	var b settingsBase
	for _, t := range []struct {
		path, label string
		need        authz.Action
	}{
		{"/settings/workspace", "Workspace", anyUser},
		{"/settings/members", "Members", authz.View},
		{"/settings/api-keys", "API keys", authz.ManageKeys},
		{"/settings/audit", "Audit log", authz.ViewAudit},
		{"/settings/notifications", "Notifications", anyUser},
	} {
		if t.need == anyUser || h.can(r, t.need) {
			b.Tabs = append(b.Tabs, settingsTab{Path: t.path, Label: t.label, Current: t.path == current})
		}
	}
	return b
}

// switchable returns the workspaces the signed-in user is a member of, for
// the header (nil when the list cannot be read: the header then shows
// none).
func (h *Handler) switchable(r *http.Request) []outpost.Workspace {
	ws, err := h.svc.Workspaces.List(r.Context(), h.callerOf(r))
	if err != nil {
		return nil
	}
	var out []outpost.Workspace
	for _, w := range ws.Workspaces {
		if w.Role != "" {
			out = append(out, w)
		}
	}
	return out
}

// form parses a posted form within the size limit.
func form(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if err := r.ParseForm(); err != nil {
		return errcode.Wrap(errcode.InvalidOption, err, "the form could not be read")
	}
	return nil
}

// done redirects to path with a query that names what happened (the page
// shows it as a flash).
func done(w http.ResponseWriter, r *http.Request, path string, q url.Values) error {
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	http.Redirect(w, r, path, http.StatusSeeOther)
	return nil
}

// — Workspace —

type workspaceData struct {
	settingsBase
	Current    outpost.Workspace
	Workspaces outpost.WorkspaceList
	// Plans are every workspace's plan, for the instance admin.
	Plans              map[string]outpost.Plan
	Plan               outpost.Plan
	CanExportData      bool
	CanManageWorkspace bool
}

func (h *Handler) settingsPage(w http.ResponseWriter, r *http.Request) error {
	http.Redirect(w, r, "/settings/workspace", http.StatusSeeOther)
	return nil
}

func (h *Handler) workspacePage(w http.ResponseWriter, r *http.Request) error {
	ctx, c := r.Context(), h.callerOf(r)
	ws, err := h.svc.Workspaces.List(ctx, c)
	if err != nil {
		return err
	}
	d := workspaceData{settingsBase: h.settingsBase(r, "/settings/workspace"), Workspaces: ws,
		CanExportData: h.can(r, authz.ExportData), CanManageWorkspace: h.can(r, authz.ManageWorkspace)}
	for _, x := range ws.Workspaces {
		if x.Current {
			d.Current = x
		}
	}
	if h.can(r, authz.View) {
		if d.Plan, err = h.svc.Workspaces.Plan(ctx, c, c.WorkspaceID); err != nil {
			return err
		}
	}
	if ws.InstanceAdmin {
		d.Plans = map[string]outpost.Plan{}
		for _, x := range ws.Workspaces {
			if d.Plans[x.ID], err = h.svc.Workspaces.Plan(ctx, c, x.ID); err != nil {
				return err
			}
		}
	}
	pg := page{Title: "Workspace settings", Nav: "settings", Data: d}
	switch q := r.URL.Query(); {
	case q.Get("switched") != "":
		pg.Flash = &flash{Kind: "success", Title: "Workspace switched", Message: "You are now in " + q.Get("switched") + "."}
	case q.Get("created") != "":
		pg.Flash = &flash{Kind: "success", Title: "Workspace created", Message: q.Get("created") + " is ready, and you are its owner."}
	case q.Get("renamed") != "":
		pg.Flash = &flash{Kind: "success", Title: "Workspace renamed", Message: "It is called " + q.Get("renamed") + " now."}
	case q.Get("plan") != "":
		pg.Flash = &flash{Kind: "success", Title: "Plan saved", Message: "The new limits apply to the next exports of " + q.Get("plan") + "."}
	case q.Get("deleted") != "":
		pg.Flash = &flash{Kind: "success", Title: "Workspace deleted", Message: q.Get("deleted") + " and everything in it are gone; posts already on the platforms stay there."}
	}
	h.render(w, r, http.StatusOK, "settings_workspace", pg)
	return nil
}

func (h *Handler) switchWorkspace(w http.ResponseWriter, r *http.Request) error {
	if err := form(w, r); err != nil {
		return err
	}
	ws, err := h.svc.Workspaces.Switch(r.Context(), h.callerOf(r), r.PostFormValue("workspace_id"))
	if err != nil {
		return err
	}
	if next := r.PostFormValue("next"); next != "" {
		http.Redirect(w, r, safeNext(next), http.StatusSeeOther)
		return nil
	}
	return done(w, r, "/settings/workspace", url.Values{"switched": {ws.Name}})
}

func (h *Handler) createWorkspace(w http.ResponseWriter, r *http.Request) error {
	if err := form(w, r); err != nil {
		return err
	}
	ws, err := h.svc.Workspaces.Create(r.Context(), h.callerOf(r), r.PostFormValue("name"), r.PostFormValue("slug"))
	if err != nil {
		return err
	}
	return done(w, r, "/settings/workspace", url.Values{"created": {ws.Name}})
}

func (h *Handler) setPlan(w http.ResponseWriter, r *http.Request) error {
	if err := form(w, r); err != nil {
		return err
	}
	num := func(name string) (int64, error) {
		v := strings.TrimSpace(r.PostFormValue(name))
		if v == "" {
			return 0, nil
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return 0, errcode.New(errcode.InvalidOption, "%s: a whole number, 0 for no limit", strings.ReplaceAll(name, "_", " "))
		}
		return n, nil
	}
	var l plan.Limits
	res, err := num("max_resolution")
	if err != nil {
		return err
	}
	conc, err := num("max_concurrent_exports")
	if err != nil {
		return err
	}
	gib, err := num("max_stored_gib")
	if err != nil {
		return err
	}
	l.MaxResolution, l.MaxConcurrentExports, l.MaxStoredBytes = int(res), int(conc), gib<<30
	l.BatchDisabled, l.VariantsDisabled = r.PostFormValue("batch") != "on", r.PostFormValue("variants") != "on"
	if _, err := h.svc.Workspaces.SetPlan(r.Context(), h.callerOf(r), r.PathValue("id"), l); err != nil {
		return err
	}
	return done(w, r, "/settings/workspace", url.Values{"plan": {r.PostFormValue("name")}})
}

func (h *Handler) renameWorkspace(w http.ResponseWriter, r *http.Request) error {
	if err := form(w, r); err != nil {
		return err
	}
	c := h.callerOf(r)
	ws, err := h.svc.Workspaces.Rename(r.Context(), c, c.WorkspaceID, r.PostFormValue("name"))
	if err != nil {
		return err
	}
	return done(w, r, "/settings/workspace", url.Values{"renamed": {ws.Name}})
}

func (h *Handler) deleteWorkspace(w http.ResponseWriter, r *http.Request) error {
	if err := form(w, r); err != nil {
		return err
	}
	c := h.callerOf(r)
	name := r.PostFormValue("name")
	if _, err := h.svc.Deletions.Workspace(r.Context(), c, c.WorkspaceID, r.PostFormValue("force") == "on"); err != nil {
		return err
	}
	return done(w, r, "/settings/workspace", url.Values{"deleted": {name}})
}

func (h *Handler) downloadDataExport(w http.ResponseWriter, r *http.Request) error {
	x, err := h.svc.Workspaces.ExportData(r.Context(), h.callerOf(r))
	if err != nil {
		return err
	}
	hd := w.Header()
	hd.Set("Content-Type", "application/zip")
	hd.Set("Content-Disposition", `attachment; filename="`+x.Filename+`"`)
	hd.Set("Cache-Control", "no-store")
	if err := x.Write(w); err != nil {
		// Headers are gone: the download ends short, and the log says why.
		h.logger.ErrorContext(r.Context(), "data export failed while streaming", "error", err)
	}
	return nil
}

// — Members and invites —

type membersData struct {
	settingsBase
	outpost.MemberList
	Me        string
	CanManage bool
	// Roles are the roles the user may give.
	Roles []outpost.Role
	// NewInvite is the invite just made, with its link (shown once).
	NewInvite *outpost.Invite
}

func (h *Handler) membersPage(w http.ResponseWriter, r *http.Request) error {
	h.renderMembers(w, r, http.StatusOK, nil, nil)
	return nil
}

func (h *Handler) renderMembers(w http.ResponseWriter, r *http.Request, status int, inv *outpost.Invite, fl *flash) {
	c := h.callerOf(r)
	ml, err := h.svc.Members.List(r.Context(), c)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d := membersData{settingsBase: h.settingsBase(r, "/settings/members"), MemberList: ml, Me: c.UserID,
		CanManage: h.can(r, authz.ManageMembers), NewInvite: inv}
	for _, role := range authz.Roles {
		if authz.CheckRoleChange(c.Role, "", role) == nil {
			d.Roles = append(d.Roles, role)
		}
	}
	pg := page{Title: "Members", Nav: "settings", Data: d, Flash: fl}
	if fl == nil {
		switch q := r.URL.Query(); {
		case q.Get("role") != "":
			pg.Flash = &flash{Kind: "success", Title: "Role changed", Message: q.Get("who") + " is now " + q.Get("role") + "."}
		case q.Get("removed") != "":
			pg.Flash = &flash{Kind: "success", Title: "Member removed", Message: q.Get("removed") + " no longer has access to this workspace."}
		case q.Get("revoked") != "":
			pg.Flash = &flash{Kind: "success", Title: "Invite revoked", Message: "Its link no longer works."}
		}
	}
	h.render(w, r, status, "settings_members", pg)
}

func (h *Handler) createInvite(w http.ResponseWriter, r *http.Request) error {
	if err := form(w, r); err != nil {
		return err
	}
	inv, err := h.svc.Members.Invite(r.Context(), h.callerOf(r), outpost.InviteRequest{Email: r.PostFormValue("email"),
		Role: outpost.Role(r.PostFormValue("role")), SendEmail: r.PostFormValue("send_email") == "on"})
	if err != nil {
		return err
	}
	msg := "Send this link to the person you invite: it is shown this once, and works until " + when(inv.ExpiresAt) + "."
	if inv.Emailed {
		msg = "An email with the link is on its way to " + inv.Email + ". The link below works too, until " + when(inv.ExpiresAt) + "."
	}
	h.renderMembers(w, r, http.StatusCreated, &inv, &flash{Kind: "success", Title: "Invite created", Message: msg})
	return nil
}

func (h *Handler) revokeInvite(w http.ResponseWriter, r *http.Request) error {
	if err := h.svc.Members.RevokeInvite(r.Context(), h.callerOf(r), r.PathValue("id")); err != nil {
		return err
	}
	return done(w, r, "/settings/members", url.Values{"revoked": {"1"}})
}

func (h *Handler) setMemberRole(w http.ResponseWriter, r *http.Request) error {
	if err := form(w, r); err != nil {
		return err
	}
	m, err := h.svc.Members.SetRole(r.Context(), h.callerOf(r), r.PathValue("id"), outpost.Role(r.PostFormValue("role")))
	if err != nil {
		return err
	}
	return done(w, r, "/settings/members", url.Values{"role": {string(m.Role)}, "who": {m.Email}})
}

func (h *Handler) removeMember(w http.ResponseWriter, r *http.Request) error {
	if err := form(w, r); err != nil {
		return err
	}
	c := h.callerOf(r)
	id := r.PathValue("id")
	if err := h.svc.Members.Remove(r.Context(), c, id); err != nil {
		return err
	}
	if id == c.UserID {
		// Left: the user is in another of their workspaces now.
		http.Redirect(w, r, "/settings/workspace", http.StatusSeeOther)
		return nil
	}
	return done(w, r, "/settings/members", url.Values{"removed": {r.PostFormValue("email")}})
}

// — API keys —

type keysData struct {
	settingsBase
	Keys   []outpost.APIKeyInfo
	Scopes []authz.Scope
	// New is a key just made or rotated, with its secret (shown once).
	New *outpost.NewAPIKey
}

func (h *Handler) keysPage(w http.ResponseWriter, r *http.Request) error {
	h.renderKeys(w, r, http.StatusOK, nil, nil)
	return nil
}

func (h *Handler) renderKeys(w http.ResponseWriter, r *http.Request, status int, k *outpost.NewAPIKey, fl *flash) {
	keys, err := h.svc.APIKeys.List(r.Context(), h.callerOf(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	pg := page{Title: "API keys", Nav: "settings", Flash: fl,
		Data: keysData{settingsBase: h.settingsBase(r, "/settings/api-keys"), Keys: keys, Scopes: authz.Scopes, New: k}}
	if fl == nil && r.URL.Query().Get("revoked") != "" {
		pg.Flash = &flash{Kind: "success", Title: "Key revoked", Message: r.URL.Query().Get("revoked") + " is refused from now on, on every server."}
	}
	h.render(w, r, status, "settings_keys", pg)
}

func (h *Handler) createKey(w http.ResponseWriter, r *http.Request) error {
	if err := form(w, r); err != nil {
		return err
	}
	var scopes []authz.Scope
	for _, s := range r.PostForm["scopes"] {
		scopes = append(scopes, authz.Scope(s))
	}
	k, err := h.svc.APIKeys.Create(r.Context(), h.callerOf(r), outpost.APIKeyRequest{Name: r.PostFormValue("name"), Scopes: scopes})
	if err != nil {
		return err
	}
	h.renderKeys(w, r, http.StatusCreated, &k, &flash{Kind: "success", Title: "API key created",
		Message: "Copy the key now: it is shown this once."})
	return nil
}

func (h *Handler) revokeKey(w http.ResponseWriter, r *http.Request) error {
	k, err := h.svc.APIKeys.Revoke(r.Context(), h.callerOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return done(w, r, "/settings/api-keys", url.Values{"revoked": {k.Name + " (" + k.Prefix + "…)"}})
}

func (h *Handler) rotateKey(w http.ResponseWriter, r *http.Request) error {
	if err := form(w, r); err != nil {
		return err
	}
	k, err := h.svc.APIKeys.Rotate(r.Context(), h.callerOf(r), r.PathValue("id"), r.PostFormValue("grace"))
	if err != nil {
		return err
	}
	msg := "Copy the new key now: it is shown this once. The old key stops at once."
	if g := r.PostFormValue("grace"); g != "0" {
		msg = "Copy the new key now: it is shown this once. The old key keeps working for " + graceLabel(g) + "."
	}
	h.renderKeys(w, r, http.StatusCreated, &k, &flash{Kind: "success", Title: "API key rotated", Message: msg})
	return nil
}

// scopeList writes scopes as "read, export".
func scopeList(scopes []authz.Scope) string {
	s := make([]string, len(scopes))
	for i, sc := range scopes {
		s[i] = string(sc)
	}
	return strings.Join(s, ", ")
}

// graceLabel words a rotation's grace period.
func graceLabel(g string) string {
	switch g {
	case "", "24h":
		return "24 hours"
	case "1h":
		return "an hour"
	case "168h":
		return "7 days"
	}
	return g
}

// — Audit log —

type auditData struct {
	settingsBase
	Events []outpost.AuditEvent
	Action string
	Next   string
}

func (h *Handler) auditPage(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	pg, err := h.svc.Audit.List(r.Context(), h.callerOf(r), outpost.AuditQuery{Action: q.Get("action"), Cursor: q.Get("cursor"), Limit: 100})
	if err != nil {
		return err
	}
	d := auditData{settingsBase: h.settingsBase(r, "/settings/audit"), Events: pg.Events, Action: q.Get("action")}
	if pg.NextCursor != "" {
		d.Next = "/settings/audit?" + url.Values{"action": {d.Action}, "cursor": {pg.NextCursor}}.Encode()
	}
	h.render(w, r, http.StatusOK, "settings_audit", page{Title: "Audit log", Nav: "settings", Data: d})
	return nil
}

// — Notifications and account —

type notificationsData struct {
	settingsBase
	outpost.NotificationPrefs
	UserID string
}

func (h *Handler) notificationsPage(w http.ResponseWriter, r *http.Request) error {
	c := h.callerOf(r)
	p, err := h.svc.Notifications.Get(r.Context(), c)
	if err != nil {
		return err
	}
	pg := page{Title: "Notifications", Nav: "settings",
		Data: notificationsData{settingsBase: h.settingsBase(r, "/settings/notifications"), NotificationPrefs: p, UserID: c.UserID}}
	if r.URL.Query().Get("saved") != "" {
		pg.Flash = &flash{Kind: "success", Title: "Preferences saved", Message: "Your email settings apply from now on."}
	}
	h.render(w, r, http.StatusOK, "settings_notifications", pg)
	return nil
}

func (h *Handler) saveNotifications(w http.ResponseWriter, r *http.Request) error {
	if err := form(w, r); err != nil {
		return err
	}
	c := h.callerOf(r)
	cur, err := h.svc.Notifications.Get(r.Context(), c)
	if err != nil {
		return err
	}
	set := map[string]bool{}
	for _, p := range cur.Prefs {
		set[p.Kind] = r.PostFormValue(p.Kind) == "on"
	}
	if _, err := h.svc.Notifications.Set(r.Context(), c, set); err != nil {
		return err
	}
	return done(w, r, "/settings/notifications", url.Values{"saved": {"1"}})
}

func (h *Handler) deleteAccount(w http.ResponseWriter, r *http.Request) error {
	if err := form(w, r); err != nil {
		return err
	}
	c := h.callerOf(r)
	if !strings.EqualFold(strings.TrimSpace(r.PostFormValue("confirm_email")), c.Name) {
		return &errcode.Error{Code: errcode.InvalidOption, Message: "The email typed does not match your account's.",
			Remedy: "Type your email address to confirm that the account goes."}
	}
	if err := h.svc.Deletions.User(r.Context(), c, c.UserID); err != nil {
		return err
	}
	h.setSessionCookie(w, "", -1)
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
	return nil
}

// — Exports and projects —

func (h *Handler) deleteExport(w http.ResponseWriter, r *http.Request) error {
	if err := form(w, r); err != nil {
		return err
	}
	res, err := h.svc.Deletions.Export(r.Context(), h.callerOf(r), r.PathValue("id"), r.PostFormValue("force") == "on")
	if err != nil {
		return err
	}
	return done(w, r, "/history", url.Values{"deleted": {deletedText(res)}})
}

func (h *Handler) deleteProject(w http.ResponseWriter, r *http.Request) error {
	if err := form(w, r); err != nil {
		return err
	}
	res, err := h.svc.Deletions.Project(r.Context(), h.callerOf(r), r.PathValue("id"), r.PostFormValue("force") == "on")
	if err != nil {
		return err
	}
	return done(w, r, "/projects", url.Values{"deleted": {deletedText(res)}})
}

// deletedFlash shows what a deletion that led to this page removed (its
// ?deleted= text), or nil.
func deletedFlash(r *http.Request) *flash {
	if msg := r.URL.Query().Get("deleted"); msg != "" {
		return &flash{Kind: "success", Title: "Deleted", Message: msg}
	}
	return nil
}

// deletedText says what a deletion removed, and that posts on the
// platforms stay.
func deletedText(res outpost.DeleteResult) string {
	s := fmt.Sprintf("Deleted %d export(s) and %d file(s).", res.Exports, res.FilesDeleted)
	if res.PublicationsCanceled > 0 {
		s += fmt.Sprintf(" %d scheduled post(s) were canceled.", res.PublicationsCanceled)
	}
	if res.RemotePosts > 0 {
		s += fmt.Sprintf(" %d post(s) already on the platforms stay there: delete them on each platform if they must go.", res.RemotePosts)
	}
	return s
}

// — Invite links —

type inviteData struct {
	Token string
	outpost.InviteInfo
	SignedIn  *outpost.User
	MinChars  int
	Name      string
	EmailForm string
}

// invitePage shows an invite: accept it (signed in), sign in to accept it
// (an account with its email exists), or create an account with it.
func (h *Handler) invitePage(w http.ResponseWriter, r *http.Request) {
	v, _ := h.lookupViewer(r)
	if v != nil {
		r = r.WithContext(withViewer(r.Context(), v))
	}
	h.renderInvite(w, r, http.StatusOK, inviteData{}, nil)
}

func (h *Handler) renderInvite(w http.ResponseWriter, r *http.Request, status int, d inviteData, fl *flash) {
	token := r.PathValue("token")
	info, err := h.svc.Members.LookupInvite(r.Context(), token)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d.Token, d.InviteInfo, d.MinChars = token, info, outpost.MinPasswordLen
	if d.EmailForm == "" {
		d.EmailForm = info.Email
	}
	if v := viewerOf(r); v != nil {
		d.SignedIn = &v.User
	}
	h.render(w, r, status, "invite", page{Title: "Join " + info.Workspace, Data: d, Flash: fl, FlashInPage: true})
}

func (h *Handler) acceptInvite(w http.ResponseWriter, r *http.Request) error {
	if _, err := h.svc.Members.Accept(r.Context(), h.callerOf(r), r.PathValue("token")); err != nil {
		return err
	}
	http.Redirect(w, r, "/projects", http.StatusSeeOther)
	return nil
}

// joinInvite creates an account through the invite and signs it in.
func (h *Handler) joinInvite(w http.ResponseWriter, r *http.Request) {
	if err := form(w, r); err != nil {
		h.fail(w, r, err)
		return
	}
	d := inviteData{Name: strings.TrimSpace(r.PostFormValue("name")), EmailForm: strings.TrimSpace(r.PostFormValue("email"))}
	again := func(status int, e *errcode.Error) {
		h.renderInvite(w, r, status, d, &flash{Kind: "error", Message: e.Message, Remedy: e.RemedyText()})
	}
	pw := r.PostFormValue("password")
	if pw != r.PostFormValue("confirm") {
		again(http.StatusUnprocessableEntity, &errcode.Error{Code: errcode.InvalidOption, Message: "The two passwords differ.",
			Remedy: "Type the same password twice."})
		return
	}
	u, err := h.svc.Members.Join(r.Context(), r.PathValue("token"), d.EmailForm, d.Name, pw, h.ips.IP(r))
	if err != nil {
		if st := accountFormStatus(err); st != 0 {
			again(st, errcode.As(err))
			return
		}
		h.fail(w, r, err)
		return
	}
	h.signedIn(w, r, u, "/projects")
}
