package store_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"outpost/internal/store"
)

// TestStore_Deletion: what stands in a deletion's way, which files it may
// delete (a file another export's rendition still holds stays), and the
// rows it removes, for an export, a project and a workspace.
func TestStore_Deletion(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		fx := newFixture(t, ctx, s)
		con, err := s.UpsertConnection(ctx, store.Connection{WorkspaceID: fx.ws.ID, Platform: "tiktok", AccountID: "tt1",
			AccountName: "Acme", AccessToken: []byte("a")})
		if err != nil {
			t.Fatal(err)
		}
		// Two exports of the project; the second's rendition shares the
		// first's file (one file may back several renditions), and each
		// has its own thumbnail.
		shared := "renditions/e1/tiktok.mp4"
		mk := func(presets string, keys ...string) (store.Export, []store.Rendition) {
			t.Helper()
			e, err := s.CreateExport(ctx, store.Export{WorkspaceID: fx.ws.ID, ProjectID: fx.prj.ID, Status: store.ExportSucceeded,
				PresetIDs: strings.Split(presets, ",")})
			if err != nil {
				t.Fatal(err)
			}
			var rs []store.Rendition
			for i, k := range keys {
				r, err := s.CreateRendition(ctx, store.Rendition{ExportID: e.ID, PresetID: e.PresetIDs[i], TargetIndex: i,
					Status: store.RenditionSucceeded, BlobKey: k, ThumbnailKey: "renditions/" + e.ID + "/" + e.PresetIDs[i] + ".jpg"})
				if err != nil {
					t.Fatal(err)
				}
				rs = append(rs, r)
			}
			return e, rs
		}
		e1, r1 := mk("tiktok,youtube-1080p", shared, "renditions/e1/youtube-1080p.mp4")
		e2, r2 := mk("instagram-reel", shared)
		if _, err := s.InsertEvent(ctx, store.Event{WorkspaceID: fx.ws.ID, Type: "export.queued", SubjectID: e1.ID}); err != nil {
			t.Fatal(err)
		}

		// A scheduled post needs the first export's shared file; a
		// published one is on the platform already.
		when := time.Now().Add(time.Hour)
		pub, err := s.CreatePublication(ctx, store.Publication{WorkspaceID: fx.ws.ID, ExportID: e1.ID, RenditionID: r1[0].ID,
			ConnectionID: con.ID, Platform: "tiktok", Metadata: json.RawMessage(`{}`), ScheduleAt: &when})
		if err != nil {
			t.Fatal(err)
		}
		done, err := s.CreatePublication(ctx, store.Publication{WorkspaceID: fx.ws.ID, ExportID: e1.ID, RenditionID: r1[1].ID,
			ConnectionID: con.ID, Platform: "tiktok", Metadata: json.RawMessage(`{}`)})
		if err != nil {
			t.Fatal(err)
		}
		done.State, done.PostURL = store.PublicationPublished, "https://tiktok.example/v/1"
		if _, err := s.UpdatePublication(ctx, done); err != nil {
			t.Fatal(err)
		}
		chk, err := s.CheckDeletion(ctx, store.ExportScope(e1.ID))
		if err != nil {
			t.Fatal(err)
		}
		if len(chk.NeedFile) != 1 || chk.NeedFile[0].ID != pub.ID || chk.RemotePosts != 1 || len(chk.LiveExports) != 0 {
			t.Errorf("CheckDeletion(e1) = %+v", chk)
		}

		// The shared file stays for e2; e1's own file and both thumbnails
		// of e1 may go.
		free, held, err := s.DeletionFiles(ctx, store.ExportScope(e1.ID))
		if err != nil {
			t.Fatal(err)
		}
		wantFree := []string{r1[0].ThumbnailKey, r1[1].ThumbnailKey, "renditions/e1/youtube-1080p.mp4"}
		slices.Sort(wantFree)
		if !slices.Equal(free, wantFree) || !slices.Equal(held, []string{shared}) {
			t.Errorf("DeletionFiles(e1) = free %v, held %v; want free %v, held [%s]", free, held, wantFree, shared)
		}
		n, err := s.DeleteScope(ctx, store.ExportScope(e1.ID))
		if err != nil || n.Exports != 1 || n.Projects != 0 {
			t.Fatalf("DeleteScope(e1) = %+v, %v", n, err)
		}
		if _, err := s.GetExport(ctx, e1.ID); err == nil {
			t.Error("e1 still there")
		}
		if _, err := s.GetPublication(ctx, pub.ID); err == nil {
			t.Error("e1's publication still there")
		}
		if n, _ := s.CountEvents(ctx, store.EventFilter{WorkspaceID: fx.ws.ID}); n != 0 {
			t.Errorf("%d tracking events of e1 left", n)
		}
		// Now e2 holds the shared file alone: it goes with e2.
		if free, held, _ = s.DeletionFiles(ctx, store.ExportScope(e2.ID)); !slices.Equal(free, []string{shared, r2[0].ThumbnailKey}) || len(held) != 0 {
			t.Errorf("DeletionFiles(e2) = free %v, held %v", free, held)
		}
		// A file deleted by retention is not listed again.
		if err := s.MarkRenditionDeleted(ctx, r2[0].ID, time.Now()); err != nil {
			t.Fatal(err)
		}
		if free, _, _ = s.DeletionFiles(ctx, store.ExportScope(e2.ID)); len(free) != 0 {
			t.Errorf("DeletionFiles(e2) after retention = %v", free)
		}

		// A project: its source and poster, its exports. A live export
		// and a brand kit using it as an intro stand in the way.
		intro, err := s.CreateProject(ctx, store.Project{WorkspaceID: fx.ws.ID, Name: "Intro", Kind: store.ProjectUpload,
			SourceKey: "projects/intro/source.mp4", ThumbnailKey: "projects/intro/poster.jpg", Status: store.ProjectReady})
		if err != nil {
			t.Fatal(err)
		}
		kit, err := s.CreateBrandKit(ctx, store.BrandKit{WorkspaceID: fx.ws.ID, Slug: "acme", Name: "Acme", IntroProjectID: intro.ID})
		if err != nil {
			t.Fatal(err)
		}
		live, err := s.CreateExport(ctx, store.Export{WorkspaceID: fx.ws.ID, ProjectID: fx.prj.ID, Status: store.ExportQueued,
			Request: json.RawMessage(`{"project_id":"` + fx.prj.ID + `","intro_project_id":"` + intro.ID + `"}`)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateProject(ctx, store.Project{WorkspaceID: fx.ws.ID, Name: "Cut", Kind: store.ProjectTimeline,
			Timeline: json.RawMessage(`{"clips":[{"project_id":"` + intro.ID + `"}]}`), Status: store.ProjectReady}); err != nil {
			t.Fatal(err)
		}
		chk, err = s.CheckDeletion(ctx, store.ProjectScope(intro.ID))
		if err != nil {
			t.Fatal(err)
		}
		if len(chk.UsedBy) != 3 || !strings.Contains(chk.UsedBy[0], `brand kit "Acme"`) || !strings.Contains(chk.UsedBy[1], live.ID) ||
			chk.UsedBy[2] != `timeline project "Cut"` {
			t.Errorf("CheckDeletion(intro).UsedBy = %q", chk.UsedBy)
		}
		if chk, _ = s.CheckDeletion(ctx, store.ProjectScope(fx.prj.ID)); !slices.Equal(chk.LiveExports, []string{live.ID}) {
			t.Errorf("CheckDeletion(project).LiveExports = %v", chk.LiveExports)
		}
		if free, _, _ = s.DeletionFiles(ctx, store.ProjectScope(intro.ID)); !slices.Equal(free, []string{"projects/intro/poster.jpg", "projects/intro/source.mp4"}) {
			t.Errorf("DeletionFiles(intro) = %v", free)
		}
		if n, err = s.DeleteScope(ctx, store.ProjectScope(fx.prj.ID)); err != nil || n.Projects != 1 || n.Exports != 2 {
			t.Errorf("DeleteScope(project) = %+v, %v", n, err)
		}

		// A workspace: everything in it, the kit's watermark included;
		// its members move to another of their workspaces (or the
		// default one) and keep their accounts.
		acme, err := s.CreateWorkspace(ctx, store.Workspace{Slug: "acme", Name: "Acme"})
		if err != nil {
			t.Fatal(err)
		}
		ada := newOwner(t, s, fx.ws, "ada@example.com")
		if _, err := s.AddMember(ctx, acme.ID, ada.ID, store.RoleOwner); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SwitchWorkspace(ctx, ada.ID, acme.ID); err != nil {
			t.Fatal(err)
		}
		bob, err := s.CreateUser(ctx, store.User{WorkspaceID: acme.ID, Email: "bob@example.com", PasswordHash: "x"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateBrandKit(ctx, store.BrandKit{WorkspaceID: acme.ID, Slug: "k", Name: "K", WatermarkKey: "brand-kits/k/logo.png"}); err != nil {
			t.Fatal(err)
		}
		if free, _, _ = s.DeletionFiles(ctx, store.WorkspaceScope(acme.ID)); !slices.Equal(free, []string{"brand-kits/k/logo.png"}) {
			t.Errorf("DeletionFiles(acme) = %v", free)
		}
		if alone, err := s.OwnedAlone(ctx, ada.ID); err != nil || len(alone) != 2 {
			t.Errorf("OwnedAlone(ada) = %+v, %v; want default and acme", alone, err)
		}
		if _, err := s.DeleteScope(ctx, store.WorkspaceScope(acme.ID)); err != nil {
			t.Fatalf("DeleteScope(acme): %v", err)
		}
		if u, err := s.GetUser(ctx, ada.ID); err != nil || u.WorkspaceID != fx.ws.ID || u.Role != store.RoleOwner {
			t.Errorf("ada after acme's deletion = %+v, %v", u, err)
		}
		if u, err := s.GetUser(ctx, bob.ID); err != nil || u.WorkspaceID != fx.ws.ID || u.Role != "" {
			t.Errorf("bob after acme's deletion = %+v, %v (want the default workspace, no role)", u, err)
		}
		if _, err := s.DeleteScope(ctx, store.WorkspaceScope(fx.ws.ID)); err == nil {
			t.Error("the default workspace was deleted")
		}
		_ = kit

		if err := s.DeleteUser(ctx, bob.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetUser(ctx, bob.ID); err == nil {
			t.Error("bob still there")
		}
	})
}
