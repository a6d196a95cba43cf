package store_test

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"outpost/internal/errcode"
	"outpost/internal/store"
)

func TestStore_UserSession(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		ws, err := s.DefaultWorkspace(ctx)
		if err != nil {
			t.Fatal(err)
		}
		u, err := s.CreateUser(ctx, store.User{WorkspaceID: ws.ID, Email: " Ada@Example.COM ", PasswordHash: "$argon2id$x", Role: store.RoleAdmin})
		if err != nil {
			t.Fatalf("CreateUser: %v", err)
		}
		if u.Email != "ada@example.com" {
			t.Errorf("Email = %q, want it normalised", u.Email)
		}
		if _, err := s.CreateUser(ctx, store.User{WorkspaceID: ws.ID, Email: "ADA@example.com", PasswordHash: "x"}); !errors.Is(err, store.ErrConflict) {
			t.Errorf("duplicate email: %v, want ErrConflict", err)
		}
		got, err := s.GetUserByEmail(ctx, "ada@EXAMPLE.com")
		if err != nil || got.ID != u.ID || got.PasswordHash != "$argon2id$x" || got.Role != store.RoleAdmin {
			t.Errorf("GetUserByEmail = %+v, %v", got, err)
		}
		u.Name, u.Role = "Ada", store.RoleMember
		if up, err := s.UpdateUser(ctx, u); err != nil || up.Name != "Ada" || up.Role != store.RoleMember {
			t.Errorf("UpdateUser = %+v, %v", up, err)
		}
		if us, err := s.ListUsers(ctx, ws.ID); err != nil || len(us) != 1 {
			t.Errorf("ListUsers = %+v, %v", us, err)
		}

		at := time.Now()
		sess, token, err := s.CreateSession(ctx, u.ID, at.Add(time.Hour))
		if err != nil || len(token) < 40 {
			t.Fatalf("CreateSession = %+v, %q, %v", sess, token, err)
		}
		if got, err := s.LookupSession(ctx, token, at); err != nil || got.ID != sess.ID || got.UserID != u.ID {
			t.Errorf("LookupSession = %+v, %v", got, err)
		}
		if _, err := s.LookupSession(ctx, token, at.Add(2*time.Hour)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("expired session: %v, want ErrNotFound", err)
		}
		if err := s.TouchSession(ctx, sess.ID, at.Add(50*time.Minute), at.Add(3*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.LookupSession(ctx, token, at.Add(2*time.Hour)); err != nil {
			t.Errorf("extended session: %v", err)
		}
		if n, err := s.DeleteExpiredSessions(ctx, at.Add(4*time.Hour)); err != nil || n != 1 {
			t.Errorf("DeleteExpiredSessions = %d, %v; want 1", n, err)
		}
		if _, err := s.LookupSession(ctx, token, at); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("deleted session: %v, want ErrNotFound", err)
		}
	})
}

