package engine

import (
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"outpost/internal/errcode"
	"outpost/internal/media"
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
	joined := req(t.TempDir())
	joined.Parts, _ = renderParts(t, e, req, len(s.Pieces))
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

// renderParts renders every part of the segmented render of req(dir),
// each in a folder of its own as separate nodes would, and returns what
// puts them in place for the join, as a blob store holding their files
// and a database their reports would (a join request's Parts), and the
// parts' reports by part.
func renderParts(t *testing.T, e *Engine, req func(dir string) Request, pieces int) (PartsFunc, []media.Report) {
	t.Helper()
	stored := map[string][]byte{}
	var reps []media.Report
	for part := PartRest; part <= pieces; part++ {
		out := t.TempDir()
		got, err := e.RenderPart(t.Context(), req(out), part, nil, func(_ context.Context, name, path string) error {
			b, err := os.ReadFile(path)
			stored[name] = b
			return err
		})
		if err != nil || got.Pieces != pieces {
			t.Fatalf("part %d: %+v, %v", part, got, err)
		}
		noLeftovers(t, out)
		reps = append(reps, got.Report)
	}
	t.Logf("%d files stored: %v", len(stored), slices.Sorted(maps.Keys(stored)))
	return func(_ context.Context, dest func(string) (string, error)) (media.Report, error) {
		for name, b := range stored {
			p, err := dest(name)
			if err != nil {
				return media.Report{}, err
			}
			if err := os.WriteFile(p, b, 0o644); err != nil {
				return media.Report{}, err
			}
		}
		return media.JoinReports(reps...), nil
	}, reps
}

// TestEngine_Export_segmentedDamaged renders a source whose middle is
// random bytes in one pass and in two segments, locally and as parts
// (RenderPart, each with its own report) joined elsewhere: the segmented
// renders warn of the damage as the one pass does, in the whole output's
// time (the damage is past the cut, in the second piece, whose own times
// start at 0).
func TestEngine_Export_segmentedDamaged(t *testing.T) {
	t.Parallel()
	const dur = 8.0
	src := mediatest.Damaged(t, mediatest.Generate(t, mediatest.Spec{Duration: dur, Audio: true, Bitrate: "1500k", GOP: 25}), 0.6, 0.75)
	e := segmentEngine()
	req := func(segments int) Request {
		// With a thumbnail: its candidates are outputs of the pieces too.
		tg := small(t, "mp4-720p", "wide", 320, 180)
		tg.Thumbnail = true
		return Request{Source: src, Targets: []render.Target{tg}, OutDir: t.TempDir(), Segments: segments}
	}
	damage := func(name string, results []Result, err error) []media.TimeRange {
		t.Helper()
		if err != nil || len(results) != 1 || results[0].Error != nil {
			t.Fatalf("%s: %+v, %v", name, results, err)
		}
		ws := results[0].Warnings
		if len(ws) != 1 || ws[0].Code != errcode.SourceDamaged || len(ws[0].Ranges) == 0 {
			t.Fatalf("%s: warnings %+v, want source_damaged with its stretches", name, ws)
		}
		t.Logf("%s: %s", name, ws[0].Message)
		return ws[0].Ranges
	}
	results, err := e.Export(t.Context(), req(0), nil)
	one := damage("one pass", results, err)
	seg, _, err := e.PrepareSegmented(t.Context(), req(2))
	if err != nil || seg == nil || len(seg.Segments) != 2 {
		t.Fatalf("PrepareSegmented: %+v, %v", seg, err)
	}
	cut := seg.Segments[1].Start
	results, err = e.Export(t.Context(), req(2), nil)
	local := damage("two segments", results, err)

	// As parts on other nodes: each reports its own, the join joins them.
	joined := req(2)
	var reps []media.Report
	joined.Parts, reps = renderParts(t, e, func(dir string) Request {
		r := req(2)
		r.OutDir = dir
		return r
	}, len(seg.Pieces))
	results, err = e.Export(t.Context(), joined, nil)
	parts := damage("parts joined", results, err)

	// The damage is in the last 40 % of the media data, past the cut: the
	// second piece reports it in the whole's time, not at its own 0 s.
	// (The rest renders the audio of the whole in a burst, so its errors
	// are dated coarsely.)
	last := reps[len(reps)-1]
	if last.DecodeErrors == 0 || len(last.Damaged) == 0 {
		t.Fatalf("the second piece reports no damage: %+v", last)
	}
	for _, r := range last.Damaged {
		if r.Start < cut-0.6 || r.Start >= dur+2.5 || r.Start >= r.End {
			t.Errorf("second piece: damaged stretch %+v, want it from the cut at %.2f s on, within the %v s source", r, cut, dur)
		}
	}
	overlaps := func(a, b []media.TimeRange) bool {
		for _, x := range a {
			for _, y := range b {
				if x.Start < y.End && y.Start < x.End {
					return true
				}
			}
		}
		return false
	}
	for name, rs := range map[string][]media.TimeRange{"two segments": local, "parts joined": parts} {
		if !overlaps(rs, one) || !overlaps(rs, last.Damaged) {
			t.Errorf("%s: damaged %+v, not where the one pass (%+v) and the second piece (%+v) saw it", name, rs, one, last.Damaged)
		}
	}
}

// TestEngine_Request_loudness: PrepareSegmented measures the source's
// loudness once; a request given it (each part and the join of a
// segmented render on many workers) renders with it and measures nothing,
// to the same normalisation.
func TestEngine_Request_loudness(t *testing.T) {
	t.Parallel()
	src := mediatest.Generate(t, mediatest.Spec{Duration: 4, Audio: true, GOP: 25})
	e := segmentEngine()
	req := func() Request {
		tg := small(t, "mp4-720p", "wide", 320, 180)
		tg.Loudness = &preset.Loudness{LUFS: -16, TruePeak: -1.5}
		return Request{Source: src, Targets: []render.Target{tg}, OutDir: t.TempDir(), Segments: 2}
	}
	s, loud, err := e.PrepareSegmented(t.Context(), req())
	if err != nil || s == nil || loud == nil {
		t.Fatalf("PrepareSegmented = %v, loudness %+v, %v", s != nil, loud, err)
	}
	export := func(r Request) (measured bool, normalised string) {
		t.Helper()
		results, err := e.Export(t.Context(), r, func(ev Event) { measured = measured || ev.Stage == StageAudio })
		if err != nil || len(results) != 1 || results[0].Error != nil {
			t.Fatalf("Export: %+v, %v", results, err)
		}
		return measured, results[0].Loudness
	}
	m, want := export(req())
	if !m || want == "" {
		t.Fatalf("without a measurement: audio stage %v, loudness %q; want it measured and applied", m, want)
	}
	given := req()
	given.Loudness = loud
	if m, got := export(given); m || got != want {
		t.Errorf("with the measurement: audio stage %v, loudness %q; want none measured and %q", m, got, want)
	}
}
