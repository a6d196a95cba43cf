package store

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river/rivermigrate"

	"outpost/internal/errcode"
)

// migrationsFS holds the app's migrations, one folder per engine. A new
// migration is added to both folders with the same version number.
//
//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationsFS embed.FS

// migrateLockKey is the PostgreSQL advisory lock that serialises Migrate
// across processes (serve and N workers starting at once). On SQLite a file
// lock next to the database does the same (lockSQLiteFile).
const migrateLockKey = 0x6f7574706f7374 // "outpost"

// Migrate brings the schema up to date: the app's tables (goose) and
// River's (rivermigrate). It is safe to run on every start, from several
// processes at once.
func (s *Store) Migrate(ctx context.Context) error {
	if err := s.migrate(ctx); err != nil {
		return errcode.Wrap(errcode.MigrationFailed, err, "migrate "+string(s.engine)+" database")
	}
	return nil
}

func (s *Store) migrate(ctx context.Context) (err error) {
	var unlock func() error
	if s.engine == SQLite {
		unlock, err = lockSQLiteFile(ctx, s.sqlitePath)
	} else {
		unlock, err = s.lockPostgresMigrations(ctx)
	}
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, unlock()) }()
	if err := s.migrateApp(ctx); err != nil {
		return err
	}
	return s.migrateRiver(ctx)
}

// MigrationVersion returns the app schema's current version (0 when none
// is applied), for `outpost migrate` and health output.
func (s *Store) MigrationVersion(ctx context.Context) (int64, error) {
	p, err := s.goose()
	if err != nil {
		return 0, err
	}
	v, err := p.GetDBVersion(ctx)
	if err != nil {
		return 0, fmt.Errorf("get schema version: %w", err)
	}
	return v, nil
}

func (s *Store) goose() (*goose.Provider, error) {
	dialect := goose.DialectSQLite3
	if s.engine == Postgres {
		dialect = goose.DialectPostgres
	}
	fsys, err := fs.Sub(migrationsFS, "migrations/"+string(s.engine))
	if err != nil {
		return nil, fmt.Errorf("open migrations: %w", err)
	}
	p, err := goose.NewProvider(dialect, s.db, fsys,
		goose.WithDisableGlobalRegistry(true),
		goose.WithSlog(s.logger),
	)
	if err != nil {
		return nil, fmt.Errorf("create migration provider: %w", err)
	}
	return p, nil
}

func (s *Store) migrateApp(ctx context.Context) error {
	p, err := s.goose()
	if err != nil {
		return err
	}
	results, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("apply app migrations: %w", err)
	}
	for _, r := range results {
		s.logger.InfoContext(ctx, "applied migration",
			slog.String("engine", string(s.engine)),
			slog.Int64("version", r.Source.Version),
			slog.String("file", r.Source.Path),
			slog.Duration("duration", r.Duration))
	}
	return nil
}

func (s *Store) migrateRiver(ctx context.Context) error {
	m, err := rivermigrate.New(s.RiverDriver(), &rivermigrate.Config{Logger: s.logger})
	if err != nil {
		return fmt.Errorf("create river migrator: %w", err)
	}
	// River logs each migration it applies.
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("apply river migrations: %w", err)
	}
	return nil
}

// lockPostgresMigrations takes a session advisory lock on a connection of
// its own and returns the function that releases it.
func (s *Store) lockPostgresMigrations(ctx context.Context) (func() error, error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("get connection for migration lock: %w", err)
	}
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", int64(migrateLockKey)); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("take migration lock: %w", err)
	}
	return func() error {
		_, err := conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", int64(migrateLockKey))
		return errors.Join(err, conn.Close())
	}, nil
}
