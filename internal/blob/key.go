package blob

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// maxKeyLen is S3's limit on object key length, in bytes.
const maxKeyLen = 1024

// ValidateKey reports whether key is a safe, portable blob key: non-empty
// valid UTF-8, relative ("a/b", not "/a/b"), "/"-separated elements that
// are neither empty, "." nor "..", no backslashes or control characters,
// not ending in ".attrs" (reserved by fileblob), at most 1024 bytes.
// Errors wrap ErrInvalidKey.
func ValidateKey(key string) error {
	switch {
	case key == "":
		return fmt.Errorf("%w: empty", ErrInvalidKey)
	case len(key) > maxKeyLen:
		return fmt.Errorf("%w: longer than %d bytes", ErrInvalidKey, maxKeyLen)
	case !utf8.ValidString(key):
		return fmt.Errorf("%w: %q is not valid UTF-8", ErrInvalidKey, key)
	case strings.HasPrefix(key, "/"):
		return fmt.Errorf("%w: %q is absolute", ErrInvalidKey, key)
	case strings.ContainsRune(key, '\\'):
		return fmt.Errorf("%w: %q contains a backslash", ErrInvalidKey, key)
	case strings.HasSuffix(key, ".attrs"):
		return fmt.Errorf("%w: %q ends in the reserved suffix .attrs", ErrInvalidKey, key)
	}
	for _, r := range key {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("%w: %q contains a control character", ErrInvalidKey, key)
		}
	}
	for elem := range strings.SplitSeq(key, "/") {
		switch elem {
		case "":
			return fmt.Errorf("%w: %q has an empty path element", ErrInvalidKey, key)
		case ".", "..":
			return fmt.Errorf("%w: %q has a %q path element", ErrInvalidKey, key, elem)
		}
	}
	return nil
}

// Key joins elements into a key with "/" and validates it. No element may
// contain "/" itself, so a caller-supplied name cannot add directories.
func Key(elems ...string) (string, error) {
	for _, e := range elems {
		if strings.Contains(e, "/") {
			return "", fmt.Errorf("%w: element %q contains /", ErrInvalidKey, e)
		}
	}
	key := strings.Join(elems, "/")
	if err := ValidateKey(key); err != nil {
		return "", err
	}
	return key, nil
}

// RenditionKey returns the key of one rendition file of an export:
// renditions/<exportID>/<file>.
func RenditionKey(exportID, file string) (string, error) {
	return Key("renditions", exportID, file)
}
