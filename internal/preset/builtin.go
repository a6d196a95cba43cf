package preset

import (
	"fmt"
	"slices"
)

const (
	mb = 1000 * 1000
	gb = 1000 * mb
)

// h264Quality returns web/hd/ultra settings for an H.264 target whose HD
// bitrate cap is hdKbps; web and ultra scale from it.
//
// The x264 preset of each level is measured (`make bench-quality`, the
// table in the README): the fastest preset whose SSIM is within 0.005 of
// the next slower one's, on noisy footage and on smooth graphics with
// text, at the level's CRF and caps. At every level that is veryfast: the
// slower presets cost 1.4 to 2.5 times the CPU for at most 0.004 SSIM.
func h264Quality(hdKbps int) map[Level]Quality {
	return map[Level]Quality{
		Web:   {CRF: 26, MaxRateKbps: hdKbps / 2, BufSizeKbps: hdKbps, Speed: "veryfast", AudioKbps: 96},
		HD:    {CRF: 21, MaxRateKbps: hdKbps, BufSizeKbps: 2 * hdKbps, Speed: "veryfast", AudioKbps: 128},
		Ultra: {CRF: 18, MaxRateKbps: hdKbps * 3 / 2, BufSizeKbps: 3 * hdKbps, Speed: "veryfast", AudioKbps: 192},
	}
}

var aac48 = Audio{Codec: "aac", SampleRate: 48000, Channels: 2}

// mp4H264 builds an H.264 High + AAC 48 kHz MP4 preset.
func mp4H264(id, name, platform, desc string, w, h int, maxFPS float64, hdKbps int, rules Rules) Preset {
	rules.RequireFastStart = true
	rules.RequireCFR = true
	if rules.VideoCodecs == nil {
		rules.VideoCodecs = []string{"h264"}
	}
	if rules.AudioCodecs == nil {
		rules.AudioCodecs = []string{"aac"}
	}
	return Preset{
		ID: id, Name: name, Platform: platform, Description: desc,
		Container: "mp4", Extension: "mp4",
		Video:   Video{Codec: "h264", Profile: "High", PixFmt: "yuv420p", Width: w, Height: h, MaxFPS: maxFPS, GOPSeconds: 2},
		Audio:   aac48,
		Quality: h264Quality(hdKbps),
		Rules:   rules,
		Builtin: true,
	}
}

