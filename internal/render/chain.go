package render

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"outpost/internal/media"
	"outpost/internal/preset"
)

// videoChain adds the filters that turn label in into the target's frames
// under label out. It returns the fit mode used, or "" when the aspect did
// not change and the picture was only scaled.
func videoChain(g *graph, in, out string, v *media.Video, t *Target, w, h int, fps float64, fit preset.Fit) preset.Fit {
	var pre []string
	if v.VariableFrameRate || math.Abs(v.FrameRate-fps) > 0.01 {
		// Constant frame rate: duplicates or drops frames to the grid.
		pre = append(pre, "fps="+fpsString(fps))
	}
	isGIF := t.Preset.Video.Codec == "gif"
	scaleFlags := ""
	if isGIF {
		scaleFlags = ":flags=lanczos"
	}
	finish := "setsar=1"
	if !isGIF {
		finish += ",format=" + t.Preset.Video.PixFmt
	}

	srcAspect := float64(v.Width) / float64(v.Height)
	dstAspect := float64(w) / float64(h)
	sameAspect := math.Abs(srcAspect/dstAspect-1) < 0.01
	var used preset.Fit
	switch {
	case sameAspect:
		f := pre
		if v.Width != w || v.Height != h {
			f = append(f, fmt.Sprintf("scale=%d:%d%s", w, h, scaleFlags))
		}
		f = append(f, finish)
		g.chain(in, out, strings.Join(f, ","))
	case fit == preset.FitPad:
		used = fit
		f := append(pre,
			fmt.Sprintf("scale=%d:%d:force_original_aspect_ratio=decrease:force_divisible_by=2%s", w, h, scaleFlags),
			fmt.Sprintf("pad=%d:%d:-1:-1:color=black", w, h),
			finish)
		g.chain(in, out, strings.Join(f, ","))
	case fit == preset.FitCrop:
		used = fit
		f := append(pre,
			fmt.Sprintf("scale=%d:%d:force_original_aspect_ratio=increase:force_divisible_by=2%s", w, h, scaleFlags),
			fmt.Sprintf("crop=%d:%d", w, h),
			finish)
		g.chain(in, out, strings.Join(f, ","))
	default:
		used = preset.FitBlur
		// The background is blurred at an eighth of the size and scaled
		// back up: the same look as a full-size blur for a fraction of
		// the work.
		bw, bh := evenAtLeast(w/8, 16), evenAtLeast(h/8, 16)
		radius := min(10, min(bw, bh)/4)
		bg, fg, bgs, fgs := out+"bg", out+"fg", out+"bgs", out+"fgs"
		split := "split=2"
		if len(pre) > 0 {
			split = strings.Join(pre, ",") + "," + split
		}
		g.chains = append(g.chains,
			"["+in+"]"+split+"["+bg+"]["+fg+"]",
			fmt.Sprintf("[%s]scale=%d:%d:force_original_aspect_ratio=increase,crop=%d:%d,boxblur=%d:2,scale=%d:%d[%s]", bg, bw, bh, bw, bh, radius, w, h, bgs),
			fmt.Sprintf("[%s]scale=%d:%d:force_original_aspect_ratio=decrease:force_divisible_by=2%s[%s]", fg, w, h, scaleFlags, fgs),
			fmt.Sprintf("[%s][%s]overlay=(W-w)/2:(H-h)/2,%s[%s]", bgs, fgs, finish, out),
		)
	}
	return used
}

// gifPalette turns label in into GIF frames under label out: a palette per
// frame, so nothing is buffered and a GIF target costs no more memory than
// any other in the shared graph.
func gifPalette(g *graph, in, out string) {
	a, b, pal := out+"ga", out+"gb", out+"pal"
	g.chains = append(g.chains,
		"["+in+"]split=2["+a+"]["+b+"]",
		"["+a+"]palettegen=stats_mode=single["+pal+"]",
		"["+b+"]["+pal+"]paletteuse=new=1:dither=bayer:bayer_scale=3["+out+"]",
	)
}

func evenAtLeast(n, lo int) int {
	n -= n % 2
	return max(n, lo)
}

// audioChain converts the source (or silence) to the target's sample rate
// and channel layout.
func audioChain(a preset.Audio) string {
	layout := "stereo"
	if a.Channels == 1 {
		layout = "mono"
	}
	rate := a.SampleRate
	if rate == 0 {
		rate = 48000
	}
	return fmt.Sprintf("aformat=sample_rates=%d:channel_layouts=%s", rate, layout)
}

