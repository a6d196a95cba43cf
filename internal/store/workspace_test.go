package store_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"outpost/internal/store"
)

func TestStore_Workspace(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		w, err := s.CreateWorkspace(ctx, store.Workspace{Slug: "acme", Name: "Acme"})
		if err != nil {
			t.Fatalf("CreateWorkspace: %v", err)
		}
		if !store.HasPrefix(w.ID, store.PrefixWorkspace) || w.CreatedAt.IsZero() {
			t.Errorf("CreateWorkspace = %+v: want an id and a creation time", w)
		}
		got, err := s.GetWorkspace(ctx, w.ID)
		if err != nil || got != w {
			t.Errorf("GetWorkspace = %+v, %v; want %+v", got, err, w)
		}
		if _, err := s.CreateWorkspace(ctx, store.Workspace{Slug: "acme", Name: "Other"}); !errors.Is(err, store.ErrConflict) {
			t.Errorf("duplicate slug: err = %v, want ErrConflict", err)
		}
		if _, err := s.GetWorkspace(ctx, "wsp_missing"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("missing: err = %v, want ErrNotFound", err)
		}

		d1, err := s.DefaultWorkspace(ctx)
		if err != nil {
			t.Fatalf("DefaultWorkspace: %v", err)
		}
		d2, err := s.DefaultWorkspace(ctx)
		if err != nil || d2 != d1 || d1.Slug != store.DefaultWorkspaceSlug {
			t.Errorf("DefaultWorkspace twice = %+v, %+v (%v): want the same default workspace", d1, d2, err)
		}
	})
}

func TestStore_APIKey(t *testing.T) {
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

		const bootstrap = "bootstrap-key-0123456789abcdef"
		k1, err := s.EnsureAPIKey(ctx, ws.ID, bootstrap)
		if err != nil {
			t.Fatalf("EnsureAPIKey: %v", err)
		}
		k2, err := s.EnsureAPIKey(ctx, ws.ID, bootstrap)
		if err != nil || k2.ID != k1.ID {
			t.Fatalf("EnsureAPIKey again = %+v, %v; want the same key %s", k2, err, k1.ID)
		}
		if k1.Prefix != bootstrap[:8] || k1.Name != "bootstrap" || k1.WorkspaceID != ws.ID {
			t.Errorf("EnsureAPIKey = %+v", k1)
		}
		if _, err := s.EnsureAPIKey(ctx, other.ID, bootstrap); !errors.Is(err, store.ErrConflict) {
			t.Errorf("EnsureAPIKey for another workspace: err = %v, want ErrConflict", err)
		}

		// The plaintext is never stored.
		var n int
		if err := s.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM api_keys WHERE key_hash = $1 OR prefix = $1 OR name = $1`,
			bootstrap).Scan(&n); err != nil || n != 0 {
			t.Errorf("plaintext found in api_keys (%d rows, %v)", n, err)
		}

		got, err := s.LookupAPIKey(ctx, bootstrap)
		if err != nil || got.ID != k1.ID {
			t.Errorf("LookupAPIKey = %+v, %v; want %s", got, err, k1.ID)
		}
		for _, wrong := range []string{"", "bootstrap-key-0123456789abcdeF", bootstrap + " "} {
			if _, err := s.LookupAPIKey(ctx, wrong); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("LookupAPIKey(%q) err = %v, want ErrNotFound", wrong, err)
			}
		}

		created, plaintext, err := s.CreateAPIKey(ctx, ws.ID, "ci")
		if err != nil {
			t.Fatalf("CreateAPIKey: %v", err)
		}
		if !strings.HasPrefix(plaintext, store.APIKeyPrefix) || len(plaintext) < 32 || created.Prefix != plaintext[:8] {
			t.Errorf("CreateAPIKey = %+v, %q", created, plaintext)
		}
		if got, err := s.LookupAPIKey(ctx, plaintext); err != nil || got.ID != created.ID {
			t.Errorf("LookupAPIKey(created) = %+v, %v", got, err)
		}

		used := time.Date(2026, 3, 4, 5, 6, 7, 891234567, time.UTC)
		if err := s.TouchAPIKey(ctx, created.ID, used); err != nil {
			t.Fatalf("TouchAPIKey: %v", err)
		}
		if err := s.RevokeAPIKey(ctx, created.ID, used.Add(time.Hour)); err != nil {
			t.Fatalf("RevokeAPIKey: %v", err)
		}
		if _, err := s.LookupAPIKey(ctx, plaintext); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("revoked key: LookupAPIKey err = %v, want ErrNotFound", err)
		}
		if err := s.RevokeAPIKey(ctx, "key_missing", used); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("RevokeAPIKey(missing) = %v, want ErrNotFound", err)
		}

		keys, err := s.ListAPIKeys(ctx, ws.ID)
		if err != nil || len(keys) != 2 {
			t.Fatalf("ListAPIKeys = %+v, %v; want 2 keys", keys, err)
		}
		var listed store.APIKey
		for _, k := range keys {
			if k.ID == created.ID {
				listed = k
			}
		}
		wantUsed := used.Truncate(time.Microsecond)
		if listed.LastUsedAt == nil || !listed.LastUsedAt.Equal(wantUsed) || listed.LastUsedAt.Location() != time.UTC {
			t.Errorf("LastUsedAt = %v, want %v UTC", listed.LastUsedAt, wantUsed)
		}
		if listed.RevokedAt == nil || !listed.RevokedAt.Equal(wantUsed.Add(time.Hour)) {
			t.Errorf("RevokedAt = %v", listed.RevokedAt)
		}

		// A revoked bootstrap key stays revoked when ensured again.
		if err := s.RevokeAPIKey(ctx, k1.ID, used); err != nil {
			t.Fatal(err)
		}
		k3, err := s.EnsureAPIKey(ctx, ws.ID, bootstrap)
		if err != nil || k3.RevokedAt == nil {
			t.Errorf("EnsureAPIKey(revoked) = %+v, %v; want it still revoked", k3, err)
		}
	})
}
