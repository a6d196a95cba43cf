package web

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"outpost/internal/authz"
	"outpost/internal/outpost"
	"outpost/internal/plan"
	"outpost/internal/service"
	"outpost/internal/store"
	"outpost/internal/waitfor"
)

// forEachEngine runs fn as a parallel subtest per database engine.
func forEachEngine(t *testing.T, fn func(t *testing.T, eng store.Engine)) {
	for _, eng := range []store.Engine{store.SQLite, store.Postgres} {
		t.Run(string(eng), func(t *testing.T) {
			t.Parallel()
			fn(t, eng)
		})
	}
}

// TestRouteActions: every authenticated route says what it needs, and the
// table names no route that does not exist.
func TestRouteActions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	seen := map[string]bool{}
	for _, rt := range e.srv.routes {
		if rt.Public {
			continue
		}
		seen[rt.pattern()] = true
		if _, err := routeAction(rt.pattern()); err != nil {
			t.Error(err)
		}
	}
	for p := range routeActions {
		if !seen[p] {
			t.Errorf("routeActions has %s, which is no authenticated route", p)
		}
	}
}

// team is a workspace other than the default one (so that nobody in it is
// the instance admin) with a signed-in member of each role and an API key
// of each scope.
type team struct {
	ws       store.Workspace
	users    map[authz.Role]store.User
	sessions map[authz.Role]string
	keys     map[authz.Scope]string
}

func newTeam(t *testing.T, e *env, slug string) team {
	t.Helper()
	ctx := t.Context()
	ws, err := e.store.CreateWorkspace(ctx, store.Workspace{Slug: slug, Name: strings.ToUpper(slug[:1]) + slug[1:]})
	if err != nil {
		t.Fatal(err)
	}
	tm := team{ws: ws, users: map[authz.Role]store.User{}, sessions: map[authz.Role]string{}, keys: map[authz.Scope]string{}}
	for _, r := range authz.Roles {
		u, err := e.store.CreateUser(ctx, store.User{WorkspaceID: ws.ID, Email: string(r) + "@" + slug + ".example", PasswordHash: "x", Role: r})
		if err != nil {
			t.Fatal(err)
		}
		tm.users[r] = u
		if tm.sessions[r], _, err = e.svc.Accounts.StartSession(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
	}
	for _, sc := range authz.Scopes {
		if _, tm.keys[sc], err = e.store.IssueAPIKey(ctx, store.APIKey{WorkspaceID: ws.ID, Name: string(sc), Scopes: []authz.Scope{sc}}); err != nil {
			t.Fatal(err)
		}
	}
	return tm
}

// as is a request made in the session of token (the UI's cookie).
func as(token string, rq request) request {
	if rq.header == nil {
		rq.header = map[string]string{}
	}
	rq.header["Cookie"] = sessionCookie + "=" + token
	return rq
}

// TestAPI_roles: each role (signed in) and each API key scope may take
// exactly the actions authz gives it, through the API; a refusal is 403
// forbidden, naming what is missing. On both engines.
func TestAPI_roles(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, eng store.Engine) {
		e := newEnvOn(t, eng, false, nil)
		tm := newTeam(t, e, "acme")
		// A live export, so that an owner's workspace deletion is
		// refused (conflict) rather than done: the probe stays
		// repeatable.
		prj := e.readyProject(tm.ws.ID, "Master")
		if _, err := e.store.CreateExport(t.Context(), store.Export{WorkspaceID: tm.ws.ID, ProjectID: prj.ID, Status: store.ExportQueued}); err != nil {
			t.Fatal(err)
		}
		// Each action with a request that succeeds (or fails for
		// another reason than permission) when it is allowed.
		probes := []struct {
			action       authz.Action
			method, path string
			body         any
			allowed      int
		}{
			{authz.View, "GET", "/api/v1/exports", nil, 200},
			{authz.View, "GET", "/api/v1/members", nil, 200},
			{authz.Export, "POST", "/api/v1/exports", map[string]any{}, 400},
			{authz.Publish, "POST", "/api/v1/publications/pub_missing/cancel", nil, 404},
			{authz.ManagePresets, "POST", "/api/v1/presets", map[string]any{}, 400},
			{authz.ManageConnections, "DELETE", "/api/v1/connections/con_missing", nil, 404},
			{authz.ManageWebhooks, "POST", "/api/v1/webhooks", map[string]any{}, 400},
			{authz.ManageMembers, "POST", "/api/v1/invites", map[string]any{"role": "viewer"}, 201},
			{authz.ManageKeys, "GET", "/api/v1/api-keys", nil, 200},
			{authz.Delete, "DELETE", "/api/v1/exports/exp_missing", nil, 404},
			{authz.ViewAudit, "GET", "/api/v1/audit", nil, 200},
			{authz.ExportData, "GET", "/api/v1/export-data", nil, 200},
			{authz.ManageWorkspace, "DELETE", "/api/v1/workspaces/" + tm.ws.ID, nil, 409},
		}
		type principal struct {
			name    string
			allows  func(authz.Action) bool
			request func(request) request
		}
		var ps []principal
		for _, r := range authz.Roles {
			ps = append(ps, principal{"role " + string(r), func(a authz.Action) bool { return authz.RoleAllows(r, a) },
				func(rq request) request { return as(tm.sessions[r], rq) }})
		}
		for _, sc := range authz.Scopes {
			ps = append(ps, principal{"key " + string(sc), func(a authz.Action) bool { return authz.ScopesAllow([]authz.Scope{sc}, a) },
				func(rq request) request { rq.key = tm.keys[sc]; return rq }})
		}
		for _, p := range probes {
			for _, who := range ps {
				r := e.do(who.request(request{method: p.method, path: p.path, json: p.body}))
				if who.allows(p.action) {
					if r.status != p.allowed {
						t.Errorf("%s, %s %s (%s): status %d, want %d: %s", who.name, p.method, p.path, p.action, r.status, p.allowed, r.body)
					}
					continue
				}
				if r.status != http.StatusForbidden || r.errorCode(t) != "forbidden" {
					t.Errorf("%s, %s %s (%s): status %d, want 403 forbidden: %s", who.name, p.method, p.path, p.action, r.status, r.body)
				}
			}
		}
		// A browser without a session, and a request with its session
		// from another site, are refused.
		wantError(t, e.do(request{method: "GET", path: "/api/v1/exports"}), 401, "unauthorized")
		wantError(t, e.do(as(tm.sessions[authz.Owner], request{method: "POST", path: "/api/v1/invites", json: map[string]any{"role": "viewer"},
			header: map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}})), 403, "forbidden")
	})
}

