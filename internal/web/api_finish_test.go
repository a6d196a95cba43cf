package web

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	_ "image/jpeg"
	"io"
	"log/slog"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"outpost/internal/caption"
	"outpost/internal/engine"
	"outpost/internal/jobs"
	"outpost/internal/media"
	"outpost/internal/media/mediatest"
	"outpost/internal/outpost"
	"outpost/internal/render"
	"outpost/internal/service"
	"outpost/internal/store"
)

const testSVG = `<?xml version="1.0"?>
<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><rect width="40" height="20" fill="#fff"/></svg>`

func (e *env) form(method, path string, fields, files map[string]string) resp {
	e.t.Helper()
	body, ct := multipartBody(e.t, fields, files)
	return e.do(request{method: method, path: path, key: e.key, body: body, header: map[string]string{"Content-Type": ct}})
}

func writeTemp(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func pngFile(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "logo.png")
	out, err := exec.CommandContext(t.Context(), "ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi",
		"-i", "color=c=white:s=32x16,format=rgba", "-frames:v", "1", p).CombinedOutput()
	if err != nil {
		t.Fatalf("make png: %v\n%s", err, out)
	}
	return p
}

func TestServer_brandKits(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	intro := e.readyProject(e.ws.ID, "Intro")
	r := e.form("POST", "/api/v1/brand-kits", map[string]string{"slug": "acme", "name": "Acme Corp", "client": "Acme",
		"position": "tr", "width": "0.2", "opacity": "0.8", "intro_project_id": intro.ID},
		map[string]string{"watermark": writeTemp(t, "logo.svg", testSVG)})
	want(t, r, http.StatusCreated)
	var k outpost.BrandKit
	r.json(t, &k)
	if !store.HasPrefix(k.ID, store.PrefixBrandKit) || k.Slug != "acme" || k.Watermark == nil || k.Watermark.Format != "svg" ||
		k.Watermark.Position != "tr" || k.Watermark.Width != 0.2 || k.Watermark.URL == "" || k.IntroProjectID != intro.ID {
		t.Fatalf("created %s", r.body)
	}
	wantError(t, e.post("/api/v1/brand-kits", map[string]any{"slug": "acme"}), http.StatusConflict, "conflict")
	wantError(t, e.post("/api/v1/brand-kits", map[string]any{"slug": "Bad Slug"}), http.StatusBadRequest, "invalid_option")
	wantError(t, e.post("/api/v1/brand-kits", map[string]any{"slug": "x", "position": "middle"}), http.StatusBadRequest, "invalid_option")
	wantError(t, e.post("/api/v1/brand-kits", map[string]any{"slug": "x", "intro_project_id": "prj_nope"}), http.StatusNotFound, "not_found")
	wantError(t, e.form("POST", "/api/v1/brand-kits", map[string]string{"slug": "bad-image"},
		map[string]string{"watermark": writeTemp(t, "logo.png", "not an image")}), http.StatusUnprocessableEntity, "watermark_invalid")
	want(t, e.post("/api/v1/brand-kits", map[string]any{"slug": "beta", "name": "Beta"}), http.StatusCreated)

	// By slug or id; PATCH; a new PNG image.
	want(t, e.get("/api/v1/brand-kits/acme"), http.StatusOK)
	want(t, e.get("/api/v1/brand-kits/"+k.ID), http.StatusOK)
	r = e.do(request{method: "PATCH", path: "/api/v1/brand-kits/acme", key: e.key, json: map[string]any{"opacity": 0.5, "name": "Acme"}})
	want(t, r, http.StatusOK)
	r.json(t, &k)
	if k.Name != "Acme" || k.Watermark.Opacity != 0.5 || k.Watermark.Width != 0.2 {
		t.Errorf("patched %s", r.body)
	}
	r = e.form("PUT", "/api/v1/brand-kits/acme/watermark", nil, map[string]string{"watermark": pngFile(t)})
	want(t, r, http.StatusOK)
	r.json(t, &k)
	if k.Watermark.Format != "png" || k.Watermark.Position != "tr" {
		t.Errorf("new image %s", r.body)
	}
	var list page[outpost.BrandKit]
	r = e.get("/api/v1/brand-kits")
	want(t, r, http.StatusOK)
	r.json(t, &list)
	if len(list.Data) != 2 || list.Data[0].Slug != "acme" {
		t.Errorf("list %s", r.body)
	}
	wantError(t, e.do(request{method: "GET", path: "/api/v1/brand-kits/acme", key: e.okey}), http.StatusNotFound, "not_found")

	// Exports take the kit by slug, on the export or a user preset.
	p := e.readyProject(e.ws.ID, "Master")
	d := e.createExport(e.key, map[string]any{"project_id": p.ID, "brand_kit": "acme", "targets": []any{map[string]any{"preset": "mp4-720p"}}})
	if d.Status != store.ExportQueued {
		t.Errorf("export %+v", d)
	}
	r = e.post("/api/v1/presets", map[string]any{"name": "Acme 720p", "base_preset_id": "mp4-720p", "settings": map[string]any{"brand_kit": "acme"}})
	want(t, r, http.StatusCreated)
	var up outpost.Preset
	r.json(t, &up)
	e.createExport(e.key, map[string]any{"project_id": p.ID, "targets": []any{map[string]any{"preset": up.ID}}})
	wantError(t, e.post("/api/v1/exports", map[string]any{"project_id": p.ID, "brand_kit": "nope",
		"targets": []any{map[string]any{"preset": "mp4-720p"}}}), http.StatusNotFound, "not_found")

	r = e.do(request{method: "DELETE", path: "/api/v1/brand-kits/beta", key: e.key})
	want(t, r, http.StatusNoContent)
	wantError(t, e.get("/api/v1/brand-kits/beta"), http.StatusNotFound, "not_found")
}

