// Package benchstat holds what the benchmark commands (cmd/outpost-bench,
// cmd/outpost-loadbench, cmd/outpost-workerbench) share: medians, sizes
// and where the machine stands while they run.
package benchstat

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"time"
)

// Median returns the median of ds (the mean of the middle two for an even
// count), 0 for none.
func Median(ds []time.Duration) time.Duration {
	s := slices.Sorted(slices.Values(ds))
	n := len(s)
	switch {
	case n == 0:
		return 0
	case n%2 == 1:
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// MiB formats n bytes in mebibytes with one decimal.
func MiB(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// Load returns the 1, 5 and 15 minute load averages ("?" where
// /proc/loadavg cannot be read).
func Load() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "?"
}

// LoadNow returns the 1 minute load average.
func LoadNow() string {
	l, _, _ := strings.Cut(Load(), " ")
	return l
}
