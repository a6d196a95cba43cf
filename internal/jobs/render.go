package jobs

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"outpost/internal/blob"
	"outpost/internal/engine"
	"outpost/internal/errcode"
	"outpost/internal/events"
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
	s *Service
}

// Timeout: a render takes as long as it takes; cancellation comes from
// CancelExport or shutdown.
func (w *renderWorker) Timeout(*river.Job[RenderArgs]) time.Duration { return -1 }

func (w *renderWorker) Work(ctx context.Context, job *river.Job[RenderArgs]) error {
	return w.s.render(ctx, job)
}

// permanent reports whether a failure with code would happen again on a
// retry: the source or the request is at fault, not the moment.
func permanent(code errcode.Code) bool {
	switch code {
	case errcode.SourceNotFound, errcode.SourceEmpty, errcode.SourceUnreadable, errcode.SourceTruncated,
		errcode.SourceNoVideo, errcode.UnknownPreset, errcode.InvalidOption, errcode.PlatformRule,
		errcode.FFmpegMissing, errcode.EncoderMissing:
		return true
	}
	return false
}

// renderRun is one attempt at one export.
type renderRun struct {
	job      *river.Job[RenderArgs]
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

func (s *Service) render(ctx context.Context, job *river.Job[RenderArgs]) error {
	run := &renderRun{job: job, exportID: job.Args.ExportID}
	run.log = s.logger.With("export_id", run.exportID, "job_id", job.ID, "attempt", job.Attempt)
	e, err := s.store.GetExport(ctx, run.exportID)
	if errors.Is(err, store.ErrNotFound) {
		return river.JobCancel(fmt.Errorf("export %s no longer exists: %w", run.exportID, err))
	}
	if err != nil {
		return err
	}
	if e.Status.Final() {
		run.log.DebugContext(ctx, "export already finished", "status", e.Status)
		return nil
	}
	if cur, err := s.store.ExportJobID(ctx, run.exportID); err != nil {
		return err
	} else if cur != 0 && cur != job.ID {
		run.log.InfoContext(ctx, "stale render job: the export has a newer one", "current_job_id", cur)
		return nil
	}
	if _, err := s.store.UpdateExportStatus(ctx, run.exportID, store.StatusChange{Status: store.ExportRunning}); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil // finished (canceled) meanwhile
		}
		return err
	}
	run.progress = s.newReporter(run.exportID, e.WorkspaceID, job.ID)
	run.progress.report(ctx, StageProbe, 0, 0, 0, 0)

	var req storedRequest
	if err := json.Unmarshal(e.Request, &req); err != nil {
		return s.renderFailed(ctx, run, errcode.Wrap(errcode.InvalidOption, err, "read the export request"))
	}
	rends, err := s.store.ListRenditions(ctx, run.exportID)
	if err != nil {
		return err
	}
	for _, r := range rends {
		if r.Status == store.RenditionPending || r.Status == store.RenditionRunning {
			run.todo = append(run.todo, r)
		}
	}
	if len(run.todo) == 0 {
		return s.finish(ctx, run)
	}
	run.log.InfoContext(ctx, "render started", "targets", len(run.todo), "of", len(rends))
	start := time.Now()
	if err := s.renderTargets(ctx, run, e, req); err != nil {
		return err
	}
	run.log.InfoContext(ctx, "render finished", "elapsed", time.Since(start).Round(time.Millisecond))
	return s.finish(ctx, run)
}

