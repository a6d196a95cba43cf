package engine

import (
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"outpost/internal/media/mediatest"
	"outpost/internal/preset"
	"outpost/internal/render"
)

// segmentEngine cuts segments as short as a second, so a few seconds of
// generated media make several.
func segmentEngine() *Engine {
	e := newEngine()
	e.SegmentMinSeconds = 1
	return e
}

// TestEngine_Export_segmentedExact renders each request in one pass and in
// three segments and compares every target's files: the same frame count,
// audio and video within a frame, PSNR at least 45 dB on average and 35 dB
// on every frame (mediatest.SameRender).
func TestEngine_Export_segmentedExact(t *testing.T) {
	t.Parallel()
	landscape := func(t *testing.T) render.Target {
		tg := small(t, "mp4-720p", "wide", 320, 180)
		tg.Quality = preset.Ultra
		return tg
	}
	vertical := func(t *testing.T) render.Target {
		tg := small(t, "instagram-reel", "tall", 180, 320)
		tg.Quality = preset.Ultra
		return tg
	}
	both := func(t *testing.T) []render.Target { return []render.Target{landscape(t), vertical(t)} }
	clip := func(s mediatest.Spec) func(t *testing.T) string {
		return func(t *testing.T) string {
			s.Audio, s.GOP = true, 25
			if s.Duration == 0 {
				s.Duration = 6
			}
			return mediatest.Generate(t, s)
		}
	}
	for _, tc := range []struct {
		name    string
		source  func(t *testing.T) string
		request func(t *testing.T, req *Request)
		// minPSNR is the least average PSNR (dB); 0 means 45.
		minPSNR float64
		// vsLossless also compares both files with a lossless render of
		// the single pass's frames: the joined file may be at most
		// 0.25 dB further from it than the single pass.
		vsLossless bool
	}{
		{"b-frames", clip(mediatest.Spec{Profile: "high"}), nil, 0, false},
		{"vfr", clip(mediatest.Spec{VFR: true, FPS: 30}), nil, 0, false},
		{"rotation", clip(mediatest.Spec{Rotation: 90}), nil, 0, false},
		// The tone-mapped frames are the single pass's, but they are
		// harder to encode at this size (the single pass itself is about
		// 41 dB from them, against 44 dB for the SDR clips), so two x264
		// encodes of them, one restarted at each cut, differ more: about
		// 43.8 dB. What matters is that the joined file is as close to
		// the frames as the single pass: measured 0.07 dB apart.
		{"hdr tone-mapped", clip(mediatest.Spec{Codec: "hevc10"}), nil, 43, true},
		{"captions across a cut", clip(mediatest.Spec{}), func(t *testing.T, req *Request) {
			// The cuts are near 1.3 and 2.7 s (keyframes every second:
			// at 1 and 3): the cue runs over the first.
			req.Captions = writeText(t, "c.srt", "1\n00:00:00,500 --> 00:00:02,500\nACROSS THE CUT\n")
			for i := range req.Targets {
				req.Targets[i].Captions = render.Captions{Burn: true, Track: true}
			}
		}, 0, false},
		{"watermark", clip(mediatest.Spec{}), func(t *testing.T, req *Request) {
			for i := range req.Targets {
				req.Targets[i].Watermark = &render.Watermark{Path: pngLogo(t), Opacity: 0.8}
			}
		}, 0, false},
		{"timeline", nil, func(t *testing.T, req *Request) {
			a := mediatest.Generate(t, mediatest.Spec{Duration: 3.2, Audio: true, GOP: 25})
			b := mediatest.Generate(t, mediatest.Spec{Width: 320, Height: 240, Duration: 3.5, FPS: 30, Audio: true, VideoSource: "testsrc"})
			req.Timeline = &Timeline{Clips: []TimelineClip{{Source: a}, {Source: b, In: 0.3}}}
		}, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			base := Request{Targets: both(t)}
			if tc.source != nil {
				base.Source = tc.source(t)
			}
			if tc.request != nil {
				tc.request(t, &base)
			}
			single, joined := base, base
			single.OutDir, joined.OutDir = t.TempDir(), t.TempDir()
			joined.Segments = 3
			joined.Targets = append([]render.Target(nil), base.Targets...)

			s, _, err := segmentEngine().PrepareSegmented(context.Background(), joined)
			if err != nil {
				t.Fatal(err)
			}
			if s == nil || len(s.Segments) < 2 {
				t.Fatalf("the request is not segmented: %+v", s)
			}
			t.Logf("segments %+v", s.Segments)
			one, err := segmentEngine().Export(context.Background(), single, nil)
			if err != nil {
				t.Fatal(err)
			}
			seg, err := segmentEngine().Export(context.Background(), joined, nil)
			if err != nil {
				t.Fatal(err)
			}
			for i := range one {
				if one[i].Error != nil || seg[i].Error != nil {
					t.Fatalf("%s: one pass %+v, segmented %+v", one[i].Preset, one[i].Error, seg[i].Error)
				}
				if !seg[i].Check.OK {
					t.Errorf("%s: check %+v", seg[i].Preset, seg[i].Check)
				}
				minPSNR := tc.minPSNR
				if minPSNR == 0 {
					minPSNR = 45
				}
				t.Run(one[i].Preset, func(t *testing.T) { mediatest.SameRenderPSNR(t, one[i].Path, seg[i].Path, minPSNR) })
			}
			if tc.vsLossless {
				ref := losslessRender(t, single)
				for i := range one {
					s, _ := mediatest.PSNR(t, ref[i], one[i].Path)
					j, _ := mediatest.PSNR(t, ref[i], seg[i].Path)
					t.Logf("%s: PSNR against the lossless frames: one pass %.2f dB, joined %.2f dB", one[i].Preset, s, j)
					if j < s-0.25 {
						t.Errorf("%s: the joined file is %.2f dB from the frames, the single pass %.2f dB: the cuts cost quality", one[i].Preset, j, s)
					}
				}
			}
			noLeftovers(t, joined.OutDir)
			if left, _ := filepath.Glob(filepath.Join(joined.OutDir, ".*", segmentDirName)); len(left) > 0 {
				t.Errorf("pieces left: %v", left)
			}
		})
	}
}

