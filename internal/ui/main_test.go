package ui

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/bcrypt"

	"outpost/internal/blob"
	"outpost/internal/config"
	"outpost/internal/connect"
	"outpost/internal/engine"
	"outpost/internal/events"
	"outpost/internal/jobs"
	"outpost/internal/media"
	"outpost/internal/outpost"
	"outpost/internal/publish"
	"outpost/internal/publish/facebook"
	"outpost/internal/publish/instagram"
	"outpost/internal/publish/linkedin"
	"outpost/internal/publish/tiktok"
	"outpost/internal/publish/youtube"
	"outpost/internal/sandbox"
	"outpost/internal/service"
	"outpost/internal/store"
	"outpost/internal/storetest"
	"outpost/internal/testpg"
	"outpost/internal/web"
)

// sqliteTemplate is a migrated database that each test copies.
var sqliteTemplate storetest.Template

// pg is this test binary's PostgreSQL server, started on first use.
var pg testpg.Server

func TestMain(m *testing.M) {
	code := pg.Run(m)
	sqliteTemplate.Remove()
	os.Exit(code)
}

// env is the UI and the API mounted as app mounts them, on a real SQLite
// store, real file blobs, the real events broker and jobs service (with a
// rendering worker when asked), over real HTTP.
type env struct {
	t      *testing.T
	cfg    *config.Config
	store  *store.Store
	blob   *blob.Store
	broker *events.Broker
	jobs   *jobs.Runner
	svc    outpost.Services
	ui     *Handler
	ts     *httptest.Server
	ws     store.Workspace
	// sb and sbURL are the platform emulators, with publish.
	sb      *sandbox.Server
	sbURL   string
	connect *connect.Service
}

type envOptions struct {
	workers bool
	// admin creates this user (password "correct horse battery") before
	// the UI starts.
	admin string
	// configure changes the config before New.
	configure func(*config.Config)
	// publish runs the sandbox emulators and connects to them, as
	// `outpost serve --sandbox` does; autoApprove skips their consent page.
	publish     bool
	autoApprove bool
	// engine is the database (SQLite when empty).
	engine store.Engine
}

const testPassword = "correct horse battery"

func newEnv(t *testing.T, o envOptions) *env {
	t.Helper()
	ctx := t.Context()
	e := &env{t: t}
	dir := t.TempDir()
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	var err error
	if o.engine == store.Postgres {
		e.store = storetest.Open(t, store.Postgres, &pg)
	} else {
		e.store = sqliteTemplate.Open(t)
	}
	if e.ws, err = e.store.DefaultWorkspace(ctx); err != nil {
		t.Fatal(err)
	}
	if o.admin != "" {
		hash, err := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.store.CreateUser(ctx, store.User{WorkspaceID: e.ws.ID, Email: o.admin, Name: "Ada",
			PasswordHash: string(hash), Role: store.RoleOwner}); err != nil {
			t.Fatal(err)
		}
	}

	e.ts = httptest.NewUnstartedServer(nil)
	base := "http://" + e.ts.Listener.Addr().String()
	blobDir := filepath.Join(dir, "blobs")
	blobURL, err := blob.FileURL(blobDir)
	if err != nil {
		t.Fatal(err)
	}
	e.cfg = &config.Config{
		DataDir: filepath.Join(dir, "data"), PublicURL: base, BlobURL: blobURL,
		MaxUploadBytes: 64 << 20, Retention: 48 * time.Hour,
		FFmpegPath: "ffmpeg", FFprobePath: "ffprobe",
		SecretKey: []byte("0123456789abcdef0123456789abcdef"),
	}
	if o.configure != nil {
		o.configure(e.cfg)
	}
	e.blob, err = blob.Open(ctx, blobURL, blob.Options{Secret: e.cfg.SecretKey, PublicBaseURL: base, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.blob.Close() })
	e.broker = events.NewBroker(e.store.EventLog(), events.Options{PollInterval: 50 * time.Millisecond, Logger: logger})
	t.Cleanup(e.broker.Close)
	jo := jobs.Options{Store: e.store, Blob: e.blob, Events: e.broker, Logger: logger, Retention: 48 * time.Hour,
		TestOnly: true, LocalBlobDir: blobDir}
	if o.publish {
		e.sb = sandbox.New(sandbox.Options{Dir: t.TempDir(), Logger: logger, AutoApprove: o.autoApprove})
		sts := httptest.NewServer(e.sb)
		t.Cleanup(func() {
			sts.Close()
			_ = e.sb.Close()
		})
		e.sbURL = sts.URL
		platforms := sandbox.PlatformSettings(sts.URL)
		e.cfg.Platforms = platforms
		if e.connect, err = connect.New(connect.Options{Store: e.store, Key: e.cfg.SecretKey, Platforms: platforms,
			PublicURL: base, Logger: logger, TuneFunc: tunePublisher}); err != nil {
			t.Fatal(err)
		}
		jo.Connect, jo.PublishRetryBase, jo.WebhookAllowLoopback = e.connect, 100*time.Millisecond, true
	}
	if o.workers {
		jo.Workers, jo.WorkDir, jo.FetchPollInterval = 1, filepath.Join(dir, "work"), 100*time.Millisecond
		jo.Engine = &engine.Engine{Prober: &media.Prober{}, Runner: &media.Runner{Logger: logger}, Logger: logger}
	}
	if e.jobs, err = jobs.New(jo); err != nil {
		t.Fatalf("jobs.New: %v", err)
	}
	if o.workers {
		if err := e.jobs.Start(ctx); err != nil {
			t.Fatalf("jobs Start: %v", err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if err := e.jobs.Stop(ctx); err != nil {
				t.Errorf("jobs Stop: %v", err)
			}
		})
	}
	prober := &media.Prober{}
	if e.svc, err = service.New(service.Options{Store: e.store, Blob: e.blob, Events: e.broker, Jobs: e.jobs,
		Engine: &engine.Engine{Prober: prober, Runner: &media.Runner{Logger: logger}, Logger: logger}, Connect: e.connect,
		Prober: prober, Logger: logger, MaxUploadBytes: e.cfg.MaxUploadBytes, TmpDir: filepath.Join(e.cfg.DataDir, "tmp"),
		PublicURL: base, WebhookAllowLoopback: true, BcryptCost: bcrypt.MinCost,
		EstimateTimeout: 10 * time.Minute}); err != nil { // tests check what estimates say, not how fast
		t.Fatalf("service.New: %v", err)
	}
	api, err := web.New(web.Deps{Config: e.cfg, Services: e.svc, Downloads: e.blob.Handler(), Logger: logger,
		Metrics: prometheus.NewRegistry()})
	if err != nil {
		t.Fatalf("web.New: %v", err)
	}
	e.ui, err = New(Deps{Config: e.cfg, Services: e.svc, Logger: logger})
	if err != nil {
		t.Fatalf("ui.New: %v", err)
	}
	e.ts.Config.Handler = mount(api, e.ui)
	e.ts.Start()
	t.Cleanup(e.ts.Close)
	return e
}

