package jobs

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"outpost/internal/blob"
	"outpost/internal/engine"
	"outpost/internal/errcode"
	"outpost/internal/events"
	"outpost/internal/outpost"
	"outpost/internal/preset"
	"outpost/internal/render"
	"outpost/internal/store"
)

// KindRender is the render job's kind.
const KindRender = "export.render"

// renderMaxAttempts bounds retries of transient failures (ffmpeg crashes,
// storage errors); River backs off between them.
const renderMaxAttempts = 5

// Stages of progress events, in order. "queued" is reported when an export
// waits for a (re)try.
const (
	StageQueued = "queued"
	StageProbe  = engine.StageProbe
	StageAudio  = "audio"
	StageRender = engine.StageRender
	StageCheck  = engine.StageCheck
	StageStore  = "store"
)

// RenderArgs are the render job's arguments.
type RenderArgs struct {
	ExportID string `json:"export_id"`
}

// Kind implements river.JobArgs.
func (RenderArgs) Kind() string { return KindRender }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (RenderArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueRender, MaxAttempts: renderMaxAttempts}
}

type renderWorker struct {
	river.WorkerDefaults[RenderArgs]
	store     *store.Store
	blob      *blob.Store
	events    *events.Broker
	queue     *Queue
	files     *Files
	engine    *engine.Engine
	metrics   *metrics
	retention time.Duration
	workDir   string
	steps     *stepLog
	history   *renderHistory
	logger    *slog.Logger
	// segmentThreshold is the source length above which an export is
	// cut into as many segments as there are live workers (nodes heard
	// from within nodeTimeout); 0: only when the request asks.
	segmentThreshold float64
	nodeTimeout      time.Duration
}

// Timeout: a render takes as long as it takes; cancellation comes from
// CancelExport or shutdown.
func (w *renderWorker) Timeout(*river.Job[RenderArgs]) time.Duration { return -1 }

// renderRun is one attempt at one export: its render job's, or its join
// job's when the export was rendered in segments.
type renderRun struct {
	jobID                int64
	attempt, maxAttempts int
	// join is set for the join of a segmented render.
	join *JoinArgs
	// fannedOut is set once this render job queued the parts of a
	// segmented render: the join finishes the export.
	fannedOut bool
	// part is set for a part of a segmented render: a retry of it leaves
	// the export running (its other parts are).
	part     bool
	exportID string
	log      *slog.Logger
	progress *reporter
	// todo are the renditions this attempt works on, in target order.
	todo []store.Rendition
	// stored are the renditions whose file this attempt stored, so that a
	// cancellation can remove them.
	stored []store.Rendition
	// uploaded are the blob keys this attempt stored: a file several
	// renditions share is uploaded once.
	uploaded map[string]bool
}

func (w *renderWorker) Work(ctx context.Context, job *river.Job[RenderArgs]) error {
	return w.work(ctx, &renderRun{jobID: job.ID, attempt: job.Attempt, maxAttempts: job.MaxAttempts, exportID: job.Args.ExportID})
}

