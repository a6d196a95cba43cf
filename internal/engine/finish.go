package engine

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"outpost/internal/caption"
	"outpost/internal/errcode"
	"outpost/internal/media"
	"outpost/internal/render"
)

// workDirName names the hidden folder, inside the output folder, that holds
// a render's own files (captions, ASS scripts, thumbnail candidates) while
// it runs. Random, so two exports into one folder do not collide.
func workDirName() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return ".outpost-" + hex.EncodeToString(b)
}

// readCaptions parses an SRT or WebVTT file and keeps the cues inside the
// source's duration, so a soft track never makes the file longer than its
// video.
func readCaptions(path string, duration float64) ([]caption.Cue, error) {
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, &errcode.Error{Code: errcode.CaptionInvalid, Message: "no caption file at " + filepath.Base(path), Err: err}
	case err != nil:
		return nil, &errcode.Error{Code: errcode.CaptionInvalid, Message: "cannot read " + filepath.Base(path), Err: err}
	case st.Size() > caption.MaxSize:
		return nil, errcode.New(errcode.CaptionInvalid, "%s is larger than %d MiB: is it really captions?", filepath.Base(path), caption.MaxSize>>20)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &errcode.Error{Code: errcode.CaptionInvalid, Message: "cannot read " + filepath.Base(path), Err: err}
	}
	cues, err := caption.Parse(data)
	if err != nil {
		e := errcode.As(err)
		return nil, &errcode.Error{Code: errcode.CaptionInvalid, Message: filepath.Base(path) + ": " + e.Message, Err: err}
	}
	end := time.Duration(duration * float64(time.Second))
	kept := cues[:0]
	for _, c := range cues {
		if duration > 0 && c.Start >= end {
			continue
		}
		if duration > 0 && c.End > end {
			c.End = end
		}
		kept = append(kept, c)
	}
	if len(kept) == 0 {
		return nil, errcode.New(errcode.CaptionInvalid, "%s: every caption starts after the video ends (%.1f s)", filepath.Base(path), duration)
	}
	return kept, nil
}

// checkWatermark makes sure the image is one ffmpeg reads, before any work.
func (e *Engine) checkWatermark(ctx context.Context, path string) error {
	info, err := e.Prober.Probe(ctx, path)
	if err != nil {
		return &errcode.Error{Code: errcode.WatermarkInvalid, Message: "watermark " + filepath.Base(path) + ": " + errcode.As(err).Message, Err: err}
	}
	if info.Video == nil || info.Video.Width == 0 {
		return errcode.New(errcode.WatermarkInvalid, "watermark %s is not an image", filepath.Base(path))
	}
	if render.IsSVG(path) {
		// ffprobe reads an SVG's size without rasterising it: decode it
		// once, so a build without librsvg fails here, before any work.
		err := e.Runner.Run(ctx, []string{"-hide_banner", "-nostdin", "-loglevel", "error", "-i", path,
			"-frames:v", "1", "-f", "null", "-"}, 0, nil)
		if err != nil {
			return svgError(path, err)
		}
	}
	return nil
}

// svgError classifies a failed SVG decode: no librsvg in this ffmpeg, or a
// broken image.
func svgError(path string, err error) error {
	msg := err.Error()
	var x *media.ExitError
	if errors.As(err, &x) {
		msg += " " + x.Stderr
	}
	if strings.Contains(msg, "Decoder (codec svg) not found") || strings.Contains(msg, "codec svg") && strings.Contains(msg, "not found") {
		return &errcode.Error{Code: errcode.SVGUnsupported, Message: "watermark " + filepath.Base(path) + ": this ffmpeg has no SVG decoder (librsvg)", Err: err}
	}
	return &errcode.Error{Code: errcode.WatermarkInvalid, Message: "watermark " + filepath.Base(path) + ": the SVG cannot be rendered", Err: err}
}

// writeRenderFiles writes what the plan reads besides the source: the
// captions track and each burned-in target's ASS script.
func writeRenderFiles(p *prepared) error {
	for _, in := range p.plan.Extra {
		if in.Kind == "captions" {
			if err := writeFile(in.Path, func(b *bytes.Buffer) error { return caption.WriteSRT(b, p.cues) }); err != nil {
				return err
			}
		}
	}
	for _, o := range p.plan.Outputs {
		c := o.Captions
		if c == nil || c.ASS == "" {
			continue
		}
		st := caption.Style{
			Width: c.Style.Width, Height: c.Style.Height, FontSize: c.Style.FontSize,
			Outline: c.Style.Outline, Shadow: c.Style.Shadow,
			MarginL: c.Style.MarginL, MarginR: c.Style.MarginR, MarginV: c.Style.MarginV,
		}
		if err := writeFile(c.ASS, func(b *bytes.Buffer) error { return caption.WriteASS(b, p.cues, st) }); err != nil {
			return err
		}
	}
	return nil
}

