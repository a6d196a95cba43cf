package ui

import (
	"fmt"
	"math"
	"slices"

	"outpost/internal/media"
	"outpost/internal/outpost"
	"outpost/internal/preset"
)

// EstimateMethod says how the instant size estimates are made, shown next
// to them. The modal replaces them with measured ones (engine.Estimate, see
// estimateProject) when those arrive.
const EstimateMethod = "upper bound (the quality level's bitrate cap × the duration)"

// rate is what a target's file size is estimated from: kilobits per
// second of video and of audio.
type rate struct {
	VideoKbps float64 `json:"video_kbps"`
	AudioKbps float64 `json:"audio_kbps"`
}

// estimateRate returns the bitrates a size estimate of preset p at level l
// uses for src. For H.264 and VP9 it is the level's bitrate cap (the
// encoder stays below it, so the estimate is an upper bound); for ProRes
// the profile's nominal rate scaled by frame size and rate; for GIF a rule
// of thumb per pixel. Audio is the level's bitrate (PCM's exact rate).
func estimateRate(p preset.Preset, l preset.Level, src *media.Info) rate {
	q := p.Level(l)
	var sw, sh int
	fps := 30.0
	if src != nil && src.Video != nil {
		sw, sh = src.Video.Width, src.Video.Height
		if src.Video.FrameRate > 0 {
			fps = src.Video.FrameRate
		}
	}
	if p.Video.MaxFPS > 0 {
		fps = math.Min(fps, p.Video.MaxFPS)
	}
	w, h := p.Size(sw, sh)
	pixels := float64(w * h)
	var r rate
	switch p.Video.Codec {
	case "prores":
		// Apple's figures at 1920×1080, 29.97 fps: 422 147 Mb/s, HQ 220.
		nominal := 147_000.0
		if q.ProResProfile >= 3 {
			nominal = 220_000
		}
		r.VideoKbps = nominal * pixels * fps / (1920 * 1080 * 29.97)
	case "gif":
		// About a quarter of a byte per pixel per frame for video footage.
		r.VideoKbps = pixels * fps * 0.25 * 8 / 1000
	default:
		r.VideoKbps = float64(q.MaxRateKbps)
		if r.VideoKbps == 0 && src != nil && src.BitRate > 0 {
			r.VideoKbps = float64(src.BitRate) / 1000
		}
	}
	hasAudio := src != nil && src.Audio != nil || p.Rules.RequireAudio
	switch {
	case p.Audio.Codec == "" || !hasAudio:
	case p.Audio.Codec == "pcm_s24le":
		r.AudioKbps = float64(p.Audio.SampleRate*24*max(p.Audio.Channels, 1)) / 1000
	default:
		r.AudioKbps = float64(q.AudioKbps)
	}
	return r
}

// estimateBytes is the size of seconds at r, plus container overhead.
func estimateBytes(r rate, seconds float64) int64 {
	return int64(math.Ceil((r.VideoKbps+r.AudioKbps)*1000/8*seconds*1.01)) + 4096
}

// formatOption is one choice in the export modal's format selector.
type formatOption struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Label       string `json:"label"` // short: "Shorts", "Reel", "1:1"
	Platform    string `json:"platform"`
	PlatformTag string `json:"platform_label"`
	Group       string `json:"group"` // "platforms", "files", "yours"
	Icon        string `json:"icon"`  // inline SVG
	Description string `json:"description"`
	Container   string `json:"container"`
	// Width and Height are the output frame for this source.
	Width      int  `json:"width"`
	Height     int  `json:"height"`
	KeepAspect bool `json:"keep_aspect"`
	// Rates per quality level, for the live size estimate.
	Rates        map[preset.Level]rate `json:"rates"`
	MaxSizeBytes int64                 `json:"max_size_bytes,omitempty"`
	MinFPS       float64               `json:"min_fps,omitempty"`
	MaxFPS       float64               `json:"max_fps,omitempty"`
	// Disabled says why this source cannot be made into it ("" when it can).
	Disabled string `json:"disabled,omitempty"`
	Remedy   string `json:"remedy,omitempty"`
	Default  bool   `json:"default"`
	// Why says why it is pre-selected: "most used" or the source's shape.
	Why string `json:"why,omitempty"`
	// Base and Settings are a user preset's.
	Base     string                 `json:"base,omitempty"`
	Settings outpost.PresetSettings `json:"settings,omitzero"`
}

