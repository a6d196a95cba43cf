package jobs_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"outpost/internal/errcode"
	"outpost/internal/jobs"
	"outpost/internal/outpost"
	"outpost/internal/store"
)

// TestService_Cleanup deletes the file of an expired rendition but keeps
// saved, pinned and unexpired ones, and prunes old idempotency keys.
func TestService_Cleanup(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, eng store.Engine) {
		ctx := t.Context()
		e := newEnv(t, eng, envOptions{})
		x := e.bareExport(t, store.ExportSucceeded)
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

// TestTakeNode: a slot's id survives its release; two holders at once get
// two ids and two scratch folders. A node taking the slot of a dead one
// (released: the kernel does it when a process dies) finds its folder
// emptied, while the live node sharing the data dir keeps its own; entries
// of the shared work folder that belong to no slot go once a day old.
func TestTakeNode(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	take := func() *jobs.Node {
		t.Helper()
		n, err := jobs.TakeNode(dir, "host one")
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	write := func(path string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("partial render"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	exists := func(path string) bool {
		_, err := os.Stat(path)
		return err == nil
	}
	a, b := take(), take()
	if a.ID == b.ID || !strings.HasPrefix(a.ID, "host-one-") {
		t.Errorf("ids %q and %q", a.ID, b.ID)
	}
	if a.WorkDir != filepath.Join(dir, "work", a.ID) || b.WorkDir == a.WorkDir || a.Cleared != 0 {
		t.Errorf("work dirs %q and %q, cleared %d", a.WorkDir, b.WorkDir, a.Cleared)
	}
	killed := filepath.Join(a.WorkDir, "exp_a", "7-1", "tiktok.mp4")
	alive := filepath.Join(b.WorkDir, "exp_b", "8-1", "tiktok.mp4")
	write(killed)
	write(alive)
	write(filepath.Join(a.WorkDir, "publish-9-123.mp4"))
	oldEntry, newEntry := filepath.Join(dir, "work", "exp_legacy", "1-1", "a.mp4"), filepath.Join(dir, "work", "estimate-5", "a.mp4")
	write(oldEntry)
	write(newEntry)
	dayAgo := time.Now().Add(-25 * time.Hour)
	if err := os.Chtimes(filepath.Join(dir, "work", "exp_legacy"), dayAgo, dayAgo); err != nil {
		t.Fatal(err)
	}
	// The live node's folder, a day old too, is still its own.
	if err := os.Chtimes(b.WorkDir, dayAgo, dayAgo); err != nil {
		t.Fatal(err)
	}

	// a dies; its restart takes its slot back.
	if err := a.Release(); err != nil {
		t.Fatal(err)
	}
	again := take()
	if again.ID != a.ID || again.WorkDir != a.WorkDir {
		t.Errorf("after release: %q in %q, want %q", again.ID, again.WorkDir, a.ID)
	}
	if again.Cleared != 2 || exists(killed) || !exists(again.WorkDir) {
		t.Errorf("the dead node's folder: cleared %d, its render still there: %v", again.Cleared, exists(killed))
	}
	if !exists(alive) {
		t.Error("the live node's render was removed")
	}
	if exists(oldEntry) || !exists(newEntry) {
		t.Errorf("unowned entries: day-old one kept %v, fresh one kept %v", exists(oldEntry), exists(newEntry))
	}
	_ = again.Release()
	_ = b.Release()
}

// livePublications makes, straight in the store, a finished export with a
// stored rendition and a connected account, and returns live, which
// creates a publication of the rendition in state with job jobID.
func (e *env) livePublications(t *testing.T) (store.Export, store.Rendition, func(state store.PublicationState, jobID int64) store.Publication) {
	t.Helper()
	ctx := t.Context()
	x := e.bareExport(t, store.ExportSucceeded)
	r, err := e.store.CreateRendition(ctx, store.Rendition{ExportID: x.ID, PresetID: "youtube-1080p", Status: store.RenditionSucceeded})
	if err != nil {
		t.Fatal(err)
	}
	c, err := e.store.UpsertConnection(ctx, store.Connection{WorkspaceID: e.ws.ID, Platform: "youtube", AccountID: "UC1",
		AccountName: "Acme", AccessToken: []byte("a")})
	if err != nil {
		t.Fatal(err)
	}
	return x, r, func(state store.PublicationState, jobID int64) store.Publication {
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
}

// TestService_Cleanup_orphanedPublication: a live publication whose job is
// gone, or ended without finishing it, is failed with publication_abandoned
// and releases its file; one whose job waits is left alone.
func TestService_Cleanup_orphanedPublication(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, eng store.Engine) {
		ctx := t.Context()
		e := newEnv(t, eng, envOptions{})
		_, r, live := e.livePublications(t)
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

// TestService_Cleanup_stuckPublication: a publication left uploading with
// its job still there (a node hangs, a job no node takes) is reported
// stuck once it has been quiet past its step's limit: failed with
// publication_stuck, naming the node that last worked on it and its last
// error, its job canceled and its step ended. Before the limit it is left
// alone.
func TestService_Cleanup_stuckPublication(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, eng store.Engine) {
		ctx := t.Context()
		e := newEnv(t, eng, envOptions{})
		x, _, live := e.livePublications(t)
		// The job waits for its next attempt; the last one, on node-a,
		// failed with a 503.
		job, err := e.runner.Client().Insert(ctx, jobs.PublishArgs{PublicationID: "p"}, &river.InsertOpts{ScheduledAt: time.Now().Add(24 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		p := live(store.PublicationUploading, job.Job.ID)
		step, err := e.store.StartStep(ctx, store.Step{ExportID: x.ID, PublicationID: p.ID, Kind: outpost.StepPublish,
			Node: "node-a", Hostname: "a", JobID: job.Job.ID, Attempt: 3})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.store.NotePublicationError(ctx, p.ID, errcode.PlatformUnavailable, "youtube: 503 backend error"); err != nil {
			t.Fatal(err)
		}

		// Quiet for an hour: waiting for its retry, not stuck.
		if res, err := e.runner.Cleanup(ctx, time.Now().Add(time.Hour)); err != nil || res.PublicationsFailed != 0 {
			t.Fatalf("Cleanup an hour later = %+v, %v", res, err)
		}
		if got, _ := e.store.GetPublication(ctx, p.ID); got.State != store.PublicationUploading {
			t.Fatalf("after an hour: %s", got.State)
		}
		// Past the limit: stuck.
		if res, err := e.runner.Cleanup(ctx, time.Now().Add(8*time.Hour)); err != nil || res.PublicationsFailed != 1 {
			t.Fatalf("Cleanup 8 h later = %+v, %v", res, err)
		}
		got, err := e.store.GetPublication(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State != store.PublicationFailed || got.ErrorCode != errcode.PublicationStuck {
			t.Errorf("stuck publication = %s %s", got.State, got.ErrorCode)
		}
		for _, want := range []string{"sat uploading for 8h", "node node-a (attempt 3)", "last error: youtube: 503 backend error"} {
			if !strings.Contains(got.ErrorMessage, want) {
				t.Errorf("message %q lacks %q", got.ErrorMessage, want)
			}
		}
		if j, err := e.runner.Client().JobGet(ctx, job.Job.ID); err != nil || j.State != rivertype.JobStateCancelled {
			t.Errorf("its job: %v, %v; want cancelled", j, err)
		}
		steps, err := e.store.ListSteps(ctx, x.ID)
		if err != nil || len(steps) != 1 || steps[0].ID != step.ID || steps[0].Outcome != outpost.StepInterrupted {
			t.Errorf("steps = %+v, %v", steps, err)
		}
	})
}
