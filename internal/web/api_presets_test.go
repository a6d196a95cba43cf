package web

import (
	"bytes"
	"net/http"
	"testing"

	"outpost/internal/outpost"
	"outpost/internal/preset"
	"outpost/internal/store"
)

func TestServer_presets(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	r := e.get("/api/v1/presets")
	want(t, r, http.StatusOK)
	var list page[outpost.Preset]
	r.json(t, &list)
	if len(list.Data) != len(preset.IDs()) || !list.Data[0].Builtin {
		t.Fatalf("built-ins: %d presets", len(list.Data))
	}
	r = e.get("/api/v1/presets/youtube-1080p")
	want(t, r, http.StatusOK)
	var yt outpost.Preset
	r.json(t, &yt)
	if !yt.Builtin || yt.Platform != "youtube" || yt.Video.Width != 1920 || yt.Quality[preset.HD].CRF == 0 {
		t.Errorf("youtube-1080p: %s", r.body)
	}

	r = e.post("/api/v1/presets", map[string]any{
		"name": "Shorts, web quality", "base_preset_id": "youtube-shorts",
		"settings": map[string]any{"quality": "web", "fit": "crop", "fps": 30},
	})
	want(t, r, http.StatusCreated)
	var p outpost.Preset
	r.json(t, &p)
	if !store.HasPrefix(p.ID, store.PrefixPreset) || p.Builtin || p.BasePresetID != "youtube-shorts" ||
		p.Settings == nil || *p.Settings != (outpost.PresetSettings{Quality: "web", Fit: "crop", FPS: 30}) ||
		p.Platform != "youtube" || p.Video.Width == 0 {
		t.Errorf("created %s", r.body)
	}
	r = e.get("/api/v1/presets")
	r.json(t, &list)
	if n := len(list.Data); n != len(preset.IDs())+1 || list.Data[n-1].ID != p.ID {
		t.Errorf("list after create: %d presets", n)
	}
	// Another workspace sees only the built-ins.
	r = e.do(request{method: "GET", path: "/api/v1/presets", key: e.okey})
	r.json(t, &list)
	if len(list.Data) != len(preset.IDs()) {
		t.Errorf("other workspace sees %d presets", len(list.Data))
	}
	wantError(t, e.do(request{method: "GET", path: "/api/v1/presets/" + p.ID, key: e.okey}), 404, "not_found")
	wantError(t, e.do(request{method: "PATCH", path: "/api/v1/presets/" + p.ID, key: e.okey, json: map[string]any{"name": "mine"}}), 404, "not_found")
	wantError(t, e.do(request{method: "DELETE", path: "/api/v1/presets/" + p.ID, key: e.okey}), 404, "not_found")

	// Patch: name only keeps the settings; settings replace them whole.
	r = e.do(request{method: "PATCH", path: "/api/v1/presets/" + p.ID, key: e.key, json: map[string]any{"name": "Shorts"}})
	want(t, r, http.StatusOK)
	r.json(t, &p)
	if p.Name != "Shorts" || p.Settings.Quality != "web" {
		t.Errorf("patched %s", r.body)
	}
	r = e.do(request{method: "PATCH", path: "/api/v1/presets/" + p.ID, key: e.key, json: map[string]any{"settings": map[string]any{"quality": "ultra"}}})
	want(t, r, http.StatusOK)
	p = outpost.Preset{}
	r.json(t, &p)
	if *p.Settings != (outpost.PresetSettings{Quality: "ultra"}) {
		t.Errorf("patched settings %s", r.body)
	}

	for _, tc := range []struct {
		name   string
		method string
		path   string
		body   any
		status int
		code   string
	}{
		{"patch built-in", "PATCH", "/api/v1/presets/tiktok", map[string]any{"name": "x"}, 409, "conflict"},
		{"delete built-in", "DELETE", "/api/v1/presets/tiktok", nil, 409, "conflict"},
		{"unknown base", "POST", "/api/v1/presets", map[string]any{"name": "x", "base_preset_id": "myspace"}, 400, "unknown_preset"},
		{"no base", "POST", "/api/v1/presets", map[string]any{"name": "x"}, 400, "invalid_option"},
		{"no name", "POST", "/api/v1/presets", map[string]any{"base_preset_id": "tiktok"}, 400, "invalid_option"},
		{"name of a built-in", "POST", "/api/v1/presets", map[string]any{"name": "tiktok", "base_preset_id": "tiktok"}, 400, "invalid_option"},
		{"bad quality", "POST", "/api/v1/presets", map[string]any{"name": "x", "base_preset_id": "tiktok", "settings": map[string]any{"quality": "max"}}, 400, "invalid_option"},
		{"bad fit", "POST", "/api/v1/presets", map[string]any{"name": "x", "base_preset_id": "tiktok", "settings": map[string]any{"fit": "stretch"}}, 400, "invalid_option"},
		{"fps over platform", "POST", "/api/v1/presets", map[string]any{"name": "x", "base_preset_id": "tiktok", "settings": map[string]any{"fps": 120}}, 400, "invalid_option"},
		{"bitrate", "POST", "/api/v1/presets", map[string]any{"name": "x", "base_preset_id": "tiktok", "settings": map[string]any{"video_kbps": 1}}, 400, "invalid_option"},
		{"unknown setting", "POST", "/api/v1/presets", map[string]any{"name": "x", "base_preset_id": "tiktok", "settings": map[string]any{"crf": 18}}, 400, "invalid_option"},
		{"taken name", "POST", "/api/v1/presets", map[string]any{"name": "Shorts", "base_preset_id": "tiktok"}, 409, "conflict"},
		{"missing", "GET", "/api/v1/presets/pst_nope", nil, 404, "not_found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, e.do(request{method: tc.method, path: tc.path, key: e.key, json: tc.body}), tc.status, tc.code)
		})
	}

	r = e.do(request{method: "DELETE", path: "/api/v1/presets/" + p.ID, key: e.key})
	want(t, r, http.StatusNoContent)
	if len(bytes.TrimSpace(r.body)) != 0 {
		t.Errorf("204 with body %s", r.body)
	}
	wantError(t, e.do(request{method: "DELETE", path: "/api/v1/presets/" + p.ID, key: e.key}), 404, "not_found")
}

