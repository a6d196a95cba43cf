package render

import (
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"outpost/internal/errcode"
	"outpost/internal/media"
	"outpost/internal/preset"
)

// Captions says how a target carries the export's captions
// (Options.Captions). All false: no captions.
type Captions struct {
	// Burn renders them into the picture (libass), inside the preset's
	// safe area.
	Burn bool
	// Track adds a soft subtitle track: mov_text in MP4/MOV, WebVTT in
	// WebM. Ignored for containers without subtitles (GIF).
	Track bool
	// Sidecar writes a caption file next to the output, in the format the
	// platform takes with uploads (Preset.CaptionUpload, else SRT).
	Sidecar bool
}

// Position is where a watermark sits.
type Position string

// Watermark positions: the four corners and the centre.
const (
	TopLeft     Position = "tl"
	TopRight    Position = "tr"
	BottomLeft  Position = "bl"
	BottomRight Position = "br"
	Center      Position = "center"
)

// ParsePosition returns the position named s ("" means bottom right).
func ParsePosition(s string) (Position, error) {
	switch p := Position(strings.ToLower(s)); p {
	case "":
		return BottomRight, nil
	case TopLeft, TopRight, BottomLeft, BottomRight, Center:
		return p, nil
	}
	return "", fmt.Errorf("unknown position %q: use tl, tr, bl, br or center", s)
}

// Watermark is a brand image overlaid on every frame of a target.
type Watermark struct {
	// Path is the image: a PNG, with an alpha channel for a logo, or an
	// SVG (rasterised by ffmpeg's librsvg decoder at the size shown).
	Path     string
	Position Position // "" means bottom right
	// Width is the image's width as a fraction of the frame's width; 0
	// means 0.15. Its height follows the image's aspect.
	Width float64
	// Margin is the gap to the frame's edges as a fraction of the frame's
	// shorter side, on top of the preset's safe area; 0 means 0.03.
	Margin float64
	// Opacity from 0 (invisible) to 1; 0 means 1.
	Opacity float64
}

func (w *Watermark) withDefaults() Watermark {
	c := *w
	if c.Position == "" {
		c.Position = BottomRight
	}
	if c.Width <= 0 {
		c.Width = 0.15
	}
	if c.Margin <= 0 {
		c.Margin = 0.03
	}
	if c.Opacity <= 0 {
		c.Opacity = 1
	}
	return c
}

func (w *Watermark) validate() error {
	switch {
	case w.Path == "":
		return errcode.New(errcode.InvalidOption, "watermark: no image path")
	case w.Width < 0 || w.Width > 1:
		return errcode.New(errcode.InvalidOption, "watermark width %g: give a fraction of the frame width between 0 and 1", w.Width)
	case w.Margin < 0 || w.Margin > 0.4:
		return errcode.New(errcode.InvalidOption, "watermark margin %g: give a fraction of the frame between 0 and 0.4", w.Margin)
	case w.Opacity < 0 || w.Opacity > 1:
		return errcode.New(errcode.InvalidOption, "watermark opacity %g: give a value between 0 and 1", w.Opacity)
	}
	if _, err := ParsePosition(string(w.Position)); err != nil {
		return errcode.Wrap(errcode.InvalidOption, err, "watermark position")
	}
	return nil
}

// CaptionOutput is how one output carries captions. The caller writes the
// files it names before running the plan (ASS, the track's WebVTT) or after
// (Sidecar).
type CaptionOutput struct {
	// ASS is the script to burn in, written with Style; "" when captions
	// are not burned in.
	ASS   string        `json:"ass,omitempty"`
	Style *CaptionStyle `json:"style,omitempty"`
	// TrackCodec is the soft track's codec (mov_text, webvtt); "" for none.
	TrackCodec string `json:"track_codec,omitempty"`
	// Sidecar is the caption file next to the output; "" for none.
	Sidecar string `json:"sidecar,omitempty"`
}

// CaptionStyle is the look of burned-in captions in the output's pixels
// (see caption.Style).
type CaptionStyle struct {
	Width    int     `json:"width"`
	Height   int     `json:"height"`
	FontSize int     `json:"font_size"`
	Outline  float64 `json:"outline"`
	Shadow   float64 `json:"shadow"`
	MarginL  int     `json:"margin_l"`
	MarginR  int     `json:"margin_r"`
	MarginV  int     `json:"margin_v"`
}

