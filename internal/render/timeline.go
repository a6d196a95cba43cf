package render

import (
	"fmt"
	"math"
	"strings"

	"outpost/internal/errcode"
	"outpost/internal/media"
)

// Timeline is an ordered list of clips rendered as one source: each clip is
// decoded once, normalised (size, frame rate, SAR, pixel format, sample
// rate, channel layout; silence for a clip without audio) and concatenated
// in the filter graph, and the result feeds the same split to every target
// as a single source does. A brand kit's intro and outro are clips too.
type Timeline struct {
	Clips []Clip
	// Crossfade is the length in seconds of a cross-dissolve (xfade and
	// acrossfade) between consecutive clips; 0 cuts.
	Crossfade float64
	// Bed is music under the whole timeline; nil for none.
	Bed *AudioBed
	// Main is the index of the clip whose picture size and frame rate the
	// timeline takes (the others are fitted into it): the programme, not
	// a brand kit's intro.
	Main int
	// Lead and Tail are how many clips at the start and at the end are a
	// brand kit's intro and outro rather than the programme: thumbnails
	// are taken from between them.
	Lead, Tail int
}

// Programme returns where the programme (the clips between a brand kit's
// intro and outro) starts and ends in the timeline's time, and false when
// the whole timeline is the programme.
func (tl *Timeline) Programme() (start, end float64, ok bool) {
	if tl == nil || tl.Lead <= 0 && tl.Tail <= 0 || tl.Lead+tl.Tail >= len(tl.Clips) {
		return 0, 0, false
	}
	at := 0.0
	for i, c := range tl.Clips {
		if i == tl.Lead {
			start = at
		}
		at += c.length()
		if i == len(tl.Clips)-1-tl.Tail {
			end = at
		}
		at -= tl.Crossfade
	}
	return start, end, end > start
}

// Clip is a part of one probed source.
type Clip struct {
	Info *media.Info // probed; Info.Path is the file
	// In and Out are the part used, in seconds of the source; Out 0 means
	// its end.
	In  float64
	Out float64
}

// AudioBed is a music track mixed under a timeline's own sound.
type AudioBed struct {
	Path string
	// Volume is the bed's gain (0 means 0.3: under speech).
	Volume float64
	// Duck lowers the bed further while the clips' own sound plays
	// (sidechain compression).
	Duck bool
}

// MaxClips bounds a timeline: each clip is an ffmpeg input.
const MaxClips = 50

// length is the clip's duration in seconds.
func (c Clip) length() float64 {
	out := c.Out
	if out <= 0 {
		out = c.Info.Duration
	}
	return out - c.In
}