func TestStore_ConnectionPublication(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		fx := newFixture(t, ctx, s)
		expiry := time.Now().Add(time.Hour)
		sealed := []byte{0x01, 0x00, 0xff, 0x10} // binary, with a NUL
		c, err := s.UpsertConnection(ctx, store.Connection{WorkspaceID: fx.ws.ID, Platform: "youtube", AccountID: "UC123",
			AccountName: "Acme TV", AccessToken: sealed, RefreshToken: []byte("r1"), TokenExpiresAt: &expiry,
			Scopes: []string{"youtube.upload", "youtube.readonly"}})
		if err != nil {
			t.Fatalf("UpsertConnection: %v", err)
		}
		if c.Status != store.ConnectionActive || !bytes.Equal(c.AccessToken, sealed) ||
			!slices.Equal(c.Scopes, []string{"youtube.upload", "youtube.readonly"}) {
			t.Errorf("UpsertConnection = %+v", c)
		}
		// Reconnecting the same account keeps the id and replaces the tokens.
		again, err := s.UpsertConnection(ctx, store.Connection{WorkspaceID: fx.ws.ID, Platform: "youtube", AccountID: "UC123",
			AccountName: "Acme TV 2", AccessToken: []byte("a2"), RefreshToken: []byte("r2")})
		if err != nil || again.ID != c.ID || again.AccountName != "Acme TV 2" || string(again.AccessToken) != "a2" || again.TokenExpiresAt != nil {
			t.Errorf("reconnect = %+v, %v", again, err)
		}
		if err := s.SetConnectionStatus(ctx, c.ID, store.ConnectionExpired); err != nil {
			t.Fatal(err)
		}
		if err := s.UpdateConnectionTokens(ctx, c.ID, []byte("a3"), []byte("r3"), &expiry); err != nil {
			t.Fatal(err)
		}
		if got, err := s.GetConnection(ctx, c.ID); err != nil || got.Status != store.ConnectionActive || string(got.RefreshToken) != "r3" {
			t.Errorf("after refresh = %+v, %v", got, err)
		}
		if cs, err := s.ListConnections(ctx, fx.ws.ID); err != nil || len(cs) != 1 {
			t.Errorf("ListConnections = %+v, %v", cs, err)
		}

		e, err := s.CreateExport(ctx, store.Export{WorkspaceID: fx.ws.ID, ProjectID: fx.prj.ID})
		if err != nil {
			t.Fatal(err)
		}
		r, err := s.CreateRendition(ctx, store.Rendition{ExportID: e.ID, PresetID: "youtube-1080p"})
		if err != nil {
			t.Fatal(err)
		}
		when := time.Now().Add(24 * time.Hour)
		p, err := s.CreatePublication(ctx, store.Publication{WorkspaceID: fx.ws.ID, ExportID: e.ID, RenditionID: r.ID,
			ConnectionID: c.ID, Platform: "youtube", Metadata: json.RawMessage(`{"title":"Launch"}`), ScheduleAt: &when})
		if err != nil {
			t.Fatalf("CreatePublication: %v", err)
		}
		if p.State != store.PublicationScheduled {
			t.Errorf("State = %q, want scheduled", p.State)
		}
		if n, err := s.CountOpenPublications(ctx, r.ID); err != nil || n != 1 {
			t.Errorf("CountOpenPublications = %d, %v; want 1", n, err)
		}
		published := time.Now()
		p.State, p.Attempts, p.PostURL, p.PublishedAt = store.PublicationPublished, 2, "https://youtu.be/x", &published
		p.RemoteIDs = json.RawMessage(`{"upload_session":"s1","video_id":"x"}`)
		up, err := s.UpdatePublication(ctx, p)
		if err != nil || up.State != store.PublicationPublished || up.Attempts != 2 || up.PostURL != p.PostURL ||
			!jsonEqual(t, up.RemoteIDs, p.RemoteIDs) || up.PublishedAt == nil {
			t.Errorf("UpdatePublication = %+v, %v", up, err)
		}
		if n, err := s.CountOpenPublications(ctx, r.ID); err != nil || n != 0 {
			t.Errorf("CountOpenPublications after publish = %d, %v; want 0", n, err)
		}
		if ps, err := s.ListPublications(ctx, e.ID); err != nil || len(ps) != 1 {
			t.Errorf("ListPublications = %+v, %v", ps, err)
		}

		// Deleting the connection deletes its publications.
		if err := s.DeleteConnection(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetPublication(ctx, p.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("publication of a deleted connection: %v, want ErrNotFound", err)
		}
	})
}

