package ui

import (
	"strings"

	"outpost/internal/outpost"
	"outpost/internal/preset"
	"outpost/internal/render"
)

// choice is a stored value with the words a page shows for it.
type choice struct {
	Value, Label string
}

// The pages' words for stored values: forms show these, never the raw
// values ("hd", "br").
var (
	qualityChoices = []choice{{string(preset.Web), "Web"}, {string(preset.HD), "HD"}, {string(preset.Ultra), "Ultra"}}
	fitChoices     = []choice{{"blur", "Blur"}, {"pad", "Pad (bars)"}, {"crop", "Crop"}}
	captionChoices = []choice{
		{outpost.CaptionsAuto, "Automatic (track + file)"}, {outpost.CaptionsBurn, "Burned into the picture"},
		{outpost.CaptionsSoft, "Subtitle track only"}, {outpost.CaptionsSidecar, "Separate file only"},
		{outpost.CaptionsNone, "No captions"},
	}
	positionChoices = []choice{
		{string(render.TopLeft), "Top left"}, {string(render.TopRight), "Top right"},
		{string(render.BottomLeft), "Bottom left"}, {string(render.BottomRight), "Bottom right"},
		{string(render.Center), "Centre"},
	}
)

// labelOf is the words for value v among cs; v itself when unknown.
func labelOf(cs []choice, v string) string {
	for _, c := range cs {
		if c.Value == v {
			return c.Label
		}
	}
	return v
}

func qualityLabel(q string) string {
	if q == "" {
		q = string(preset.HD)
	}
	return labelOf(qualityChoices, q)
}

// codecLabels name codecs as people know them.
var codecLabels = map[string]string{
	"h264": "H.264", "hevc": "HEVC", "vp9": "VP9", "prores": "ProRes", "gif": "GIF", "av1": "AV1",
	"aac": "AAC", "opus": "Opus", "pcm_s24le": "PCM 24-bit", "mp3": "MP3",
}

// fileLabel is a preset's file in words: "MP4 · H.264 + AAC".
func fileLabel(p preset.Preset) string {
	name := func(c string) string {
		if l, ok := codecLabels[c]; ok {
			return l
		}
		return c
	}
	s := strings.ToUpper(p.Container) + " · " + name(p.Video.Codec)
	if p.Audio.Codec != "" {
		s += " + " + name(p.Audio.Codec)
	}
	return s
}