// renderTargets renders run.todo in one engine run and stores each checked
// file. A returned error is what the job returns.
func (s *Service) renderTargets(ctx context.Context, run *renderRun, e store.Export, req storedRequest) error {
	// One folder per attempt: a canceled attempt may still be stopping
	// (ffmpeg finishes its files) when a retry starts. The folders of this
	// job's earlier attempts, killed with their process, are removed.
	exportDir := filepath.Join(s.workDir, run.exportID)
	dir := filepath.Join(exportDir, fmt.Sprintf("%d-%d", run.job.ID, run.job.Attempt))
	if old, err := filepath.Glob(filepath.Join(exportDir, fmt.Sprintf("%d-*", run.job.ID))); err == nil {
		for _, d := range old {
			if err := os.RemoveAll(d); err != nil {
				return fmt.Errorf("clear work dir: %w", err)
			}
		}
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("create work dir: %w", err)
	}
	defer func() {
		if err := os.RemoveAll(dir); err != nil {
			run.log.Warn("remove work dir", "dir", dir, "error", err)
		}
		_ = os.Remove(exportDir) // when no other attempt uses it
	}()

	names := fileNames(req.Targets)
	var targets []render.Target
	var rends []store.Rendition
	for _, r := range run.todo {
		t, err := renderTarget(req, r.TargetIndex)
		if err != nil {
			if err := s.failRendition(ctx, run, r, nil, err); err != nil {
				return err
			}
			continue
		}
		t.Path = filepath.Join(dir, names[r.TargetIndex])
		r.Status = store.RenditionRunning
		if _, err := s.store.UpdateRendition(ctx, r); err != nil {
			return err
		}
		targets = append(targets, t)
		rends = append(rends, r)
	}
	if len(targets) == 0 {
		return nil
	}
	run.todo = rends

	prj, err := s.store.GetProject(ctx, e.ProjectID)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			err = errcode.Wrap(errcode.SourceNotFound, err, "the export's project is gone")
		}
		return s.renderFailed(ctx, run, err)
	}
	idx := make([]int, len(run.todo))
	for i, r := range run.todo {
		idx[i] = r.TargetIndex
	}
	ereq, err := s.engineRequest(ctx, e.WorkspaceID, prj, req, idx, targets, dir)
	if err != nil {
		return s.renderFailed(ctx, run, err)
	}
	results, err := s.engine.Export(ctx, ereq, func(ev engine.Event) {
		run.progress.report(ctx, ev.Stage, ev.Percent, ev.FPS, ev.Speed, ev.ETA)
	})
	if err != nil {
		return s.renderFailed(ctx, run, err)
	}

	run.progress.report(ctx, StageStore, 0, 0, 0, 0)
	keys, err := fileKeys(run.exportID, results, rends, names)
	if err != nil {
		return s.renderFailed(ctx, run, err)
	}
	for i, res := range results {
		r := rends[i]
		if res.Error != nil {
			if err := s.failRendition(ctx, run, r, res.Check, &errcode.Error{Code: res.Error.Code, Message: res.Error.Message}); err != nil {
				return err
			}
			continue
		}
		if err := s.storeRendition(ctx, run, r, res, keys[i]); err != nil {
			if s.exportCanceled(ctx, run.exportID) {
				s.discardRun(ctx, run)
				return river.JobCancel(err)
			}
			// Transient (storage): retry; what is stored stays stored.
			return s.retryLater(ctx, run, err)
		}
		run.progress.report(ctx, StageStore, 100*float64(i+1)/float64(len(results)), 0, 0, 0)
	}
	return nil
}