func TestStore_Webhook(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		ws, err := s.DefaultWorkspace(ctx)
		if err != nil {
			t.Fatal(err)
		}
		w, err := s.CreateWebhookEndpoint(ctx, store.WebhookEndpoint{WorkspaceID: ws.ID, URL: "https://hooks.example.com/x",
			Secret: "whsec_abc", Events: []string{"export.completed"}, Enabled: true})
		if err != nil {
			t.Fatalf("CreateWebhookEndpoint: %v", err)
		}
		if !w.Wants("export.completed") || w.Wants("export.created") {
			t.Errorf("Wants: %+v", w)
		}
		w.Events, w.Enabled = nil, false
		if up, err := s.UpdateWebhookEndpoint(ctx, w); err != nil || up.Enabled || len(up.Events) != 0 {
			t.Errorf("UpdateWebhookEndpoint = %+v, %v", up, err)
		}
		// A plain secret (from before 00014) is listed until sealed, and
		// sealed once whichever node gets there first.
		if plain, err := s.ListPlainWebhookSecrets(ctx); err != nil || len(plain) != 1 || plain[0].ID != w.ID {
			t.Errorf("ListPlainWebhookSecrets = %+v, %v", plain, err)
		}
		for i, want := range []bool{true, false} {
			if ok, err := s.SealWebhookSecret(ctx, w.ID, "whsec_abc", []byte{1, 2, byte(i)}); err != nil || ok != want {
				t.Errorf("SealWebhookSecret #%d = %v, %v; want %v", i+1, ok, err, want)
			}
		}
		if got, err := s.GetWebhookEndpoint(ctx, w.ID); err != nil || got.Secret != "" || !slices.Equal(got.SecretSealed, []byte{1, 2, 0}) {
			t.Errorf("sealed endpoint = %+v, %v", got, err)
		}
		if plain, err := s.ListPlainWebhookSecrets(ctx); err != nil || len(plain) != 0 {
			t.Errorf("ListPlainWebhookSecrets after sealing = %+v, %v", plain, err)
		}
		ev, err := s.InsertEvent(ctx, store.Event{WorkspaceID: ws.ID, Type: "export.completed"})
		if err != nil {
			t.Fatal(err)
		}
		d, err := s.CreateWebhookDelivery(ctx, store.WebhookDelivery{EndpointID: w.ID, EventID: ev.ID})
		if err != nil || d.Status != store.DeliveryPending {
			t.Fatalf("CreateWebhookDelivery = %+v, %v", d, err)
		}
		if _, err := s.CreateWebhookDelivery(ctx, store.WebhookDelivery{EndpointID: w.ID, EventID: ev.ID}); !errors.Is(err, store.ErrConflict) {
			t.Errorf("same event twice: %v, want ErrConflict", err)
		}
		next := time.Now().Add(time.Minute)
		d.Attempts, d.ResponseCode, d.LastError, d.NextAttemptAt = 1, 503, "503 Service Unavailable", &next
		if up, err := s.UpdateWebhookDelivery(ctx, d); err != nil || up.Attempts != 1 || up.ResponseCode != 503 || up.NextAttemptAt == nil {
			t.Errorf("UpdateWebhookDelivery = %+v, %v", up, err)
		}
		if ds, err := s.ListWebhookDeliveries(ctx, w.ID, 10); err != nil || len(ds) != 1 {
			t.Errorf("ListWebhookDeliveries = %+v, %v", ds, err)
		}
		if err := s.DeleteWebhookEndpoint(ctx, w.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetWebhookDelivery(ctx, d.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("delivery of a deleted endpoint: %v, want ErrNotFound", err)
		}
	})
}

// TestStore_SyncRenditionPinConcurrent finishes many publications of one
// rendition at once, each in its own transaction that then syncs the pin:
// once all are final the rendition is not pinned, whatever the order of
// commits. On PostgreSQL every transaction has made its change before any
// syncs (a barrier), the case where each sees the others still open.
func TestStore_SyncRenditionPinConcurrent(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		fx := newFixture(t, ctx, s)
		c, err := s.UpsertConnection(ctx, store.Connection{WorkspaceID: fx.ws.ID, Platform: "youtube", AccountID: "UC1",
			AccountName: "Acme", AccessToken: []byte("a"), RefreshToken: []byte("r")})
		if err != nil {
			t.Fatal(err)
		}
		e, err := s.CreateExport(ctx, store.Export{WorkspaceID: fx.ws.ID, ProjectID: fx.prj.ID})
		if err != nil {
			t.Fatal(err)
		}
		r, err := s.CreateRendition(ctx, store.Rendition{ExportID: e.ID, PresetID: "youtube-1080p"})
		if err != nil {
			t.Fatal(err)
		}
		pinned := func() bool {
			t.Helper()
			got, err := s.GetRendition(ctx, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			return got.Pinned
		}
		const n = 16 // within the PostgreSQL pool, so the barrier can be reached
		var pubs []store.Publication
		for i := range n {
			p, err := s.CreatePublication(ctx, store.Publication{WorkspaceID: fx.ws.ID, ExportID: e.ID, RenditionID: r.ID,
				ConnectionID: c.ID, Platform: "youtube", PresetID: fmt.Sprint("p", i)})
			if err != nil {
				t.Fatal(err)
			}
			pubs = append(pubs, p)
		}
		if err := s.SyncRenditionPin(ctx, r.ID); err != nil || !pinned() {
			t.Fatalf("SyncRenditionPin with open publications: pinned %v, %v; want true", pinned(), err)
		}

		// finish moves pubs to their final state concurrently.
		finish := func(pubs []store.Publication, state store.PublicationState, code errcode.Code) {
			t.Helper()
			var barrier sync.WaitGroup
			if s.Engine() == store.Postgres {
				barrier.Add(len(pubs))
			}
			errs := make(chan error, len(pubs))
			for _, p := range pubs {
				go func() {
					errs <- s.WithTx(ctx, func(tx *sql.Tx) error {
						q := s.Using(tx)
						p.State, p.ErrorCode = state, code
						if _, err := q.TransitionPublication(ctx, p, store.PublicationPending); err != nil {
							return err
						}
						if s.Engine() == store.Postgres {
							barrier.Done()
							barrier.Wait()
						}
						return q.SyncRenditionPin(ctx, r.ID)
					})
				}()
			}
			for range pubs {
				if err := <-errs; err != nil {
					t.Fatalf("finish: %v", err)
				}
			}
		}

		// All but one finish: still pinned. One waiting for a reconnect
		// keeps the pin too.
		finish(pubs[:n-2], store.PublicationPublished, "")
		if !pinned() {
			t.Error("unpinned while two publications are open")
		}
		finish(pubs[n-2:n-1], store.PublicationFailed, "connection_expired")
		if !pinned() {
			t.Error("unpinned while a publication waits for a reconnect")
		}
		finish(pubs[n-1:], store.PublicationCanceled, "canceled")
		if !pinned() {
			t.Error("unpinned while a publication waits for a reconnect")
		}
		// The waiting one is given up: nothing needs the file.
		p := pubs[n-2]
		p.State, p.ErrorCode = store.PublicationCanceled, "canceled"
		if _, err := s.TransitionPublication(ctx, p, store.PublicationFailed); err != nil {
			t.Fatal(err)
		}
		if err := s.SyncRenditionPin(ctx, r.ID); err != nil || pinned() {
			t.Errorf("after the last publication: pinned %v, %v; want false", pinned(), err)
		}

		// Many rounds of all finishing at once.
		for round := range 5 {
			var pubs []store.Publication
			for i := range n {
				p, err := s.CreatePublication(ctx, store.Publication{WorkspaceID: fx.ws.ID, ExportID: e.ID, RenditionID: r.ID,
					ConnectionID: c.ID, Platform: "youtube", PresetID: fmt.Sprint("r", round, "p", i)})
				if err != nil {
					t.Fatal(err)
				}
				pubs = append(pubs, p)
			}
			if err := s.SyncRenditionPin(ctx, r.ID); err != nil || !pinned() {
				t.Fatalf("round %d: not pinned (%v)", round, err)
			}
			finish(pubs, store.PublicationPublished, "")
			if pinned() {
				t.Fatalf("round %d: still pinned after %d concurrent finishes", round, n)
			}
		}
	})
}

