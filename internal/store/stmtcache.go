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
// of them (pgx keeps a cache of its own on PostgreSQL). Only statements
// whose rows are read at once go through it (exec, queryRow): a prepared
// statement is one SQLite handle per connection, which a result set left
// open would hold while the same text ran again.
//
// A statement is prepared in the background on its first use: the store has
// one SQLite connection, and a transaction in progress holds it, so
// preparing at once from inside a transaction would wait for itself. Until
// it is ready the text runs unprepared, as before.
type stmtCache struct {
	db *sql.DB

	mu     sync.Mutex
	stmts  map[string]*sql.Stmt // nil value: being prepared, or failed to
	closed bool
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, stmts: map[string]*sql.Stmt{}}
}

// stmt returns query's statement for use on q (the store's *sql.DB or a
// transaction of it), or nil when it is not prepared (yet).
func (c *stmtCache) stmt(ctx context.Context, q Querier, query string) *sql.Stmt {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	st, ok := c.stmts[query]
	if !ok && !c.closed && len(c.stmts) < maxCachedStmts {
		c.stmts[query] = nil
		go c.prepare(query)
	}
	c.mu.Unlock()
	if st == nil {
		return nil
	}
	switch q := q.(type) {
	case *sql.DB:
		return st
	case *sql.Tx:
		// The statement is already prepared on the transaction's
		// connection (there is one): StmtContext reuses it.
		return q.StmtContext(ctx, st)
	}
	return nil
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