// secondNode is another API server over the same database: a node of a
// cluster.
func (e *env) secondNode(t *testing.T) string {
	t.Helper()
	svc, err := service.New(service.Options{Store: e.store, Blob: e.blob, Events: e.broker, Jobs: e.jobs,
		TmpDir: t.TempDir(), PublicURL: e.cfg.PublicURL})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Deps{Config: e.cfg, Services: svc})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return ts.URL
}

func statusAt(t *testing.T, base, key string) int {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), "GET", base+"/api/v1/exports", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// TestAPI_keyLifecycle: a key is made with its secret shown once, listed
// with its prefix, scopes and last use, refused at once on every node when
// revoked, and a rotated key's old secret works until its grace period
// ends. Every change is in the audit log. On both engines.
func TestAPI_keyLifecycle(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, eng store.Engine) {
		e := newEnvOn(t, eng, false, nil)
		other := e.secondNode(t)
		r := e.post("/api/v1/api-keys", map[string]any{"name": "ci", "scopes": []string{"read", "export"}})
		want(t, r, http.StatusCreated)
		var k outpost.NewAPIKey
		r.json(t, &k)
		if !strings.HasPrefix(k.Secret, "opk_") || k.Prefix != k.Secret[:8] || !slices.Equal(k.Scopes, []authz.Scope{"read", "export"}) || k.State != "active" {
			t.Fatalf("created key %+v", k)
		}
		for _, base := range []string{e.ts.URL, other} {
			if st := statusAt(t, base, k.Secret); st != http.StatusOK {
				t.Fatalf("new key at %s: %d", base, st)
			}
		}
		// A read+export key may not manage keys.
		wantError(t, e.do(request{method: "GET", path: "/api/v1/api-keys", key: k.Secret}), 403, "forbidden")

		var list page[outpost.APIKeyInfo]
		r = e.get("/api/v1/api-keys")
		want(t, r, http.StatusOK)
		r.json(t, &list)
		i := slices.IndexFunc(list.Data, func(x outpost.APIKeyInfo) bool { return x.ID == k.ID })
		if i < 0 || list.Data[i].LastUsedAt == nil || list.Data[i].Prefix != k.Prefix || strings.Contains(string(r.body), k.Secret) {
			t.Fatalf("list = %s", r.body)
		}

		// Revoked: 401 at once, here and on the other node.
		want(t, e.post("/api/v1/api-keys/"+k.ID+"/revoke", nil), http.StatusOK)
		for _, base := range []string{e.ts.URL, other} {
			if st := statusAt(t, base, k.Secret); st != http.StatusUnauthorized {
				t.Errorf("revoked key at %s: %d, want 401", base, st)
			}
		}
		// Another workspace's key cannot be revoked from here.
		okey, _ := e.store.LookupAPIKey(t.Context(), e.okey)
		wantError(t, e.post("/api/v1/api-keys/"+okey.ID+"/revoke", nil), 404, "not_found")

		// Rotated with a grace period: both secrets work, then the
		// old one stops on every node.
		r = e.post("/api/v1/api-keys", map[string]any{"name": "deploy", "scopes": []string{"admin"}})
		want(t, r, http.StatusCreated)
		var old outpost.NewAPIKey
		r.json(t, &old)
		r = e.post("/api/v1/api-keys/"+old.ID+"/rotate", map[string]any{"grace": "2s"})
		want(t, r, http.StatusCreated)
		var repl outpost.NewAPIKey
		r.json(t, &repl)
		if repl.Secret == old.Secret || repl.Name != "deploy" || !slices.Equal(repl.Scopes, old.Scopes) {
			t.Fatalf("replacement %+v", repl)
		}
		for _, base := range []string{e.ts.URL, other} {
			if st := statusAt(t, base, old.Secret); st != http.StatusOK {
				t.Errorf("old key in its grace period at %s: %d", base, st)
			}
		}
		waitfor.True(t, 15*time.Second, func() bool { return statusAt(t, other, old.Secret) == http.StatusUnauthorized },
			"the old key still works after its grace period")
		if st := statusAt(t, e.ts.URL, old.Secret); st != http.StatusUnauthorized {
			t.Errorf("old key after the grace period: %d", st)
		}
		if st := statusAt(t, e.ts.URL, repl.Secret); st != http.StatusOK {
			t.Errorf("replacement: %d", st)
		}
		wantError(t, e.post("/api/v1/api-keys/"+old.ID+"/rotate", nil), 409, "conflict")
		wantError(t, e.post("/api/v1/api-keys/"+repl.ID+"/rotate", map[string]any{"grace": "soon"}), 400, "invalid_option")
		// Grace 0: the old secret stops at once.
		r = e.post("/api/v1/api-keys/"+repl.ID+"/rotate", map[string]any{"grace": "0"})
		want(t, r, http.StatusCreated)
		if st := statusAt(t, other, repl.Secret); st != http.StatusUnauthorized {
			t.Errorf("key rotated with no grace: %d", st)
		}

		var audit page[outpost.AuditEvent]
		e.get("/api/v1/audit?limit=500").json(t, &audit)
		var actions []string
		for _, ev := range audit.Data {
			actions = append(actions, ev.Action)
		}
		for _, a := range []string{"api_key.created", "api_key.revoked", "api_key.rotated"} {
			if !slices.Contains(actions, a) {
				t.Errorf("audit log lacks %s: %v", a, actions)
			}
		}
	})
}

