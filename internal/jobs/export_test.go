package jobs_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"outpost/internal/errcode"
	"outpost/internal/events"
	"outpost/internal/jobs"
	"outpost/internal/media"
	"outpost/internal/media/mediatest"
	"outpost/internal/outpost"
	"outpost/internal/store"
)

// TestService_export renders an export end to end on both engines: rows,
// files, and the event stream replayed from the start.
func TestService_export(t *testing.T) {
	t.Parallel()
	needFFmpeg(t)
	forEachEngine(t, func(t *testing.T, eng store.Engine) {
		ctx := t.Context()
		e := newEnv(t, eng, envOptions{workers: 1})
		prj := e.project(t, mediatest.Spec{Width: 320, Height: 180, Duration: 1.5, Audio: true})
		x, err := e.createExport(ctx, e.ws.ID, outpost.ExportRequest{
			ProjectID: prj.ID,
			Targets:   []outpost.TargetRequest{{Preset: "mp4-720p", Quality: "web"}, {Preset: "gif-480p", Quality: "web"}},
			Labels:    outpost.Labels{Client: "Acme", Campaign: "Spring"},
		})
		if err != nil {
			t.Fatalf("CreateExport: %v", err)
		}
		// A free worker may have taken it already, between the insert and
		// the read.
		if (x.Status != store.ExportQueued && x.Status != store.ExportRunning) || x.Priority != outpost.DefaultPriority || x.Client != "Acme" ||
			!slices.Equal(x.PresetIDs, []string{"mp4-720p", "gif-480p"}) {
			t.Errorf("created = %+v", x)
		}
		x = e.waitFinal(t, x.ID)
		if x.Status != store.ExportSucceeded || x.Progress.Percent != 100 || x.StartedAt == nil || x.FinishedAt == nil {
			t.Fatalf("export = status %s (%s %s), progress %+v", x.Status, x.ErrorCode, x.ErrorMessage, x.Progress)
		}
		rends, err := e.store.ListRenditions(ctx, x.ID)
		if err != nil || len(rends) != 2 {
			t.Fatalf("renditions = %d, %v", len(rends), err)
		}
		for i, want := range []struct {
			preset, key, vcodec string
		}{{"mp4-720p", "renditions/" + x.ID + "/mp4-720p.mp4", "h264"}, {"gif-480p", "renditions/" + x.ID + "/gif-480p.gif", "gif"}} {
			r := rends[i]
			if r.Status != store.RenditionSucceeded || r.PresetID != want.preset || r.BlobKey != want.key ||
				r.VideoCodec != want.vcodec || r.SizeBytes <= 0 || r.Width <= 0 || r.Height <= 0 ||
				r.Duration < 1 || r.ExpiresAt == nil || time.Until(*r.ExpiresAt) < 47*time.Hour || len(r.CheckReport) == 0 {
				t.Errorf("rendition %d = %+v", i, r)
			}
			attrs, err := e.blob.Attributes(ctx, r.BlobKey)
			if err != nil || attrs.Size != r.SizeBytes {
				t.Errorf("blob %s: %+v, %v (row says %d bytes)", r.BlobKey, attrs, err, r.SizeBytes)
			}
		}
		// The two files and the video's automatic thumbnail (a GIF has none).
		if files := e.files(t, "renditions/"+x.ID); len(files) != 3 || rends[0].ThumbnailKey != "renditions/"+x.ID+"/mp4-720p.jpg" ||
			rends[1].ThumbnailKey != "" {
			t.Errorf("files = %v; thumbnails %q %q", files, rends[0].ThumbnailKey, rends[1].ThumbnailKey)
		}

		// The whole stream, replayed after the fact.
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		ch, err := e.events.Subscribe(sctx, x.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		evs := collect(t, ch, 10*time.Second)
		checkStream(t, evs, "succeeded", 2)
		stages := map[string]bool{}
		for _, ev := range evs {
			if ev.Type == events.TypeProgress {
				var p events.Progress
				if err := json.Unmarshal(ev.Data, &p); err != nil {
					t.Fatal(err)
				}
				stages[p.Stage] = true
			}
		}
		for _, st := range []string{"probe", "render", "check", "store"} {
			if !stages[st] {
				t.Errorf("no %s progress event (stages %v)", st, stages)
			}
		}
		// Resuming from the middle gives the rest.
		mid := evs[len(evs)/2].Seq
		ch, err = e.events.Subscribe(sctx, x.ID, mid)
		if err != nil {
			t.Fatal(err)
		}
		if rest := collect(t, ch, 10*time.Second); len(rest) != len(evs)-len(evs)/2-1 || rest[0].Seq <= mid {
			t.Errorf("resume after %d: %d events, want %d", mid, len(rest), len(evs)-len(evs)/2-1)
		}
		// A subscriber that saw "done" is told nothing more.
		ch, err = e.events.Subscribe(sctx, x.ID, evs[len(evs)-1].Seq)
		if err != nil {
			t.Fatal(err)
		}
		if rest := collect(t, ch, 5*time.Second); len(rest) != 0 {
			t.Errorf("after done: %d events", len(rest))
		}
	})
}

// checkStream checks an export's event stream: increasing seqs, progress
// never above 100, renditions events, and a last "done" with status.
func checkStream(t *testing.T, evs []events.Event, status string, renditions int) {
	t.Helper()
	if len(evs) == 0 {
		t.Fatal("no events")
	}
	n := 0
	for i, ev := range evs {
		if i > 0 && ev.Seq <= evs[i-1].Seq {
			t.Errorf("event %d: seq %d after %d", i, ev.Seq, evs[i-1].Seq)
		}
		switch ev.Type {
		case events.TypeProgress:
			var p events.Progress
			if err := json.Unmarshal(ev.Data, &p); err != nil || p.Percent < 0 || p.Percent > 100 {
				t.Errorf("progress %s: %v", ev.Data, err)
			}
		case events.TypeRendition:
			n++
			var r events.Rendition
			if err := json.Unmarshal(ev.Data, &r); err != nil || r.ID == "" || r.Preset == "" {
				t.Errorf("rendition %s: %v", ev.Data, err)
			}
		case events.TypeDone:
			if i != len(evs)-1 {
				t.Errorf("done at %d of %d", i, len(evs))
			}
		default:
			t.Errorf("event type %q", ev.Type)
		}
	}
	last := evs[len(evs)-1]
	var d events.Done
	if err := json.Unmarshal(last.Data, &d); last.Type != events.TypeDone || err != nil || d.Status != status {
		t.Errorf("last event = %s %s, want done %s", last.Type, last.Data, status)
	}
	if n != renditions {
		t.Errorf("%d rendition events, want %d", n, renditions)
	}
}

// TestService_CreateExport_invalid: bad requests get their code and leave
// nothing behind.
func TestService_CreateExport_invalid(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	e := newEnv(t, store.SQLite, envOptions{})
	probe := func(seconds float64) json.RawMessage {
		b, _ := json.Marshal(media.Info{Duration: seconds, SizeBytes: 1000, FormatName: "mov,mp4,m4a,3gp,3g2,mj2",
			Video: &media.Video{Codec: "h264", Width: 1920, Height: 1080, FrameRate: 25}})
		return b
	}
	mk := func(p store.Project) store.Project {
		t.Helper()
		if p.WorkspaceID == "" {
			p.WorkspaceID = e.ws.ID
		}
		p.Name, p.Kind = "p", store.ProjectUpload
		p, err := e.store.CreateProject(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	ready := mk(store.Project{SourceKey: "sources/a.mp4", Probe: probe(30), Status: store.ProjectReady})
	long := mk(store.Project{SourceKey: "sources/b.mp4", Probe: probe(720), Status: store.ProjectReady})
	pending := mk(store.Project{Status: store.ProjectPending})
	other, err := e.store.CreateWorkspace(ctx, store.Workspace{Slug: "other", Name: "Other"})
	if err != nil {
		t.Fatal(err)
	}
	foreign := mk(store.Project{WorkspaceID: other.ID, SourceKey: "sources/c.mp4", Probe: probe(30), Status: store.ProjectReady})
	foreignPreset, err := e.store.CreatePreset(ctx, store.Preset{WorkspaceID: other.ID, Name: "x", BasePresetID: "tiktok"})
	if err != nil {
		t.Fatal(err)
	}
	one := []outpost.TargetRequest{{Preset: "mp4-720p"}}
	for _, tc := range []struct {
		name string
		req  outpost.ExportRequest
		code errcode.Code
		msg  string
	}{
		{"unknown preset", outpost.ExportRequest{ProjectID: ready.ID, Targets: []outpost.TargetRequest{{Preset: "myspace"}}}, errcode.UnknownPreset, "myspace"},
		{"preset of another workspace", outpost.ExportRequest{ProjectID: ready.ID, Targets: []outpost.TargetRequest{{Preset: foreignPreset.ID}}}, errcode.UnknownPreset, ""},
		{"no project", outpost.ExportRequest{ProjectID: "prj_missing", Targets: one}, errcode.NotFound, "prj_missing"},
		{"project of another workspace", outpost.ExportRequest{ProjectID: foreign.ID, Targets: one}, errcode.NotFound, ""},
		{"project not ready", outpost.ExportRequest{ProjectID: pending.ID, Targets: one}, errcode.InvalidOption, "not ready"},
		{"too long for every target", outpost.ExportRequest{ProjectID: long.ID, Targets: []outpost.TargetRequest{{Preset: "youtube-shorts"}, {Preset: "tiktok"}}}, errcode.PlatformRule, "targets[0] (youtube-shorts): max_duration"},
		{"no targets", outpost.ExportRequest{ProjectID: ready.ID}, errcode.InvalidOption, "targets"},
		{"bad quality", outpost.ExportRequest{ProjectID: ready.ID, Targets: []outpost.TargetRequest{{Preset: "tiktok", Quality: "best"}}}, errcode.InvalidOption, "targets[0]: quality"},
		{"bad fit", outpost.ExportRequest{ProjectID: ready.ID, Targets: []outpost.TargetRequest{{Preset: "tiktok", Fit: "stretch"}}}, errcode.InvalidOption, "fit"},
		{"fps too high for the platform", outpost.ExportRequest{ProjectID: ready.ID, Targets: []outpost.TargetRequest{{Preset: "tiktok", FPS: 120}}}, errcode.PlatformRule, "fps"},
		{"bad bitrate", outpost.ExportRequest{ProjectID: ready.ID, Targets: []outpost.TargetRequest{{Preset: "tiktok", VideoKbps: 1}}}, errcode.InvalidOption, "video_kbps"},
		{"bad priority", outpost.ExportRequest{ProjectID: ready.ID, Targets: one, Priority: 9}, errcode.InvalidOption, "priority"},
	} {
		_, err := e.createExport(ctx, e.ws.ID, tc.req)
		var ce *errcode.Error
		if !errors.As(err, &ce) || ce.Code != tc.code || !strings.Contains(ce.Message, tc.msg) {
			t.Errorf("%s: err = %v, want %s containing %q", tc.name, err, tc.code, tc.msg)
		}
	}
	page, err := e.store.ListExports(ctx, store.ExportFilter{WorkspaceID: e.ws.ID})
	if err != nil || len(page.Exports) != 0 {
		t.Errorf("exports after refusals: %d, %v", len(page.Exports), err)
	}
	jl, err := e.runner.Client().JobList(ctx, river.NewJobListParams())
	if err != nil || len(jl.Jobs) != 0 {
		t.Errorf("jobs after refusals: %d, %v", len(jl.Jobs), err)
	}
}

// TestService_CreateExport_idempotent: the same key returns the same export
// and inserts no second job; user presets resolve onto their base.
func TestService_CreateExport_idempotent(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	e := newEnv(t, store.SQLite, envOptions{})
	b, _ := json.Marshal(media.Info{Duration: 20, Video: &media.Video{Codec: "h264", Width: 1280, Height: 720, FrameRate: 30}})
	prj, err := e.store.CreateProject(ctx, store.Project{WorkspaceID: e.ws.ID, Name: "p", Kind: store.ProjectUpload,
		SourceKey: "sources/a.mp4", Probe: b, Status: store.ProjectReady})
	if err != nil {
		t.Fatal(err)
	}
	up, err := e.store.CreatePreset(ctx, store.Preset{WorkspaceID: e.ws.ID, Name: "Brand reel", BasePresetID: "instagram-reel",
		Settings: json.RawMessage(`{"quality":"ultra","fit":"crop","watermark":{"position":"br"}}`)})
	if err != nil {
		t.Fatal(err)
	}
	req := outpost.ExportRequest{ProjectID: prj.ID, IdempotencyKey: "k-1", Priority: 1,
		Targets: []outpost.TargetRequest{{Preset: up.ID, Fit: "pad"}, {Preset: "tiktok"}, {Preset: "tiktok", Quality: "web"}}}
	first, err := e.createExport(ctx, e.ws.ID, req)
	if err != nil {
		t.Fatal(err)
	}
	again, err := e.createExport(ctx, e.ws.ID, req)
	if err != nil || again.ID != first.ID {
		t.Fatalf("again = %s, %v; want %s", again.ID, err, first.ID)
	}
	jl, err := e.runner.Client().JobList(ctx, river.NewJobListParams().Kinds(jobs.KindRender))
	if err != nil || len(jl.Jobs) != 1 || jl.Jobs[0].Priority != 1 || jl.Jobs[0].Queue != jobs.QueueRender {
		t.Fatalf("jobs = %+v, %v", jl, err)
	}
	rends, err := e.store.ListRenditions(ctx, first.ID)
	if err != nil || len(rends) != 3 || rends[0].PresetID != up.ID || rends[2].PresetID != "tiktok" {
		t.Errorf("renditions = %+v, %v", rends, err)
	}
	var raw struct {
		Targets []map[string]any `json:"targets"`
	}
	if err := json.Unmarshal(first.Request, &raw); err != nil || len(raw.Targets) != 3 {
		t.Fatalf("request %s: %v", first.Request, err)
	}
	t0 := raw.Targets[0]
	if t0["base_preset"] != "instagram-reel" || t0["quality"] != "ultra" || t0["fit"] != "pad" {
		t.Errorf("user preset target resolved to %v", t0)
	}
	if t1 := raw.Targets[1]; t1["quality"] != "hd" || t1["fit"] != "blur" {
		t.Errorf("defaults: %v", t1)
	}
	// Another workspace's same key is another export.
	other, err := e.store.CreateWorkspace(ctx, store.Workspace{Slug: "o", Name: "O"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.createExport(ctx, other.ID, req); errcode.Of(err) != errcode.NotFound {
		t.Errorf("other workspace: %v, want not_found (its project is not there)", err)
	}
}

// TestService_CancelExport cancels a running render: the export and its
// renditions end canceled, the job is canceled, no file is left.
func TestService_CancelExport(t *testing.T) {
	t.Parallel()
	needFFmpeg(t)
	ctx := t.Context()
	e := newEnv(t, store.SQLite, envOptions{workers: 1})
	prj := e.project(t, mediatest.Spec{Width: 320, Height: 180, Duration: 30, Audio: true})
	x, err := e.createExport(ctx, e.ws.ID, outpost.ExportRequest{ProjectID: prj.ID,
		Targets: []outpost.TargetRequest{{Preset: "mp4-1080p", Quality: "ultra"}, {Preset: "webm-1080p"}}})
	if err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	ch, err := e.events.Subscribe(sctx, x.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	e.wait(t, x.ID, 60*time.Second, "rendering", func(x store.Export) bool {
		return x.Progress.Stage == jobs.StageRender && x.Progress.Percent > 3
	})
	got, err := e.cancelExport(ctx, e.ws.ID, x.ID)
	if err != nil || got.Status != store.ExportCanceled || got.ErrorCode != errcode.Canceled {
		t.Fatalf("CancelExport = %+v, %v", got, err)
	}
	evs := collect(t, ch, 30*time.Second)
	checkStream(t, evs, "canceled", 0)

	jobID := jobOf(t, e, x.ID)
	waitJob(t, e.runner.Client(), jobID, rivertype.JobStateCancelled)
	rends, err := e.store.ListRenditions(ctx, x.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rends {
		if r.Status != store.RenditionCanceled || r.BlobKey != "" {
			t.Errorf("rendition %+v", r)
		}
	}
	if files := e.files(t, "renditions/"+x.ID); len(files) != 0 {
		t.Errorf("files left: %v", files)
	}
	// The stopping render wrote nothing after "done".
	stored, err := e.store.ListExportEvents(ctx, x.ID, 0, 0)
	if err != nil || len(stored) == 0 || stored[len(stored)-1].Type != events.TypeDone {
		t.Errorf("stored events end with %+v, %v", stored[len(stored)-1], err)
	}
	if got, err := e.store.GetExport(ctx, x.ID); err != nil || got.Status != store.ExportCanceled {
		t.Errorf("export after the worker stopped = %s, %v", got.Status, err)
	}
	if _, err := e.cancelExport(ctx, e.ws.ID, x.ID); errcode.Of(err) != errcode.Conflict {
		t.Errorf("second cancel: %v, want conflict", err)
	}
	if _, err := e.cancelExport(ctx, "wsp_other", x.ID); errcode.Of(err) != errcode.NotFound {
		t.Errorf("cancel from another workspace: %v, want not_found", err)
	}
}

func jobOf(t *testing.T, e *env, exportID string) int64 {
	t.Helper()
	id, err := e.store.ExportJobID(t.Context(), exportID)
	if err != nil || id == 0 {
		t.Fatalf("ExportJobID = %d, %v", id, err)
	}
	return id
}

// TestService_RetryExport: a target that failed is rendered again on retry;
// the one that succeeded is kept as it was.
func TestService_RetryExport(t *testing.T) {
	t.Parallel()
	needFFmpeg(t)
	ctx := t.Context()
	e := newEnv(t, store.SQLite, envOptions{workers: 1, noStart: true})
	prj := e.project(t, mediatest.Spec{Width: 320, Height: 180, Duration: 1, Audio: true})
	x, err := e.createExport(ctx, e.ws.ID, outpost.ExportRequest{ProjectID: prj.ID,
		Targets: []outpost.TargetRequest{{Preset: "mp4-720p", Quality: "web"}, {Preset: "gif-480p", Quality: "web"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.retryExport(ctx, e.ws.ID, x.ID); errcode.Of(err) != errcode.Conflict {
		t.Errorf("retry of a queued export: %v, want conflict", err)
	}
	// Break the second target as stored, so that it fails at render time.
	orig := string(x.Request)
	broken := strings.Replace(orig, `"base_preset":"gif-480p"`, `"base_preset":"no-such-preset"`, 1)
	setRequest(t, e, x.ID, broken)
	e.start(t)
	x = e.waitFinal(t, x.ID)
	if x.Status != store.ExportPartiallyFailed || x.ErrorCode != errcode.UnknownPreset {
		t.Fatalf("export = %s %s %s", x.Status, x.ErrorCode, x.ErrorMessage)
	}
	before, err := e.store.ListRenditions(ctx, x.ID)
	if err != nil || before[0].Status != store.RenditionSucceeded || before[1].Status != store.RenditionFailed {
		t.Fatalf("renditions = %+v, %v", before, err)
	}

	setRequest(t, e, x.ID, orig) // repaired
	got, err := e.retryExport(ctx, e.ws.ID, x.ID)
	if err != nil || (got.Status != store.ExportQueued && got.Status != store.ExportRunning) || got.ErrorCode != "" || got.FinishedAt != nil {
		t.Fatalf("RetryExport = %+v, %v", got, err)
	}
	x = e.waitFinal(t, x.ID)
	if x.Status != store.ExportSucceeded {
		t.Fatalf("retried export = %s %s %s", x.Status, x.ErrorCode, x.ErrorMessage)
	}
	after, err := e.store.ListRenditions(ctx, x.ID)
	if err != nil || len(after) != 2 {
		t.Fatal(after, err)
	}
	if after[0].ID != before[0].ID || !after[0].UpdatedAt.Equal(before[0].UpdatedAt) {
		t.Errorf("the succeeded rendition was touched: %+v → %+v", before[0], after[0])
	}
	if after[1].ID != before[1].ID || after[1].Status != store.RenditionSucceeded || after[1].ErrorCode != "" {
		t.Errorf("retried rendition = %+v", after[1])
	}
	if files := e.files(t, "renditions/"+x.ID); len(files) != 3 { // + the MP4's thumbnail
		t.Errorf("files = %v", files)
	}
	// The retried run's stream starts over (with higher seqs) and ends done.
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	ch, err := e.events.Subscribe(sctx, x.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	evs := collect(t, ch, 10*time.Second)
	checkStream(t, evs, "succeeded", 1)
	jl, err := e.runner.Client().JobList(ctx, river.NewJobListParams().Kinds(jobs.KindRender).
		States(rivertype.JobStateCompleted, rivertype.JobStateCancelled, rivertype.JobStateAvailable, rivertype.JobStateRunning))
	if err != nil || len(jl.Jobs) != 2 {
		t.Errorf("render jobs = %d, %v; want 2 (first run, retry)", len(jl.Jobs), err)
	}
}

func setRequest(t *testing.T, e *env, exportID, req string) {
	t.Helper()
	err := e.store.WithTx(t.Context(), func(tx *sql.Tx) error {
		_, err := tx.ExecContext(t.Context(), `UPDATE exports SET request = $1 WHERE id = $2`, req, exportID)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestService_RenderFailed_source: a source that is not a video fails the
// export for good (the job is canceled, not retried).
func TestService_RenderFailed_source(t *testing.T) {
	t.Parallel()
	needFFmpeg(t)
	ctx := t.Context()
	e := newEnv(t, store.SQLite, envOptions{workers: 1})
	prj := e.project(t, mediatest.Spec{Width: 320, Height: 180, Duration: 1})
	// Replace the source with garbage after its probe.
	if _, err := e.blob.Put(ctx, prj.SourceKey, strings.NewReader(strings.Repeat("not a video ", 1000)), "video/mp4"); err != nil {
		t.Fatal(err)
	}
	x, err := e.createExport(ctx, e.ws.ID, outpost.ExportRequest{ProjectID: prj.ID, Targets: []outpost.TargetRequest{{Preset: "mp4-720p"}}})
	if err != nil {
		t.Fatal(err)
	}
	x = e.waitFinal(t, x.ID)
	if x.Status != store.ExportFailed || x.ErrorCode != errcode.SourceUnreadable {
		t.Errorf("export = %s %s %s", x.Status, x.ErrorCode, x.ErrorMessage)
	}
	if j := waitJob(t, e.runner.Client(), jobOf(t, e, x.ID), rivertype.JobStateCancelled); j.Attempt != 1 {
		t.Errorf("job cancelled after %d attempts, want 1", j.Attempt)
	}
}
