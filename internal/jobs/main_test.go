package jobs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"outpost/internal/blob"
	"outpost/internal/engine"
	"outpost/internal/events"
	"outpost/internal/jobs"
	"outpost/internal/media"
	"outpost/internal/media/mediatest"
	"outpost/internal/outpost"
	"outpost/internal/service"
	"outpost/internal/store"
	"outpost/internal/testpg"
	"outpost/internal/tests3"
	"outpost/internal/waitfor"
)

var pg testpg.Server

func TestMain(m *testing.M) { os.Exit(pg.Run(m)) }

// env is a service over a fresh database and blob folder.
type env struct {
	store  *store.Store
	blob   *blob.Store
	blobs  string // the blob folder; "" on S3
	events *events.Broker
	runner *jobs.Runner
	// svc are the use cases over the runner's queue.
	svc outpost.Services
	ws  store.Workspace
	// opts are the runner's options (addNode makes another of them).
	opts jobs.Options
}

type envOptions struct {
	workers int
	noStart bool
	// s3 stores files in a real S3-compatible server (versitygw) instead
	// of a folder.
	s3 bool
	// configure adjusts the service's options before it is made.
	configure func(s *store.Store, o *jobs.Options)
}

// engines are the engines the end-to-end tests run on.
var engines = []store.Engine{store.SQLite, store.Postgres}

func forEachEngine(t *testing.T, fn func(t *testing.T, eng store.Engine)) {
	for _, e := range engines {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			fn(t, e)
		})
	}
}

// forEachStore runs fn in parallel subtests on each engine, with files in
// a folder and in a bucket of a real S3-compatible server (versitygw).
func forEachStore(t *testing.T, fn func(t *testing.T, eng store.Engine, s3 bool)) {
	for _, eng := range engines {
		for _, s3 := range []bool{false, true} {
			name := string(eng) + "/file"
			if s3 {
				name = string(eng) + "/s3"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				fn(t, eng, s3)
			})
		}
	}
}

func needFFmpeg(t *testing.T) {
	t.Helper()
	for _, bin := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s not installed", bin)
		}
	}
}

func newEnv(t *testing.T, eng store.Engine, o envOptions) *env {
	t.Helper()
	ctx := t.Context()
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "outpost.db")
	if eng == store.Postgres {
		dsn = pg.NewDatabase(t)
	}
	logger := testLogger(t)
	s, err := store.Open(ctx, dsn, logger)
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	dir := t.TempDir()
	u, err := blob.FileURL(dir)
	if err != nil {
		t.Fatal(err)
	}
	bo := blob.Options{Secret: []byte("0123456789abcdef0123456789abcdef"), PublicBaseURL: "http://127.0.0.1"}
	if o.s3 {
		gw := tests3.Start(t)
		u, dir = gw.Bucket(t, "outpost-test"), ""
		bo.S3AccessKeyID, bo.S3SecretAccessKey = gw.AccessKey, gw.SecretKey
	}
	b, err := blob.Open(ctx, u, bo)
	if err != nil {
		t.Fatalf("blob.Open: %v", err)
	}
	t.Cleanup(func() { _ = b.Close() })
	ws, err := s.DefaultWorkspace(ctx)
	if err != nil {
		t.Fatal(err)
	}
	br := events.NewBroker(s.EventLog(), events.Options{PollInterval: 100 * time.Millisecond, Logger: logger})
	t.Cleanup(br.Close)
	jo := jobs.Options{
		Store:  s,
		Blob:   b,
		Events: br,
		Engine: &engine.Engine{Prober: &media.Prober{}, Runner: &media.Runner{Logger: logger}, Logger: logger},
		Logger: logger,
		// Workers: 1 unless told 0.
		Workers:           max(o.workers, 0),
		WorkDir:           t.TempDir(),
		FetchPollInterval: 100 * time.Millisecond,
		TestOnly:          true,
	}
	if o.configure != nil {
		o.configure(s, &jo)
	}
	runner, err := jobs.New(jo)
	if err != nil {
		t.Fatalf("jobs.New: %v", err)
	}
	svc, err := service.New(service.Options{Store: s, Blob: b, Events: br, Jobs: runner, Engine: jo.Engine,
		Connect: jo.Connect, Logger: logger, TmpDir: t.TempDir(), PublicURL: jo.PublicURL})
	if err != nil {
		t.Fatalf("service.New: %v", err)
	}
	e := &env{store: s, blob: b, blobs: dir, events: br, runner: runner, svc: svc, ws: ws, opts: jo}
	if o.workers > 0 && !o.noStart {
		e.start(t)
	}
	return e
}

