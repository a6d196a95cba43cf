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

// MigrateDownTo rolls the app's migrations back to version v, for tests of
// a migration's Down.
func (s *Store) MigrateDownTo(ctx context.Context, v int64) error {
	p, err := s.goose()
	if err != nil {
		return err
	}
	if _, err := p.DownTo(ctx, v); err != nil {
		return fmt.Errorf("migrate down to %d: %w", v, err)
	}
	return nil
}
