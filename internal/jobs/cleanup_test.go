package jobs_test

import (
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"outpost/internal/errcode"
	"outpost/internal/jobs"
	"outpost/internal/store"
)

// TestService_Cleanup deletes the file of an expired rendition but keeps
// saved, pinned and unexpired ones, and prunes old idempotency keys.
func TestService_Cleanup(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, eng store.Engine) {
		ctx := t.Context()
		e := newEnv(t, eng, envOptions{})
		prj, err := e.store.CreateProject(ctx, store.Project{WorkspaceID: e.ws.ID, Name: "p", Kind: store.ProjectUpload,
			SourceKey: "sources/a.mp4", Status: store.ProjectReady})
		if err != nil {
			t.Fatal(err)
		}
		x, err := e.store.CreateExport(ctx, store.Export{WorkspaceID: e.ws.ID, ProjectID: prj.ID, Status: store.ExportSucceeded})
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		past, future := now.Add(-time.Hour), now.Add(time.Hour)
		mk := func(i int, expires time.Time) store.Rendition {
			t.Helper()
			key := "renditions/" + x.ID + "/r" + string(rune('0'+i)) + ".mp4"
			thumb, capKey := strings.TrimSuffix(key, ".mp4")+".jpg", strings.TrimSuffix(key, ".mp4")+".srt"
			for _, k := range []string{key, thumb, capKey} {
				if _, err := e.blob.Put(ctx, k, strings.NewReader("data"), ""); err != nil {
					t.Fatal(err)
				}
			}
			r, err := e.store.CreateRendition(ctx, store.Rendition{ExportID: x.ID, PresetID: "mp4-720p", TargetIndex: i,
				Status: store.RenditionSucceeded, BlobKey: key, SizeBytes: 4, ExpiresAt: &expires,
				ThumbnailKey: thumb, CaptionsKey: capKey})
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		expired, saved, pinned, fresh := mk(0, past), mk(1, past), mk(2, past), mk(3, future)
		if err := e.store.SaveRendition(ctx, saved.ID); err != nil {
			t.Fatal(err)
		}
		if err := e.store.SetRenditionPinned(ctx, pinned.ID, true); err != nil {
			t.Fatal(err)
		}
		if err := e.store.PutIdempotencyKey(ctx, store.IdempotencyRecord{WorkspaceID: e.ws.ID, Key: "old", Method: "POST",
			Path: "/api/v1/exports", RequestHash: "h", ResponseStatus: 202, CreatedAt: now.Add(-48 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if err := e.store.PutIdempotencyKey(ctx, store.IdempotencyRecord{WorkspaceID: e.ws.ID, Key: "new", Method: "POST",
			Path: "/api/v1/exports", RequestHash: "h", ResponseStatus: 202}); err != nil {
			t.Fatal(err)
		}

		res, err := e.runner.Cleanup(ctx, now)
		if err != nil {
			t.Fatalf("Cleanup: %v", err)
		}
		if res.RenditionsDeleted != 1 || res.IdempotencyKeys != 1 {
			t.Errorf("Cleanup = %+v", res)
		}
		for _, tc := range []struct {
			r       store.Rendition
			deleted bool
		}{{expired, true}, {saved, false}, {pinned, false}, {fresh, false}} {
			for _, key := range []string{tc.r.BlobKey, tc.r.ThumbnailKey, tc.r.CaptionsKey} {
				ok, err := e.blob.Exists(ctx, key)
				if err != nil || ok == tc.deleted {
					t.Errorf("%s: file exists = %v (%v), want %v", key, ok, err, !tc.deleted)
				}
			}
			r, err := e.store.GetRendition(ctx, tc.r.ID)
			if err != nil || (r.DeletedAt != nil) != tc.deleted {
				t.Errorf("%s: deleted_at = %v (%v)", tc.r.BlobKey, r.DeletedAt, err)
			}
		}
		if _, err := e.store.GetIdempotencyKey(ctx, e.ws.ID, "new"); err != nil {
			t.Errorf("recent idempotency key: %v", err)
		}
		// Again: nothing left to do.
		if res, err := e.runner.Cleanup(ctx, now); err != nil || res.RenditionsDeleted != 0 {
			t.Errorf("second Cleanup = %+v, %v", res, err)
		}
	})
}

// TestService_Cleanup_orphanedExport fails a running export whose job is
// gone, so that it does not stay running forever.
func TestService_Cleanup_orphanedExport(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	e := newEnv(t, store.SQLite, envOptions{})
	prj, err := e.store.CreateProject(ctx, store.Project{WorkspaceID: e.ws.ID, Name: "p", Kind: store.ProjectUpload,
		SourceKey: "sources/a.mp4", Status: store.ProjectReady})
	if err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	stuck, err := e.store.CreateExport(ctx, store.Export{WorkspaceID: e.ws.ID, ProjectID: prj.ID, Status: store.ExportRunning, CreatedAt: old})
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := e.store.CreateExport(ctx, store.Export{WorkspaceID: e.ws.ID, ProjectID: prj.ID, Status: store.ExportRunning})
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range []store.Export{stuck, fresh} {
		if _, err := e.store.CreateRendition(ctx, store.Rendition{ExportID: x.ID, PresetID: "tiktok", Status: store.RenditionRunning}); err != nil {
			t.Fatal(err)
		}
		if err := e.store.SetExportJobID(ctx, x.ID, 12345); err != nil { // no such job
			t.Fatal(err)
		}
	}
	res, err := e.runner.Cleanup(ctx, time.Now())
	if err != nil || res.ExportsFailed != 1 {
		t.Fatalf("Cleanup = %+v, %v", res, err)
	}
	if x, err := e.store.GetExport(ctx, stuck.ID); err != nil || x.Status != store.ExportFailed || x.ErrorCode != errcode.RenderFailed {
		t.Errorf("stuck export = %s %s, %v", x.Status, x.ErrorCode, err)
	}
	if x, err := e.store.GetExport(ctx, fresh.ID); err != nil || x.Status != store.ExportRunning {
		t.Errorf("recent export = %s, %v", x.Status, err)
	}
	evs, err := e.store.ListExportEvents(ctx, stuck.ID, 0, 0)
	if err != nil || len(evs) != 1 || evs[0].Type != "done" {
		t.Errorf("events = %+v, %v", evs, err)
	}
}

// TestNodeID: a slot's id survives its release; two holders at once get two
// ids.
func TestNodeID(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a, releaseA, err := jobs.NodeID(dir, "host one")
	if err != nil {
		t.Fatal(err)
	}
	b, releaseB, err := jobs.NodeID(dir, "host one")
	if err != nil {
		t.Fatal(err)
	}
	if a == b || !strings.HasPrefix(a, "host-one-") {
		t.Errorf("ids %q and %q", a, b)
	}
	if err := releaseA(); err != nil {
		t.Fatal(err)
	}
	again, releaseAgain, err := jobs.NodeID(dir, "host one")
	if err != nil {
		t.Fatal(err)
	}
	if again != a {
		t.Errorf("after release: %q, want %q", again, a)
	}
	_ = releaseAgain()
	_ = releaseB()
}

// TestService_Cleanup_orphanedPublication: a live publication whose job is
// gone, or ended without finishing it, is failed with publication_abandoned
// and releases its file; one whose job waits is left alone.
func TestService_Cleanup_orphanedPublication(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, eng store.Engine) {
		ctx := t.Context()
		e := newEnv(t, eng, envOptions{})
		prj, err := e.store.CreateProject(ctx, store.Project{WorkspaceID: e.ws.ID, Name: "p", Kind: store.ProjectUpload,
			SourceKey: "sources/a.mp4", Status: store.ProjectReady})
		if err != nil {
			t.Fatal(err)
		}
		x, err := e.store.CreateExport(ctx, store.Export{WorkspaceID: e.ws.ID, ProjectID: prj.ID, Status: store.ExportSucceeded})
		if err != nil {
			t.Fatal(err)
		}
		r, err := e.store.CreateRendition(ctx, store.Rendition{ExportID: x.ID, PresetID: "youtube-1080p", Status: store.RenditionSucceeded})
		if err != nil {
			t.Fatal(err)
		}
		c, err := e.store.UpsertConnection(ctx, store.Connection{WorkspaceID: e.ws.ID, Platform: "youtube", AccountID: "UC1",
			AccountName: "Acme", AccessToken: []byte("a")})
		if err != nil {
			t.Fatal(err)
		}
		// live creates a publication in state with job jobID.
		live := func(state store.PublicationState, jobID int64) store.Publication {
			t.Helper()
			p, err := e.store.CreatePublication(ctx, store.Publication{WorkspaceID: e.ws.ID, ExportID: x.ID, RenditionID: r.ID,
				ConnectionID: c.ID, Platform: "youtube", PresetID: "youtube-1080p"})
			if err != nil {
				t.Fatal(err)
			}
			p.State, p.JobID = state, jobID
			if p, err = e.store.TransitionPublication(ctx, p, store.PublicationPending); err != nil {
				t.Fatal(err)
			}
			return p
		}
		lost := live(store.PublicationUploading, 987654) // no such job
		job, err := e.runner.Client().Insert(ctx, jobs.PublishArgs{PublicationID: "later"}, &river.InsertOpts{ScheduledAt: time.Now().Add(24 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		waiting := live(store.PublicationScheduled, job.Job.ID)
		if err := e.store.SyncRenditionPin(ctx, r.ID); err != nil {
			t.Fatal(err)
		}
		state := func(p store.Publication) store.Publication {
			t.Helper()
			got, err := e.store.GetPublication(ctx, p.ID)
			if err != nil {
				t.Fatal(err)
			}
			return got
		}
		pinned := func() bool {
			t.Helper()
			got, err := e.store.GetRendition(ctx, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			return got.Pinned
		}

		// Recent: not looked at yet.
		if res, err := e.runner.Cleanup(ctx, time.Now()); err != nil || res.PublicationsFailed != 0 {
			t.Fatalf("Cleanup of recent publications = %+v, %v", res, err)
		}
		later := time.Now().Add(time.Hour)
		res, err := e.runner.Cleanup(ctx, later)
		if err != nil || res.PublicationsFailed != 1 {
			t.Fatalf("Cleanup = %+v, %v", res, err)
		}
		if p := state(lost); p.State != store.PublicationFailed || p.ErrorCode != errcode.PublicationAbandoned {
			t.Errorf("lost publication = %s %s", p.State, p.ErrorCode)
		}
		if p := state(waiting); p.State != store.PublicationScheduled {
			t.Errorf("waiting publication = %s", p.State)
		}
		if !pinned() {
			t.Error("file released while a publication still waits")
		}

		// Its job is canceled behind its back: abandoned too, file released.
		if _, err := e.runner.Client().JobCancel(ctx, job.Job.ID); err != nil {
			t.Fatal(err)
		}
		if res, err := e.runner.Cleanup(ctx, later); err != nil || res.PublicationsFailed != 1 {
			t.Fatalf("Cleanup after the cancel = %+v, %v", res, err)
		}
		if p := state(waiting); p.State != store.PublicationFailed || p.ErrorCode != errcode.PublicationAbandoned {
			t.Errorf("publication of a canceled job = %s %s", p.State, p.ErrorCode)
		}
		if pinned() {
			t.Error("file still pinned after every publication was abandoned")
		}
	})
}