// work runs one attempt at an export: its render, or its join.
func (w *renderWorker) work(ctx context.Context, run *renderRun) error {
	run.log = w.logger.With("export_id", run.exportID, "job_id", run.jobID, "attempt", run.attempt)
	e, done, err := w.liveExport(ctx, run)
	if done || err != nil {
		return err
	}
	if cur, err := w.store.ExportJobID(ctx, run.exportID); err != nil {
		return err
	} else if cur != 0 && cur != run.jobID {
		run.log.InfoContext(ctx, "stale render job: the export has a newer one", "current_job_id", cur)
		return nil
	}
	if _, err := w.store.UpdateExportStatus(ctx, run.exportID, store.StatusChange{Status: store.ExportRunning}); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil // finished (canceled) meanwhile
		}
		return err
	}
	run.progress = newReporter(w.store, w.queue, w.logger, run.exportID, e.WorkspaceID, run.jobID)
	if run.join != nil {
		// One reporter name for the whole export: the render job's.
		run.progress.jobID = run.join.RenderJobID
	} else {
		run.progress.report(ctx, StageProbe, 0, 0, 0, 0)
	}

	var req outpost.ExportSpec
	if err := json.Unmarshal(e.Request, &req); err != nil {
		return w.renderFailed(ctx, run, errcode.Wrap(errcode.InvalidOption, err, "read the export request"))
	}
	todo, all, err := w.todo(ctx, run.exportID)
	if err != nil {
		return err
	}
	if run.todo = todo; len(run.todo) == 0 {
		return w.finish(ctx, run)
	}
	run.log.InfoContext(ctx, "render started", "targets", len(run.todo), "of", all)
	start := time.Now()
	if err := w.renderTargets(ctx, run, e, req); err != nil {
		return err
	}
	if run.fannedOut {
		run.log.InfoContext(ctx, "render queued in segments", "elapsed", time.Since(start).Round(time.Millisecond))
		return nil
	}
	run.log.InfoContext(ctx, "render finished", "elapsed", time.Since(start).Round(time.Millisecond))
	return w.finish(ctx, run)
}

// attemptDir creates the work folder of run's attempt and returns it with
// the function that removes it. One folder per attempt: a canceled
// attempt may still be stopping (ffmpeg finishes its files) when a retry
// starts. The folders of this job's earlier attempts, killed with their
// process, are removed.
func (w *renderWorker) attemptDir(run *renderRun) (string, func(), error) {
	exportDir := filepath.Join(w.workDir, run.exportID)
	dir := filepath.Join(exportDir, fmt.Sprintf("%d-%d", run.jobID, run.attempt))
	if old, err := filepath.Glob(filepath.Join(exportDir, fmt.Sprintf("%d-*", run.jobID))); err == nil {
		for _, d := range old {
			if err := os.RemoveAll(d); err != nil {
				return "", nil, fmt.Errorf("clear work dir: %w", err)
			}
		}
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", nil, fmt.Errorf("create work dir: %w", err)
	}
	return dir, func() {
		if err := os.RemoveAll(dir); err != nil {
			run.log.Warn("remove work dir", "dir", dir, "error", err)
		}
		_ = os.Remove(exportDir) // when no other attempt uses it
	}, nil
}

// todo lists the export's renditions still to render, in target order.
func (w *renderWorker) todo(ctx context.Context, exportID string) (todo []store.Rendition, all int, err error) {
	rends, err := w.store.ListRenditions(ctx, exportID)
	for _, r := range rends {
		if r.Status == store.RenditionPending || r.Status == store.RenditionRunning {
			todo = append(todo, r)
		}
	}
	return todo, len(rends), err
}

// liveExport reads run's export: done is set when there is nothing to do
// (finished already); a deleted export cancels the job.
func (w *renderWorker) liveExport(ctx context.Context, run *renderRun) (e store.Export, done bool, err error) {
	e, err = w.store.GetExport(ctx, run.exportID)
	if errors.Is(err, store.ErrNotFound) {
		return e, false, river.JobCancel(fmt.Errorf("export %s no longer exists: %w", run.exportID, err))
	}
	if err != nil {
		return e, false, err
	}
	if e.Status.Final() {
		run.log.DebugContext(ctx, "export already finished", "status", e.Status)
		return e, true, nil
	}
	return e, false, nil
}

