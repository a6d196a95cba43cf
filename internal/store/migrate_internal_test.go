package store

import (
	"context"
	"fmt"
)

// MigrateUpTo applies the app's migrations up to version v only, for tests
// of a migration's backfill.
func (s *Store) MigrateUpTo(ctx context.Context, v int64) error {
	p, err := s.goose()
	if err != nil {
		return err
	}
	if _, err := p.UpTo(ctx, v); err != nil {
		return fmt.Errorf("migrate up to %d: %w", v, err)
	}
	return nil
}