// tunePublisher makes the clients poll fast (the sandbox processes at once).
func tunePublisher(p publish.Publisher) {
	const poll = 20 * time.Millisecond
	switch c := p.(type) {
	case *youtube.Client:
		c.PollInterval = poll
	case *facebook.Client:
		c.PollInterval = poll
	case *instagram.Client:
		c.PollInterval = poll
	case *linkedin.Client:
		c.PollInterval = poll
	case *tiktok.Client:
		c.PollInterval = poll
	}
}

// mount is how app mounts the UI beside the API (kept here so the tests
// use the same split).
func mount(api, ui http.Handler) http.Handler {
	mux := http.NewServeMux()
	for _, p := range []string{"/api/", "/dl/", "/connect/", "/oauth/", "/healthz", "/metrics"} {
		mux.Handle(p, api)
	}
	mux.Handle("/", ui)
	return mux
}

// browser is an HTTP client with cookies that does not follow redirects.
type browser struct {
	t *testing.T
	e *env
	c *http.Client
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: e.t, e: e, c: &http.Client{Jar: jar, Timeout: 60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type resp struct {
	status int
	header http.Header
	body   string
}

func (b *browser) do(method, path string, body io.Reader, header ...string) resp {
	b.t.Helper()
	req, err := http.NewRequestWithContext(b.t.Context(), method, b.e.ts.URL+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return resp{status: res.StatusCode, header: res.Header, body: string(data)}
}

func (b *browser) get(path string) resp { return b.do("GET", path, nil) }

// postForm posts an url-encoded form.
func (b *browser) postForm(path string, v url.Values, header ...string) resp {
	return b.do("POST", path, strings.NewReader(v.Encode()),
		append([]string{"Content-Type", "application/x-www-form-urlencoded"}, header...)...)
}

// signIn signs in through the form, as a person would.
func (b *browser) signIn(email, password string) resp {
	b.t.Helper()
	want(b.t, b.get("/signin"), http.StatusOK)
	return b.postForm("/signin", url.Values{"email": {email}, "password": {password}})
}

func want(t *testing.T, r resp, status int) {
	t.Helper()
	if r.status != status {
		body := r.body
		if len(body) > 3000 {
			body = body[:3000]
		}
		t.Fatalf("status %d, want %d: %s", r.status, status, body)
	}
}

func hashForTest(password string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	return string(h), err
}
