package config

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"outpost/internal/errcode"
)

func TestParseSecretKey(t *testing.T) {
	t.Parallel()
	want := bytes.Repeat([]byte{0xfb}, 32)
	for _, s := range []string{
		strings.Repeat("fb", 32),
		strings.Repeat("FB", 32),
		"+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/s=", // standard
		"+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/s",  // standard, raw
		"-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_s=", // URL
		"-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_s",  // URL, raw
		" " + strings.Repeat("fb", 32) + "\n",
	} {
		got, err := ParseSecretKey(s)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("ParseSecretKey(%q) = %x, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "zz", strings.Repeat("fb", 31), strings.Repeat("fb", 33), strings.Repeat("g", 64)} {
		if _, err := ParseSecretKey(s); err == nil {
			t.Errorf("ParseSecretKey(%q) succeeded", s)
		}
	}
}

func TestConfig_EnsureSecretKey(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	c := &Config{DataDir: dir}
	generated, err := c.EnsureSecretKey()
	if err != nil || !generated || len(c.SecretKey) != SecretKeySize {
		t.Fatalf("first run: generated %v, key %x, %v", generated, c.SecretKey, err)
	}
	path := filepath.Join(dir, SecretKeyFile)
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, %v; want mode 0600", fi.Mode(), err)
	}
	if di, err := os.Stat(dir); err != nil || di.Mode().Perm() != 0o700 {
		t.Errorf("data dir mode %v, %v; want 0700", di.Mode(), err)
	}
	b, _ := os.ReadFile(path)
	if strings.TrimSpace(string(b)) != hex.EncodeToString(c.SecretKey) {
		t.Errorf("file holds %q, want the key in hex", b)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("data dir holds %d entries, want only the key (temp file left?)", len(entries))
	}

	// Later runs reuse it.
	again := &Config{DataDir: dir}
	generated, err = again.EnsureSecretKey()
	if err != nil || generated || !bytes.Equal(again.SecretKey, c.SecretKey) {
		t.Errorf("second run: generated %v, same key %v, %v", generated, bytes.Equal(again.SecretKey, c.SecretKey), err)
	}

	// A configured key wins and nothing is read.
	configured := &Config{DataDir: filepath.Join(t.TempDir(), "none"), SecretKey: bytes.Repeat([]byte{1}, 32)}
	if generated, err := configured.EnsureSecretKey(); err != nil || generated {
		t.Errorf("configured: generated %v, %v", generated, err)
	}
	if _, err := os.Stat(configured.DataDir); !os.IsNotExist(err) {
		t.Errorf("configured key: data dir was created")
	}

	// A key file others can read is refused, with the fix in the message.
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = (&Config{DataDir: dir}).EnsureSecretKey()
	if err == nil || !strings.Contains(err.Error(), "chmod 600") || errcode.Of(err) != errcode.ConfigInvalid {
		t.Errorf("world-readable key: %v", err)
	}

	// A damaged key file is reported, not replaced.
	if err := os.WriteFile(path, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := (&Config{DataDir: dir}).EnsureSecretKey(); err == nil || !strings.Contains(err.Error(), SecretKeyFile) {
		t.Errorf("damaged key: %v", err)
	}
}

func TestConfig_EnsureSecretKey_concurrent(t *testing.T) {
	t.Parallel()
	// Processes starting at once on a fresh data dir agree on one key.
	dir := t.TempDir()
	keys := make([][]byte, 8)
	generated := make([]bool, 8)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Go(func() {
			c := &Config{DataDir: dir}
			g, err := c.EnsureSecretKey()
			if err != nil {
				t.Error(err)
			}
			keys[i], generated[i] = c.SecretKey, g
		})
	}
	wg.Wait()
	n := 0
	for i := range keys {
		if !bytes.Equal(keys[i], keys[0]) {
			t.Errorf("key %d differs", i)
		}
		if generated[i] {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d callers generated the key, want 1", n)
	}
}

func TestConfig_LogValue(t *testing.T) {
	t.Parallel()
	c, err := Load([]string{
		"OUTPOST_DATABASE_URL=postgres://outpost:hunter2@db/outpost",
		"OUTPOST_SECRET_KEY=" + strings.Repeat("cd", 32),
		"OUTPOST_BOOTSTRAP_API_KEY=bootstrap-secret-0123456789",
	}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	c.NewLogger(&buf).Info("config", "config", c)
	out := buf.String()
	for _, secret := range []string{"hunter2", strings.Repeat("cd", 32), "bootstrap-secret"} {
		if strings.Contains(out, secret) {
			t.Errorf("log line leaks %q: %s", secret, out)
		}
	}
	for _, want := range []string{"config.listen=127.0.0.1:8080", "config.secret_key=\"from env\"", "outpost:xxxxx@db"} {
		if !strings.Contains(out, want) {
			t.Errorf("log line lacks %q: %s", want, out)
		}
	}
}

func TestParseTokenKeys(t *testing.T) {
	t.Parallel()
	k2, k3 := strings.Repeat("ab", 32), strings.Repeat("cd", 32)
	got, err := ParseTokenKeys(" 2:" + k2 + ", 3:" + k3 + " ")
	if err != nil || len(got) != 2 || got[2][0] != 0xab || got[3][0] != 0xcd {
		t.Fatalf("ParseTokenKeys = %x, %v", got, err)
	}
	for _, bad := range []string{"", ",", k2, "1:" + k2, "0:" + k2, "256:" + k2, "x:" + k2, "2:short", "2:" + k2 + ",2:" + k3} {
		if _, err := ParseTokenKeys(bad); err == nil {
			t.Errorf("ParseTokenKeys(%q) accepted", bad)
		} else if strings.Contains(err.Error(), k2) {
			t.Errorf("ParseTokenKeys(%q) error shows the key: %v", bad, err)
		}
	}
	c, err := Load([]string{"OUTPOST_TOKEN_KEYS=4:" + k2}, nil, nil)
	if err != nil || len(c.TokenKeys[4]) != 32 {
		t.Errorf("Load with OUTPOST_TOKEN_KEYS = %v, %v", c, err)
	}
	if _, err := Load([]string{"OUTPOST_TOKEN_KEYS=1:" + k2}, nil, nil); err == nil || !strings.Contains(err.Error(), "OUTPOST_TOKEN_KEYS") {
		t.Errorf("Load with key id 1: %v", err)
	}
}