// TestAPI_keyGuessing: after N bad keys a minute from one address, that
// address gets 429 with Retry-After (a good key too), while other
// addresses are served; the lockout is audited once.
func TestAPI_keyGuessing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(e *env, d *Deps, o *service.Options) {
		o.APIKeyGuessLimit = 3
		e.cfg.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	})
	from := func(ip, key string) resp {
		return e.do(request{method: "GET", path: "/api/v1/exports", key: key, header: map[string]string{"X-Forwarded-For": ip}})
	}
	for i := range 3 {
		wantError(t, from("203.0.113.9", fmt.Sprintf("opk_guess_%d", i)), 401, "unauthorized")
	}
	r := from("203.0.113.9", "opk_guess_x")
	wantError(t, r, 429, "rate_limited")
	if ra := r.header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Errorf("Retry-After %q", ra)
	}
	wantError(t, from("203.0.113.9", e.key), 429, "rate_limited")
	want(t, from("198.51.100.7", e.key), http.StatusOK)
	pg, err := e.store.ListAuditEvents(t.Context(), store.AuditFilter{WorkspaceID: "", Action: store.AuditAPIKeyGuessLocked})
	if err != nil || len(pg.Events) != 1 || pg.Events[0].IP != "203.0.113.9" {
		t.Errorf("guess lockout audit = %+v, %v", pg.Events, err)
	}
}

