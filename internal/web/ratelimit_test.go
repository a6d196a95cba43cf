package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"outpost/internal/service"
	"outpost/internal/waitfor"
	"sync"
	"testing"
	"time"
)

func TestKeyLimiter(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	l := newKeyLimiter(2, 3) // 2/s, bursts of 3
	steps := []struct {
		key       string
		at        time.Duration
		ok        bool
		wantRetry time.Duration
	}{
		{"a", 0, true, 0},
		{"a", 0, true, 0},
		{"a", 0, true, 0},
		{"a", 0, false, 500 * time.Millisecond},
		{"b", 0, true, 0}, // another key has its own bucket
		{"a", 499 * time.Millisecond, false, time.Millisecond},
		{"a", 500 * time.Millisecond, true, 0},
		{"a", 500 * time.Millisecond, false, 500 * time.Millisecond},
		{"a", 2 * time.Second, true, 0},
	}
	for i, st := range steps {
		ok, retry := l.allow(st.key, t0.Add(st.at))
		if ok != st.ok || retry != st.wantRetry {
			t.Errorf("step %d (%s at %v): allow = %v, %v; want %v, %v", i, st.key, st.at, ok, retry, st.ok, st.wantRetry)
		}
	}
	// Keys idle for a refill period are forgotten.
	l.allow("c", t0.Add(time.Hour))
	if n := len(l.buckets); n != 1 {
		t.Errorf("%d buckets after an hour, want 1", n)
	}

	if newKeyLimiter(0, 10) != nil {
		t.Error("rate 0 should mean no limiter")
	}
	var off *keyLimiter
	if ok, _ := off.allow("a", t0); !ok {
		t.Error("a nil limiter refused a request")
	}
}

func TestRetryAfterSeconds(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{0: "1", time.Millisecond: "1", time.Second: "1", 1001 * time.Millisecond: "2", 90 * time.Second: "90"} {
		if got := retryAfterSeconds(d); got != want {
			t.Errorf("retryAfterSeconds(%v) = %q, want %q", d, got, want)
		}
	}
}

// TestRateLimit: a key over its limit gets 429 rate_limited with
// Retry-After; another key, and public routes, are not affected.
func TestRateLimit(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	e := newEnv(t, func(e *env, d *Deps, so *service.Options) {
		d.Config.APIRateLimit, d.Config.APIRateBurst = 0.5, 2
		e.configure = func(s *Server) { s.now = func() time.Time { return now } }
	})
	want(t, e.get("/api/v1/projects"), http.StatusOK)
	want(t, e.get("/api/v1/projects"), http.StatusOK)
	r := e.get("/api/v1/projects")
	wantError(t, r, http.StatusTooManyRequests, "rate_limited")
	if ra := r.header.Get("Retry-After"); ra != "2" {
		t.Errorf("Retry-After %q, want 2", ra)
	}
	want(t, e.do(request{method: "GET", path: "/api/v1/projects", key: e.okey}), http.StatusOK)
	want(t, e.do(request{method: "GET", path: "/healthz"}), http.StatusOK)
}

// TestBurstAdmission serves a Burst route's requests at most
// AcceptConcurrency at a time, the others waiting; one whose client goes
// away while it waits is never served.
func TestBurstAdmission(t *testing.T) {
	t.Parallel()
	var srv *Server
	newEnv(t, func(e *env, d *Deps, so *service.Options) {
		d.AcceptConcurrency = 2
		e.configure = func(s *Server) { srv = s }
	})
	var mu sync.Mutex
	in, most, served := 0, 0, 0
	release := make(chan struct{})
	h := srv.wrap(route{Method: "POST", Path: "/burst", Public: true, Burst: true, MaxBody: -1,
		Handler: func(w http.ResponseWriter, r *http.Request) error {
			mu.Lock()
			in++
			most, served = max(most, in), served+1
			mu.Unlock()
			<-release
			mu.Lock()
			in--
			mu.Unlock()
			w.WriteHeader(http.StatusNoContent)
			return nil
		}})
	count := func() (int, int) {
		mu.Lock()
		defer mu.Unlock()
		return in, served
	}

	// A client that gives up while waiting behind two held requests.
	const n = 6
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("POST", "/burst", nil))
			if rec.Code != http.StatusNoContent {
				t.Errorf("status %d, want 204", rec.Code)
			}
		})
	}
	waitfor.True(t, 10*time.Second, func() bool { in, _ := count(); return in == 2 }, "two requests were never let in")
	ctx, cancel := context.WithCancel(t.Context())
	gone := make(chan struct{})
	go func() {
		defer close(gone)
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequestWithContext(ctx, "POST", "/burst", nil))
	}()
	cancel()
	<-gone
	close(release)
	wg.Wait()
	if _, s := count(); s != n || most != 2 {
		t.Errorf("served %d of %d, at most %d at once; want all %d, at most 2 (the one that went away: never)", s, n, most, n)
	}
}