func writeFile(path string, write func(*bytes.Buffer) error) error {
	var b bytes.Buffer
	if err := write(&b); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		return errcode.Wrap(errcode.OutputWriteFailed, err, "write "+filepath.Base(path))
	}
	return nil
}

// finish writes the files that go with a checked output: its sidecar
// captions and its thumbnail. A failure here is logged and leaves the
// video itself in place.
func (e *Engine) finish(r *Result, pick func() ([]byte, error), cues []caption.Cue, thumbnailImage string) {
	o := r.Output
	if c := o.Captions; c != nil && c.Sidecar != "" {
		f := caption.Format(strings.TrimPrefix(filepath.Ext(c.Sidecar), "."))
		if err := writeFile(c.Sidecar, func(b *bytes.Buffer) error { return caption.Write(b, f, cues) }); err != nil {
			e.Logger.Warn("sidecar captions not written", "preset", o.PresetID, "err", err)
		} else {
			r.Captions = c.Sidecar
		}
	}
	if th := o.Thumbnail; th != nil {
		keep := func(th *render.ThumbnailOutput) error {
			data, err := pick()
			if err != nil {
				return err
			}
			return os.WriteFile(th.Path, data, 0o644)
		}
		if thumbnailImage != "" {
			keep = func(th *render.ThumbnailOutput) error { return imageThumbnail(thumbnailImage, th) }
		}
		if err := keep(th); err != nil {
			e.Logger.Warn("thumbnail not written", "preset", o.PresetID, "err", err)
		} else {
			r.Thumbnail = th.Path
		}
	}
}

// ThumbnailMaxBytes is the largest thumbnail file: YouTube's limit.
const ThumbnailMaxBytes = 2 << 20

// pickThumbnail picks the best of the render's candidate frames (files
// named by th.Pattern; the programme's, where th prefers a stretch) and
// returns it, re-encoded smaller if it is over
// ThumbnailMaxBytes.
func pickThumbnail(th *render.ThumbnailOutput) ([]byte, error) {
	var paths, preferred []string
	for i := 1; ; i++ {
		p := fmt.Sprintf(th.Pattern, i)
		if _, err := os.Stat(p); err != nil {
			break
		}
		paths = append(paths, p)
		if th.Preferred(i) {
			preferred = append(preferred, p)
		}
	}
	if len(paths) == 0 {
		return nil, errors.New("the render wrote no candidate frame")
	}
	// The programme's frames, not a brand kit's intro or outro, when it
	// has any.
	if len(preferred) > 0 {
		paths = preferred
	}
	best, bestScore := paths[0], math.Inf(-1)
	if len(paths) > 1 {
		for _, p := range paths {
			s, err := scoreFile(p)
			if err != nil {
				continue
			}
			if s > bestScore {
				best, bestScore = p, s
			}
		}
	}
	data, err := os.ReadFile(best)
	if err != nil {
		return nil, err
	}
	for q := 85; len(data) > ThumbnailMaxBytes && q >= 40; q -= 15 {
		img, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			return nil, err
		}
		var b bytes.Buffer
		if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: q}); err != nil {
			return nil, err
		}
		data = b.Bytes()
	}
	return data, nil
}

func scoreFile(path string) (float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	img, err := jpeg.Decode(f)
	if err != nil {
		return 0, err
	}
	return score(img), nil
}

// Frame statistics below which a candidate is blank: black (a fade, a
// slate) or a flat colour.
const (
	minMeanLuma   = 24
	minLumaStdDev = 8
)

// score rates a candidate thumbnail: blank frames score below zero (the
// brighter the better, so an all-blank video still gets its least dark
// frame); others score their sharpness, the mean absolute Laplacian of the
// luma, so a blurred frame mid-motion loses to a crisp one.
func score(img image.Image) float64 {
	var y func(x, y int) float64
	b := img.Bounds()
	switch im := img.(type) {
	case *image.YCbCr:
		y = func(px, py int) float64 { return float64(im.Y[im.YOffset(px, py)]) }
	case *image.Gray:
		y = func(px, py int) float64 { return float64(im.Pix[im.PixOffset(px, py)]) }
	default:
		y = func(px, py int) float64 {
			r, g, bl, _ := img.At(px, py).RGBA()
			return (0.299*float64(r) + 0.587*float64(g) + 0.114*float64(bl)) / 257
		}
	}
	// Every other pixel: thumbnails are large and the statistics do not
	// need them all.
	const step = 2
	var n, sum, sum2, lap float64
	for py := b.Min.Y + step; py < b.Max.Y-step; py += step {
		for px := b.Min.X + step; px < b.Max.X-step; px += step {
			v := y(px, py)
			sum += v
			sum2 += v * v
			lap += math.Abs(4*v - y(px-step, py) - y(px+step, py) - y(px, py-step) - y(px, py+step))
			n++
		}
	}
	if n == 0 {
		return -1
	}
	mean := sum / n
	std := math.Sqrt(max(0, sum2/n-mean*mean))
	if mean < minMeanLuma || std < minLumaStdDev {
		return mean/255 - 1
	}
	return lap / n
}
