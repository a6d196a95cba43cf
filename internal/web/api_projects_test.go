package web

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"outpost/internal/media/mediatest"
	"outpost/internal/outpost"
	"outpost/internal/service"
	"outpost/internal/store"
)

func TestServer_uploadProject(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(e *env, d *Deps, so *service.Options) { d.Config.MaxUploadBytes = 256 << 10 })
	clip := mediatest.Generate(t, mediatest.Spec{Duration: 1, Audio: true})

	r := e.upload(e.key, map[string]string{"name": "Spring launch", "client": "Acme", "campaign": "Spring"}, clip)
	want(t, r, http.StatusCreated)
	var p outpost.Project
	r.json(t, &p)
	if !store.HasPrefix(p.ID, store.PrefixProject) || p.Status != store.ProjectReady || p.Kind != store.ProjectUpload ||
		p.Name != "Spring launch" || p.Labels != (outpost.Labels{Client: "Acme", Campaign: "Spring"}) {
		t.Errorf("project %+v", p)
	}
	if p.Media == nil || p.Media.Video == nil || p.Media.Video.Width != 320 || p.Media.Audio == nil || p.Media.Path != "" {
		t.Fatalf("media %s", r.body)
	}
	ok, err := e.blob.Exists(t.Context(), "projects/"+p.ID+"/source.mp4")
	if err != nil || !ok {
		t.Errorf("source blob missing: %v", err)
	}
	got := e.get("/api/v1/projects/" + p.ID)
	want(t, got, http.StatusOK)
	if !bytes.Equal(got.body, r.body) {
		t.Errorf("GET differs from POST:\n%s\n%s", got.body, r.body)
	}
	// A retried upload (new multipart boundary, same content) is replayed.
	first := e.upload(e.key, map[string]string{"name": "Retry"}, clip, "Idempotency-Key", "up-1")
	want(t, first, http.StatusCreated)
	again := e.upload(e.key, map[string]string{"name": "Retry"}, clip, "Idempotency-Key", "up-1")
	want(t, again, http.StatusCreated)
	if !bytes.Equal(first.body, again.body) || again.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("upload not replayed:\n%s\n%s", first.body, again.body)
	}
	wantError(t, e.upload(e.key, map[string]string{"name": "Other"}, clip, "Idempotency-Key", "up-1"), http.StatusConflict, "idempotency_key_reused")

	// The other workspace cannot see it.
	wantError(t, e.do(request{method: "GET", path: "/api/v1/projects/" + p.ID, key: e.okey}), http.StatusNotFound, "not_found")

	blobsBefore := len(files(t, e.blobDir))
	countProjects := func() int {
		pg, err := e.store.ListProjects(t.Context(), store.ProjectFilter{WorkspaceID: e.ws.ID})
		if err != nil {
			t.Fatal(err)
		}
		return len(pg.Projects)
	}
	large := filepath.Join(t.TempDir(), "large.mp4")
	if err := os.WriteFile(large, bytes.Repeat([]byte{0}, 300<<10), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		fields map[string]string
		files  map[string]string
		status int
		code   string
	}{
		{"text file", nil, map[string]string{"file": mediatest.Text(t)}, 422, "source_unreadable"},
		{"empty file", nil, map[string]string{"file": mediatest.Empty(t)}, 422, "source_empty"},
		{"audio only", nil, map[string]string{"file": mediatest.AudioOnly(t, 1)}, 422, "source_no_video"},
		{"too large", nil, map[string]string{"file": large}, 413, "payload_too_large"},
		{"no file", map[string]string{"name": "x"}, nil, 400, "invalid_option"},
		{"unknown field", map[string]string{"colour": "red"}, map[string]string{"file": clip}, 400, "invalid_option"},
		{"two files", nil, map[string]string{"file": clip, "other": clip}, 400, "invalid_option"},
		{"label too long", map[string]string{"client": strings.Repeat("x", 201)}, map[string]string{"file": clip}, 400, "invalid_option"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body, ct := multipartBody(t, tc.fields, tc.files)
			r := e.do(request{method: "POST", path: "/api/v1/projects", key: e.key, body: body,
				header: map[string]string{"Content-Type": ct}})
			wantError(t, r, tc.status, tc.code)
			if strings.Contains(string(r.body), e.cfg.DataDir) || strings.Contains(string(r.body), "source-") {
				t.Errorf("the message names a server path: %s", r.body)
			}
		})
	}
	// Nothing of the refused uploads is left: no rows, no blobs, no temp files.
	if n := countProjects(); n != 2 {
		t.Errorf("%d projects, want 2", n)
	}
	if n := len(files(t, e.blobDir)); n != blobsBefore {
		t.Errorf("%d blob files, want %d: %v", n, blobsBefore, files(t, e.blobDir))
	}
	if left := files(t, filepath.Join(e.cfg.DataDir, "tmp")); len(left) != 0 {
		t.Errorf("temp files left: %v", left)
	}
	wantError(t, e.do(request{method: "POST", path: "/api/v1/projects", key: e.key, body: strings.NewReader("x"),
		header: map[string]string{"Content-Type": "video/mp4"}}), http.StatusUnsupportedMediaType, "unsupported_media_type")
}

