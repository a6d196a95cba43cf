package store_test

import (
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"outpost/internal/authz"
	"outpost/internal/errcode"
	"outpost/internal/store"
)

// TestStore_MigrateTeams checks 00010's backfill: users made before it keep
// their role as a membership, and keys made before it (the bootstrap key)
// get every scope.
func TestStore_MigrateTeams(t *testing.T) {
	t.Parallel()
	for _, engine := range engines {
		t.Run(string(engine), func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			s := openUnmigrated(t, engine)
			if err := s.MigrateUpTo(ctx, 9); err != nil {
				t.Fatal(err)
			}
			db := s.DB()
			at := "2026-01-02 03:04:05.000000+00:00"
			for _, q := range []string{
				`INSERT INTO workspaces (id, slug, name, created_at) VALUES ('wsp_a', 'default', 'Default', '` + at + `')`,
				`INSERT INTO users (id, workspace_id, email, name, password_hash, role, created_at, updated_at)
					VALUES ('usr_a', 'wsp_a', 'a@example.com', 'A', 'h', 'owner', '` + at + `', '` + at + `')`,
				`INSERT INTO users (id, workspace_id, email, name, password_hash, role, created_at, updated_at)
					VALUES ('usr_b', 'wsp_a', 'b@example.com', 'B', 'h', 'member', '` + at + `', '` + at + `')`,
			} {
				if _, err := db.ExecContext(ctx, q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			ws, err := s.GetWorkspace(ctx, "wsp_a")
			if err != nil {
				t.Fatal(err)
			}
			const bootstrap = "bootstrap-key-before-00010"
			sum := sha256.Sum256([]byte(bootstrap))
			if _, err := db.ExecContext(ctx, `INSERT INTO api_keys (id, workspace_id, name, prefix, key_hash, created_at)
				VALUES ('key_a', 'wsp_a', 'bootstrap', 'bootstra', '`+hex.EncodeToString(sum[:])+`', '`+at+`')`); err != nil {
				t.Fatal(err)
			}
			if err := s.Migrate(ctx); err != nil {
				t.Fatalf("Migrate: %v", err)
			}
			members, err := s.ListMembers(ctx, ws.ID)
			if err != nil || len(members) != 2 || members[0].Role != store.RoleOwner || members[1].Role != store.RoleMember {
				t.Fatalf("members after migration = %+v, %v", members, err)
			}
			u, err := s.GetUser(ctx, "usr_a")
			if err != nil || u.Role != store.RoleOwner || u.WorkspaceID != ws.ID {
				t.Errorf("GetUser = %+v, %v", u, err)
			}
			k, err := s.LookupAPIKey(ctx, bootstrap)
			if err != nil || !slices.Equal(k.Scopes, authz.Scopes) {
				t.Errorf("bootstrap key after migration = %+v, %v; want every scope", k, err)
			}
		})
	}
}

func newOwner(t *testing.T, s *store.Store, ws store.Workspace, email string) store.User {
	t.Helper()
	u, err := s.CreateUser(t.Context(), store.User{WorkspaceID: ws.ID, Email: email, PasswordHash: "x", Role: store.RoleOwner})
	if err != nil {
		t.Fatalf("CreateUser(%s): %v", email, err)
	}
	return u
}

func TestStore_Members(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		def, err := s.DefaultWorkspace(ctx)
		if err != nil {
			t.Fatal(err)
		}
		acme, err := s.CreateWorkspace(ctx, store.Workspace{Slug: "acme", Name: "Acme"})
		if err != nil {
			t.Fatal(err)
		}
		owner := newOwner(t, s, def, "Owner@Example.com")
		if owner.Role != store.RoleOwner {
			t.Errorf("CreateUser role = %q", owner.Role)
		}
		if ok, err := s.IsInstanceAdmin(ctx, owner.ID); err != nil || !ok {
			t.Errorf("IsInstanceAdmin(owner of default) = %v, %v", ok, err)
		}
		if _, err := s.CreateUser(ctx, store.User{WorkspaceID: def.ID, Email: "x@example.com", Role: "boss"}); !errors.Is(err, store.ErrInvalidRole) {
			t.Errorf("CreateUser(role boss) = %v, want ErrInvalidRole", err)
		}
		// A failed membership leaves no user behind (one transaction).
		if _, err := s.GetUserByEmail(ctx, "x@example.com"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("user of a refused CreateUser: %v", err)
		}

		bob, err := s.CreateUser(ctx, store.User{WorkspaceID: def.ID, Email: "bob@example.com", PasswordHash: "x"})
		if err != nil || bob.Role != store.RoleMember {
			t.Fatalf("CreateUser(default role) = %+v, %v", bob, err)
		}
		if ok, _ := s.IsInstanceAdmin(ctx, bob.ID); ok {
			t.Error("a member of the default workspace is an instance admin")
		}
		if _, err := s.AddMember(ctx, def.ID, bob.ID, store.RoleViewer); !errors.Is(err, store.ErrConflict) {
			t.Errorf("AddMember twice = %v, want ErrConflict", err)
		}
		m, err := s.AddMember(ctx, acme.ID, bob.ID, store.RoleAdmin)
		if err != nil || m.Role != store.RoleAdmin || m.Email != "bob@example.com" {
			t.Fatalf("AddMember = %+v, %v", m, err)
		}
		wss, err := s.ListUserWorkspaces(ctx, bob.ID)
		if err != nil || len(wss) != 2 || wss[0].Slug != "acme" || wss[0].Role != store.RoleAdmin || wss[1].Role != store.RoleMember {
			t.Errorf("ListUserWorkspaces = %+v, %v", wss, err)
		}
		// Switching: only to a workspace one belongs to; Role follows.
		u, err := s.SwitchWorkspace(ctx, bob.ID, acme.ID)
		if err != nil || u.WorkspaceID != acme.ID || u.Role != store.RoleAdmin {
			t.Errorf("SwitchWorkspace = %+v, %v", u, err)
		}
		if _, err := s.SwitchWorkspace(ctx, owner.ID, acme.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("SwitchWorkspace(not a member) = %v, want ErrNotFound", err)
		}
		users, err := s.ListUsers(ctx, acme.ID)
		if err != nil || len(users) != 1 || users[0].ID != bob.ID || users[0].Role != store.RoleAdmin {
			t.Errorf("ListUsers(acme) = %+v, %v", users, err)
		}

		// The last owner stays an owner.
		if _, err := s.SetMemberRole(ctx, def.ID, owner.ID, store.RoleAdmin); !errors.Is(err, store.ErrLastOwner) ||
			!errors.Is(err, store.ErrConflict) {
			t.Errorf("demote the last owner = %v, want ErrLastOwner", err)
		}
		if err := s.RemoveMember(ctx, def.ID, owner.ID); !errors.Is(err, store.ErrLastOwner) {
			t.Errorf("remove the last owner = %v, want ErrLastOwner", err)
		}
		if _, err := s.UpdateUser(ctx, store.User{ID: owner.ID, Name: "O", PasswordHash: "y", Role: store.RoleViewer}); !errors.Is(err, store.ErrLastOwner) {
			t.Errorf("UpdateUser demoting the last owner = %v, want ErrLastOwner", err)
		}
		if m, err := s.SetMemberRole(ctx, def.ID, bob.ID, store.RoleOwner); err != nil || m.Role != store.RoleOwner {
			t.Fatalf("SetMemberRole(owner) = %+v, %v", m, err)
		}
		if m, err := s.SetMemberRole(ctx, def.ID, owner.ID, store.RoleViewer); err != nil || m.Role != store.RoleViewer {
			t.Errorf("demote one of two owners = %+v, %v", m, err)
		}
		if _, err := s.SetMemberRole(ctx, def.ID, "usr_missing", store.RoleViewer); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("SetMemberRole(missing) = %v", err)
		}
		if _, err := s.SetMemberRole(ctx, def.ID, bob.ID, "boss"); !errors.Is(err, store.ErrInvalidRole) {
			t.Errorf("SetMemberRole(boss) = %v", err)
		}

		// Removing bob from acme (his current workspace) moves him back
		// to default; removing the former owner from default, their only
		// workspace, leaves them with no role.
		if err := s.RemoveMember(ctx, acme.ID, bob.ID); err != nil {
			t.Fatalf("RemoveMember: %v", err)
		}
		if u, err := s.GetUser(ctx, bob.ID); err != nil || u.WorkspaceID != def.ID || u.Role != store.RoleOwner {
			t.Errorf("after removal from acme: %+v, %v; want back in default as owner", u, err)
		}
		if err := s.RemoveMember(ctx, def.ID, owner.ID); err != nil {
			t.Fatalf("RemoveMember(viewer): %v", err)
		}
		if u, err := s.GetUser(ctx, owner.ID); err != nil || u.Role != "" {
			t.Errorf("user with no workspace left = %+v, %v; want no role", u, err)
		}
		if _, err := s.GetMember(ctx, def.ID, owner.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetMember(removed) = %v", err)
		}
		if err := s.RemoveMember(ctx, def.ID, owner.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("RemoveMember twice = %v", err)
		}
	})
}

