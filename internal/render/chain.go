package render

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"outpost/internal/media"
	"outpost/internal/preset"
)

// fitUsed is the fit mode a w×h target of fit uses for source v: "" when
// the aspect is the same and the picture is only scaled.
func fitUsed(v *media.Video, w, h int, fit preset.Fit) preset.Fit {
	srcAspect := float64(v.Width) / float64(v.Height)
	dstAspect := float64(w) / float64(h)
	if math.Abs(srcAspect/dstAspect-1) < 0.01 {
		return ""
	}
	switch fit {
	case preset.FitPad, preset.FitCrop:
		return fit
	}
	return preset.FitBlur
}

// videoChain adds the filters that turn label in into t's w×h frames under
// label out, after the filters pre (a frame rate conversion, or "").
func videoChain(g *graph, in, out, pre string, v *media.Video, t *Target, w, h int) {
	var f []string
	if pre != "" {
		f = append(f, pre)
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
	switch fitUsed(v, w, h, t.Fit) {
	case "":
		if v.Width != w || v.Height != h {
			f = append(f, fmt.Sprintf("scale=%d:%d%s", w, h, scaleFlags))
		}
		f = append(f, finish)
		g.chain(in, out, strings.Join(f, ","))
	case preset.FitPad:
		f = append(f,
			fmt.Sprintf("scale=%d:%d:force_original_aspect_ratio=decrease:force_divisible_by=2%s", w, h, scaleFlags),
			fmt.Sprintf("pad=%d:%d:-1:-1:color=black", w, h),
			finish)
		g.chain(in, out, strings.Join(f, ","))
	case preset.FitCrop:
		f = append(f,
			fmt.Sprintf("scale=%d:%d:force_original_aspect_ratio=increase:force_divisible_by=2%s", w, h, scaleFlags),
			fmt.Sprintf("crop=%d:%d", w, h),
			finish)
		g.chain(in, out, strings.Join(f, ","))
	default:
		// The background is blurred at an eighth of the size and scaled
		// back up: the same look as a full-size blur for a fraction of
		// the work. One chain per frame size: every target of that size
		// and fit takes its output.
		bw, bh := evenAtLeast(w/8, 16), evenAtLeast(h/8, 16)
		radius := min(10, min(bw, bh)/4)
		bg, fg, bgs, fgs := out+"bg", out+"fg", out+"bgs", out+"fgs"
		f = append(f, "split=2")
		g.chains = append(g.chains,
			"["+in+"]"+strings.Join(f, ",")+"["+bg+"]["+fg+"]",
			fmt.Sprintf("[%s]scale=%d:%d:force_original_aspect_ratio=increase,crop=%d:%d,boxblur=%d:2,scale=%d:%d[%s]", bg, bw, bh, bw, bh, radius, w, h, bgs),
			fmt.Sprintf("[%s]scale=%d:%d:force_original_aspect_ratio=decrease:force_divisible_by=2%s[%s]", fg, w, h, scaleFlags, fgs),
			fmt.Sprintf("[%s][%s]overlay=(W-w)/2:(H-h)/2,%s[%s]", bgs, fgs, finish, out),
		)
	}
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
