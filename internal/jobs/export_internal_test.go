package jobs

import (
	"context"
	"time"
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
