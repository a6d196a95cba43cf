package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"outpost/internal/media/mediatest"
)

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &Env{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }, Logger: slog.New(slog.DiscardHandler)}
	code = Main(context.Background(), env, args)
	return code, out.String(), errb.String()
}

func TestExport_json(t *testing.T) {
	t.Parallel()
	src := mediatest.Generate(t, mediatest.Spec{Duration: 1, FPS: 30, Audio: true})
	out := t.TempDir()
	code, stdout, stderr := run(t, "export", src, "--preset", "mp4-720p,gif-480p", "--quality", "web", "--out", out, "--json")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var sum exportSummary
	if err := json.Unmarshal([]byte(stdout), &sum); err != nil {
		t.Fatalf("stdout is not one JSON document: %v\n%s", err, stdout)
	}
	if !sum.OK || len(sum.Outputs) != 2 || sum.Stats.PeakRSSBytes <= 0 {
		t.Fatalf("summary %+v", sum)
	}
	for _, o := range sum.Outputs {
		if o.Path != filepath.Join(out, o.Preset+map[string]string{"mp4-720p": ".mp4", "gif-480p": ".gif"}[o.Preset]) || o.SizeBytes == 0 || o.Width == 0 || o.Check == nil || !o.Check.OK {
			t.Errorf("output %+v", o)
		}
	}
	// Piped progress is plain lines on stderr.
	if !strings.Contains(stderr, "render 100.0% done") {
		t.Errorf("stderr has no plain progress lines:\n%s", stderr)
	}
}

func TestExport_plan(t *testing.T) {
	t.Parallel()
	src := mediatest.Generate(t, mediatest.Spec{Duration: 1, FPS: 30, Audio: true})
	out := filepath.Join(t.TempDir(), "out")
	code, stdout, stderr := run(t, "export", src, "--preset", "tiktok", "--preset", "youtube-1080p", "--fit", "crop", "--out", out, "--plan")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var plan planSummary
	if err := json.Unmarshal([]byte(stdout), &plan); err != nil {
		t.Fatal(err)
	}
	if plan.Argv[0] != "ffmpeg" || len(plan.Outputs) != 2 || !strings.Contains(strings.Join(plan.Argv, " "), "crop=1080:1920") {
		t.Errorf("plan %+v", plan)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Error("--plan must not create the output folder")
	}
}

// TestExport_sharedEncode: four 9:16 platforms are one encode in --plan,
// and one file (linked under four names) in --json.
func TestExport_sharedEncode(t *testing.T) {
	t.Parallel()
	src := mediatest.Generate(t, mediatest.Spec{Width: 320, Height: 180, Duration: 3, FPS: 30, Audio: true})
	out := t.TempDir()
	reels := "instagram-reel,tiktok,facebook-reel,youtube-shorts"
	code, stdout, stderr := run(t, "export", src, "--preset", reels, "--preset", "linkedin-square", "--quality", "web", "--out", out, "--plan")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var plan planSummary
	if err := json.Unmarshal([]byte(stdout), &plan); err != nil {
		t.Fatal(err)
	}
	if plan.Encodes != 2 || strings.Count(strings.Join(plan.Argv, " "), "-c:v libx264") != 2 {
		t.Errorf("plan runs %d encodes (%d in argv), want 2: one per shape", plan.Encodes, strings.Count(strings.Join(plan.Argv, " "), "-c:v libx264"))
	}
	for _, o := range plan.Outputs {
		want := 3
		if o.PresetID == "linkedin-square" {
			want = 0
		}
		if len(o.SharesEncodeWith) != want {
			t.Errorf("%s: shares_encode_with %v, want %d others", o.PresetID, o.SharesEncodeWith, want)
		}
	}

	code, stdout, stderr = run(t, "export", src, "--preset", reels, "--quality", "web", "--out", out, "--json")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var sum exportSummary
	if err := json.Unmarshal([]byte(stdout), &sum); err != nil {
		t.Fatal(err)
	}
	for _, o := range sum.Outputs {
		if len(o.SharesFileWith) != 3 || !o.Check.OK {
			t.Errorf("%s: shares_file_with %v, check %+v", o.Preset, o.SharesFileWith, o.Check)
		}
	}
}

