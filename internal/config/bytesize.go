package config

import (
	"fmt"
	"math"
	"strings"

	"github.com/dustin/go-humanize"
)

// ByteSize is a size in bytes, written as a number with an optional unit:
// 21474836480, 20GiB, 20 GB (SI), 512MiB.
type ByteSize int64

// UnmarshalText parses a size (for the environment).
func (b *ByteSize) UnmarshalText(text []byte) error {
	n, err := humanize.ParseBytes(strings.TrimSpace(string(text)))
	if err != nil {
		return fmt.Errorf("%q is not a size such as 20GiB or 500MB", text)
	}
	if n > math.MaxInt64 {
		return fmt.Errorf("%q is too large", text)
	}
	*b = ByteSize(n)
	return nil
}

// Set parses a size (for flags).
func (b *ByteSize) Set(s string) error { return b.UnmarshalText([]byte(s)) }

// String formats the size with binary units when exact ("20GiB").
func (b *ByteSize) String() string {
	if b == nil {
		return "0"
	}
	n := int64(*b)
	for _, u := range []struct {
		suffix string
		size   int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n != 0 && n%u.size == 0 {
			return fmt.Sprintf("%d%s", n/u.size, u.suffix)
		}
	}
	return fmt.Sprintf("%d", n)
}
