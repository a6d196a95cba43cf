package store_test

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"outpost/internal/errcode"
	"outpost/internal/store"
)

func TestStore_Rendition(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		fx := newFixture(t, ctx, s)
		e, err := s.CreateExport(ctx, store.Export{WorkspaceID: fx.ws.ID, ProjectID: fx.prj.ID,
			PresetIDs: []string{"tiktok", "youtube-1080p"}})
		if err != nil {
			t.Fatal(err)
		}
		// Created out of order; listed in target order.
		r1, err := s.CreateRendition(ctx, store.Rendition{ExportID: e.ID, PresetID: "youtube-1080p", TargetIndex: 1})
		if err != nil {
			t.Fatalf("CreateRendition: %v", err)
		}
		r0, err := s.CreateRendition(ctx, store.Rendition{ExportID: e.ID, PresetID: "tiktok", TargetIndex: 0})
		if err != nil {
			t.Fatalf("CreateRendition: %v", err)
		}
		if r0.Status != store.RenditionPending || r0.Pinned || r0.Saved || r0.ExpiresAt != nil {
			t.Errorf("CreateRendition defaults = %+v", r0)
		}
		if _, err := s.CreateRendition(ctx, store.Rendition{ExportID: e.ID, PresetID: "tiktok", TargetIndex: 0}); !errors.Is(err, store.ErrConflict) {
			t.Errorf("same target twice: err = %v, want ErrConflict", err)
		}
		list, err := s.ListRenditions(ctx, e.ID)
		if err != nil || len(list) != 2 || list[0].ID != r0.ID || list[1].ID != r1.ID {
			t.Fatalf("ListRenditions = %+v, %v", list, err)
		}

		expires := time.Date(2026, 6, 1, 10, 0, 0, 123456789, time.UTC)
		report := json.RawMessage(`{"ok":true,"checks":[{"rule":"max_duration","ok":true}]}`)
		r0.Status, r0.BlobKey, r0.SizeBytes, r0.Duration = store.RenditionSucceeded, "renders/a.mp4", 1234567, 59.96
		r0.Width, r0.Height, r0.VideoCodec, r0.AudioCodec = 1080, 1920, "h264", "aac"
		r0.Passthrough, r0.CheckReport, r0.ThumbnailKey, r0.ExpiresAt = true, report, "thumbs/a.jpg", &expires
		r0.CaptionsKey = "renditions/a/youtube-1080p.srt"
		warnings := json.RawMessage(`[{"code":"source_damaged","message":"the source is damaged","ranges":[{"start":4,"end":6.5}]}]`)
		r0.Warnings = warnings
		r0.Saved = true // ignored by UpdateRendition
		up, err := s.UpdateRendition(ctx, r0)
		if err != nil {
			t.Fatalf("UpdateRendition: %v", err)
		}
		wantExpires := expires.Truncate(time.Microsecond)
		if up.Status != store.RenditionSucceeded || up.BlobKey != "renders/a.mp4" || up.SizeBytes != 1234567 ||
			up.Duration != 59.96 || up.Width != 1080 || up.Height != 1920 || up.VideoCodec != "h264" ||
			up.AudioCodec != "aac" || !up.Passthrough || !jsonEqual(t, up.CheckReport, report) ||
			up.ThumbnailKey != "thumbs/a.jpg" || up.CaptionsKey != "renditions/a/youtube-1080p.srt" || up.ExpiresAt == nil || !up.ExpiresAt.Equal(wantExpires) || up.Saved ||
			!jsonEqual(t, up.Warnings, warnings) {
			t.Errorf("UpdateRendition = %+v", up)
		}

		r1.Status, r1.ErrorCode, r1.ErrorMessage = store.RenditionFailed, errcode.PlatformRule, "too long"
		if _, err := s.UpdateRendition(ctx, r1); err != nil {
			t.Fatal(err)
		}
		if got, err := s.GetRendition(ctx, r1.ID); err != nil || got.ErrorCode != errcode.PlatformRule || got.ErrorMessage != "too long" || got.Warnings != nil {
			t.Errorf("GetRendition = %+v, %v", got, err)
		}
		if _, err := s.GetRendition(ctx, "rnd_missing"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetRendition(missing) = %v, want ErrNotFound", err)
		}
		if _, err := s.UpdateRendition(ctx, store.Rendition{ID: "rnd_missing"}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("UpdateRendition(missing) = %v, want ErrNotFound", err)
		}
	})
}

