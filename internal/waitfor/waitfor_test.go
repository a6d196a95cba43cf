package waitfor

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestTrue_holdsAfterAFewPolls(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	True(t, 5*time.Second, func() bool { return n.Add(1) >= 3 }, "counter reaches 3")
	if got := n.Load(); got != 3 {
		t.Fatalf("polled %d times, want 3", got)
	}
}

func TestValue_returnsTheValueThatHeld(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	got := Value(t, 5*time.Second, func() (int32, error) {
		v := n.Add(1)
		if v < 2 {
			return v, errors.New("too small")
		}
		return v, nil
	}, "value ready")
	if got != 2 {
		t.Fatalf("Value = %d, want 2", got)
	}
}

func TestUntil_givesTheLastError(t *testing.T) {
	t.Parallel()
	err := Until(50*time.Millisecond, func() error { return errors.New("state is running") })
	if err == nil || err.Error() != "state is running" {
		t.Fatalf("Until = %v, want the condition's last error", err)
	}
}

// recorder captures Fatalf without ending the test.
type recorder struct {
	testing.TB
	msg string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, args ...any) {
	r.msg = strings.TrimSpace(sprintf(format, args...))
}

func TestCheck_failureSaysWhatNeverHappened(t *testing.T) {
	t.Parallel()
	r := &recorder{TB: t}
	Check(r, 30*time.Millisecond, func() error { return errors.New("state is running") }, "export %s finishes", "exp_1")
	if !strings.Contains(r.msg, "export exp_1 finishes") || !strings.Contains(r.msg, "last: state is running") {
		t.Fatalf("failure message %q lacks the wait's description or the last reason", r.msg)
	}
}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

func TestUntil_stopEndsTheWait(t *testing.T) {
	t.Parallel()
	exited := errors.New("process exited")
	var n atomic.Int32
	err := Until(time.Hour, func() error {
		if n.Add(1) == 2 {
			return Stop(exited)
		}
		return errors.New("not listening")
	})
	if !errors.Is(err, exited) || err.Error() != "process exited" || n.Load() != 2 {
		t.Fatalf("Until = %v after %d polls, want the stopped error after 2", err, n.Load())
	}
}

func TestOK(t *testing.T) {
	t.Parallel()
	var ready atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !ready.Load() {
			http.Error(w, "starting", http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	ok := OK(srv.URL)
	if err := ok(); err == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("OK of a server not ready = %v, want its status", err)
	}
	ready.Store(true)
	if err := ok(); err != nil {
		t.Errorf("OK of a ready server = %v", err)
	}
}
