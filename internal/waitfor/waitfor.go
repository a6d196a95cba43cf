// Package waitfor is the one way Outpost's tests wait for something to
// happen: poll a condition until it holds or a deadline passes, then fail
// with a message that says what never happened (and the last reason the
// condition gave). Tests never sleep a fixed time to let something happen;
// on a busy machine that time is never enough.
package waitfor

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"
)

// Poll is how often a condition is checked.
const Poll = 20 * time.Millisecond

// True polls cond until it returns true, failing t (t.Fatalf) with the
// message when timeout passes first.
func True(t testing.TB, timeout time.Duration, cond func() bool, format string, args ...any) {
	t.Helper()
	Check(t, timeout, func() error {
		if cond() {
			return nil
		}
		return errNotYet
	}, format, args...)
}

// Check polls cond until it returns nil, failing t (t.Fatalf) with the
// message and cond's last error when timeout passes first. It suits a
// condition that can say why it does not hold yet ("state is running").
func Check(t testing.TB, timeout time.Duration, cond func() error, format string, args ...any) {
	t.Helper()
	if err := Until(timeout, cond); err != nil {
		msg := fmt.Sprintf(format, args...)
		if err == errNotYet {
			t.Fatalf("waited %s: %s", timeout, msg)
		}
		t.Fatalf("waited %s: %s (last: %v)", timeout, msg, err)
	}
}

// Value polls get until ok, returning its value, failing t like Check.
func Value[T any](t testing.TB, timeout time.Duration, get func() (T, error), format string, args ...any) T {
	t.Helper()
	var v T
	Check(t, timeout, func() error {
		var err error
		v, err = get()
		return err
	}, format, args...)
	return v
}

// Until polls cond until it returns nil and returns nil, or returns cond's
// last error once timeout has passed, or at once an error cond wrapped with
// Stop. For code that is not a test (a benchmark's harness) or that must
// decide itself what a timeout means.
func Until(timeout time.Duration, cond func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return nil
		}
		var stop stopError
		if errors.As(err, &stop) {
			return stop.err
		}
		if !time.Now().Before(deadline) {
			return err
		}
		time.Sleep(Poll)
	}
}

// OK is a condition for Until, Check and Value's callers: a GET of url
// answers 200 OK (a server that started listening and is ready).
func OK(url string) func() error {
	return func() error {
		resp, err := http.Get(url)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: %s", url, resp.Status)
		}
		return nil
	}
}

// Stop marks err as final: the wait ends at once with it (the process being
// waited for has exited, so it will never answer).
func Stop(err error) error { return stopError{err} }

type stopError struct{ err error }

func (e stopError) Error() string { return e.err.Error() }
func (e stopError) Unwrap() error { return e.err }

var errNotYet = notYet{}

type notYet struct{}

func (notYet) Error() string { return "condition not met" }
