package store

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// sqliteTimeLayout is how times are written on SQLite: UTC with a fixed
// number of fractional digits, so that text order is time order and keyset
// pagination compares correctly. modernc.org/sqlite reads it back as a
// time.Time for TIMESTAMP columns.
const sqliteTimeLayout = "2006-01-02 15:04:05.000000-07:00"

// exec, query and queryRow run SQL with the arguments converted for the
// engine (see arg), on a prepared statement when the engine keeps them
// (stmtcache.go).
func (q *Queries) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, release := q.stmts.acquire(ctx, q.db, query)
	defer release()
	if st != nil {
		return st.ExecContext(ctx, q.args(args)...)
	}
	return q.db.ExecContext(ctx, query, q.args(args)...)
}

// query's rows must be closed (collect does): that gives the statement back.
func (q *Queries) query(ctx context.Context, query string, args ...any) (*rows, error) {
	st, release := q.stmts.acquire(ctx, q.db, query)
	var rs *sql.Rows
	var err error
	if st != nil {
		rs, err = st.QueryContext(ctx, q.args(args)...)
	} else {
		rs, err = q.db.QueryContext(ctx, query, q.args(args)...)
	}
	if err != nil {
		release()
		return nil, err
	}
	return &rows{Rows: rs, release: release}, nil
}

// rows are query's result: Close gives its statement back.
type rows struct {
	*sql.Rows
	release func()
}

func (r *rows) Close() error {
	err := r.Rows.Close()
	if r.release != nil {
		r.release()
		r.release = nil
	}
	return err
}

// queryRow gives its statement back at once: until its Scan, the *sql.Row
// holds the store's one SQLite connection (or its transaction's), so no
// other use of the statement runs before the row is read.
func (q *Queries) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	st, release := q.stmts.acquire(ctx, q.db, query)
	defer release()
	if st != nil {
		return st.QueryRowContext(ctx, q.args(args)...)
	}
	return q.db.QueryRowContext(ctx, query, q.args(args)...)
}

func (q *Queries) args(args []any) []any {
	for i, a := range args {
		args[i] = q.arg(a)
	}
	return args
}

// arg converts one argument: times to UTC microseconds (text on SQLite),
// zero times and empty JSON to NULL.
func (q *Queries) arg(a any) any {
	switch v := a.(type) {
	case time.Time:
		return q.timeArg(v)
	case *time.Time:
		if v == nil {
			return nil
		}
		return q.timeArg(*v)
	case json.RawMessage:
		if len(v) == 0 {
			return nil
		}
		return string(v)
	}
	return a
}

func (q *Queries) timeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	t = normTime(t)
	if q.engine == SQLite {
		return t.Format(sqliteTimeLayout)
	}
	return t
}

// normTime is a time as the database gives it back: UTC, microseconds.
func normTime(t time.Time) time.Time {
	return t.UTC().Truncate(time.Microsecond)
}

// now returns t, or the current time when t is zero, as stored.
func now(t time.Time) time.Time {
	if t.IsZero() {
		t = time.Now()
	}
	return normTime(t)
}

// nullable returns nil for the zero value, so that it is stored as NULL.
func nullable[T comparable](v T) any {
	var zero T
	if v == zero {
		return nil
	}
	return v
}

// timeScanner scans a NOT NULL timestamp in either engine's form.
type timeScanner struct{ dst *time.Time }

func scanTime(dst *time.Time) timeScanner { return timeScanner{dst} }

func (s timeScanner) Scan(src any) error {
	t, err := parseTimeValue(src)
	if err != nil {
		return err
	}
	if t == nil {
		return fmt.Errorf("scan time: unexpected NULL")
	}
	*s.dst = *t
	return nil
}

// nullTimeScanner scans a nullable timestamp into a *time.Time.
type nullTimeScanner struct{ dst **time.Time }

func scanNullTime(dst **time.Time) nullTimeScanner { return nullTimeScanner{dst} }

func (s nullTimeScanner) Scan(src any) error {
	t, err := parseTimeValue(src)
	if err != nil {
		return err
	}
	*s.dst = t
	return nil
}

func parseTimeValue(src any) (*time.Time, error) {
	switch v := src.(type) {
	case nil:
		return nil, nil
	case time.Time:
		t := normTime(v)
		return &t, nil
	case string:
		return parseTimeText(v)
	case []byte:
		return parseTimeText(string(v))
	}
	return nil, fmt.Errorf("scan time: unsupported type %T", src)
}

