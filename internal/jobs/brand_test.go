package jobs_test

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"outpost/internal/errcode"
	"outpost/internal/media"
	"outpost/internal/media/mediatest"
	"outpost/internal/outpost"
	"outpost/internal/store"
)

// kit stores a brand kit with an SVG watermark and an intro project.
func (e *env) kit(t *testing.T, slug string, intro store.Project) store.BrandKit {
	t.Helper()
	ctx := t.Context()
	key := "brand-kits/" + slug + "/logo.svg"
	svg := `<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><rect width="40" height="20" fill="#fff"/></svg>`
	if _, err := e.blob.Put(ctx, key, strings.NewReader(svg), "image/svg+xml"); err != nil {
		t.Fatal(err)
	}
	k, err := e.store.CreateBrandKit(ctx, store.BrandKit{WorkspaceID: e.ws.ID, Slug: slug, Name: slug,
		WatermarkKey: key, WatermarkFormat: "svg", Position: "tl", Width: 0.2, IntroProjectID: intro.ID})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestService_export_brandKit: an export with a brand kit (by slug) gets
// the kit's watermark and intro, rendered in one pass; a user preset can
// name the kit instead.
func TestService_export_brandKit(t *testing.T) {
	t.Parallel()
	needFFmpeg(t)
	ctx := t.Context()
	e := newEnv(t, store.SQLite, envOptions{workers: 1})
	prj := e.project(t, mediatest.Spec{Width: 320, Height: 180, Duration: 1, Audio: true})
	intro := e.project(t, mediatest.Spec{Width: 320, Height: 240, Duration: 0.6, VideoSource: "color=c=red"})
	e.kit(t, "acme", intro)
	x, err := e.createExport(ctx, e.ws.ID, outpost.ExportRequest{ProjectID: prj.ID, BrandKit: "acme",
		Targets: []outpost.TargetRequest{{Preset: "mp4-720p", Quality: "web"}}})
	if err != nil {
		t.Fatalf("CreateExport: %v", err)
	}
	x = e.waitFinal(t, x.ID)
	if x.Status != store.ExportSucceeded {
		t.Fatalf("export %s: %s %s", x.Status, x.ErrorCode, x.ErrorMessage)
	}
	rends, err := e.store.ListRenditions(ctx, x.ID)
	if err != nil {
		t.Fatal(err)
	}
	r := rends[0]
	if r.Passthrough || math.Abs(r.Duration-1.6) > 0.1 {
		t.Errorf("rendition %+v, want 1.6 s (intro + source), encoded", r)
	}
	info, err := (&media.Prober{}).Probe(ctx, filepath.Join(e.blobs, filepath.FromSlash(r.BlobKey)))
	if err != nil || info.Audio == nil {
		t.Errorf("rendition has no sound: %+v, %v", info, err)
	}

	// Preset's kit; "none" on the export removes the intro.
	up, err := e.store.CreatePreset(ctx, store.Preset{WorkspaceID: e.ws.ID, Name: "Acme 720p", BasePresetID: "mp4-720p",
		Settings: []byte(`{"quality":"web","brand_kit":"acme"}`)})
	if err != nil {
		t.Fatal(err)
	}
	x, err = e.createExport(ctx, e.ws.ID, outpost.ExportRequest{ProjectID: prj.ID, IntroProjectID: "none",
		Targets: []outpost.TargetRequest{{Preset: up.ID}}})
	if err != nil {
		t.Fatalf("CreateExport (preset kit): %v", err)
	}
	x = e.waitFinal(t, x.ID)
	rends, _ = e.store.ListRenditions(ctx, x.ID)
	if x.Status != store.ExportSucceeded || rends[0].Passthrough || math.Abs(rends[0].Duration-1) > 0.1 {
		t.Errorf("preset kit: %s, rendition %+v, want 1 s with the watermark", x.Status, rends[0])
	}
}

func TestService_CreateExport_brandKitInvalid(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	e := newEnv(t, store.SQLite, envOptions{noStart: true})
	prj := e.project(t, mediatest.Spec{Duration: 1})
	intro := e.project(t, mediatest.Spec{Duration: 0.5})
	e.kit(t, "acme", intro)
	e.kit(t, "beta", prj)
	for name, req := range map[string]outpost.ExportRequest{
		"unknown kit": {ProjectID: prj.ID, BrandKit: "nope", Targets: []outpost.TargetRequest{{Preset: "mp4-720p"}}},
		"two intros": {ProjectID: prj.ID, Targets: []outpost.TargetRequest{
			{Preset: "mp4-720p", BrandKit: "acme"}, {Preset: "tiktok", BrandKit: "beta"}}},
		"unknown intro": {ProjectID: prj.ID, IntroProjectID: "prj_nope", Targets: []outpost.TargetRequest{{Preset: "mp4-720p"}}},
	} {
		_, err := e.createExport(ctx, e.ws.ID, req)
		if c := errcode.Of(err); c != errcode.NotFound && c != errcode.InvalidOption {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestService_export_timeline: a timeline project of two projects renders
// as one video.
func TestService_export_timeline(t *testing.T) {
	t.Parallel()
	needFFmpeg(t)
	ctx := t.Context()
	e := newEnv(t, store.SQLite, envOptions{workers: 1})
	a := e.project(t, mediatest.Spec{Width: 320, Height: 180, Duration: 1, Audio: true})
	b := e.project(t, mediatest.Spec{Width: 160, Height: 120, Duration: 1})
	prj, err := e.svc.Projects.CreateTimeline(ctx, e.ws.ID, outpost.TimelineProject{Name: "Cut", Timeline: outpost.Timeline{
		Clips: []outpost.TimelineClip{{ProjectID: a.ID, In: 0.2}, {ProjectID: b.ID}}}})
	if err != nil {
		t.Fatalf("CreateTimeline: %v", err)
	}
	if prj.Kind != store.ProjectTimeline || math.Abs(prj.DurationSeconds-1.8) > 0.01 || prj.Status != store.ProjectReady {
		t.Fatalf("project %+v", prj)
	}
	if _, err := e.svc.Projects.CreateTimeline(ctx, e.ws.ID, outpost.TimelineProject{Timeline: outpost.Timeline{
		Clips: []outpost.TimelineClip{{ProjectID: a.ID, In: 5}}}}); errcode.Of(err) != errcode.TimelineInvalid {
		t.Errorf("in past the end: %v, want timeline_invalid", err)
	}
	x, err := e.createExport(ctx, e.ws.ID, outpost.ExportRequest{ProjectID: prj.ID,
		Targets: []outpost.TargetRequest{{Preset: "mp4-720p", Quality: "web"}}})
	if err != nil {
		t.Fatal(err)
	}
	x = e.waitFinal(t, x.ID)
	rends, _ := e.store.ListRenditions(ctx, x.ID)
	if x.Status != store.ExportSucceeded || math.Abs(rends[0].Duration-1.8) > 0.1 || rends[0].Passthrough {
		t.Errorf("export %s (%s), rendition %+v", x.Status, x.ErrorMessage, rends[0])
	}
}

// TestService_PreviewExport: a preview is stored under previews/ with its
// deletion scheduled for when its link expires.
func TestService_PreviewExport(t *testing.T) {
	t.Parallel()
	needFFmpeg(t)
	ctx := t.Context()
	e := newEnv(t, store.SQLite, envOptions{noStart: true})
	prj := e.project(t, mediatest.Spec{Width: 320, Height: 180, Duration: 2, Audio: true})
	pv, err := e.svc.Exports.Preview(ctx, e.ws.ID, outpost.ExportRequest{ProjectID: prj.ID,
		Targets: []outpost.TargetRequest{{Preset: "tiktok"}}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if pv.URL == "" || pv.Width != 360 || pv.Height != 640 || math.Abs(pv.Duration-1) > 0.2 {
		t.Errorf("preview %+v", pv)
	}
	if files := e.files(t, "previews"); len(files) != 1 || !strings.HasSuffix(files[0], "/tiktok.preview.mp4") {
		t.Errorf("preview files: %v", files)
	}
	var n int
	if err := e.store.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM river_job WHERE kind = 'preview.delete'
		AND scheduled_at > CURRENT_TIMESTAMP`).Scan(&n); err != nil || n != 1 {
		t.Errorf("scheduled deletions: %d, %v", n, err)
	}
}
