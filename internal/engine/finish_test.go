package engine

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"outpost/internal/caption"
	"outpost/internal/errcode"
	"outpost/internal/media"
	"outpost/internal/media/mediatest"
	"outpost/internal/preset"
	"outpost/internal/render"
)

// small returns a copy of preset id resized to w×h (fixed size), so the
// tests encode small frames whatever the platform's real size.
func small(t *testing.T, id, newID string, w, h int) render.Target {
	t.Helper()
	p, err := preset.Lookup(id)
	if err != nil {
		t.Fatal(err)
	}
	p.ID = newID
	p.Video.Width, p.Video.Height, p.Video.KeepAspect = w, h, false
	p.Rules.MinSide, p.Rules.MinDuration = 0, 0
	return render.Target{Preset: p, Quality: preset.Web}
}

// frame is one decoded RGB picture.
type frame struct {
	w, h int
	pix  []byte
}

// grab decodes the frame of path at seconds as raw RGB.
func grab(t *testing.T, path string, at float64) frame {
	t.Helper()
	info := probe(t, path)
	out, err := exec.CommandContext(t.Context(), "ffmpeg", "-hide_banner", "-loglevel", "error", "-ss", seconds(at), "-i", path,
		"-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-").Output()
	if err != nil {
		t.Fatalf("grab frame of %s: %v", path, err)
	}
	f := frame{w: info.Video.Width, h: info.Video.Height, pix: out}
	if len(out) != f.w*f.h*3 {
		t.Fatalf("frame of %s: %d bytes for %dx%d", path, len(out), f.w, f.h)
	}
	return f
}

func seconds(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// changed is the fraction of pixels in r that differ from ref (a
// background colour) by more than 40 in any channel.
func (f frame) changed(r image.Rectangle, ref [3]int) float64 {
	r = r.Intersect(image.Rect(0, 0, f.w, f.h))
	n, diff := 0, 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			i := 3 * (y*f.w + x)
			n++
			for c := range 3 {
				if d := int(f.pix[i+c]) - ref[c]; d > 40 || d < -40 {
					diff++
					break
				}
			}
		}
	}
	if n == 0 {
		return 0
	}
	return float64(diff) / float64(n)
}

// at returns the colour at x, y.
func (f frame) at(x, y int) [3]int {
	i := 3 * (y*f.w + x)
	return [3]int{int(f.pix[i]), int(f.pix[i+1]), int(f.pix[i+2])}
}