// Validate checks the clips' points against their sources and the
// crossfade against the clips.
func (tl *Timeline) Validate() error {
	if tl == nil || len(tl.Clips) == 0 {
		return errcode.New(errcode.TimelineInvalid, "a timeline needs at least one clip")
	}
	if len(tl.Clips) > MaxClips {
		return errcode.New(errcode.TimelineInvalid, "a timeline has at most %d clips, got %d", MaxClips, len(tl.Clips))
	}
	if tl.Crossfade < 0 || tl.Crossfade > 5 {
		return errcode.New(errcode.TimelineInvalid, "crossfade %g s: use 0 (cut) to 5 seconds", tl.Crossfade)
	}
	for i, c := range tl.Clips {
		switch {
		case c.Info == nil || c.Info.Video == nil:
			return errcode.New(errcode.TimelineInvalid, "clip %d has no video stream", i+1)
		case c.In < 0 || c.Out < 0 || math.IsNaN(c.In) || math.IsNaN(c.Out):
			return errcode.New(errcode.TimelineInvalid, "clip %d: in and out must be 0 or more seconds", i+1)
		case c.In >= c.Info.Duration:
			return errcode.New(errcode.TimelineInvalid, "clip %d: in %s s is past the end of its source (%s s)", i+1, seconds(c.In), seconds(c.Info.Duration))
		case c.Out > 0 && c.Out <= c.In:
			return errcode.New(errcode.TimelineInvalid, "clip %d: out %s s is not after in %s s", i+1, seconds(c.Out), seconds(c.In))
		case c.Out > c.Info.Duration+0.05:
			return errcode.New(errcode.TimelineInvalid, "clip %d: out %s s is past the end of its source (%s s)", i+1, seconds(c.Out), seconds(c.Info.Duration))
		case tl.Crossfade > 0 && len(tl.Clips) > 1 && c.length() <= 2*tl.Crossfade && (i > 0 && i < len(tl.Clips)-1):
			return errcode.New(errcode.TimelineInvalid, "clip %d (%s s) is too short for %s s crossfades on both sides", i+1, seconds(c.length()), seconds(tl.Crossfade))
		case tl.Crossfade > 0 && len(tl.Clips) > 1 && c.length() <= tl.Crossfade:
			return errcode.New(errcode.TimelineInvalid, "clip %d (%s s) is shorter than the %s s crossfade", i+1, seconds(c.length()), seconds(tl.Crossfade))
		}
	}
	if tl.Main < 0 || tl.Main >= len(tl.Clips) {
		return errcode.New(errcode.TimelineInvalid, "main clip %d: there are %d clips", tl.Main+1, len(tl.Clips))
	}
	if b := tl.Bed; b != nil && (b.Path == "" || b.Volume < 0 || b.Volume > 4) {
		return errcode.New(errcode.TimelineInvalid, "audio bed: give a file and a volume from 0 to 4")
	}
	return nil
}

// Source describes the timeline as the one source a plan renders: the main
// clip's picture size and frame rate (every clip is fitted into them),
// stereo 48 kHz sound, and the total duration. It never passes through.
func (tl *Timeline) Source() (*media.Info, error) {
	if err := tl.Validate(); err != nil {
		return nil, err
	}
	first := tl.Clips[tl.Main].Info.Video
	fps := first.FrameRate
	if fps <= 0 || fps > 120 || math.IsNaN(fps) {
		fps = 30
	}
	if first.VariableFrameRate {
		fps = nearestCommonFPS(fps)
	}
	total := 0.0
	for _, c := range tl.Clips {
		total += c.length()
	}
	total -= tl.Crossfade * float64(len(tl.Clips)-1)
	return &media.Info{
		Path:       tl.Clips[0].Info.Path,
		FormatName: "timeline",
		Duration:   total,
		Video: &media.Video{Codec: "timeline", PixFmt: "yuv420p", BitDepth: 8,
			Width: evenAtLeast(first.Width, 2), Height: evenAtLeast(first.Height, 2), FrameRate: fps},
		Audio: &media.Audio{Codec: "timeline", SampleRate: 48000, Channels: 2, ChannelLayout: "stereo"},
	}, nil
}

