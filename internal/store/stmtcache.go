package store

import (
	"context"
	"database/sql"
	"sync"
	"time"
)

// maxCachedStmts bounds the cache; the store's SQL is a fixed set of texts,
// so only a bug would reach it (and then the rest runs unprepared).
const maxCachedStmts = 256

// stmtCache keeps one prepared statement per SQL text, on SQLite: parsing
// and planning a statement costs the pure-Go engine more than running most
// of them (pgx keeps a cache of its own on PostgreSQL). A prepared statement
// is one SQLite handle per connection, and running it again resets it. On
// the store's *sql.DB that cannot happen: open rows hold its one connection,
// and the next use waits for it. In a transaction, which keeps the
// connection, it can: there a text is lent to one use at a time (acquire),
// and a use that finds it lent out (a query of the same text while the
// first one's rows are open) runs unprepared instead.
//
// A statement is prepared in the background on its first use: the store has
// one SQLite connection, and a transaction in progress holds it, so
// preparing at once from inside a transaction would wait for itself. Until
// it is ready the text runs unprepared, as before.
type stmtCache struct {
	db *sql.DB

	mu     sync.Mutex
	stmts  map[string]*sql.Stmt // nil value: being prepared, or failed to
	lent   map[string]bool      // texts whose statement a transaction uses
	closed bool
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, stmts: map[string]*sql.Stmt{}, lent: map[string]bool{}}
}

// acquire returns query's statement for use on q (the store's *sql.DB or
// a transaction of it), lent until release is called in a transaction, or
// nil when it is not prepared (yet) or lent out; release is never nil.
func (c *stmtCache) acquire(ctx context.Context, q Querier, query string) (st *sql.Stmt, release func()) {
	release = func() {}
	if c == nil {
		return nil, release
	}
	c.mu.Lock()
	st, ok := c.stmts[query]
	if !ok && !c.closed && len(c.stmts) < maxCachedStmts {
		c.stmts[query] = nil
		go c.prepare(query)
	}
	tx, inTx := q.(*sql.Tx)
	switch {
	case st == nil:
		c.mu.Unlock()
		return nil, release
	case !inTx:
		c.mu.Unlock()
		if _, ok := q.(*sql.DB); !ok {
			return nil, release
		}
		return st, release
	case c.lent[query]:
		c.mu.Unlock()
		return nil, release
	}
	c.lent[query] = true
	c.mu.Unlock()
	// The statement is already prepared on the transaction's connection
	// (there is one): StmtContext reuses it.
	return tx.StmtContext(ctx, st), func() {
		c.mu.Lock()
		delete(c.lent, query)
		c.mu.Unlock()
	}
}

// prepare prepares query once the connection is free.
func (c *stmtCache) prepare(query string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := c.db.PrepareContext(ctx, query)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil || c.closed {
		// A text that does not prepare keeps running unprepared (its
		// error shows there); a closed cache keeps nothing.
		if st != nil {
			_ = st.Close()
		}
		return
	}
	c.stmts[query] = st
}

// close closes the statements; later lookups find none.
func (c *stmtCache) close() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	for _, st := range c.stmts {
		if st != nil {
			_ = st.Close()
		}
	}
	c.stmts = map[string]*sql.Stmt{}
}
