package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"outpost/internal/media/mediatest"
)

func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func logoPNG(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "logo.png")
	out, err := exec.CommandContext(t.Context(), "ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi",
		"-i", "color=c=white:s=64x32,format=rgba,pad=80:48:8:8:color=black@0", "-frames:v", "1", p).CombinedOutput()
	if err != nil {
		t.Fatalf("make logo: %v\n%s", err, out)
	}
	return p
}

const srt = "1\n00:00:00,000 --> 00:00:00,900\nHello\n"

// TestExport_finishing runs the example command end to end.
func TestExport_finishing(t *testing.T) {
	t.Parallel()
	src := mediatest.Generate(t, mediatest.Spec{Duration: 1, FPS: 30, Audio: true})
	subs := writeFile(t, "subs.srt", srt)
	out := t.TempDir()
	code, stdout, stderr := run(t, "export", src, "--preset", "mp4-720p", "--quality", "web", "--out", out, "--json",
		"--captions", subs, "--burn-captions", "--loudness", "-14", "--thumbnail-at", "0.5",
		"--watermark", logoPNG(t), "--watermark-position", "tl", "--watermark-opacity", "0.8")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var sum exportSummary
	if err := json.Unmarshal([]byte(stdout), &sum); err != nil {
		t.Fatal(err)
	}
	o := sum.Outputs[0]
	if !sum.OK || o.Thumbnail != filepath.Join(out, "mp4-720p.jpg") || !strings.HasPrefix(o.Loudness, "gain") || o.Passthrough {
		t.Fatalf("output %+v", o)
	}
	if _, err := os.Stat(o.Thumbnail); err != nil {
		t.Error(err)
	}
	if !strings.Contains(stderr, "audio 100.0% done") {
		t.Errorf("no audio stage in the progress:\n%s", stderr)
	}
	entries, _ := os.ReadDir(out)
	if len(entries) != 2 {
		t.Errorf("output folder holds %d entries, want the video and its thumbnail", len(entries))
	}
}

func TestExport_finishingPlanAndEstimate(t *testing.T) {
	t.Parallel()
	src := mediatest.Generate(t, mediatest.Spec{Duration: 2, FPS: 30, Audio: true})
	subs := writeFile(t, "subs.srt", srt)
	logo := logoPNG(t)
	code, stdout, stderr := run(t, "export", src, "--preset", "youtube-1080p,tiktok,webm-1080p", "--out", t.TempDir(), "--plan",
		"--captions", subs, "--watermark", logo, "--loudness", "platform")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var plan planSummary
	if err := json.Unmarshal([]byte(stdout), &plan); err != nil {
		t.Fatal(err)
	}
	argv := strings.Join(plan.Argv, " ")
	for _, want := range []string{"-i " + logo, "captions.srt", "overlay=", "-c:s mov_text", "-c:s webvtt", "volume=", "thumb-%03d.jpg"} {
		if !strings.Contains(argv, want) {
			t.Errorf("plan argv lacks %q:\n%s", want, argv)
		}
	}
	if strings.Contains(argv, "subtitles=") {
		t.Error("captions are burned in without --burn-captions")
	}

	code, stdout, stderr = run(t, "export", src, "--preset", "mp4-720p,gif-480p", "--quality", "web", "--estimate", "--json")
	if code != ExitOK {
		t.Fatalf("estimate exit %d\n%s", code, stderr)
	}
	var est struct {
		Estimates []struct {
			Preset string
			Bytes  int64
			Method string
		}
	}
	if err := json.Unmarshal([]byte(stdout), &est); err != nil || len(est.Estimates) != 2 {
		t.Fatalf("estimate: %v\n%s", err, stdout)
	}
	for _, e := range est.Estimates {
		if e.Bytes < 10_000 || e.Method != "sample" {
			t.Errorf("estimate %+v", e)
		}
	}
}

func TestExport_finishingErrors(t *testing.T) {
	t.Parallel()
	src := mediatest.Generate(t, mediatest.Spec{Duration: 1, FPS: 30, Audio: true})
	bad := writeFile(t, "bad.vtt", "WEBVTT\n\n00:00.000 --> 00:01\nx\n")
	for _, tc := range []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"burn without captions", []string{"--burn-captions"}, ExitUsage, "--burn-captions needs --captions"},
		{"bad loudness", []string{"--loudness", "loud"}, ExitUsage, "--loudness"},
		{"loudness out of range", []string{"--loudness", "3"}, ExitUsage, "--loudness"},
		{"bad thumbnail time", []string{"--thumbnail-at", "soon"}, ExitUsage, "--thumbnail-at"},
		{"thumbnail after the end", []string{"--thumbnail-at", "5"}, ExitUsage, "outside the source"},
		{"bad position", []string{"--watermark", "x.png", "--watermark-position", "middle"}, ExitUsage, "--watermark-position"},
		{"missing watermark", []string{"--watermark", "/nope/logo.png"}, ExitFailed, "watermark_invalid"},
		{"malformed captions", []string{"--captions", bad}, ExitFailed, "caption_invalid: bad.vtt: VTT line 3: bad end time"},
	} {
		args := append([]string{"export", src, "--preset", "mp4-720p", "--out", t.TempDir()}, tc.args...)
		code, _, stderr := run(t, args...)
		if code != tc.code || !strings.Contains(stderr, tc.msg) {
			t.Errorf("%s: exit %d, stderr %q; want exit %d with %q", tc.name, code, stderr, tc.code, tc.msg)
		}
	}
}

// TestExport_preview renders small browser-playable previews of the start
// (10 s of 20) and of the whole source, keeping each target's framing.
func TestExport_preview(t *testing.T) {
	t.Parallel()
	src := mediatest.Generate(t, mediatest.Spec{Width: 640, Height: 360, Duration: 20, FPS: 25, Audio: true})
	subs := writeFile(t, "subs.srt", srt)
	for _, tc := range []struct {
		secs string
		dur  float64
	}{{"10", 10}, {"0", 20}} {
		out := t.TempDir()
		code, stdout, stderr := run(t, "export", src, "--preset", "tiktok,webm-1080p", "--out", out, "--json",
			"--preview", "--preview-seconds", tc.secs, "--captions", subs)
		if code != ExitOK {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		var sum exportSummary
		if err := json.Unmarshal([]byte(stdout), &sum); err != nil {
			t.Fatal(err)
		}
		t.Logf("preview of %s s: %.2f s wall", tc.secs, sum.Stats.WallSeconds)
		want := map[string][2]int{"tiktok": {360, 640}, "webm-1080p": {640, 360}}
		for _, o := range sum.Outputs {
			if o.Error != nil || o.Path != filepath.Join(out, o.Preset+".preview.mp4") || o.VideoCodec != "h264" || o.AudioCodec != "aac" {
				t.Fatalf("output %+v", o)
			}
			if wh := want[o.Preset]; o.Width != wh[0] || o.Height != wh[1] || o.Duration < tc.dur-0.1 || o.Duration > tc.dur+0.1 {
				t.Errorf("%s: %dx%d %.2f s, want %v %g s", o.Preset, o.Width, o.Height, o.Duration, wh, tc.dur)
			}
		}
		if entries, _ := os.ReadDir(out); len(entries) != 2 {
			t.Errorf("preview wrote %d files, want the 2 previews only", len(entries))
		}
	}
}
