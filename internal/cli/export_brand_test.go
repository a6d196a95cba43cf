package cli

import (
	"encoding/json"
	"image"
	_ "image/jpeg"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"outpost/internal/media/mediatest"
)

// TestExport_brandKit: --brand-kit DIR adds the kit's SVG watermark and
// its intro and outro, in one render.
func TestExport_brandKit(t *testing.T) {
	t.Parallel()
	src := mediatest.Generate(t, mediatest.Spec{Duration: 1, FPS: 25, Audio: true})
	kit := t.TempDir()
	intro := mediatest.Generate(t, mediatest.Spec{Duration: 0.5, FPS: 25, VideoSource: "color=c=red"})
	if err := os.Rename(intro, filepath.Join(kit, "intro.mp4")); err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{
		"logo.svg": `<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><rect width="40" height="20" fill="#fff"/></svg>`,
		"kit.json": `{"name":"Acme","watermark":"logo.svg","position":"tl","opacity":0.9,"intro":"intro.mp4"}`,
	} {
		if err := os.WriteFile(filepath.Join(kit, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := t.TempDir()
	code, stdout, stderr := run(t, "export", src, "--preset", "mp4-720p", "--quality", "web", "--out", out, "--json",
		"--thumbnails=false", "--brand-kit", kit)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var sum exportSummary
	if err := json.Unmarshal([]byte(stdout), &sum); err != nil {
		t.Fatal(err)
	}
	if o := sum.Outputs[0]; !sum.OK || o.Passthrough || math.Abs(o.Duration-1.5) > 0.1 {
		t.Fatalf("output %+v, want 1.5 s (intro + source), encoded", o)
	}

	// --plan shows the kit's inputs: the intro, the source, the SVG.
	code, stdout, stderr = run(t, "export", src, "--preset", "mp4-720p", "--plan", "--brand-kit", kit)
	if code != ExitOK {
		t.Fatalf("--plan: exit %d\n%s", code, stderr)
	}
	var plan planSummary
	if err := json.Unmarshal([]byte(stdout), &plan); err != nil {
		t.Fatal(err)
	}
	if plan.Outputs[0].Watermark != filepath.Join(kit, "logo.svg") {
		t.Errorf("watermark %q", plan.Outputs[0].Watermark)
	}

	code, _, stderr = run(t, "export", src, "--preset", "mp4-720p", "--brand-kit", filepath.Join(kit, "missing"))
	if code == ExitOK || !contains(stderr, "brand_kit_invalid") {
		t.Errorf("missing kit: exit %d\n%s", code, stderr)
	}
}

// TestExport_timeline: --timeline FILE and several INPUTs join clips.
func TestExport_timeline(t *testing.T) {
	t.Parallel()
	a := mediatest.Generate(t, mediatest.Spec{Duration: 1, FPS: 25, Audio: true})
	b := mediatest.Generate(t, mediatest.Spec{Duration: 1, FPS: 25})
	tl := writeFile(t, "timeline.json", `{"clips":[{"source":"`+a+`","in":0.5},{"source":"`+b+`"}]}`)
	for name, args := range map[string][]string{
		"file":   {"--timeline", tl},
		"inputs": {a, b},
	} {
		out := t.TempDir()
		code, stdout, stderr := run(t, append([]string{"export", "--preset", "mp4-720p", "--quality", "web", "--out", out, "--json", "--thumbnails=false"}, args...)...)
		if code != ExitOK {
			t.Fatalf("%s: exit %d\n%s", name, code, stderr)
		}
		var sum exportSummary
		if err := json.Unmarshal([]byte(stdout), &sum); err != nil {
			t.Fatal(err)
		}
		want := 2.0
		if name == "file" {
			want = 1.5
		}
		if o := sum.Outputs[0]; math.Abs(o.Duration-want) > 0.1 || o.AudioCodec != "aac" {
			t.Errorf("%s: output %+v, want %.1f s with sound", name, o, want)
		}
	}
	code, _, stderr := run(t, "export", "--preset", "mp4-720p", "--timeline", writeFile(t, "bad.json", `{"clips":[]}`))
	if code == ExitOK || !contains(stderr, "timeline_invalid") {
		t.Errorf("empty timeline: exit %d\n%s", code, stderr)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// TestExport_thumbnailImage: --thumbnail IMAGE becomes each target's
// thumbnail at its aspect.
func TestExport_thumbnailImage(t *testing.T) {
	t.Parallel()
	src := mediatest.Generate(t, mediatest.Spec{Duration: 1, FPS: 25})
	out := t.TempDir()
	code, stdout, stderr := run(t, "export", src, "--preset", "mp4-720p", "--quality", "web", "--out", out, "--json",
		"--thumbnail", logoPNG(t))
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var sum exportSummary
	if err := json.Unmarshal([]byte(stdout), &sum); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(sum.Outputs[0].Thumbnail)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, format, err := image.DecodeConfig(f)
	if err != nil || format != "jpeg" || cfg.Width != 1280 || cfg.Height != 720 {
		t.Errorf("thumbnail %s %dx%d, %v", format, cfg.Width, cfg.Height, err)
	}
	if code, _, _ := run(t, "export", src, "--preset", "mp4-720p", "--out", out, "--thumbnail", writeFile(t, "x.png", "no")); code == ExitOK {
		t.Error("a bad image was accepted")
	}
}
