package engine

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"outpost/internal/errcode"
	"outpost/internal/media"
	"outpost/internal/media/mediatest"
	"outpost/internal/preset"
	"outpost/internal/render"
)

func newEngine() *Engine {
	return &Engine{
		Prober: &media.Prober{},
		Runner: &media.Runner{Logger: slog.New(slog.DiscardHandler)},
		Logger: slog.New(slog.DiscardHandler),
	}
}

// web returns targets at Web quality (the fastest encoder settings), so the
// tests stay quick on small machines.
func web(t *testing.T, fit preset.Fit, ids ...string) []render.Target {
	t.Helper()
	var ts []render.Target
	for _, id := range ids {
		p, err := preset.Lookup(id)
		if err != nil {
			t.Fatal(err)
		}
		ts = append(ts, render.Target{Preset: p, Quality: preset.Web, Fit: fit})
	}
	return ts
}

func probe(t *testing.T, path string) *media.Info {
	t.Helper()
	info, err := (&media.Prober{}).Probe(context.Background(), path)
	if err != nil {
		t.Fatalf("probe %s: %v", path, err)
	}
	return info
}

// noLeftovers fails when a temp file of the render is still in dir.
func noLeftovers(t *testing.T, dir string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".part") {
			t.Errorf("temp file %s left in %s", e.Name(), dir)
		}
	}
}

func TestEngine_Export_social(t *testing.T) {
	t.Parallel()
	// Three seconds: the shortest video Instagram and LinkedIn take.
	src := mediatest.Generate(t, mediatest.Spec{Width: 640, Height: 360, Duration: 3, FPS: 30, Audio: true})
	out := t.TempDir()
	var events []Event
	targets := web(t, "", "youtube-1080p", "instagram-reel", "linkedin-square", "gif-480p")
	for i := range targets {
		targets[i].PlatformLoudness = true // exercises the "audio" stage
	}
	results, err := newEngine().Export(context.Background(), Request{
		Source:  src,
		Targets: targets,
		OutDir:  out,
	}, func(e Event) { events = append(events, e) })
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][2]int{"youtube-1080p": {1920, 1080}, "instagram-reel": {1080, 1920}, "linkedin-square": {1080, 1080}, "gif-480p": {854, 480}}
	for _, r := range results {
		if r.Error != nil {
			t.Errorf("%s: %+v", r.Preset, r.Error)
			continue
		}
		if !r.Check.OK || r.Passthrough {
			t.Errorf("%s: check %+v passthrough %v", r.Preset, r.Check, r.Passthrough)
		}
		info := probe(t, r.Path)
		if wh := want[r.Preset]; info.Video.Width != wh[0] || info.Video.Height != wh[1] {
			t.Errorf("%s: %dx%d, want %v", r.Preset, info.Video.Width, info.Video.Height, wh)
		}
		if d := info.Duration; d < 2.9 || d > 3.2 {
			t.Errorf("%s: duration %.3f, want 3", r.Preset, d)
		}
		if r.Preset != "gif-480p" && (info.Audio == nil || info.Audio.SampleRate != 48000 || !info.FastStart) {
			t.Errorf("%s: audio %+v faststart %v", r.Preset, info.Audio, info.FastStart)
		}
	}
	noLeftovers(t, out)
	var stages []string
	last := -1.0
	for _, e := range events {
		if len(stages) == 0 || stages[len(stages)-1] != e.Stage {
			stages = append(stages, e.Stage)
			last = -1
		}
		if e.Percent < last {
			t.Errorf("%s progress went back from %.1f to %.1f", e.Stage, last, e.Percent)
		}
		last = e.Percent
	}
	if strings.Join(stages, ",") != "probe,audio,render,check" {
		t.Errorf("stages %v", stages)
	}
}