func TestStore_Quota(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		k := store.Quota{Platform: "youtube", Project: "client-1", Day: "2026-11-25"}
		if n, err := s.QuotaUsed(ctx, k); err != nil || n != 0 {
			t.Fatalf("QuotaUsed of a new day = %d, %v", n, err)
		}
		// Concurrent reservations never pass the limit together.
		const limit, cost, n = 10000, 1600, 12
		var wg sync.WaitGroup
		var mu sync.Mutex
		granted := 0
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, err := s.ReserveQuota(ctx, k, cost, limit)
				if err != nil {
					t.Error(err)
				}
				if ok {
					mu.Lock()
					granted++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if granted != limit/cost {
			t.Errorf("%d reservations of %d granted within %d, want %d", granted, cost, limit, limit/cost)
		}
		if used, _ := s.QuotaUsed(ctx, k); used != int64(granted*cost) {
			t.Errorf("QuotaUsed = %d, want %d", used, granted*cost)
		}
		// Settling gives back what a call did not spend, never below 0.
		if err := s.AddQuota(ctx, k, -100); err != nil {
			t.Fatal(err)
		}
		if used, _ := s.QuotaUsed(ctx, k); used != int64(granted*cost-100) {
			t.Errorf("after a refund QuotaUsed = %d", used)
		}
		if err := s.AddQuota(ctx, k, -1_000_000); err != nil {
			t.Fatal(err)
		}
		if used, _ := s.QuotaUsed(ctx, k); used != 0 {
			t.Errorf("after a large refund QuotaUsed = %d, want 0", used)
		}
		// The platform's quotaExceeded marks the day used up.
		if err := s.ExhaustQuota(ctx, k, limit); err != nil {
			t.Fatal(err)
		}
		if ok, err := s.ReserveQuota(ctx, k, 1, limit); err != nil || ok {
			t.Errorf("ReserveQuota after quotaExceeded = %v, %v", ok, err)
		}
		// Other days and projects are apart.
		other := k
		other.Day = "2026-11-26"
		if ok, err := s.ReserveQuota(ctx, other, cost, limit); err != nil || !ok {
			t.Errorf("ReserveQuota on the next day = %v, %v", ok, err)
		}
	})
}
