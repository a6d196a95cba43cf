package ui

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"outpost/internal/authz"
	"outpost/internal/config"
	"outpost/internal/store"
)

// TestPageActions: every signed-in route (h.auth) says what it needs in
// pageActions, and the table names no route that is not registered.
func TestPageActions(t *testing.T) {
	t.Parallel()
	routeRE := regexp.MustCompile(`m\.Handle\("([^"]+)", h\.auth\(`)
	registered := map[string]bool{}
	for _, f := range []string{"ui.go", "settings.go"} {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range routeRE.FindAllStringSubmatch(string(src), -1) {
			registered[m[1]] = true
		}
	}
	if len(registered) < 40 {
		t.Fatalf("found %d signed-in routes: the pattern no longer matches the route table", len(registered))
	}
	for p := range registered {
		if _, ok := pageActions[p]; !ok {
			t.Errorf("%s has no entry in pageActions", p)
		}
	}
	for p := range pageActions {
		if !registered[p] {
			t.Errorf("pageActions has %s, which is no signed-in route", p)
		}
	}
}

// uiTeam is a workspace other than the default one with a signed-in browser
// per role.
type uiTeam struct {
	ws       store.Workspace
	users    map[authz.Role]store.User
	browsers map[authz.Role]*browser
}

func newUITeam(t *testing.T, e *env) uiTeam {
	t.Helper()
	ctx := t.Context()
	ws, err := e.store.CreateWorkspace(ctx, store.Workspace{Slug: "acme", Name: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	hash, err := hashForTest(testPassword)
	if err != nil {
		t.Fatal(err)
	}
	tm := uiTeam{ws: ws, users: map[authz.Role]store.User{}, browsers: map[authz.Role]*browser{}}
	for _, r := range authz.Roles {
		u, err := e.store.CreateUser(ctx, store.User{WorkspaceID: ws.ID, Email: string(r) + "@acme.example", PasswordHash: hash, Role: r})
		if err != nil {
			t.Fatal(err)
		}
		tm.users[r] = u
		b := e.browser()
		want(t, b.signIn(u.Email, testPassword), http.StatusSeeOther)
		tm.browsers[r] = b
	}
	return tm
}

// TestUI_roles: each role may take exactly the actions authz gives it,
// through the web UI's pages and forms; a refusal is 403 forbidden. On
// both engines.
func TestUI_roles(t *testing.T) {
	t.Parallel()
	for _, eng := range []store.Engine{store.SQLite, store.Postgres} {
		t.Run(string(eng), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envOptions{engine: eng})
			tm := newUITeam(t, e)
			prj, err := e.store.CreateProject(t.Context(), store.Project{WorkspaceID: tm.ws.ID, Name: "Master", Kind: store.ProjectUpload, Status: store.ProjectReady})
			if err != nil {
				t.Fatal(err)
			}
			// A live export: the owner's workspace deletion is refused
			// (conflict), so the probe can run again.
			if _, err := e.store.CreateExport(t.Context(), store.Export{WorkspaceID: tm.ws.ID, ProjectID: prj.ID, Status: store.ExportQueued}); err != nil {
				t.Fatal(err)
			}
			probes := []struct {
				action       authz.Action
				method, path string
				form         url.Values
				allowed      int
			}{
				{authz.View, "GET", "/history", nil, 200},
				{authz.View, "GET", "/settings/members", nil, 200},
				{authz.Export, "POST", "/exports/exp_missing/cancel", url.Values{}, 404},
				{authz.Publish, "POST", "/publications/pub_missing/cancel", url.Values{}, 404},
				{authz.ManagePresets, "POST", "/presets/pst_missing/delete", url.Values{}, 404},
				{authz.ManageConnections, "POST", "/connections/con_missing/disconnect", url.Values{}, 404},
				{authz.ManageWebhooks, "POST", "/webhooks/whk_missing/delete", url.Values{}, 404},
				{authz.ManageMembers, "POST", "/settings/invites", url.Values{"role": {"viewer"}}, 201},
				{authz.ManageKeys, "GET", "/settings/api-keys", nil, 200},
				{authz.Delete, "POST", "/exports/exp_missing/delete", url.Values{}, 404},
				{authz.ViewAudit, "GET", "/settings/audit", nil, 200},
				{authz.ExportData, "GET", "/settings/workspace/export", nil, 200},
				{authz.ManageWorkspace, "POST", "/settings/workspace/delete", url.Values{}, 409},
			}
			for _, p := range probes {
				for _, role := range authz.Roles {
					b := tm.browsers[role]
					var r resp
					if p.method == "GET" {
						r = b.get(p.path)
					} else {
						r = b.postForm(p.path, p.form)
					}
					if authz.RoleAllows(role, p.action) {
						if r.status != p.allowed {
							t.Errorf("%s, %s %s (%s): status %d, want %d", role, p.method, p.path, p.action, r.status, p.allowed)
						}
						continue
					}
					if r.status != http.StatusForbidden || !strings.Contains(r.body, "Not allowed") {
						t.Errorf("%s, %s %s (%s): status %d, want 403 Not allowed", role, p.method, p.path, p.action, r.status)
					}
				}
			}
			// The settings menu shows a role the pages it opens.
			menu := func(role authz.Role) string { return tm.browsers[role].get("/settings/notifications").body }
			if m := menu(authz.Viewer); strings.Contains(m, `href="/settings/api-keys"`) || strings.Contains(m, `href="/settings/audit"`) {
				t.Error("a viewer's settings menu offers API keys or the audit log")
			}
			if m := menu(authz.Admin); !strings.Contains(m, `href="/settings/api-keys"`) || !strings.Contains(m, `href="/settings/audit"`) {
				t.Error("an admin's settings menu lacks API keys or the audit log")
			}
		})
	}
}