func videoCodecArgs(t *Target, fps float64) []string {
	q := t.Preset.Level(t.Quality)
	maxrate := q.MaxRateKbps
	bufsize := q.BufSizeKbps
	if t.VideoKbps > 0 {
		maxrate, bufsize = t.VideoKbps, 2*t.VideoKbps
	}
	gop := 0
	if s := t.Preset.Video.GOPSeconds; s > 0 {
		gop = max(1, int(math.Round(fps*s)))
	}
	var args []string
	switch t.Preset.Video.Codec {
	case "h264":
		args = []string{"-c:v", "libx264", "-preset", q.Speed, "-crf", strconv.Itoa(q.CRF)}
		if maxrate > 0 {
			args = append(args, "-maxrate", kbps(maxrate), "-bufsize", kbps(bufsize))
		}
		if pr := t.Preset.Video.Profile; pr != "" {
			args = append(args, "-profile:v", strings.ToLower(pr))
		}
		args = append(args, "-bf", "2")
	case "vp9":
		args = []string{"-c:v", "libvpx-vp9", "-crf", strconv.Itoa(q.CRF), "-b:v", kbps(maxrate),
			"-deadline", "good", "-cpu-used", q.Speed, "-row-mt", "1"}
	case "prores":
		args = []string{"-c:v", "prores_ks", "-profile:v", strconv.Itoa(q.ProResProfile), "-vendor", "apl0"}
	case "gif":
		return []string{"-c:v", "gif", "-fps_mode", "cfr"}
	default:
		args = []string{"-c:v", t.Preset.Video.Codec}
	}
	if gop > 0 {
		args = append(args, "-g", strconv.Itoa(gop))
	}
	// Constant frame rate whatever the muxer would pick: the chain's fps
	// filter (or the source's constant rate) sets it.
	return append(args, "-fps_mode", "cfr")
}

func audioCodecArgs(t *Target) []string {
	a := t.Preset.Audio
	q := t.Preset.Level(t.Quality)
	var args []string
	switch a.Codec {
	case "aac":
		args = []string{"-c:a", "aac", "-b:a", kbps(q.AudioKbps)}
	case "opus":
		args = []string{"-c:a", "libopus", "-b:a", kbps(q.AudioKbps)}
	default:
		args = []string{"-c:a", a.Codec}
	}
	return args
}

func muxArgs(p preset.Preset) []string {
	switch p.Container {
	case "mp4":
		// moov first: players and platforms can start before the end.
		return []string{"-movflags", "+faststart", "-f", "mp4"}
	case "gif":
		return []string{"-loop", "0", "-f", "gif"}
	default:
		return []string{"-f", p.Container}
	}
}

func kbps(n int) string { return strconv.Itoa(n) + "k" }

// passthroughBlocker returns why the source cannot be stream-copied into
// the target, or "" when it already satisfies it.
func passthroughBlocker(src *media.Info, t *Target, w, h int) string {
	v, p := src.Video, t.Preset
	switch {
	case t.NoPassthrough || t.FPS > 0 || t.VideoKbps > 0:
		return "settings override the source"
	case t.Captions.Burn:
		return "captions are burned in"
	case t.Watermark != nil:
		return "a watermark is overlaid"
	case !containerCompatible(src.FormatName, p.Container):
		return "container " + src.FormatName + " differs"
	case p.Video.Codec == "gif":
		return "gif is always encoded"
	case v.Codec != p.Video.Codec:
		return "video codec " + v.Codec + " differs"
	case p.Video.Profile != "" && !strings.EqualFold(v.Profile, p.Video.Profile):
		return "profile " + v.Profile + " differs"
	case v.PixFmt != p.Video.PixFmt:
		return "pixel format " + v.PixFmt + " differs"
	case v.Width != w || v.Height != h:
		return fmt.Sprintf("size %dx%d differs", v.Width, v.Height)
	case v.Rotation != 0:
		return "rotated source"
	case v.VariableFrameRate:
		return "variable frame rate"
	case v.HDR:
		return "HDR source"
	case v.FrameRate <= 0 || v.FrameRate > p.Video.MaxFPS+0.01 ||
		(p.Rules.MaxFPS > 0 && v.FrameRate > p.Rules.MaxFPS+0.01) ||
		(p.Rules.MinFPS > 0 && v.FrameRate < p.Rules.MinFPS-0.01):
		return "frame rate " + fpsString(v.FrameRate) + " outside the target's range"
	}
	if cap := int64(p.Level(t.Quality).MaxRateKbps) * 1000; cap > 0 {
		br := v.BitRate
		if br == 0 {
			br = src.BitRate
		}
		if br == 0 || br > cap {
			return "bitrate above the quality cap"
		}
	}
	if p.Audio.Codec == "" {
		return ""
	}
	a := src.Audio
	switch {
	case a == nil && p.Rules.RequireAudio:
		return "no audio track; the platform needs one"
	case a == nil:
		return ""
	case a.Codec != p.Audio.Codec:
		return "audio codec " + a.Codec + " differs"
	case a.Codec == "aac" && a.Profile != "" && a.Profile != "LC":
		return "AAC profile " + a.Profile + " differs"
	case a.SampleRate != p.Audio.SampleRate:
		return "audio sample rate differs"
	case a.Channels != p.Audio.Channels:
		return "audio channels differ"
	}
	return ""
}

// containerCompatible reports whether a stream copy from a source in format
// (ffprobe's format_name) into container keeps every codec legal.
func containerCompatible(format, container string) bool {
	names := strings.Split(format, ",")
	has := func(n string) bool {
		for _, x := range names {
			if x == n {
				return true
			}
		}
		return false
	}
	switch container {
	case "mp4", "mov":
		return has("mp4") || has("mov")
	case "webm":
		return has("webm")
	}
	return false
}
