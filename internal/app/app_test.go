package app_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"outpost/internal/app"
	"outpost/internal/config"
	"outpost/internal/waitfor"
)

const testAPIKey = "opk_app_test_0123456789abcdef"

// syncBuffer is a bytes.Buffer safe for the app's writes and the test's
// reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func needFFmpeg(t *testing.T) {
	t.Helper()
	for _, bin := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s not installed", bin)
		}
	}
}

// TestApp_Run starts the whole app in-process on a free port, as `outpost
// serve` does, checks /healthz and an authenticated route, then shuts it
// down.
func TestApp_Run(t *testing.T) {
	t.Parallel()
	needFFmpeg(t)
	dir := t.TempDir()
	cfg, err := config.Load([]string{
		"OUTPOST_DATA_DIR=" + dir,
		"OUTPOST_LISTEN=127.0.0.1:0",
		"OUTPOST_BOOTSTRAP_API_KEY=" + testAPIKey,
		"OUTPOST_RENDER_NICE=0", // see processEnv
	}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	var out syncBuffer
	a, err := app.New(t.Context(), app.Options{Config: cfg, Logger: logger, HTTP: true, Out: &out})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if !strings.HasPrefix(a.URL(), "http://127.0.0.1:") || strings.HasSuffix(a.URL(), ":0") {
		t.Fatalf("URL = %q", a.URL())
	}
	if cfg.PublicURL != a.URL() {
		t.Errorf("PublicURL = %q, want the bound address %q", cfg.PublicURL, a.URL())
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()

	get := func(path string, auth bool) (int, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, a.URL()+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if auth {
			req.Header.Set("Authorization", "Bearer "+testAPIKey)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/healthz", false); code != http.StatusOK {
		t.Errorf("/healthz = %d %s", code, body)
	}
	if code, body := get("/api/v1/presets", true); code != http.StatusOK || !strings.Contains(body, "tiktok") {
		t.Errorf("/api/v1/presets with the bootstrap key = %d %.200s", code, body)
	}
	if code, _ := get("/api/v1/presets", false); code != http.StatusUnauthorized {
		t.Errorf("/api/v1/presets without a key = %d", code)
	}
	// The cleanup job runs at start; its count shows on /metrics.
	waitfor.Check(t, 20*time.Second, func() error {
		code, body := get("/metrics", false)
		if code != http.StatusOK || !strings.Contains(body, `outpost_jobs_total{kind="outpost.cleanup",outcome="completed"} 1`) {
			return fmt.Errorf("/metrics = %d without the cleanup job's count:\n%.2000s", code, body)
		}
		return nil
	}, "the cleanup job's run shows on /metrics")
	if !strings.Contains(out.String(), "Outpost is running at "+a.URL()) {
		t.Errorf("banner = %q", out.String())
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after the context ended")
	}
	if err := a.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if _, err := http.Get(a.URL() + "/healthz"); err == nil {
		t.Error("still serving after shutdown")
	}
	if _, err := filepath.Glob(filepath.Join(dir, "nodes", "slot-*")); err != nil {
		t.Error(err)
	}
}
