// Package store is Outpost's database access: the schema and its migrations
// (one folder per engine, applied by goose, plus River's own tables through
// rivermigrate), and typed methods for every table.
//
// The same code runs on SQLite (modernc.org/sqlite, the embedded default) and
// PostgreSQL (pgx through database/sql, for scale-out). Queries use `$n`
// placeholders, which both drivers accept; times are stored in UTC with
// microsecond precision on both engines; JSON columns are TEXT on SQLite and
// JSONB on PostgreSQL and read back as json.RawMessage.
//
// Every data method lives on Queries. Store embeds one bound to the pool;
// Using binds one to a transaction, so rows and River jobs can be written in
// one commit:
//
//	err := s.WithTx(ctx, func(tx *sql.Tx) error {
//		e, err := s.Using(tx).CreateExport(ctx, e)
//		if err != nil {
//			return err
//		}
//		_, err = riverClient.InsertTx(ctx, tx, RenderArgs{ExportID: e.ID}, nil)
//		return err
//	})
//
// Missing rows are reported as ErrNotFound, uniqueness clashes as ErrConflict.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"outpost/internal/errcode"
)

// Store is an open database. It is safe for concurrent use.
type Store struct {
	*Queries

	db       *sql.DB
	listener *pgxpool.Pool // Postgres only: River's LISTEN connections
	engine   Engine
	// sqlitePath is the SQLite database file; "" in memory or on Postgres.
	sqlitePath string
	logger     *slog.Logger
	// batch groups the calls of WithBatchedTx (batch.go).
	batch batcher
	// stmts keeps prepared statements on SQLite (stmtcache.go); nil on
	// PostgreSQL.
	stmts *stmtCache
}

// Open connects to the database named by databaseURL and checks that it
// answers; it does not migrate (call Migrate). The engine follows from the
// URL: postgres://… and postgresql://… are PostgreSQL; sqlite:PATH,
// sqlite:///ABS/PATH, file:PATH?… and plain paths are SQLite files, opened
// with WAL, a busy timeout, foreign keys and immediate transactions (the
// file's directory is created if missing). Errors carry
// errcode.DBUnavailable.
//
// On SQLite the pool holds a single connection (SQLite allows one writer;
// River's SQLite driver needs this to avoid SQLITE_BUSY), so code inside
// WithTx must use the transaction, never the Store, or it waits forever.
func Open(ctx context.Context, databaseURL string, logger *slog.Logger) (*Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	engine, dsn, err := parseURL(databaseURL)
	if err != nil {
		return nil, errcode.Wrap(errcode.DBUnavailable, err, "parse database URL")
	}
	s := &Store{engine: engine, logger: logger}
	switch engine {
	case SQLite:
		err = s.openSQLite(ctx, dsn)
	case Postgres:
		err = s.openPostgres(ctx, dsn)
	}
	if err != nil {
		return nil, errcode.Wrap(errcode.DBUnavailable, err, "open "+string(engine)+" database")
	}
	if engine == SQLite {
		s.stmts = newStmtCache(s.db)
	}
	s.Queries = &Queries{db: s.db, engine: engine, stmts: s.stmts}
	return s, nil
}

func (s *Store) openSQLite(ctx context.Context, dsn string) (err error) {
	s.sqlitePath = sqliteFilePath(dsn)
	if err := ensureSQLiteDir(s.sqlitePath); err != nil {
		return err
	}
	// The first connection may switch a new file to WAL, which fails when
	// another process does the same at the same moment.
	unlock, err := lockSQLiteFile(ctx, s.sqlitePath)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, unlock()) }()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return fmt.Errorf("open sqlite: %w", err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return fmt.Errorf("ping sqlite: %w", err)
	}
	s.db = db
	return nil
}

