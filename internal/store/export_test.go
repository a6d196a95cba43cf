package store_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"outpost/internal/errcode"
	"outpost/internal/store"
)

// jsonEqual reports whether a and b hold the same JSON value (PostgreSQL's
// JSONB normalises spacing and key order).
func jsonEqual(t *testing.T, a, b json.RawMessage) bool {
	t.Helper()
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatalf("unmarshal %s: %v", a, err)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatalf("unmarshal %s: %v", b, err)
	}
	ja, _ := json.Marshal(va)
	jb, _ := json.Marshal(vb)
	return string(ja) == string(jb)
}

func TestStore_Project(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		ws, err := s.DefaultWorkspace(ctx)
		if err != nil {
			t.Fatal(err)
		}
		p, err := s.CreateProject(ctx, store.Project{
			WorkspaceID: ws.ID, Name: "Teaser", Kind: store.ProjectURL,
			SourceURL: "https://example.com/teaser.mp4", Client: "Acme", Campaign: "Spring",
		})
		if err != nil {
			t.Fatalf("CreateProject: %v", err)
		}
		if p.Status != store.ProjectPending || !store.HasPrefix(p.ID, store.PrefixProject) {
			t.Errorf("CreateProject = %+v", p)
		}
		if p.Probe != nil || p.Timeline != nil {
			t.Errorf("empty JSON came back as %q, %q; want nil", p.Probe, p.Timeline)
		}

		probe := json.RawMessage(`{"duration_seconds": 12.5, "video": {"codec": "h264", "width": 1920}}`)
		p.Probe, p.Status, p.SizeBytes, p.Duration = probe, store.ProjectReady, 20<<30, 12.5
		p.ThumbnailKey, p.Name = "thumbs/p.jpg", "Teaser v2"
		up, err := s.UpdateProject(ctx, p)
		if err != nil {
			t.Fatalf("UpdateProject: %v", err)
		}
		if !jsonEqual(t, up.Probe, probe) || up.Status != store.ProjectReady || up.SizeBytes != 20<<30 ||
			up.Duration != 12.5 || up.Name != "Teaser v2" || up.ThumbnailKey != "thumbs/p.jpg" {
			t.Errorf("UpdateProject = %+v", up)
		}
		if !up.CreatedAt.Equal(p.CreatedAt) || up.UpdatedAt.Before(p.UpdatedAt) {
			t.Errorf("times: created %v→%v, updated %v→%v", p.CreatedAt, up.CreatedAt, p.UpdatedAt, up.UpdatedAt)
		}
		if _, err := s.UpdateProject(ctx, store.Project{ID: "prj_missing"}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("UpdateProject(missing) = %v, want ErrNotFound", err)
		}
		if _, err := s.GetProject(ctx, "prj_missing"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetProject(missing) = %v, want ErrNotFound", err)
		}

		// Pagination and search.
		base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		for i := range 4 {
			if _, err := s.CreateProject(ctx, store.Project{
				WorkspaceID: ws.ID, Name: "Clip 100%_" + string(rune('a'+i)), Kind: store.ProjectUpload,
				CreatedAt: base.Add(time.Duration(i) * time.Minute),
			}); err != nil {
				t.Fatal(err)
			}
		}
		var names []string
		cursor := ""
		for {
			page, err := s.ListProjects(ctx, store.ProjectFilter{WorkspaceID: ws.ID, Limit: 2, Cursor: cursor})
			if err != nil {
				t.Fatalf("ListProjects: %v", err)
			}
			for _, p := range page.Projects {
				names = append(names, p.Name)
			}
			if cursor = page.NextCursor; cursor == "" {
				break
			}
		}
		want := []string{"Teaser v2", "Clip 100%_d", "Clip 100%_c", "Clip 100%_b", "Clip 100%_a"}
		if !slices.Equal(names, want) {
			t.Errorf("ListProjects pages = %q, want %q", names, want)
		}
		for q, n := range map[string]int{"clip": 4, "100%_C": 1, "%": 4, "_": 4, "acme": 1, "nothing": 0} {
			page, err := s.ListProjects(ctx, store.ProjectFilter{WorkspaceID: ws.ID, Q: q})
			if err != nil || len(page.Projects) != n {
				t.Errorf("ListProjects(Q=%q) = %d projects, %v; want %d", q, len(page.Projects), err, n)
			}
		}
		// Folders: exact client and campaign, and the counts per pair.
		if _, err := s.CreateProject(ctx, store.Project{WorkspaceID: ws.ID, Name: "Autumn cut", Kind: store.ProjectUpload,
			Client: "Acme", Campaign: "Autumn"}); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			client, campaign string
			n                int
		}{{"Acme", "", 2}, {"Acme", "Spring", 1}, {"Acme", "Autumn", 1}, {"acme", "", 0}, {"", "Autumn", 1}} {
			page, err := s.ListProjects(ctx, store.ProjectFilter{WorkspaceID: ws.ID, Client: c.client, Campaign: c.campaign})
			if err != nil || len(page.Projects) != c.n {
				t.Errorf("ListProjects(client %q, campaign %q) = %d projects, %v; want %d", c.client, c.campaign, len(page.Projects), err, c.n)
			}
		}
		if _, err := s.CreateExport(ctx, store.Export{WorkspaceID: ws.ID, ProjectID: p.ID, Status: store.ExportQueued,
			Request: json.RawMessage(`{}`), Client: "Acme", Campaign: "Spring"}); err != nil {
			t.Fatal(err)
		}
		counts, err := s.CountLabels(ctx, ws.ID)
		if err != nil {
			t.Fatal(err)
		}
		wantCounts := []store.LabelCount{{"", "", 4, 0}, {"Acme", "Autumn", 1, 0}, {"Acme", "Spring", 1, 1}}
		if !slices.Equal(counts, wantCounts) {
			t.Errorf("CountLabels = %+v, want %+v", counts, wantCounts)
		}
	})
}