// engineRequest gathers the local files of a render: the project's source
// (or its timeline's clips), the intro and outro, and each target's brand
// watermark.
func (s *Service) engineRequest(ctx context.Context, workspaceID string, prj store.Project, req storedRequest,
	idx []int, targets []render.Target, dir string,
) (engine.Request, error) {
	ereq := engine.Request{Targets: targets, OutDir: dir, ThumbnailAt: req.ThumbnailAt}
	var err error
	if c := req.Captions; c != nil {
		// The engine reads captions from a file, as the CLI's --captions.
		ereq.Captions = filepath.Join(dir, "captions."+string(c.Format))
		if err := os.WriteFile(ereq.Captions, []byte(c.Text), 0o600); err != nil {
			return ereq, fmt.Errorf("write captions: %w", err)
		}
	}
	if prj.Kind == store.ProjectTimeline && prj.SourceKey == "" {
		if ereq.Timeline, err = s.localTimeline(ctx, workspaceID, prj.Timeline, dir); err != nil {
			return ereq, err
		}
	} else if ereq.Source, err = s.sourcePath(ctx, prj, dir); err != nil {
		return ereq, err
	}
	if req.IntroProjectID != "" {
		if ereq.Intro, err = s.clipPath(ctx, workspaceID, req.IntroProjectID, dir, "the intro"); err != nil {
			return ereq, err
		}
	}
	if req.OutroProjectID != "" {
		if ereq.Outro, err = s.clipPath(ctx, workspaceID, req.OutroProjectID, dir, "the outro"); err != nil {
			return ereq, err
		}
	}
	for i, ti := range idx {
		if ti < 0 || ti >= len(req.Targets) {
			continue
		}
		k := req.Targets[ti].Kit
		if k == nil || k.WatermarkKey == "" {
			continue
		}
		ext := "png"
		if k.WatermarkFormat == "svg" {
			ext = "svg"
		}
		p, err := s.localBlob(ctx, k.WatermarkKey, filepath.Join(dir, "brand-"+k.ID+"."+ext))
		if errcode.Of(err) == errcode.SourceNotFound {
			err = errcode.New(errcode.BrandKitInvalid, "brand kit %s: its watermark image is gone from storage", k.Slug)
		}
		if err != nil {
			return ereq, err
		}
		if ereq.Targets[i].Watermark, err = kitWatermark(k, p); err != nil {
			return ereq, err
		}
	}
	return ereq, nil
}

// renderTarget builds the render target of the request's target i.
func renderTarget(req storedRequest, i int) (render.Target, error) {
	if i < 0 || i >= len(req.Targets) {
		return render.Target{}, errcode.New(errcode.InvalidOption, "the export request has no target %d", i)
	}
	rt := req.Targets[i]
	p, err := preset.Lookup(rt.Base)
	if err != nil {
		return render.Target{}, errcode.New(errcode.UnknownPreset, "unknown preset %q", rt.Base)
	}
	level, err := preset.ParseLevel(rt.Quality)
	if err != nil {
		return render.Target{}, errcode.New(errcode.InvalidOption, "quality %q: %v", rt.Quality, err)
	}
	fit, err := preset.ParseFit(rt.Fit)
	if err != nil {
		return render.Target{}, errcode.New(errcode.InvalidOption, "fit %q: %v", rt.Fit, err)
	}
	t := render.Target{Preset: p, Quality: level, Fit: fit, FPS: rt.FPS, VideoKbps: rt.VideoKbps, Thumbnail: true}
	if req.Captions != nil {
		t.Captions = renderCaptions(p, rt.CaptionsMode)
	}
	applyLoudness(&t, rt.Loudness, req.TruePeak)
	return t, nil
}

// fileNames returns each target's file name: its preset id and extension,
// with "-2", "-3"… for a preset requested more than once. Names depend only
// on the request, so a retry stores under the same blob keys.
func fileNames(ts []resolvedTarget) []string {
	names := make([]string, len(ts))
	seen := map[string]int{}
	for i, t := range ts {
		ext := "bin"
		if p, err := preset.Lookup(t.Base); err == nil {
			ext = p.Extension
		}
		seen[t.Preset]++
		name := t.Preset
		if n := seen[t.Preset]; n > 1 {
			name += "-" + strconv.Itoa(n)
		}
		names[i] = name + "." + ext
	}
	return names
}

// sourcePath returns a local path of the project's source: the blob itself
// for local storage, else a copy in dir.
func (s *Service) sourcePath(ctx context.Context, prj store.Project, dir string) (string, error) {
	if err := blob.ValidateKey(prj.SourceKey); err != nil {
		return "", errcode.Wrap(errcode.SourceNotFound, err, "the project has no valid source key")
	}
	return s.localBlob(ctx, prj.SourceKey, filepath.Join(dir, "source-"+prj.ID+path.Ext(prj.SourceKey)))
}

