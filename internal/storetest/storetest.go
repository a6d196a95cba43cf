// Package storetest opens migrated stores on both engines for the tests of
// packages built on the store: a SQLite file in the test's temporary
// folder, or a fresh database on the test binary's PostgreSQL server.
//
//	var pg testpg.Server
//
//	func TestMain(m *testing.M) { os.Exit(pg.Run(m)) }
//
//	func TestX(t *testing.T) {
//		storetest.ForEachEngine(t, &pg, func(t *testing.T, s *store.Store) { … })
//	}
package storetest

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"outpost/internal/errcode"
	"outpost/internal/outpost"
	"outpost/internal/store"
	"outpost/internal/testpg"
)

// Engines are the engines every store-backed test runs on.
var Engines = []store.Engine{store.SQLite, store.Postgres}

// URL returns the URL of a fresh, empty database of the engine.
func URL(t testing.TB, engine store.Engine, pg *testpg.Server) string {
	t.Helper()
	if engine == store.Postgres {
		return pg.NewDatabase(t)
	}
	return "sqlite:" + filepath.Join(t.TempDir(), "outpost.db")
}

// Open returns a fresh, migrated store of the engine, closed when the test
// ends. It logs warnings and errors to the test's output.
func Open(t testing.TB, engine store.Engine, pg *testpg.Server) *store.Store {
	t.Helper()
	s := OpenURL(t, URL(t, engine, pg))
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return s
}

// OpenURL opens the database at url as it is (not migrated), closed when
// the test ends, logging warnings and errors to the test's output.
func OpenURL(t testing.TB, url string) *store.Store {
	t.Helper()
	s, err := store.Open(t.Context(), url, Logger(t))
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return s
}

// Logger logs warnings and errors to the test's output.
func Logger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// ForEachEngine runs fn as a parallel subtest per engine, each with a
// fresh, migrated store.
func ForEachEngine(t *testing.T, pg *testpg.Server, fn func(t *testing.T, s *store.Store)) {
	t.Helper()
	for _, engine := range Engines {
		t.Run(string(engine), func(t *testing.T) {
			t.Parallel()
			fn(t, Open(t, engine, pg))
		})
	}
}

// Step is a step a test records as a node ran it: on a rendition of the
// export, started and ended with Outcome (and Code).
type Step struct {
	RenditionID string
	Kind        outpost.StepKind
	Outcome     outpost.StepOutcome
	Code        errcode.Code
}

// RecordSteps records steps of the export as node (on host) ran them, in
// that order, a millisecond apart: attempt 1 of job 1.
func RecordSteps(t testing.TB, s *store.Store, exportID, node, host string, steps ...Step) {
	t.Helper()
	at := time.Now()
	for i, st := range steps {
		rec, err := s.StartStep(t.Context(), store.Step{ExportID: exportID, RenditionID: st.RenditionID, Kind: st.Kind,
			Node: node, Hostname: host, JobID: 1, Attempt: 1, StartedAt: at.Add(time.Duration(i) * time.Millisecond)})
		if err != nil {
			t.Fatalf("StartStep: %v", err)
		}
		if err := s.FinishStep(t.Context(), rec.ID, st.Outcome, st.Code); err != nil {
			t.Fatalf("FinishStep: %v", err)
		}
	}
}

// Template is a migrated SQLite database made once per test binary, which
// each test copies instead of migrating its own (migrating takes about a
// second under -race). Call Remove after the tests (TestMain).
type Template struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// Open returns a copy of the template, opened, closed when the test ends.
func (tp *Template) Open(t testing.TB) *store.Store {
	t.Helper()
	tp.once.Do(func() {
		if tp.dir, tp.err = os.MkdirTemp("", "outpost-template-*"); tp.err != nil {
			return
		}
		tp.path = filepath.Join(tp.dir, "template.db")
		s, err := store.Open(context.Background(), "sqlite:"+tp.path, nil)
		if err != nil {
			tp.err = err
			return
		}
		// Closing the last connection checkpoints the WAL into the file.
		tp.err = errors.Join(s.Migrate(context.Background()), s.Close())
	})
	if tp.err != nil {
		t.Fatalf("migrate the template database: %v", tp.err)
	}
	data, err := os.ReadFile(tp.path)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "outpost.db")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	s, err := store.Open(t.Context(), "sqlite:"+path, logger)
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// Remove deletes the template's folder.
func (tp *Template) Remove() {
	if tp.dir != "" {
		_ = os.RemoveAll(tp.dir)
	}
}