// TestStore_MembersLastOwnerRace demotes and removes a workspace's two
// owners at once: one change must lose, so the workspace keeps an owner.
func TestStore_MembersLastOwnerRace(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		for round := range 5 {
			ws, err := s.CreateWorkspace(ctx, store.Workspace{Slug: fmt.Sprint("race-", round), Name: "Race"})
			if err != nil {
				t.Fatal(err)
			}
			a := newOwner(t, s, ws, fmt.Sprintf("a%d@example.com", round))
			b := newOwner(t, s, ws, fmt.Sprintf("b%d@example.com", round))
			var wg sync.WaitGroup
			errs := make([]error, 2)
			wg.Go(func() { _, errs[0] = s.SetMemberRole(ctx, ws.ID, a.ID, store.RoleMember) })
			wg.Go(func() { errs[1] = s.RemoveMember(ctx, ws.ID, b.ID) })
			wg.Wait()
			lost := 0
			for _, err := range errs {
				if errors.Is(err, store.ErrLastOwner) {
					lost++
				} else if err != nil {
					t.Fatalf("round %d: %v", round, err)
				}
			}
			members, err := s.ListMembers(ctx, ws.ID)
			if err != nil {
				t.Fatal(err)
			}
			owners := 0
			for _, m := range members {
				if m.Role == store.RoleOwner {
					owners++
				}
			}
			if owners != 1 || lost != 1 {
				t.Fatalf("round %d: %d owners left, %d changes refused (%v); want 1 and 1", round, owners, lost, errs)
			}
		}
	})
}