func writeText(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func subtitleCodecs(t *testing.T, path string) string {
	t.Helper()
	out, err := exec.CommandContext(t.Context(), "ffprobe", "-v", "error", "-select_streams", "s",
		"-show_entries", "stream=codec_name", "-of", "csv=p=0", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	return strings.TrimSpace(string(out))
}

// TestEngine_Export_captions burns captions into a flat blue clip (a
// landscape and a vertical target), and carries them as soft tracks (MP4,
// WebM) and a sidecar file, all in one render.
func TestEngine_Export_captions(t *testing.T) {
	t.Parallel()
	src := mediatest.Generate(t, mediatest.Spec{Width: 640, Height: 360, Duration: 2, FPS: 30, Audio: true, VideoSource: "color=c=0x2060a0"})
	subs := writeText(t, "subs.srt", "1\n00:00:00,000 --> 00:00:01,900\nHello, WORLD — caption\n\n2\n00:00:01,900 --> 00:00:09,000\nPast the end is clipped\n")
	land := small(t, "mp4-720p", "burn-land", 640, 360)
	land.Captions = render.Captions{Burn: true}
	vert := small(t, "tiktok", "burn-vert", 360, 640)
	vert.Captions = render.Captions{Burn: true}
	vert.LoudnessOff = true
	soft := small(t, "youtube-1080p", "soft-mp4", 320, 180)
	soft.Captions = render.CaptionsFor(soft.Preset, false)
	soft.LoudnessOff = true
	webm := small(t, "webm-1080p", "soft-webm", 320, 180)
	webm.Captions = render.CaptionsFor(webm.Preset, false)
	out := t.TempDir()
	results, err := newEngine().Export(context.Background(), Request{
		Source: src, Targets: []render.Target{land, vert, soft, webm}, OutDir: out, Captions: subs,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if r.Error != nil {
			t.Fatalf("%s: %+v", r.Preset, r.Error)
		}
	}
	blue := [3]int{0x20, 0x60, 0xa0}

	// Landscape: text in the bottom band, nothing above it.
	f := grab(t, results[0].Path, 1)
	if c := f.at(10, 10); math.Abs(float64(c[0]-blue[0]))+math.Abs(float64(c[2]-blue[2])) > 30 {
		t.Fatalf("background %v is not the source's blue", c)
	}
	if got := f.changed(image.Rect(160, 300, 480, 345), blue); got < 0.03 {
		t.Errorf("landscape: only %.1f%% of the caption band changed", 100*got)
	}
	if got := f.changed(image.Rect(0, 0, 640, 280), blue); got > 0.001 {
		t.Errorf("landscape: %.2f%% of the picture above the captions changed", 100*got)
	}

	// Vertical: text above the platform's bottom 20 %, none inside it.
	f = grab(t, results[1].Path, 1)
	if got := f.changed(image.Rect(40, 420, 320, 505), blue); got < 0.03 {
		t.Errorf("vertical: only %.1f%% of the caption band changed", 100*got)
	}
	if got := f.changed(image.Rect(0, 512, 360, 640), blue); got > 0.001 {
		t.Errorf("vertical: %.2f%% of the bottom 20%% (the app's UI) changed", 100*got)
	}
	if got := f.changed(image.Rect(0, 0, 360, 400), blue); got > 0.001 {
		t.Errorf("vertical: %.2f%% of the picture above the captions changed", 100*got)
	}

	// Soft tracks, and the sidecar for the platform that takes uploads.
	if got := subtitleCodecs(t, results[2].Path); got != "mov_text" {
		t.Errorf("mp4 subtitle streams %q, want mov_text", got)
	}
	if got := subtitleCodecs(t, results[3].Path); got != "webvtt" {
		t.Errorf("webm subtitle streams %q, want webvtt", got)
	}
	if d := probe(t, results[2].Path).Duration; d > 2.1 {
		t.Errorf("soft track made the file %.2f s long; captions past the video must be clipped", d)
	}
	if results[2].Captions != filepath.Join(out, "soft-mp4.srt") || results[3].Captions != "" {
		t.Fatalf("sidecars %q %q", results[2].Captions, results[3].Captions)
	}
	data, err := os.ReadFile(results[2].Captions)
	if err != nil {
		t.Fatal(err)
	}
	cues, err := caption.ParseSRT(data)
	if err != nil || len(cues) != 2 || cues[1].End.Seconds() > 2.01 {
		t.Errorf("sidecar cues %v, %v", cues, err)
	}
	noLeftovers(t, out)
	if entries, _ := os.ReadDir(out); len(entries) != 5 {
		t.Errorf("output folder holds %d entries, want 4 videos and 1 sidecar (work files removed)", len(entries))
	}
}

// TestEngine_Export_captionsScripts burns Arabic (right to left) and
// Japanese captions: each must draw pixels, and libass must find a font
// with the glyphs (no "tofu" fallback warnings).
func TestEngine_Export_captionsScripts(t *testing.T) {
	t.Parallel()
	src := mediatest.Generate(t, mediatest.Spec{Width: 640, Height: 360, Duration: 2, FPS: 10, VideoSource: "color=c=black"})
	subs := writeText(t, "subs.vtt", "WEBVTT\n\n00:00.000 --> 00:01.000\nمرحبا بالعالم!\n\n00:01.000 --> 00:02.000\n日本語の字幕です。\n")
	tg := small(t, "mp4-720p", "scripts", 640, 360)
	tg.Captions = render.Captions{Burn: true}
	out := t.TempDir()
	results, err := newEngine().Export(context.Background(), Request{Source: src, Targets: []render.Target{tg}, OutDir: out, Captions: subs}, nil)
	if err != nil || results[0].Error != nil {
		t.Fatalf("%v %+v", err, results[0].Error)
	}
	black := [3]int{0, 0, 0}
	for _, at := range []float64{0.5, 1.5} {
		f := grab(t, results[0].Path, at)
		got := f.changed(image.Rect(200, 305, 440, 340), black)
		if got < 0.02 {
			t.Errorf("at %.1fs only %.1f%% of the caption band has text", at, 100*got)
		}
	}

	// The same cues through libass with warnings on: a missing glyph is
	// logged as a font fallback failure.
	cues, err := caption.ParseVTT([]byte("WEBVTT\n\n00:00.000 --> 00:01.000\nمرحبا بالعالم!\n\n00:00.000 --> 00:01.000\n日本語の字幕です。\n"))
	if err != nil {
		t.Fatal(err)
	}
	var ass bytes.Buffer
	if err := caption.WriteASS(&ass, cues, caption.Style{Width: 320, Height: 180, FontSize: 16, Outline: 1, MarginV: 10}); err != nil {
		t.Fatal(err)
	}
	assPath := writeText(t, "scripts.ass", ass.String())
	log, err := exec.CommandContext(t.Context(), "ffmpeg", "-hide_banner", "-loglevel", "warning", "-f", "lavfi", "-i", "color=c=black:s=320x180:d=0.2",
		"-vf", "subtitles=filename="+render.Escape(assPath), "-f", "null", "-").CombinedOutput()
	if err != nil {
		t.Fatalf("libass: %v\n%s", err, log)
	}
	if strings.Contains(string(log), "Glyph") || strings.Contains(string(log), "fallback") {
		t.Errorf("libass could not draw every character; install fonts-noto-core and fonts-noto-cjk:\n%s", log)
	}
}

func TestEngine_Export_captionsInvalid(t *testing.T) {
	t.Parallel()
	src := mediatest.Generate(t, mediatest.Spec{Duration: 1, FPS: 25})
	subs := writeText(t, "bad.srt", "1\n00:00:01,000 --> 00:00:02,000\nok\n\n2\n00:00:03 --> 00:00:04,000\nbroken\n")
	tg := small(t, "mp4-720p", "x", 320, 180)
	tg.Captions = render.Captions{Burn: true}
	out := filepath.Join(t.TempDir(), "out")
	_, err := newEngine().Export(context.Background(), Request{Source: src, Targets: []render.Target{tg}, OutDir: out, Captions: subs}, nil)
	if errcode.Of(err) != errcode.CaptionInvalid || !strings.Contains(errcode.As(err).Message, "bad.srt: SRT line 6: bad start time") {
		t.Fatalf("err %v, want caption_invalid naming line 6", err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Error("an export refused for its captions created the output folder")
	}
}

// measure returns the integrated loudness and true peak of path's audio.
func measure(t *testing.T, path string) *media.Loudness {
	t.Helper()
	l, err := (&media.Runner{}).MeasureLoudness(t.Context(), path, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestEngine_Export_loudness normalises a quiet tone (a plain gain) and
// plucked notes (loudnorm, peaks limited) to their targets.
func TestEngine_Export_loudness(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		source string
		filter string
		want   preset.Loudness
		how    string
	}{
		{"quiet tone", "sine=frequency=1000", "volume=-6dB", preset.Loudness{LUFS: -14, TruePeak: -1}, "gain"},
		// Plucked notes: 12.7 dB from true peak to loudness, so the 13 dB
		// ceiling (1 dB under the -1 dBTP for AAC) takes limiting.
		{"plucks", "aevalsrc=exprs=0.5*sin(2*PI*440*t)*exp(-20*mod(t\\,0.5))", "", preset.Loudness{LUFS: -14, TruePeak: -1}, "loudnorm"},
		{"override", "sine=frequency=1000", "volume=-6dB", preset.Loudness{LUFS: -20, TruePeak: -2}, "gain"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src := mediatest.Generate(t, mediatest.Spec{Width: 160, Height: 90, Duration: 4, FPS: 10, Audio: true, AudioSource: tc.source, AudioFilter: tc.filter})
			in := measure(t, src)
			tg := small(t, "tiktok", "loud", 160, 90)
			tg.Preset.Rules = preset.Rules{}
			tg.Loudness = &tc.want
			out := t.TempDir()
			var stages []string
			results, err := newEngine().Export(context.Background(), Request{Source: src, Targets: []render.Target{tg}, OutDir: out}, func(e Event) {
				if len(stages) == 0 || stages[len(stages)-1] != e.Stage {
					stages = append(stages, e.Stage)
				}
			})
			if err != nil || results[0].Error != nil {
				t.Fatalf("%v %+v", err, results[0].Error)
			}
			if !strings.HasPrefix(results[0].Loudness, tc.how) {
				t.Errorf("normalised by %q, want %s", results[0].Loudness, tc.how)
			}
			if strings.Join(stages, ",") != "probe,audio,render,check" {
				t.Errorf("stages %v", stages)
			}
			got := measure(t, results[0].Path)
			t.Logf("source %.1f LUFS %.1f dBTP → %.1f LUFS %.1f dBTP (target %g, %s)", in.Integrated, in.TruePeak, got.Integrated, got.TruePeak, tc.want.LUFS, results[0].Loudness)
			if d := got.Integrated - tc.want.LUFS; math.Abs(d) > 1 {
				t.Errorf("integrated loudness %.2f LUFS, want %g ± 1", got.Integrated, tc.want.LUFS)
			}
			if got.TruePeak > tc.want.TruePeak+0.5 {
				t.Errorf("true peak %.2f dBTP above the %g ceiling", got.TruePeak, tc.want.TruePeak)
			}
		})
	}
}

func pngLogo(t *testing.T) string {
	t.Helper()
	// A white 64×32 box with a transparent border of 8 pixels.
	p := filepath.Join(t.TempDir(), "logo.png")
	out, err := exec.CommandContext(t.Context(), "ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi",
		"-i", "color=c=white:s=64x32,format=rgba,pad=80:48:8:8:color=black@0", "-frames:v", "1", p).CombinedOutput()
	if err != nil {
		t.Fatalf("make logo: %v\n%s", err, out)
	}
	return p
}

// TestEngine_Export_watermark overlays a logo bottom right of a landscape
// target (at 80 % opacity) and top left of a vertical one (inside its safe
// area), and checks the pixels where it should and should not be.
func TestEngine_Export_watermark(t *testing.T) {
	t.Parallel()
	src := mediatest.Generate(t, mediatest.Spec{Width: 640, Height: 360, Duration: 1, FPS: 25, VideoSource: "color=c=black"})
	logo := pngLogo(t)
	land := small(t, "mp4-720p", "wm-land", 640, 360)
	land.Watermark = &render.Watermark{Path: logo, Position: render.BottomRight, Width: 0.25, Margin: 0.05, Opacity: 0.8}
	vert := small(t, "tiktok", "wm-vert", 360, 640)
	vert.Watermark = &render.Watermark{Path: logo, Position: render.TopLeft, Width: 0.25, Margin: 0.05}
	out := t.TempDir()
	results, err := newEngine().Export(context.Background(), Request{Source: src, Targets: []render.Target{land, vert}, OutDir: out}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if r.Error != nil {
			t.Fatalf("%s: %+v", r.Preset, r.Error)
		}
	}
	black := [3]int{}
	// Landscape: the logo is 160×96 (its box 128×64 at 16,16), 18 px
	// (5 % of 360) from the right and bottom edges.
	f := grab(t, results[0].Path, 0.5)
	box := image.Rect(640-18-160+16, 360-18-96+16, 640-18-16, 360-18-16)
	if got := f.changed(box.Inset(4), black); got < 0.95 {
		t.Errorf("landscape: %.0f%% of the logo box is drawn", 100*got)
	}
	if c := f.at(box.Min.X+60, box.Min.Y+30); c[0] < 170 || c[0] > 235 {
		t.Errorf("landscape: logo pixel %v, want white at 80%% opacity (about 204)", c)
	}
	if got := f.changed(image.Rect(0, 0, 440, 360), black); got > 0.001 {
		t.Errorf("landscape: %.2f%% changed away from the logo", 100*got)
	}
	// Vertical: 90×54 logo, left 5 % + 18 px, top 10 % + 18 px.
	f = grab(t, results[1].Path, 0.5)
	x0, y0 := int(math.Round(360*0.05+18)), int(math.Round(640*0.1+18))
	if got := f.changed(image.Rect(x0+12, y0+12, x0+78, y0+42), black); got < 0.95 {
		t.Errorf("vertical: %.0f%% of the logo box is drawn", 100*got)
	}
	if got := f.changed(image.Rect(0, 0, 360, y0), black); got > 0.001 {
		t.Errorf("vertical: %.2f%% of the top safe area changed", 100*got)
	}
	if got := f.changed(image.Rect(0, y0+60, 360, 640), black); got > 0.001 {
		t.Errorf("vertical: %.2f%% changed below the logo", 100*got)
	}
}

func TestEngine_Export_watermarkInvalid(t *testing.T) {
	t.Parallel()
	src := mediatest.Generate(t, mediatest.Spec{Duration: 1, FPS: 25})
	tg := small(t, "mp4-720p", "x", 320, 180)
	tg.Watermark = &render.Watermark{Path: writeText(t, "logo.png", "not a png")}
	_, err := newEngine().Export(context.Background(), Request{Source: src, Targets: []render.Target{tg}, OutDir: t.TempDir()}, nil)
	if errcode.Of(err) != errcode.WatermarkInvalid {
		t.Fatalf("err %v, want watermark_invalid", err)
	}
}

func meanLuma(t *testing.T, path string) (image.Image, float64) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := jpeg.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	ycc, ok := img.(*image.YCbCr)
	if !ok {
		t.Fatalf("thumbnail is %T, want a colour JPEG", img)
	}
	sum := 0
	for _, y := range ycc.Y {
		sum += int(y)
	}
	return img, float64(sum) / float64(len(ycc.Y))
}

// TestEngine_Export_thumbnails: on a clip whose first second is black, the
// chosen thumbnail is a picture, at the target's aspect; a manual time
// takes that frame.
func TestEngine_Export_thumbnails(t *testing.T) {
	t.Parallel()
	src := mediatest.Generate(t, mediatest.Spec{Width: 640, Height: 360, Duration: 3, FPS: 25, Audio: true, VideoFilter: "fade=in:st=1:d=0.04"})
	land := small(t, "mp4-720p", "th-land", 640, 360)
	vert := small(t, "tiktok", "th-vert", 180, 320)
	vert.LoudnessOff = true
	land.Thumbnail, vert.Thumbnail = true, true
	out := t.TempDir()
	results, err := newEngine().Export(context.Background(), Request{Source: src, Targets: []render.Target{land, vert}, OutDir: out}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range [][2]int{{640, 360}, {180, 320}} {
		r := results[i]
		if r.Error != nil || r.Thumbnail != strings.TrimSuffix(r.Path, ".mp4")+".jpg" {
			t.Fatalf("%s: thumbnail %q, error %+v", r.Preset, r.Thumbnail, r.Error)
		}
		st, _ := os.Stat(r.Thumbnail)
		img, luma := meanLuma(t, r.Thumbnail)
		if b := img.Bounds(); b.Dx() != want[0] || b.Dy() != want[1] || st.Size() > ThumbnailMaxBytes {
			t.Errorf("%s: %dx%d %d bytes, want %dx%d ≤ 2 MiB", r.Preset, b.Dx(), b.Dy(), st.Size(), want[0], want[1])
		}
		if luma < 40 {
			t.Errorf("%s: mean luma %.0f: the thumbnail is black", r.Preset, luma)
		}
	}
	noLeftovers(t, out)

	// At 0.5 s the clip is still black: a manual time is obeyed.
	at := 0.5
	land.Thumbnail, vert.Thumbnail = true, false
	results, err = newEngine().Export(context.Background(), Request{Source: src, Targets: []render.Target{land}, OutDir: t.TempDir(), ThumbnailAt: &at}, nil)
	if err != nil || results[0].Thumbnail == "" {
		t.Fatalf("%v %+v", err, results[0])
	}
	if _, luma := meanLuma(t, results[0].Thumbnail); luma > 20 {
		t.Errorf("thumbnail at 0.5 s has mean luma %.0f, want the black frame", luma)
	}
}

func TestScore(t *testing.T) {
	t.Parallel()
	flat := image.NewGray(image.Rect(0, 0, 64, 64))
	for i := range flat.Pix {
		flat.Pix[i] = 128
	}
	black := image.NewGray(image.Rect(0, 0, 64, 64))
	sharp := image.NewGray(image.Rect(0, 0, 64, 64))
	soft := image.NewGray(image.Rect(0, 0, 64, 64))
	for y := range 64 {
		for x := range 64 {
			if (x/4+y/4)%2 == 0 {
				sharp.Pix[y*64+x] = 220
			} else {
				sharp.Pix[y*64+x] = 30
			}
		}
	}
	// soft is sharp seen through a 5×5 box blur.
	for y := range 64 {
		for x := range 64 {
			sum, n := 0, 0
			for dy := -2; dy <= 2; dy++ {
				for dx := -2; dx <= 2; dx++ {
					if px, py := x+dx, y+dy; px >= 0 && px < 64 && py >= 0 && py < 64 {
						sum += int(sharp.Pix[py*64+px])
						n++
					}
				}
			}
			soft.Pix[y*64+x] = uint8(sum / n)
		}
	}
	sb, sf, ss, sh := score(black), score(flat), score(soft), score(sharp)
	if sb >= sf || sf >= 0 || ss <= 0 || sh <= ss {
		t.Errorf("scores black %.2f < flat %.2f < 0 < soft %.2f < sharp %.2f expected", sb, sf, ss, sh)
	}
}

// TestEngine_Export_awkwardFolder renders burned captions, a watermark and
// a thumbnail into a folder whose name holds every character that filter
// graphs, image2 patterns and URLs treat specially.
func TestEngine_Export_awkwardFolder(t *testing.T) {
	t.Parallel()
	src := mediatest.Generate(t, mediatest.Spec{Duration: 1, FPS: 25, Audio: true})
	subs := writeText(t, "subs.srt", "1\n00:00:00,000 --> 00:00:01,000\nHi\n")
	out := filepath.Join(t.TempDir(), `it's 100% [a],b;c:d\e`)
	tg := small(t, "mp4-720p", "odd", 320, 180)
	tg.Captions = render.Captions{Burn: true}
	tg.Watermark = &render.Watermark{Path: pngLogo(t)}
	tg.Thumbnail = true
	results, err := newEngine().Export(context.Background(), Request{Source: src, Targets: []render.Target{tg}, OutDir: out, Captions: subs}, nil)
	if err != nil || results[0].Error != nil || results[0].Thumbnail == "" {
		t.Fatalf("%v %+v", err, results[0])
	}
	if entries, _ := os.ReadDir(out); len(entries) != 2 {
		t.Errorf("%d entries in the output folder, want the video and its thumbnail", len(entries))
	}
}
