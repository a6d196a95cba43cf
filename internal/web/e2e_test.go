package web

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

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
	clip := mediatest.Generate(t, mediatest.Spec{Duration: 1, Audio: true})
	r := e.upload(e.key, map[string]string{"name": "E2E"}, clip)
	want(t, r, http.StatusCreated)
	var p outpost.Project
	r.json(t, &p)
	d := e.createExport(e.key, map[string]any{"project_id": p.ID, "targets": []any{
		map[string]any{"preset": "mp4-720p", "quality": "web"}}})

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.ts.URL+"/api/v1/exports/"+d.ID+"/events", nil)
	req.Header.Set("Authorization", "Bearer "+e.key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	evs, _ := readSSE(t, res.Body, 1000)
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

	r = e.get("/api/v1/exports/" + d.ID)
	want(t, r, http.StatusOK)
	var got outpost.ExportDetail
	r.json(t, &got)
	rd := got.Renditions[0]
	if got.Status != store.ExportSucceeded || rd.Status != store.RenditionSucceeded || rd.DownloadURL == nil ||
		rd.Width != 1280 || rd.SizeBytes == 0 || got.FinishedAt == nil {
		t.Fatalf("export %s", r.body)
	}
	req, _ = http.NewRequestWithContext(ctx, "GET", *rd.DownloadURL, nil)
	req.Header.Set("Range", "bytes=4-7")
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusPartialContent || string(b) != "ftyp" {
		t.Errorf("download range: %d %q", res.StatusCode, b)
	}
}
