package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"outpost/internal/blob"
	"outpost/internal/config"
	"outpost/internal/engine"
	"outpost/internal/events"
	"outpost/internal/jobs"
	"outpost/internal/media"
	"outpost/internal/outpost"
	"outpost/internal/service"
	"outpost/internal/store"
	"outpost/internal/storetest"
	"outpost/internal/testpg"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// sqliteTemplate is a migrated database that each test copies.
var sqliteTemplate storetest.Template

// pg is this test binary's PostgreSQL server, started on first use.
var pg testpg.Server

func TestMain(m *testing.M) {
	flag.Parse()
	code := pg.Run(m)
	sqliteTemplate.Remove()
	os.Exit(code)
}

// env is a server on a real SQLite store, real file blobs, the real jobs
// service (insert-only: no workers) and events broker, over real HTTP.
type env struct {
	t       *testing.T
	cfg     *config.Config
	store   *store.Store
	blob    *blob.Store
	blobDir string
	broker  *events.Broker
	jobs    *jobs.Runner
	svc     outpost.Services
	srv     *Server
	ts      *httptest.Server
	reg     *prometheus.Registry
	ws      store.Workspace
	key     string // API key of ws
	other   store.Workspace
	okey    string // API key of other
	workers bool
	// configure, when set, adjusts the server before it starts serving.
	configure func(*Server)
}

// envOption adjusts the server's and the services' dependencies before
// they are made.
type envOption func(*env, *Deps, *service.Options)

func newEnv(t *testing.T, opts ...envOption) *env {
	t.Helper()
	return newEnvWorkers(t, false, opts...)
}

// newEnvWorkers is newEnv with, when workers is set, a jobs service that
// renders (one worker, real ffmpeg).
func newEnvWorkers(t *testing.T, workers bool, opts ...envOption) *env {
	t.Helper()
	return newEnvJobs(t, workers, nil, opts...)
}

// newEnvJobs is newEnvWorkers with pre adjusting the jobs service's options
// before it is made.
func newEnvJobs(t *testing.T, workers bool, pre func(*env, *jobs.Options), opts ...envOption) *env {
	t.Helper()
	return newEnvOn(t, store.SQLite, workers, pre, opts...)
}