// TestServer_variantsAndBatch: variants make grouped exports; a batch
// answers per item.
func TestServer_variantsAndBatch(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := e.readyProject(e.ws.ID, "Master")
	intro := e.readyProject(e.ws.ID, "Intro")
	want(t, e.post("/api/v1/brand-kits", map[string]any{"slug": "acme", "intro_project_id": intro.ID}), http.StatusCreated)
	r := e.post("/api/v1/exports", map[string]any{"project_id": p.ID, "targets": []any{map[string]any{"preset": "mp4-720p"}},
		"variants": []any{map[string]any{"name": "A"}, map[string]any{"name": "B", "brand_kit": "acme"}}})
	want(t, r, http.StatusAccepted)
	var g outpost.ExportGroup
	r.json(t, &g)
	if !store.HasPrefix(g.GroupID, store.PrefixGroup) || len(g.Exports) != 2 || g.Exports[1].GroupID != g.GroupID {
		t.Fatalf("group %s", r.body)
	}
	var pg page[outpost.Export]
	r = e.get("/api/v1/exports?group_id=" + g.GroupID)
	want(t, r, http.StatusOK)
	r.json(t, &pg)
	if len(pg.Data) != 2 {
		t.Errorf("group lists %d exports", len(pg.Data))
	}
	// Variants may swap the captions, or drop them.
	fr := "WEBVTT\n\n00:00.000 --> 00:01.000\nBonjour\n"
	r = e.post("/api/v1/exports", map[string]any{"project_id": p.ID, "targets": []any{map[string]any{"preset": "mp4-720p"}},
		"captions": map[string]any{"text": testSRT, "language": "en", "mode": "burn"},
		"variants": []any{map[string]any{"name": "en"}, map[string]any{"name": "fr", "captions": map[string]any{"text": fr, "language": "fr"}},
			map[string]any{"name": "plain", "captions": map[string]any{"mode": "none"}}}})
	want(t, r, http.StatusAccepted)
	r.json(t, &g)
	for i, wantLang := range []string{"en", "fr", ""} {
		ex, err := e.store.GetExport(t.Context(), g.Exports[i].ID)
		if err != nil {
			t.Fatal(err)
		}
		var st struct {
			Captions *struct{ Language, Format string }
			Targets  []struct {
				CaptionsMode string `json:"captions_mode"`
			}
		}
		if err := json.Unmarshal(ex.Request, &st); err != nil {
			t.Fatal(err)
		}
		if lang := ""; st.Captions != nil {
			lang = st.Captions.Language
			if lang != wantLang || (lang == "fr") != (st.Captions.Format == "vtt") || st.Targets[0].CaptionsMode != "burn" {
				t.Errorf("variant %d request %s", i, ex.Request)
			}
		} else if wantLang != "" || st.Targets[0].CaptionsMode != "" {
			t.Errorf("variant %d request %s", i, ex.Request)
		}
	}
	// A bad variant creates nothing.
	wantError(t, e.post("/api/v1/exports", map[string]any{"project_id": p.ID, "targets": []any{map[string]any{"preset": "mp4-720p"}},
		"variants": []any{map[string]any{"name": "A"}, map[string]any{"name": "B", "captions": map[string]any{"text": "garbage"}}}}),
		http.StatusUnprocessableEntity, "caption_invalid")
	wantError(t, e.post("/api/v1/exports", map[string]any{"project_id": p.ID, "targets": []any{map[string]any{"preset": "mp4-720p"}},
		"variants": []any{map[string]any{"name": "A"}, map[string]any{"name": "B", "brand_kit": "nope"}}}), http.StatusNotFound, "not_found")
	wantError(t, e.post("/api/v1/exports", map[string]any{"project_id": p.ID, "targets": []any{map[string]any{"preset": "mp4-720p"}},
		"variants": []any{map[string]any{"name": "A"}, map[string]any{"name": "A"}}}), http.StatusBadRequest, "invalid_option")

	r = e.post("/api/v1/exports/batch", map[string]any{"exports": []any{
		map[string]any{"project_id": p.ID, "targets": []any{map[string]any{"preset": "mp4-720p"}}},
		map[string]any{"project_id": p.ID, "targets": []any{map[string]any{"preset": "myspace"}}},
		map[string]any{"project_id": "prj_nope", "targets": []any{map[string]any{"preset": "tiktok"}}},
		map[string]any{"project_id": p.ID, "targets": []any{map[string]any{"preset": "tiktok"}}, "variants": []any{map[string]any{"name": "x"}}},
	}})
	want(t, r, http.StatusMultiStatus)
	var b batchResultJSON
	r.json(t, &b)
	if len(b.Results) != 4 || b.Results[0].Status != 202 || b.Results[0].Export == nil ||
		b.Results[1].Status != 400 || b.Results[1].Error.Code != "unknown_preset" ||
		b.Results[2].Status != 404 || b.Results[3].Group == nil {
		t.Errorf("batch %s", r.body)
	}
}