// TestAPI_members: invites by link, accepting as a signed-in user, the
// role rules (admins make no owners, a workspace keeps an owner), removing
// and leaving, all audited. On both engines.
func TestAPI_members(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, eng store.Engine) {
		e := newEnvOn(t, eng, false, nil)
		tm := newTeam(t, e, "acme")
		owner, admin := tm.sessions[authz.Owner], tm.sessions[authz.Admin]
		call := func(token, method, path string, body any) resp {
			return e.do(as(token, request{method: method, path: path, json: body}))
		}
		// An admin may not invite an owner; an owner may.
		wantError(t, call(admin, "POST", "/api/v1/invites", map[string]any{"role": "owner"}), 403, "forbidden")
		r := call(admin, "POST", "/api/v1/invites", map[string]any{"role": "member", "email": "Zoe@Example.com"})
		want(t, r, http.StatusCreated)
		var inv outpost.Invite
		r.json(t, &inv)
		if !strings.HasPrefix(inv.Link, e.cfg.PublicURL+"/invite/") || inv.Email != "zoe@example.com" || inv.Emailed {
			t.Fatalf("invite %+v", inv)
		}
		// Email needs SMTP settings.
		wantError(t, call(admin, "POST", "/api/v1/invites", map[string]any{"role": "member", "email": "x@example.com", "send_email": true}),
			422, "email_not_configured")
		token := inv.Link[strings.LastIndex(inv.Link, "/")+1:]

		// Zoe has an account in another workspace; she accepts.
		zoe, err := e.store.CreateUser(t.Context(), store.User{WorkspaceID: e.ws.ID, Email: "zoe@example.com", PasswordHash: "x", Role: authz.Viewer})
		if err != nil {
			t.Fatal(err)
		}
		zs, _, _ := e.svc.Accounts.StartSession(t.Context(), zoe.ID)
		// Someone else cannot use an invite meant for her.
		wantError(t, call(tm.sessions[authz.Viewer], "POST", "/api/v1/invites/accept", map[string]any{"token": token}), 410, "invite_invalid")
		want(t, call(zs, "POST", "/api/v1/invites/accept", map[string]any{"token": token}), http.StatusOK)
		wantError(t, call(zs, "POST", "/api/v1/invites/accept", map[string]any{"token": token}), 410, "invite_invalid")
		// She is in acme now, as a member, and sees its members.
		var ws outpost.WorkspaceList
		call(zs, "GET", "/api/v1/workspaces", nil).json(t, &ws)
		if len(ws.Workspaces) != 2 || ws.InstanceAdmin {
			t.Fatalf("zoe's workspaces %+v", ws)
		}
		for _, w := range ws.Workspaces {
			if w.Current != (w.ID == tm.ws.ID) {
				t.Errorf("current workspace: %+v", ws.Workspaces)
			}
		}
		var ml outpost.MemberList
		call(zs, "GET", "/api/v1/members", nil).json(t, &ml)
		if len(ml.Members) != 5 || len(ml.Invites) != 0 {
			t.Errorf("members as zoe: %+v", ml)
		}
		// Switch back and forth.
		want(t, call(zs, "POST", "/api/v1/workspaces/"+e.ws.ID+"/switch", nil), http.StatusOK)
		want(t, call(zs, "POST", "/api/v1/workspaces/"+tm.ws.ID+"/switch", nil), http.StatusOK)
		wantError(t, call(zs, "POST", "/api/v1/workspaces/"+e.other.ID+"/switch", nil), 404, "not_found")
		// Keys have no workspaces to switch to.
		wantError(t, e.do(request{method: "POST", path: "/api/v1/workspaces/" + e.ws.ID + "/switch", key: e.key}), 403, "forbidden")

		// Only an owner renames the workspace.
		wantError(t, call(admin, "PATCH", "/api/v1/workspaces/"+tm.ws.ID, map[string]any{"name": "Acme Inc"}), 403, "forbidden")
		r = call(owner, "PATCH", "/api/v1/workspaces/"+tm.ws.ID, map[string]any{"name": "Acme Inc"})
		want(t, r, http.StatusOK)
		if w, _ := e.store.GetWorkspace(t.Context(), tm.ws.ID); w.Name != "Acme Inc" || w.Slug != "acme" {
			t.Errorf("renamed workspace %+v", w)
		}

		// Roles: admins change members' roles but not owners'.
		want(t, call(admin, "PATCH", "/api/v1/members/"+zoe.ID, map[string]any{"role": "viewer"}), http.StatusOK)
		wantError(t, call(admin, "PATCH", "/api/v1/members/"+zoe.ID, map[string]any{"role": "owner"}), 403, "forbidden")
		wantError(t, call(admin, "PATCH", "/api/v1/members/"+tm.users[authz.Owner].ID, map[string]any{"role": "member"}), 403, "forbidden")
		// The last owner stays an owner.
		wantError(t, call(owner, "PATCH", "/api/v1/members/"+tm.users[authz.Owner].ID, map[string]any{"role": "admin"}), 409, "conflict")
		wantError(t, call(owner, "DELETE", "/api/v1/members/"+tm.users[authz.Owner].ID, nil), 409, "conflict")
		// A viewer may leave but not remove anyone.
		wantError(t, call(tm.sessions[authz.Viewer], "DELETE", "/api/v1/members/"+zoe.ID, nil), 403, "forbidden")
		want(t, call(zs, "DELETE", "/api/v1/members/"+zoe.ID, nil), http.StatusNoContent)
		// A removed member's session no longer sees the workspace.
		if u, _ := e.store.GetUser(t.Context(), zoe.ID); u.WorkspaceID != e.ws.ID {
			t.Errorf("zoe after leaving is in %s", u.WorkspaceID)
		}
		want(t, call(admin, "DELETE", "/api/v1/members/"+tm.users[authz.Member].ID, nil), http.StatusNoContent)

		var audit page[outpost.AuditEvent]
		call(owner, "GET", "/api/v1/audit?limit=100", nil).json(t, &audit)
		got := map[string]int{}
		for _, ev := range audit.Data {
			got[ev.Action]++
		}
		for _, a := range []string{"invite.created", "member.joined", "member.role_changed", "member.removed", "workspace.renamed"} {
			if got[a] == 0 {
				t.Errorf("audit log lacks %s: %v", a, got)
			}
		}
	})
}

