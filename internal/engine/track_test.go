package engine

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"outpost/internal/media/mediatest"
	"outpost/internal/render"
)

// TestEngine_Export_softTrack: soft caption tracks (mov_text in MP4, WebVTT
// in WebM) carry the captions' language and their text as written, braces
// included: ffmpeg's WebVTT decoder used to turn "%{pts}" into "%\{pts\}".
func TestEngine_Export_softTrack(t *testing.T) {
	t.Parallel()
	src := mediatest.Generate(t, mediatest.Spec{Duration: 1, Audio: true})
	subs := filepath.Join(t.TempDir(), "subs.srt")
	const text = "Cost: 100% of %{pts} {curly} & <3"
	if err := os.WriteFile(subs, []byte("1\n00:00:00,100 --> 00:00:00,900\n"+text+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	targets := web(t, "", "mp4-720p", "webm-1080p")
	for i := range targets {
		targets[i].Captions = render.Captions{Track: true}
	}
	results, err := newEngine().Export(context.Background(), Request{Source: src, Targets: targets,
		OutDir: t.TempDir(), Captions: subs, CaptionsLanguage: "en"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if r.Error != nil {
			t.Fatalf("%s: %+v", r.Preset, r.Error)
		}
		lang, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "s", "-show_entries", "stream_tags=language",
			"-of", "csv=p=0", r.Path).Output()
		if err != nil || strings.TrimSpace(string(lang)) != "eng" {
			t.Errorf("%s: subtitle language %q (%v), want eng", r.Preset, lang, err)
		}
		// The track's packets as stored.
		data, err := exec.Command("ffmpeg", "-v", "error", "-i", r.Path, "-map", "0:s:0", "-c", "copy", "-f", "data", "-").Output()
		if err != nil || !bytes.Contains(data, []byte(text)) {
			t.Errorf("%s: track text %q (%v), want it to hold %q as written", r.Preset, data, err, text)
		}
	}
}
