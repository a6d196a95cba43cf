package store_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"outpost/internal/store"
	"outpost/internal/storetest"
	"outpost/internal/testpg"
)

// pg is this test binary's PostgreSQL server, started on first use.
var pg testpg.Server

// sqliteTemplate is a migrated SQLite database that tests copy instead of
// migrating their own (migrating takes about a second under -race).
// TestStore_Migrate* still migrate from scratch.
var sqliteTemplate templateDB

func TestMain(m *testing.M) {
	code := pg.Run(m)
	sqliteTemplate.remove()
	os.Exit(code)
}

// templateDB is a migrated SQLite file, made on first use.
type templateDB struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func (d *templateDB) get() (string, error) {
	d.once.Do(func() {
		d.dir, d.err = os.MkdirTemp("", "outpost-store-test-*")
		if d.err != nil {
			return
		}
		d.path = filepath.Join(d.dir, "template.db")
		s, err := store.Open(context.Background(), "sqlite:"+d.path, nil)
		if err != nil {
			d.err = err
			return
		}
		// Closing the last connection checkpoints the WAL into the file.
		d.err = errors.Join(s.Migrate(context.Background()), s.Close())
	})
	return d.path, d.err
}

func (d *templateDB) remove() {
	if d.dir != "" {
		_ = os.RemoveAll(d.dir)
	}
}

// engines are the engines every conformance test runs on.
var engines = storetest.Engines

// forEachEngine runs fn as a parallel subtest per engine, each with a fresh,
// migrated database. This is the conformance suite: tests are written once
// against the Store API.
func forEachEngine(t *testing.T, fn func(t *testing.T, s *store.Store)) {
	t.Helper()
	for _, engine := range engines {
		t.Run(string(engine), func(t *testing.T) {
			t.Parallel()
			fn(t, openStore(t, engine))
		})
	}
}

// openStore opens a fresh, migrated database of the engine, closed when the
// test ends. On SQLite it is a copy of the migrated template.
func openStore(t *testing.T, engine store.Engine) *store.Store {
	t.Helper()
	if engine == store.Postgres {
		return storetest.Open(t, engine, &pg)
	}
	tmpl, err := sqliteTemplate.get()
	if err != nil {
		t.Fatalf("migrate SQLite template: %v", err)
	}
	b, err := os.ReadFile(tmpl)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "outpost.db")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	s := storetest.OpenURL(t, "sqlite:"+path)
	// The copy is current: Migrate has nothing to do.
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return s
}

func openUnmigrated(t *testing.T, engine store.Engine) *store.Store {
	t.Helper()
	s := storetest.OpenURL(t, databaseURL(t, engine))
	if s.Engine() != engine {
		t.Fatalf("Engine() = %q, want %q", s.Engine(), engine)
	}
	return s
}

func databaseURL(t *testing.T, engine store.Engine) string {
	t.Helper()
	return storetest.URL(t, engine, &pg)
}

// testLogger logs warnings and errors to the test's output.
func testLogger(t *testing.T) *slog.Logger { return storetest.Logger(t) }

// fixture is a workspace with a project, for tests that need a parent row.
type fixture struct {
	ws  store.Workspace
	prj store.Project
}

func newFixture(t *testing.T, ctx context.Context, s *store.Store) fixture {
	t.Helper()
	ws, err := s.DefaultWorkspace(ctx)
	if err != nil {
		t.Fatalf("DefaultWorkspace: %v", err)
	}
	prj, err := s.CreateProject(ctx, store.Project{
		WorkspaceID: ws.ID, Name: "Spring launch master", Kind: store.ProjectUpload,
		SourceKey: "sources/a.mp4", Status: store.ProjectReady,
	})
	if err != nil {
		t.Fatalf("CreateProject: %v", err)
	}
	return fixture{ws: ws, prj: prj}
}