func TestStore_ListExpiredRenditions(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		fx := newFixture(t, ctx, s)
		e, err := s.CreateExport(ctx, store.Export{WorkspaceID: fx.ws.ID, ProjectID: fx.prj.ID})
		if err != nil {
			t.Fatal(err)
		}
		at := time.Date(2026, 6, 3, 12, 0, 0, 0, time.UTC)
		ptr := func(t time.Time) *time.Time { return &t }
		cases := []struct {
			name    string
			expires *time.Time
			pinned  bool
			saved   bool
			deleted bool
			want    bool
		}{
			{"expired long ago", ptr(at.Add(-48 * time.Hour)), false, false, false, true},
			{"expires exactly now", ptr(at), false, false, false, true},
			// Sub-second order must hold on SQLite's text timestamps too.
			{"expired 1µs ago", ptr(at.Add(-time.Microsecond)), false, false, false, true},
			{"expires in 1µs", ptr(at.Add(time.Microsecond)), false, false, false, false},
			{"expires tomorrow", ptr(at.Add(24 * time.Hour)), false, false, false, false},
			{"never expires", nil, false, false, false, false},
			{"pinned", ptr(at.Add(-time.Hour)), true, false, false, false},
			{"saved", ptr(at.Add(-time.Hour)), false, true, false, false},
			{"already deleted", ptr(at.Add(-time.Hour)), false, false, true, false},
		}
		ids := map[string]string{}
		var want []string
		for i, c := range cases {
			r, err := s.CreateRendition(ctx, store.Rendition{ExportID: e.ID, PresetID: "mp4-720p", TargetIndex: i,
				Status: store.RenditionSucceeded, BlobKey: "renders/" + c.name, ExpiresAt: c.expires})
			if err != nil {
				t.Fatal(err)
			}
			ids[r.ID] = c.name
			if c.pinned {
				if err := s.SetRenditionPinned(ctx, r.ID, true); err != nil {
					t.Fatalf("SetRenditionPinned: %v", err)
				}
			}
			if c.saved {
				if err := s.SaveRendition(ctx, r.ID); err != nil {
					t.Fatalf("SaveRendition: %v", err)
				}
			}
			if c.deleted {
				if err := s.MarkRenditionDeleted(ctx, r.ID, at.Add(-time.Minute)); err != nil {
					t.Fatalf("MarkRenditionDeleted: %v", err)
				}
			}
			if c.want {
				want = append(want, c.name)
			}
		}
		expired, err := s.ListExpiredRenditions(ctx, at, 100)
		if err != nil {
			t.Fatalf("ListExpiredRenditions: %v", err)
		}
		var got []string
		for _, r := range expired {
			got = append(got, ids[r.ID])
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("expired = %q, want %q", got, want)
		}

		// Deleting them empties the list; deleting again keeps the first time.
		for _, r := range expired {
			if err := s.MarkRenditionDeleted(ctx, r.ID, at); err != nil {
				t.Fatal(err)
			}
			if err := s.MarkRenditionDeleted(ctx, r.ID, at.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			got, err := s.GetRendition(ctx, r.ID)
			if err != nil || got.DeletedAt == nil || !got.DeletedAt.Equal(at) {
				t.Errorf("DeletedAt = %v, %v; want %v", got.DeletedAt, err, at)
			}
		}
		if again, err := s.ListExpiredRenditions(ctx, at, 100); err != nil || len(again) != 0 {
			t.Errorf("after delete: %d expired, %v", len(again), err)
		}
		// Unpinning makes the pinned one due.
		for id, name := range ids {
			if name == "pinned" {
				if err := s.SetRenditionPinned(ctx, id, false); err != nil {
					t.Fatal(err)
				}
			}
		}
		if again, err := s.ListExpiredRenditions(ctx, at, 100); err != nil || len(again) != 1 || ids[again[0].ID] != "pinned" {
			t.Errorf("after unpin: %+v, %v", again, err)
		}
		if err := s.SaveRendition(ctx, "rnd_missing"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("SaveRendition(missing) = %v, want ErrNotFound", err)
		}
	})
}

