package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"outpost/internal/app"
	"outpost/internal/cli"
	"outpost/internal/config"
	"outpost/internal/media/mediatest"
	"outpost/internal/publish"
	"outpost/internal/publish/youtube"
	"outpost/internal/sandbox"
)

// TestServe_sandbox runs `outpost serve --sandbox` in-process and walks the
// README's "Publishing" path over HTTP: connect a sandbox YouTube account,
// export with it as a destination, read the post URL.
func TestServe_sandbox(t *testing.T) {
	if testing.Short() {
		t.Skip("renders with ffmpeg")
	}
	t.Parallel()
	needFFmpeg(t)
	dir := t.TempDir()
	cfg, err := config.Load([]string{
		"OUTPOST_DATA_DIR=" + dir, "OUTPOST_LISTEN=127.0.0.1:0", "OUTPOST_BOOTSTRAP_API_KEY=" + testAPIKey,
		"OUTPOST_SANDBOX=true", "OUTPOST_SANDBOX_ADDR=127.0.0.1:0",
	}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	var out syncBuffer
	a, err := app.New(t.Context(), app.Options{Config: cfg, Logger: logger, HTTP: true, Out: &out,
		SandboxOptions: sandbox.Options{AutoApprove: true},
		TunePublisherFunc: func(p publish.Publisher) {
			if c, ok := p.(*youtube.Client); ok {
				c.PollInterval = 20 * time.Millisecond
			}
		}})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	sb, sbURL := a.Sandbox()
	if sb == nil {
		t.Fatal("no sandbox with --sandbox")
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		if err := a.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}()

	call := func(method, path string, body io.Reader, ct string) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), method, a.URL()+path, body)
		req.Header.Set("Authorization", "Bearer "+testAPIKey)
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, b
	}
	js := func(v any) io.Reader { b, _ := json.Marshal(v); return bytes.NewReader(b) }

	// Every platform points at the sandbox, which the banner names.
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(out.String(), "running at"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no banner")
		}
	}
	if !strings.Contains(out.String(), sbURL+"/_sandbox/") {
		t.Errorf("banner lacks the sandbox: %s", out.String())
	}
	code, body := call("GET", "/api/v1/connections", nil, "")
	if code != 200 || strings.Contains(string(body), "not_configured") {
		t.Fatalf("connections: %d %s", code, body)
	}
	// Connect: the authorize URL leads through the sandbox back to us.
	code, body = call("POST", "/api/v1/connections/youtube/authorize", nil, "")
	var auth struct {
		AuthorizeURL string `json:"authorize_url"`
	}
	if code != 200 || json.Unmarshal(body, &auth) != nil || !strings.HasPrefix(auth.AuthorizeURL, sbURL) {
		t.Fatalf("authorize: %d %s", code, body)
	}
	res, err := http.Get(auth.AuthorizeURL)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(page), sandbox.YouTubeChannelName) {
		t.Fatalf("callback: %d %s", res.StatusCode, page)
	}
	_, body = call("GET", "/api/v1/connections", nil, "")
	var conns struct {
		Data []struct{ ID, Platform string }
	}
	_ = json.Unmarshal(body, &conns)
	if len(conns.Data) != 1 {
		t.Fatalf("connections: %s", body)
	}

	// Upload, export with the connection as a destination.
	clip := mediatest.Generate(t, mediatest.Spec{Duration: 1, Audio: true})
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	fw, _ := mw.CreateFormFile("file", filepath.Base(clip))
	f, _ := os.ReadFile(clip)
	_, _ = fw.Write(f)
	_ = mw.Close()
	code, body = call("POST", "/api/v1/projects", &form, mw.FormDataContentType())
	var prj struct{ ID string }
	if code != 201 || json.Unmarshal(body, &prj) != nil {
		t.Fatalf("upload: %d %s", code, body)
	}
	code, body = call("POST", "/api/v1/exports", js(map[string]any{"project_id": prj.ID,
		"targets":      []any{map[string]any{"preset": "mp4-720p", "quality": "web"}},
		"destinations": []any{map[string]any{"connection_id": conns.Data[0].ID, "title": "Hello", "privacy": "public"}}}), "application/json")
	var x struct{ ID string }
	if code != 202 || json.Unmarshal(body, &x) != nil {
		t.Fatalf("export: %d %s", code, body)
	}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		_, body = call("GET", "/api/v1/exports/"+x.ID, nil, "")
		var d struct {
			Publications []struct {
				State   string
				PostURL string `json:"post_url"`
			}
		}
		_ = json.Unmarshal(body, &d)
		if len(d.Publications) == 1 && d.Publications[0].State == "published" {
			if posts := sb.Posts("youtube"); len(posts) != 1 || posts[0].URL != d.Publications[0].PostURL {
				t.Errorf("sandbox posts %+v, export %s", posts, body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not published: %s", body)
		}
	}
}

// TestSandboxCommand runs `outpost sandbox` until interrupted.
func TestSandboxCommand(t *testing.T) {
	t.Parallel()
	var stdout, stderr syncBuffer
	env := &cli.Env{Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" },
		Logger: slog.New(slog.DiscardHandler)}
	ctx, cancel := context.WithCancel(t.Context())
	code := make(chan int, 1)
	go func() { code <- cli.Main(ctx, env, []string{"sandbox", "--addr", "127.0.0.1:0"}, app.Commands()...) }()
	var base string
	for deadline := time.Now().Add(10 * time.Second); base == ""; time.Sleep(20 * time.Millisecond) {
		if s := stdout.String(); strings.Contains(s, "running at ") {
			base = strings.Fields(strings.SplitN(s, "running at ", 2)[1])[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no banner: %s %s", stdout.String(), stderr.String())
		}
	}
	res, err := http.Get(base + "/_sandbox/state")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("/_sandbox/state: %d", res.StatusCode)
	}
	if !strings.Contains(stdout.String(), "OUTPOST_YOUTUBE_BASE_URL="+base) {
		t.Errorf("banner lacks the settings: %s", stdout.String())
	}
	cancel()
	if c := <-code; c != cli.ExitOK {
		t.Errorf("exit %d: %s", c, stderr.String())
	}
}
