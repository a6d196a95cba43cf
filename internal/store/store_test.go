package store_test

import (
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"outpost/internal/errcode"
	"outpost/internal/store"
)

func TestStore_Migrate(t *testing.T) {
	t.Parallel()
	for _, engine := range engines {
		t.Run(string(engine), func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			s := openUnmigrated(t, engine)
			if v, err := s.MigrationVersion(ctx); err != nil || v != 0 {
				t.Fatalf("MigrationVersion before = %d, %v; want 0, nil", v, err)
			}
			// Twice: the second run finds nothing to do.
			for i := range 2 {
				if err := s.Migrate(ctx); err != nil {
					t.Fatalf("Migrate #%d: %v", i+1, err)
				}
			}
			// The newest file's number (numbers are reserved per branch,
			// so one may be missing for a while).
			files, _ := filepath.Glob(filepath.Join("migrations", string(engine), "*.sql"))
			var newest int64
			for _, f := range files {
				var v int64
				if _, err := fmt.Sscanf(filepath.Base(f), "%05d_", &v); err == nil {
					newest = max(newest, v)
				}
			}
			if v, err := s.MigrationVersion(ctx); err != nil || v != newest || newest == 0 {
				t.Fatalf("MigrationVersion after = %d, %v; want %d, nil", v, err, newest)
			}
			// River's tables are there too.
			var n int
			if err := s.DB().QueryRowContext(ctx, "SELECT COUNT(*) FROM river_job").Scan(&n); err != nil {
				t.Fatalf("river_job: %v", err)
			}
		})
	}
}

func TestStore_MigrateConcurrent(t *testing.T) {
	t.Parallel()
	// serve and workers start at once against one database (on SQLite:
	// several processes on one file, on one host).
	for _, engine := range engines {
		t.Run(string(engine), func(t *testing.T) {
			t.Parallel()
			url := databaseURL(t, engine)
			const n = 4
			errs := make(chan error, n)
			for range n {
				go func() {
					s, err := store.Open(t.Context(), url, testLogger(t))
					if err != nil {
						errs <- err
						return
					}
					defer s.Close()
					errs <- s.Migrate(t.Context())
				}()
			}
			for range n {
				if err := <-errs; err != nil {
					t.Errorf("concurrent Migrate: %v", err)
				}
			}
		})
	}
}

// TestOpen_sqliteFileModes: a new SQLite database, its WAL and its shared
// memory file are readable by their owner only (0600), whatever the umask.
func TestOpen_sqliteFileModes(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	path := filepath.Join(dir, "outpost.db")
	s, err := store.Open(t.Context(), "sqlite:"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	for f, want := range map[string]os.FileMode{dir: 0o700, path: 0o600, path + "-wal": 0o600, path + "-shm": 0o600} {
		if st, err := os.Stat(f); err != nil {
			t.Error(err)
		} else if st.Mode().Perm() != want {
			t.Errorf("%s: mode %04o, want %04o", filepath.Base(f), st.Mode().Perm(), want)
		}
	}
}

func TestOpen_errors(t *testing.T) {
	t.Parallel()
	for _, url := range []string{
		"",
		"mysql://root@localhost/outpost",
		"sqlite:" + t.TempDir() + "/x.db?_txlock=bogus",
		"postgres://nobody@127.0.0.1:1/none?connect_timeout=2",
	} {
		t.Run(url, func(t *testing.T) {
			t.Parallel()
			s, err := store.Open(t.Context(), url, nil)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			if got := errcode.Of(err); got != errcode.DBUnavailable {
				t.Errorf("code = %q, want %q (err: %v)", got, errcode.DBUnavailable, err)
			}
		})
	}
}

// TestSchema_sameOnBothEngines checks that the two migration folders define
// the same tables and columns.
func TestSchema_sameOnBothEngines(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	columns := map[store.Engine][]string{}
	for _, engine := range engines {
		s := openStore(t, engine)
		query := `SELECT m.name || '.' || p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p
			WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite%' AND m.name NOT LIKE 'river%'
			AND m.name <> 'goose_db_version'`
		if engine == store.Postgres {
			query = `SELECT table_name || '.' || column_name FROM information_schema.columns
				WHERE table_schema = current_schema() AND table_name NOT LIKE 'river%'
				AND table_name <> 'goose_db_version'`
		}
		rows, err := s.DB().QueryContext(ctx, query)
		if err != nil {
			t.Fatalf("%s: list columns: %v", engine, err)
		}
		for rows.Next() {
			var c string
			if err := rows.Scan(&c); err != nil {
				t.Fatal(err)
			}
			columns[engine] = append(columns[engine], c)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		slices.Sort(columns[engine])
	}
	if len(columns[store.SQLite]) < 100 {
		t.Fatalf("only %d SQLite columns found", len(columns[store.SQLite]))
	}
	if !slices.Equal(columns[store.SQLite], columns[store.Postgres]) {
		t.Errorf("schemas differ:\nsqlite:   %s\npostgres: %s",
			strings.Join(columns[store.SQLite], " "), strings.Join(columns[store.Postgres], " "))
	}
}

func TestStore_WithTx(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		fx := newFixture(t, ctx, s)

		// A failing function rolls back.
		var rolledBack string
		boom := errors.New("boom")
		err := s.WithTx(ctx, func(tx *sql.Tx) error {
			e, err := s.Using(tx).CreateExport(ctx, store.Export{WorkspaceID: fx.ws.ID, ProjectID: fx.prj.ID})
			if err != nil {
				return err
			}
			rolledBack = e.ID
			// Visible inside the transaction.
			if _, err := s.Using(tx).GetExport(ctx, e.ID); err != nil {
				return fmt.Errorf("read own write: %w", err)
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("WithTx = %v, want boom", err)
		}
		if _, err := s.GetExport(ctx, rolledBack); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("rolled-back export: GetExport = %v, want ErrNotFound", err)
		}

		// A succeeding one commits.
		var committed string
		if err := s.WithTx(ctx, func(tx *sql.Tx) error {
			e, err := s.Using(tx).CreateExport(ctx, store.Export{WorkspaceID: fx.ws.ID, ProjectID: fx.prj.ID})
			committed = e.ID
			return err
		}); err != nil {
			t.Fatalf("WithTx: %v", err)
		}
		if _, err := s.GetExport(ctx, committed); err != nil {
			t.Errorf("committed export: %v", err)
		}

		// A panic rolls back and propagates.
		func() {
			defer func() {
				if recover() == nil {
					t.Error("panic did not propagate")
				}
			}()
			_ = s.WithTx(ctx, func(tx *sql.Tx) error { panic("boom") })
		}()
		// The pool is usable afterwards (the SQLite connection was released).
		if _, err := s.GetExport(ctx, committed); err != nil {
			t.Errorf("after panic: %v", err)
		}
	})
}
