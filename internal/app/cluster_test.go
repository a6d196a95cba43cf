package app_test

import (
	"strings"
	"testing"

	"outpost/internal/app"
	"outpost/internal/config"
	"outpost/internal/errcode"
)

// TestNew_clusterKey: the first node records its key's fingerprint; a node
// with another key cannot start on that database, and cluster nodes that
// would generate a key of their own are refused before anything starts.
func TestNew_clusterKey(t *testing.T) {
	t.Parallel()
	dsn := pg.NewDatabase(t)
	keyA, keyB := strings.Repeat("a1", 32), strings.Repeat("b2", 32)
	start := func(http bool, env ...string) error {
		t.Helper()
		env = append(env, "OUTPOST_DATA_DIR="+t.TempDir(), "OUTPOST_LISTEN=127.0.0.1:0", "OUTPOST_WORKERS=0")
		cfg, err := config.Load(env, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		a, err := app.New(t.Context(), app.Options{Config: cfg, HTTP: http})
		if err == nil {
			if cerr := a.Close(); cerr != nil {
				t.Fatal(cerr)
			}
		}
		return err
	}
	pgURL := "OUTPOST_DATABASE_URL=" + dsn
	if err := start(true, pgURL, "OUTPOST_SECRET_KEY="+keyA); err != nil {
		t.Fatalf("first node: %v", err)
	}
	if err := start(true, pgURL, "OUTPOST_SECRET_KEY="+keyA); err != nil {
		t.Fatalf("a node with the same key: %v", err)
	}
	err := start(true, pgURL, "OUTPOST_SECRET_KEY="+keyB)
	if errcode.Of(err) != errcode.SecretKeyMismatch || !strings.Contains(err.Error(), "OUTPOST_SECRET_KEY") {
		t.Fatalf("a node with another key: %v, want %s naming OUTPOST_SECRET_KEY", err, errcode.SecretKeyMismatch)
	}
	err = start(true, pgURL, "OUTPOST_SECRET_KEY="+keyA, "OUTPOST_TOKEN_KEYS=2:"+keyB)
	if err != nil {
		t.Fatalf("a node that adds a token key: %v", err)
	}
	err = start(true, pgURL, "OUTPOST_SECRET_KEY="+keyA, "OUTPOST_TOKEN_KEYS=2:"+keyA)
	if errcode.Of(err) != errcode.SecretKeyMismatch || !strings.Contains(err.Error(), "OUTPOST_TOKEN_KEYS key 2") {
		t.Fatalf("a node whose token key 2 differs: %v, want %s naming the token key", err, errcode.SecretKeyMismatch)
	}

	// Nodes that would generate a key of their own.
	if err := start(false, pgURL); errcode.Of(err) != errcode.SecretKeyRequired {
		t.Errorf("worker on PostgreSQL without a key: %v, want %s", err, errcode.SecretKeyRequired)
	}
	if err := start(true, pgURL); errcode.Of(err) != errcode.SecretKeyRequired {
		t.Errorf("serve --workers 0 on PostgreSQL without a key: %v, want %s", err, errcode.SecretKeyRequired)
	}
	if err := start(false); errcode.Of(err) != errcode.SecretKeyRequired {
		t.Errorf("worker on SQLite with no key file to share: %v, want %s", err, errcode.SecretKeyRequired)
	}
	if err := start(true); err != nil {
		t.Errorf("serve on SQLite generates its key: %v", err)
	}
}
