package jobs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"outpost/internal/jobs"
	"outpost/internal/media/mediatest"
	"outpost/internal/outpost"
	"outpost/internal/store"
)

// TestService_export_sharedFile renders four 9:16 platforms with one
// encode on both engines and both blob stores: one file, four renditions
// holding it, each checked against its own preset and with its own
// thumbnail. Retention is reference-safe: the file stays while a saved or
// pinned rendition holds it, and goes with the last one.
func TestService_export_sharedFile(t *testing.T) {
	t.Parallel()
	needFFmpeg(t)
	forEachStore(t, func(t *testing.T, eng store.Engine, s3 bool) { testSharedFile(t, eng, s3) })
}

func testSharedFile(t *testing.T, eng store.Engine, s3 bool) {
	ctx := t.Context()
	e := newEnv(t, eng, envOptions{workers: 1, s3: s3})
	prj := e.project(t, mediatest.Spec{Width: 320, Height: 180, Duration: 3, FPS: 30, Audio: true})
	reels := []string{"instagram-reel", "tiktok", "facebook-reel", "youtube-shorts"}
	var targets []outpost.TargetRequest
	for _, p := range reels {
		targets = append(targets, outpost.TargetRequest{Preset: p, Quality: "web"})
	}
	x, err := e.createExport(ctx, e.ws.ID, outpost.ExportRequest{ProjectID: prj.ID, Targets: targets})
	if err != nil {
		t.Fatalf("CreateExport: %v", err)
	}
	// Four 1080×1920 files in one ffmpeg run, four subtests side by side:
	// on a loaded machine this takes longer than waitFinal's deadline.
	x = e.wait(t, x.ID, 5*time.Minute, "a final status", func(x store.Export) bool { return x.Status.Final() })
	if x.Status != store.ExportSucceeded {
		t.Fatalf("export %s: %s %s", x.Status, x.ErrorCode, x.ErrorMessage)
	}
	rends, err := e.store.ListRenditions(ctx, x.ID)
	if err != nil || len(rends) != 4 {
		t.Fatalf("renditions = %d, %v", len(rends), err)
	}
	// One progress for the one encode, and a rendition event per member.
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	ch, err := e.events.Subscribe(sctx, x.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	checkStream(t, collect(t, ch, 10*time.Second), "succeeded", 4)
	key := "renditions/" + x.ID + "/instagram-reel+tiktok+facebook-reel+youtube-shorts.mp4"
	var thumbs []string
	for _, r := range rends {
		var check struct{ OK bool }
		if r.Status != store.RenditionSucceeded || r.BlobKey != key || r.Width != 1080 || r.Height != 1920 ||
			json.Unmarshal(r.CheckReport, &check) != nil || !check.OK {
			t.Errorf("%s: status %s, key %s, %dx%d, check %s", r.PresetID, r.Status, r.BlobKey, r.Width, r.Height, r.CheckReport)
		}
		thumbs = append(thumbs, r.ThumbnailKey)
	}
	if distinct := slices.Compact(slices.Sorted(slices.Values(thumbs))); len(distinct) != 4 || distinct[0] == "" {
		t.Errorf("thumbnails %v, want one per rendition", thumbs)
	}
	attrs, err := e.blob.Attributes(ctx, key)
	if err != nil || attrs.Size != rends[0].SizeBytes {
		t.Fatalf("the one file: %+v, %v (rows say %d bytes)", attrs, err, rends[0].SizeBytes)
	}
	if !s3 {
		if mp4s := slices.DeleteFunc(e.files(t, "renditions/"+x.ID), func(k string) bool { return !strings.HasSuffix(k, ".mp4") }); len(mp4s) != 1 {
			t.Errorf("stored videos %v, want the one shared file", mp4s)
		}
	}

	exists := func() bool {
		t.Helper()
		ok, err := e.blob.Exists(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	// Past retention: the saved and the pinned rendition keep the file the
	// other two let go of.
	later := time.Now().Add(49 * time.Hour)
	if err := e.store.SaveRendition(ctx, rends[1].ID); err != nil {
		t.Fatal(err)
	}
	if err := e.store.SetRenditionPinned(ctx, rends[2].ID, true); err != nil {
		t.Fatal(err)
	}
	res, err := e.runner.Cleanup(ctx, later)
	if err != nil || res.RenditionsDeleted != 2 {
		t.Fatalf("Cleanup = %+v, %v; want 2 renditions deleted", res, err)
	}
	if !exists() {
		t.Fatal("the shared file was deleted while a saved and a pinned rendition hold it")
	}
	for i, want := range []bool{true, false, false, true} {
		r, err := e.store.GetRendition(ctx, rends[i].ID)
		if err != nil || (r.DeletedAt != nil) != want {
			t.Errorf("%s: deleted_at %v (%v), want deleted %v", r.PresetID, r.DeletedAt, err, want)
		}
		if thumb, err := e.blob.Exists(ctx, rends[i].ThumbnailKey); err != nil || thumb == want {
			t.Errorf("%s: thumbnail exists %v (%v), want %v", rends[i].PresetID, thumb, err, !want)
		}
	}
	// Unpinned, the third goes; the saved one still holds the file.
	if err := e.store.SetRenditionPinned(ctx, rends[2].ID, false); err != nil {
		t.Fatal(err)
	}
	if res, err := e.runner.Cleanup(ctx, later); err != nil || res.RenditionsDeleted != 1 || !exists() {
		t.Fatalf("Cleanup after unpinning = %+v, %v, file exists %v; want 1 deleted, the file kept", res, err, exists())
	}
	// Unsaved, the last holder goes and the file with it.
	if err := e.store.UnsaveRendition(ctx, rends[1].ID, time.Now().Add(jobs.DefaultRetention)); err != nil {
		t.Fatal(err)
	}
	if res, err := e.runner.Cleanup(ctx, later); err != nil || res.RenditionsDeleted != 1 || exists() {
		t.Fatalf("Cleanup after unsaving = %+v, %v, file exists %v; want 1 deleted and the file gone", res, err, exists())
	}
}

// TestService_discard_sharedFile: a canceled attempt removes a shared file
// only when no rendition outside it holds the file too.
func TestService_discard_sharedFile(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, eng store.Engine) {
		ctx := t.Context()
		e := newEnv(t, eng, envOptions{})
		x := e.bareExport(t, store.ExportCanceled)
		key := "renditions/" + x.ID + "/tiktok+facebook-reel+youtube-shorts.mp4"
		if _, err := e.blob.Put(ctx, key, strings.NewReader("video"), ""); err != nil {
			t.Fatal(err)
		}
		var rs []store.Rendition
		for i, p := range []string{"tiktok", "facebook-reel", "youtube-shorts"} {
			thumb := fmt.Sprintf("renditions/%s/%s.jpg", x.ID, p)
			if _, err := e.blob.Put(ctx, thumb, strings.NewReader("jpeg"), ""); err != nil {
				t.Fatal(err)
			}
			r, err := e.store.CreateRendition(ctx, store.Rendition{ExportID: x.ID, PresetID: p, TargetIndex: i,
				Status: store.RenditionSucceeded, BlobKey: key, ThumbnailKey: thumb})
			if err != nil {
				t.Fatal(err)
			}
			rs = append(rs, r)
		}
		// The attempt stored the first two; the third holds the file too.
		e.runner.DiscardStored(ctx, x.ID, rs[:2])
		for _, r := range rs[:2] {
			got, err := e.store.GetRendition(ctx, r.ID)
			if err != nil || got.Status != store.RenditionCanceled || got.BlobKey != "" {
				t.Errorf("%s after discard: %s %q, %v", r.PresetID, got.Status, got.BlobKey, err)
			}
			if ok, _ := e.blob.Exists(ctx, r.ThumbnailKey); ok {
				t.Errorf("%s: its thumbnail survived the discard", r.PresetID)
			}
		}
		if ok, err := e.blob.Exists(ctx, key); err != nil || !ok {
			t.Fatalf("shared file exists = %v, %v; a rendition outside the attempt still holds it", ok, err)
		}
		e.runner.DiscardStored(ctx, x.ID, rs[2:])
		if ok, err := e.blob.Exists(ctx, key); err != nil || ok {
			t.Errorf("shared file exists = %v, %v after its last holder was discarded", ok, err)
		}
	})
}