func TestServer_importProject(t *testing.T) {
	t.Parallel()
	clip := mediatest.Generate(t, mediatest.Spec{Duration: 1})
	clipBytes, err := os.ReadFile(clip)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /media/master.mp4", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "video/mp4")
		_, _ = w.Write(clipBytes)
	})
	mux.HandleFunc("GET /to-metadata", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/iam", http.StatusFound)
	})
	mux.HandleFunc("GET /to-loopback-name", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://localhost:1/x", http.StatusFound)
	})
	origin := httptest.NewServer(mux)
	t.Cleanup(origin.Close)
	port := origin.URL[strings.LastIndex(origin.URL, ":")+1:]

	strict := newEnv(t)
	// The loopback switch is for tests only: the origin server runs on
	// 127.0.0.1. Every other blocked range stays blocked.
	lax := newEnv(t, func(e *env, d *Deps, so *service.Options) {
		so.FetchAllowLoopback = true
	})

	r := lax.post("/api/v1/projects", map[string]any{"source_url": origin.URL + "/media/master.mp4", "client": "Acme"})
	want(t, r, http.StatusCreated)
	var p outpost.Project
	r.json(t, &p)
	if p.Kind != store.ProjectURL || p.Name != "master" || p.SourceURL != origin.URL+"/media/master.mp4" ||
		p.Media == nil || p.Media.Video == nil || p.Labels.Client != "Acme" {
		t.Errorf("project %s", r.body)
	}

	for _, tc := range []struct {
		name string
		e    *env
		url  string
		code string
	}{
		{"loopback", strict, origin.URL + "/media/master.mp4", "url_not_allowed"},
		{"127.0.0.1", strict, "http://127.0.0.1:" + port + "/media/master.mp4", "url_not_allowed"},
		{"10.x", lax, "http://10.1.2.3/master.mp4", "url_not_allowed"},
		{"metadata", lax, "http://169.254.169.254/latest/meta-data/", "url_not_allowed"},
		{"[::1]", strict, "http://[::1]:" + port + "/media/master.mp4", "url_not_allowed"},
		{"mapped ::ffff:127.0.0.1", strict, "http://[::ffff:127.0.0.1]:" + port + "/media/master.mp4", "url_not_allowed"},
		{"name resolving to loopback", strict, "http://localhost:" + port + "/media/master.mp4", "url_not_allowed"},
		{"decimal IP", strict, "http://2130706433:" + port + "/", "url_not_allowed"},
		{"redirect to metadata", lax, origin.URL + "/to-metadata", "url_not_allowed"},
		{"file scheme", lax, "file:///etc/passwd", "url_not_allowed"},
		{"credentials", lax, "http://u:p@example.com/x.mp4", "url_not_allowed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, tc.e.post("/api/v1/projects", map[string]any{"source_url": tc.url}), http.StatusBadRequest, tc.code)
		})
	}
	wantError(t, lax.post("/api/v1/projects", map[string]any{"source_url": origin.URL + "/nothing"}), 422, "source_not_found")
	wantError(t, lax.post("/api/v1/projects", map[string]any{}), 400, "invalid_option")
	wantError(t, lax.post("/api/v1/projects", map[string]any{"source_url": origin.URL + "/x", "labels": map[string]string{}}), 400, "invalid_option")
	if left := files(t, filepath.Join(lax.cfg.DataDir, "tmp")); len(left) != 0 {
		t.Errorf("temp files left: %v", left)
	}
}

func TestServer_listProjects(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	want5 := map[string]bool{}
	for i := range 5 {
		want5[e.readyProject(e.ws.ID, fmt.Sprintf("Project %d", i)).ID] = true
	}
	e.readyProject(e.other.ID, "Not yours")
	seen := map[string]bool{}
	path := "/api/v1/projects?limit=2"
	pages := 0
	for {
		r := e.get(path)
		want(t, r, http.StatusOK)
		var pg page[outpost.Project]
		r.json(t, &pg)
		pages++
		if len(pg.Data) > 2 {
			t.Fatalf("page of %d", len(pg.Data))
		}
		for _, p := range pg.Data {
			if seen[p.ID] || !want5[p.ID] {
				t.Errorf("unexpected or repeated project %s", p.ID)
			}
			seen[p.ID] = true
		}
		if pg.NextCursor == nil {
			if !bytes.Contains(r.body, []byte(`"next_cursor":null`)) {
				t.Errorf("last page without next_cursor null: %s", r.body)
			}
			break
		}
		path = "/api/v1/projects?limit=2&cursor=" + *pg.NextCursor
	}
	if len(seen) != 5 || pages != 3 {
		t.Errorf("saw %d projects in %d pages", len(seen), pages)
	}
	wantError(t, e.get("/api/v1/projects?cursor=garbage"), http.StatusBadRequest, "invalid_option")
	r := e.get("/api/v1/projects?q=project+3")
	var pg page[outpost.Project]
	r.json(t, &pg)
	if len(pg.Data) != 1 || pg.Data[0].Name != "Project 3" {
		t.Errorf("search: %s", r.body)
	}
}
