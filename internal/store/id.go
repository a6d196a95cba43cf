package store

import (
	"crypto/rand"
	"encoding/base32"
	"strings"
)

// ID prefixes, one per table, so that an id says what it names.
const (
	PrefixWorkspace   = "wsp"
	PrefixUser        = "usr"
	PrefixSession     = "ses"
	PrefixAPIKey      = "key"
	PrefixProject     = "prj"
	PrefixPreset      = "pst"
	PrefixExport      = "exp"
	PrefixRendition   = "rnd"
	PrefixConnection  = "con"
	PrefixPublication = "pub"
	PrefixWebhook     = "whk"
	PrefixDelivery    = "dlv"
	PrefixEvent       = "evt"
	PrefixBrandKit    = "bkt"
	PrefixGroup       = "grp"
	PrefixInvite      = "inv"
	PrefixAudit       = "aud"
	PrefixStep        = "stp"
)

// idEncoding is lowercase base32 without padding: URL-safe and
// case-insensitive.
var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewID returns a random id such as "exp_2kq…" (prefix, underscore, 24
// characters carrying 120 random bits).
func NewID(prefix string) string {
	return prefix + "_" + randomToken(15)
}

// randomToken returns n random bytes, base32-encoded.
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never returns an error
	return idEncoding.EncodeToString(b)
}

// HasPrefix reports whether id is of the kind prefix names.
func HasPrefix(id, prefix string) bool {
	return strings.HasPrefix(id, prefix+"_")
}