// renderTargets renders run.todo in one engine run and stores each checked
// file. A returned error is what the job returns.
func (w *renderWorker) renderTargets(ctx context.Context, run *renderRun, e store.Export, req outpost.ExportSpec) error {
	dir, cleanup, err := w.attemptDir(run)
	if err != nil {
		return err
	}
	defer cleanup()

	names := fileNames(req.Targets)
	targets, rends, refused := planTargets(req, run.todo, dir)
	for _, f := range refused {
		if err := w.failRendition(ctx, run, f.rendition, nil, f.err); err != nil {
			return err
		}
	}
	for i := range rends {
		rends[i].Status = store.RenditionRunning
		if _, err := w.store.UpdateRendition(ctx, rends[i]); err != nil {
			return err
		}
	}
	if len(targets) == 0 {
		return nil
	}
	run.todo = rends

	if run.join == nil {
		if n, err := w.segmentCount(ctx, e, req); err != nil {
			return w.renderFailed(ctx, run, err)
		} else if n > 1 {
			if run.fannedOut, err = w.fanOut(ctx, run, e, req, targets, dir, n); err != nil {
				return w.renderFailed(ctx, run, err)
			} else if run.fannedOut {
				return nil
			}
		}
	}

	// This node's render and check of each rendition, from fetching the
	// source to the engine's last check.
	steps := w.steps.startRender(ctx, run.jobID, run.attempt, run.exportID, rends)
	results, err := w.runEngine(ctx, run, e, req, targets, dir, steps)
	steps.end(ctx, results, err)
	if err != nil {
		return w.renderFailed(ctx, run, err)
	}

	run.progress.report(ctx, StageStore, 0, 0, 0, 0)
	keys, err := fileKeys(run.exportID, results, rends, names)
	if err != nil {
		return w.renderFailed(ctx, run, err)
	}
	for i, res := range results {
		r := rends[i]
		if res.Error != nil {
			if err := w.failRendition(ctx, run, r, res.Check, &errcode.Error{Code: res.Error.Code, Message: res.Error.Message}); err != nil {
				return err
			}
			continue
		}
		st := w.steps.start(ctx, run.jobID, run.attempt, store.Step{ExportID: run.exportID, RenditionID: r.ID, Kind: outpost.StepStore})
		err := w.storeRendition(ctx, run, r, res, keys[i])
		w.steps.finish(ctx, st, err)
		if err != nil {
			if w.exportCanceled(ctx, run.exportID) {
				w.discardRun(ctx, run)
				return river.JobCancel(err)
			}
			// Transient (storage): retry; what is stored stays stored.
			return w.retryLater(ctx, run, err)
		}
		run.progress.report(ctx, StageStore, 100*float64(i+1)/float64(len(results)), 0, 0, 0)
	}
	return nil
}

// refusedTarget is a rendition whose target cannot be rendered.
type refusedTarget struct {
	rendition store.Rendition
	err       error
}

// planTargets turns the renditions todo into the render's targets, with
// their files in dir, and the renditions rendered (in the same order);
// the renditions whose targets cannot be rendered are refused. Every node
// working on one export plans the same.
func planTargets(req outpost.ExportSpec, todo []store.Rendition, dir string) ([]render.Target, []store.Rendition, []refusedTarget) {
	names := fileNames(req.Targets)
	var (
		targets []render.Target
		rends   []store.Rendition
		refused []refusedTarget
	)
	for _, r := range todo {
		t, err := RenderTarget(req, r.TargetIndex)
		if err != nil {
			refused = append(refused, refusedTarget{r, err})
			continue
		}
		t.Path = filepath.Join(dir, names[r.TargetIndex])
		targets = append(targets, t)
		rends = append(rends, r)
	}
	return targets, rends, refused
}

