package store

import (
	"strings"
	"testing"
)

func TestParseURL(t *testing.T) {
	t.Parallel()
	const pragmas = "_pragma=busy_timeout%2810000%29&_pragma=journal_mode%28WAL%29&_pragma=foreign_keys%281%29&_pragma=synchronous%28NORMAL%29"
	tests := []struct {
		url     string
		engine  Engine
		dsn     string
		wantErr string
	}{
		{url: "postgres://u:p@db:5432/outpost?sslmode=disable", engine: Postgres, dsn: "postgres://u:p@db:5432/outpost?sslmode=disable"},
		{url: "postgresql://db/outpost", engine: Postgres, dsn: "postgresql://db/outpost"},
		{url: "POSTGRES://db/outpost", engine: Postgres, dsn: "POSTGRES://db/outpost"},
		{url: "sqlite:data/outpost.db", engine: SQLite, dsn: "file:data/outpost.db?" + pragmas + "&_time_format=sqlite&_txlock=immediate"},
		{url: "sqlite://data/outpost.db", engine: SQLite, dsn: "file:data/outpost.db?" + pragmas + "&_time_format=sqlite&_txlock=immediate"},
		{url: "sqlite:///var/lib/outpost/outpost.db", engine: SQLite, dsn: "file:/var/lib/outpost/outpost.db?" + pragmas + "&_time_format=sqlite&_txlock=immediate"},
		{url: "./data/outpost.db", engine: SQLite, dsn: "file:./data/outpost.db?" + pragmas + "&_time_format=sqlite&_txlock=immediate"},
		{url: "/abs/outpost.db", engine: SQLite, dsn: "file:/abs/outpost.db?" + pragmas + "&_time_format=sqlite&_txlock=immediate"},
		{url: "file:/abs/outpost.db?cache=shared", engine: SQLite, dsn: "file:/abs/outpost.db?" + pragmas + "&_time_format=sqlite&_txlock=immediate&cache=shared"},
		// The user's own options are kept; their _txlock wins.
		{url: "sqlite:x.db?_txlock=deferred&_pragma=cache_size(-20000)", engine: SQLite,
			dsn: "file:x.db?" + pragmas + "&_time_format=sqlite&_pragma=cache_size%28-20000%29&_txlock=deferred"},
		{url: "", wantErr: "empty"},
		{url: "sqlite:", wantErr: "no SQLite file"},
		{url: "mysql://root@db/outpost", wantErr: `unsupported database URL scheme "mysql"`},
		{url: "sqlite:x.db?%zz", wantErr: "parse SQLite options"},
	}
	for _, tt := range tests {
		engine, dsn, err := parseURL(tt.url)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("parseURL(%q) err = %v, want %q", tt.url, err, tt.wantErr)
			}
			continue
		}
		if err != nil || engine != tt.engine || dsn != tt.dsn {
			t.Errorf("parseURL(%q) =\n  %q, %q, %v\nwant\n  %q, %q", tt.url, engine, dsn, err, tt.engine, tt.dsn)
		}
	}
}

func TestSQLiteFilePath(t *testing.T) {
	t.Parallel()
	for url, want := range map[string]string{
		"sqlite:data/outpost.db":               "data/outpost.db",
		"sqlite:///var/lib/outpost/outpost.db": "/var/lib/outpost/outpost.db",
		"file:///abs/x.db?cache=shared":        "/abs/x.db",
		"file::memory:":                        "",
		"file:x.db?mode=memory":                "",
	} {
		_, dsn, err := parseURL(url)
		if err != nil {
			t.Fatal(err)
		}
		if got := sqliteFilePath(dsn); got != want {
			t.Errorf("sqliteFilePath(%q) = %q, want %q", dsn, got, want)
		}
	}
}
