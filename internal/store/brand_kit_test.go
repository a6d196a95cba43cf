package store_test

import (
	"errors"
	"testing"

	"outpost/internal/store"
)

func TestStore_BrandKit(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		f := newFixture(t, ctx, s)
		k, err := s.CreateBrandKit(ctx, store.BrandKit{WorkspaceID: f.ws.ID, Slug: "acme", Name: "Acme Corp",
			Client: "Acme", WatermarkKey: "brand/acme.svg", WatermarkFormat: "svg", Position: "tr",
			Margin: 0.04, Width: 0.2, Opacity: 0.8, IntroProjectID: f.prj.ID})
		if err != nil {
			t.Fatalf("CreateBrandKit: %v", err)
		}
		if !store.HasPrefix(k.ID, store.PrefixBrandKit) || k.Width != 0.2 || k.Opacity != 0.8 || k.IntroProjectID != f.prj.ID || k.CreatedAt.IsZero() {
			t.Errorf("CreateBrandKit = %+v", k)
		}
		if _, err := s.CreateBrandKit(ctx, store.BrandKit{WorkspaceID: f.ws.ID, Slug: "acme", Name: "Other"}); !errors.Is(err, store.ErrConflict) {
			t.Errorf("duplicate slug: %v, want ErrConflict", err)
		}
		b, err := s.CreateBrandKit(ctx, store.BrandKit{WorkspaceID: f.ws.ID, Slug: "beta", Name: "Beta", Position: "br"})
		if err != nil {
			t.Fatal(err)
		}
		for _, ref := range []string{"acme", k.ID} {
			if got, err := s.FindBrandKit(ctx, f.ws.ID, ref); err != nil || got.ID != k.ID {
				t.Errorf("FindBrandKit(%q) = %+v, %v", ref, got, err)
			}
		}
		if _, err := s.FindBrandKit(ctx, "wsp_other", "acme"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("FindBrandKit in another workspace: %v, want ErrNotFound", err)
		}
		list, err := s.ListBrandKits(ctx, f.ws.ID)
		if err != nil || len(list) != 2 || list[0].ID != k.ID || list[1].ID != b.ID {
			t.Errorf("ListBrandKits = %+v, %v", list, err)
		}
		k.Name, k.Opacity, k.OutroProjectID = "Acme Corporation", 0.5, f.prj.ID
		up, err := s.UpdateBrandKit(ctx, k)
		if err != nil || up.Name != "Acme Corporation" || up.Opacity != 0.5 || up.OutroProjectID != f.prj.ID {
			t.Errorf("UpdateBrandKit = %+v, %v", up, err)
		}
		b.Slug = "acme"
		if _, err := s.UpdateBrandKit(ctx, b); !errors.Is(err, store.ErrConflict) {
			t.Errorf("update onto a taken slug: %v, want ErrConflict", err)
		}
		if err := s.DeleteBrandKit(ctx, k.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetBrandKit(ctx, k.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("deleted kit: %v, want ErrNotFound", err)
		}
		if err := s.DeleteBrandKit(ctx, k.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("delete twice: %v, want ErrNotFound", err)
		}
	})
}

func TestStore_ExportGroup(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		f := newFixture(t, ctx, s)
		group := store.NewID(store.PrefixGroup)
		var ids []string
		for _, g := range []string{group, group, ""} {
			e, err := s.CreateExport(ctx, store.Export{WorkspaceID: f.ws.ID, ProjectID: f.prj.ID,
				Request: []byte(`{}`), Priority: 2, PresetIDs: []string{"tiktok"}, GroupID: g})
			if err != nil {
				t.Fatal(err)
			}
			if e.GroupID != g {
				t.Errorf("GroupID = %q, want %q", e.GroupID, g)
			}
			ids = append(ids, e.ID)
		}
		pg, err := s.ListExports(ctx, store.ExportFilter{WorkspaceID: f.ws.ID, GroupID: group})
		if err != nil || len(pg.Exports) != 2 {
			t.Fatalf("ListExports(group) = %+v, %v", pg, err)
		}
		for _, e := range pg.Exports {
			if e.ID == ids[2] {
				t.Errorf("the lone export is listed in the group")
			}
		}
	})
}
