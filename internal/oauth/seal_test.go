package oauth

import (
	"bytes"
	"crypto/rand"
	"errors"
	"testing"
)

func key(t *testing.T) []byte {
	t.Helper()
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	return k
}

func TestSeal_roundTrip(t *testing.T) {
	t.Parallel()
	k1, k2 := key(t), key(t)
	aad := []byte("connection:42")
	for _, pt := range [][]byte{[]byte("ya29.token"), {}, bytes.Repeat([]byte("x"), 5000)} {
		s1, err := Seal(k1, 1, pt, aad)
		if err != nil {
			t.Fatal(err)
		}
		s2, _ := Seal(k1, 1, pt, aad)
		if bytes.Equal(s1, s2) {
			t.Error("two seals of the same token are equal: nonce not random")
		}
		if len(pt) > 0 && bytes.Contains(s1, pt) {
			t.Error("plaintext visible in the sealed value")
		}
		got, err := Open(map[byte][]byte{1: k1, 2: k2}, s1, aad)
		if err != nil || !bytes.Equal(got, pt) {
			t.Fatalf("Open = %q, %v", got, err)
		}
		if id, ok := KeyID(s1); !ok || id != 1 {
			t.Errorf("KeyID = %d, %v", id, ok)
		}
	}
}

func TestOpen_rejects(t *testing.T) {
	t.Parallel()
	k1, k2 := key(t), key(t)
	keys := map[byte][]byte{1: k1, 2: k2}
	aad := []byte("connection:42")
	sealed, err := Seal(k1, 1, []byte("refresh-token"), aad)
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) []byte {
		b := bytes.Clone(sealed)
		b[i] ^= 0x01
		return b
	}
	tests := []struct {
		name   string
		sealed []byte
		keys   map[byte][]byte
		aad    []byte
		want   error
	}{
		{"unknown key id", sealed, map[byte][]byte{2: k2}, aad, ErrUnknownKey},
		{"key id changed to another key", append([]byte{1, 2}, sealed[2:]...), keys, aad, ErrOpen},
		{"wrong key under the id", sealed, map[byte][]byte{1: k2}, aad, ErrOpen},
		{"version", flip(0), keys, aad, ErrOpen},
		{"nonce", flip(2), keys, aad, ErrOpen},
		{"ciphertext", flip(2 + 12 + 3), keys, aad, ErrOpen},
		{"tag", flip(len(sealed) - 1), keys, aad, ErrOpen},
		{"other row", sealed, keys, []byte("connection:43"), ErrOpen},
		{"truncated", sealed[:10], keys, aad, ErrOpen},
		{"empty", nil, keys, aad, ErrOpen},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := Open(tt.keys, tt.sealed, tt.aad); !errors.Is(err, tt.want) {
				t.Errorf("Open error %v, want %v", err, tt.want)
			}
		})
	}
}

func TestSeal_keyLength(t *testing.T) {
	t.Parallel()
	if _, err := Seal(make([]byte, 16), 1, []byte("x"), nil); err == nil {
		t.Error("a 16-byte key was accepted; AES-256 needs 32")
	}
}