// timelineInputs sets the plan's inputs to the clips (each trimmed by its
// input options, so only its part is decoded) and the bed, and adds the
// chains that join them into labels "tlv" and "tla". It returns those
// labels.
func timelineInputs(plan *Plan, g *graph, tl *Timeline, src *media.Info) (string, string) {
	w, h, fps := src.Video.Width, src.Video.Height, src.Video.FrameRate
	trim := func(c Clip) []string {
		var o []string
		if c.In > 0 {
			o = append(o, "-ss", seconds(c.In))
		}
		if c.Out > 0 {
			o = append(o, "-t", seconds(c.Out-c.In))
		}
		return o
	}
	plan.Input = tl.Clips[0].Info.Path
	plan.InputOptions = append(trim(tl.Clips[0]), plan.InputOptions...)
	for _, c := range tl.Clips[1:] {
		plan.Extra = append(plan.Extra, Input{Kind: "clip", Path: c.Info.Path, Options: trim(c)})
	}
	var vs, as []string
	for i, c := range tl.Clips {
		v, a := fmt.Sprintf("c%dv", i), fmt.Sprintf("c%da", i)
		// Picture held on its last frame where the stream ends early, and
		// cut to the clip's length: sound and picture of every clip end
		// together, so the next clip starts in sync.
		pre := ""
		if c.Info.Video.HDR {
			pre = tonemap + ","
		}
		g.chain(fmt.Sprintf("%d:v:0", i), v, pre+fmt.Sprintf(
			"scale=%d:%d:force_original_aspect_ratio=decrease:force_divisible_by=2,pad=%d:%d:-1:-1:color=black,setsar=1,fps=%s,format=yuv420p,setpts=PTS-STARTPTS,tpad=stop_mode=clone:stop_duration=%s,trim=duration=%s",
			w, h, w, h, fpsString(fps), seconds(c.length()), seconds(c.length())))
		// Sound padded with silence and cut to the same length.
		norm := "aresample=48000,aformat=sample_fmts=fltp:sample_rates=48000:channel_layouts=stereo,asetpts=PTS-STARTPTS"
		fit := "apad,atrim=duration=" + seconds(c.length())
		if c.Info.Audio != nil {
			g.chain(fmt.Sprintf("%d:a:0", i), a, norm+","+fit)
		} else {
			g.source("anullsrc=channel_layout=stereo:sample_rate=48000,atrim=duration="+seconds(c.length())+",aformat=sample_fmts=fltp", a)
		}
		vs, as = append(vs, v), append(as, a)
	}
	vout, aout := "tlv", "tla"
	if tl.Bed != nil {
		aout = "tlm" // mixed with the bed below into "tla"
	}
	switch {
	case len(tl.Clips) == 1:
		g.chain(vs[0], vout, "null")
		g.chain(as[0], aout, "anull")
	case tl.Crossfade > 0:
		// Each xfade starts Crossfade before the end of what is joined so
		// far; acrossfade overlaps the sound by the same length.
		d := seconds(tl.Crossfade)
		cur, acur, end := vs[0], as[0], tl.Clips[0].length()
		for i := 1; i < len(vs); i++ {
			nv, na := fmt.Sprintf("x%dv", i), fmt.Sprintf("x%da", i)
			if i == len(vs)-1 {
				nv, na = vout, aout
			}
			off := end - tl.Crossfade
			g.chains = append(g.chains, fmt.Sprintf("[%s][%s]xfade=transition=fade:duration=%s:offset=%s[%s]", cur, vs[i], d, seconds(off), nv))
			g.chains = append(g.chains, fmt.Sprintf("[%s][%s]acrossfade=d=%s[%s]", acur, as[i], d, na))
			cur, acur, end = nv, na, off+tl.Clips[i].length()
		}
	default:
		var b strings.Builder
		for i := range vs {
			b.WriteString("[" + vs[i] + "][" + as[i] + "]")
		}
		fmt.Fprintf(&b, "concat=n=%d:v=1:a=1[%s][%s]", len(vs), vout, aout)
		g.chains = append(g.chains, b.String())
	}
	if b := tl.Bed; b != nil {
		in := len(plan.Extra) + 1
		plan.Extra = append(plan.Extra, Input{Kind: "audio_bed", Path: b.Path, Options: []string{"-stream_loop", "-1"}})
		vol := b.Volume
		if vol == 0 {
			vol = 0.3
		}
		bed := fmt.Sprintf("aresample=48000,aformat=sample_fmts=fltp:sample_rates=48000:channel_layouts=stereo,atrim=duration=%s,volume=%s",
			seconds(src.Duration), num(vol))
		if b.Duck {
			g.chain(fmt.Sprintf("%d:a:0", in), "bedin", bed)
			g.chains = append(g.chains, "["+aout+"]asplit=2[tlmain][tlkey]",
				"[bedin][tlkey]sidechaincompress=threshold=0.05:ratio=8:attack=20:release=400[bed]")
			aout = "tlmain"
		} else {
			g.chain(fmt.Sprintf("%d:a:0", in), "bed", bed)
		}
		g.chains = append(g.chains, "["+aout+"][bed]amix=inputs=2:duration=first:dropout_transition=0:normalize=0[tla]")
	}
	return "tlv", "tla"
}
