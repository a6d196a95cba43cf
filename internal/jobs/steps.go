package jobs

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"outpost/internal/engine"
	"outpost/internal/errcode"
	"outpost/internal/outpost"
	"outpost/internal/store"
)

// stepLog records which node runs each step of an export (store.Step):
// the render, check and store of each rendition and each attempt at a
// publication. A segmented render records one step per segment the same
// way: start(…, store.Step{Kind: outpost.StepSegment, Segment: n,
// RenditionID: …}) on the node that renders it, finish when it ends.
//
// A step a killed node left running is marked interrupted when the next
// attempt starts it again (store.StartStep), or when its export or
// publication is failed for good. Recording is best effort: a failure to
// write a step is logged and never fails the job.
type stepLog struct {
	store    *store.Store
	node     string // the River client id
	hostname string
	logger   *slog.Logger
}

// start records that this node starts step s of attempt attempt of job.
func (l *stepLog) start(ctx context.Context, jobID int64, attempt int, s store.Step) store.Step {
	s.Node, s.Hostname, s.JobID, s.Attempt = l.node, l.hostname, jobID, attempt
	st, err := l.store.StartStep(ctx, s)
	if err != nil {
		l.logger.WarnContext(ctx, "record step", "export_id", s.ExportID, "step", s.Kind, "error", err)
		return store.Step{}
	}
	return st
}

// finish records how step s ended: err is what the work returned (nil:
// succeeded; a snooze: waiting; a stop: interrupted; else failed with its
// code).
func (l *stepLog) finish(ctx context.Context, s store.Step, err error) {
	if s.ID == "" {
		return
	}
	outcome, code := stepOutcome(ctx, err)
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if ferr := l.store.FinishStep(wctx, s.ID, outcome, code); ferr != nil {
		l.logger.WarnContext(ctx, "record step", "export_id", s.ExportID, "step", s.Kind, "error", ferr)
	}
}

// stepOutcome is how a step that returned err ended.
func stepOutcome(ctx context.Context, err error) (outpost.StepOutcome, errcode.Code) {
	var snooze *river.JobSnoozeError
	switch {
	case err == nil:
		return outpost.StepSucceeded, ""
	case errors.As(err, &snooze):
		return outpost.StepWaiting, ""
	case ctx.Err() != nil:
		return outpost.StepInterrupted, ""
	}
	return outpost.StepFailed, errcode.Of(err)
}

// renderSteps are the steps of one render attempt, one per rendition: the
// render until ffmpeg is done, then the check until the engine returns.
type renderSteps struct {
	log      *stepLog
	jobID    int64
	attempt  int
	exportID string
	rends    []store.Rendition

	mu      sync.Mutex
	open    []store.Step // by rendition, the step running
	checked bool
}

// startRender records the render step of each of rends.
func (l *stepLog) startRender(ctx context.Context, jobID int64, attempt int, exportID string, rends []store.Rendition) *renderSteps {
	s := &renderSteps{log: l, jobID: jobID, attempt: attempt, exportID: exportID, rends: rends, open: make([]store.Step, len(rends))}
	for i, r := range rends {
		s.open[i] = l.start(ctx, jobID, attempt, store.Step{ExportID: exportID, RenditionID: r.ID, Kind: outpost.StepRender})
	}
	return s
}

// event moves the renditions from render to check when the engine says
// ffmpeg is done. It is safe to call from the engine's progress callback.
func (s *renderSteps) event(ctx context.Context, ev engine.Event) {
	if ev.Stage != engine.StageRender || !ev.Done {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.checked {
		return
	}
	s.checked = true
	for i, st := range s.open {
		s.log.finish(ctx, st, nil)
		s.open[i] = s.log.start(ctx, s.jobID, s.attempt, store.Step{ExportID: s.exportID, RenditionID: s.rends[i].ID,
			Kind: outpost.StepCheck})
	}
}

// end records the outcome of each rendition's open step: the engine's
// error for all of them when err is set, else each result's own.
func (s *renderSteps) end(ctx context.Context, results []engine.Result, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, st := range s.open {
		rerr := err
		if rerr == nil && i < len(results) && results[i].Error != nil {
			rerr = &errcode.Error{Code: results[i].Error.Code, Message: results[i].Error.Message}
		}
		s.log.finish(ctx, st, rerr)
	}
	s.open = nil
}