// runEngine gathers the local files of run.todo (rendered as targets in
// dir) and renders them in one engine run, or joins the parts of their
// segmented render.
func (w *renderWorker) runEngine(ctx context.Context, run *renderRun, e store.Export, req outpost.ExportSpec,
	targets []render.Target, dir string, steps *renderSteps,
) ([]engine.Result, error) {
	ereq, prj, err := w.engineRequest(ctx, run, e, req, targets, dir)
	if err != nil {
		return nil, err
	}
	// A one-pass render's time left comes from the estimator (its speed
	// after warm-up, blended with this node's earlier renders of the kind);
	// a join's from ffmpeg, the parts having done the long work.
	var est *renderETA
	if run.join != nil {
		ereq.Segments, ereq.Parts = run.join.Segments, w.fetchParts(run.exportID, run.join.Pieces)
		run.join.Plan.apply(&ereq)
	} else {
		est = w.history.start(etaKey(prj.Probe, targets))
	}
	res, err := w.engine.Export(ctx, ereq, func(ev engine.Event) {
		steps.event(ctx, ev)
		if run.join != nil && ev.Stage != engine.StageRender && ev.Stage != engine.StageCheck {
			return // the parts went through these: the export is past them
		}
		eta := ev.ETA
		if est != nil {
			eta = est.left(ev, time.Now())
		}
		run.progress.report(ctx, ev.Stage, ev.Percent, ev.FPS, ev.Speed, eta)
	})
	if err == nil && est != nil {
		est.finish()
	}
	return res, err
}

// engineRequest gathers the local files of a render of run.todo, rendered
// as targets in dir. It returns the export's project with it.
func (w *renderWorker) engineRequest(ctx context.Context, run *renderRun, e store.Export, req outpost.ExportSpec,
	targets []render.Target, dir string,
) (engine.Request, store.Project, error) {
	prj, err := w.store.GetProject(ctx, e.ProjectID)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			err = errcode.Wrap(errcode.SourceNotFound, err, "the export's project is gone")
		}
		return engine.Request{}, prj, err
	}
	idx := make([]int, len(run.todo))
	for i, r := range run.todo {
		idx[i] = r.TargetIndex
	}
	ereq, err := w.files.EngineRequest(ctx, e.WorkspaceID, prj, req, idx, targets, dir)
	return ereq, prj, err
}

// storeRendition uploads a checked file under key (once per attempt: a
// shared file is one upload) and records it.
func (w *renderWorker) storeRendition(ctx context.Context, run *renderRun, r store.Rendition, res engine.Result, key string) error {
	if !run.uploaded[key] {
		if _, err := w.blob.PutFile(ctx, key, res.Path, ""); err != nil {
			return fmt.Errorf("store %s: %w", key, err)
		}
		if run.uploaded == nil {
			run.uploaded = map[string]bool{}
		}
		run.uploaded[key] = true
	}
	var err error
	// The thumbnail the render chose (unless one was uploaded for this
	// rendition) and the caption sidecar, under names fixed by the
	// request: a retry overwrites the same keys.
	var thumbKey, capKey string
	if res.Thumbnail != "" {
		if thumbKey, err = w.putExtra(ctx, run.exportID, res.Thumbnail, "image/jpeg"); err != nil {
			return err
		}
	}
	if res.Captions != "" {
		ct := "application/x-subrip"
		if strings.EqualFold(filepath.Ext(res.Captions), ".vtt") {
			ct = "text/vtt"
		}
		if capKey, err = w.putExtra(ctx, run.exportID, res.Captions, ct); err != nil {
			return err
		}
	}
	report, err := json.Marshal(res.Check)
	if err != nil {
		return fmt.Errorf("encode check report: %w", err)
	}
	expires := time.Now().Add(w.retention)
	r.Status, r.BlobKey, r.SizeBytes, r.Duration = store.RenditionSucceeded, key, res.SizeBytes, res.Duration
	r.Width, r.Height, r.VideoCodec, r.AudioCodec = res.Width, res.Height, res.VideoCodec, res.AudioCodec
	r.Passthrough, r.CheckReport, r.ErrorCode, r.ErrorMessage = res.Passthrough, report, "", ""
	r.ExpiresAt = &expires
	if thumbKey != "" && (r.ThumbnailKey == "" || !isOverride(r.ThumbnailKey)) {
		r.ThumbnailKey = thumbKey
	}
	r.CaptionsKey = capKey
	r.Warnings = nil
	if len(res.Warnings) > 0 {
		if r.Warnings, err = json.Marshal(res.Warnings); err != nil {
			return fmt.Errorf("encode warnings: %w", err)
		}
		run.log.WarnContext(ctx, "rendered with warnings", "rendition_id", r.ID, "preset", r.PresetID,
			"warning_code", res.Warnings[0].Code, "warning", res.Warnings[0].Message)
	}
	run.stored = append(run.stored, r) // before the row: a failure below still removes the file on cancel
	if r, err = w.saveRendition(ctx, run, r); err != nil {
		return err
	}
	w.metrics.rendition(metricPreset(res.Preset), string(r.Status))
	return nil
}