// shortLabels name the built-ins compactly in the selector.
var shortLabels = map[string]string{
	"youtube-1080p":      "YouTube 1080p",
	"youtube-4k":         "YouTube 4K",
	"youtube-shorts":     "Shorts",
	"instagram-reel":     "Reel",
	"instagram-feed":     "Feed 4:5",
	"facebook-feed":      "Feed 16:9",
	"facebook-reel":      "Reel",
	"linkedin-landscape": "Landscape",
	"linkedin-square":    "Square",
	"tiktok":             "Vertical",
	"mp4-720p":           "MP4 720p",
	"mp4-1080p":          "MP4 1080p",
	"mp4-4k":             "MP4 4K",
	"mov-prores-1080p":   "MOV ProRes",
	"webm-1080p":         "WebM 1080p",
	"gif-480p":           "GIF 480p",
}

// Shapes of a source.
const (
	shapeVertical  = "vertical"
	shapeLandscape = "landscape"
	shapeSquare    = "square"
)

func shapeOf(src *media.Info) string {
	a := src.Aspect()
	switch {
	case a == 0:
		return shapeLandscape
	case a < 0.9:
		return shapeVertical
	case a > 1.1:
		return shapeLandscape
	}
	return shapeSquare
}

// shapeDefaults are pre-selected for a source of each shape when the
// workspace has no history to go by.
var shapeDefaults = map[string][]string{
	shapeVertical:  {"instagram-reel", "tiktok", "youtube-shorts"},
	shapeLandscape: {"youtube-1080p", "linkedin-landscape"},
	shapeSquare:    {"instagram-feed", "linkedin-square"},
}

// fitsShape reports whether a preset suits a source of shape, for
// pre-selection of the workspace's habits: generic files keep the
// source's aspect and square-ish frames (1:1, 4:5) take any source; only
// the opposite orientation (a 9:16 target for a 16:9 source, or the
// reverse) is left out.
func fitsShape(p preset.Preset, shape string) bool {
	if p.Video.KeepAspect {
		return true
	}
	w, h := float64(p.Video.Width), float64(p.Video.Height)
	if h/w >= 0.75 && h/w <= 1.3 {
		return true
	}
	switch shape {
	case shapeVertical:
		return h > w
	case shapeLandscape:
		return w > h
	}
	return false
}

// formatOptions lists the modal's choices for a source: every built-in,
// then the workspace's presets, with estimates, what the source cannot
// be made into, and the pre-selection.
func formatOptions(src *media.Info, user []outpost.Preset, mostUsed []string) []formatOption {
	shape := shapeOf(src)
	var out []formatOption
	byID := map[string]int{}
	for _, p := range preset.Builtins() {
		o := option(p, src)
		o.Label = shortLabels[p.ID]
		if o.Label == "" {
			o.Label = p.Name
		}
		o.Group = "platforms"
		if p.Platform == "generic" {
			o.Group = "files"
		}
		byID[p.ID] = len(out)
		out = append(out, o)
	}
	for _, up := range user {
		base, err := preset.Lookup(up.BasePresetID)
		if up.Builtin || err != nil {
			continue
		}
		o := option(base, src)
		o.ID, o.Name, o.Label, o.Group, o.Base = up.ID, up.Name, up.Name, "yours", base.ID
		if up.Settings != nil {
			o.Settings = *up.Settings
		}
		o.Description = base.Name + settingsSummary(o.Settings)
		o.Icon = icons["preset"]
		byID[up.ID] = len(out)
		out = append(out, o)
	}

	// The workspace's habits first, where they suit this source.
	picked := 0
	for _, id := range mostUsed {
		i, ok := byID[id]
		if !ok || out[i].Disabled != "" || picked == 3 {
			continue
		}
		if b, err := preset.Lookup(firstNonEmpty(out[i].Base, id)); err != nil || !fitsShape(b, shape) {
			continue
		}
		out[i].Default, out[i].Why = true, "most used"
		picked++
	}
	if picked == 0 {
		for _, id := range shapeDefaults[shape] {
			if i, ok := byID[id]; ok && out[i].Disabled == "" {
				out[i].Default, out[i].Why = true, "suits "+shape+" video"
			}
		}
	}
	return out
}

