package store

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// Engine is a database engine Outpost runs on.
type Engine string

// The engines.
const (
	SQLite   Engine = "sqlite"
	Postgres Engine = "postgres"
)

// sqlitePragmas are applied to every SQLite connection. WAL lets readers run
// while a writer commits (and several processes share one file on one host);
// busy_timeout makes a locked database wait instead of failing; immediate
// transactions take the write lock at BEGIN, so a transaction never fails
// half-way when upgrading from read to write.
var sqlitePragmas = [][2]string{
	{"_pragma", "busy_timeout(10000)"},
	{"_pragma", "journal_mode(WAL)"},
	{"_pragma", "foreign_keys(1)"},
	{"_pragma", "synchronous(NORMAL)"},
	{"_txlock", "immediate"},
	// Our queries pass times as text (sqlval.go); this only makes a raw
	// time.Time argument readable instead of time.String's form.
	{"_time_format", "sqlite"},
}

// parseURL detects the engine of a database URL and returns the DSN for its
// database/sql driver. Accepted forms:
//
//	postgres://… postgresql://…      PostgreSQL (pgx)
//	sqlite:PATH sqlite://PATH         SQLite file (sqlite:///abs/path for an absolute path)
//	file:PATH?…                       SQLite file URI, passed on with our pragmas added
//	PATH                              SQLite file
func parseURL(raw string) (Engine, string, error) {
	if raw == "" {
		return "", "", fmt.Errorf("empty database URL")
	}
	lower := strings.ToLower(raw)
	switch {
	case strings.HasPrefix(lower, "postgres://"), strings.HasPrefix(lower, "postgresql://"):
		return Postgres, raw, nil
	case strings.HasPrefix(lower, "sqlite://"):
		return sqliteDSN(raw[len("sqlite://"):])
	case strings.HasPrefix(lower, "sqlite:"):
		return sqliteDSN(raw[len("sqlite:"):])
	case strings.HasPrefix(lower, "file:"):
		return sqliteDSN(raw[len("file:"):])
	case strings.Contains(raw, "://"):
		scheme, _, _ := strings.Cut(raw, "://")
		return "", "", fmt.Errorf("unsupported database URL scheme %q: use postgres://, sqlite: or a file path", scheme)
	}
	return sqliteDSN(raw)
}

// sqliteDSN builds a modernc.org/sqlite DSN for path (which may carry a
// query string of driver options), with our pragmas in force.
func sqliteDSN(pathAndQuery string) (Engine, string, error) {
	path, rawQuery, _ := strings.Cut(pathAndQuery, "?")
	if path == "" {
		return "", "", fmt.Errorf("database URL names no SQLite file")
	}
	query, err := url.ParseQuery(rawQuery)
	if err != nil {
		return "", "", fmt.Errorf("parse SQLite options %q: %w", rawQuery, err)
	}
	// Our pragmas go first; the user's own _pragma values are kept and run
	// after them, so they win; so do their other options.
	own := url.Values{}
	for _, p := range sqlitePragmas {
		if p[0] != "_pragma" && query.Has(p[0]) {
			continue
		}
		own.Add(p[0], p[1])
	}
	var b strings.Builder
	b.WriteString("file:")
	b.WriteString(path)
	b.WriteString("?")
	b.WriteString(own.Encode())
	if len(query) > 0 {
		b.WriteString("&")
		b.WriteString(query.Encode())
	}
	return SQLite, b.String(), nil
}

// sqliteFilePath returns the file of a SQLite DSN, or "" for an in-memory
// database.
func sqliteFilePath(dsn string) string {
	path, query, _ := strings.Cut(strings.TrimPrefix(dsn, "file:"), "?")
	if strings.HasPrefix(path, ":memory:") || strings.Contains("&"+query+"&", "&mode=memory&") {
		return ""
	}
	if strings.HasPrefix(path, "///") {
		path = path[2:] // file:///abs → /abs
	}
	return path
}

// ensureSQLiteDir creates the directory of a SQLite file (0700), so that a
// first run in an empty data dir works, and the file itself (0600) when it
// is not there: SQLite would create it with the umask's mode (0644), and
// its WAL and shared-memory files take the database file's mode.
func ensureSQLiteDir(path string) error {
	if path == "" {
		return nil
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create database directory %s: %w", dir, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil // its mode is the owner's business
	}
	if err != nil {
		return fmt.Errorf("create database file %s: %w", path, err)
	}
	return f.Close()
}

// EngineOf returns the engine a database URL names, without opening it
// ("" when the URL is not one Open accepts).
func EngineOf(databaseURL string) Engine {
	e, _, err := parseURL(databaseURL)
	if err != nil {
		return ""
	}
	return e
}