func TestStore_CreateExport(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		fx := newFixture(t, ctx, s)
		req := json.RawMessage(`{"targets":[{"preset":"youtube-1080p"},{"preset":"tiktok","quality":"web"}]}`)
		created := time.Date(2026, 2, 3, 4, 5, 6, 789123456, time.FixedZone("CET", 3600))
		e, err := s.CreateExport(ctx, store.Export{
			WorkspaceID: fx.ws.ID, ProjectID: fx.prj.ID, Request: req, Priority: 2,
			Client: "Acme", Campaign: "Spring", PresetIDs: []string{"youtube-1080p", "tiktok"},
			IdempotencyKey: "req-1", CreatedAt: created,
		})
		if err != nil {
			t.Fatalf("CreateExport: %v", err)
		}
		want := store.Export{
			ID: e.ID, WorkspaceID: fx.ws.ID, ProjectID: fx.prj.ID, ProjectName: fx.prj.Name,
			Status: store.ExportQueued, Request: e.Request, Priority: 2, Client: "Acme", Campaign: "Spring",
			PresetIDs: []string{"youtube-1080p", "tiktok"}, IdempotencyKey: "req-1",
			// UTC, microseconds: the same on both engines.
			CreatedAt: time.Date(2026, 2, 3, 3, 5, 6, 789123000, time.UTC),
			UpdatedAt: time.Date(2026, 2, 3, 3, 5, 6, 789123000, time.UTC),
		}
		if !exportsEqual(e, want) || !jsonEqual(t, e.Request, req) {
			t.Errorf("CreateExport =\n%+v\nwant\n%+v", e, want)
		}
		if got, err := s.GetExport(ctx, e.ID); err != nil || !exportsEqual(got, e) {
			t.Errorf("GetExport = %+v, %v", got, err)
		}

		// The same idempotency key again: conflict, and the first export is found by it.
		_, err = s.CreateExport(ctx, store.Export{WorkspaceID: fx.ws.ID, ProjectID: fx.prj.ID, IdempotencyKey: "req-1"})
		if !errors.Is(err, store.ErrConflict) {
			t.Errorf("duplicate idempotency key: err = %v, want ErrConflict", err)
		}
		if got, err := s.GetExportByIdempotencyKey(ctx, fx.ws.ID, "req-1"); err != nil || got.ID != e.ID {
			t.Errorf("GetExportByIdempotencyKey = %+v, %v", got, err)
		}
		// Exports without a key never clash.
		for range 2 {
			if _, err := s.CreateExport(ctx, store.Export{WorkspaceID: fx.ws.ID, ProjectID: fx.prj.ID}); err != nil {
				t.Errorf("CreateExport without key: %v", err)
			}
		}
		if _, err := s.CreateExport(ctx, store.Export{WorkspaceID: fx.ws.ID, ProjectID: "prj_missing"}); err == nil {
			t.Error("CreateExport with a missing project succeeded (foreign keys off?)")
		}
		if _, err := s.CreateExport(ctx, store.Export{WorkspaceID: fx.ws.ID, ProjectID: fx.prj.ID, Status: "bogus"}); err == nil {
			t.Error("CreateExport with a bogus status succeeded")
		}
		if _, err := s.GetExport(ctx, "exp_missing"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetExport(missing) = %v, want ErrNotFound", err)
		}
		// Both engines refuse malformed JSON (JSONB on PostgreSQL, a json_valid check on SQLite).
		if _, err := s.CreateExport(ctx, store.Export{WorkspaceID: fx.ws.ID, ProjectID: fx.prj.ID,
			Request: json.RawMessage(`{"targets":`)}); err == nil {
			t.Error("CreateExport with malformed JSON succeeded")
		}
	})
}