// TestUI_signInThrottle: failed sign-ins are limited per address (429 with
// Retry-After, recorded in the database so that a restarted server holds
// it too) and slowed per account only for addresses that failed; the owner
// signing in from a clean address passes during someone else's spraying.
// On both engines.
func TestUI_signInThrottle(t *testing.T) {
	t.Parallel()
	for _, eng := range []store.Engine{store.SQLite, store.Postgres} {
		t.Run(string(eng), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envOptions{engine: eng, admin: "ada@example.com", configure: func(c *config.Config) {
				c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
			}})
			signIn := func(ip, email, password string) resp {
				b := e.browser()
				return b.postForm("/signin", url.Values{"email": {email}, "password": {password}}, "X-Forwarded-For", ip)
			}
			// Spraying across emails from one address: 10 failures lock it.
			for i := range 10 {
				want(t, signIn("203.0.113.9", []string{"ada@example.com", "bob@example.com"}[i%2], "guess"), http.StatusUnauthorized)
			}
			r := signIn("203.0.113.9", "ada@example.com", testPassword)
			want(t, r, http.StatusTooManyRequests)
			if ra := r.header.Get("Retry-After"); ra == "" || !strings.Contains(r.body, "Too many failed sign-ins") {
				t.Errorf("lockout: Retry-After %q, body explains: %v", ra, strings.Contains(r.body, "Too many"))
			}
			// The owner, from a clean address, passes meanwhile.
			want(t, signIn("198.51.100.7", "ada@example.com", testPassword), http.StatusSeeOther)

			// Per account: past 5 failures (the spray's and these, from
			// several addresses) an address that failed is slowed, for up
			// to a minute after the account's last failure; a clean one
			// is not.
			for i := range 10 {
				want(t, signIn(fmt.Sprintf("192.0.2.%d", i+1), "ada@example.com", "wrong"), http.StatusUnauthorized)
			}
			r = signIn("192.0.2.1", "ada@example.com", testPassword)
			want(t, r, http.StatusTooManyRequests)
			if r.header.Get("Retry-After") == "" || !strings.Contains(r.body, "slowed") {
				t.Errorf("slowed account: Retry-After %q", r.header.Get("Retry-After"))
			}
			want(t, signIn("198.51.100.8", "ada@example.com", testPassword), http.StatusSeeOther)

			// A restarted server (a new UI over the same database) keeps
			// the lockout.
			again, err := New(Deps{Config: e.cfg, Services: e.svc})
			if err != nil {
				t.Fatal(err)
			}
			req, _ := http.NewRequestWithContext(t.Context(), "POST", "/signin", strings.NewReader(url.Values{"email": {"ada@example.com"},
				"password": {testPassword}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-Forwarded-For", "203.0.113.9")
			req.RemoteAddr = "127.0.0.1:1234"
			rec := httptest.NewRecorder()
			again.ServeHTTP(rec, req)
			if rec.Code != http.StatusTooManyRequests {
				t.Errorf("after a restart the locked address got %d", rec.Code)
			}

			pg, err := e.store.ListAuditEvents(t.Context(), store.AuditFilter{WorkspaceID: "", Action: store.AuditSignInLocked})
			if err != nil || len(pg.Events) != 1 || pg.Events[0].IP != "203.0.113.9" {
				t.Errorf("lockout audit %+v, %v", pg.Events, err)
			}
			pg, err = e.store.ListAuditEvents(t.Context(), store.AuditFilter{WorkspaceID: e.ws.ID, Action: store.AuditSignIn})
			if err != nil || len(pg.Events) != 2 {
				t.Errorf("sign-in audit %+v, %v", pg.Events, err)
			}
		})
	}
}

// TestUI_settings: the settings pages' flows as an owner: an invite link
// accepted by a new person (who then sees the workspace and can switch
// workspaces), an API key created (its secret shown once) and revoked,
// the audit log, notification preferences without SMTP, the data export,
// and deleting an export with the note that posts on the platforms stay.
func TestUI_settings(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{admin: "ada@example.com"})
	ctx := t.Context()
	ada := e.browser()
	want(t, ada.signIn("ada@example.com", testPassword), http.StatusSeeOther)
	want(t, ada.get("/settings"), http.StatusSeeOther)
	r := ada.get("/settings/workspace")
	want(t, r, http.StatusOK)
	if !strings.Contains(r.body, "Workspaces of this instance") || !strings.Contains(r.body, "Download the data export") {
		t.Errorf("the instance admin's workspace page lacks its sections")
	}

	want(t, ada.postForm("/settings/workspace/rename", url.Values{"name": {"Agency"}}), http.StatusSeeOther)
	if w, _ := e.store.GetWorkspace(ctx, e.ws.ID); w.Name != "Agency" {
		t.Errorf("renamed to %q", w.Name)
	}

	// Invite by link, accepted by a new person who makes an account.
	r = ada.postForm("/settings/invites", url.Values{"role": {"member"}})
	want(t, r, http.StatusCreated)
	link := regexp.MustCompile(`id="invite-link"[^>]*>([^<]+)<`).FindStringSubmatch(r.body)
	if link == nil || !strings.Contains(r.body, "email-not-configured") {
		t.Fatalf("no invite link (or no note that email is off) on the page")
	}
	u, _ := url.Parse(link[1])
	zoe := e.browser()
	r = zoe.get(u.Path)
	want(t, r, http.StatusOK)
	if !strings.Contains(r.body, "Join Agency") || !strings.Contains(r.body, `id="join-form"`) {
		t.Fatalf("invite page: %s", r.body)
	}
	want(t, zoe.postForm(u.Path+"/join", url.Values{"email": {"zoe@example.com"}, "name": {"Zoe"},
		"password": {"short"}, "confirm": {"short"}}), http.StatusUnprocessableEntity)
	want(t, zoe.postForm(u.Path+"/join", url.Values{"email": {"zoe@example.com"}, "name": {"Zoe"},
		"password": {testPassword}, "confirm": {testPassword}}), http.StatusSeeOther)
	want(t, zoe.get("/projects"), http.StatusOK)
	r = zoe.get("/settings/members")
	want(t, r, http.StatusOK)
	if !strings.Contains(r.body, "ada@example.com") || !strings.Contains(r.body, "zoe@example.com") || strings.Contains(r.body, `id="invite-form"`) {
		t.Errorf("a member's members page")
	}
	want(t, zoe.get(u.Path), http.StatusGone) // used up

	// A second workspace: Ada creates it, the header offers a switch.
	want(t, ada.postForm("/settings/workspaces", url.Values{"name": {"Acme Corp"}}), http.StatusSeeOther)
	r = ada.get("/projects")
	if !strings.Contains(r.body, `id="ws-switch"`) || !strings.Contains(r.body, "Acme Corp") {
		t.Errorf("no workspace switcher in the header")
	}
	acme, err := e.store.GetWorkspaceBySlug(ctx, "acme-corp")
	if err != nil {
		t.Fatal(err)
	}
	want(t, ada.postForm("/settings/workspace/switch", url.Values{"workspace_id": {e.ws.ID}, "next": {"/projects"}}), http.StatusSeeOther)
	if u, _ := e.store.GetUserByEmail(ctx, "ada@example.com"); u.WorkspaceID != e.ws.ID {
		t.Errorf("switch: ada is in %s", u.WorkspaceID)
	}
	want(t, zoe.postForm("/settings/workspace/switch", url.Values{"workspace_id": {acme.ID}}), http.StatusNotFound)
	want(t, zoe.postForm("/settings/workspaces", url.Values{"name": {"Mine"}}), http.StatusForbidden)

	// API keys: the secret once, then revoked.
	r = ada.postForm("/settings/api-keys", url.Values{"name": {"ci"}, "scopes": {"read", "export"}})
	want(t, r, http.StatusCreated)
	secret := regexp.MustCompile(`id="key-secret"[^>]*>(opk_[^<]+)<`).FindStringSubmatch(r.body)
	if secret == nil {
		t.Fatal("no secret on the page")
	}
	want(t, zoe.do("GET", "/api/v1/exports", nil, "Authorization", "Bearer "+secret[1]), http.StatusOK)
	r = ada.get("/settings/api-keys")
	if strings.Contains(r.body, secret[1]) {
		t.Error("the secret is shown again")
	}
	keyID := regexp.MustCompile(`id="key-(key_[a-z0-9]+)" data-name="ci"`).FindStringSubmatch(r.body)
	if keyID == nil {
		t.Fatal("the key is not listed")
	}
	want(t, ada.postForm("/settings/api-keys/"+keyID[1]+"/revoke", nil), http.StatusSeeOther)
	want(t, zoe.do("GET", "/api/v1/exports", nil, "Authorization", "Bearer "+secret[1]), http.StatusUnauthorized)

	// The audit log shows what happened.
	r = ada.get("/settings/audit")
	for _, a := range []string{"invite.created", "member.joined", "api_key.created", "api_key.revoked", "signin"} {
		if !strings.Contains(r.body, `data-action="`+a+`"`) {
			t.Errorf("audit page lacks %s", a)
		}
	}

	// Notifications: no SMTP here, and the page says so.
	r = zoe.get("/settings/notifications")
	if !strings.Contains(r.body, "Email is not configured on this server") {
		t.Error("the notifications page does not say email is off")
	}
	want(t, zoe.postForm("/settings/notifications", url.Values{"export_failed": {"on"}}), http.StatusSeeOther)
	zu, _ := e.store.GetUserByEmail(ctx, "zoe@example.com")
	if p, _ := e.store.NotificationPrefs(ctx, zu.ID); p["export_failed"] != true || p["export_succeeded"] != false {
		t.Errorf("saved prefs %v", p)
	}

	// The data export downloads.
	r = ada.get("/settings/workspace/export")
	want(t, r, http.StatusOK)
	if r.header.Get("Content-Type") != "application/zip" || !strings.HasPrefix(r.body, "PK") {
		t.Errorf("data export: %s", r.header.Get("Content-Type"))
	}

	// Deleting an export: refused for a member, done for the owner, and
	// the flash says posts on the platforms stay.
	prj, err := e.store.CreateProject(ctx, store.Project{WorkspaceID: e.ws.ID, Name: "Master", Kind: store.ProjectUpload, Status: store.ProjectReady})
	if err != nil {
		t.Fatal(err)
	}
	x, err := e.store.CreateExport(ctx, store.Export{WorkspaceID: e.ws.ID, ProjectID: prj.ID, Status: store.ExportSucceeded})
	if err != nil {
		t.Fatal(err)
	}
	want(t, zoe.postForm("/exports/"+x.ID+"/delete", nil), http.StatusForbidden)
	r = ada.postForm("/exports/"+x.ID+"/delete", nil)
	want(t, r, http.StatusSeeOther)
	if loc := r.header.Get("Location"); !strings.HasPrefix(loc, "/history?deleted=") {
		t.Errorf("after deleting: %s", loc)
	}
	r = ada.get("/exports/" + x.ID)
	want(t, r, http.StatusNotFound)
	want(t, ada.postForm("/projects/"+prj.ID+"/delete", nil), http.StatusSeeOther)

	// Leaving, then deleting one's account.
	want(t, zoe.postForm("/settings/members/"+zu.ID+"/remove", nil), http.StatusSeeOther)
	want(t, zoe.postForm("/settings/account/delete", url.Values{"confirm_email": {"wrong@example.com"}}), http.StatusBadRequest)
	want(t, zoe.postForm("/settings/account/delete", url.Values{"confirm_email": {"zoe@example.com"}}), http.StatusSeeOther)
	if _, err := e.store.GetUserByEmail(ctx, "zoe@example.com"); err == nil {
		t.Error("zoe's account still exists")
	}
	if ws, _ := e.store.ListUserWorkspaces(ctx, zu.ID); len(ws) != 0 || slices.ContainsFunc(ws, func(w store.UserWorkspace) bool { return w.ID == e.ws.ID }) {
		t.Errorf("zoe's memberships: %+v", ws)
	}
}