// A saved rendition has no expiry, and a later write of its outcome (a
// thumbnail upload, a late render step) does not give it one back.
func TestStore_SaveRendition(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		fx := newFixture(t, ctx, s)
		e, err := s.CreateExport(ctx, store.Export{WorkspaceID: fx.ws.ID, ProjectID: fx.prj.ID})
		if err != nil {
			t.Fatal(err)
		}
		expires := time.Now().Add(48 * time.Hour).UTC()
		r, err := s.CreateRendition(ctx, store.Rendition{ExportID: e.ID, PresetID: "mp4-720p",
			Status: store.RenditionSucceeded, BlobKey: "renditions/a.mp4", ExpiresAt: &expires})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SaveRendition(ctx, r.ID); err != nil {
			t.Fatalf("SaveRendition: %v", err)
		}
		got, err := s.GetRendition(ctx, r.ID)
		if err != nil || !got.Saved || got.ExpiresAt != nil {
			t.Fatalf("after save: saved %v, expires_at %v, %v; want saved, no expiry", got.Saved, got.ExpiresAt, err)
		}
		got.ExpiresAt, got.ThumbnailKey = &expires, "renditions/a.thumbnail.jpg"
		if got, err = s.UpdateRendition(ctx, got); err != nil || got.ExpiresAt != nil || got.ThumbnailKey == "" {
			t.Errorf("after update: expires_at %v, thumbnail %q, %v; want no expiry", got.ExpiresAt, got.ThumbnailKey, err)
		}
		// Let go again, it expires when it is told.
		if err := s.UnsaveRendition(ctx, r.ID, expires); err != nil {
			t.Fatalf("UnsaveRendition: %v", err)
		}
		if got, err = s.GetRendition(ctx, r.ID); err != nil || got.Saved || got.ExpiresAt == nil || !got.ExpiresAt.Equal(expires.Truncate(time.Microsecond)) {
			t.Errorf("after unsave: saved %v, expires_at %v, %v; want not saved, expiring %v", got.Saved, got.ExpiresAt, err, expires)
		}
		if err := s.UnsaveRendition(ctx, "rnd_missing", expires); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("UnsaveRendition(missing) = %v, want ErrNotFound", err)
		}
	})
}

// TestStore_CountFileHolders: renditions that share one file each hold
// it until their own file is deleted; failed ones never do.
func TestStore_CountFileHolders(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		fx := newFixture(t, ctx, s)
		e, err := s.CreateExport(ctx, store.Export{WorkspaceID: fx.ws.ID, ProjectID: fx.prj.ID,
			PresetIDs: []string{"instagram-reel", "tiktok", "facebook-reel", "youtube-1080p"}})
		if err != nil {
			t.Fatal(err)
		}
		shared := "renditions/" + e.ID + "/instagram-reel+tiktok+facebook-reel.mp4"
		var rs []store.Rendition
		for i, key := range []string{shared, shared, "", "renditions/" + e.ID + "/youtube-1080p.mp4"} {
			status := store.RenditionSucceeded
			if key == "" {
				status = store.RenditionFailed // its check failed: it holds nothing
			}
			r, err := s.CreateRendition(ctx, store.Rendition{ExportID: e.ID, PresetID: e.PresetIDs[i], TargetIndex: i,
				Status: status, BlobKey: key})
			if err != nil {
				t.Fatal(err)
			}
			rs = append(rs, r)
		}
		holders := func(key, except string) int {
			t.Helper()
			n, err := s.CountFileHolders(ctx, key, except)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := holders(shared, ""); n != 2 {
			t.Errorf("holders of the shared file = %d, want 2", n)
		}
		if n := holders(shared, rs[0].ID); n != 1 {
			t.Errorf("holders besides the first = %d, want 1", n)
		}
		if err := s.MarkRenditionDeleted(ctx, rs[1].ID, time.Now()); err != nil {
			t.Fatal(err)
		}
		if n := holders(shared, rs[0].ID); n != 0 {
			t.Errorf("holders besides the first after the second was deleted = %d, want 0", n)
		}
		if n := holders(rs[3].BlobKey, rs[3].ID); n != 0 {
			t.Errorf("holders of a file of its own, besides its rendition = %d, want 0", n)
		}
		// A thumbnail is held as the video is (one rule for every file a
		// rendition names).
		rs[3].ThumbnailKey = "renditions/" + e.ID + "/cover.jpg"
		if _, err := s.UpdateRendition(ctx, rs[3]); err != nil {
			t.Fatal(err)
		}
		if n := holders(rs[3].ThumbnailKey, ""); n != 1 {
			t.Errorf("holders of a thumbnail = %d, want 1", n)
		}
	})
}