func exportsEqual(a, b store.Export) bool {
	a.Request, b.Request = nil, nil
	return a.ID == b.ID && a.WorkspaceID == b.WorkspaceID && a.ProjectID == b.ProjectID &&
		a.ProjectName == b.ProjectName && a.Status == b.Status && a.Priority == b.Priority &&
		a.Client == b.Client && a.Campaign == b.Campaign && slices.Equal(a.PresetIDs, b.PresetIDs) &&
		a.Progress == b.Progress && a.ErrorCode == b.ErrorCode && a.ErrorMessage == b.ErrorMessage &&
		a.IdempotencyKey == b.IdempotencyKey && a.CreatedAt == b.CreatedAt && a.UpdatedAt == b.UpdatedAt &&
		timesEqual(a.StartedAt, b.StartedAt) && timesEqual(a.FinishedAt, b.FinishedAt)
}

func timesEqual(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func TestStore_UpdateExportStatus(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		fx := newFixture(t, ctx, s)
		e, err := s.CreateExport(ctx, store.Export{WorkspaceID: fx.ws.ID, ProjectID: fx.prj.ID})
		if err != nil {
			t.Fatal(err)
		}
		t0 := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)

		e, err = s.UpdateExportStatus(ctx, e.ID, store.StatusChange{Status: store.ExportRunning, At: t0})
		if err != nil || e.Status != store.ExportRunning || e.StartedAt == nil || !e.StartedAt.Equal(t0) || e.FinishedAt != nil {
			t.Fatalf("to running = %+v, %v", e, err)
		}
		// Running again (a retried job) keeps the first start time.
		e, err = s.UpdateExportStatus(ctx, e.ID, store.StatusChange{Status: store.ExportRunning, At: t0.Add(time.Minute)})
		if err != nil || !e.StartedAt.Equal(t0) {
			t.Fatalf("to running again = %+v, %v; want StartedAt kept", e, err)
		}

		if err := s.UpdateExportProgress(ctx, e.ID, store.Progress{Stage: "render", Percent: 42.5, ETA: 90 * time.Second}); err != nil {
			t.Fatalf("UpdateExportProgress: %v", err)
		}
		e, err = s.GetExport(ctx, e.ID)
		if err != nil || e.Progress != (store.Progress{Stage: "render", Percent: 42.5, ETA: 90 * time.Second}) {
			t.Errorf("progress = %+v, %v", e.Progress, err)
		}
		if err := s.UpdateExportProgress(ctx, "exp_missing", store.Progress{}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("UpdateExportProgress(missing) = %v, want ErrNotFound", err)
		}

		t1 := t0.Add(5 * time.Minute)
		e, err = s.UpdateExportStatus(ctx, e.ID, store.StatusChange{
			Status: store.ExportPartiallyFailed, ErrorCode: errcode.PlatformRule, ErrorMessage: "tiktok: too long", At: t1,
		})
		if err != nil || e.FinishedAt == nil || !e.FinishedAt.Equal(t1) || e.ErrorCode != errcode.PlatformRule ||
			e.ErrorMessage != "tiktok: too long" {
			t.Fatalf("to partially_failed = %+v, %v", e, err)
		}
		// Final: the same status again is a no-op; another is a conflict.
		again, err := s.UpdateExportStatus(ctx, e.ID, store.StatusChange{Status: store.ExportPartiallyFailed, At: t1.Add(time.Hour)})
		if err != nil || !again.FinishedAt.Equal(t1) {
			t.Errorf("same final status again = %+v, %v; want unchanged", again, err)
		}
		if _, err := s.UpdateExportStatus(ctx, e.ID, store.StatusChange{Status: store.ExportCanceled}); !errors.Is(err, store.ErrConflict) {
			t.Errorf("final → canceled: err = %v, want ErrConflict", err)
		}
		if _, err := s.UpdateExportStatus(ctx, "exp_missing", store.StatusChange{Status: store.ExportCanceled}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("missing: err = %v, want ErrNotFound", err)
		}
		if _, err := s.UpdateExportStatus(ctx, e.ID, store.StatusChange{Status: "done"}); err == nil {
			t.Error("invalid status accepted")
		}
	})
}