// losslessRender renders req's single pass with every x264 encode lossless
// (-crf 0, no cap or profile) and returns the files in output order: the
// frames the encoders were given.
func losslessRender(t *testing.T, req Request) []string {
	t.Helper()
	req.OutDir = t.TempDir()
	e := segmentEngine()
	_, plan, _, err := e.Prepare(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for i := range plan.Outputs {
		o := &plan.Outputs[i]
		var args []string
		for k := 0; k < len(o.Args); k++ {
			switch o.Args[k] {
			case "-crf":
				args = append(args, "-crf", "0")
				k++
			case "-maxrate", "-bufsize", "-profile:v":
				k++
			default:
				args = append(args, o.Args[k])
			}
		}
		o.Args = args
		files = append(files, o.File())
	}
	if err := e.Runner.Run(context.Background(), plan.Args(), 0, nil); err != nil {
		t.Fatal(err)
	}
	return files
}

// TestEngine_RenderPart renders each part of a segmented export in a
// folder of its own, as separate nodes would, and joins them in a third
// (Request.Parts): the files are the single pass's, frame for frame, and
// the parts' files are gone from their folders.
func TestEngine_RenderPart(t *testing.T) {
	t.Parallel()
	src := mediatest.Generate(t, mediatest.Spec{Duration: 5, Audio: true, GOP: 25})
	targets := func() []render.Target {
		// GIF is rendered whole by the rest; the MP4s are cut.
		ts := []render.Target{small(t, "mp4-720p", "wide", 320, 180), small(t, "instagram-reel", "tall", 180, 320),
			small(t, "gif-480p", "gif", 160, 90)}
		for i := range ts {
			ts[i].Quality, ts[i].Thumbnail = preset.Ultra, true
		}
		return ts
	}
	captions := writeText(t, "c.srt", "1\n00:00:00,500 --> 00:00:02,500\nACROSS THE CUT\n")
	req := func(out string) Request {
		r := Request{Source: src, Targets: targets(), OutDir: out, Segments: 3, Captions: captions}
		for i := range r.Targets {
			r.Targets[i].Captions = render.Captions{Burn: true}
		}
		return r
	}
	e := segmentEngine()
	s, _, err := e.PrepareSegmented(t.Context(), req(t.TempDir()))
	if err != nil || s == nil || s.Rest == nil {
		t.Fatalf("PrepareSegmented: %v, %+v", err, s)
	}
	stored := map[string][]byte{} // as a blob store would hold them
	for part := PartRest; part <= len(s.Pieces); part++ {
		out := t.TempDir()
		n, err := e.RenderPart(t.Context(), req(out), part, nil, func(_ context.Context, name, path string) error {
			b, err := os.ReadFile(path)
			stored[name] = b
			return err
		})
		if err != nil || n != len(s.Pieces) {
			t.Fatalf("part %d: %d pieces, %v", part, n, err)
		}
		noLeftovers(t, out)
	}
	t.Logf("%d files stored: %v", len(stored), slices.Collect(maps.Keys(stored)))
	joined := req(t.TempDir())
	joined.Parts = func(_ context.Context, dest func(string) (string, error)) error {
		for name, b := range stored {
			p, err := dest(name)
			if err != nil {
				return err
			}
			if err := os.WriteFile(p, b, 0o644); err != nil {
				return err
			}
		}
		return nil
	}
	seg, err := e.Export(t.Context(), joined, nil)
	if err != nil {
		t.Fatal(err)
	}
	single := req(t.TempDir())
	single.Segments = 0
	one, err := e.Export(t.Context(), single, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range one {
		if one[i].Error != nil || seg[i].Error != nil {
			t.Fatalf("%s: one pass %+v, parts %+v", one[i].Preset, one[i].Error, seg[i].Error)
		}
		if one[i].Preset == "gif" {
			continue
		}
		if seg[i].Thumbnail == "" || one[i].Thumbnail == "" {
			t.Errorf("%s: thumbnail %q joined, %q in one pass", seg[i].Preset, seg[i].Thumbnail, one[i].Thumbnail)
		}
		t.Run(one[i].Preset, func(t *testing.T) { mediatest.SameRender(t, one[i].Path, seg[i].Path) })
	}

	// A request that renders in one pass has no parts.
	short := req(t.TempDir())
	short.Segments = 0
	if _, err := e.RenderPart(t.Context(), short, 1, nil, nil); !errors.Is(err, ErrNotSegmented) {
		t.Errorf("one-pass RenderPart: %v", err)
	}
	short.Parts = joined.Parts
	if _, err := e.Export(t.Context(), short, nil); !errors.Is(err, ErrNotSegmented) {
		t.Errorf("one-pass Export with Parts: %v", err)
	}
}
