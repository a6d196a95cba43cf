package jobs

import (
	"context"
	"log/slog"
	"time"

	"outpost/internal/store"
)

// Hooks for the external tests.

// RescueDeadNodes runs one round of the heartbeat check's rescue.
func (r *Runner) RescueDeadNodes(ctx context.Context) (int, error) { return r.rescueDeadNodes(ctx) }

// RescueOwnOrphans runs the start-up rescue as a process with clientID
// started at startedAt.
func (r *Runner) RescueOwnOrphans(ctx context.Context, clientID string, startedAt time.Time) (int, error) {
	r.clientID, r.startedAt = clientID, startedAt
	return r.rescueOwnOrphans(ctx)
}

// DiscardStored removes, as a canceled render attempt does, the files of
// the renditions that attempt stored.
func (r *Runner) DiscardStored(ctx context.Context, exportID string, stored []store.Rendition) {
	w := &renderWorker{store: r.store, blob: r.cleanup.blob, queue: r.queue}
	w.discardRun(ctx, &renderRun{exportID: exportID, log: slog.New(slog.DiscardHandler), stored: stored})
}