func TestStore_ListExports(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		fx := newFixture(t, ctx, s)
		other, err := s.CreateProject(ctx, store.Project{WorkspaceID: fx.ws.ID, Name: "Podcast ep. 12", Kind: store.ProjectUpload})
		if err != nil {
			t.Fatal(err)
		}
		otherWS, err := s.CreateWorkspace(ctx, store.Workspace{Slug: "other", Name: "Other"})
		if err != nil {
			t.Fatal(err)
		}
		otherWSProject, err := s.CreateProject(ctx, store.Project{WorkspaceID: otherWS.ID, Name: "Spring launch master", Kind: store.ProjectUpload})
		if err != nil {
			t.Fatal(err)
		}

		base := time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)
		type row struct {
			name     string
			project  string
			status   store.ExportStatus
			client   string
			campaign string
			presets  []string
			at       time.Duration // after base
		}
		rows := []row{
			{"a", fx.prj.ID, store.ExportSucceeded, "Acme", "Spring", []string{"youtube-1080p", "tiktok"}, 0},
			{"b", fx.prj.ID, store.ExportFailed, "Acme", "Summer", []string{"instagram-reel"}, time.Hour},
			{"c", other.ID, store.ExportQueued, "Globex", "Spring", []string{"mp4-720p"}, 2 * time.Hour},
			{"d", other.ID, store.ExportRunning, "", "", []string{"youtube-shorts", "tiktok"}, 3 * time.Hour},
			// Same created_at as d: the id breaks the tie.
			{"e", fx.prj.ID, store.ExportSucceeded, "Acme", "Spring", []string{"pst_user_1"}, 3 * time.Hour},
		}
		ids := map[string]string{} // name → id
		names := map[string]string{}
		for _, r := range rows {
			e, err := s.CreateExport(ctx, store.Export{
				WorkspaceID: fx.ws.ID, ProjectID: r.project, Status: r.status, Client: r.client,
				Campaign: r.campaign, PresetIDs: r.presets, CreatedAt: base.Add(r.at),
			})
			if err != nil {
				t.Fatal(err)
			}
			ids[r.name], names[e.ID] = e.ID, r.name
		}
		// Noise in another workspace.
		if _, err := s.CreateExport(ctx, store.Export{WorkspaceID: otherWS.ID, ProjectID: otherWSProject.ID,
			Client: "Acme", PresetIDs: []string{"tiktok"}, CreatedAt: base}); err != nil {
			t.Fatal(err)
		}
		// d and e tie on created_at; the larger id comes first.
		newestTwo := []string{"d", "e"}
		if ids["e"] > ids["d"] {
			newestTwo = []string{"e", "d"}
		}
		all := append(slices.Clone(newestTwo), "c", "b", "a")

		tests := []struct {
			name   string
			filter store.ExportFilter
			want   []string
		}{
			{"all", store.ExportFilter{}, all},
			{"status", store.ExportFilter{Statuses: []store.ExportStatus{store.ExportSucceeded}}, filterNames(all, "a", "e")},
			{"statuses", store.ExportFilter{Statuses: []store.ExportStatus{store.ExportQueued, store.ExportRunning}}, filterNames(all, "c", "d")},
			{"client", store.ExportFilter{Client: "Acme"}, filterNames(all, "a", "b", "e")},
			{"campaign", store.ExportFilter{Campaign: "Spring"}, filterNames(all, "a", "c", "e")},
			{"client+campaign", store.ExportFilter{Client: "Acme", Campaign: "Spring"}, filterNames(all, "a", "e")},
			{"preset", store.ExportFilter{PresetIDs: []string{"tiktok"}}, filterNames(all, "a", "d")},
			{"presets", store.ExportFilter{PresetIDs: []string{"instagram-reel", "mp4-720p"}}, filterNames(all, "b", "c")},
			{"preset is a whole token", store.ExportFilter{PresetIDs: []string{"youtube"}}, nil},
			{"preset with underscore", store.ExportFilter{PresetIDs: []string{"pst_user_1"}}, filterNames(all, "e")},
			{"project", store.ExportFilter{ProjectID: other.ID}, filterNames(all, "c", "d")},
			{"q project name", store.ExportFilter{Q: "PODCAST"}, filterNames(all, "c", "d")},
			{"q client", store.ExportFilter{Q: "globex"}, filterNames(all, "c")},
			{"q campaign", store.ExportFilter{Q: "summ"}, filterNames(all, "b")},
			{"q preset", store.ExportFilter{Q: "shorts"}, filterNames(all, "d")},
			{"q export id", store.ExportFilter{Q: ids["b"]}, filterNames(all, "b")},
			{"q wildcard is literal", store.ExportFilter{Q: "%"}, nil},
			{"from", store.ExportFilter{CreatedFrom: base.Add(2 * time.Hour)}, filterNames(all, "c", "d", "e")},
			{"to", store.ExportFilter{CreatedTo: base.Add(time.Hour)}, filterNames(all, "a")},
			{"range", store.ExportFilter{CreatedFrom: base.Add(30 * time.Minute), CreatedTo: base.Add(3 * time.Hour)}, filterNames(all, "b", "c")},
			{"all filters", store.ExportFilter{Statuses: []store.ExportStatus{store.ExportSucceeded}, Client: "Acme",
				Campaign: "Spring", PresetIDs: []string{"tiktok"}, Q: "spring", CreatedFrom: base}, filterNames(all, "a")},
		}
		for _, tt := range tests {
			f := tt.filter
			f.WorkspaceID = fx.ws.ID
			page, err := s.ListExports(ctx, f)
			if err != nil {
				t.Errorf("%s: ListExports: %v", tt.name, err)
				continue
			}
			var got []string
			for _, e := range page.Exports {
				got = append(got, names[e.ID])
			}
			if !slices.Equal(got, tt.want) || page.NextCursor != "" {
				t.Errorf("%s: got %q (next %q), want %q", tt.name, got, page.NextCursor, tt.want)
			}
		}

		// Pages of two walk the whole history once, in order, even across the tie.
		var got []string
		cursor := ""
		for pages := 0; ; pages++ {
			if pages > 5 {
				t.Fatal("pagination does not end")
			}
			page, err := s.ListExports(ctx, store.ExportFilter{WorkspaceID: fx.ws.ID, Limit: 2, Cursor: cursor})
			if err != nil {
				t.Fatalf("ListExports page: %v", err)
			}
			for _, e := range page.Exports {
				got = append(got, names[e.ID])
			}
			if cursor = page.NextCursor; cursor == "" {
				break
			}
		}
		if !slices.Equal(got, all) {
			t.Errorf("paged = %q, want %q", got, all)
		}
		// A page of exactly the remaining rows has no next cursor.
		page, err := s.ListExports(ctx, store.ExportFilter{WorkspaceID: fx.ws.ID, Limit: 5})
		if err != nil || len(page.Exports) != 5 || page.NextCursor != "" {
			t.Errorf("Limit 5 = %d exports, next %q, %v", len(page.Exports), page.NextCursor, err)
		}

		for _, bad := range []string{"!!!", "bm90LWEtY3Vyc29y", "MTIz"} {
			if _, err := s.ListExports(ctx, store.ExportFilter{WorkspaceID: fx.ws.ID, Cursor: bad}); !errors.Is(err, store.ErrInvalidCursor) {
				t.Errorf("cursor %q: err = %v, want ErrInvalidCursor", bad, err)
			}
		}
	})
}

