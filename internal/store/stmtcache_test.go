package store

import (
	"database/sql"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"outpost/internal/waitfor"
)

// TestStmtCache_nestedQuery runs a query while the rows of the same text
// are still being read, on the store and in a transaction: a prepared
// statement is one SQLite handle, and running it again would reset the
// outer rows, so the inner use must run unprepared and both read every
// row.
func TestStmtCache_nestedQuery(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, err := Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "outpost.db"), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	const text = `SELECT value FROM (SELECT 1 AS value UNION ALL SELECT 2 UNION ALL SELECT 3) WHERE value >= $1 ORDER BY value`
	scan := func(sc rowScanner) (int, error) {
		var v int
		err := sc.Scan(&v)
		return v, err
	}
	// The statement is prepared in the background on its first use.
	waitfor.True(t, 30*time.Second, func() bool {
		rs, err := s.Queries.query(ctx, text, 1)
		if err != nil {
			t.Fatal(err)
		}
		_ = rs.Close()
		s.stmts.mu.Lock()
		defer s.stmts.mu.Unlock()
		return s.stmts.stmts[text] != nil
	}, "the statement was never prepared")

	nested := func(q *Queries) {
		outer, err := q.query(ctx, text, 1)
		if err != nil {
			t.Fatal(err)
		}
		var got []int
		for outer.Next() {
			v, err := scan(outer)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, v)
			inner, err := q.query(ctx, text, 2)
			if err != nil {
				t.Fatal(err)
			}
			in, err := collect(inner, scan)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(in, []int{2, 3}) {
				t.Errorf("inner query read %v, want [2 3]", in)
			}
		}
		if err := outer.Err(); err != nil {
			t.Fatal(err)
		}
		_ = outer.Close()
		if !slices.Equal(got, []int{1, 2, 3}) {
			t.Errorf("outer query read %v, want [1 2 3]", got)
		}
		// Given back: the next use gets the prepared statement again.
		st, release := q.stmts.acquire(ctx, q.db, text)
		defer release()
		if st == nil {
			t.Error("the statement was not given back after its rows closed")
		}
	}
	// In a transaction: the only place two reads share the store's one
	// SQLite connection (outside one, the outer rows hold it).
	if err := s.WithTx(ctx, func(tx *sql.Tx) error {
		nested(s.Using(tx))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}
