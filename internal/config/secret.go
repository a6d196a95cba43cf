package config

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"
)

// SecretKeySize is the length of the secret key in bytes (AES-256).
const SecretKeySize = 32

// SecretKeyFile is the name, in the data dir, of the key generated on first
// run when OUTPOST_SECRET_KEY is not set.
const SecretKeyFile = "secret.key"

// ParseSecretKey decodes a 32-byte key written as hex (64 characters) or
// base64 (standard or URL alphabet, padded or not).
func ParseSecretKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if len(s) == 2*SecretKeySize {
		if b, err := hex.DecodeString(s); err == nil {
			return b, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != SecretKeySize {
				return nil, fmt.Errorf("key decodes to %d bytes, want %d: use 64 hex characters or base64 (generate one with `openssl rand -hex 32`)", len(b), SecretKeySize)
			}
			return b, nil
		}
	}
	return nil, fmt.Errorf("key is neither 64 hex characters nor base64 of %d bytes (generate one with `openssl rand -hex 32`)", SecretKeySize)
}

// ParseTokenKeys decodes OUTPOST_TOKEN_KEYS: comma- or space-separated
// ID:KEY pairs, ID 2 to 255 (1 is the secret key), each KEY as in
// ParseSecretKey.
func ParseTokenKeys(s string) (map[byte][]byte, error) {
	keys := map[byte][]byte{}
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || unicode.IsSpace(r) }) {
		idText, keyText, ok := strings.Cut(f, ":")
		if !ok {
			return nil, fmt.Errorf("%q: want ID:KEY, e.g. 2:$(openssl rand -hex 32)", redactKey(f))
		}
		id, err := strconv.ParseUint(idText, 10, 8)
		if err != nil || id < 2 {
			return nil, fmt.Errorf("key id %q: want 2 to 255 (1 is OUTPOST_SECRET_KEY)", idText)
		}
		if _, dup := keys[byte(id)]; dup {
			return nil, fmt.Errorf("key id %d given twice", id)
		}
		key, err := ParseSecretKey(keyText)
		if err != nil {
			return nil, fmt.Errorf("key %d: %w", id, err)
		}
		keys[byte(id)] = key
	}
	if len(keys) == 0 {
		return nil, errors.New("no keys: want ID:KEY pairs")
	}
	return keys, nil
}

// redactKey shows only the start of what may be a key, for errors.
func redactKey(s string) string {
	if len(s) > 4 {
		return s[:4] + "…"
	}
	return s
}

// EnsureSecretKey fills SecretKey when it was not configured: it reads
// DATA_DIR/secret.key, or on first run generates a random key and writes it
// there (mode 0600, data dir created 0700). It reports whether it generated
// one. Several processes starting at once end up with the same key.
func (c *Config) EnsureSecretKey() (generated bool, err error) {
	if c.SecretKey != nil {
		return false, nil
	}
	path := filepath.Join(c.DataDir, SecretKeyFile)
	key, err := readSecretKeyFile(path)
	if err == nil {
		c.SecretKey, c.secretKeySource = key, path
		return false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return false, invalid(err)
	}
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return false, invalid(fmt.Errorf("create data dir: %w", err))
	}
	key = make([]byte, SecretKeySize)
	if _, err := rand.Read(key); err != nil {
		return false, fmt.Errorf("generate secret key: %w", err)
	}
	created, err := writeNewFile(path, []byte(hex.EncodeToString(key)+"\n"))
	if err != nil {
		return false, invalid(fmt.Errorf("write secret key: %w", err))
	}
	if !created {
		// Another process wrote it first: use theirs.
		key, err = readSecretKeyFile(path)
		if err != nil {
			return false, invalid(err)
		}
	}
	c.SecretKey, c.secretKeySource = key, path
	return created, nil
}

func readSecretKeyFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("secret key file %s is readable by others (mode %04o): run chmod 600 %s", path, fi.Mode().Perm(), path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read secret key: %w", err)
	}
	key, err := ParseSecretKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("secret key file %s: %w", path, err)
	}
	return key, nil
}

// writeNewFile writes data to path atomically, mode 0600, unless path
// already exists; it reports whether it created the file. The data goes to
// a temporary file first and is linked into place, so a reader never sees
// a partial key.
func writeNewFile(path string, data []byte) (bool, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".secret-*.tmp")
	if err != nil {
		return false, err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return false, err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return false, err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return false, err
	}
	if err := tmp.Close(); err != nil {
		return false, err
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

// fingerprintLabel is what a key signs to make its fingerprint.
const fingerprintLabel = "outpost cluster key fingerprint v1"

// KeyFingerprints returns a fingerprint of each key this node holds, by key
// id (1: the secret key; 2–255: OUTPOST_TOKEN_KEYS): HMAC-SHA256 of a fixed
// label, so nodes can compare keys through the database without storing
// them.
func (c *Config) KeyFingerprints() map[int]string {
	out := map[int]string{}
	add := func(id int, key []byte) {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(fingerprintLabel))
		out[id] = hex.EncodeToString(m.Sum(nil))
	}
	if c.SecretKey != nil {
		add(1, c.SecretKey)
	}
	for id, key := range c.TokenKeys {
		add(int(id), key)
	}
	return out
}

// SecretKeySet reports whether the operator gave the secret key
// (OUTPOST_SECRET_KEY or OUTPOST_SECRET_KEY_FILE), rather than it being
// generated into the data dir.
func (c *Config) SecretKeySet() bool { return c.secretKeySource == "env" }

// SecretKeyFileExists reports whether a key generated earlier is in the data
// dir (EnsureSecretKey would read it rather than generate one).
func (c *Config) SecretKeyFileExists() bool {
	_, err := os.Stat(filepath.Join(c.DataDir, SecretKeyFile))
	return err == nil
}
