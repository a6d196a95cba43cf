// Package oauth holds what connecting accounts needs below the HTTP layer:
// sealing tokens before they reach the database, each platform's OAuth 2.0
// endpoints and scopes (real or sandbox), the code exchange with PKCE, a
// refresh that keeps rotated refresh tokens, and the classification of
// token endpoint errors.
package oauth

import (
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"
)

// Sealed tokens are: version byte 1, key id, then AES-256-GCM output with a
// random 96-bit nonce in front. The key id selects the key on Open, so keys
// rotate by adding a new id and resealing at leisure.
const sealVersion = 1

// Errors of Open.
var (
	ErrUnknownKey = errors.New("oauth: sealed with an unknown key id")
	ErrOpen       = errors.New("oauth: sealed token is damaged, altered or bound to other data")
)

func gcm(key []byte) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("oauth: seal key must be 32 bytes (AES-256), got %d", len(key))
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("oauth: new cipher: %w", err)
	}
	a, err := cipher.NewGCMWithRandomNonce(b)
	if err != nil {
		return nil, fmt.Errorf("oauth: new gcm: %w", err)
	}
	return a, nil
}

// Seal encrypts plaintext with key (32 bytes), binding it to aad (for
// example the connection id, so a sealed token cannot be moved to another
// row). keyID is stored in the clear to pick the key on Open.
func Seal(key []byte, keyID byte, plaintext, aad []byte) ([]byte, error) {
	a, err := gcm(key)
	if err != nil {
		return nil, err
	}
	hdr := []byte{sealVersion, keyID}
	// The header is authenticated too: changing the key id fails Open.
	return a.Seal(hdr, nil, plaintext, additional(hdr, aad)), nil
}

// additional is the header followed by aad, in its own buffer.
func additional(hdr, aad []byte) []byte {
	ad := make([]byte, 0, len(hdr)+len(aad))
	return append(append(ad, hdr...), aad...)
}

// Open decrypts a Seal output with the key its id names.
func Open(keys map[byte][]byte, sealed, aad []byte) ([]byte, error) {
	if len(sealed) < 2 || sealed[0] != sealVersion {
		return nil, ErrOpen
	}
	key, ok := keys[sealed[1]]
	if !ok {
		return nil, fmt.Errorf("%w %d", ErrUnknownKey, sealed[1])
	}
	a, err := gcm(key)
	if err != nil {
		return nil, err
	}
	if len(sealed) < 2+a.NonceSize()+a.Overhead() {
		return nil, ErrOpen
	}
	pt, err := a.Open(nil, nil, sealed[2:], additional(sealed[:2], aad))
	if err != nil {
		return nil, ErrOpen
	}
	return pt, nil
}

// KeyID returns the key id of a sealed value (to find values to reseal
// after a rotation).
func KeyID(sealed []byte) (byte, bool) {
	if len(sealed) < 2 || sealed[0] != sealVersion {
		return 0, false
	}
	return sealed[1], true
}
