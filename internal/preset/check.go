package preset

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"outpost/internal/media"
)

// Violation is one platform rule a file breaks. Rule is a stable name
// ("max_duration", "video_codec", …) that scripts can match on; the error
// code of every violation is errcode.PlatformRule.
type Violation struct {
	Rule    string `json:"rule"`
	Message string `json:"message"`
	Remedy  string `json:"remedy"`
}

func (v Violation) String() string { return v.Rule + ": " + v.Message }

// CheckSource reports the rules a source breaks for this preset that no
// render can fix (duration). It runs before any work, so a ten-minute video
// is refused for a 90-second platform at once, not after rendering.
func (p *Preset) CheckSource(src *media.Info) []Violation {
	var vs []Violation
	r := p.Rules
	if r.MaxDuration > 0 && src.Duration > r.MaxDuration+0.05 {
		vs = append(vs, Violation{
			Rule:    "max_duration",
			Message: fmt.Sprintf("%s allows at most %s; the source is %s", p.Name, Clock(r.MaxDuration), Clock(src.Duration)),
			Remedy:  fmt.Sprintf("Trim the video to %s or less, or choose another preset.", Clock(r.MaxDuration)),
		})
	}
	if r.MinDuration > 0 && src.Duration < r.MinDuration-0.05 {
		vs = append(vs, Violation{
			Rule:    "min_duration",
			Message: fmt.Sprintf("%s needs at least %s; the source is %s", p.Name, Clock(r.MinDuration), Clock(src.Duration)),
			Remedy:  fmt.Sprintf("Use a video of %s or longer.", Clock(r.MinDuration)),
		})
	}
	return vs
}

// Check reports every rule of the preset that the probed output file breaks.
// An empty result means the file is fit for the platform.
func (p *Preset) Check(out *media.Info) []Violation {
	vs := p.CheckSource(out)
	add := func(rule, remedy, format string, args ...any) {
		vs = append(vs, Violation{Rule: rule, Message: fmt.Sprintf(format, args...), Remedy: remedy})
	}
	r := p.Rules
	if r.MaxSizeBytes > 0 && out.SizeBytes > r.MaxSizeBytes {
		add("max_size", "Choose Web quality or a shorter video.",
			"file is %s; %s allows at most %s", Bytes(out.SizeBytes), p.Name, Bytes(r.MaxSizeBytes))
	}
	v := out.Video
	if v == nil {
		add("video_stream", "Render again; the output lost its video.", "the file has no video stream")
		return vs
	}
	if len(r.VideoCodecs) > 0 && !slices.Contains(r.VideoCodecs, v.Codec) {
		add("video_codec", "Render with the preset's codec.", "video codec %s; %s accepts %s", v.Codec, p.Name, strings.Join(r.VideoCodecs, ", "))
	}
	if p.Video.Profile != "" && v.Codec == p.Video.Codec && !strings.EqualFold(v.Profile, p.Video.Profile) && p.Video.Codec == "h264" {
		add("video_profile", "Render with the preset's profile.", "H.264 profile %s; the preset requires %s", v.Profile, p.Video.Profile)
	}
	if p.Video.Codec != "gif" && p.Video.PixFmt != "" && v.PixFmt != p.Video.PixFmt {
		add("pixel_format", "Render with the preset's pixel format.", "pixel format %s; the preset requires %s", v.PixFmt, p.Video.PixFmt)
	}
	if v.Width%2 != 0 || v.Height%2 != 0 {
		add("even_dimensions", "Render again; sizes must be even.", "size %dx%d is odd", v.Width, v.Height)
	}
	aspect := out.Aspect()
	if (r.MinAspect > 0 && aspect < r.MinAspect*0.99) || (r.MaxAspect > 0 && aspect > r.MaxAspect*1.01) {
		add("aspect_ratio", "Use a fit mode (pad, blur or crop) to reach the platform's shape.",
			"aspect %.3f (%dx%d) is outside %.3f–%.3f", aspect, v.Width, v.Height, r.MinAspect, r.MaxAspect)
	}
	if r.MinSide > 0 && min(v.Width, v.Height) < r.MinSide {
		add("min_side", "Use a larger source or preset.", "size %dx%d is below %d px per side", v.Width, v.Height, r.MinSide)
	}
	if r.MaxSide > 0 && max(v.Width, v.Height) > r.MaxSide {
		add("max_side", "Use a smaller preset.", "size %dx%d is above %d px per side", v.Width, v.Height, r.MaxSide)
	}
	if r.MaxWidth > 0 && v.Width > r.MaxWidth {
		add("max_width", "Use a smaller preset.", "width %d is above %d px", v.Width, r.MaxWidth)
	}
	if fps := v.FrameRate; fps > 0 {
		// 1 % slack: GIF stores delays in centiseconds, so 15 fps reads
		// back as 15.1.
		if r.MaxFPS > 0 && fps > r.MaxFPS*1.01 {
			add("max_fps", "Lower the frame rate.", "%.3g fps is above %.3g", fps, r.MaxFPS)
		}
		if r.MinFPS > 0 && fps < r.MinFPS*0.99 {
			add("min_fps", "Raise the frame rate.", "%.3g fps is below %.3g", fps, r.MinFPS)
		}
	}
	if r.RequireCFR && v.VariableFrameRate {
		add("constant_frame_rate", "Render again with a constant frame rate.", "the frame rate is variable")
	}
	if out.Audio == nil {
		if r.RequireAudio {
			add("audio_stream", "Render again; a silent track is added when the source has none.", "the file has no audio track; %s needs one", p.Name)
		}
	} else if len(r.AudioCodecs) > 0 && !slices.Contains(r.AudioCodecs, out.Audio.Codec) {
		add("audio_codec", "Render with the preset's audio codec.", "audio codec %s; %s accepts %s", out.Audio.Codec, p.Name, strings.Join(r.AudioCodecs, ", "))
	}
	if r.RequireFastStart && !out.FastStart {
		add("faststart", "Render again; MP4 outputs are written moov-first.", "the moov atom is not before the media data")
	}
	return vs
}