// putExtra stores a file made with a rendition (thumbnail, captions) next
// to it and returns its key.
func (w *renderWorker) putExtra(ctx context.Context, exportID, file, contentType string) (string, error) {
	key, err := blob.RenditionKey(exportID, filepath.Base(file))
	if err != nil {
		return "", err
	}
	if _, err := w.blob.PutFile(ctx, key, file, contentType); err != nil {
		return "", fmt.Errorf("store %s: %w", key, err)
	}
	return key, nil
}

// isOverride reports whether a thumbnail key is an uploaded thumbnail
// (PUT /api/v1/renditions/{id}/thumbnail: "<name>.thumbnail.jpg"), which a
// render never replaces.
func isOverride(key string) bool { return strings.HasSuffix(key, ".thumbnail.jpg") }

// saveRendition writes the rendition's outcome and its event in one
// transaction, while the export is live: a canceled export gets no
// rendition after its "done".
func (w *renderWorker) saveRendition(ctx context.Context, run *renderRun, r store.Rendition) (store.Rendition, error) {
	data := events.Rendition{ID: r.ID, Preset: r.PresetID, Status: string(r.Status), SizeBytes: r.SizeBytes,
		Duration: r.Duration, Width: r.Width, Height: r.Height}
	if r.ErrorCode != "" {
		data.Error = &events.Error{Code: r.ErrorCode, Message: r.ErrorMessage}
	}
	err := w.store.WithTx(ctx, func(tx *sql.Tx) error {
		q := w.store.Using(tx)
		if err := q.TouchLiveExport(ctx, run.exportID); err != nil {
			return err
		}
		var err error
		if r, err = q.UpdateRendition(ctx, r); err != nil {
			return err
		}
		if _, err = w.events.PublishTx(ctx, tx, run.exportID, events.TypeRendition, data); err != nil {
			return err
		}
		if r.Status == store.RenditionSucceeded {
			e, err := q.GetExport(ctx, run.exportID)
			if err != nil {
				return err
			}
			if err := w.queue.EmitTx(ctx, tx, store.Event{ID: eventID(r.ID, outpost.EventRenditionReady), WorkspaceID: e.WorkspaceID,
				Type: outpost.EventRenditionReady, SubjectID: r.ID}, data); err != nil {
				return err
			}
		}
		// The rendition's publications go out from this commit on.
		return w.queue.RenditionStored(ctx, tx, r)
	})
	if err != nil {
		return r, err
	}
	w.events.Notify(run.exportID)
	return r, nil
}

// failRendition records one target's failure.
func (w *renderWorker) failRendition(ctx context.Context, run *renderRun, r store.Rendition, check *engine.CheckReport, cause error) error {
	e := errcode.As(cause)
	msg := e.Message
	if msg == "" {
		msg = e.Error()
	}
	r.Status, r.ErrorCode, r.ErrorMessage = store.RenditionFailed, e.Code, msg
	if check != nil {
		if b, err := json.Marshal(check); err == nil {
			r.CheckReport = b
		}
	}
	r, err := w.saveRendition(ctx, run, r)
	if errors.Is(err, store.ErrConflict) {
		return nil // canceled: the cancellation path takes over
	}
	if err != nil {
		return err
	}
	run.log.InfoContext(ctx, "target failed", "rendition_id", r.ID, "preset", r.PresetID, "error_code", e.Code, "error", msg)
	w.metrics.rendition(metricPreset(r.PresetID), string(r.Status))
	return nil
}

