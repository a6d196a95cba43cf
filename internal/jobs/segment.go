package jobs

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/riverqueue/river"

	"outpost/internal/engine"
	"outpost/internal/errcode"
	"outpost/internal/eta"
	"outpost/internal/media"
	"outpost/internal/outpost"
	"outpost/internal/render"
	"outpost/internal/store"
)

// A segmented render on many workers (DESIGN §4.6): the export's render
// job plans the cuts and, where the export is cut, queues one job per part
// (each piece, and the rest: audio once per encode, stream copies, GIF)
// instead of rendering. Any worker takes any part: it renders it
// (engine.RenderPart) and stores its files under segments/<export id>/.
// The part that finishes last queues the join in the same transaction as
// its own "done" (River has no job dependencies; a join that polled for
// its parts would wait a snooze interval after the last one). The join
// job is a render job whose engine run joins the stored parts instead of
// rendering (engine.Request.Parts): the check, the store, the steps and
// the events are the single pass's. The parts' files are deleted once the
// export is final, whatever its outcome.

// Kinds of the segmented render's jobs.
const (
	KindSegment = "export.segment"
	KindJoin    = "export.join"
)

// segmentProgressInterval is the least time between two progress records
// of one part: each reads every part's to report the export's.
const segmentProgressInterval = time.Second

// segmentsPrefix is where the parts' files are stored.
const segmentsPrefix = "segments/"

// SegmentArgs are a part job's arguments.
type SegmentArgs struct {
	ExportID string `json:"export_id"`
	// Part is engine.PartRest (0) for the rest, i ≥ 1 for piece i.
	Part int `json:"part"`
	// Segments is the count the plan was made for, Pieces how many pieces
	// it has: every node plans again and must find the same.
	Segments int `json:"segments"`
	Pieces   int `json:"pieces"`
	// RenderJobID is the render job that planned it: the export's
	// progress webhooks are named by it.
	RenderJobID int64 `json:"render_job_id"`
	// Plan is what the render job found: every part renders its cuts
	// with its loudness.
	Plan PartsPlan `json:"plan"`
}

// PartsPlan is what the job that plans a segmented render passes to its
// parts and its join, so that none does it again: the cuts (planning
// them reads every packet of the source) and the source's loudness (a
// full decode of its audio). Jobs queued without it plan again.
type PartsPlan struct {
	Cuts     []render.Segment `json:"cuts,omitempty"`
	Loudness *media.Loudness  `json:"loudness,omitempty"`
}

// apply gives req what the plan holds.
func (p PartsPlan) apply(req *engine.Request) {
	req.Cuts, req.Loudness = p.Cuts, p.Loudness
}

// Kind implements river.JobArgs.
func (SegmentArgs) Kind() string { return KindSegment }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (SegmentArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueRender, MaxAttempts: renderMaxAttempts}
}

// JoinArgs are the join job's arguments (see SegmentArgs).
type JoinArgs struct {
	ExportID    string `json:"export_id"`
	Segments    int    `json:"segments"`
	Pieces      int    `json:"pieces"`
	RenderJobID int64  `json:"render_job_id"`
	// Plan is the parts' (SegmentArgs.Plan).
	Plan PartsPlan `json:"plan"`
}

// Kind implements river.JobArgs.
func (JoinArgs) Kind() string { return KindJoin }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (JoinArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueRender, MaxAttempts: renderMaxAttempts}
}

// SegmentKey is where file name of part part of the export is stored.
func SegmentKey(exportID string, part int, name string) string {
	return segmentsPrefix + exportID + "/" + strconv.Itoa(part) + "/" + name
}

// segmentCount is how many segments the export's render is cut into: the
// request's count, else as many as there are live workers when the
// source is longer than the threshold; 1 renders in one pass.
func (w *renderWorker) segmentCount(ctx context.Context, e store.Export, req outpost.ExportSpec) (int, error) {
	if req.Segments > 0 {
		return req.Segments, nil
	}
	if w.segmentThreshold <= 0 {
		return 1, nil
	}
	prj, err := w.store.GetProject(ctx, e.ProjectID)
	if err != nil || prj.Duration <= w.segmentThreshold {
		return 1, err
	}
	nodes, err := w.store.ListNodes(ctx)
	if err != nil {
		return 1, err
	}
	return min(liveNodes(nodes, time.Now().Add(-w.nodeTimeout)), outpost.MaxSegments), nil
}

