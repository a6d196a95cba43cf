// Package pubtest runs platform clients against the sandbox over real HTTP.
package pubtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"outpost/internal/publish"
	"outpost/internal/sandbox"
)

// Env is a sandbox served over HTTP.
type Env struct {
	URL  string
	SB   *sandbox.Server
	HTTP *http.Client
	sent *counter
}

// counter counts the request body bytes a client sends.
type counter struct {
	mu sync.Mutex
	n  int64
	rt http.RoundTripper
}

func (c *counter) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.ContentLength > 0 {
		c.mu.Lock()
		c.n += r.ContentLength
		c.mu.Unlock()
	}
	return c.rt.RoundTrip(r)
}

// Sent returns the request body bytes sent so far.
func (e *Env) Sent() int64 {
	e.sent.mu.Lock()
	defer e.sent.mu.Unlock()
	return e.sent.n
}

// Start serves a sandbox with opts for the test's lifetime.
func Start(t testing.TB, opts sandbox.Options) *Env {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	opts.AutoApprove = true
	sb := sandbox.New(opts)
	srv := httptest.NewServer(sb)
	t.Cleanup(func() {
		srv.Close()
		_ = sb.Close()
	})
	c := &counter{rt: srv.Client().Transport}
	return &Env{URL: srv.URL, SB: sb, HTTP: &http.Client{Timeout: 20 * time.Second, Transport: c}, sent: c}
}

// Inject queues a fault.
func (e *Env) Inject(t testing.TB, f sandbox.Fault) {
	t.Helper()
	if err := e.SB.Inject(f); err != nil {
		t.Fatal(err)
	}
}

// File writes size random bytes and returns the path and its SHA-256.
func File(t testing.TB, size int) (string, string) {
	t.Helper()
	b := make([]byte, size)
	_, _ = rand.Read(b)
	p := filepath.Join(t.TempDir(), "video.mp4")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return p, hex.EncodeToString(sum[:])
}

// Rendition describes a generated file as a 1080×1920, 30 s H.264 video.
func Rendition(path string, size int) publish.Rendition {
	return publish.Rendition{Path: path, Size: int64(size), Duration: 30 * time.Second, Width: 1080, Height: 1920,
		FrameRate: 30, VideoCodec: "h264", AudioCodec: "aac", ContentType: "video/mp4"}
}

// Store persists State as the job layer would: JSON, one copy.
type Store struct {
	mu    sync.Mutex
	saved []byte
	saves int
	// FailAt makes the FailAt-th save (1-based) fail without persisting:
	// a crash after the remote step, before its id reached the database.
	FailAt int
}

// ErrCrash is the error of a failed save.
var ErrCrash = errors.New("simulated crash before save")

// Save is a SaveFunc.
func (s *Store) Save(_ context.Context, st publish.State) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.saves++
	if s.saves == s.FailAt {
		return ErrCrash
	}
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	s.saved = b
	return nil
}

// Load returns the persisted state.
func (s *Store) Load(t testing.TB) *publish.State {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var st publish.State
	if s.saved != nil {
		if err := json.Unmarshal(s.saved, &st); err != nil {
			t.Fatal(err)
		}
	}
	return &st
}

// Saves returns how many saves were attempted.
func (s *Store) Saves() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.saves
}

// Job returns a Job resuming from the store's state.
func (s *Store) Job(t testing.TB, r publish.Rendition, p publish.Post, acct publish.Account) *publish.Job {
	return &publish.Job{Rendition: r, Post: p, Account: acct, State: s.Load(t), SaveFunc: s.Save}
}

// Published returns the platform's posts in the sandbox.
func (e *Env) Published(platform string) []sandbox.Post { return e.SB.Posts(platform) }

// ExpectOne fails unless the platform has exactly one post, with the file's
// hash, and returns it.
func (e *Env) ExpectOne(t testing.TB, platform, sum string) sandbox.Post {
	t.Helper()
	ps := e.Published(platform)
	if len(ps) != 1 {
		t.Fatalf("%s: %d posts in the sandbox, want exactly 1: %+v", platform, len(ps), ps)
	}
	if sum != "" && ps[0].SHA256 != sum {
		t.Errorf("%s: post sha256 %s, want %s (bytes corrupted?)", platform, ps[0].SHA256, sum)
	}
	return ps[0]
}

// Class asserts err is a *publish.Error of class c and returns it.
func Class(t testing.TB, err error, c publish.Class) *publish.Error {
	t.Helper()
	e, ok := publish.AsError(err)
	if !ok {
		t.Fatalf("error %v (%T) is not a *publish.Error", err, err)
	}
	if e.Class != c {
		t.Fatalf("class %v, want %v: %v", e.Class, c, err)
	}
	return e
}

// CrashEverywhere publishes once per save point, failing that save, then
// retries from the persisted state; every run must end with exactly one
// post. run publishes with a job and returns its result; reset clears the
// sandbox between runs (a fresh env).
func CrashEverywhere(t *testing.T, newEnv func(t *testing.T) *Env, platform string, run func(t *testing.T, e *Env, s *Store) (publish.Result, error)) {
	t.Helper()
	// A clean run counts the save points.
	e := newEnv(t)
	clean := &Store{}
	if _, err := run(t, e, clean); err != nil {
		t.Fatalf("clean run: %v", err)
	}
	points := clean.Saves()
	t.Logf("%s: %d save points", platform, points)
	if points < 2 {
		t.Fatalf("only %d save points", points)
	}
	for k := 1; k <= points; k++ {
		e := newEnv(t)
		s := &Store{FailAt: k}
		_, err := run(t, e, s)
		if !errors.Is(err, ErrCrash) {
			t.Fatalf("crash at save %d/%d: error %v, want the crash", k, points, err)
		}
		res, err := run(t, e, s)
		if err != nil {
			t.Fatalf("retry after crash at save %d/%d: %v", k, points, err)
		}
		if res.Status != publish.StatusPublished && res.Status != publish.StatusScheduled {
			t.Fatalf("retry after crash at save %d/%d: status %s", k, points, res.Status)
		}
		if n := len(e.Published(platform)); n != 1 {
			t.Fatalf("crash at save %d/%d: %d posts, want 1", k, points, n)
		}
	}
}
