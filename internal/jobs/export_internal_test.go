package jobs

import (
	"context"
	"log/slog"
	"time"

	"outpost/internal/store"
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

// DiscardStored removes, as a canceled render attempt does, the files of
// the renditions that attempt stored.
func (s *Service) DiscardStored(ctx context.Context, exportID string, stored []store.Rendition) {
	s.discardRun(ctx, &renderRun{exportID: exportID, log: slog.New(slog.DiscardHandler), stored: stored})
}
