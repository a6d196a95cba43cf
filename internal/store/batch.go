package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"
)

// maxBatch bounds how many calls share one transaction: enough to carry a
// burst, small enough that the first caller of a batch does not wait long
// for the last.
const maxBatch = 64

// batchTimeout bounds one shared transaction. It does not follow any
// caller's context: one caller giving up must not roll back the others.
const batchTimeout = time.Minute

// batcher runs the calls of WithBatchedTx: a call that finds no batch
// running starts one; calls that arrive while a batch runs wait and go
// together in the next. There is no timer: under load the batches form by
// themselves, and a lone call runs at once.
type batcher struct {
	mu      sync.Mutex
	pending []*batchCall
	running bool
	// deferred is the work the transactions of WithBatchedTx put off
	// until all their calls have run (Defer), by transaction.
	deferred map[*sql.Tx]*deferred
}

// deferred is the work of one WithBatchedTx transaction that Defer put
// off: items by name, in the calls' order, each name with its flush.
type deferred struct {
	names []string
	items map[string][]any
	flush map[string]func(ctx context.Context, tx *sql.Tx, items []any) error
	// mark is each name's item count when the current call began: a call
	// that fails drops what it added.
	mark map[string]int
}

func (d *deferred) begin() {
	for _, n := range d.names {
		d.mark[n] = len(d.items[n])
	}
}

func (d *deferred) drop() {
	for _, n := range d.names {
		d.items[n] = d.items[n][:d.mark[n]]
	}
}

func (d *deferred) run(ctx context.Context, tx *sql.Tx) error {
	for _, n := range d.names {
		if items := d.items[n]; len(items) > 0 {
			if err := d.flush[n](ctx, tx, items); err != nil {
				return err
			}
		}
	}
	return nil
}

// track registers tx's deferred work until the returned func is called.
func (s *Store) track(tx *sql.Tx) (*deferred, func()) {
	d := &deferred{items: map[string][]any{}, mark: map[string]int{},
		flush: map[string]func(context.Context, *sql.Tx, []any) error{}}
	b := &s.batch
	b.mu.Lock()
	if b.deferred == nil {
		b.deferred = map[*sql.Tx]*deferred{}
	}
	b.deferred[tx] = d
	b.mu.Unlock()
	return d, func() {
		b.mu.Lock()
		delete(b.deferred, tx)
		b.mu.Unlock()
	}
}

// Defer puts item off until every call of tx's WithBatchedTx transaction
// has run: then, before the commit, flush gets the items of name that the
// calls which succeeded added, in their order, once. On SQLite that is one
// flush for a whole group commit: writes every call makes alike (River's
// job inserts) cost one statement instead of one each. An error of flush
// fails the transaction, every call of the batch with it. Defer reports
// false, and keeps nothing, when tx is not one of WithBatchedTx's: the
// caller then does the work at once.
func Defer[T any](s *Store, tx *sql.Tx, name string, item T, flush func(ctx context.Context, tx *sql.Tx, items []T) error) bool {
	b := &s.batch
	b.mu.Lock()
	d, ok := b.deferred[tx]
	b.mu.Unlock()
	if !ok {
		return false
	}
	if _, seen := d.flush[name]; !seen {
		d.names = append(d.names, name)
		d.flush[name] = func(ctx context.Context, tx *sql.Tx, items []any) error {
			ts := make([]T, len(items))
			for i, it := range items {
				ts[i] = it.(T)
			}
			return flush(ctx, tx, ts)
		}
	}
	d.items[name] = append(d.items[name], item)
	return true
}

type batchCall struct {
	ctx  context.Context
	fn   func(tx *sql.Tx) error
	done chan error
}

