// Package testpg gives a test binary a throwaway PostgreSQL server and a
// fresh database per test, so that database code can be tested against the
// real engine without Docker.
//
// Use one Server per test binary:
//
//	var pg testpg.Server
//
//	func TestMain(m *testing.M) { os.Exit(pg.Run(m)) }
//
//	func TestX(t *testing.T) {
//		dsn := pg.NewDatabase(t) // postgres://…/t_xxxx, dropped at the end of the test
//	}
//
// The server starts on the first NewDatabase call (so a run that only picks
// SQLite tests pays nothing) and stops when Run returns. It is initdb'd into a
// temporary directory (on /dev/shm when that RAM disk has room: CREATE
// DATABASE is ten times faster there) from Debian's binaries
// (/usr/lib/postgresql/*/bin, or initdb/postgres on PATH), listens on a free
// port on 127.0.0.1 with trust authentication and fsync off, keeps its unix
// socket in its directory, and runs as the `postgres` OS user when the test
// runs as root. The postgres process is tied to the test binary with a
// parent-death signal, so a killed or timed-out test run does not leave a
// server behind; the next run removes the directory it left.
//
// When OUTPOST_TEST_DATABASE_URL is set, that server is used instead (its
// role needs CREATEDB). When neither is available the test is skipped, unless
// the CI variable is non-empty: CI must cover PostgreSQL, so there it fails.
package testpg

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvURL names the variable that points the tests at an existing server.
const EnvURL = "OUTPOST_TEST_DATABASE_URL"

// ErrNoPostgres reports that no PostgreSQL binaries were found.
var ErrNoPostgres = errors.New("no PostgreSQL binaries found (install the Debian package postgresql, or set " + EnvURL + ")")

// Server is a PostgreSQL server shared by the tests of one binary. The zero
// value is ready to use; it starts lazily and must be stopped by Run (or
// Stop).
type Server struct {
	once     sync.Once
	mu       sync.Mutex
	adminURL *url.URL // connects to the maintenance database
	proc     *process // nil when the server came from EnvURL
	err      error
}

// Run runs the tests, stops the server if one was started, and returns the
// exit code for os.Exit. An interrupt (SIGINT, SIGTERM) also stops the server
// before the binary exits.
func (s *Server) Run(m *testing.M) int {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case sig := <-sigs:
			s.Stop()
			fmt.Fprintf(os.Stderr, "testpg: %v: server stopped\n", sig)
			os.Exit(1)
		case <-done:
		}
	}()
	code := m.Run()
	close(done)
	signal.Stop(sigs)
	if err := s.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "testpg: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// Stop stops the server if this binary started one and removes its
// directory. It is safe to call more than once.
func (s *Server) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return nil
	}
	err := s.proc.stop()
	s.proc = nil
	return err
}

// URL returns the DSN of the server's maintenance database, starting the
// server if needed. Most tests want NewDatabase instead.
func (s *Server) URL(t testing.TB) string {
	t.Helper()
	s.start(t)
	return s.adminURL.String()
}

// NewDatabase creates an empty database for this test and returns its DSN.
// The database is dropped when the test ends. Tests may run in parallel.
func (s *Server) NewDatabase(t testing.TB) string {
	t.Helper()
	s.start(t)

	name := "t_" + randomHex(8)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.admin(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("testpg: create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.admin(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("testpg: drop database %s: %v", name, err)
		}
	})

	u := *s.adminURL
	u.Path = "/" + name
	return u.String()
}

// start starts the server once, then skips or fails t when none is
// available.
func (s *Server) start(t testing.TB) {
	t.Helper()
	s.once.Do(func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.adminURL, s.proc, s.err = open(context.Background())
	})
	s.checkStarted(t, os.Getenv("CI"))
}

// checkStarted skips or fails t when the server could not start: missing
// binaries skip the test, unless ci is non-empty (CI must cover PostgreSQL);
// any other failure fails it.
func (s *Server) checkStarted(t testing.TB, ci string) {
	t.Helper()
	if s.err == nil {
		return
	}
	if errors.Is(s.err, ErrNoPostgres) && ci == "" {
		t.Skipf("testpg: skipping PostgreSQL test: %v", s.err)
	}
	t.Fatalf("testpg: %v", s.err)
}

// open returns the admin URL of the server named by EnvURL, or of a newly
// started one.
func open(ctx context.Context) (*url.URL, *process, error) {
	if raw := os.Getenv(EnvURL); raw != "" {
		u, err := url.Parse(raw)
		if err != nil {
			return nil, nil, fmt.Errorf("parse %s: %w", EnvURL, err)
		}
		return u, nil, nil
	}
	bin, err := findBinDir()
	if err != nil {
		return nil, nil, err
	}
	p, err := startProcess(ctx, bin, false)
	if err != nil {
		return nil, nil, err
	}
	return p.url(), p, nil
}

// Start starts a throwaway server outside a test (a benchmark's harness)
// and returns the DSN of its maintenance database and the function that
// stops it and removes its files. durable keeps PostgreSQL's durability
// (fsync, synchronous commit, full-page writes) and the cluster on disk, as
// on a production server; otherwise it is tuned as for tests.
func Start(ctx context.Context, durable bool) (dsn string, stop func() error, err error) {
	bin, err := findBinDir()
	if err != nil {
		return "", nil, err
	}
	p, err := startProcess(ctx, bin, durable)
	if err != nil {
		return "", nil, err
	}
	return p.url().String(), p.stop, nil
}

// admin runs one statement on the maintenance database.
func (s *Server) admin(ctx context.Context, stmt string) error {
	conn, err := pgx.Connect(ctx, s.adminURL.String())
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, stmt); err != nil {
		return fmt.Errorf("exec %q: %w", stmt, err)
	}
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on Linux
	return hex.EncodeToString(b)
}
