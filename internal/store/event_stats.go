package store

import (
	"context"
	"fmt"
)

// DayCount is the number of events of one type on one UTC day.
type DayCount struct {
	Date  string // YYYY-MM-DD, UTC
	Type  string
	Count int64
}

// CountEventsByDay counts the events matching f per UTC day and type,
// oldest day first (Limit and Cursor are ignored). The counting happens in
// the database, on the (workspace_id, created_at) index.
func (q *Queries) CountEventsByDay(ctx context.Context, f EventFilter) ([]DayCount, error) {
	// SQLite stores times as UTC text (sqliteTimeLayout), whose first ten
	// characters are the date.
	day := "substr(created_at, 1, 10)"
	if q.engine == Postgres {
		day = "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
	}
	var p params
	rows, err := q.query(ctx, `SELECT `+day+` AS day, type, COUNT(*) FROM events WHERE `+f.where(&p)+
		` GROUP BY day, type ORDER BY day, type`, p.args...)
	if err != nil {
		return nil, fmt.Errorf("count events by day: %w", err)
	}
	counts, err := collect(rows, func(sc rowScanner) (DayCount, error) {
		var c DayCount
		err := sc.Scan(&c.Date, &c.Type, &c.Count)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("count events by day: %w", err)
	}
	return counts, nil
}
