package cli

import (
	"strconv"
	"strings"

	"outpost/internal/errcode"
	"outpost/internal/preset"
	"outpost/internal/render"
)

// finishFlags are the export options for captions, loudness, watermark and
// thumbnails, as typed.
type finishFlags struct {
	captions   string
	burn       bool
	loudness   string
	truePeak   float64
	watermark  string
	wmPos      string
	wmOpacity  float64
	wmWidth    float64
	wmMargin   float64
	thumbnails bool
	thumbAt    string
}

// finishing is the parsed form, applied to each target.
type finishing struct {
	captions         bool
	burn             bool
	loudness         *preset.Loudness
	loudnessOff      bool
	platformLoudness bool
	watermark        *render.Watermark
	thumbnails       bool
	thumbAt          *float64
}

func parseFinishing(f finishFlags) (*finishing, error) {
	fin := &finishing{captions: f.captions != "", burn: f.burn, thumbnails: f.thumbnails}
	if f.burn && f.captions == "" {
		return nil, errcode.New(errcode.InvalidOption, "--burn-captions needs --captions FILE")
	}
	switch l := strings.TrimSpace(f.loudness); strings.ToLower(l) {
	case "":
	case "off", "none":
		fin.loudnessOff = true
	case "platform":
		fin.platformLoudness = true
	default:
		v, err := strconv.ParseFloat(l, 64)
		if err != nil || v < -70 || v > -5 {
			return nil, errcode.New(errcode.InvalidOption, "--loudness %q: give a level in LUFS between -70 and -5 (e.g. -14), platform, or off", f.loudness)
		}
		if f.truePeak < -9 || f.truePeak > 0 {
			return nil, errcode.New(errcode.InvalidOption, "--true-peak %g: give a ceiling in dBTP between -9 and 0", f.truePeak)
		}
		fin.loudness = &preset.Loudness{LUFS: v, TruePeak: f.truePeak}
	}
	if f.watermark != "" {
		pos, err := render.ParsePosition(f.wmPos)
		if err != nil {
			return nil, errcode.Wrap(errcode.InvalidOption, err, "--watermark-position")
		}
		fin.watermark = &render.Watermark{Path: f.watermark, Position: pos, Opacity: f.wmOpacity, Width: f.wmWidth, Margin: f.wmMargin}
		switch {
		case f.wmOpacity <= 0 || f.wmOpacity > 1:
			return nil, errcode.New(errcode.InvalidOption, "--watermark-opacity %g: give a value above 0, up to 1", f.wmOpacity)
		case f.wmWidth <= 0 || f.wmWidth > 1:
			return nil, errcode.New(errcode.InvalidOption, "--watermark-width %g: give a fraction of the frame width above 0, up to 1", f.wmWidth)
		case f.wmMargin < 0 || f.wmMargin > 0.4:
			return nil, errcode.New(errcode.InvalidOption, "--watermark-margin %g: give a fraction between 0 and 0.4", f.wmMargin)
		}
	}
	if f.thumbAt != "" {
		v, err := strconv.ParseFloat(f.thumbAt, 64)
		if err != nil || v < 0 {
			return nil, errcode.New(errcode.InvalidOption, "--thumbnail-at %q: give a time in seconds (e.g. 12.5)", f.thumbAt)
		}
		fin.thumbAt = &v
		fin.thumbnails = true
	}
	return fin, nil
}

// target applies the options to one target.
func (f *finishing) target(t render.Target) render.Target {
	if f.captions {
		t.Captions = render.CaptionsFor(t.Preset, f.burn)
	}
	t.Loudness, t.LoudnessOff, t.PlatformLoudness = f.loudness, f.loudnessOff, f.platformLoudness
	if f.watermark != nil {
		w := *f.watermark
		t.Watermark = &w
	}
	t.Thumbnail = f.thumbnails
	return t
}
