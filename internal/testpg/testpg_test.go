package testpg

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"testing"

	"github.com/jackc/pgx/v5"
)

var pg Server

func TestMain(m *testing.M) { os.Exit(pg.Run(m)) }

func TestServer_NewDatabase(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	a, b := pg.NewDatabase(t), pg.NewDatabase(t)
	if a == b {
		t.Fatalf("two tests got the same database %s", a)
	}
	connA, err := pgx.Connect(ctx, a)
	if err != nil {
		t.Fatalf("connect %s: %v", a, err)
	}
	defer connA.Close(ctx)
	if _, err := connA.Exec(ctx, "CREATE TABLE only_in_a (id int)"); err != nil {
		t.Fatal(err)
	}
	connB, err := pgx.Connect(ctx, b)
	if err != nil {
		t.Fatalf("connect %s: %v", b, err)
	}
	defer connB.Close(ctx)
	var n int
	if err := connB.QueryRow(ctx, "SELECT COUNT(*) FROM pg_tables WHERE tablename = 'only_in_a'").Scan(&n); err != nil || n != 0 {
		t.Errorf("database b sees a's table (%d, %v)", n, err)
	}
	var version string
	if err := connB.QueryRow(ctx, "SHOW server_version").Scan(&version); err != nil {
		t.Fatal(err)
	}
	t.Logf("PostgreSQL %s at %s", version, b)
}

// TestServer_parallel creates databases from many tests at once.
func TestServer_parallel(t *testing.T) {
	t.Parallel()
	for i := range 6 {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			t.Parallel()
			conn, err := pgx.Connect(t.Context(), pg.NewDatabase(t))
			if err != nil {
				t.Fatal(err)
			}
			conn.Close(t.Context())
		})
	}
}

// tbRecorder records how checkStarted ended a test.
type tbRecorder struct {
	testing.TB
	skipped, failed string
}

func (r *tbRecorder) Helper() {}
func (r *tbRecorder) Skipf(format string, args ...any) {
	r.skipped = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (r *tbRecorder) Fatalf(format string, args ...any) {
	r.failed = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestServer_checkStarted(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err        error
		ci         string
		skip, fail bool
	}{
		{err: nil},
		{err: ErrNoPostgres, skip: true},
		{err: ErrNoPostgres, ci: "true", fail: true},
		{err: fmt.Errorf("initdb: exit status 1"), fail: true},
	}
	for _, tt := range tests {
		s := &Server{err: tt.err}
		r := &tbRecorder{}
		done := make(chan struct{})
		go func() {
			defer close(done)
			s.checkStarted(r, tt.ci)
		}()
		<-done
		if (r.skipped != "") != tt.skip || (r.failed != "") != tt.fail {
			t.Errorf("err %v, CI=%q: skipped %q, failed %q; want skip %v, fail %v", tt.err, tt.ci, r.skipped, r.failed, tt.skip, tt.fail)
		}
	}
}