// Clock formats seconds as 1:02:03, 2:05 or 12.5 s.
func Clock(s float64) string {
	if s < 60 {
		return strings.TrimSuffix(strings.TrimSuffix(fmt.Sprintf("%.1f", s), "0"), ".") + " s"
	}
	t := int(math.Round(s))
	if t >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", t/3600, t/60%60, t%60)
	}
	return fmt.Sprintf("%d:%02d", t/60, t%60)
}

// Bytes formats a size in decimal units, as platforms state limits.
func Bytes(n int64) string {
	switch {
	case n >= gb:
		return fmt.Sprintf("%.1f GB", float64(n)/gb)
	case n >= mb:
		return fmt.Sprintf("%.1f MB", float64(n)/mb)
	case n >= 1000:
		return fmt.Sprintf("%.1f kB", float64(n)/1000)
	}
	return fmt.Sprintf("%d B", n)
}

// RuleLines describes the preset's rules, one per line, for people.
func (p *Preset) RuleLines() []string {
	r := p.Rules
	var ls []string
	add := func(ok bool, format string, args ...any) {
		if ok {
			ls = append(ls, fmt.Sprintf(format, args...))
		}
	}
	add(r.MaxSizeBytes > 0, "file size at most %s", Bytes(r.MaxSizeBytes))
	add(r.MinDuration > 0, "duration at least %s", Clock(r.MinDuration))
	add(r.MaxDuration > 0, "duration at most %s", Clock(r.MaxDuration))
	add(r.MinAspect > 0 || r.MaxAspect > 0, "aspect (width/height) %.3f to %.3f", r.MinAspect, r.MaxAspect)
	add(r.MinFPS > 0, "at least %g fps", r.MinFPS)
	add(r.MaxFPS > 0, "at most %g fps", r.MaxFPS)
	add(r.MinSide > 0, "each side at least %d px", r.MinSide)
	add(r.MaxSide > 0, "each side at most %d px", r.MaxSide)
	add(r.MaxWidth > 0, "width at most %d px", r.MaxWidth)
	add(len(r.VideoCodecs) > 0, "video codec %s", strings.Join(r.VideoCodecs, " or "))
	add(len(r.AudioCodecs) > 0, "audio codec %s", strings.Join(r.AudioCodecs, " or "))
	add(r.RequireAudio, "an audio track (a silent one is added when the source has none)")
	add(r.RequireFastStart, "moov atom before the media data (faststart)")
	add(r.RequireCFR, "constant frame rate")
	if len(ls) == 0 {
		ls = append(ls, "none beyond the format")
	}
	return ls
}