func builtins() []Preset {
	youtube := Rules{MaxSizeBytes: 256 << 30, MaxDuration: 12 * 3600, RequireAudio: true}
	shorts := Rules{MaxSizeBytes: 256 << 30, MaxDuration: 180, MaxAspect: 1, RequireAudio: true}
	instagram := Rules{
		MaxSizeBytes: 300 * mb, MinDuration: 3, MaxDuration: 15 * 60,
		MinAspect: 0.01, MaxAspect: 10, MinFPS: 23, MaxFPS: 60, MaxWidth: 1920,
		VideoCodecs: []string{"h264", "hevc"}, RequireAudio: true,
	}
	fbFeed := Rules{MaxSizeBytes: 2 * gb, MaxDuration: 4 * 3600, MinAspect: 9.0 / 16, MaxAspect: 16.0 / 9, MaxFPS: 30, RequireAudio: true}
	fbReel := Rules{MinDuration: 3, MaxDuration: 90, MinAspect: 9.0 / 16, MaxAspect: 9.0 / 16, MinFPS: 24, MaxFPS: 60, MinSide: 540, RequireAudio: true}
	linkedin := Rules{MaxSizeBytes: 500 * mb, MinDuration: 3, MaxDuration: 30 * 60, MinAspect: 1 / 2.4, MaxAspect: 2.4, RequireAudio: true}
	tiktok := Rules{
		MaxSizeBytes: 4 * gb, MaxDuration: 10 * 60, MinFPS: 23, MaxFPS: 60, MinSide: 360, MaxSide: 4096,
		VideoCodecs: []string{"h264", "hevc", "vp8", "vp9"}, RequireAudio: true,
	}

	yt1080 := mp4H264("youtube-1080p", "YouTube 1080p", "youtube", "YouTube landscape, 1920×1080 H.264 High + AAC 48 kHz", 1920, 1080, 60, 8000, youtube)
	yt4k := mp4H264("youtube-4k", "YouTube 4K", "youtube", "YouTube landscape, 3840×2160 H.264 High + AAC 48 kHz", 3840, 2160, 60, 40000, youtube)
	ytShorts := mp4H264("youtube-shorts", "YouTube Shorts", "youtube", "YouTube Shorts, vertical 1080×1920, up to 3 minutes", 1080, 1920, 60, 8000, shorts)
	for _, p := range []*Preset{&yt1080, &yt4k, &ytShorts} {
		// YouTube recommends a closed GOP of half the frame rate.
		p.Video.GOPSeconds = 0.5
	}

	ps := []Preset{
		yt1080, yt4k, ytShorts,
		mp4H264("instagram-reel", "Instagram Reel", "instagram", "Instagram Reel, vertical 1080×1920, 3 s to 15 min, up to 300 MB", 1080, 1920, 60, 8000, instagram),
		mp4H264("instagram-feed", "Instagram feed", "instagram", "Instagram feed video, portrait 4:5 1080×1350", 1080, 1350, 60, 8000, instagram),
		mp4H264("facebook-feed", "Facebook feed", "facebook", "Facebook Page video, landscape 1920×1080, up to 30 fps", 1920, 1080, 30, 8000, fbFeed),
		mp4H264("facebook-reel", "Facebook Reel", "facebook", "Facebook Reel, vertical 1080×1920, 3 to 90 s", 1080, 1920, 60, 8000, fbReel),
		mp4H264("linkedin-landscape", "LinkedIn landscape", "linkedin", "LinkedIn video, landscape 1920×1080, up to 500 MB and 30 min", 1920, 1080, 60, 6000, linkedin),
		mp4H264("linkedin-square", "LinkedIn square", "linkedin", "LinkedIn video, square 1080×1080, up to 500 MB and 30 min", 1080, 1080, 60, 6000, linkedin),
		mp4H264("tiktok", "TikTok", "tiktok", "TikTok, vertical 1080×1920, up to 10 min via the API", 1080, 1920, 60, 12000, tiktok),
	}
	for i := range ps {
		p := &ps[i]
		switch p.Platform {
		case "youtube", "instagram", "tiktok":
			// Their players normalise playback to about -14 LUFS: a
			// master delivered there already sounds as intended.
			p.Audio.Loudness = &Loudness{LUFS: -14, TruePeak: -1}
		}
		if p.Platform == "youtube" || p.Platform == "linkedin" || p.ID == "facebook-feed" {
			p.CaptionUpload = "srt"
		}
		if p.Video.Width*16 == p.Video.Height*9 {
			// Full-screen vertical players put the caption, account
			// name and music credit over the bottom fifth and a column
			// of buttons down the right edge.
			p.SafeArea = SafeArea{Top: 0.1, Bottom: 0.2, Left: 0.05, Right: 0.15}
		}
	}

	generic := func(id, name string, w, h, hdKbps int) Preset {
		p := mp4H264(id, name, "generic", fmt.Sprintf("Generic MP4, H.264 High + AAC, fits %d×%d keeping the source's aspect", w, h), w, h, 60, hdKbps, Rules{})
		p.Video.KeepAspect = true
		return p
	}
	ps = append(ps,
		generic("mp4-720p", "MP4 720p", 1280, 720, 5000),
		generic("mp4-1080p", "MP4 1080p", 1920, 1080, 8000),
		generic("mp4-4k", "MP4 4K", 3840, 2160, 40000),
		Preset{
			ID: "mov-prores-1080p", Name: "ProRes 422 HQ 1080p", Platform: "generic",
			Description: "QuickTime MOV, Apple ProRes 422 HQ + 24-bit PCM, 1920×1080, for editing and agencies",
			Container:   "mov", Extension: "mov",
			Video: Video{Codec: "prores", Profile: "HQ", PixFmt: "yuv422p10le", Width: 1920, Height: 1080, KeepAspect: true, MaxFPS: 60},
			Audio: Audio{Codec: "pcm_s24le", SampleRate: 48000, Channels: 2},
			Quality: map[Level]Quality{
				Web:   {ProResProfile: 2},
				HD:    {ProResProfile: 3},
				Ultra: {ProResProfile: 3},
			},
			Rules:   Rules{VideoCodecs: []string{"prores"}, AudioCodecs: []string{"pcm_s24le"}, RequireCFR: true},
			Builtin: true,
		},
		Preset{
			ID: "webm-1080p", Name: "WebM 1080p", Platform: "generic",
			Description: "WebM, VP9 + Opus, fits 1920×1080 keeping the source's aspect, for the web",
			Container:   "webm", Extension: "webm",
			Video: Video{Codec: "vp9", PixFmt: "yuv420p", Width: 1920, Height: 1080, KeepAspect: true, MaxFPS: 60, GOPSeconds: 4},
			Audio: Audio{Codec: "opus", SampleRate: 48000, Channels: 2},
			Quality: map[Level]Quality{
				Web:   {CRF: 37, MaxRateKbps: 2000, Speed: "6", AudioKbps: 96},
				HD:    {CRF: 32, MaxRateKbps: 4000, Speed: "5", AudioKbps: 128},
				Ultra: {CRF: 26, MaxRateKbps: 8000, Speed: "4", AudioKbps: 160},
			},
			Rules:   Rules{VideoCodecs: []string{"vp9"}, AudioCodecs: []string{"opus"}, RequireCFR: true},
			Builtin: true,
		},
		Preset{
			ID: "gif-480p", Name: "GIF 480p", Platform: "generic",
			Description: "Animated GIF, per-frame palette, up to 15 fps, fits 854×480 keeping the source's aspect, no audio",
			Container:   "gif", Extension: "gif",
			Video: Video{Codec: "gif", PixFmt: "pal8", Width: 854, Height: 480, KeepAspect: true, MaxFPS: 15},
			Quality: map[Level]Quality{
				Web:   {},
				HD:    {},
				Ultra: {},
			},
			Rules:   Rules{VideoCodecs: []string{"gif"}, MaxFPS: 15},
			Builtin: true,
		},
	)
	return ps
}

// builtin is built once; callers get clones.
var builtin = builtins()

// Builtins returns copies of every built-in preset, in a stable order.
func Builtins() []Preset {
	out := make([]Preset, len(builtin))
	for i := range builtin {
		out[i] = builtin[i].Clone()
	}
	return out
}

// IDs returns the ids of the built-in presets.
func IDs() []string {
	ids := make([]string, len(builtin))
	for i, p := range builtin {
		ids[i] = p.ID
	}
	return ids
}

// ErrUnknown is returned by Lookup for an id that is not a preset.
var ErrUnknown = fmt.Errorf("unknown preset")

// Lookup returns a copy of the built-in preset with the given id.
func Lookup(id string) (Preset, error) {
	i := slices.IndexFunc(builtin, func(p Preset) bool { return p.ID == id })
	if i < 0 {
		return Preset{}, fmt.Errorf("%w %q (see `outpost presets list`)", ErrUnknown, id)
	}
	return builtin[i].Clone(), nil
}