// captionStyle sizes captions for a w×h frame: the font relative to the
// frame height (smaller on portrait frames, whose lines are narrow), the
// bottom margin above the platform's interface.
func captionStyle(w, h int, safe preset.SafeArea) *CaptionStyle {
	ratio := 0.05
	if h > w {
		ratio = 0.035
	}
	size := max(8, int(math.Round(float64(h)*ratio)))
	return &CaptionStyle{
		Width: w, Height: h, FontSize: size,
		Outline: math.Round(float64(size)/16*10) / 10,
		Shadow:  math.Round(float64(size)/40*10) / 10,
		MarginL: int(math.Round(float64(w) * max(safe.Left, 0.05))),
		MarginR: int(math.Round(float64(w) * max(safe.Right, 0.05))),
		MarginV: int(math.Round(float64(h) * max(safe.Bottom+0.02, 0.06))),
	}
}

// trackCodec is the soft subtitle codec a container takes, "" for none.
func trackCodec(container string) string {
	switch container {
	case "mp4", "mov":
		return "mov_text"
	case "webm":
		return "webvtt"
	}
	return ""
}

// ThumbnailOutput is the still picture rendered with an output. The render
// writes candidate frames (Pattern, a printf-style image2 file pattern) and
// the caller keeps the best as Path.
type ThumbnailOutput struct {
	Path    string `json:"path"`
	Pattern string `json:"pattern"`
	Width   int    `json:"width"`
	Height  int    `json:"height"`
	// Step is the time in seconds between candidates (the first is at 0);
	// 0 when one frame was asked for at At.
	Step float64 `json:"step_seconds,omitempty"`
	At   float64 `json:"at_seconds,omitempty"`
	// From and To, when To > From, are the programme's stretch of a
	// timeline with a brand kit's intro or outro: candidates there are
	// preferred to the intro's and outro's frames.
	From float64 `json:"prefer_from_seconds,omitempty"`
	To   float64 `json:"prefer_to_seconds,omitempty"`
	// Args are the ffmpeg options of the candidates' image2 output,
	// ending with Pattern.
	Args []string `json:"args"`
}

// ThumbnailMaxSide bounds thumbnails: YouTube's recommended 1280×720 for
// 16:9, the same long side for other shapes.
const ThumbnailMaxSide = 1280

// thumbnailCandidates is about how many frames are offered for an
// automatic thumbnail.
const thumbnailCandidates = 12

func thumbnailSize(w, h int) (int, int) {
	if w >= h {
		tw := min(w, ThumbnailMaxSide)
		return tw, evenAtLeast(int(math.Round(float64(tw)*float64(h)/float64(w))), 2)
	}
	th := min(h, ThumbnailMaxSide)
	return evenAtLeast(int(math.Round(float64(th)*float64(w)/float64(h))), 2), th
}

// Preferred reports whether candidate file n (1-based, at (n-1)·Step
// seconds) lies in the programme (From–To); every candidate does when no
// stretch is set.
func (t *ThumbnailOutput) Preferred(n int) bool {
	if t.To <= t.From || t.Step <= 0 {
		return true
	}
	at := float64(n-1) * t.Step
	return at >= t.From && at < t.To
}

// thumbnailStep is the whole number of seconds between candidates.
func thumbnailStep(duration float64) float64 {
	return max(1, math.Ceil(duration/thumbnailCandidates))
}

// thumbnailChain is the filters that pick candidate frames from a
// target's framed picture and size them.
func thumbnailChain(t *ThumbnailOutput) string {
	pick := fmt.Sprintf("fps=1/%d", int(t.Step))
	if t.Step == 0 {
		// The first frame at or after At, and nothing else.
		pick = "trim=start=" + seconds(t.At) + ",select=" + Escape("eq(n,0)")
	}
	return fmt.Sprintf("%s,scale=%d:%d,setsar=1,format=yuvj420p", pick, t.Width, t.Height)
}

func thumbnailArgs(label string, t *ThumbnailOutput) []string {
	return []string{"-map", "[" + label + "]", "-c:v", "mjpeg", "-q:v", "3", "-fps_mode", "passthrough", "-f", "image2", t.Pattern}
}