// TestServer_estimatePreviewTimeline: size estimates, a playable preview
// and a timeline project, with real ffmpeg.
func TestServer_estimatePreviewTimeline(t *testing.T) {
	t.Parallel()
	e := newEnvJobs(t, false, func(e *env, o *jobs.Options) {
		o.WorkDir = t.TempDir()
		o.Engine = &engine.Engine{Prober: &media.Prober{}, Runner: &media.Runner{Logger: slog.New(slog.DiscardHandler)}, Logger: slog.New(slog.DiscardHandler)}
	})
	clip := mediatest.Generate(t, mediatest.Spec{Duration: 2, Audio: true})
	r := e.upload(e.key, map[string]string{"name": "Clip"}, clip)
	want(t, r, http.StatusCreated)
	var p outpost.Project
	r.json(t, &p)

	r = e.post("/api/v1/estimate", map[string]any{"project_id": p.ID, "targets": []any{
		map[string]any{"preset": "mp4-720p", "quality": "web"}, map[string]any{"preset": "gif-480p"}}})
	want(t, r, http.StatusOK)
	var est estimateJSON
	r.json(t, &est)
	if len(est.Estimates) != 2 || est.Estimates[0].Bytes <= 0 || est.Estimates[1].Preset != "gif-480p" {
		t.Errorf("estimate %s", r.body)
	}

	start := time.Now()
	r = e.post("/api/v1/previews", map[string]any{"project_id": p.ID, "targets": []any{map[string]any{"preset": "tiktok"}}, "seconds": 1})
	want(t, r, http.StatusCreated)
	t.Logf("preview of 1 s in %s", time.Since(start))
	var pv outpost.Preview
	r.json(t, &pv)
	if pv.URL == "" || pv.Width > 640 || pv.Height > 640 || math.Abs(pv.Duration-1) > 0.2 {
		t.Fatalf("preview %s", r.body)
	}
	res, err := e.ts.Client().Get(pv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("preview link: %s", res.Status)
	}
	f := filepath.Join(t.TempDir(), "preview.mp4")
	data, _ := io.ReadAll(res.Body)
	if err := os.WriteFile(f, data, 0o644); err != nil {
		t.Fatal(err)
	}
	info, err := (&media.Prober{}).Probe(context.Background(), f)
	if err != nil || info.Video == nil || info.Video.Codec != "h264" || !info.FastStart {
		t.Errorf("preview file %+v, %v", info, err)
	}
	wantError(t, e.post("/api/v1/previews", map[string]any{"project_id": p.ID, "targets": []any{
		map[string]any{"preset": "tiktok"}, map[string]any{"preset": "mp4-720p"}}}), http.StatusBadRequest, "invalid_option")
	// With captions: burned into the preview.
	r = e.post("/api/v1/previews", map[string]any{"project_id": p.ID, "targets": []any{map[string]any{"preset": "mp4-720p"}},
		"seconds": 1, "captions": map[string]any{"text": testSRT}})
	want(t, r, http.StatusCreated)

	r = e.post("/api/v1/projects", map[string]any{"name": "Cut", "timeline": map[string]any{
		"clips": []any{map[string]any{"project_id": p.ID, "in": 0.5}, map[string]any{"project_id": p.ID, "out": 1}}}})
	want(t, r, http.StatusCreated)
	var tp outpost.Project
	r.json(t, &tp)
	if tp.Kind != store.ProjectTimeline || math.Abs(tp.DurationSeconds-2.5) > 0.01 {
		t.Errorf("timeline project %s", r.body)
	}
	wantError(t, e.post("/api/v1/projects", map[string]any{"timeline": map[string]any{
		"clips": []any{map[string]any{"project_id": p.ID, "in": 9}}}}), http.StatusUnprocessableEntity, "timeline_invalid")
	r = e.post("/api/v1/estimate", map[string]any{"project_id": tp.ID, "targets": []any{map[string]any{"preset": "mp4-720p", "quality": "web"}}})
	want(t, r, http.StatusOK)
	e.createExport(e.key, map[string]any{"project_id": tp.ID, "targets": []any{map[string]any{"preset": "mp4-720p"}}})
}

