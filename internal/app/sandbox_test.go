package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"outpost/internal/app"
	"outpost/internal/cli"
	"outpost/internal/config"
	"outpost/internal/media/mediatest"
	"outpost/internal/publish"
	"outpost/internal/publish/youtube"
	"outpost/internal/sandbox"
	"outpost/internal/waitfor"
)

// TestServe_sandbox runs `outpost serve --sandbox` in-process and walks the
// README's "Publishing" path over HTTP: connect a sandbox YouTube account,
// export with it as a destination, read the post URL. Then it restarts the
// server on the same data dir: the account is still connected, the post
// still listed, and sharing the export again publishes, through a token
// refresh (the emulators kept the grant).
func TestServe_sandbox(t *testing.T) {
	if testing.Short() {
		t.Skip("renders with ffmpeg")
	}
	t.Parallel()
	needFFmpeg(t)
	dir := t.TempDir()
	srv := startSandboxApp(t, dir)
	sb, sbURL := srv.sb, srv.sbURL
	call, js := srv.call, srv.js

	// Every platform points at the sandbox, which the banner names.
	waitfor.True(t, 10*time.Second, func() bool { return strings.Contains(srv.out.String(), "running at") }, "the banner is printed")
	if !strings.Contains(srv.out.String(), sbURL+"/_sandbox/") {
		t.Errorf("banner lacks the sandbox: %s", srv.out.String())
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
		Data []struct{ ID, Platform, Status string }
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
	destination := map[string]any{"connection_id": conns.Data[0].ID, "title": "Hello", "privacy": "public"}
	code, body = call("POST", "/api/v1/exports", js(map[string]any{"project_id": prj.ID,
		"targets":      []any{map[string]any{"preset": "mp4-720p", "quality": "web"}},
		"destinations": []any{destination}}), "application/json")
	var x struct{ ID string }
	if code != 202 || json.Unmarshal(body, &x) != nil {
		t.Fatalf("export: %d %s", code, body)
	}
	srv.waitPublished(x.ID, 1)
	first := sb.Posts("youtube")

	// Restart on the same data dir.
	srv.stop()
	srv = startSandboxApp(t, dir)
	call = srv.call
	if srv.sbURL != sbURL {
		t.Errorf("the sandbox moved from %s to %s: the links it gave out are dead", sbURL, srv.sbURL)
	}
	if posts := srv.sb.Posts("youtube"); len(posts) != 1 || posts[0].ID != first[0].ID || posts[0].URL != first[0].URL {
		t.Errorf("sandbox posts after the restart = %+v, want %+v", posts, first)
	}
	_, body = call("GET", "/api/v1/connections", nil, "")
	if err := json.Unmarshal(body, &conns); err != nil || len(conns.Data) != 1 || conns.Data[0].Status != "active" {
		t.Errorf("connections after the restart: %s", body)
	}
	// The access token is refused once, so the refresh token is used: both
	// were kept.
	if err := srv.sb.Inject(sandbox.Fault{Platform: sandbox.YouTube, Kind: sandbox.FaultExpireToken}); err != nil {
		t.Fatal(err)
	}
	code, body = call("POST", "/api/v1/exports/"+x.ID+"/publications", js(map[string]any{
		"destinations": []any{destination}}), "application/json")
	if code/100 != 2 {
		t.Fatalf("share again: %d %s", code, body)
	}
	srv.waitPublished(x.ID, 2)

}

// sandboxApp is an in-process `outpost serve --sandbox` on a data dir.
type sandboxApp struct {
	t     *testing.T
	a     *app.App
	sb    *sandbox.Server
	sbURL string
	out   *syncBuffer
	stop  func()
}

func startSandboxApp(t *testing.T, dir string) *sandboxApp {
	t.Helper()
	cfg, err := config.Load([]string{
		"OUTPOST_DATA_DIR=" + dir, "OUTPOST_LISTEN=127.0.0.1:0", "OUTPOST_BOOTSTRAP_API_KEY=" + testAPIKey,
		"OUTPOST_SANDBOX=true", "OUTPOST_SANDBOX_ADDR=127.0.0.1:0",
		"OUTPOST_RENDER_NICE=0", // see processEnv
	}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	out := &syncBuffer{}
	a, err := app.New(t.Context(), app.Options{Config: cfg, Logger: logger, HTTP: true, Out: out,
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
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
			if err := a.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return &sandboxApp{t: t, a: a, sb: sb, sbURL: sbURL, out: out, stop: stop}
}

func (s *sandboxApp) call(method, path string, body io.Reader, ct string) (int, []byte) {
	s.t.Helper()
	req, _ := http.NewRequestWithContext(s.t.Context(), method, s.a.URL()+path, body)
	req.Header.Set("Authorization", "Bearer "+testAPIKey)
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

func (s *sandboxApp) js(v any) io.Reader { b, _ := json.Marshal(v); return bytes.NewReader(b) }

// waitPublished waits until the export has n publications, all published,
// each the URL of one of the sandbox's n posts.
func (s *sandboxApp) waitPublished(exportID string, n int) {
	s.t.Helper()
	type pub struct {
		State   string
		PostURL string `json:"post_url"`
	}
	pubs := waitfor.Value(s.t, 60*time.Second, func() ([]pub, error) {
		_, body := s.call("GET", "/api/v1/exports/"+exportID, nil, "")
		var d struct{ Publications []pub }
		_ = json.Unmarshal(body, &d)
		if len(d.Publications) != n {
			return nil, fmt.Errorf("export: %s", body)
		}
		for _, p := range d.Publications {
			if p.State == "failed" {
				s.t.Fatalf("a publication failed: %s", body)
			}
			if p.State != "published" {
				return nil, fmt.Errorf("export: %s", body)
			}
		}
		return d.Publications, nil
	}, "the export's %d posts are published", n)
	posts := s.sb.Posts("youtube")
	for _, p := range pubs {
		if !slices.ContainsFunc(posts, func(x sandbox.Post) bool { return x.URL == p.PostURL }) {
			s.t.Errorf("sandbox posts %+v lack %s", posts, p.PostURL)
		}
	}
	if len(posts) != n {
		s.t.Errorf("sandbox posts %+v, want %d", posts, n)
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
	base := waitfor.Value(t, 10*time.Second, func() (string, error) {
		s := stdout.String()
		if !strings.Contains(s, "running at ") {
			return "", fmt.Errorf("no banner: %s %s", s, stderr.String())
		}
		return strings.Fields(strings.SplitN(s, "running at ", 2)[1])[0], nil
	}, "outpost sandbox prints its address")
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
