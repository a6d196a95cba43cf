package config

import (
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"

	"outpost/internal/errcode"
)

// maxRenderThreads bounds OUTPOST_RENDER_THREADS.
const maxRenderThreads = 256

// renderThreads resolves OUTPOST_RENDER_THREADS: 0 means every core.
func renderThreads(n int) (int, error) {
	switch {
	case n == 0:
		return runtime.NumCPU(), nil
	case n < 0 || n > maxRenderThreads:
		return 0, fmt.Errorf("%d: want 1 to %d (0 or unset: all cores)", n, maxRenderThreads)
	}
	return n, nil
}

// renderNice checks OUTPOST_RENDER_NICE: a nice value a process may give
// itself without privileges.
func renderNice(n int) (int, error) {
	if n < 0 || n > 19 {
		return 0, fmt.Errorf("%d: want a nice value from 0 (the caller's priority) to 19 (the lowest)", n)
	}
	return n, nil
}

// segmentSeconds checks a segment length setting (OUTPOST_SEGMENT_THRESHOLD,
// OUTPOST_SEGMENT_MIN_SECONDS).
func segmentSeconds(s float64) (float64, error) {
	if s <= 0 || s > 86400 || s != s {
		return 0, fmt.Errorf("%g: want seconds above 0 and at most 86400", s)
	}
	return s, nil
}

// SegmentMinFromEnv reads OUTPOST_SEGMENT_MIN_SECONDS (default 10) for the
// one-shot CLI's --segments. Errors carry errcode.ConfigInvalid.
func SegmentMinFromEnv(getenv func(string) string) (float64, error) {
	v := strings.TrimSpace(getenv(EnvPrefix + "SEGMENT_MIN_SECONDS"))
	if v == "" {
		return 10, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err == nil {
		f, err = segmentSeconds(f)
	}
	if err != nil {
		return 0, &errcode.Error{Code: errcode.ConfigInvalid, Message: fmt.Sprintf("%sSEGMENT_MIN_SECONDS: %q: want seconds above 0", EnvPrefix, v), Err: err}
	}
	return f, nil
}

// RenderFromEnv reads OUTPOST_RENDER_THREADS and OUTPOST_RENDER_NICE for
// the one-shot CLI, which loads no other configuration. There the nice
// value defaults to 0: the render is what the user is waiting for. Errors
// carry errcode.ConfigInvalid.
func RenderFromEnv(getenv func(string) string) (threads, nice int, err error) {
	var errs []error
	read := func(name string, check func(int) (int, error)) int {
		v := strings.TrimSpace(getenv(EnvPrefix + name))
		n := 0
		if v != "" {
			var perr error
			if n, perr = strconv.Atoi(v); perr != nil {
				errs = append(errs, fmt.Errorf("%s%s: %q is not a whole number", EnvPrefix, name, v))
				return 0
			}
		}
		n, cerr := check(n)
		if cerr != nil {
			errs = append(errs, fmt.Errorf("%s%s: %w", EnvPrefix, name, cerr))
		}
		return n
	}
	threads = read("RENDER_THREADS", renderThreads)
	nice = read("RENDER_NICE", renderNice)
	if err := errors.Join(errs...); err != nil {
		return 0, 0, &errcode.Error{Code: errcode.ConfigInvalid, Message: strings.ReplaceAll(err.Error(), "\n", "; "), Err: err}
	}
	return threads, nice, nil
}