// newEnvOn is newEnvJobs on a fresh database of the engine.
func newEnvOn(t *testing.T, eng store.Engine, workers bool, pre func(*env, *jobs.Options), opts ...envOption) *env {
	t.Helper()
	ctx := t.Context()
	e := &env{t: t, workers: workers}
	dir := t.TempDir()
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	var err error
	if eng == store.Postgres {
		e.store = storetest.Open(t, store.Postgres, &pg)
	} else {
		e.store = sqliteTemplate.Open(t)
	}

	e.ts = httptest.NewUnstartedServer(nil)
	base := "http://" + e.ts.Listener.Addr().String()
	e.cfg = &config.Config{
		DataDir:        filepath.Join(dir, "data"),
		PublicURL:      base,
		MaxUploadBytes: 8 << 20,
		Retention:      48 * time.Hour,
		FFprobePath:    "ffprobe",
	}
	e.blobDir = filepath.Join(dir, "blobs")
	blobURL, err := blob.FileURL(e.blobDir)
	if err != nil {
		t.Fatal(err)
	}
	e.blob, err = blob.Open(ctx, blobURL, blob.Options{Secret: []byte("0123456789abcdef0123456789abcdef"), PublicBaseURL: base, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.blob.Close() })
	e.broker = events.NewBroker(e.store.EventLog(), events.Options{PollInterval: 50 * time.Millisecond, Logger: logger})
	t.Cleanup(e.broker.Close)
	jo := jobs.Options{Store: e.store, Blob: e.blob, Events: e.broker, Logger: logger, Retention: 48 * time.Hour, TestOnly: true}
	if e.workers {
		jo.Workers, jo.WorkDir, jo.FetchPollInterval = 1, filepath.Join(dir, "work"), 100*time.Millisecond
		jo.Engine = &engine.Engine{Prober: &media.Prober{}, Runner: &media.Runner{Logger: logger}, Logger: logger}
	}
	if pre != nil {
		pre(e, &jo)
	}
	e.jobs, err = jobs.New(jo)
	if err != nil {
		t.Fatalf("jobs.New: %v", err)
	}
	if e.workers {
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
	e.reg = prometheus.NewRegistry()
	d := Deps{Config: e.cfg, Downloads: e.blob.Handler(), Logger: logger, Metrics: e.reg}
	so := service.Options{Store: e.store, Blob: e.blob, Events: e.broker, Jobs: e.jobs, Engine: jo.Engine,
		Prober: &media.Prober{}, Logger: logger, TmpDir: filepath.Join(e.cfg.DataDir, "tmp"), PublicURL: base,
		// On a loaded machine a sample encode can pass the production
		// limit; these tests check what estimates say, not how fast.
		EstimateTimeout: 10 * time.Minute}
	for _, o := range opts {
		o(e, &d, &so)
	}
	so.MaxUploadBytes = e.cfg.MaxUploadBytes
	if e.svc, err = service.New(so); err != nil {
		t.Fatalf("service.New: %v", err)
	}
	d.Services = e.svc
	e.srv, err = New(d)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if e.configure != nil {
		e.configure(e.srv)
	}
	e.ts.Config.Handler = e.srv
	e.ts.Start()
	t.Cleanup(e.ts.Close)

	e.ws, err = e.store.DefaultWorkspace(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, e.key, err = e.store.CreateAPIKey(ctx, e.ws.ID, "test")
	if err != nil {
		t.Fatal(err)
	}
	e.other, err = e.store.CreateWorkspace(ctx, store.Workspace{Slug: "other", Name: "Other"})
	if err != nil {
		t.Fatal(err)
	}
	_, e.okey, err = e.store.CreateAPIKey(ctx, e.other.ID, "other")
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// resp is a finished response.
type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// errorCode returns the code of an error envelope.
func (r resp) errorCode(t *testing.T) string {
	t.Helper()
	var body struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	r.json(t, &body)
	if body.Error.Code == "" || body.Error.Message == "" {
		t.Fatalf("not an error envelope: %s", r.body)
	}
	return body.Error.Code
}

// request is one call: key "" sends no Authorization.
type request struct {
	method, path string
	key          string
	body         io.Reader
	json         any
	header       map[string]string
}

func (e *env) do(rq request) resp {
	e.t.Helper()
	body := rq.body
	if rq.json != nil {
		b, err := json.Marshal(rq.json)
		if err != nil {
			e.t.Fatal(err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(e.t.Context(), rq.method, e.ts.URL+rq.path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if rq.json != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if rq.key != "" {
		req.Header.Set("Authorization", "Bearer "+rq.key)
	}
	for k, v := range rq.header {
		req.Header.Set(k, v)
	}
	res, err := e.ts.Client().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", rq.method, rq.path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp{status: res.StatusCode, header: res.Header, body: b}
}

func (e *env) get(path string) resp { return e.do(request{method: "GET", path: path, key: e.key}) }

func (e *env) post(path string, v any, header ...string) resp {
	h := map[string]string{}
	for i := 0; i+1 < len(header); i += 2 {
		h[header[i]] = header[i+1]
	}
	return e.do(request{method: "POST", path: path, key: e.key, json: v, header: h})
}

// want fails the test unless the response has status.
func want(t *testing.T, r resp, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
}

// wantError fails the test unless the response is an error envelope with
// status and code.
func wantError(t *testing.T, r resp, status int, code string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	if got := r.errorCode(t); got != code {
		t.Fatalf("code %q, want %q: %s", got, code, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type %q", ct)
	}
}

// multipartBody builds an upload form; files maps field → path.
func multipartBody(t *testing.T, fields map[string]string, files map[string]string) (io.Reader, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		if err := mw.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	for field, path := range files {
		fw, err := mw.CreateFormFile(field, filepath.Base(path))
		if err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		_, err = io.Copy(fw, f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return &buf, mw.FormDataContentType()
}

func (e *env) upload(key string, fields map[string]string, path string, header ...string) resp {
	e.t.Helper()
	body, ct := multipartBody(e.t, fields, map[string]string{"file": path})
	h := map[string]string{"Content-Type": ct}
	for i := 0; i+1 < len(header); i += 2 {
		h[header[i]] = header[i+1]
	}
	return e.do(request{method: "POST", path: "/api/v1/projects", key: key, body: body, header: h})
}

// readyProject stores a probed project directly, without an upload.
func (e *env) readyProject(wsID, name string) store.Project {
	e.t.Helper()
	info := media.Info{
		FormatName: "mov,mp4,m4a,3gp,3g2,mj2", Duration: 2, SizeBytes: 1000, FastStart: true, StreamCount: 1,
		Video: &media.Video{Codec: "h264", Profile: "High", PixFmt: "yuv420p", BitDepth: 8, Width: 1920, Height: 1080,
			CodedWidth: 1920, CodedHeight: 1080, SampleAspectRatio: "1:1", FrameRate: 25, FrameCount: 50},
	}
	probe, _ := json.Marshal(info)
	p, err := e.store.CreateProject(e.t.Context(), store.Project{
		WorkspaceID: wsID, Name: name, Kind: store.ProjectUpload, SourceKey: "projects/x/source.mp4",
		Probe: probe, Status: store.ProjectReady, SizeBytes: 1000, Duration: 2,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

// files lists the regular files under dir (recursively), for leftovers.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil
			}
			return err
		}
		if !d.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// golden compares got with testdata/name, rewriting it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/web -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test ./internal/web -run %s -update to accept):\n%s", path, t.Name(), got)
	}
}

// uploadProject uploads the file at path as a project named name.
func (e *env) uploadProject(name, path string) outpost.Project {
	e.t.Helper()
	r := e.upload(e.key, map[string]string{"name": name}, path)
	want(e.t, r, http.StatusCreated)
	var p outpost.Project
	r.json(e.t, &p)
	return p
}

// streamEvents reads the export's event stream from the start until it
// ends (or max events, or timeout).
func (e *env) streamEvents(id string, timeout time.Duration, max int) []sseEvent {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.t.Context(), timeout)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.ts.URL+"/api/v1/exports/"+id+"/events", nil)
	req.Header.Set("Authorization", "Bearer "+e.key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	evs, _ := readSSE(e.t, res.Body, max)
	return evs
}