// TestStore_MigrateSharedFilesOnExisting: a database already at 00012
// (the schema main had before shared files) gets 00015 applied by the next
// Migrate, and 00015 rolls back and forth.
func TestStore_MigrateSharedFilesOnExisting(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		if err := s.MigrateDownTo(ctx, 12); err != nil {
			t.Fatalf("down to 12: %v", err)
		}
		if v, err := s.MigrationVersion(ctx); err != nil || v != 12 {
			t.Fatalf("version after down = %d, %v; want 12", v, err)
		}
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("up again: %v", err)
		}
		if v, err := s.MigrationVersion(ctx); err != nil || v < 15 {
			t.Fatalf("version after up = %d, %v; want 15 or later", v, err)
		}
		if _, err := s.CountFileHolders(ctx, "renditions/x/a.mp4", ""); err != nil {
			t.Errorf("CountFileHolders after up: %v", err)
		}
	})
}

func TestStore_Preset(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		ws, err := s.DefaultWorkspace(ctx)
		if err != nil {
			t.Fatal(err)
		}
		settings := json.RawMessage(`{"quality":"ultra","watermark":{"position":"br"}}`)
		p, err := s.CreatePreset(ctx, store.Preset{WorkspaceID: ws.ID, Name: "Brand reel", BasePresetID: "instagram-reel", Settings: settings})
		if err != nil {
			t.Fatalf("CreatePreset: %v", err)
		}
		if !store.HasPrefix(p.ID, store.PrefixPreset) || !jsonEqual(t, p.Settings, settings) {
			t.Errorf("CreatePreset = %+v", p)
		}
		if _, err := s.CreatePreset(ctx, store.Preset{WorkspaceID: ws.ID, Name: "Brand reel", BasePresetID: "tiktok"}); !errors.Is(err, store.ErrConflict) {
			t.Errorf("duplicate name: %v, want ErrConflict", err)
		}
		q, err := s.CreatePreset(ctx, store.Preset{WorkspaceID: ws.ID, Name: "A short", BasePresetID: "youtube-shorts"})
		if err != nil {
			t.Fatal(err)
		}
		list, err := s.ListPresets(ctx, ws.ID)
		if err != nil || len(list) != 2 || list[0].ID != q.ID || list[1].ID != p.ID {
			t.Errorf("ListPresets = %+v, %v", list, err)
		}

		p.Name, p.Settings = "Brand reel v2", json.RawMessage(`{"quality":"hd"}`)
		up, err := s.UpdatePreset(ctx, p)
		if err != nil || up.Name != "Brand reel v2" || !jsonEqual(t, up.Settings, p.Settings) {
			t.Errorf("UpdatePreset = %+v, %v", up, err)
		}
		q.Name = "Brand reel v2"
		if _, err := s.UpdatePreset(ctx, q); !errors.Is(err, store.ErrConflict) {
			t.Errorf("rename onto a taken name: %v, want ErrConflict", err)
		}
		if err := s.DeletePreset(ctx, p.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetPreset(ctx, p.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("deleted preset: %v, want ErrNotFound", err)
		}
		if err := s.DeletePreset(ctx, p.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("delete twice: %v, want ErrNotFound", err)
		}
	})
}