// metricPreset is a preset id as a metric label: user presets are one
// label, so that the label set stays bounded.
func metricPreset(id string) string {
	if _, err := preset.Lookup(id); err != nil {
		return "user"
	}
	return id
}

// renderFailed handles a failure that stopped the whole render: a
// cancellation, a shutdown (retried), a permanent failure (recorded, job
// canceled) or a transient one (retried with backoff; recorded on the last
// attempt).
func (w *renderWorker) renderFailed(ctx context.Context, run *renderRun, err error) error {
	if w.exportCanceled(ctx, run.exportID) {
		w.discardRun(ctx, run)
		return river.JobCancel(err)
	}
	if ctx.Err() != nil {
		// Shutdown or timeout, not a fault of the export.
		return w.retryLater(ctx, run, err)
	}
	code := errcode.Of(err)
	last := run.attempt >= run.maxAttempts
	if !permanent(code) && !last {
		return w.retryLater(ctx, run, err)
	}
	run.log.WarnContext(ctx, "render failed", "error_code", code, "error", err, "permanent", permanent(code))
	for _, r := range run.todo {
		if ferr := w.failRendition(ctx, run, r, nil, err); ferr != nil {
			return errors.Join(err, ferr)
		}
	}
	if ferr := w.finish(ctx, run); ferr != nil {
		return errors.Join(err, ferr)
	}
	if permanent(code) {
		return river.JobCancel(err)
	}
	return err // the last attempt: River discards the job
}

// retryLater puts the export back in the queue and returns err for River to
// retry the job with backoff.
func (w *renderWorker) retryLater(ctx context.Context, run *renderRun, err error) error {
	run.log.WarnContext(ctx, "render interrupted; it will be retried", "error", err)
	if run.part {
		return err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if _, uerr := w.store.UpdateExportStatus(ctx, run.exportID, store.StatusChange{Status: store.ExportQueued}); uerr == nil {
		run.progress.force(ctx, StageQueued)
	}
	return err
}

// exportCanceled reports whether the export was canceled (CancelExport),
// reading the database even when ctx is done.
func (w *renderWorker) exportCanceled(ctx context.Context, exportID string) bool {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	e, err := w.store.GetExport(ctx, exportID)
	return err == nil && e.Status == store.ExportCanceled
}

// discardRun removes the files this attempt stored for a canceled export:
// nothing of a canceled run is left behind.
func (w *renderWorker) discardRun(ctx context.Context, run *renderRun) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	for _, r := range run.stored {
		file := r.BlobKey
		for _, key := range []string{r.ThumbnailKey, r.CaptionsKey} {
			if key != "" && !isOverride(key) {
				if err := w.blob.Delete(ctx, key); err != nil && !errors.Is(err, blob.ErrNotFound) {
					run.log.WarnContext(ctx, "delete file of canceled export", "rendition_id", r.ID, "key", key, "error", err)
				}
			}
		}
		if !isOverride(r.ThumbnailKey) {
			r.ThumbnailKey = ""
		}
		r.CaptionsKey = ""
		r.Status, r.BlobKey, r.SizeBytes, r.ExpiresAt = store.RenditionCanceled, "", 0, nil
		r.ErrorCode, r.ErrorMessage = errcode.Canceled, "the export was canceled"
		if _, err := w.store.UpdateRendition(ctx, r); err != nil {
			run.log.WarnContext(ctx, "mark rendition canceled", "rendition_id", r.ID, "error", err)
			continue
		}
		// After the row lets go of it: the last of the renditions sharing
		// the file deletes it.
		if err := releaseFile(ctx, w.store, w.blob, file, r.ID); err != nil {
			run.log.WarnContext(ctx, "delete file of canceled export", "rendition_id", r.ID, "error", err)
		}
	}
	if err := w.store.WithTx(ctx, func(tx *sql.Tx) error { return w.queue.DropSegmentsTx(ctx, tx, run.exportID, run.jobID) }); err != nil {
		run.log.WarnContext(ctx, "drop the parts of a canceled export", "error", err)
	}
	run.log.InfoContext(ctx, "render canceled", "files_removed", len(run.stored))
}