func option(p preset.Preset, src *media.Info) formatOption {
	o := formatOption{
		ID: p.ID, Name: p.Name, Platform: p.Platform, PlatformTag: platformLabel(p.Platform),
		Icon: icons[presetIcon(p.ID, p.Platform, p.Container)], Description: p.Description,
		Container: p.Container, KeepAspect: p.Video.KeepAspect,
		MaxSizeBytes: p.Rules.MaxSizeBytes, MinFPS: p.Rules.MinFPS, MaxFPS: p.Rules.MaxFPS,
		Rates: map[preset.Level]rate{},
	}
	if o.MaxFPS == 0 {
		o.MaxFPS = p.Video.MaxFPS
	}
	if src.Video != nil {
		o.Width, o.Height = p.Size(src.Video.Width, src.Video.Height)
	} else {
		o.Width, o.Height = p.Video.Width, p.Video.Height
	}
	for _, l := range preset.Levels {
		o.Rates[l] = estimateRate(p, l, src)
	}
	if vs := p.CheckSource(src); len(vs) > 0 {
		o.Disabled, o.Remedy = vs[0].Message, vs[0].Remedy
	}
	return o
}

func settingsSummary(s outpost.PresetSettings) string {
	var parts string
	if s.Quality != "" {
		parts += ", " + qualityLabel(s.Quality)
	}
	if s.Fit != "" {
		parts += ", " + labelOf(fitChoices, s.Fit)
	}
	if s.FPS > 0 {
		parts += fmt.Sprintf(", %g fps", s.FPS)
	}
	if s.VideoKbps > 0 {
		parts += fmt.Sprintf(", %d kb/s", s.VideoKbps)
	}
	if s.BrandKit != "" {
		parts += ", brand kit " + s.BrandKit
	}
	if s.CaptionsMode != "" {
		parts += ", captions: " + labelOf(captionChoices, s.CaptionsMode)
	}
	switch s.Loudness {
	case "", outpost.LoudnessOff:
	case outpost.LoudnessPlatform:
		parts += ", platform loudness"
	default:
		parts += ", " + string(s.Loudness) + " LUFS"
	}
	return parts
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// presetName names a built-in or a user preset id.
func presetName(id string, user map[string]outpost.Preset) string {
	if p, err := preset.Lookup(id); err == nil {
		return p.Name
	}
	if up, ok := user[id]; ok {
		return up.Name
	}
	return id
}

// presetIconFor is the icon of a built-in or a user preset id.
func presetIconFor(id string, user map[string]outpost.Preset) string {
	if p, err := preset.Lookup(id); err == nil {
		return presetIcon(p.ID, p.Platform, p.Container)
	}
	if up, ok := user[id]; ok {
		if p, err := preset.Lookup(up.BasePresetID); err == nil {
			return presetIcon(p.ID, p.Platform, p.Container)
		}
	}
	return "preset"
}

// presetPlatforms lists the platforms of the built-ins, for the history filter.
func presetPlatforms() []string {
	var ps []string
	for _, p := range preset.Builtins() {
		if !slices.Contains(ps, p.Platform) {
			ps = append(ps, p.Platform)
		}
	}
	return ps
}