// filterNames returns the names of all that are in keep, in all's order.
func filterNames(all []string, keep ...string) []string {
	var out []string
	for _, n := range all {
		if slices.Contains(keep, n) {
			out = append(out, n)
		}
	}
	return out
}

// TestStore_ExportWarningsRefused: an export keeps the targets refused at
// acceptance and the warnings about its files.
func TestStore_ExportWarningsRefused(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		fx := newFixture(t, ctx, s)
		refused := json.RawMessage(`[{"target_index":1,"preset":"instagram-reel","code":"platform_rule_violated","rule":"min_duration","message":"too short"}]`)
		e, err := s.CreateExport(ctx, store.Export{WorkspaceID: fx.ws.ID, ProjectID: fx.prj.ID,
			PresetIDs: []string{"mp4-720p", "instagram-reel"}, Refused: refused})
		if err != nil {
			t.Fatal(err)
		}
		if !jsonEqual(t, e.Refused, refused) || e.Warnings != nil {
			t.Errorf("created: refused %s, warnings %s", e.Refused, e.Warnings)
		}
		warnings := json.RawMessage(`[{"code":"source_damaged","message":"damaged","ranges":[{"start":1,"end":2}]}]`)
		if err := s.SetExportWarnings(ctx, e.ID, warnings); err != nil {
			t.Fatalf("SetExportWarnings: %v", err)
		}
		pg, err := s.ListExports(ctx, store.ExportFilter{WorkspaceID: fx.ws.ID})
		if err != nil || len(pg.Exports) != 1 || !jsonEqual(t, pg.Exports[0].Warnings, warnings) || !jsonEqual(t, pg.Exports[0].Refused, refused) {
			t.Errorf("listed %+v, %v", pg.Exports, err)
		}
		if err := s.SetExportWarnings(ctx, "exp_missing", nil); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("SetExportWarnings(missing) = %v, want ErrNotFound", err)
		}
	})
}