// finish sets the export's final status from its renditions and tells
// watchers, in one transaction.
func (w *renderWorker) finish(ctx context.Context, run *renderRun) error {
	ctx = context.WithoutCancel(ctx) // a finished render is recorded even at shutdown
	rends, err := w.store.ListRenditions(ctx, run.exportID)
	if err != nil {
		return err
	}
	change := summarize(rends)
	warnings, err := exportWarnings(rends)
	if err != nil {
		return err
	}
	err = w.store.WithTx(ctx, func(tx *sql.Tx) error {
		q := w.store.Using(tx)
		if _, err := q.UpdateExportStatus(ctx, run.exportID, change); err != nil {
			return err
		}
		if err := q.SetExportWarnings(ctx, run.exportID, warnings); err != nil {
			return err
		}
		if err := q.UpdateExportProgress(ctx, run.exportID, store.Progress{Stage: run.progress.lastStage(), Percent: 100}); err != nil {
			return err
		}
		e, err := q.GetExport(ctx, run.exportID)
		if err != nil {
			return err
		}
		if err := w.exportFinishedTx(ctx, tx, e, run.progress.jobID); err != nil {
			return err
		}
		// A segmented render's parts are of no more use.
		if err := w.queue.DropSegmentsTx(ctx, tx, run.exportID, run.jobID); err != nil {
			return err
		}
		// "done" waits for the publications going out now.
		return w.queue.MaybeDone(ctx, tx, run.exportID)
	})
	if errors.Is(err, store.ErrConflict) {
		// Canceled while its files were being stored.
		w.discardRun(ctx, run)
		return river.JobCancel(fmt.Errorf("export %s was canceled", run.exportID))
	}
	if err != nil {
		return fmt.Errorf("finish export: %w", err)
	}
	w.events.Notify(run.exportID)
	w.metrics.export(string(change.Status))
	run.log.InfoContext(ctx, "export finished", "status", change.Status, "error_code", change.ErrorCode)
	return nil
}

// exportWarnings are the warnings of an export's renditions, each once (a
// JSON array; nil for none).
func exportWarnings(rends []store.Rendition) (json.RawMessage, error) {
	var all []engine.Warning
	for _, r := range rends {
		if len(r.Warnings) == 0 {
			continue
		}
		var ws []engine.Warning
		if err := json.Unmarshal(r.Warnings, &ws); err != nil {
			return nil, fmt.Errorf("read rendition %s warnings: %w", r.ID, err)
		}
		all = append(all, ws...)
	}
	if all = engine.Distinct(all); len(all) == 0 {
		return nil, nil
	}
	return json.Marshal(all)
}

// exportFinishedTx sends the webhooks of a finished render: export.progress
// at 100 % and export.succeeded, or export.failed.
func (w *renderWorker) exportFinishedTx(ctx context.Context, tx *sql.Tx, e store.Export, jobID int64) error {
	run := fmt.Sprint(jobID)
	if e.Status != store.ExportFailed && e.Status != store.ExportCanceled {
		d := ExportData(e, 0)
		d.Percent = 100
		if err := w.queue.EmitTx(ctx, tx, store.Event{ID: eventID(e.ID, run, outpost.EventExportProgress, "100"), WorkspaceID: e.WorkspaceID,
			Type: outpost.EventExportProgress, SubjectID: e.ID}, d); err != nil {
			return err
		}
	}
	typ := outpost.EventExportCompleted
	switch e.Status {
	case store.ExportFailed:
		typ = outpost.EventExportFailed
	case store.ExportCanceled:
		typ = outpost.EventExportCanceled
	}
	return w.queue.EmitTx(ctx, tx, store.Event{ID: eventID(e.ID, run, typ), WorkspaceID: e.WorkspaceID, Type: typ, SubjectID: e.ID},
		ExportData(e, 0))
}
