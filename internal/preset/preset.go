// Package preset holds Outpost's built-in export targets and the platform
// rules each one carries, and checks a probed file against those rules.
//
// Figures come from ../shared/reference/platforms.md (§1 constraint table).
// Where the reference lists two values, the stricter one is used.
package preset

import (
	"fmt"
	"slices"
	"strings"
)

// Level is a quality level. Each preset maps it to encoder settings.
type Level string

// Quality levels, from smallest file to best picture.
const (
	Web   Level = "web"
	HD    Level = "hd"
	Ultra Level = "ultra"
)

// Levels lists the quality levels in order.
var Levels = []Level{Web, HD, Ultra}

// ParseLevel returns the level named s ("" means HD, the default).
func ParseLevel(s string) (Level, error) {
	if s == "" {
		return HD, nil
	}
	l := Level(strings.ToLower(s))
	if !slices.Contains(Levels, l) {
		return "", fmt.Errorf("unknown quality %q: use web, hd or ultra", s)
	}
	return l, nil
}

// Fit says how a source whose aspect differs from the target's is framed.
type Fit string

// Fit modes.
const (
	// FitBlur scales the picture to fit and fills the bars with a blurred,
	// zoomed copy of itself. The default when the aspect changes.
	FitBlur Fit = "blur"
	// FitPad scales to fit and fills the bars with black.
	FitPad Fit = "pad"
	// FitCrop scales to fill and crops what overflows, centred.
	FitCrop Fit = "crop"
)

// ParseFit returns the fit mode named s ("" means blur, the default).
func ParseFit(s string) (Fit, error) {
	switch f := Fit(strings.ToLower(s)); f {
	case "":
		return FitBlur, nil
	case FitBlur, FitPad, FitCrop:
		return f, nil
	}
	return "", fmt.Errorf("unknown fit mode %q: use pad, blur or crop", s)
}

// Quality is what one quality level means for one preset's encoder.
type Quality struct {
	// CRF is the constant rate factor (x264, libvpx-vp9). Zero for codecs
	// without one (ProRes, GIF).
	CRF int `json:"crf,omitempty"`
	// MaxRateKbps and BufSizeKbps cap the video bitrate (VBV). Zero: no cap.
	MaxRateKbps int `json:"maxrate_kbps,omitempty"`
	BufSizeKbps int `json:"bufsize_kbps,omitempty"`
	// Speed is the encoder speed preset: x264 -preset, or VP9 -cpu-used.
	Speed string `json:"speed,omitempty"`
	// ProResProfile is prores_ks -profile:v (2 = 422, 3 = 422 HQ).
	ProResProfile int `json:"prores_profile,omitempty"`
	// AudioKbps is the audio bitrate for lossy audio codecs.
	AudioKbps int `json:"audio_kbps,omitempty"`
}

// Video is a preset's video format.
type Video struct {
	// Codec is the ffprobe codec name of the output: h264, prores, vp9, gif.
	Codec string `json:"codec"`
	// Profile is the ffprobe profile name required of the output ("High").
	Profile string `json:"profile,omitempty"`
	PixFmt  string `json:"pix_fmt"`
	// Width and Height are the output frame size. When KeepAspect is set they
	// are a landscape bounding box instead (swapped for portrait sources) and
	// the output keeps the source's aspect ratio.
	Width      int  `json:"width"`
	Height     int  `json:"height"`
	KeepAspect bool `json:"keep_aspect,omitempty"`
	// MaxFPS caps the frame rate; sources above it are resampled to it.
	// Sources at or below it keep their rate (as platforms recommend) unless
	// they are below the platform's MinFPS.
	MaxFPS float64 `json:"max_fps"`
	// GOPSeconds sets the keyframe interval (closed GOP). Zero: encoder default.
	GOPSeconds float64 `json:"gop_seconds,omitempty"`
}

// Audio is a preset's audio format. Codec "" means the output has no audio.
type Audio struct {
	Codec      string `json:"codec,omitempty"` // ffprobe codec name: aac, pcm_s16le, opus
	SampleRate int    `json:"sample_rate,omitempty"`
	Channels   int    `json:"channels,omitempty"`
	// Loudness is the platform's loudness target; nil leaves the source's
	// level as it is.
	Loudness *Loudness `json:"loudness,omitempty"`
}

// Loudness is an integrated loudness target (EBU R128 / ITU-R BS.1770).
type Loudness struct {
	// LUFS is the integrated loudness, e.g. -14.
	LUFS float64 `json:"integrated_lufs"`
	// TruePeak is the ceiling in dBTP, e.g. -1.
	TruePeak float64 `json:"true_peak_dbtp"`
}