// TestAPI_plans: the instance admin sets a workspace's limits; exports over
// them are refused with plan_limit naming the limit.
func TestAPI_plans(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tm := newTeam(t, e, "acme")
	ctx := t.Context()
	root, err := e.store.CreateUser(ctx, store.User{WorkspaceID: e.ws.ID, Email: "root@example.com", PasswordHash: "x", Role: authz.Owner})
	if err != nil {
		t.Fatal(err)
	}
	rs, _, _ := e.svc.Accounts.StartSession(ctx, root.ID)
	setPlan := func(token string, l plan.Limits) resp {
		return e.do(as(token, request{method: "PUT", path: "/api/v1/workspaces/" + tm.ws.ID + "/plan", json: l}))
	}
	// The workspace's own owner is not the instance admin.
	wantError(t, setPlan(tm.sessions[authz.Owner], plan.Limits{MaxResolution: 1080}), 403, "forbidden")
	r := setPlan(rs, plan.Limits{MaxResolution: 1080, BatchDisabled: true, VariantsDisabled: true, MaxConcurrentExports: 1})
	want(t, r, http.StatusOK)
	key := tm.keys[authz.ScopeAdmin]
	var p outpost.Plan
	e.do(request{method: "GET", path: "/api/v1/workspaces/current/plan", key: key}).json(t, &p)
	if p.MaxResolution != 1080 || p.MaxConcurrentExports != 1 || p.Usage.ActiveExports != 0 {
		t.Fatalf("plan %+v", p)
	}

	prj := e.readyProject(tm.ws.ID, "Master")
	export := func(body map[string]any) resp {
		return e.do(request{method: "POST", path: "/api/v1/exports", key: key, json: body})
	}
	tgt := func(ids ...string) []map[string]any {
		var out []map[string]any
		for _, id := range ids {
			out = append(out, map[string]any{"preset": id})
		}
		return out
	}
	planLimit := func(r resp, limit string) {
		t.Helper()
		wantError(t, r, 403, "plan_limit")
		if !strings.Contains(string(r.body), limit) {
			t.Errorf("plan_limit does not name %s: %s", limit, r.body)
		}
	}
	planLimit(export(map[string]any{"project_id": prj.ID, "targets": tgt("youtube-1080p", "youtube-4k")}), "max_resolution")
	planLimit(export(map[string]any{"project_id": prj.ID, "targets": tgt("tiktok"),
		"variants": []map[string]any{{"name": "A"}, {"name": "B", "targets": tgt("youtube-1080p")}}}), "variants")
	r = e.do(request{method: "POST", path: "/api/v1/exports/batch", key: key, json: map[string]any{"exports": []map[string]any{
		{"project_id": prj.ID, "targets": tgt("tiktok")}}}})
	want(t, r, http.StatusMultiStatus)
	if !strings.Contains(string(r.body), `"plan_limit"`) || !strings.Contains(string(r.body), "batch") {
		t.Errorf("batch over the plan: %s", r.body)
	}
	want(t, export(map[string]any{"project_id": prj.ID, "targets": tgt("youtube-1080p", "tiktok")}), http.StatusAccepted)
	planLimit(export(map[string]any{"project_id": prj.ID, "targets": tgt("tiktok")}), "max_concurrent_exports")

	// Stored bytes: the project's 1000 bytes are over a 500-byte plan.
	want(t, setPlan(rs, plan.Limits{MaxStoredBytes: 500}), http.StatusOK)
	planLimit(export(map[string]any{"project_id": prj.ID, "targets": tgt("tiktok")}), "max_stored_bytes")
	// Unlimited again.
	want(t, setPlan(rs, plan.Limits{}), http.StatusOK)
	want(t, export(map[string]any{"project_id": prj.ID, "targets": tgt("youtube-4k")}), http.StatusAccepted)
	wantError(t, setPlan(rs, plan.Limits{MaxResolution: -1}), 400, "invalid_option")
}