func TestEngine_Export_passthrough(t *testing.T) {
	t.Parallel()
	src := mediatest.Generate(t, mediatest.Spec{Width: 1920, Height: 1080, Duration: 2, FPS: 30, Audio: true, Profile: "high", Bitrate: "800k"})
	out := t.TempDir()
	results, err := newEngine().Export(context.Background(), Request{Source: src, Targets: web(t, "", "youtube-1080p"), OutDir: out}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := results[0]
	if r.Error != nil || !r.Passthrough {
		t.Fatalf("result %+v (error %+v)", r, r.Error)
	}
	in, got := probe(t, src), probe(t, r.Path)
	if in.FastStart || !got.FastStart {
		t.Errorf("faststart: source %v output %v; the remux must move moov first", in.FastStart, got.FastStart)
	}
	if got.Video.FrameCount != in.Video.FrameCount || got.Video.BitRate != in.Video.BitRate {
		t.Errorf("passthrough changed the video: frames %d→%d bitrate %d→%d", in.Video.FrameCount, got.Video.FrameCount, in.Video.BitRate, got.Video.BitRate)
	}
}

// TestEngine_Export_badInput covers the inputs people really send: each
// either renders correctly or fails with a stable code.
func TestEngine_Export_badInput(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		source func(t testing.TB) string
		ids    []string
		code   errcode.Code // whole export fails with this code
		check  func(t *testing.T, r Result, info *media.Info)
	}{
		{name: "empty file", source: mediatest.Empty, ids: []string{"tiktok"}, code: errcode.SourceEmpty},
		{name: "text file", source: mediatest.Text, ids: []string{"tiktok"}, code: errcode.SourceUnreadable},
		{name: "missing file", source: func(t testing.TB) string { return filepath.Join(t.TempDir(), "nope.mp4") }, ids: []string{"tiktok"}, code: errcode.SourceNotFound},
		{
			name: "truncated mp4", ids: []string{"tiktok"}, code: errcode.SourceTruncated,
			source: func(t testing.TB) string {
				return mediatest.Truncated(t, mediatest.Generate(t, mediatest.Spec{Duration: 1}))
			},
		},
		{name: "audio only", source: func(t testing.TB) string { return mediatest.AudioOnly(t, 1) }, ids: []string{"tiktok"}, code: errcode.SourceNoVideo},
		{
			name: "no audio gets a silent track", ids: []string{"tiktok"},
			source: func(t testing.TB) string { return mediatest.Generate(t, mediatest.Spec{Duration: 1, FPS: 30}) },
			check: func(t *testing.T, r Result, info *media.Info) {
				if !r.SilentAudio || info.Audio == nil || info.Audio.Codec != "aac" || info.Audio.Channels != 2 {
					t.Errorf("silent %v audio %+v", r.SilentAudio, info.Audio)
				}
				if d := info.Duration; d > 1.1 {
					t.Errorf("duration %.3f: the silent track must not outlast the video", d)
				}
			},
		},
		{
			name: "rotated phone video is upright", ids: []string{"mp4-720p"},
			source: func(t testing.TB) string {
				return mediatest.Generate(t, mediatest.Spec{Width: 320, Height: 180, Duration: 1, FPS: 30, Audio: true, Rotation: 90})
			},
			check: func(t *testing.T, r Result, info *media.Info) {
				if info.Video.Rotation != 0 || info.Video.Width != 720 || info.Video.Height != 1280 {
					t.Errorf("rotation %d size %dx%d, want 0 and 720x1280", info.Video.Rotation, info.Video.Width, info.Video.Height)
				}
			},
		},
		{
			name: "odd dimensions", ids: []string{"mp4-720p"},
			source: func(t testing.TB) string {
				return mediatest.Generate(t, mediatest.Spec{Width: 321, Height: 241, Duration: 1, FPS: 30})
			},
			check: func(t *testing.T, r Result, info *media.Info) {
				if info.Video.Width%2 != 0 || info.Video.Height%2 != 0 || info.Video.PixFmt != "yuv420p" {
					t.Errorf("size %dx%d %s", info.Video.Width, info.Video.Height, info.Video.PixFmt)
				}
			},
		},
		{
			name: "variable frame rate becomes constant", ids: []string{"tiktok"},
			source: func(t testing.TB) string {
				return mediatest.Generate(t, mediatest.Spec{Duration: 2, FPS: 30, Audio: true, VFR: true})
			},
			check: func(t *testing.T, r Result, info *media.Info) {
				// The source averages about 24 fps: the output is the
				// nearest common constant rate.
				if info.Video.VariableFrameRate || info.Video.FrameRate < 23.9 || info.Video.FrameRate > 24.01 {
					t.Errorf("vfr %v fps %.3f", info.Video.VariableFrameRate, info.Video.FrameRate)
				}
			},
		},
		{
			name: "10-bit HDR is tone-mapped to 8-bit SDR", ids: []string{"youtube-1080p"},
			source: func(t testing.TB) string {
				return mediatest.Generate(t, mediatest.Spec{Duration: 1, FPS: 30, Audio: true, Codec: "hevc10", Container: "mov"})
			},
			check: func(t *testing.T, r Result, info *media.Info) {
				if info.Video.HDR || info.Video.BitDepth != 8 || info.Video.PixFmt != "yuv420p" {
					t.Errorf("hdr %v depth %d %s", info.Video.HDR, info.Video.BitDepth, info.Video.PixFmt)
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src := tc.source(t)
			out := t.TempDir()
			results, err := newEngine().Export(context.Background(), Request{Source: src, Targets: web(t, "", tc.ids...), OutDir: out}, nil)
			noLeftovers(t, out)
			if tc.code != "" {
				if got := errcode.Of(err); got != tc.code {
					t.Fatalf("code %q (%v), want %q", got, err, tc.code)
				}
				if e := errcode.As(err); e.RemedyText() == "" || strings.Contains(e.Message, "\n") {
					t.Errorf("error %q needs one line and a remedy", e.Message)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			r := results[0]
			if r.Error != nil {
				t.Fatalf("%s: %+v", r.Preset, r.Error)
			}
			tc.check(t, r, probe(t, r.Path))
		})
	}
}

func TestEngine_Export_tooLongForTarget(t *testing.T) {
	t.Parallel()
	// Eleven minutes at 1 fps and 64x64 costs almost nothing to make.
	src := mediatest.Generate(t, mediatest.Spec{Width: 64, Height: 64, Duration: 660, FPS: 1})
	out := t.TempDir()
	results, err := newEngine().Export(context.Background(), Request{Source: src, Targets: web(t, "", "tiktok", "youtube-shorts"), OutDir: out}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if r.Error == nil || r.Error.Code != errcode.PlatformRule || r.Check.Violations[0].Rule != "max_duration" {
			t.Errorf("%s: %+v, want platform_rule_violated/max_duration", r.Preset, r.Error)
		}
	}
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Errorf("refused targets wrote %d files", len(entries))
	}
}

func TestEngine_Export_checkFailureRemovesFile(t *testing.T) {
	t.Parallel()
	src := mediatest.Generate(t, mediatest.Spec{Duration: 1, FPS: 30, Audio: true})
	out := t.TempDir()
	ts := web(t, "", "tiktok", "mp4-720p")
	ts[0].Preset.Rules.MaxSizeBytes = 1000 // no 1 s video fits in 1 kB
	results, err := newEngine().Export(context.Background(), Request{Source: src, Targets: ts, OutDir: out}, nil)
	if err != nil {
		t.Fatal(err)
	}
	bad, good := results[0], results[1]
	if bad.Error == nil || bad.Error.Code != errcode.PlatformRule || bad.Check.OK || bad.Check.Violations[0].Rule != "max_size" {
		t.Errorf("tiktok: %+v %+v", bad.Error, bad.Check)
	}
	if _, err := os.Stat(filepath.Join(out, "tiktok.mp4")); !os.IsNotExist(err) {
		t.Errorf("a file that broke its rules is left under its final name: %v", err)
	}
	if good.Error != nil || good.Path == "" {
		t.Errorf("the other target must still succeed: %+v", good.Error)
	}
	noLeftovers(t, out)
}

func TestEngine_Export_cancel(t *testing.T) {
	t.Parallel()
	src := mediatest.Generate(t, mediatest.Spec{Width: 320, Height: 180, Duration: 30, FPS: 30, Audio: true})
	out := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ts := web(t, "", "youtube-1080p", "tiktok")
	_, err := newEngine().Export(ctx, Request{Source: src, Targets: ts, OutDir: out}, func(e Event) {
		if e.Stage == StageRender && e.Percent > 2 {
			cancel()
		}
	})
	if got := errcode.Of(err); got != errcode.Canceled {
		t.Fatalf("code %q (%v), want canceled", got, err)
	}
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Errorf("a canceled export left %d files", len(entries))
	}
}

// TestEngine_Export_sharedEncode renders four 9:16 platforms with one
// encoder and delivers the file under each name, each checked against its
// own preset: a target whose own rules the shared file breaks fails alone.
func TestEngine_Export_sharedEncode(t *testing.T) {
	t.Parallel()
	src := mediatest.Generate(t, mediatest.Spec{Width: 640, Height: 360, Duration: 3, FPS: 30, Audio: true})
	out := t.TempDir()
	targets := web(t, "", "instagram-reel", "tiktok", "facebook-reel", "youtube-shorts")
	// A platform like TikTok whose size limit no real file meets: the same
	// file, another verdict.
	tiny := targets[1].Preset.Clone()
	tiny.ID, tiny.Name, tiny.Rules.MaxSizeBytes = "tiny-reel", "Tiny reel", 1000
	targets = append(targets, render.Target{Preset: tiny, Quality: preset.Web})
	for i := range targets {
		targets[i].Thumbnail = true
	}
	eng := newEngine()
	req := Request{Source: src, Targets: targets, OutDir: out}
	_, plan, _, err := eng.Prepare(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if enc, _ := plan.Encodes(); enc != 1 {
		t.Fatalf("plan has %d encodes, want 1 for five 9:16 targets", enc)
	}
	results, err := eng.Export(context.Background(), req, nil)
	if err != nil {
		t.Fatal(err)
	}
	var first os.FileInfo
	for _, r := range results {
		if r.Preset == "tiny-reel" {
			if r.Error == nil || r.Error.Code != errcode.PlatformRule || r.Path != "" || len(r.SharesFileWith) > 0 {
				t.Errorf("tiny-reel: error %+v, path %q, shares %v; want its own max_size failure", r.Error, r.Path, r.SharesFileWith)
			}
			continue
		}
		if r.Error != nil || !r.Check.OK {
			t.Errorf("%s: %+v %+v", r.Preset, r.Error, r.Check)
			continue
		}
		if len(r.SharesFileWith) != 3 || slices.Contains(r.SharesFileWith, r.Preset) || slices.Contains(r.SharesFileWith, "tiny-reel") {
			t.Errorf("%s shares its file with %v, want the three other delivered reels", r.Preset, r.SharesFileWith)
		}
		st, err := os.Stat(r.Path)
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = st
		} else if !os.SameFile(first, st) {
			t.Errorf("%s is not a link to the one rendered file", r.Path)
		}
		if info := probe(t, r.Path); info.Video.Width != 1080 || info.Video.Height != 1920 {
			t.Errorf("%s: %dx%d", r.Preset, info.Video.Width, info.Video.Height)
		}
		if _, err := os.Stat(r.Thumbnail); err != nil {
			t.Errorf("%s: thumbnail: %v", r.Preset, err)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "tiny-reel.mp4")); !os.IsNotExist(err) {
		t.Errorf("tiny-reel.mp4 left behind: %v", err)
	}
	noLeftovers(t, out)
}