func (e *env) start(t *testing.T) {
	t.Helper()
	if err := e.runner.Start(t.Context()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := e.runner.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
}

// addNode starts another worker node on the env's database and storage,
// with its own River client id and work folder, as another process would
// be, and returns it.
func (e *env) addNode(t *testing.T) *jobs.Runner {
	t.Helper()
	o := e.opts
	o.ClientID, o.WorkDir = "", t.TempDir()
	o.Metrics = nil
	r, err := jobs.New(o)
	if err != nil {
		t.Fatalf("jobs.New: %v", err)
	}
	if err := r.Start(t.Context()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := r.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return r
}

// project makes a ready project whose source is a generated clip.
func (e *env) project(t *testing.T, spec mediatest.Spec) store.Project {
	t.Helper()
	return e.projectOf(t, mediatest.Generate(t, spec))
}

// projectOf makes a ready project whose source is the file at path.
func (e *env) projectOf(t *testing.T, path string) store.Project {
	t.Helper()
	ctx := t.Context()
	info, err := (&media.Prober{}).Probe(ctx, path)
	if err != nil {
		t.Fatalf("probe: %v", err)
	}
	probe, err := json.Marshal(info)
	if err != nil {
		t.Fatal(err)
	}
	key := "sources/" + store.NewID("src") + filepath.Ext(path)
	if _, err := e.blob.PutFile(ctx, key, path, ""); err != nil {
		t.Fatalf("PutFile: %v", err)
	}
	p, err := e.store.CreateProject(ctx, store.Project{WorkspaceID: e.ws.ID, Name: "clip", Kind: store.ProjectUpload,
		SourceKey: key, Probe: probe, Status: store.ProjectReady, SizeBytes: info.SizeBytes, Duration: info.Duration})
	if err != nil {
		t.Fatalf("CreateProject: %v", err)
	}
	return p
}

// bareExport makes an export with status of a project that has no real
// source, for tests that put its renditions and files in place themselves.
func (e *env) bareExport(t *testing.T, status store.ExportStatus) store.Export {
	t.Helper()
	ctx := t.Context()
	prj, err := e.store.CreateProject(ctx, store.Project{WorkspaceID: e.ws.ID, Name: "p", Kind: store.ProjectUpload,
		SourceKey: "sources/a.mp4", Status: store.ProjectReady})
	if err != nil {
		t.Fatal(err)
	}
	x, err := e.store.CreateExport(ctx, store.Export{WorkspaceID: e.ws.ID, ProjectID: prj.ID, Status: status})
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// createExport accepts an export through the exports service and returns
// its row.
func (e *env) createExport(ctx context.Context, workspaceID string, req outpost.ExportRequest) (store.Export, error) {
	d, err := e.svc.Exports.Create(ctx, workspaceID, req)
	if err != nil {
		return store.Export{}, err
	}
	return e.store.GetExport(ctx, d.ID)
}

// cancelExport cancels an export through the exports service and returns
// its row.
func (e *env) cancelExport(ctx context.Context, workspaceID, id string) (store.Export, error) {
	if _, err := e.svc.Exports.Cancel(ctx, workspaceID, id); err != nil {
		return store.Export{}, err
	}
	return e.store.GetExport(ctx, id)
}

// retryExport retries an export through the exports service and returns
// its row.
func (e *env) retryExport(ctx context.Context, workspaceID, id string) (store.Export, error) {
	if _, err := e.svc.Exports.Retry(ctx, workspaceID, id); err != nil {
		return store.Export{}, err
	}
	return e.store.GetExport(ctx, id)
}

// wait polls the export until cond holds.
func (e *env) wait(t *testing.T, id string, timeout time.Duration, what string, cond func(store.Export) bool) store.Export {
	t.Helper()
	return waitfor.Value(t, timeout, func() (store.Export, error) {
		x, err := e.store.GetExport(t.Context(), id)
		if err == nil && !cond(x) {
			err = fmt.Errorf("status %s, progress %+v, error %s %s", x.Status, x.Progress, x.ErrorCode, x.ErrorMessage)
		}
		return x, err
	}, "export %s: %s", id, what)
}

func (e *env) waitFinal(t *testing.T, id string) store.Export {
	t.Helper()
	return e.wait(t, id, 90*time.Second, "a final status", func(x store.Export) bool { return x.Status.Final() })
}

// files lists the blob keys under prefix (without fileblob's .attrs).
func (e *env) files(t *testing.T, prefix string) []string {
	t.Helper()
	var keys []string
	root := filepath.Join(e.blobs, filepath.FromSlash(prefix))
	_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, ".attrs") {
			return nil
		}
		rel, _ := filepath.Rel(e.blobs, p)
		keys = append(keys, filepath.ToSlash(rel))
		return nil
	})
	return keys
}

// collect reads a subscription until it closes.
func collect(t *testing.T, ch <-chan events.Event, timeout time.Duration) []events.Event {
	t.Helper()
	var evs []events.Event
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				return evs
			}
			evs = append(evs, ev)
		case <-timer.C:
			t.Fatalf("subscription still open after %s (%d events)", timeout, len(evs))
		}
	}
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}