func TestStore_Invites(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		def, _ := s.DefaultWorkspace(ctx)
		acme, err := s.CreateWorkspace(ctx, store.Workspace{Slug: "acme", Name: "Acme"})
		if err != nil {
			t.Fatal(err)
		}
		owner := newOwner(t, s, acme, "owner@example.com")
		carol, err := s.CreateUser(ctx, store.User{WorkspaceID: def.ID, Email: "carol@example.com", PasswordHash: "x"})
		if err != nil {
			t.Fatal(err)
		}
		dave, err := s.CreateUser(ctx, store.User{WorkspaceID: def.ID, Email: "dave@example.com", PasswordHash: "x"})
		if err != nil {
			t.Fatal(err)
		}
		at := time.Now()

		inv, token, err := s.CreateInvite(ctx, store.Invite{WorkspaceID: acme.ID, Email: " Carol@Example.com ",
			Role: store.RoleMember, InvitedBy: owner.ID})
		if err != nil || len(token) < 40 || inv.Email != "carol@example.com" || !inv.Pending(at) {
			t.Fatalf("CreateInvite = %+v, %q, %v", inv, token, err)
		}
		if d := inv.ExpiresAt.Sub(inv.CreatedAt); d != store.DefaultInviteTTL {
			t.Errorf("default expiry after %v", d)
		}
		if _, _, err := s.CreateInvite(ctx, store.Invite{WorkspaceID: acme.ID, Role: "boss"}); !errors.Is(err, store.ErrInvalidRole) {
			t.Errorf("CreateInvite(boss) = %v", err)
		}
		// Only the token's hash is stored.
		var n int
		if err := s.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM invites WHERE token_hash = $1`, token).Scan(&n); err != nil || n != 0 {
			t.Errorf("token stored in plain (%d, %v)", n, err)
		}
		got, err := s.LookupInvite(ctx, token, at)
		if err != nil || got.ID != inv.ID || got.InvitedBy != owner.ID {
			t.Errorf("LookupInvite = %+v, %v", got, err)
		}
		if list, err := s.ListInvites(ctx, acme.ID, at); err != nil || len(list) != 1 || list[0].ID != inv.ID {
			t.Errorf("ListInvites = %+v, %v", list, err)
		}

		invalid := func(what string, err error) {
			t.Helper()
			if errcode.Of(err) != errcode.InviteInvalid || !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s: err = %v, want invite_invalid", what, err)
			}
		}
		_, err = s.LookupInvite(ctx, "not-a-token", at)
		invalid("unknown token", err)
		_, err = s.LookupInvite(ctx, token, inv.ExpiresAt)
		invalid("expired", err)
		_, err = s.AcceptInvite(ctx, token, dave.ID, at)
		invalid("another email", err)

		m, err := s.AcceptInvite(ctx, token, carol.ID, at)
		if err != nil || m.WorkspaceID != acme.ID || m.Role != store.RoleMember {
			t.Fatalf("AcceptInvite = %+v, %v", m, err)
		}
		if u, _ := s.GetUser(ctx, carol.ID); u.WorkspaceID != acme.ID || u.Role != store.RoleMember {
			t.Errorf("after accepting, carol is in %s as %q; want acme as member", u.WorkspaceID, u.Role)
		}
		_, err = s.AcceptInvite(ctx, token, carol.ID, at)
		invalid("used twice", err)
		if list, _ := s.ListInvites(ctx, acme.ID, at); len(list) != 0 {
			t.Errorf("accepted invite still listed: %+v", list)
		}
		if got, err := s.GetInvite(ctx, inv.ID); err != nil || got.AcceptedBy != carol.ID || got.AcceptedAt == nil {
			t.Errorf("GetInvite after accepting = %+v, %v", got, err)
		}

		// A link invite (no email): anyone holding it; a member keeps
		// their role.
		link, linkToken, err := s.CreateInvite(ctx, store.Invite{WorkspaceID: acme.ID, Role: store.RoleViewer,
			ExpiresAt: at.Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if m, err := s.AcceptInvite(ctx, linkToken, owner.ID, at); err != nil || m.Role != store.RoleOwner {
			t.Errorf("a member accepting: %+v, %v; want the owner role kept", m, err)
		}
		link2, link2Token, _ := s.CreateInvite(ctx, store.Invite{WorkspaceID: acme.ID, Role: store.RoleViewer})
		if err := s.RevokeInvite(ctx, link2.ID, at); err != nil {
			t.Fatal(err)
		}
		_, err = s.AcceptInvite(ctx, link2Token, dave.ID, at)
		invalid("revoked", err)
		if err := s.RevokeInvite(ctx, link.ID, at); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("revoke a used invite = %v, want ErrNotFound", err)
		}

		// Signing up through an invite: the new user and the accepted
		// invite in one transaction.
		signup, signupToken, _ := s.CreateInvite(ctx, store.Invite{WorkspaceID: acme.ID, Email: "erin@example.com",
			Role: store.RoleAdmin})
		var erin store.User
		err = s.WithTx(ctx, func(tx *sql.Tx) error {
			q := s.Using(tx)
			inv, err := q.LookupInvite(ctx, signupToken, at)
			if err != nil {
				return err
			}
			if erin, err = q.CreateUser(ctx, store.User{WorkspaceID: inv.WorkspaceID, Email: inv.Email,
				PasswordHash: "x", Role: inv.Role}); err != nil {
				return err
			}
			_, err = q.AcceptInvite(ctx, signupToken, erin.ID, at)
			return err
		})
		if err != nil {
			t.Fatalf("sign up through an invite: %v", err)
		}
		if u, _ := s.GetUser(ctx, erin.ID); u.WorkspaceID != acme.ID || u.Role != store.RoleAdmin {
			t.Errorf("signed-up user = %+v", u)
		}
		if got, _ := s.GetInvite(ctx, signup.ID); got.AcceptedBy != erin.ID {
			t.Errorf("invite after sign-up = %+v", got)
		}
		if ws, err := s.ListWorkspaces(ctx); err != nil || len(ws) != 2 || ws[0].Slug != "acme" {
			t.Errorf("ListWorkspaces = %+v, %v", ws, err)
		}
	})
}

func TestStore_APIKeyScopesAndRotation(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		ws, _ := s.DefaultWorkspace(ctx)
		owner := newOwner(t, s, ws, "owner@example.com")

		if _, _, err := s.IssueAPIKey(ctx, store.APIKey{WorkspaceID: ws.ID, Name: "none"}); err == nil {
			t.Error("IssueAPIKey with no scopes succeeded")
		}
		k, plain, err := s.IssueAPIKey(ctx, store.APIKey{WorkspaceID: ws.ID, Name: "ci",
			Scopes: []store.Scope{authz.ScopeRead, authz.ScopeExport}, CreatedBy: owner.ID})
		if err != nil || !slices.Equal(k.Scopes, []store.Scope{authz.ScopeRead, authz.ScopeExport}) || k.CreatedBy != owner.ID {
			t.Fatalf("IssueAPIKey = %+v, %v", k, err)
		}
		first, _, err := s.CreateAPIKey(ctx, ws.ID, "first run")
		if err != nil || !slices.Equal(first.Scopes, authz.Scopes) {
			t.Errorf("CreateAPIKey scopes = %v, %v; want all", first.Scopes, err)
		}

		// Rotation: the new key works at once, the old one until the
		// grace deadline.
		at := time.Now()
		nk, nplain, err := s.RotateAPIKey(ctx, k.ID, time.Hour, owner.ID, at)
		if err != nil || nk.Name != "ci" || !slices.Equal(nk.Scopes, k.Scopes) || nplain == plain {
			t.Fatalf("RotateAPIKey = %+v, %v", nk, err)
		}
		old, err := s.GetAPIKey(ctx, k.ID)
		if err != nil || old.ReplacedBy != nk.ID || old.ExpiresAt == nil || !old.ExpiresAt.Equal(at.Add(time.Hour).UTC().Truncate(time.Microsecond)) {
			t.Errorf("rotated key = %+v, %v", old, err)
		}
		for _, p := range []string{plain, nplain} {
			if _, err := s.LookupAPIKey(ctx, p); err != nil {
				t.Errorf("LookupAPIKey during the grace period: %v", err)
			}
		}
		if _, _, err := s.RotateAPIKey(ctx, k.ID, time.Hour, "", at); !errors.Is(err, store.ErrConflict) {
			t.Errorf("rotate twice = %v, want ErrConflict", err)
		}
		// Rotated two days ago with a day's grace: the old key is dead.
		k2, plain2, _ := s.IssueAPIKey(ctx, store.APIKey{WorkspaceID: ws.ID, Name: "old", Scopes: []store.Scope{authz.ScopeRead}})
		_, nplain2, err := s.RotateAPIKey(ctx, k2.ID, store.DefaultRotationGrace, "", at.Add(-48*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.LookupAPIKey(ctx, plain2); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("old key past its grace: %v, want ErrNotFound", err)
		}
		if _, err := s.LookupAPIKey(ctx, nplain2); err != nil {
			t.Errorf("its replacement: %v", err)
		}
		// Grace 0 stops the old key at once.
		k3, plain3, _ := s.IssueAPIKey(ctx, store.APIKey{WorkspaceID: ws.ID, Name: "now", Scopes: []store.Scope{authz.ScopeRead}})
		if _, _, err := s.RotateAPIKey(ctx, k3.ID, 0, "", at); err != nil {
			t.Fatal(err)
		}
		if _, err := s.LookupAPIKey(ctx, plain3); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("old key rotated with no grace: %v", err)
		}
		// A revoked key cannot be rotated; a missing one is not found.
		if err := s.RevokeAPIKey(ctx, nk.ID, at); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.RotateAPIKey(ctx, nk.ID, time.Hour, "", at); !errors.Is(err, store.ErrConflict) {
			t.Errorf("rotate a revoked key = %v, want ErrConflict", err)
		}
		if _, _, err := s.RotateAPIKey(ctx, "key_missing", time.Hour, "", at); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("rotate a missing key = %v, want ErrNotFound", err)
		}
		// Deleting the creator keeps the key.
		if _, err := s.DB().ExecContext(ctx, `DELETE FROM users WHERE id = $1`, owner.ID); err != nil {
			t.Fatal(err)
		}
		if got, err := s.GetAPIKey(ctx, k.ID); err != nil || got.CreatedBy != "" {
			t.Errorf("key of a deleted user = %+v, %v", got, err)
		}
	})
}

func TestStore_AuthFailures(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
		for i := range 5 {
			if err := s.RecordAuthFailure(ctx, store.AuthFailure{Kind: store.FailedSignIn, IP: "203.0.113.7",
				Account: "Owner@Example.com", At: t0.Add(time.Duration(i) * time.Minute)}); err != nil {
				t.Fatal(err)
			}
		}
		_ = s.RecordAuthFailure(ctx, store.AuthFailure{Kind: store.FailedSignIn, IP: "198.51.100.1", Account: "owner@example.com", At: t0})
		_ = s.RecordAuthFailure(ctx, store.AuthFailure{Kind: store.FailedAPIKey, IP: "203.0.113.7", At: t0})

		ts, err := s.RecentFailuresByIP(ctx, store.FailedSignIn, "203.0.113.7", t0.Add(30*time.Second), 3)
		if err != nil || len(ts) != 3 || !ts[0].Equal(t0.Add(4*time.Minute)) || !ts[2].Equal(t0.Add(2*time.Minute)) {
			t.Errorf("RecentFailuresByIP = %v, %v; want the 3 newest after t0", ts, err)
		}
		n, last, err := s.FailuresByAccount(ctx, store.FailedSignIn, "owner@example.com", t0.Add(-time.Second))
		if err != nil || n != 6 || !last.Equal(t0.Add(4*time.Minute)) {
			t.Errorf("FailuresByAccount = %d, %v, %v; want 6", n, last, err)
		}
		if n, last, err := s.FailuresByAccount(ctx, store.FailedSignIn, "nobody@example.com", t0); err != nil || n != 0 || !last.IsZero() {
			t.Errorf("FailuresByAccount(nobody) = %d, %v, %v", n, last, err)
		}
		if ts, _ := s.RecentFailuresByIP(ctx, store.FailedAPIKey, "203.0.113.7", t0.Add(-time.Second), 10); len(ts) != 1 {
			t.Errorf("api key failures = %v; want 1", ts)
		}
		if n, err := s.ClearAuthFailures(ctx, store.FailedSignIn, "203.0.113.7", "OWNER@example.com"); err != nil || n != 5 {
			t.Errorf("ClearAuthFailures = %d, %v", n, err)
		}
		if n, err := s.DeleteAuthFailuresBefore(ctx, t0.Add(time.Second)); err != nil || n != 2 {
			t.Errorf("DeleteAuthFailuresBefore = %d, %v", n, err)
		}
	})
}

func TestStore_Audit(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		ws, _ := s.DefaultWorkspace(ctx)
		t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
		for i := range 5 {
			e, err := s.InsertAuditEvent(ctx, store.AuditEvent{WorkspaceID: ws.ID, ActorType: store.ActorUser,
				ActorID: "usr_a", ActorName: "a@example.com", Action: store.AuditAPIKeyCreated, TargetType: "api_key",
				TargetID: fmt.Sprint("key_", i), IP: "203.0.113.7", Details: json.RawMessage(`{"scopes":["read"]}`),
				CreatedAt: t0.Add(time.Duration(i) * time.Second)})
			if err != nil || !store.HasPrefix(e.ID, store.PrefixAudit) {
				t.Fatalf("InsertAuditEvent = %+v, %v", e, err)
			}
		}
		if _, err := s.InsertAuditEvent(ctx, store.AuditEvent{WorkspaceID: ws.ID, ActorType: store.ActorCLI,
			Action: store.AuditAPIKeyRevoked, TargetID: "key_1", CreatedAt: t0.Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.InsertAuditEvent(ctx, store.AuditEvent{ActorType: store.ActorSystem, Action: store.AuditSignInLocked,
			IP: "203.0.113.9"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.InsertAuditEvent(ctx, store.AuditEvent{WorkspaceID: ws.ID}); err == nil {
			t.Error("an event without actor and action was stored")
		}

		var all []store.AuditEvent
		cursor := ""
		for range 10 {
			page, err := s.ListAuditEvents(ctx, store.AuditFilter{WorkspaceID: ws.ID, Limit: 4, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, page.Events...)
			if cursor = page.NextCursor; cursor == "" {
				break
			}
		}
		if len(all) != 6 || all[0].Action != store.AuditAPIKeyRevoked || all[5].TargetID != "key_0" {
			t.Fatalf("paged log = %d events (%+v)", len(all), all)
		}
		if string(all[5].Details) == "" || all[5].IP != "203.0.113.7" || all[5].ActorName != "a@example.com" {
			t.Errorf("event = %+v", all[5])
		}
		page, err := s.ListAuditEvents(ctx, store.AuditFilter{WorkspaceID: ws.ID, TargetID: "key_1"})
		if err != nil || len(page.Events) != 2 {
			t.Errorf("by target = %+v, %v", page, err)
		}
		page, err = s.ListAuditEvents(ctx, store.AuditFilter{WorkspaceID: ws.ID, Action: store.AuditAPIKeyRevoked, ActorID: ""})
		if err != nil || len(page.Events) != 1 || page.Events[0].ActorType != store.ActorCLI {
			t.Errorf("by action = %+v, %v", page, err)
		}
		page, err = s.ListAuditEvents(ctx, store.AuditFilter{WorkspaceID: ""})
		if err != nil || len(page.Events) != 1 || page.Events[0].Action != store.AuditSignInLocked {
			t.Errorf("instance log = %+v, %v", page, err)
		}
		if _, err := s.ListAuditEvents(ctx, store.AuditFilter{WorkspaceID: ws.ID, Cursor: "bogus!"}); !errors.Is(err, store.ErrInvalidCursor) {
			t.Errorf("bad cursor = %v", err)
		}
	})
}

func TestStore_NotificationPrefs(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		ws, _ := s.DefaultWorkspace(ctx)
		a := newOwner(t, s, ws, "a@example.com")
		b, _ := s.CreateUser(ctx, store.User{WorkspaceID: ws.ID, Email: "b@example.com", Role: store.RoleViewer})
		other, _ := s.CreateWorkspace(ctx, store.Workspace{Slug: "other", Name: "Other"})
		newOwner(t, s, other, "c@example.com")

		if p, err := s.NotificationPrefs(ctx, a.ID); err != nil || len(p) != 0 {
			t.Errorf("NotificationPrefs(new user) = %v, %v", p, err)
		}
		if err := s.SetNotificationPref(ctx, a.ID, "export_succeeded", false); err != nil {
			t.Fatal(err)
		}
		if err := s.SetNotificationPref(ctx, b.ID, "export_succeeded", false); err != nil {
			t.Fatal(err)
		}
		if err := s.SetNotificationPref(ctx, b.ID, "export_succeeded", true); err != nil {
			t.Fatal(err)
		}
		if p, err := s.NotificationPrefs(ctx, a.ID); err != nil || len(p) != 1 || p["export_succeeded"] {
			t.Errorf("NotificationPrefs = %v, %v", p, err)
		}
		rs, err := s.ListNotificationRecipients(ctx, ws.ID, "export_succeeded")
		if err != nil || len(rs) != 1 || rs[0].Email != "b@example.com" || rs[0].Role != store.RoleViewer {
			t.Errorf("recipients of export_succeeded = %+v, %v; want b only", rs, err)
		}
		rs, err = s.ListNotificationRecipients(ctx, ws.ID, "export_failed")
		if err != nil || len(rs) != 2 || rs[0].Email != "a@example.com" {
			t.Errorf("recipients of export_failed = %+v, %v; want a and b", rs, err)
		}
	})
}

func TestStore_PlanAndUsage(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		fx := newFixture(t, ctx, s)
		p, err := s.GetPlan(ctx, fx.ws.ID)
		if err != nil || !p.Unlimited() || !p.UpdatedAt.IsZero() {
			t.Errorf("GetPlan(never set) = %+v, %v; want unlimited", p, err)
		}
		set := store.Plan{WorkspaceID: fx.ws.ID}
		set.MaxResolution, set.BatchDisabled, set.MaxConcurrentExports, set.MaxStoredBytes = 1080, true, 2, 5<<30
		if _, err := s.SetPlan(ctx, set); err != nil {
			t.Fatal(err)
		}
		set.VariantsDisabled, set.MaxResolution = true, 2160
		if _, err := s.SetPlan(ctx, set); err != nil {
			t.Fatal(err)
		}
		p, err = s.GetPlan(ctx, fx.ws.ID)
		if err != nil || p.Limits != set.Limits || p.UpdatedAt.IsZero() {
			t.Errorf("GetPlan = %+v, %v; want %+v", p, err, set.Limits)
		}
		bad := set
		bad.MaxStoredBytes = -1
		if _, err := s.SetPlan(ctx, bad); err == nil {
			t.Error("negative limit stored")
		}

		// Usage: the project's source, plus each live file once.
		prj := fx.prj
		prj.SizeBytes = 1000
		if _, err := s.UpdateProject(ctx, prj); err != nil {
			t.Fatal(err)
		}
		e1, _ := s.CreateExport(ctx, store.Export{WorkspaceID: fx.ws.ID, ProjectID: prj.ID})
		e2, _ := s.CreateExport(ctx, store.Export{WorkspaceID: fx.ws.ID, ProjectID: prj.ID})
		if _, err := s.UpdateExportStatus(ctx, e2.ID, store.StatusChange{Status: store.ExportSucceeded}); err != nil {
			t.Fatal(err)
		}
		for i, r := range []store.Rendition{
			{ExportID: e1.ID, BlobKey: "r/a.mp4", SizeBytes: 100},
			{ExportID: e2.ID, BlobKey: "r/a.mp4", SizeBytes: 100, TargetIndex: 0}, // the same file
			{ExportID: e2.ID, BlobKey: "r/b.mp4", SizeBytes: 10, TargetIndex: 1},
			{ExportID: e1.ID, BlobKey: "r/gone.mp4", SizeBytes: 5000, TargetIndex: 1},
		} {
			r, err := s.CreateRendition(ctx, r)
			if err != nil {
				t.Fatalf("rendition %d: %v", i, err)
			}
			if r.BlobKey == "r/gone.mp4" {
				if err := s.MarkRenditionDeleted(ctx, r.ID, time.Now()); err != nil {
					t.Fatal(err)
				}
			}
		}
		u, err := s.WorkspaceUsage(ctx, fx.ws.ID)
		if err != nil || u.ActiveExports != 1 || u.StoredBytes != 1110 {
			t.Errorf("WorkspaceUsage = %+v, %v; want 1 active export, 1110 bytes", u, err)
		}
	})
}

func TestStore_DeleteHistoryBefore(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		fx := newFixture(t, ctx, s)
		old := time.Now().Add(-100 * 24 * time.Hour)
		mk := func(status store.ExportStatus, created time.Time, file string, deleted bool) store.Export {
			t.Helper()
			e, err := s.CreateExport(ctx, store.Export{WorkspaceID: fx.ws.ID, ProjectID: fx.prj.ID, CreatedAt: created})
			if err != nil {
				t.Fatal(err)
			}
			if status != store.ExportQueued {
				if e, err = s.UpdateExportStatus(ctx, e.ID, store.StatusChange{Status: status}); err != nil {
					t.Fatal(err)
				}
			}
			r, err := s.CreateRendition(ctx, store.Rendition{ExportID: e.ID, BlobKey: file})
			if err != nil {
				t.Fatal(err)
			}
			if deleted {
				if err := s.MarkRenditionDeleted(ctx, r.ID, time.Now()); err != nil {
					t.Fatal(err)
				}
			}
			return e
		}
		gone := mk(store.ExportSucceeded, old, "r/1.mp4", true)          // old, file deleted: goes
		failed := mk(store.ExportFailed, old, "", false)                 // old, never had a file: goes
		kept := mk(store.ExportSucceeded, old, "r/2.mp4", false)         // old, file still stored (saved): stays
		live := mk(store.ExportQueued, old, "", false)                   // old but not finished: stays
		recent := mk(store.ExportSucceeded, time.Now(), "r/3.mp4", true) // recent: stays
		n, err := s.DeleteHistoryBefore(ctx, time.Now().Add(-90*24*time.Hour), 100)
		if err != nil || n != 2 {
			t.Fatalf("DeleteHistoryBefore = %d, %v; want 2", n, err)
		}
		for _, e := range []store.Export{gone, failed} {
			if _, err := s.GetExport(ctx, e.ID); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("export %s still there: %v", e.ID, err)
			}
			if rs, _ := s.ListRenditions(ctx, e.ID); len(rs) != 0 {
				t.Errorf("renditions of %s still there", e.ID)
			}
		}
		for _, e := range []store.Export{kept, live, recent} {
			if _, err := s.GetExport(ctx, e.ID); err != nil {
				t.Errorf("export %s deleted: %v", e.ID, err)
			}
		}
	})
}

// TestStore_MigrateTeamsDown rolls 00010 back (roles return to users) and
// applies it again.
func TestStore_MigrateTeamsDown(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		ws, _ := s.DefaultWorkspace(ctx)
		u := newOwner(t, s, ws, "owner@example.com")
		if err := s.MigrateDownTo(ctx, 9); err != nil {
			t.Fatalf("down: %v", err)
		}
		var role string
		if err := s.DB().QueryRowContext(ctx, `SELECT role FROM users WHERE id = $1`, u.ID).Scan(&role); err != nil || role != "owner" {
			t.Errorf("users.role after down = %q, %v", role, err)
		}
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("up again: %v", err)
		}
		if got, err := s.GetUser(ctx, u.ID); err != nil || got.Role != store.RoleOwner {
			t.Errorf("after up again: %+v, %v", got, err)
		}
	})
}
