package web

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"outpost/internal/engine"
	"outpost/internal/errcode"
	"outpost/internal/media/mediatest"
	"outpost/internal/outpost"
	"outpost/internal/store"
)

// TestServer_endToEnd drives a whole export over HTTP with a real worker:
// upload, export, live progress until done, signed download with a range.
func TestServer_endToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("renders with ffmpeg")
	}
	t.Parallel()
	e := newEnvWorkers(t, true)
	p := e.uploadProject("E2E", mediatest.Generate(t, mediatest.Spec{Duration: 1, Audio: true}))
	d := e.createExport(e.key, map[string]any{"project_id": p.ID, "targets": []any{
		map[string]any{"preset": "mp4-720p", "quality": "web"}}})

	evs := e.streamEvents(d.ID, 2*time.Minute, 1000)
	if len(evs) == 0 || evs[len(evs)-1].event != "done" {
		t.Fatalf("stream ended without done: %+v", evs)
	}
	var done struct{ Status string }
	if err := json.Unmarshal([]byte(evs[len(evs)-1].data), &done); err != nil || done.Status != "succeeded" {
		t.Fatalf("done %s", evs[len(evs)-1].data)
	}
	seen := map[string]bool{}
	for _, ev := range evs {
		seen[ev.event] = true
	}
	if !seen["progress"] || !seen["rendition"] {
		t.Errorf("events %+v", evs)
	}

	r := e.get("/api/v1/exports/" + d.ID)
	want(t, r, http.StatusOK)
	var got outpost.ExportDetail
	r.json(t, &got)
	rd := got.Renditions[0]
	if got.Status != store.ExportSucceeded || rd.Status != store.RenditionSucceeded || rd.DownloadURL == nil ||
		rd.Width != 1280 || rd.SizeBytes == 0 || got.FinishedAt == nil {
		t.Fatalf("export %s", r.body)
	}
	req, _ := http.NewRequestWithContext(t.Context(), "GET", *rd.DownloadURL, nil)
	req.Header.Set("Range", "bytes=4-7")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusPartialContent || string(b) != "ftyp" {
		t.Errorf("download range: %d %q", res.StatusCode, b)
	}
}

// TestServer_damagedSourceWarnings renders a source whose middle is random
// bytes, on both engines: the export succeeds, and the API shows the
// source_damaged warning, with its stretch of the video, on the export and
// on its rendition.
func TestServer_damagedSourceWarnings(t *testing.T) {
	if testing.Short() {
		t.Skip("renders with ffmpeg")
	}
	t.Parallel()
	const dur = 8.0
	src := mediatest.Generate(t, mediatest.Spec{Duration: dur, Audio: true, Bitrate: "1500k"})
	bad := mediatest.Damaged(t, src, 0.45, 0.6)
	forEachEngine(t, func(t *testing.T, eng store.Engine) {
		e := newEnvOn(t, eng, true, nil)
		p := e.uploadProject("Damaged", bad)
		d := e.createExport(e.key, map[string]any{"project_id": p.ID, "targets": []any{
			map[string]any{"preset": "mp4-720p", "quality": "web"}}})
		d = e.waitExport(d.ID, func(d outpost.ExportDetail) bool { return d.Status.Final() }, "finishes")
		if d.Status != outpost.ExportSucceeded || len(d.Renditions) != 1 || d.Renditions[0].Status != outpost.RenditionSucceeded {
			t.Fatalf("export %s, renditions %+v: want succeeded, with a warning", d.Status, d.Renditions)
		}
		for where, ws := range map[string][]engine.Warning{"export": d.Warnings, "rendition": d.Renditions[0].Warnings} {
			if len(ws) != 1 || ws[0].Code != errcode.SourceDamaged || len(ws[0].Ranges) == 0 || ws[0].Remedy == "" ||
				!strings.Contains(ws[0].Message, "decode error") {
				t.Fatalf("%s warnings %+v, want one source_damaged with ranges", where, ws)
			}
			for _, rg := range ws[0].Ranges {
				if rg.Start < 0 || rg.End > dur+1 || rg.Start >= rg.End {
					t.Errorf("%s: range %+v outside the %v s source", where, rg, dur)
				}
			}
		}
	})
}

// TestServer_refusedTargets: a 2-second source with instagram-reel (at
// least 3 s) and mp4-720p is accepted on both engines; the Reel is listed
// as refused (code and rule) in the answer and on the export, its rendition
// failed with that code, and the other target renders. When every target
// is refused, the whole request is refused with 422.
func TestServer_refusedTargets(t *testing.T) {
	if testing.Short() {
		t.Skip("renders with ffmpeg")
	}
	t.Parallel()
	clip := mediatest.Generate(t, mediatest.Spec{Duration: 2, Audio: true})
	forEachEngine(t, func(t *testing.T, eng store.Engine) {
		e := newEnvOn(t, eng, true, nil)
		p := e.uploadProject("Short", clip)

		r := e.post("/api/v1/exports", map[string]any{"project_id": p.ID, "targets": []any{
			map[string]any{"preset": "instagram-reel", "quality": "web"}, map[string]any{"preset": "facebook-reel", "quality": "web"}}})
		wantError(t, r, http.StatusUnprocessableEntity, string(errcode.PlatformRule))
		if !strings.Contains(string(r.body), "targets[0] (instagram-reel): min_duration") {
			t.Errorf("every target refused: %s", r.body)
		}

		d := e.createExport(e.key, map[string]any{"project_id": p.ID, "targets": []any{
			map[string]any{"preset": "instagram-reel", "quality": "web"}, map[string]any{"preset": "mp4-720p", "quality": "web"}}})
		wantRefused := []outpost.RefusedTarget{{TargetIndex: 0, Preset: "instagram-reel", Code: errcode.PlatformRule, Rule: "min_duration"}}
		checkRefused := func(where string, got []outpost.RefusedTarget) {
			t.Helper()
			if len(got) != 1 || got[0].TargetIndex != 0 || got[0].Preset != "instagram-reel" || got[0].Code != errcode.PlatformRule ||
				got[0].Rule != "min_duration" || got[0].Remedy == "" || !strings.Contains(got[0].Message, "needs at least") {
				t.Errorf("%s: refused %+v, want %+v", where, got, wantRefused)
			}
		}
		checkRefused("accepted", d.Refused)
		if len(d.Renditions) != 2 || d.Renditions[0].Status != outpost.RenditionFailed || d.Renditions[0].Error == nil ||
			d.Renditions[0].Error.Code != errcode.PlatformRule || d.Renditions[1].Status != outpost.RenditionPending {
			t.Fatalf("accepted renditions %+v", d.Renditions)
		}
		d = e.waitExport(d.ID, func(d outpost.ExportDetail) bool { return d.Status.Final() }, "finishes")
		checkRefused("finished", d.Refused)
		if d.Status != outpost.ExportPartiallyFailed || d.Renditions[0].Status != outpost.RenditionFailed ||
			d.Renditions[1].Status != outpost.RenditionSucceeded || d.Renditions[1].Width != 1280 {
			t.Fatalf("finished %s, renditions %+v: want the Reel refused and the MP4 made", d.Status, d.Renditions)
		}
	})
}