func TestServer_idempotency(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	body := map[string]any{"name": "Reel", "base_preset_id": "instagram-reel"}
	first := e.post("/api/v1/presets", body, "Idempotency-Key", "k-1")
	want(t, first, http.StatusCreated)
	again := e.post("/api/v1/presets", body, "Idempotency-Key", "k-1")
	want(t, again, http.StatusCreated)
	if !bytes.Equal(first.body, again.body) || again.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("replay differs:\n%s\n%s", first.body, again.body)
	}
	ps, err := e.store.ListPresets(t.Context(), e.ws.ID)
	if err != nil || len(ps) != 1 {
		t.Fatalf("%d presets after a replay (%v)", len(ps), err)
	}
	// Same key, other body or route: refused.
	wantError(t, e.post("/api/v1/presets", map[string]any{"name": "Other", "base_preset_id": "tiktok"}, "Idempotency-Key", "k-1"),
		http.StatusConflict, "idempotency_key_reused")
	p := e.readyProject(e.ws.ID, "x")
	wantError(t, e.post("/api/v1/exports", map[string]any{"project_id": p.ID, "targets": []any{map[string]any{"preset": "mp4-720p"}}},
		"Idempotency-Key", "k-1"), http.StatusConflict, "idempotency_key_reused")
	// Keys belong to a workspace.
	r := e.do(request{method: "POST", path: "/api/v1/presets", key: e.okey, json: body, header: map[string]string{"Idempotency-Key": "k-1"}})
	want(t, r, http.StatusCreated)
	if r.header.Get("Idempotent-Replayed") != "" {
		t.Error("another workspace's key replayed")
	}
	// A failed request is not stored: fixed and retried with the same key, it runs.
	wantError(t, e.post("/api/v1/presets", map[string]any{"name": "Bad", "base_preset_id": "nope"}, "Idempotency-Key", "k-2"), 400, "unknown_preset")
	want(t, e.post("/api/v1/presets", map[string]any{"name": "Good", "base_preset_id": "tiktok"}, "Idempotency-Key", "k-2"), http.StatusCreated)
	wantError(t, e.post("/api/v1/presets", body, "Idempotency-Key", string(bytes.Repeat([]byte("k"), 256))), 400, "invalid_option")

	// Exports: the replay is the same export, and there is one export.
	exp := map[string]any{"project_id": p.ID, "targets": []any{map[string]any{"preset": "mp4-720p"}}}
	a := e.post("/api/v1/exports", exp, "Idempotency-Key", "exp-1")
	want(t, a, http.StatusAccepted)
	b := e.post("/api/v1/exports", exp, "Idempotency-Key", "exp-1")
	want(t, b, http.StatusAccepted)
	var ea, eb outpost.ExportDetail
	a.json(t, &ea)
	b.json(t, &eb)
	if ea.ID != eb.ID || b.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("export replay: %s vs %s", ea.ID, eb.ID)
	}
	pg, err := e.store.ListExports(t.Context(), store.ExportFilter{WorkspaceID: e.ws.ID})
	if err != nil || len(pg.Exports) != 1 {
		t.Errorf("%d exports (%v)", len(pg.Exports), err)
	}
}

func TestDigestBody_multipart(t *testing.T) {
	t.Parallel()
	// A retried upload has a new boundary but the same digest.
	d := func(boundary, content string) string {
		t.Helper()
		var buf bytes.Buffer
		buf.WriteString("--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.mp4\"\r\n\r\n" +
			content + "\r\n--" + boundary + "--\r\n")
		s, err := digestBody("multipart/form-data; boundary="+boundary, &buf)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if d("aaa", "video") != d("bbb", "video") {
		t.Error("boundary changes the digest")
	}
	if d("aaa", "video") == d("aaa", "video2") {
		t.Error("content does not change the digest")
	}
}
