package render

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"outpost/internal/preset"
)

// Encoding is what one video encoder of a plan is told. An encode may serve
// several outputs (Output.SharesEncodeWith): its settings then satisfy
// every one of them (see mergeEncoding). It is a value of its own, not a
// function of one target, so that a segment of the source or another
// encoder (hardware) can be planned with the same settings.
type Encoding struct {
	// Encoder is the ffmpeg encoder: libx264, libvpx-vp9, prores_ks, gif,
	// or a hardware one (h264_nvenc, h264_vaapi, h264_qsv: OnHardware).
	Encoder string `json:"encoder"`
	// Speed is x264's -preset or VP9's -cpu-used.
	Speed string `json:"speed,omitempty"`
	CRF   int    `json:"crf,omitempty"`
	// MaxRateKbps and BufSizeKbps are the VBV cap; 0 for none.
	MaxRateKbps int `json:"maxrate_kbps,omitempty"`
	BufSizeKbps int `json:"bufsize_kbps,omitempty"`
	// Profile is the encoder's profile name (x264: "high").
	Profile string `json:"profile,omitempty"`
	// GOP is the keyframe interval in frames; 0 leaves the encoder's.
	GOP int `json:"gop_frames,omitempty"`
	// ProResProfile is prores_ks -profile:v.
	ProResProfile int `json:"prores_profile,omitempty"`
	// Threads caps the encoder's threads; 0 leaves ffmpeg's choice.
	Threads int `json:"threads,omitempty"`
}

// TargetEncoding is what target t alone is encoded with at fps, with at
// most threads encoder threads (0: ffmpeg's choice).
func TargetEncoding(t *Target, fps float64, threads int) Encoding {
	q := t.Preset.Level(t.Quality)
	e := Encoding{Threads: threads}
	if s := t.Preset.Video.GOPSeconds; s > 0 {
		e.GOP = max(1, int(math.Round(fps*s)))
	}
	switch t.Preset.Video.Codec {
	case "h264":
		e.Encoder, e.Speed, e.CRF = "libx264", q.Speed, q.CRF
		e.MaxRateKbps, e.BufSizeKbps = q.MaxRateKbps, q.BufSizeKbps
		if t.VideoKbps > 0 {
			e.MaxRateKbps, e.BufSizeKbps = t.VideoKbps, 2*t.VideoKbps
		}
		e.Profile = strings.ToLower(t.Preset.Video.Profile)
	case "vp9":
		e.Encoder, e.Speed, e.CRF, e.MaxRateKbps = "libvpx-vp9", q.Speed, q.CRF, q.MaxRateKbps
		if t.VideoKbps > 0 {
			e.MaxRateKbps = t.VideoKbps
		}
	case "prores":
		e.Encoder, e.ProResProfile = "prores_ks", q.ProResProfile
	case "gif":
		e = Encoding{Encoder: "gif", Threads: threads}
	default:
		e.Encoder = t.Preset.Video.Codec
	}
	return e
}

// Args are the encoder's ffmpeg output options.
func (e Encoding) Args() []string {
	var args []string
	switch e.Encoder {
	case NVENC.H264(), VAAPI.H264(), QSV.H264():
		args = e.hardwareArgs()
	case "libx264":
		args = []string{"-c:v", "libx264", "-preset", e.Speed, "-crf", strconv.Itoa(e.CRF)}
		if e.MaxRateKbps > 0 {
			args = append(args, "-maxrate", kbps(e.MaxRateKbps), "-bufsize", kbps(e.BufSizeKbps))
		}
		if e.Profile != "" {
			args = append(args, "-profile:v", e.Profile)
		}
		args = append(args, "-bf", "2")
	case "libvpx-vp9":
		args = []string{"-c:v", "libvpx-vp9", "-crf", strconv.Itoa(e.CRF), "-b:v", kbps(e.MaxRateKbps),
			"-deadline", "good", "-cpu-used", e.Speed, "-row-mt", "1"}
	case "prores_ks":
		args = []string{"-c:v", "prores_ks", "-profile:v", strconv.Itoa(e.ProResProfile), "-vendor", "apl0"}
	case "gif":
		args = []string{"-c:v", "gif"}
	default:
		args = []string{"-c:v", e.Encoder}
	}
	if e.GOP > 0 {
		args = append(args, "-g", strconv.Itoa(e.GOP))
	}
	if e.Threads > 0 {
		args = append(args, "-threads", strconv.Itoa(e.Threads))
	}
	// Constant frame rate whatever the muxer would pick: the chain's fps
	// filter (or the source's constant rate) sets it.
	return append(args, "-fps_mode", "cfr")
}

// mergeEncoding returns settings that satisfy both a and b, which differ
// at most in their limits: the lower bitrate cap and buffer, the shorter
// GOP. (A zero is "no limit", so the other side's limit wins.)
func mergeEncoding(a, b Encoding) Encoding {
	lower := func(x, y int) int {
		switch {
		case x == 0:
			return y
		case y == 0:
			return x
		}
		return min(x, y)
	}
	a.MaxRateKbps = lower(a.MaxRateKbps, b.MaxRateKbps)
	a.BufSizeKbps = lower(a.BufSizeKbps, b.BufSizeKbps)
	a.GOP = lower(a.GOP, b.GOP)
	return a
}

// limits is the part of e that mergeEncoding may change.
func (e Encoding) limits() string {
	return fmt.Sprintf("maxrate=%d bufsize=%d gop=%d", e.MaxRateKbps, e.BufSizeKbps, e.GOP)
}

// withoutLimits is e with the limits cleared: two targets whose encodings
// are equal but for their limits can share one encode.
func (e Encoding) withoutLimits() Encoding {
	e.MaxRateKbps, e.BufSizeKbps, e.GOP = 0, 0, 0
	return e
}

// shareable reports whether targets at level may share an encode whose
// limits are stricter than their own. At Ultra a target keeps its own
// encode rather than take a lower cap or a shorter GOP than its platform
// allows; at Web and HD the shared, stricter encode is used (the platforms'
// caps are close, and one encode instead of several is worth more than the
// last few percent of bitrate).
func shareable(level preset.Level) bool { return level != preset.Ultra }

// encodeGroup is one encode of a plan and the outputs it serves, in
// target order.
type encodeGroup struct {
	members []int // output indexes; the first one's file is written
	enc     Encoding
}

// groupEncodes groups outputs whose files can be the same bytes. keys[i] is
// everything about output i's file except the encoder's limits; encs[i]
// its own encoding. It returns the groups in the order of their first
// member.
func groupEncodes(keys []string, encs []Encoding, levels []preset.Level) []*encodeGroup {
	var groups []*encodeGroup
	byKey := map[string]*encodeGroup{}
	for i, k := range keys {
		if !shareable(levels[i]) {
			// Only targets whose own limits are the same share.
			k += "\x00" + encs[i].limits()
		}
		if g, ok := byKey[k]; ok {
			g.members = append(g.members, i)
			g.enc = mergeEncoding(g.enc, encs[i])
			continue
		}
		g := &encodeGroup{members: []int{i}, enc: encs[i]}
		groups = append(groups, g)
		byKey[k] = g
	}
	return groups
}

// sharedWith names the other members of g for output i.
func (g *encodeGroup) sharedWith(i int, outs []Output) []string {
	var ids []string
	for _, m := range g.members {
		if m != i {
			ids = append(ids, outs[m].PresetID)
		}
	}
	return slices.Clip(ids)
}