// TestExport_renderEnv: OUTPOST_RENDER_THREADS reaches the argv; a bad
// OUTPOST_RENDER_NICE stops the export before any work.
func TestExport_renderEnv(t *testing.T) {
	t.Parallel()
	src := mediatest.Generate(t, mediatest.Spec{Duration: 1, FPS: 30, Audio: true})
	runEnv := func(vars map[string]string, args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		env := &Env{Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return vars[k] }, Logger: slog.New(slog.DiscardHandler)}
		return Main(context.Background(), env, args), out.String(), errb.String()
	}
	code, stdout, stderr := runEnv(map[string]string{"OUTPOST_RENDER_THREADS": "1"}, "export", src, "--preset", "tiktok", "--out", t.TempDir(), "--plan")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var plan planSummary
	if err := json.Unmarshal([]byte(stdout), &plan); err != nil {
		t.Fatal(err)
	}
	if argv := strings.Join(plan.Argv, " "); !strings.Contains(argv, "-filter_complex_threads 1 -threads 1 -i") || !strings.Contains(argv, "-threads 1 -fps_mode") {
		t.Errorf("OUTPOST_RENDER_THREADS=1 not in the argv: %s", argv)
	}
	code, _, stderr = runEnv(map[string]string{"OUTPOST_RENDER_NICE": "25"}, "export", src, "--preset", "tiktok", "--out", t.TempDir())
	if code != ExitFailed || !strings.Contains(stderr, "config_invalid: OUTPOST_RENDER_NICE: 25") {
		t.Errorf("exit %d, stderr %q; want config_invalid naming OUTPOST_RENDER_NICE", code, stderr)
	}
}

func TestExport_errors(t *testing.T) {
	t.Parallel()
	src := mediatest.Generate(t, mediatest.Spec{Duration: 1, FPS: 30})
	for _, tc := range []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no input", []string{"export", "--preset", "tiktok"}, ExitUsage, "Usage"},
		{"no preset", []string{"export", src}, ExitUsage, "invalid_option"},
		{"unknown preset", []string{"export", src, "--preset", "myspace"}, ExitUsage, "unknown_preset"},
		{"bad quality", []string{"export", src, "--preset", "tiktok", "--quality", "max"}, ExitUsage, "invalid_option"},
		{"bad fit", []string{"export", src, "--preset", "tiktok", "--fit", "stretch"}, ExitUsage, "invalid_option"},
		{"empty source", []string{"export", mediatest.Empty(t), "--preset", "tiktok", "--out", t.TempDir()}, ExitFailed, "source_empty"},
		{"unknown command", []string{"exprot"}, ExitUsage, "unknown command"},
	} {
		code, _, stderr := run(t, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.msg) {
			t.Errorf("%s: exit %d, stderr %q; want exit %d with %q", tc.name, code, stderr, tc.code, tc.msg)
		}
		if tc.code == ExitFailed && !strings.Contains(stderr, "remedy:") {
			t.Errorf("%s: no remedy line in %q", tc.name, stderr)
		}
	}
}

func TestExport_partial(t *testing.T) {
	t.Parallel()
	// Two seconds: too short for a Facebook Reel (3 s), fine for mp4-720p.
	src := mediatest.Generate(t, mediatest.Spec{Duration: 2, FPS: 30, Audio: true})
	code, stdout, _ := run(t, "export", src, "--preset", "facebook-reel,mp4-720p", "--quality", "web", "--out", t.TempDir())
	if code != ExitPartial {
		t.Fatalf("exit %d, want %d\n%s", code, ExitPartial, stdout)
	}
	if !strings.Contains(stdout, "platform_rule_violated") || !strings.Contains(stdout, "✓ ok") {
		t.Errorf("table:\n%s", stdout)
	}
}

func TestProbeAndPresets(t *testing.T) {
	t.Parallel()
	src := mediatest.Generate(t, mediatest.Spec{Width: 320, Height: 180, Duration: 1, FPS: 25, Audio: true, Rotation: 90})
	code, stdout, stderr := run(t, "probe", src, "--json")
	if code != ExitOK {
		t.Fatalf("probe exit %d: %s", code, stderr)
	}
	var info struct {
		Video struct{ Width, Height, Rotation int }
	}
	if err := json.Unmarshal([]byte(stdout), &info); err != nil || info.Video.Width != 180 || info.Video.Rotation != 90 {
		t.Errorf("probe --json: %+v %v", info, err)
	}
	if code, stdout, _ = run(t, "probe", src); code != ExitOK || !strings.Contains(stdout, "rotated 90°") {
		t.Errorf("probe: %d %s", code, stdout)
	}
	if code, stdout, _ = run(t, "presets", "list"); code != ExitOK || strings.Count(stdout, "\n") != 17 {
		t.Errorf("presets list: %d\n%s", code, stdout)
	}
	code, stdout, _ = run(t, "presets", "show", "tiktok", "--json")
	var p struct{ ID string }
	if code != ExitOK || json.Unmarshal([]byte(stdout), &p) != nil || p.ID != "tiktok" {
		t.Errorf("presets show --json: %d %s", code, stdout)
	}
	if code, _, _ = run(t, "presets", "show", "nope"); code != ExitUsage {
		t.Errorf("presets show nope: exit %d", code)
	}
}
