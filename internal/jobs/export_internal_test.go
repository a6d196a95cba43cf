package jobs

import (
	"context"
	"time"
)

// Hooks for the external tests.

// RescueDeadNodes runs one round of the heartbeat check's rescue.
func (s *Service) RescueDeadNodes(ctx context.Context) (int, error) { return s.rescueDeadNodes(ctx) }

// RescueOwnOrphans runs the start-up rescue as a process with clientID
// started at startedAt.
func (s *Service) RescueOwnOrphans(ctx context.Context, clientID string, startedAt time.Time) (int, error) {
	s.clientID, s.startedAt = clientID, startedAt
	return s.rescueOwnOrphans(ctx)
}