func TestStore_IdempotencyKey(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		ws, err := s.DefaultWorkspace(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetIdempotencyKey(ctx, ws.ID, "k1"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("missing: %v, want ErrNotFound", err)
		}
		old := time.Now().Add(-48 * time.Hour)
		rec := store.IdempotencyRecord{WorkspaceID: ws.ID, Key: "k1", Method: "POST", Path: "/api/v1/exports",
			RequestHash: "abc", ResponseStatus: 201, ResponseBody: []byte(`{"id":"exp_1"}` + "\n\x00\xff"), CreatedAt: old}
		if err := s.PutIdempotencyKey(ctx, rec); err != nil {
			t.Fatalf("PutIdempotencyKey: %v", err)
		}
		got, err := s.GetIdempotencyKey(ctx, ws.ID, "k1")
		rec.CreatedAt = rec.CreatedAt.UTC().Truncate(time.Microsecond)
		if err != nil || got.Method != rec.Method || got.Path != rec.Path || got.RequestHash != rec.RequestHash ||
			got.ResponseStatus != 201 || string(got.ResponseBody) != string(rec.ResponseBody) || !got.CreatedAt.Equal(rec.CreatedAt) {
			t.Errorf("GetIdempotencyKey = %+v, %v; want %+v", got, err, rec)
		}
		if err := s.PutIdempotencyKey(ctx, rec); !errors.Is(err, store.ErrConflict) {
			t.Errorf("put twice: %v, want ErrConflict", err)
		}
		if err := s.PutIdempotencyKey(ctx, store.IdempotencyRecord{WorkspaceID: ws.ID, Key: "k2", Method: "POST",
			Path: "/api/v1/projects", RequestHash: "def", ResponseStatus: 200}); err != nil {
			t.Fatal(err)
		}
		n, err := s.DeleteIdempotencyKeysBefore(ctx, time.Now().Add(-24*time.Hour))
		if err != nil || n != 1 {
			t.Errorf("DeleteIdempotencyKeysBefore = %d, %v; want 1", n, err)
		}
		if _, err := s.GetIdempotencyKey(ctx, ws.ID, "k2"); err != nil {
			t.Errorf("recent key deleted: %v", err)
		}
	})
}

func TestStore_Events(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		ws, err := s.DefaultWorkspace(ctx)
		if err != nil {
			t.Fatal(err)
		}
		base := time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
		for i, typ := range []string{"export.created", "export.progress", "export.progress", "export.completed", "export.created"} {
			subject := "exp_a"
			if i == 4 {
				subject = "exp_b"
			}
			if _, err := s.InsertEvent(ctx, store.Event{WorkspaceID: ws.ID, Type: typ, SubjectID: subject,
				Payload: json.RawMessage(`{"i":` + string(rune('0'+i)) + `}`), CreatedAt: base.Add(time.Duration(i) * time.Second)}); err != nil {
				t.Fatalf("InsertEvent: %v", err)
			}
		}
		count := func(f store.EventFilter) int64 {
			t.Helper()
			f.WorkspaceID = ws.ID
			n, err := s.CountEvents(ctx, f)
			if err != nil {
				t.Fatalf("CountEvents: %v", err)
			}
			return n
		}
		if n := count(store.EventFilter{}); n != 5 {
			t.Errorf("all = %d, want 5", n)
		}
		if n := count(store.EventFilter{Type: "export.created"}); n != 2 {
			t.Errorf("created = %d, want 2", n)
		}
		if n := count(store.EventFilter{SubjectID: "exp_a", Type: "export.progress"}); n != 2 {
			t.Errorf("exp_a progress = %d, want 2", n)
		}
		if n := count(store.EventFilter{Since: base.Add(time.Second), Until: base.Add(4 * time.Second)}); n != 3 {
			t.Errorf("range = %d, want 3", n)
		}

		var got []int
		cursor := ""
		for {
			page, err := s.ListEvents(ctx, store.EventFilter{WorkspaceID: ws.ID, SubjectID: "exp_a", Limit: 3, Cursor: cursor})
			if err != nil {
				t.Fatalf("ListEvents: %v", err)
			}
			for _, e := range page.Events {
				var p struct{ I int }
				if err := json.Unmarshal(e.Payload, &p); err != nil {
					t.Fatalf("payload %q: %v", e.Payload, err)
				}
				got = append(got, p.I)
			}
			if cursor = page.NextCursor; cursor == "" {
				break
			}
		}
		if want := []int{3, 2, 1, 0}; !slices.Equal(got, want) {
			t.Errorf("ListEvents payloads = %v, want %v", got, want)
		}
	})
}