func parseTimeText(s string) (*time.Time, error) {
	for _, layout := range []string{
		"2006-01-02 15:04:05.999999999-07:00",
		time.RFC3339Nano,
		"2006-01-02 15:04:05.999999999",
	} {
		if t, err := time.Parse(layout, s); err == nil {
			t = normTime(t)
			return &t, nil
		}
	}
	return nil, fmt.Errorf("scan time: cannot parse %q", s)
}

// jsonScanner scans a JSON column (TEXT or JSONB) into a json.RawMessage;
// NULL gives nil.
type jsonScanner struct{ dst *json.RawMessage }

func scanJSON(dst *json.RawMessage) jsonScanner { return jsonScanner{dst} }

func (s jsonScanner) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*s.dst = nil
	case string:
		*s.dst = json.RawMessage(v)
	case []byte:
		*s.dst = append(json.RawMessage(nil), v...)
	default:
		return fmt.Errorf("scan json: unsupported type %T", src)
	}
	return nil
}

// textScanner scans a nullable text column into a string type; NULL gives "".
type textScanner[T ~string] struct{ dst *T }

func scanText[T ~string](dst *T) textScanner[T] { return textScanner[T]{dst} }

func (s textScanner[T]) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*s.dst = ""
	case string:
		*s.dst = T(v)
	case []byte:
		*s.dst = T(v)
	default:
		return fmt.Errorf("scan text: unsupported type %T", src)
	}
	return nil
}

// rowScanner is *sql.Row or *sql.Rows.
type rowScanner interface {
	Scan(dest ...any) error
}

// rowsAffected returns ErrNotFound when res changed no row.
func rowsAffected(res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("rows affected: %w", err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// notFound turns sql.ErrNoRows into ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

// params collects positional arguments for a query built at run time and
// returns their `$n` placeholders.
type params struct{ args []any }

func (p *params) add(v any) string {
	p.args = append(p.args, v)
	return "$" + strconv.Itoa(len(p.args))
}

// likeContains returns a LIKE pattern (with ESCAPE '\') matching s anywhere,
// lower-cased: use it against LOWER(column).
func likeContains(s string) string {
	return "%" + escapeLike(strings.ToLower(s)) + "%"
}

// escapeLike escapes LIKE's wildcards in s, for ESCAPE '\'.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// cursor is a keyset pagination position: the (created_at, id) of the last
// row of a page.
type cursor struct {
	at time.Time
	id string
}

// encodeCursor returns an opaque, URL-safe cursor.
func encodeCursor(at time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(at.UnixMicro(), 10) + "." + id))
}

func decodeCursor(s string) (cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return cursor{}, fmt.Errorf("%w: %w", ErrInvalidCursor, err)
	}
	micros, id, ok := strings.Cut(string(b), ".")
	if !ok || id == "" {
		return cursor{}, ErrInvalidCursor
	}
	us, err := strconv.ParseInt(micros, 10, 64)
	if err != nil {
		return cursor{}, fmt.Errorf("%w: %w", ErrInvalidCursor, err)
	}
	return cursor{at: time.UnixMicro(us).UTC(), id: id}, nil
}

// pageLimit clamps a requested page size.
func pageLimit(n int) int {
	switch {
	case n <= 0:
		return 50
	case n > 500:
		return 500
	}
	return n
}

// collect scans every row with scan and closes rows.
func collect[T any](rows *rows, scan func(rowScanner) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// keysetCondition returns " AND (…)" selecting the rows after cur in
// (created_at DESC, id DESC) order, or "" when cur is empty. table is the
// column qualifier ("e." or "").
func keysetCondition(p *params, table, cur string) (string, error) {
	if cur == "" {
		return "", nil
	}
	c, err := decodeCursor(cur)
	if err != nil {
		return "", err
	}
	at, id := p.add(c.at), p.add(c.id)
	return " AND (" + table + "created_at < " + at + " OR (" + table + "created_at = " + at +
		" AND " + table + "id < " + id + "))", nil
}

// trimPage cuts rows fetched with LIMIT limit+1 to one page and returns the
// cursor of the next page ("" on the last), keyed by created_at and id.
func trimPage[T any](rows []T, limit int, key func(T) (time.Time, string)) ([]T, string) {
	if len(rows) <= limit {
		return rows, ""
	}
	rows = rows[:limit]
	return rows, encodeCursor(key(rows[limit-1]))
}