func (s *Store) openPostgres(ctx context.Context, dsn string) error {
	connConfig, err := pgx.ParseConfig(dsn)
	if err != nil {
		return fmt.Errorf("parse postgres URL: %w", err)
	}
	db := stdlib.OpenDB(*connConfig)
	db.SetMaxOpenConns(pgMaxConns)
	db.SetMaxIdleConns(10)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return fmt.Errorf("ping postgres: %w", err)
	}
	// River's listener takes dedicated connections out of this pool for
	// LISTEN; one client per process needs one. Connections are made lazily.
	poolConfig, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		_ = db.Close()
		return fmt.Errorf("parse postgres URL: %w", err)
	}
	poolConfig.MinConns = 0
	poolConfig.MaxConns = 2
	pool, err := pgxpool.NewWithConfig(ctx, poolConfig)
	if err != nil {
		_ = db.Close()
		return fmt.Errorf("create postgres listener pool: %w", err)
	}
	s.db, s.listener = db, pool
	return nil
}

// Close closes the database. River clients using it must be stopped first.
func (s *Store) Close() error {
	if s.listener != nil {
		s.listener.Close()
	}
	s.stmts.close()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close database: %w", err)
	}
	return nil
}

// DB returns the connection pool.
func (s *Store) DB() *sql.DB { return s.db }

// Engine returns the engine the store runs on.
func (s *Store) Engine() Engine { return s.engine }

// pgMaxConns bounds the PostgreSQL pool, so that N worker processes stay
// within the server's max_connections (100 by default).
const pgMaxConns = 20

// BurstConcurrency is how many requests of a burst (exports accepted at
// once by many clients) should work on the store at the same time, the
// rest waiting their turn in arrival order; 0 means no limit. On SQLite
// there is none: accepts that arrive together share one transaction
// (WithBatchedTx), so the more wait there at once the better. On
// PostgreSQL it is twice the CPU cores (the usual pool size for a
// CPU-bound load), within the pool: beyond that the accepts only wait
// inside the pool, which hands a freed connection to a waiter at random,
// not to the first.
func (s *Store) BurstConcurrency() int {
	if s.engine == SQLite {
		return 0
	}
	return min(2*runtime.GOMAXPROCS(0), pgMaxConns)
}

// ListenerPool returns the pgx pool River uses for LISTEN/NOTIFY on
// PostgreSQL (riverdatabasesql.NewWithPgxListener), or nil on SQLite.
func (s *Store) ListenerPool() *pgxpool.Pool { return s.listener }

// RiverDriver returns a River driver over this store's pool, for
// river.NewClient: riversqlite on SQLite, riverdatabasesql with a pgx
// listener on PostgreSQL. Both give a river.Client[*sql.Tx], so jobs are
// inserted with the same *sql.Tx that WithTx hands out.
func (s *Store) RiverDriver() riverdriver.Driver[*sql.Tx] {
	if s.engine == Postgres {
		return riverdatabasesql.NewWithPgxListener(s.db, s.listener)
	}
	return riversqlite.New(s.db)
}

// WithTx runs fn in a transaction, committing if it returns nil and rolling
// back otherwise (also on panic). Use Using(tx) for store methods inside fn.
func (s *Store) WithTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return runTx(ctx, s.db, fn)
}

func runTx(ctx context.Context, db *sql.DB, fn func(tx *sql.Tx) error) (err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
		if err != nil {
			if rbErr := tx.Rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) {
				err = errors.Join(err, fmt.Errorf("roll back: %w", rbErr))
			}
		}
	}()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// atomic runs fn with Queries in one transaction: a new one when q is bound
// to the pool, the caller's when q is already bound to a transaction (its
// commit then decides). For methods that write several rows.
func (q *Queries) atomic(ctx context.Context, fn func(q *Queries) error) error {
	db, ok := q.db.(*sql.DB)
	if !ok {
		return fn(q)
	}
	return runTx(ctx, db, func(tx *sql.Tx) error {
		return fn(&Queries{db: tx, engine: q.engine})
	})
}

// Using returns the store's methods bound to q, usually a *sql.Tx from
// WithTx.
func (s *Store) Using(q Querier) *Queries {
	return &Queries{db: q, engine: s.engine, stmts: s.stmts}
}

// Querier is what Queries runs on: *sql.DB, *sql.Tx and *sql.Conn satisfy it.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

var (
	_ Querier = (*sql.DB)(nil)
	_ Querier = (*sql.Tx)(nil)
	_ Querier = (*sql.Conn)(nil)
)

// Queries holds the data methods, bound to a pool or a transaction.
type Queries struct {
	db     Querier
	engine Engine
	stmts  *stmtCache
}