// SafeArea is how much of each edge of the frame the platform's app covers
// with its own interface (buttons, captions, progress bar), as fractions of
// the frame's width (Left, Right) and height (Top, Bottom). Burned-in
// captions and watermarks stay inside it.
type SafeArea struct {
	Top    float64 `json:"top,omitempty"`
	Bottom float64 `json:"bottom,omitempty"`
	Left   float64 `json:"left,omitempty"`
	Right  float64 `json:"right,omitempty"`
}

// Rules are a platform's limits for an uploaded file, checked on every
// rendition. Zero values mean "no limit".
type Rules struct {
	MaxSizeBytes int64   `json:"max_size_bytes,omitempty"`
	MinDuration  float64 `json:"min_duration_seconds,omitempty"`
	MaxDuration  float64 `json:"max_duration_seconds,omitempty"`
	// MinAspect and MaxAspect bound width/height.
	MinAspect float64 `json:"min_aspect,omitempty"`
	MaxAspect float64 `json:"max_aspect,omitempty"`
	MinFPS    float64 `json:"min_fps,omitempty"`
	MaxFPS    float64 `json:"max_fps,omitempty"`
	// MinSide and MaxSide bound each of width and height in pixels.
	MinSide     int      `json:"min_side,omitempty"`
	MaxSide     int      `json:"max_side,omitempty"`
	MaxWidth    int      `json:"max_width,omitempty"`
	VideoCodecs []string `json:"video_codecs,omitempty"`
	AudioCodecs []string `json:"audio_codecs,omitempty"`
	// RequireAudio: the platform expects an audio track (a silent one is
	// added when the source has none).
	RequireAudio bool `json:"require_audio,omitempty"`
	// RequireFastStart: MP4/MOV must have the moov atom before mdat.
	RequireFastStart bool `json:"require_faststart,omitempty"`
	// RequireCFR: the frame rate must be constant.
	RequireCFR bool `json:"require_cfr,omitempty"`
}

// Preset is an export target: a container, formats, quality levels and the
// rules of the platform it is for.
type Preset struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Platform    string `json:"platform"` // youtube, instagram, …, or "generic"
	Description string `json:"description"`
	// Container is the ffmpeg muxer: mp4, mov, webm, gif.
	Container string `json:"container"`
	// Extension is the output file extension without the dot.
	Extension string            `json:"extension"`
	Video     Video             `json:"video"`
	Audio     Audio             `json:"audio"`
	Quality   map[Level]Quality `json:"quality"`
	Rules     Rules             `json:"rules"`
	// SafeArea is the part of the frame the platform's interface covers.
	SafeArea SafeArea `json:"safe_area,omitzero"`
	// CaptionUpload is the caption file format the platform takes alongside
	// the video ("srt"), written as a sidecar file; "" when it takes none.
	CaptionUpload string `json:"caption_upload,omitempty"`
	Builtin       bool   `json:"builtin"`
}

// Size returns the output frame size for a source of display size sw×sh.
// Fixed-size presets return their size; KeepAspect presets fit the source's
// aspect in their box (rotated for portrait sources), never upscaling past the
// box, with even dimensions.
func (p *Preset) Size(sw, sh int) (w, h int) {
	if !p.Video.KeepAspect || sw <= 0 || sh <= 0 {
		return p.Video.Width, p.Video.Height
	}
	bw, bh := p.Video.Width, p.Video.Height
	if sh > sw {
		bw, bh = bh, bw
	}
	// Fit inside the box.
	w, h = bw, bw*sh/sw
	if h > bh {
		w, h = bh*sw/sh, bh
	}
	return even(w), even(h)
}

// even rounds n down to an even number, at least 2.
func even(n int) int {
	n -= n % 2
	return max(n, 2)
}

// Level returns the quality for level l, falling back to HD.
func (p *Preset) Level(l Level) Quality {
	if q, ok := p.Quality[l]; ok {
		return q
	}
	return p.Quality[HD]
}

// Clone returns a deep copy that can be modified without touching p.
func (p *Preset) Clone() Preset {
	c := *p
	c.Quality = make(map[Level]Quality, len(p.Quality))
	for k, v := range p.Quality {
		c.Quality[k] = v
	}
	c.Rules.VideoCodecs = slices.Clone(p.Rules.VideoCodecs)
	c.Rules.AudioCodecs = slices.Clone(p.Rules.AudioCodecs)
	if p.Audio.Loudness != nil {
		l := *p.Audio.Loudness
		c.Audio.Loudness = &l
	}
	return c
}