// TestAPI_dataExportAndDeletions: the data export is a zip of the
// workspace's records; an export and a project are deleted with their
// files (a scheduled post needing a file stops it unless forced), and a
// workspace with everything in it.
func TestAPI_dataExportAndDeletions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	r := e.get("/api/v1/export-data")
	want(t, r, http.StatusOK)
	if ct := r.header.Get("Content-Type"); ct != "application/zip" || !strings.Contains(r.header.Get("Content-Disposition"), "outpost-default-") {
		t.Errorf("headers %v", r.header)
	}
	zr, err := zip.NewReader(bytes.NewReader(r.body), int64(len(r.body)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	if !slices.Contains(names, "manifest.json") || !slices.Contains(names, "members.json") {
		t.Errorf("zip holds %v", names)
	}

	// A project with a finished export whose file is stored.
	prj := e.readyProject(e.ws.ID, "Master")
	if _, err := e.blob.Put(ctx, prj.SourceKey, strings.NewReader("source"), "video/mp4"); err != nil {
		t.Fatal(err)
	}
	ex, err := e.store.CreateExport(ctx, store.Export{WorkspaceID: e.ws.ID, ProjectID: prj.ID, Status: store.ExportSucceeded, PresetIDs: []string{"tiktok"}})
	if err != nil {
		t.Fatal(err)
	}
	key := "renditions/" + ex.ID + "/tiktok.mp4"
	if _, err := e.blob.Put(ctx, key, strings.NewReader("video"), "video/mp4"); err != nil {
		t.Fatal(err)
	}
	rd, err := e.store.CreateRendition(ctx, store.Rendition{ExportID: ex.ID, PresetID: "tiktok", Status: store.RenditionSucceeded, BlobKey: key})
	if err != nil {
		t.Fatal(err)
	}
	con, err := e.store.UpsertConnection(ctx, store.Connection{WorkspaceID: e.ws.ID, Platform: "tiktok", AccountID: "a", AccountName: "Acme", AccessToken: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	when := time.Now().Add(time.Hour)
	if _, err := e.store.CreatePublication(ctx, store.Publication{WorkspaceID: e.ws.ID, ExportID: ex.ID, RenditionID: rd.ID,
		ConnectionID: con.ID, Platform: "tiktok", Metadata: json.RawMessage(`{}`), ScheduleAt: &when}); err != nil {
		t.Fatal(err)
	}
	r = e.do(request{method: "DELETE", path: "/api/v1/exports/" + ex.ID, key: e.key})
	wantError(t, r, 409, "conflict")
	if !strings.Contains(string(r.body), "scheduled publication") {
		t.Errorf("conflict does not say why: %s", r.body)
	}
	wantError(t, e.do(request{method: "DELETE", path: "/api/v1/exports/" + ex.ID + "?force=maybe", key: e.key}), 400, "invalid_option")
	r = e.do(request{method: "DELETE", path: "/api/v1/exports/" + ex.ID + "?force=true", key: e.key})
	want(t, r, http.StatusOK)
	var res outpost.DeleteResult
	r.json(t, &res)
	if res != (outpost.DeleteResult{Exports: 1, FilesDeleted: 1, PublicationsCanceled: 1}) {
		t.Errorf("deleted %+v", res)
	}
	if ok, _ := e.blob.Exists(ctx, key); ok {
		t.Error("the rendition's file is still stored")
	}
	wantError(t, e.do(request{method: "GET", path: "/api/v1/exports/" + ex.ID, key: e.key}), 404, "not_found")
	// Another workspace's project is not found; ours goes with its source.
	wantError(t, e.do(request{method: "DELETE", path: "/api/v1/projects/" + prj.ID, key: e.okey}), 404, "not_found")
	r = e.do(request{method: "DELETE", path: "/api/v1/projects/" + prj.ID, key: e.key})
	want(t, r, http.StatusOK)
	if ok, _ := e.blob.Exists(ctx, prj.SourceKey); ok {
		t.Error("the project's source is still stored")
	}

	// A workspace: only its owner, signed in; not the default one.
	tm := newTeam(t, e, "acme")
	wantError(t, e.do(request{method: "DELETE", path: "/api/v1/workspaces/" + tm.ws.ID, key: tm.keys[authz.ScopeAdmin]}), 403, "forbidden")
	wantError(t, e.do(as(tm.sessions[authz.Admin], request{method: "DELETE", path: "/api/v1/workspaces/" + tm.ws.ID})), 403, "forbidden")
	want(t, e.do(as(tm.sessions[authz.Owner], request{method: "DELETE", path: "/api/v1/workspaces/" + tm.ws.ID})), http.StatusOK)
	if _, err := e.store.GetWorkspace(ctx, tm.ws.ID); err == nil {
		t.Error("acme still exists")
	}
	// Its members keep their accounts; the owner may now delete theirs.
	owner := tm.users[authz.Owner]
	if u, err := e.store.GetUser(ctx, owner.ID); err != nil || u.WorkspaceID != e.ws.ID {
		t.Errorf("acme's owner after its deletion: %+v, %v", u, err)
	}
	wantError(t, e.do(as(tm.sessions[authz.Owner], request{method: "DELETE", path: "/api/v1/users/" + tm.users[authz.Member].ID})), 403, "forbidden")
	want(t, e.do(as(tm.sessions[authz.Owner], request{method: "DELETE", path: "/api/v1/users/" + owner.ID})), http.StatusNoContent)
	if _, err := e.store.GetUser(ctx, owner.ID); err == nil {
		t.Error("the account is still there")
	}
	var audit page[outpost.AuditEvent]
	e.get("/api/v1/audit?limit=100").json(t, &audit)
	got := map[string]bool{}
	for _, ev := range audit.Data {
		got[ev.Action] = true
	}
	for _, a := range []string{"export.deleted", "project.deleted", "workspace.data_exported"} {
		if !got[a] {
			t.Errorf("audit log lacks %s: %v", a, got)
		}
	}
}

// TestAPI_notificationPrefs: a signed-in user's email preferences; the
// answer says when the server sends no email; keys have none.
func TestAPI_notificationPrefs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tm := newTeam(t, e, "acme")
	s := tm.sessions[authz.Viewer]
	var p outpost.NotificationPrefs
	r := e.do(as(s, request{method: "GET", path: "/api/v1/me/notifications"}))
	want(t, r, http.StatusOK)
	r.json(t, &p)
	if p.EmailConfigured || len(p.Prefs) != 5 || !p.Prefs[0].Email {
		t.Fatalf("prefs %+v", p)
	}
	r = e.do(as(s, request{method: "PATCH", path: "/api/v1/me/notifications", json: map[string]any{"email": map[string]bool{"export_succeeded": false}}}))
	want(t, r, http.StatusOK)
	r.json(t, &p)
	if p.Prefs[0].Kind != "export_succeeded" || p.Prefs[0].Email || !p.Prefs[1].Email {
		t.Errorf("after turning one off: %+v", p.Prefs)
	}
	wantError(t, e.do(as(s, request{method: "PATCH", path: "/api/v1/me/notifications", json: map[string]any{"email": map[string]bool{"spam": true}}})), 400, "invalid_option")
	wantError(t, e.do(request{method: "GET", path: "/api/v1/me/notifications", key: e.key}), 403, "forbidden")
}

// TestAPI_shareDefaults: a signed-in user saves the accounts a share
// starts with ticked; only the workspace's active accounts can be saved
// and are returned; another member has their own; keys have none.
func TestAPI_shareDefaults(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tm := newTeam(t, e, "acme")
	ctx := t.Context()
	conn := func(wsID, platform, account string) string {
		t.Helper()
		c, err := e.store.UpsertConnection(ctx, store.Connection{WorkspaceID: wsID, Platform: platform, AccountID: account,
			AccountName: account, AccessToken: []byte("a")})
		if err != nil {
			t.Fatal(err)
		}
		return c.ID
	}
	yt, tt, li := conn(tm.ws.ID, "youtube", "UC1"), conn(tm.ws.ID, "tiktok", "tt1"), conn(tm.ws.ID, "linkedin", "li1")
	elsewhere := conn(e.ws.ID, "youtube", "UC2")
	owner, member := tm.sessions[authz.Owner], tm.sessions[authz.Member]
	get := func(session string) []string {
		t.Helper()
		var d outpost.ShareDefaults
		r := e.do(as(session, request{method: "GET", path: "/api/v1/me/share-defaults"}))
		want(t, r, http.StatusOK)
		r.json(t, &d)
		return d.ConnectionIDs
	}
	put := func(session string, ids ...string) resp {
		return e.do(as(session, request{method: "PUT", path: "/api/v1/me/share-defaults", json: map[string]any{"connection_ids": ids}}))
	}
	if got := get(owner); len(got) != 0 {
		t.Errorf("before saving: %v, want none", got)
	}
	want(t, put(owner, tt, yt, tt), http.StatusOK)
	if got := get(owner); !slices.Equal(got, []string{tt, yt}) {
		t.Errorf("saved: %v, want [%s %s]", got, tt, yt)
	}
	if got := get(member); len(got) != 0 {
		t.Errorf("another member's: %v, want none", got)
	}
	wantError(t, put(owner, elsewhere), 404, "not_found")
	if err := e.store.SetConnectionStatus(ctx, li, store.ConnectionExpired); err != nil {
		t.Fatal(err)
	}
	wantError(t, put(owner, yt, li), 422, "connection_expired")
	if got := get(owner); !slices.Equal(got, []string{tt, yt}) {
		t.Errorf("after a refused save: %v, want it unchanged", got)
	}
	// An account that expires, or is disconnected, is no longer offered.
	if err := e.store.SetConnectionStatus(ctx, tt, store.ConnectionExpired); err != nil {
		t.Fatal(err)
	}
	if got := get(owner); !slices.Equal(got, []string{yt}) {
		t.Errorf("with TikTok expired: %v, want [%s]", got, yt)
	}
	want(t, e.do(request{method: "DELETE", path: "/api/v1/connections/" + yt, key: tm.keys[authz.ScopeAdmin]}), http.StatusNoContent)
	if got := get(owner); len(got) != 0 {
		t.Errorf("after disconnecting YouTube: %v, want none", got)
	}
	want(t, put(owner), http.StatusOK)
	wantError(t, e.do(request{method: "GET", path: "/api/v1/me/share-defaults", key: e.key}), 403, "forbidden")
}