// liveNodes counts the nodes heard from since t.
func liveNodes(nodes []store.Node, t time.Time) int {
	n := 0
	for _, x := range nodes {
		if x.HeartbeatAt.After(t) {
			n++
		}
	}
	return n
}

// fanOut plans run's render in n segments and, unless it renders in one
// pass after all (too short, too few keyframes), queues its parts. It
// reports whether it did.
func (w *renderWorker) fanOut(ctx context.Context, run *renderRun, e store.Export, req outpost.ExportSpec,
	targets []render.Target, dir string, n int,
) (bool, error) {
	ereq, _, err := w.engineRequest(ctx, run, e, req, targets, dir)
	if err != nil {
		return false, err
	}
	ereq.Segments = n
	// The loudness is measured here, once for every part.
	s, loudness, err := w.engine.PrepareSegmented(ctx, ereq)
	if err != nil || s == nil {
		return false, err
	}
	plan := PartsPlan{Cuts: s.Segments, Loudness: loudness}
	type part struct {
		n       int
		seconds float64
	}
	var parts []part
	for i, p := range s.Pieces {
		parts = append(parts, part{i + 1, p.Duration})
	}
	if s.Rest != nil {
		parts = append(parts, part{engine.PartRest, s.Whole.Duration * engine.RestWeight})
	}
	err = w.store.WithTx(ctx, func(tx *sql.Tx) error {
		q := w.store.Using(tx)
		if err := q.TouchLiveExport(ctx, run.exportID); err != nil {
			return err
		}
		// What an earlier run of the export left.
		if err := w.queue.DropSegmentsTx(ctx, tx, run.exportID, 0); err != nil {
			return err
		}
		for _, p := range parts {
			res, err := w.queue.client.InsertTx(ctx, tx, SegmentArgs{ExportID: run.exportID, Part: p.n, Segments: n,
				Pieces: len(s.Pieces), RenderJobID: run.jobID, Plan: plan}, &river.InsertOpts{Priority: e.Priority})
			if err != nil {
				return fmt.Errorf("insert segment job: %w", err)
			}
			if err := q.CreateSegment(ctx, store.Segment{ExportID: run.exportID, Part: p.n, Seconds: p.seconds,
				JobID: res.Job.ID}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	run.log.InfoContext(ctx, "render cut in segments", "segments", len(s.Pieces), "rest", s.Rest != nil)
	run.progress.report(ctx, StageRender, 0, 0, 0, 0)
	return true, nil
}

// DropSegmentsTx forgets the parts of the export's segmented render in tx:
// their jobs are canceled (but the job except, the caller's own), their
// stored files deleted by a job.
func (q *Queue) DropSegmentsTx(ctx context.Context, tx *sql.Tx, exportID string, except int64) error {
	db := q.store.Using(tx)
	segs, err := db.ListSegments(ctx, exportID)
	if err != nil || len(segs) == 0 {
		return err
	}
	var keys []string
	for _, s := range segs {
		if s.DoneAt == nil && s.JobID != except {
			if err := q.CancelJob(ctx, tx, s.JobID); err != nil {
				return err
			}
		}
		for _, f := range s.Files {
			keys = append(keys, SegmentKey(exportID, s.Part, f))
		}
	}
	if err := q.InsertDeleteFiles(ctx, tx, keys); err != nil {
		return err
	}
	return db.DeleteSegments(ctx, exportID)
}

// fetchParts downloads the stored files of the export's parts where the
// join wants them, and joins their reports.
func (w *renderWorker) fetchParts(exportID string, pieces int) engine.PartsFunc {
	return func(ctx context.Context, dest func(string) (string, error)) (media.Report, error) {
		segs, err := w.store.ListSegments(ctx, exportID)
		if err != nil {
			return media.Report{}, err
		}
		n := 0
		var reps []media.Report
		for _, s := range segs {
			if s.DoneAt == nil {
				return media.Report{}, fmt.Errorf("join: part %d of export %s is not stored yet", s.Part, exportID)
			}
			if s.Part != engine.PartRest {
				n++
			}
			if len(s.Report) > 0 {
				var rep media.Report
				if err := json.Unmarshal(s.Report, &rep); err != nil {
					return media.Report{}, fmt.Errorf("join: read the report of part %d: %w", s.Part, err)
				}
				reps = append(reps, rep)
			}
			for _, f := range s.Files {
				p, err := dest(f)
				if err != nil {
					return media.Report{}, err
				}
				if err := w.download(ctx, SegmentKey(exportID, s.Part, f), p); err != nil {
					return media.Report{}, err
				}
			}
		}
		if n != pieces {
			return media.Report{}, fmt.Errorf("join: %d pieces stored, %d planned", n, pieces)
		}
		return media.JoinReports(reps...), nil
	}
}

// download copies the blob at key to the file dst.
func (w *renderWorker) download(ctx context.Context, key, dst string) error {
	r, err := w.blob.Open(ctx, key)
	if err != nil {
		return fmt.Errorf("read %s: %w", key, err)
	}
	defer r.Close()
	f, err := os.Create(dst)
	if err != nil {
		return errcode.Wrap(errcode.OutputWriteFailed, err, "write a part's file")
	}
	if _, err := io.Copy(f, r); err != nil {
		_ = f.Close()
		return fmt.Errorf("read %s: %w", key, err)
	}
	return f.Close()
}

// segmentsDone is how far the export's render is over its parts: the
// seconds of work done and in all, each part's percent weighed by its
// length (Segment.Seconds), and when the first part was queued.
func segmentsDone(segs []store.Segment) (done, total float64, queued time.Time) {
	for _, s := range segs {
		total += s.Seconds
		done += s.Seconds * s.Percent / 100
		if queued.IsZero() || s.CreatedAt.Before(queued) {
			queued = s.CreatedAt
		}
	}
	return done, total, queued
}

type segmentWorker struct {
	river.WorkerDefaults[SegmentArgs]
	r *renderWorker
}

// Timeout: as the render job's.
func (w *segmentWorker) Timeout(*river.Job[SegmentArgs]) time.Duration { return -1 }

func (w *segmentWorker) Work(ctx context.Context, job *river.Job[SegmentArgs]) error {
	a, r := job.Args, w.r
	run := &renderRun{jobID: job.ID, attempt: job.Attempt, maxAttempts: job.MaxAttempts, exportID: a.ExportID, part: true}
	run.log = r.logger.With("export_id", run.exportID, "job_id", job.ID, "attempt", job.Attempt, "part", a.Part)
	e, done, err := r.liveExport(ctx, run)
	if done || err != nil {
		return err
	}
	run.progress = newReporter(r.store, r.queue, r.logger, run.exportID, e.WorkspaceID, a.RenderJobID)
	var req outpost.ExportSpec
	if err := json.Unmarshal(e.Request, &req); err != nil {
		return r.renderFailed(ctx, run, errcode.Wrap(errcode.InvalidOption, err, "read the export request"))
	}
	if run.todo, _, err = r.todo(ctx, run.exportID); err != nil {
		return err
	}
	dir, cleanup, err := r.attemptDir(run)
	if err != nil {
		return err
	}
	defer cleanup()
	targets, todo, _ := planTargets(req, run.todo, dir)
	run.todo = todo

	st := r.steps.start(ctx, job.ID, job.Attempt, store.Step{ExportID: run.exportID, Kind: outpost.StepSegment, Segment: a.Part})
	err = w.render(ctx, run, e, req, targets, dir, a)
	r.steps.finish(ctx, st, err)
	if err != nil {
		return r.renderFailed(ctx, run, err)
	}
	return nil
}

// render renders the part and stores its files; the last part to finish
// queues the join.
func (w *segmentWorker) render(ctx context.Context, run *renderRun, e store.Export, req outpost.ExportSpec,
	targets []render.Target, dir string, a SegmentArgs,
) error {
	r := w.r
	ereq, _, err := r.engineRequest(ctx, run, e, req, targets, dir)
	if err != nil {
		return err
	}
	ereq.Segments = a.Segments
	a.Plan.apply(&ereq)
	var stored []string
	drop := func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		for _, f := range stored {
			if _, err := DeleteFiles(dctx, r.blob, []string{SegmentKey(run.exportID, a.Part, f)}); err != nil {
				run.log.WarnContext(ctx, "delete a part's file", "error", err)
			}
		}
	}
	part, err := r.engine.RenderPart(ctx, ereq, a.Part, w.progress(ctx, run, a.Part), func(ctx context.Context, name, path string) error {
		if _, err := r.blob.PutFile(ctx, SegmentKey(run.exportID, a.Part, name), path, "application/octet-stream"); err != nil {
			return fmt.Errorf("store %s: %w", name, err)
		}
		stored = append(stored, name)
		return nil
	})
	if err == nil && part.Pieces != a.Pieces {
		err = engine.ErrNotSegmented
	}
	var report []byte
	if err == nil && (part.Report.DecodeErrors > 0 || len(part.Report.Damaged) > 0) {
		report, err = json.Marshal(part.Report)
	}
	if err != nil {
		drop()
		return err
	}
	err = r.store.WithTx(ctx, func(tx *sql.Tx) error {
		q := r.store.Using(tx)
		// The lock orders the parts that finish at once: the last sees 0.
		if err := q.TouchLiveExport(ctx, run.exportID); err != nil {
			return err
		}
		left, err := q.FinishSegment(ctx, run.exportID, a.Part, stored, report)
		if err != nil || left != 0 {
			return err
		}
		res, err := r.queue.client.InsertTx(ctx, tx, JoinArgs{ExportID: run.exportID, Segments: a.Segments, Pieces: a.Pieces,
			RenderJobID: a.RenderJobID, Plan: a.Plan}, &river.InsertOpts{Priority: e.Priority})
		if err != nil {
			return fmt.Errorf("insert join job: %w", err)
		}
		run.log.InfoContext(ctx, "every part stored: join queued", "join_job_id", res.Job.ID)
		return q.SetExportJobID(ctx, run.exportID, res.Job.ID)
	})
	if err != nil {
		drop()
	}
	return err
}

// progress records the part's progress and reports the export's, over
// all its parts, at most every segmentProgressInterval: the percent of
// the work done by every part, and one time left, the estimator's (the
// speed of the whole after its warm-up, as a one-pass render's) on the
// seconds of work done by all of them; until its warm-up is over, the
// pace since the parts were queued. Every part's node reports it.
func (w *segmentWorker) progress(ctx context.Context, run *renderRun, part int) func(media.Progress) {
	var (
		last time.Time
		est  eta.Estimator
	)
	return func(pr media.Progress) {
		now := time.Now()
		if now.Sub(last) < segmentProgressInterval {
			return
		}
		last = now
		if err := w.r.store.SegmentProgress(ctx, run.exportID, part, pr.Percent); err != nil {
			return
		}
		segs, err := w.r.store.ListSegments(ctx, run.exportID)
		if err != nil {
			return
		}
		done, total, queued := segmentsDone(segs)
		if total <= 0 {
			return
		}
		est.Total = total
		left, ok := est.Observe(done, now)
		if !ok && done > 0 {
			left = time.Duration(float64(now.Sub(queued)) * (total - done) / done)
		}
		run.progress.report(ctx, StageRender, 100*done/total, pr.FPS, pr.Speed, left.Round(time.Second))
	}
}

type joinWorker struct {
	river.WorkerDefaults[JoinArgs]
	r *renderWorker
}

// Timeout: as the render job's.
func (w *joinWorker) Timeout(*river.Job[JoinArgs]) time.Duration { return -1 }

func (w *joinWorker) Work(ctx context.Context, job *river.Job[JoinArgs]) error {
	return w.r.work(ctx, &renderRun{jobID: job.ID, attempt: job.Attempt, maxAttempts: job.MaxAttempts,
		exportID: job.Args.ExportID, join: &job.Args})
}
