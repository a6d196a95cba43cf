package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"

	"outpost/internal/store"
)

// TestStore_WithBatchedTx fires many calls at once, as a burst of accepted
// exports does: each call's export and renditions are there when it
// returns; a call that fails (or panics) leaves nothing and does not
// disturb the others, on SQLite and on PostgreSQL, where an error aborts a
// transaction unless its savepoint is rolled back.
func TestStore_WithBatchedTx(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		fx := newFixture(t, ctx, s)
		const n = 200
		errBad := errors.New("refused")
		ids := make([]string, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				errs[i] = s.WithBatchedTx(ctx, func(tx *sql.Tx) error {
					q := s.Using(tx)
					e, err := q.CreateExport(ctx, store.Export{WorkspaceID: fx.ws.ID, ProjectID: fx.prj.ID, Client: fmt.Sprint(i)})
					if err != nil {
						return err
					}
					ids[i] = e.ID
					if _, err := q.CreateRendition(ctx, store.Rendition{ExportID: e.ID, PresetID: "mp4-720p"}); err != nil {
						return err
					}
					switch i % 10 {
					case 3:
						return errBad // after its writes: they must go
					case 7:
						// A statement the database refuses, after the writes.
						_, err := tx.ExecContext(ctx, "INSERT INTO no_such_table VALUES (1)")
						return err
					case 9:
						if i == 9 {
							panic("boom")
						}
					}
					return nil
				})
				// The caller sees its row at once, outside any transaction.
				if errs[i] == nil {
					if _, err := s.GetExport(ctx, ids[i]); err != nil {
						t.Errorf("call %d: its export is not there after it returned: %v", i, err)
					}
				}
			})
		}
		wg.Wait()
		for i := range n {
			var wantErr bool
			switch {
			case i%10 == 3:
				wantErr = errors.Is(errs[i], errBad)
			case i%10 == 7:
				wantErr = errs[i] != nil
			case i == 9:
				wantErr = errs[i] != nil && errors.Is(errs[i], store.ErrBatchPanic)
			default:
				if errs[i] != nil {
					t.Errorf("call %d: %v", i, errs[i])
				}
				continue
			}
			if !wantErr {
				t.Errorf("call %d: error %v, want its own", i, errs[i])
			}
			if _, err := s.GetExport(ctx, ids[i]); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("call %d failed, yet its export is there (%v)", i, err)
			}
			if r, err := s.ListRenditions(ctx, ids[i]); err != nil || len(r) != 0 {
				t.Errorf("call %d failed, yet its renditions are there: %v, %v", i, r, err)
			}
		}
	})
}

// A call whose context has ended before its turn writes nothing.
func TestStore_WithBatchedTx_canceled(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		ran := false
		err := s.WithBatchedTx(ctx, func(tx *sql.Tx) error { ran = true; return nil })
		if !errors.Is(err, context.Canceled) || ran {
			t.Errorf("WithBatchedTx with an ended context = %v (fn ran: %v)", err, ran)
		}
	})
}

// TestStore_Defer fires a burst of batched calls that each put an item
// off: every call that succeeded has its item flushed, before it returns
// and in its transaction, and the items of failed calls are not; on
// SQLite the calls of a group commit share flushes. Outside WithBatchedTx
// Defer keeps nothing.
func TestStore_Defer(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		fx := newFixture(t, ctx, s)
		const n = 100
		var mu sync.Mutex
		flushed := map[string]bool{}
		flushes := 0
		// flush writes each export's client as the batch ends: an export
		// whose client is "flushed" had its item flushed in its own
		// transaction.
		flush := func(ctx context.Context, tx *sql.Tx, ids []string) error {
			mu.Lock()
			flushes++
			mu.Unlock()
			for _, id := range ids {
				if _, err := tx.ExecContext(ctx, `UPDATE exports SET client = 'flushed' WHERE id = $1`, id); err != nil {
					return err
				}
				mu.Lock()
				flushed[id] = true
				mu.Unlock()
			}
			return nil
		}
		ids := make([]string, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				errs[i] = s.WithBatchedTx(ctx, func(tx *sql.Tx) error {
					e, err := s.Using(tx).CreateExport(ctx, store.Export{WorkspaceID: fx.ws.ID, ProjectID: fx.prj.ID})
					if err != nil {
						return err
					}
					ids[i] = e.ID
					if !store.Defer(s, tx, "mark", e.ID, flush) {
						return errors.New("not deferred in a batched transaction")
					}
					if i%10 == 3 {
						return errors.New("refused") // after deferring: its item must go
					}
					return nil
				})
				if errs[i] == nil {
					if e, err := s.GetExport(ctx, ids[i]); err != nil || e.Client != "flushed" {
						t.Errorf("call %d returned before its item was flushed: %+v, %v", i, e, err)
					}
				}
			})
		}
		wg.Wait()
		for i := range n {
			if (errs[i] != nil) != (i%10 == 3) {
				t.Errorf("call %d: %v", i, errs[i])
			}
			if flushed[ids[i]] != (i%10 != 3) {
				t.Errorf("call %d (error %v): flushed %v", i, errs[i], flushed[ids[i]])
			}
		}
		t.Logf("%d calls, %d flushes", n, flushes)
		if s.Engine() == store.SQLite && flushes >= n*9/10 {
			t.Errorf("%d flushes for %d calls on SQLite: the batches' items are not flushed together", flushes, n*9/10)
		}
		err := s.WithTx(ctx, func(tx *sql.Tx) error {
			if store.Defer(s, tx, "mark", "x", flush) {
				t.Error("Defer kept an item of a WithTx transaction, which never flushes")
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}
