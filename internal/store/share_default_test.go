package store_test

import (
	"database/sql"
	"slices"
	"testing"

	"outpost/internal/store"
)

// TestStore_ShareDefaults: a user's saved "share to" accounts are kept per
// user and per workspace, in the order saved; saving replaces them; a
// disconnected account's row goes with it.
func TestStore_ShareDefaults(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		ws, err := s.DefaultWorkspace(ctx)
		if err != nil {
			t.Fatal(err)
		}
		other, err := s.CreateWorkspace(ctx, store.Workspace{Slug: "other", Name: "Other"})
		if err != nil {
			t.Fatal(err)
		}
		ada, err := s.CreateUser(ctx, store.User{WorkspaceID: ws.ID, Email: "ada@example.com", PasswordHash: "x"})
		if err != nil {
			t.Fatal(err)
		}
		bob, err := s.CreateUser(ctx, store.User{WorkspaceID: ws.ID, Email: "bob@example.com", PasswordHash: "x"})
		if err != nil {
			t.Fatal(err)
		}
		conn := func(wsID, platform, account string) string {
			t.Helper()
			c, err := s.UpsertConnection(ctx, store.Connection{WorkspaceID: wsID, Platform: platform, AccountID: account, AccessToken: []byte("a")})
			if err != nil {
				t.Fatal(err)
			}
			return c.ID
		}
		yt, tt, li := conn(ws.ID, "youtube", "UC1"), conn(ws.ID, "tiktok", "tt1"), conn(ws.ID, "linkedin", "li1")
		otherYT := conn(other.ID, "youtube", "UC2")
		set := func(wsID, userID string, ids ...string) {
			t.Helper()
			if err := s.WithTx(ctx, func(tx *sql.Tx) error { return s.Using(tx).SetShareDefaults(ctx, wsID, userID, ids) }); err != nil {
				t.Fatalf("SetShareDefaults: %v", err)
			}
		}
		check := func(what, wsID, userID string, want ...string) {
			t.Helper()
			got, err := s.ShareDefaults(ctx, wsID, userID)
			if err != nil || !slices.Equal(got, want) {
				t.Errorf("%s: ShareDefaults = %v, %v; want %v", what, got, err, want)
			}
		}

		check("nothing saved", ws.ID, ada.ID)
		set(ws.ID, ada.ID, tt, yt)
		set(ws.ID, bob.ID, li)
		set(other.ID, ada.ID, otherYT)
		check("saved", ws.ID, ada.ID, tt, yt)
		check("another user", ws.ID, bob.ID, li)
		check("another workspace", other.ID, ada.ID, otherYT)

		set(ws.ID, ada.ID, yt, li)
		check("replaced", ws.ID, ada.ID, yt, li)

		if err := s.DeleteConnection(ctx, li); err != nil {
			t.Fatal(err)
		}
		check("after disconnecting LinkedIn", ws.ID, ada.ID, yt)
		check("Bob's after disconnecting LinkedIn", ws.ID, bob.ID)

		set(ws.ID, ada.ID)
		check("cleared", ws.ID, ada.ID)
		check("the other workspace's stays", other.ID, ada.ID, otherYT)
	})
}
