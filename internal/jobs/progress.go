package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"outpost/internal/events"
	"outpost/internal/outpost"
	"outpost/internal/store"
)

// progressInterval is the least time between two progress events of one
// export (at most 4 a second); stage changes and 100 % always go out.
const progressInterval = 250 * time.Millisecond

// stageSpan is each stage's share of the export's overall percent: the
// render is nearly all of the time. The audio analysis, when a target
// normalises loudness, takes the start of the render's share.
var stageSpan = map[string][2]float64{
	StageQueued: {0, 0},
	StageProbe:  {0, 2},
	StageAudio:  {2, 12},
	StageRender: {2, 92},
	StageCheck:  {92, 96},
	StageStore:  {96, 100},
}

// reporter turns stage progress into throttled "progress" events and keeps
// the export's progress columns current.
type reporter struct {
	store    *store.Store
	queue    *Queue
	logger   *slog.Logger
	exportID string
	// workspaceID and jobID name the export.progress webhooks (sent at 25,
	// 50 and 75 %; 100 % goes with the export's end).
	workspaceID string
	jobID       int64
	milestone   float64

	mu      sync.Mutex
	stage   string
	percent float64
	at      time.Time
	audio   bool // an audio stage ran: the render starts later
}

func newReporter(st *store.Store, q *Queue, logger *slog.Logger, exportID, workspaceID string, jobID int64) *reporter {
	return &reporter{store: st, queue: q, logger: logger, exportID: exportID, workspaceID: workspaceID, jobID: jobID}
}

// milestones are the export.progress webhooks sent while rendering.
var milestones = []float64{25, 50, 75}

// report records that stage is at stagePercent. It is safe to call from the
// engine's progress goroutine.
func (r *reporter) report(ctx context.Context, stage string, stagePercent, fps, speed float64, eta time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	span, ok := stageSpan[stage]
	if !ok {
		span = [2]float64{0, 100}
	}
	if stage == StageAudio {
		r.audio = true
	}
	if stage == StageRender && r.audio {
		span[0] = stageSpan[StageAudio][1]
	}
	overall := span[0] + (span[1]-span[0])*math.Min(math.Max(stagePercent, 0), 100)/100
	overall = math.Round(overall*10) / 10

	now := time.Now()
	switch {
	case stage != r.stage:
	case overall >= 100 && r.percent < 100:
	case now.Sub(r.at) >= progressInterval && overall != r.percent:
	default:
		return
	}
	r.stage, r.percent, r.at = stage, overall, now
	r.write(ctx, events.Progress{Stage: stage, Percent: overall, FPS: round1(fps), Speed: round2(speed),
		ETASeconds: round1(eta.Seconds())}, eta)
}

// force reports stage at 0 % whatever the throttle says.
func (r *reporter) force(ctx context.Context, stage string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stage, r.percent, r.at = stage, 0, time.Now()
	r.write(ctx, events.Progress{Stage: stage}, 0)
}

func (r *reporter) lastStage() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stage
}

// write stores the event and the export's progress in one transaction (one
// commit on SQLite), then wakes watchers. Nothing is written once the export
// is final: its "done" is its last event. A failure only loses this report.
func (r *reporter) write(ctx context.Context, p events.Progress, eta time.Duration) {
	if ctx.Err() != nil {
		return
	}
	err := r.store.WithTx(ctx, func(tx *sql.Tx) error {
		if err := r.store.Using(tx).UpdateLiveExportProgress(ctx, r.exportID,
			store.Progress{Stage: p.Stage, Percent: p.Percent, ETA: eta}); err != nil {
			return err
		}
		if err := r.queue.PublishTx(ctx, tx, r.exportID, events.TypeProgress, p); err != nil {
			return err
		}
		for _, m := range milestones {
			if p.Percent < m || r.milestone >= m || r.workspaceID == "" {
				continue
			}
			r.milestone = m
			e, err := r.store.Using(tx).GetExport(ctx, r.exportID)
			if err != nil {
				return err
			}
			d := ExportData(e, 0)
			d.Percent = m
			ms := fmt.Sprint(m)
			if err := r.queue.EmitTx(ctx, tx, store.Event{ID: eventID(r.exportID, fmt.Sprint(r.jobID), outpost.EventExportProgress, ms),
				WorkspaceID: r.workspaceID, Type: outpost.EventExportProgress, SubjectID: r.exportID}, d); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		if ctx.Err() == nil && !errors.Is(err, store.ErrConflict) {
			r.logger.WarnContext(ctx, "report progress", "export_id", r.exportID, "error", err)
		}
		return
	}
	r.queue.Notify(r.exportID)
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }
func round2(v float64) float64 { return math.Round(v*100) / 100 }
