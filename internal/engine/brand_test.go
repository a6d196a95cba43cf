package engine

import (
	"context"
	"errors"
	"image"
	"testing"

	"outpost/internal/errcode"
	"outpost/internal/media"
	"outpost/internal/media/mediatest"
	"outpost/internal/render"
)

// svgLogo is a 40×20 red box with a transparent 10 px border (60×40 in
// all), drawn at any size ffmpeg rasterises it to.
const svgLogo = `<svg xmlns="http://www.w3.org/2000/svg" width="60" height="40" viewBox="0 0 60 40">
<rect x="10" y="10" width="40" height="20" fill="#ff0000"/></svg>`

// TestEngine_Export_watermarkSVG: an SVG logo is rasterised at the size it
// is shown, and its pixels land where it is placed.
func TestEngine_Export_watermarkSVG(t *testing.T) {
	t.Parallel()
	src := mediatest.Generate(t, mediatest.Spec{Width: 320, Height: 180, Duration: 1, FPS: 25, VideoSource: "color=c=black"})
	tg := small(t, "mp4-720p", "wm-svg", 320, 180)
	// 30 % of 320 = 96 px wide (64 px tall); margin 5 % of 180 = 9 px.
	tg.Watermark = &render.Watermark{Path: writeText(t, "logo.svg", svgLogo), Position: render.TopRight, Width: 0.3, Margin: 0.05}
	results, err := newEngine().Export(context.Background(), Request{Source: src, Targets: []render.Target{tg}, OutDir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if results[0].Error != nil {
		t.Fatalf("%+v", results[0].Error)
	}
	f := grab(t, results[0].Path, 0.5)
	// The red box: x from 320-9-96+16 to 320-9-16, y from 9+16 to 9+48.
	box := image.Rect(320-9-96+16, 9+16, 320-9-16, 9+48)
	if got := f.changed(box.Inset(3), [3]int{}); got < 0.95 {
		t.Errorf("%.0f%% of the logo box is drawn", 100*got)
	}
	if c := f.at(box.Min.X+30, box.Min.Y+15); c[0] < 200 || c[1] > 60 || c[2] > 60 {
		t.Errorf("logo pixel %v, want red", c)
	}
	if got := f.changed(image.Rect(0, 0, 200, 180), [3]int{}); got > 0.001 {
		t.Errorf("%.2f%% changed away from the logo", 100*got)
	}
	if got := f.changed(image.Rect(200, 70, 320, 180), [3]int{}); got > 0.001 {
		t.Errorf("%.2f%% changed below the logo", 100*got)
	}
}

func TestEngine_Export_watermarkSVGInvalid(t *testing.T) {
	t.Parallel()
	src := mediatest.Generate(t, mediatest.Spec{Duration: 1, FPS: 25})
	tg := small(t, "mp4-720p", "x", 320, 180)
	tg.Watermark = &render.Watermark{Path: writeText(t, "logo.svg", `<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect`)}
	_, err := newEngine().Export(context.Background(), Request{Source: src, Targets: []render.Target{tg}, OutDir: t.TempDir()}, nil)
	if c := errcode.Of(err); c != errcode.WatermarkInvalid && c != errcode.SVGUnsupported {
		t.Fatalf("err %v, want watermark_invalid", err)
	}
}

// TestSVGError: an ffmpeg without librsvg says so in its log; that is
// svg_unsupported, any other failure a broken image.
func TestSVGError(t *testing.T) {
	t.Parallel()
	noDecoder := &errcode.Error{Code: errcode.RenderFailed, Err: &media.ExitError{Program: "ffmpeg", ExitCode: 1,
		Stderr: "Decoder (codec svg) not found for input stream #0:0"}}
	if c := errcode.Of(svgError("/x/logo.svg", noDecoder)); c != errcode.SVGUnsupported {
		t.Errorf("no decoder: %s, want svg_unsupported", c)
	}
	if c := errcode.Of(svgError("/x/logo.svg", errors.New("exit status 1"))); c != errcode.WatermarkInvalid {
		t.Errorf("other failure: %s, want watermark_invalid", c)
	}
}