// localBlob returns a local path of the blob at key: the file itself for
// local storage, else a copy at dst. A missing blob is SourceNotFound.
func (s *Service) localBlob(ctx context.Context, key, dst string) (string, error) {
	if s.localBlobDir != "" {
		p := filepath.Join(s.localBlobDir, filepath.FromSlash(key))
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if _, err := os.Stat(dst); err == nil {
		return dst, nil // fetched already (the same clip twice)
	}
	r, err := s.blob.Open(ctx, key)
	if errors.Is(err, blob.ErrNotFound) {
		return "", errcode.Wrap(errcode.SourceNotFound, err, "the project's source file is gone from storage")
	}
	if err != nil {
		return "", fmt.Errorf("open source: %w", err)
	}
	defer r.Close()
	f, err := os.Create(dst)
	if err != nil {
		return "", fmt.Errorf("create source copy: %w", err)
	}
	if _, err := io.Copy(f, r); err != nil {
		_ = f.Close()
		return "", fmt.Errorf("copy source: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("copy source: %w", err)
	}
	return dst, nil
}

// storeRendition uploads a checked file under key (once per attempt: a
// shared file is one upload) and records it.
func (s *Service) storeRendition(ctx context.Context, run *renderRun, r store.Rendition, res engine.Result, key string) error {
	if !run.uploaded[key] {
		if _, err := s.blob.PutFile(ctx, key, res.Path, ""); err != nil {
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
		if thumbKey, err = s.putExtra(ctx, run.exportID, res.Thumbnail, "image/jpeg"); err != nil {
			return err
		}
	}
	if res.Captions != "" {
		ct := "application/x-subrip"
		if strings.EqualFold(filepath.Ext(res.Captions), ".vtt") {
			ct = "text/vtt"
		}
		if capKey, err = s.putExtra(ctx, run.exportID, res.Captions, ct); err != nil {
			return err
		}
	}
	report, err := json.Marshal(res.Check)
	if err != nil {
		return fmt.Errorf("encode check report: %w", err)
	}
	expires := time.Now().Add(s.retention)
	r.Status, r.BlobKey, r.SizeBytes, r.Duration = store.RenditionSucceeded, key, res.SizeBytes, res.Duration
	r.Width, r.Height, r.VideoCodec, r.AudioCodec = res.Width, res.Height, res.VideoCodec, res.AudioCodec
	r.Passthrough, r.CheckReport, r.ErrorCode, r.ErrorMessage = res.Passthrough, report, "", ""
	r.ExpiresAt = &expires
	if thumbKey != "" && (r.ThumbnailKey == "" || !isOverride(r.ThumbnailKey)) {
		r.ThumbnailKey = thumbKey
	}
	r.CaptionsKey = capKey
	run.stored = append(run.stored, r) // before the row: a failure below still removes the file on cancel
	if r, err = s.saveRendition(ctx, run, r); err != nil {
		return err
	}
	s.metrics.rendition(metricPreset(res.Preset), string(r.Status))
	return nil
}

// putExtra stores a file made with a rendition (thumbnail, captions) next
// to it and returns its key.
func (s *Service) putExtra(ctx context.Context, exportID, file, contentType string) (string, error) {
	key, err := blob.RenditionKey(exportID, filepath.Base(file))
	if err != nil {
		return "", err
	}
	if _, err := s.blob.PutFile(ctx, key, file, contentType); err != nil {
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
func (s *Service) saveRendition(ctx context.Context, run *renderRun, r store.Rendition) (store.Rendition, error) {
	data := events.Rendition{ID: r.ID, Preset: r.PresetID, Status: string(r.Status), SizeBytes: r.SizeBytes,
		Duration: r.Duration, Width: r.Width, Height: r.Height}
	if r.ErrorCode != "" {
		data.Error = &events.Error{Code: r.ErrorCode, Message: r.ErrorMessage}
	}
	err := s.store.WithTx(ctx, func(tx *sql.Tx) error {
		q := s.store.Using(tx)
		if err := q.TouchLiveExport(ctx, run.exportID); err != nil {
			return err
		}
		var err error
		if r, err = q.UpdateRendition(ctx, r); err != nil {
			return err
		}
		if _, err = s.events.PublishTx(ctx, tx, run.exportID, events.TypeRendition, data); err != nil {
			return err
		}
		if r.Status == store.RenditionSucceeded {
			e, err := q.GetExport(ctx, run.exportID)
			if err != nil {
				return err
			}
			if err := s.emitTx(ctx, tx, store.Event{ID: eventID(r.ID, EventRenditionReady), WorkspaceID: e.WorkspaceID,
				Type: EventRenditionReady, SubjectID: r.ID}, data); err != nil {
				return err
			}
		}
		// The rendition's publications go out from this commit on.
		return s.renditionStoredTx(ctx, tx, r)
	})
	if err != nil {
		return r, err
	}
	s.events.Notify(run.exportID)
	return r, nil
}

// failRendition records one target's failure.
func (s *Service) failRendition(ctx context.Context, run *renderRun, r store.Rendition, check *engine.CheckReport, cause error) error {
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
	r, err := s.saveRendition(ctx, run, r)
	if errors.Is(err, store.ErrConflict) {
		return nil // canceled: the cancellation path takes over
	}
	if err != nil {
		return err
	}
	run.log.InfoContext(ctx, "target failed", "rendition_id", r.ID, "preset", r.PresetID, "error_code", e.Code, "error", msg)
	s.metrics.rendition(metricPreset(r.PresetID), string(r.Status))
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
func (s *Service) renderFailed(ctx context.Context, run *renderRun, err error) error {
	if s.exportCanceled(ctx, run.exportID) {
		s.discardRun(ctx, run)
		return river.JobCancel(err)
	}
	if ctx.Err() != nil {
		// Shutdown or timeout, not a fault of the export.
		return s.retryLater(ctx, run, err)
	}
	code := errcode.Of(err)
	last := run.job.Attempt >= run.job.MaxAttempts
	if !permanent(code) && !last {
		return s.retryLater(ctx, run, err)
	}
	run.log.WarnContext(ctx, "render failed", "error_code", code, "error", err, "permanent", permanent(code))
	for _, r := range run.todo {
		if ferr := s.failRendition(ctx, run, r, nil, err); ferr != nil {
			return errors.Join(err, ferr)
		}
	}
	if ferr := s.finish(ctx, run); ferr != nil {
		return errors.Join(err, ferr)
	}
	if permanent(code) {
		return river.JobCancel(err)
	}
	return err // the last attempt: River discards the job
}

// retryLater puts the export back in the queue and returns err for River to
// retry the job with backoff.
func (s *Service) retryLater(ctx context.Context, run *renderRun, err error) error {
	run.log.WarnContext(ctx, "render interrupted; it will be retried", "error", err)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if _, uerr := s.store.UpdateExportStatus(ctx, run.exportID, store.StatusChange{Status: store.ExportQueued}); uerr == nil {
		run.progress.force(ctx, StageQueued)
	}
	return err
}

// exportCanceled reports whether the export was canceled (CancelExport),
// reading the database even when ctx is done.
func (s *Service) exportCanceled(ctx context.Context, exportID string) bool {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	e, err := s.store.GetExport(ctx, exportID)
	return err == nil && e.Status == store.ExportCanceled
}

// discardRun removes the files this attempt stored for a canceled export:
// nothing of a canceled run is left behind.
func (s *Service) discardRun(ctx context.Context, run *renderRun) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	for _, r := range run.stored {
		file := r.BlobKey
		for _, key := range []string{r.ThumbnailKey, r.CaptionsKey} {
			if key != "" && !isOverride(key) {
				if err := s.blob.Delete(ctx, key); err != nil && !errors.Is(err, blob.ErrNotFound) {
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
		if _, err := s.store.UpdateRendition(ctx, r); err != nil {
			run.log.WarnContext(ctx, "mark rendition canceled", "rendition_id", r.ID, "error", err)
			continue
		}
		// After the row lets go of it: the last of the renditions sharing
		// the file deletes it.
		if err := s.releaseFile(ctx, file, r.ID); err != nil {
			run.log.WarnContext(ctx, "delete file of canceled export", "rendition_id", r.ID, "error", err)
		}
	}
	run.log.InfoContext(ctx, "render canceled", "files_removed", len(run.stored))
}

// finish sets the export's final status from its renditions and tells
// watchers, in one transaction.
func (s *Service) finish(ctx context.Context, run *renderRun) error {
	ctx = context.WithoutCancel(ctx) // a finished render is recorded even at shutdown
	rends, err := s.store.ListRenditions(ctx, run.exportID)
	if err != nil {
		return err
	}
	change := summarize(rends)
	err = s.store.WithTx(ctx, func(tx *sql.Tx) error {
		q := s.store.Using(tx)
		if _, err := q.UpdateExportStatus(ctx, run.exportID, change); err != nil {
			return err
		}
		if err := q.UpdateExportProgress(ctx, run.exportID, store.Progress{Stage: run.progress.lastStage(), Percent: 100}); err != nil {
			return err
		}
		e, err := q.GetExport(ctx, run.exportID)
		if err != nil {
			return err
		}
		if err := s.exportFinishedTx(ctx, tx, e, run.job.ID); err != nil {
			return err
		}
		// "done" waits for the publications going out now.
		return s.maybeDoneTx(ctx, tx, run.exportID)
	})
	if errors.Is(err, store.ErrConflict) {
		// Canceled while its files were being stored.
		s.discardRun(ctx, run)
		return river.JobCancel(fmt.Errorf("export %s was canceled", run.exportID))
	}
	if err != nil {
		return fmt.Errorf("finish export: %w", err)
	}
	s.events.Notify(run.exportID)
	s.metrics.export(string(change.Status))
	run.log.InfoContext(ctx, "export finished", "status", change.Status, "error_code", change.ErrorCode)
	return nil
}

// summarize turns the renditions' outcomes into the export's final status.
func summarize(rends []store.Rendition) store.StatusChange {
	var ok int
	var failed []store.Rendition
	for _, r := range rends {
		if r.Status == store.RenditionSucceeded {
			ok++
		} else {
			failed = append(failed, r)
		}
	}
	switch {
	case len(failed) == 0:
		return store.StatusChange{Status: store.ExportSucceeded}
	case ok == 0:
		return store.StatusChange{Status: store.ExportFailed, ErrorCode: failed[0].ErrorCode,
			ErrorMessage: failed[0].ErrorMessage}
	default:
		return store.StatusChange{Status: store.ExportPartiallyFailed, ErrorCode: failed[0].ErrorCode,
			ErrorMessage: fmt.Sprintf("%d of %d targets failed; %s: %s", len(failed), len(rends),
				failed[0].PresetID, failed[0].ErrorMessage)}
	}
}

// exportFinishedTx sends the webhooks of a finished render: export.progress
// at 100 % and export.succeeded, or export.failed.
func (s *Service) exportFinishedTx(ctx context.Context, tx *sql.Tx, e store.Export, jobID int64) error {
	run := fmt.Sprint(jobID)
	if e.Status != store.ExportFailed && e.Status != store.ExportCanceled {
		d := exportData(e, 0)
		d.Percent = 100
		if err := s.emitTx(ctx, tx, store.Event{ID: eventID(e.ID, run, EventExportProgress, "100"), WorkspaceID: e.WorkspaceID,
			Type: EventExportProgress, SubjectID: e.ID}, d); err != nil {
			return err
		}
	}
	typ := EventExportCompleted
	switch e.Status {
	case store.ExportFailed:
		typ = EventExportFailed
	case store.ExportCanceled:
		typ = EventExportCanceled
	}
	return s.emitTx(ctx, tx, store.Event{ID: eventID(e.ID, run, typ), WorkspaceID: e.WorkspaceID, Type: typ, SubjectID: e.ID},
		exportData(e, 0))
}