// WithBatchedTx runs fn in a transaction that it may share with other
// WithBatchedTx calls made at about the same time ("group commit"): on
// SQLite, which has one connection and one writer, a burst of inserts then
// costs one transaction rather than one each. On PostgreSQL each call gets
// its own transaction (WithTx): the pool runs them side by side and
// PostgreSQL already flushes concurrent commits together; funnelling them
// through one connection was measured slower (README, Load).
//
// Each fn runs in a savepoint of its own: its error rolls back its own
// writes only, and is its call's result; the other calls go on. WithTx's
// promise holds: WithBatchedTx returns only once the shared transaction has
// committed (fn's writes are durable) or failed (they are not there). fn
// must not keep tx, and runs on another goroutine than its caller's. A
// call whose ctx ends before its fn has started returns ctx.Err() and
// leaves nothing; once started it runs to the end of its batch.
//
// Use it for the writes that arrive in bursts from many clients at once
// (accepting exports); WithTx stays the way for the rest.
func (s *Store) WithBatchedTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if s.engine != SQLite {
		if err := ctx.Err(); err != nil {
			return err
		}
		return s.WithTx(ctx, func(tx *sql.Tx) error {
			d, done := s.track(tx)
			defer done()
			if err := callSafely(fn, tx); err != nil {
				return err
			}
			return d.run(ctx, tx)
		})
	}
	c := &batchCall{ctx: ctx, fn: fn, done: make(chan error, 1)}
	b := &s.batch
	b.mu.Lock()
	b.pending = append(b.pending, c)
	start := !b.running
	b.running = true
	b.mu.Unlock()
	if start {
		go s.runBatches()
	}
	return <-c.done
}

// runBatches runs batches until none is waiting.
func (s *Store) runBatches() {
	b := &s.batch
	for {
		b.mu.Lock()
		n := min(len(b.pending), maxBatch)
		if n == 0 {
			b.running = false
			b.mu.Unlock()
			return
		}
		calls := b.pending[:n:n]
		b.pending = b.pending[n:]
		b.mu.Unlock()
		s.runBatch(calls)
	}
}

// runBatch runs calls in one transaction, each in its savepoint, and
// answers each once the transaction is over.
func (s *Store) runBatch(calls []*batchCall) {
	results := make([]error, len(calls))
	err := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
		defer cancel()
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("begin transaction: %w", err)
		}
		q := s.Using(tx)
		d, done := s.track(tx)
		defer done()
		for i, c := range calls {
			if err := c.ctx.Err(); err != nil {
				results[i] = err
				continue
			}
			d.begin()
			if len(calls) == 1 {
				// Alone: the transaction is its savepoint.
				if results[i] = callSafely(c.fn, tx); results[i] != nil {
					_ = tx.Rollback()
					return nil
				}
				break
			}
			if results[i], err = runSavepoint(ctx, q, tx, c.fn); err != nil {
				_ = tx.Rollback()
				return err
			}
			if results[i] != nil {
				d.drop()
			}
		}
		if err := d.run(ctx, tx); err != nil {
			_ = tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("commit: %w", err)
		}
		return nil
	}()
	// A call's own error wins; the others share the transaction's fate.
	for i, c := range calls {
		if results[i] == nil {
			results[i] = err
		}
		c.done <- results[i]
	}
}

// savepoint is the name of the savepoint each call of a batch runs in; one
// is open at a time, so the name can be reused.
const savepoint = "batch_call"

// runSavepoint runs fn inside a savepoint of tx (q is the store on tx).
// fnErr is fn's error (its writes are then rolled back); err is a failure
// of the transaction itself, which ends the batch.
func runSavepoint(ctx context.Context, q *Queries, tx *sql.Tx, fn func(*sql.Tx) error) (fnErr, err error) {
	if _, err := q.exec(ctx, "SAVEPOINT "+savepoint); err != nil {
		return nil, fmt.Errorf("savepoint: %w", err)
	}
	fnErr = callSafely(fn, tx)
	if fnErr != nil {
		if _, err := q.exec(ctx, "ROLLBACK TO SAVEPOINT "+savepoint); err != nil {
			return fnErr, fmt.Errorf("roll back to savepoint: %w", err)
		}
	}
	if _, err := q.exec(ctx, "RELEASE SAVEPOINT "+savepoint); err != nil {
		return fnErr, fmt.Errorf("release savepoint: %w", err)
	}
	return fnErr, nil
}

// ErrBatchPanic is the result of a WithBatchedTx call whose fn panicked.
var ErrBatchPanic = errors.New("panic in a batched transaction")

// callSafely runs fn, turning a panic into an error: it runs on the batch's
// goroutine, where a panic would end the process and every other call.
func callSafely(fn func(*sql.Tx) error, tx *sql.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: %v", ErrBatchPanic, p)
		}
	}()
	return fn(tx)
}