// TestServer_putThumbnail: an uploaded image becomes the rendition's
// thumbnail at the platform's size.
func TestServer_putThumbnail(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := e.readyProject(e.ws.ID, "Master")
	d := e.createExport(e.key, map[string]any{"project_id": p.ID, "targets": []any{map[string]any{"preset": "youtube-1080p"}}})
	path := "/api/v1/renditions/" + d.Renditions[0].ID + "/thumbnail"
	img := pngFile(t)
	wantError(t, e.form("PUT", path, nil, map[string]string{"thumbnail": img}), http.StatusConflict, "conflict")

	rd, err := e.store.GetRendition(t.Context(), d.Renditions[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	rd.Status, rd.BlobKey, rd.Width, rd.Height = store.RenditionSucceeded, "renditions/"+d.ID+"/youtube-1080p.mp4", 1920, 1080
	if _, err := e.blob.Put(t.Context(), rd.BlobKey, bytes.NewReader([]byte("video")), "video/mp4"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.UpdateRendition(t.Context(), rd); err != nil {
		t.Fatal(err)
	}
	r := e.form("PUT", path, nil, map[string]string{"thumbnail": img})
	want(t, r, http.StatusOK)
	var v outpost.Rendition
	r.json(t, &v)
	if v.ThumbnailURL == nil {
		t.Fatalf("no thumbnail_url: %s", r.body)
	}
	rc, err := e.blob.Open(t.Context(), "renditions/"+d.ID+"/"+rd.ID+".thumbnail.jpg")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	cfg, format, err := image.DecodeConfig(rc)
	if err != nil || format != "jpeg" || cfg.Width != 1280 || cfg.Height != 720 {
		t.Errorf("thumbnail %s %dx%d, %v; want a 1280x720 JPEG", format, cfg.Width, cfg.Height, err)
	}
	wantError(t, e.form("PUT", path, nil, map[string]string{"thumbnail": writeTemp(t, "x.png", "nope")}), http.StatusBadRequest, "invalid_option")
}

const testSRT = "1\n00:00:00,000 --> 00:00:01,500\nHello from Outpost\n\n2\n00:00:01,500 --> 00:00:02,000\nBye\n"

// TestServer_exportFinishing: captions (burned, soft track, sidecar),
// loudness and the thumbnail time through the API and the render worker.
func TestServer_exportFinishing(t *testing.T) {
	if testing.Short() {
		t.Skip("renders with ffmpeg")
	}
	t.Parallel()
	e := newEnvWorkers(t, true)
	clip := mediatest.Generate(t, mediatest.Spec{Duration: 2, Width: 320, Height: 240, Audio: true})
	r := e.upload(e.key, map[string]string{"name": "Finish"}, clip)
	want(t, r, http.StatusCreated)
	var p outpost.Project
	r.json(t, &p)

	// Refused before any work.
	bad := "1\n00:00:00,000 --> 00:00:01,000\nok\n\n2\n00:00:03 --> 00:00:04,000\nno millis\n"
	r = e.post("/api/v1/exports", map[string]any{"project_id": p.ID, "captions": map[string]any{"text": bad},
		"targets": []any{map[string]any{"preset": "mp4-720p"}}})
	wantError(t, r, http.StatusUnprocessableEntity, "caption_invalid")
	if !strings.Contains(string(r.body), "line 6") {
		t.Errorf("malformed captions: %s; want the line number", r.body)
	}
	for name, body := range map[string]map[string]any{
		"loudness":      {"loudness": -3},
		"loudness word": {"loudness": "loud"},
		"mode":          {"captions": map[string]any{"text": testSRT, "mode": "subtitle"}},
		"mode alone":    {"targets": []any{map[string]any{"preset": "mp4-720p", "captions_mode": "burn"}}},
		"thumbnail_at":  {"thumbnail_at": 5},
		"language":      {"captions": map[string]any{"text": testSRT, "language": "english-please"}},
		"segments":      {"segments": outpost.MaxSegments + 1},
		"segments < 0":  {"segments": -1},
	} {
		body["project_id"] = p.ID
		if body["targets"] == nil {
			body["targets"] = []any{map[string]any{"preset": "mp4-720p"}}
		}
		if r := e.post("/api/v1/exports", body); r.status != http.StatusBadRequest {
			t.Errorf("%s: %d %s; want 400", name, r.status, r.body)
		}
	}

	d := e.createExport(e.key, map[string]any{
		"project_id": p.ID, "loudness": -14, "thumbnail_at": 1,
		"captions": map[string]any{"text": testSRT, "language": "en", "mode": "burn"},
		"targets": []any{
			map[string]any{"preset": "mp4-720p", "quality": "web"},
			map[string]any{"preset": "mp4-720p", "quality": "web", "captions_mode": "soft", "loudness": "off"},
			map[string]any{"preset": "mp4-720p", "quality": "web", "captions_mode": "sidecar"},
		},
	})
	ex, err := e.store.GetExport(t.Context(), d.ID)
	if err != nil {
		t.Fatal(err)
	}
	var stored struct {
		Captions struct {
			Text, Format, Language string
		}
		ThumbnailAt *float64 `json:"thumbnail_at"`
		Targets     []struct {
			CaptionsMode string `json:"captions_mode"`
			Loudness     string
		}
	}
	if err := json.Unmarshal(ex.Request, &stored); err != nil {
		t.Fatal(err)
	}
	if stored.Captions.Text != testSRT || stored.Captions.Format != "srt" || stored.Captions.Language != "en" ||
		stored.ThumbnailAt == nil || *stored.ThumbnailAt != 1 || len(stored.Targets) != 3 ||
		stored.Targets[0].CaptionsMode != "burn" || stored.Targets[0].Loudness != "-14" ||
		stored.Targets[1].CaptionsMode != "soft" || stored.Targets[1].Loudness != "off" || stored.Targets[2].CaptionsMode != "sidecar" {
		t.Errorf("stored request %s", ex.Request)
	}

	evs := e.streamEvents(d.ID, 3*time.Minute, 1000)
	audio := false
	for _, ev := range evs {
		audio = audio || ev.event == "progress" && strings.Contains(ev.data, `"stage":"audio"`)
	}
	if !audio {
		t.Errorf("no audio stage in the progress events: %+v", evs)
	}

	r = e.get("/api/v1/exports/" + d.ID)
	want(t, r, http.StatusOK)
	var got outpost.ExportDetail
	r.json(t, &got)
	if got.Status != store.ExportSucceeded || len(got.Renditions) != 3 {
		t.Fatalf("export %s", r.body)
	}
	rends, err := e.store.ListRenditions(t.Context(), d.ID)
	if err != nil {
		t.Fatal(err)
	}
	for i, rd := range rends {
		v := got.Renditions[i]
		if rd.ThumbnailKey == "" || v.ThumbnailURL == nil {
			t.Errorf("rendition %d: no thumbnail (%q)", i, rd.ThumbnailKey)
			continue
		}
		thumb := e.blobBytes(rd.ThumbnailKey)
		tw, th := render.ThumbnailSize(rd.Width, rd.Height)
		if cfg, format, err := image.DecodeConfig(bytes.NewReader(thumb)); err != nil || format != "jpeg" || cfg.Width != tw || cfg.Height != th {
			t.Errorf("rendition %d thumbnail %s %dx%d, %v; want a %dx%d JPEG", i, format, cfg.Width, cfg.Height, err, tw, th)
		}
		wantSidecar := i == 2
		if (rd.CaptionsKey != "") != wantSidecar || (v.CaptionsURL != nil) != wantSidecar {
			t.Errorf("rendition %d captions key %q url %v; want one: %v", i, rd.CaptionsKey, v.CaptionsURL, wantSidecar)
		}
		if rd.CaptionsKey != "" {
			cues, err := caption.Parse(e.blobBytes(rd.CaptionsKey))
			if err != nil || len(cues) != 2 || cues[0].Text != "Hello from Outpost" {
				t.Errorf("sidecar %s: %+v, %v", rd.CaptionsKey, cues, err)
			}
		}
		f := filepath.Join(t.TempDir(), "out.mp4")
		if err := os.WriteFile(f, e.blobBytes(rd.BlobKey), 0o644); err != nil {
			t.Fatal(err)
		}
		// The soft track carries the captions' language ("en" → ISO 639-2 "eng").
		out, err := exec.CommandContext(t.Context(), "ffprobe", "-v", "error", "-select_streams", "s",
			"-show_entries", "stream=codec_name:stream_tags=language", "-of", "csv=p=0", f).Output()
		if track := strings.TrimSpace(string(out)); err != nil || (track == "mov_text,eng") != (i == 1) || (i != 1 && track != "") {
			t.Errorf("rendition %d subtitle streams %q, %v; want mov_text,eng only with soft", i, track, err)
		}
		if i == 0 {
			l, err := (&media.Runner{}).MeasureLoudness(t.Context(), f, rd.Duration, nil)
			if err != nil || math.Abs(l.Integrated-(-14)) > 1 {
				t.Errorf("loudness %+v, %v; want -14 ±1 LUFS", l, err)
			}
		}
	}
}

// blobBytes reads a stored file.
func (e *env) blobBytes(key string) []byte {
	e.t.Helper()
	rc, err := e.blob.Open(e.t.Context(), key)
	if err != nil {
		e.t.Fatalf("open %s: %v", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

// TestServer_estimateTimeout: an estimate that passes the server's own
// limit answers 503 timed_out, not "canceled".
func TestServer_estimateTimeout(t *testing.T) {
	t.Parallel()
	e := newEnvJobs(t, false, func(e *env, o *jobs.Options) {
		o.WorkDir = t.TempDir()
		o.Engine = &engine.Engine{Prober: &media.Prober{}, Runner: &media.Runner{Logger: slog.New(slog.DiscardHandler)}, Logger: slog.New(slog.DiscardHandler)}
	}, func(_ *env, _ *Deps, so *service.Options) { so.EstimateTimeout = time.Millisecond })
	clip := mediatest.Generate(t, mediatest.Spec{Duration: 2, Audio: true})
	r := e.upload(e.key, map[string]string{"name": "Clip"}, clip)
	want(t, r, http.StatusCreated)
	var p outpost.Project
	r.json(t, &p)
	r = e.post("/api/v1/estimate", map[string]any{"project_id": p.ID, "targets": []any{map[string]any{"preset": "mp4-720p"}}})
	wantError(t, r, http.StatusServiceUnavailable, "timed_out")
}