// thumbnailPattern is where the candidates of path's thumbnail go: hidden,
// next to the output.
func thumbnailPattern(workDir, id string) string {
	// image2 (and fmt, which reads the pattern back) take "%%" for a "%"
	// in the folder or preset name.
	return strings.ReplaceAll(filepath.Join(workDir, "."+id+".thumb-"), "%", "%%") + "%03d.jpg"
}

// loudnessTolerance is how far (LU) a source may be from the target and
// still be left as it is.
const loudnessTolerance = 0.5

// lossyHeadroom is how far under the true-peak ceiling a lossy encoder's
// input is kept: AAC and Opus overshoot their input's peaks by up to about
// 1 dB, and the ceiling is for the delivered file.
const lossyHeadroom = 1.0

// loudnessFilter returns the audio filter that brings a source measured at
// m to target l in codec, and a short description; "" when nothing needs
// doing.
//
// A plain gain keeps the dynamics untouched and is exact, so it is used
// whenever the gained true peak stays under the ceiling; otherwise
// loudnorm, given the measurement, applies a linear gain where it can and
// limits peaks where it must.
func loudnessFilter(m *media.Loudness, l *preset.Loudness, codec string) (string, string) {
	if m == nil || l == nil || m.Silent() {
		return "", ""
	}
	ceiling := l.TruePeak
	if codec != "" && !strings.HasPrefix(codec, "pcm_") {
		ceiling -= lossyHeadroom
	}
	gain := l.LUFS - m.Integrated
	if math.Abs(gain) <= loudnessTolerance && m.TruePeak <= ceiling {
		return "", ""
	}
	if m.TruePeak+gain <= ceiling {
		g := strconv.FormatFloat(gain, 'f', 2, 64)
		return "volume=" + g + "dB", "gain " + g + " dB"
	}
	lra := math.Min(50, math.Max(11, math.Ceil(m.Range)+1))
	f := fmt.Sprintf("loudnorm=I=%s:TP=%s:LRA=%s:measured_I=%s:measured_TP=%s:measured_LRA=%s:measured_thresh=%s:linear=true:print_format=none",
		num(l.LUFS), num(ceiling), num(lra), num(m.Integrated), num(m.TruePeak), num(m.Range), num(m.Threshold))
	return f, "loudnorm to " + num(l.LUFS) + " LUFS, peaks limited to " + num(l.TruePeak) + " dBTP"
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// targetLoudness is the loudness a target asks for: its override, else its
// preset's; nil for none.
func targetLoudness(t *Target) *preset.Loudness {
	switch {
	case t.LoudnessOff || t.Preset.Audio.Codec == "":
		return nil
	case t.Loudness != nil:
		return t.Loudness
	case t.PlatformLoudness:
		return t.Preset.Audio.Loudness
	}
	// Opt-in: a master that already suits the platform stays a pure
	// stream copy unless the user asks for normalisation.
	return nil
}

// NeedsLoudness reports whether any target normalises the source's
// loudness, so that the caller measures it (Options.Loudness) first.
func NeedsLoudness(src *media.Info, targets []Target) bool {
	if src == nil || src.Audio == nil {
		return false
	}
	for i := range targets {
		if targetLoudness(&targets[i]) != nil {
			return true
		}
	}
	return false
}

// IsSVG reports whether path names an SVG image, which ffmpeg rasterises
// (with librsvg) rather than decodes.
func IsSVG(path string) bool {
	return strings.EqualFold(filepath.Ext(path), ".svg")
}

// watermarkWidth is the image's width in a frame fw pixels wide.
func watermarkWidth(w Watermark, fw int) int {
	return evenAtLeast(int(math.Round(float64(fw)*w.Width)), 2)
}

// watermarkChain scales the image to the frame and sets its opacity.
func watermarkChain(w Watermark, fw int) string {
	f := fmt.Sprintf("scale=%d:-2,format=rgba", watermarkWidth(w, fw))
	if w.Opacity < 1 {
		f += ",colorchannelmixer=aa=" + strconv.FormatFloat(w.Opacity, 'f', 3, 64)
	}
	return f
}

// overlayPosition places the image inside the frame's safe area, Margin
// away from its edges.
func overlayPosition(w Watermark, fw, fh int, safe preset.SafeArea) string {
	m := float64(min(fw, fh)) * w.Margin
	left := int(math.Round(float64(fw)*safe.Left + m))
	right := int(math.Round(float64(fw)*safe.Right + m))
	top := int(math.Round(float64(fh)*safe.Top + m))
	bottom := int(math.Round(float64(fh)*safe.Bottom + m))
	var x, y string
	switch w.Position {
	case TopLeft:
		x, y = strconv.Itoa(left), strconv.Itoa(top)
	case TopRight:
		x, y = fmt.Sprintf("W-w-%d", right), strconv.Itoa(top)
	case BottomLeft:
		x, y = strconv.Itoa(left), fmt.Sprintf("H-h-%d", bottom)
	case Center:
		x, y = "(W-w)/2", "(H-h)/2"
	default:
		x, y = fmt.Sprintf("W-w-%d", right), fmt.Sprintf("H-h-%d", bottom)
	}
	return "overlay=x=" + Escape(x) + ":y=" + Escape(y) + ":format=auto"
}

// CaptionsFor is the usual way a target carries an export's captions:
// burned in when burn is set; otherwise a soft track where the container
// has one, plus a sidecar file for platforms that take caption uploads.
// (Burned captions get neither, or viewers who turn captions on would see
// them twice.)
func CaptionsFor(p preset.Preset, burn bool) Captions {
	if burn {
		return Captions{Burn: true}
	}
	return Captions{Track: trackCodec(p.Container) != "", Sidecar: p.CaptionUpload != ""}
}

// PreviewMaxSide is the long side of a preview's frame by default: 640×360
// for 16:9.
const PreviewMaxSide = 640

// PreviewTarget turns t into its preview for a source of display size
// sw×sh: the same framing, watermark and burned-in captions (soft ones are
// burned too, so they show in a browser), as a small H.264 + AAC MP4 at
// x264's fastest settings, at most 15 fps (render it with
// Options.FastDecode, which drops frames), long side maxSide (0 means
// PreviewMaxSide), written as <id>.preview.mp4. It has no platform rules,
// no thumbnail, no sidecar and no loudness change: a preview is for
// looking, and must come back in seconds.
func PreviewTarget(t Target, sw, sh, maxSide int) Target {
	if maxSide <= 0 {
		maxSide = PreviewMaxSide
	}
	p := t.Preset.Clone()
	w, h := p.Size(sw, sh)
	if long := max(w, h); long > maxSide {
		w = evenAtLeast(int(math.Round(float64(w)*float64(maxSide)/float64(long))), 2)
		h = evenAtLeast(int(math.Round(float64(h)*float64(maxSide)/float64(long))), 2)
	}
	hasAudio := p.Audio.Codec != ""
	p.Container, p.Extension = "mp4", "preview.mp4"
	p.Video = preset.Video{Codec: "h264", PixFmt: "yuv420p", Width: w, Height: h, MaxFPS: min(15, p.Video.MaxFPS), GOPSeconds: 2}
	p.Audio = preset.Audio{}
	if hasAudio {
		p.Audio = preset.Audio{Codec: "aac", SampleRate: 48000, Channels: 2}
	}
	q := preset.Quality{CRF: 30, Speed: "ultrafast", AudioKbps: 96}
	p.Quality = map[preset.Level]preset.Quality{preset.Web: q, preset.HD: q, preset.Ultra: q}
	p.Rules = preset.Rules{RequireFastStart: true}
	p.CaptionUpload = ""
	t.Preset = p
	t.Quality = preset.HD
	t.Path = ""
	t.FPS, t.VideoKbps = 0, 0
	t.NoPassthrough = true
	t.Thumbnail = false
	t.LoudnessOff, t.Loudness = true, nil
	t.Captions = Captions{Burn: t.Captions.Burn || t.Captions.Track}
	return t
}

// ThumbnailSize is the size of the thumbnail of a w×h video: its aspect,
// long side at most ThumbnailMaxSide (YouTube: 1280×720).
func ThumbnailSize(w, h int) (int, int) { return thumbnailSize(w, h) }