// TestStore_Migrate00014: saved renditions lose the expiry they were
// given before 00014; Down removes its columns and Up adds them again.
func TestStore_Migrate00014(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		fx := newFixture(t, ctx, s)
		ex, err := s.CreateExport(ctx, store.Export{WorkspaceID: fx.ws.ID, ProjectID: fx.prj.ID})
		if err != nil {
			t.Fatal(err)
		}
		expires := time.Now().Add(time.Hour)
		var ids []string
		for i := range 2 {
			r, err := s.CreateRendition(ctx, store.Rendition{ExportID: ex.ID, PresetID: "mp4-720p", TargetIndex: i,
				Status: store.RenditionSucceeded, BlobKey: "renditions/x.mp4", ExpiresAt: &expires})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, r.ID)
		}
		if err := s.MigrateDownTo(ctx, 13); err != nil {
			t.Fatalf("down: %v", err)
		}
		for _, col := range []string{"renditions.warnings", "exports.warnings", "exports.refused", "webhook_endpoints.secret_sealed"} {
			table, column, _ := strings.Cut(col, ".")
			if _, err := s.DB().ExecContext(ctx, `SELECT `+column+` FROM `+table); err == nil {
				t.Errorf("%s is still there after down", col)
			}
		}
		// As a save before 00014 left it: saved, with an expiry.
		if _, err := s.DB().ExecContext(ctx, `UPDATE renditions SET saved = TRUE WHERE id = $1`, ids[0]); err != nil {
			t.Fatal(err)
		}
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("up again: %v", err)
		}
		rs, err := s.ListRenditions(ctx, ex.ID)
		if err != nil || len(rs) != 2 || rs[0].ExpiresAt != nil || rs[1].ExpiresAt == nil {
			t.Fatalf("after 00014: %+v, %v; want the saved one without expiry, the other with", rs, err)
		}
	})
}
