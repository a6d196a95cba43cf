package render

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"outpost/internal/errcode"
	"outpost/internal/media"
	"outpost/internal/preset"
)

var update = flag.Bool("update", false, "rewrite golden files")

// sources are probed-file shapes the engine meets in practice.
var sources = map[string]media.Info{
	"master-1080p30": {
		Path: "/in/master.mp4", FormatName: "mov,mp4,m4a,3gp,3g2,mj2", Duration: 30, SizeBytes: 22_500_000, BitRate: 6_000_000, FastStart: true,
		Video: &media.Video{Codec: "h264", Profile: "High", PixFmt: "yuv420p", BitDepth: 8, Width: 1920, Height: 1080, CodedWidth: 1920, CodedHeight: 1080, FrameRate: 30, BitRate: 5_800_000},
		Audio: &media.Audio{Codec: "aac", Profile: "LC", SampleRate: 48000, Channels: 2, ChannelLayout: "stereo", BitRate: 128_000},
	},
	"hdr10-4k60": {
		Path: "/in/hdr.mov", FormatName: "mov,mp4,m4a,3gp,3g2,mj2", Duration: 12.5, BitRate: 50_000_000,
		Video: &media.Video{Codec: "hevc", Profile: "Main 10", PixFmt: "yuv420p10le", BitDepth: 10, Width: 3840, Height: 2160, FrameRate: 59.94, ColorTransfer: "smpte2084", HDR: true},
		Audio: &media.Audio{Codec: "aac", Profile: "LC", SampleRate: 44100, Channels: 2},
	},
	"phone-rotated": {
		Path: "/in/IMG_0042.MOV", FormatName: "mov,mp4,m4a,3gp,3g2,mj2", Duration: 8, BitRate: 12_000_000,
		Video: &media.Video{Codec: "h264", Profile: "High", PixFmt: "yuv420p", BitDepth: 8, Width: 1080, Height: 1920, CodedWidth: 1920, CodedHeight: 1080, Rotation: 90, FrameRate: 29.97, VariableFrameRate: true},
		Audio: &media.Audio{Codec: "aac", Profile: "LC", SampleRate: 48000, Channels: 1},
	},
	// The issue-12 bench master: 1080p30 with noise at 12 Mbps, above every
	// social cap, so nothing passes through.
	"master-12mbps": {
		Path: "/in/noisy.mp4", FormatName: "mov,mp4,m4a,3gp,3g2,mj2", Duration: 30, SizeBytes: 47_000_000, BitRate: 12_530_000, FastStart: true,
		Video: &media.Video{Codec: "h264", Profile: "High", PixFmt: "yuv420p", BitDepth: 8, Width: 1920, Height: 1080, FrameRate: 30, BitRate: 12_400_000},
		Audio: &media.Audio{Codec: "aac", Profile: "LC", SampleRate: 48000, Channels: 2, ChannelLayout: "stereo", BitRate: 128_000},
	},
	"odd-silent": {
		Path: "/in/odd.mkv", FormatName: "matroska,webm", Duration: 4,
		Video: &media.Video{Codec: "h264", Profile: "High 4:4:4 Predictive", PixFmt: "yuv444p", BitDepth: 8, Width: 641, Height: 361, FrameRate: 25},
	},
}

// mastered is a source already at the social platforms' -14 LUFS: no
// loudness change, so the plans are those of a render without loudness.
var mastered = &media.Loudness{Integrated: -14.2, Threshold: -24.3, Range: 6, TruePeak: -2.6}

func targets(t *testing.T, fit preset.Fit, level preset.Level, ids ...string) []Target {
	t.Helper()
	var ts []Target
	for _, id := range ids {
		p, err := preset.Lookup(id)
		if err != nil {
			t.Fatal(err)
		}
		ts = append(ts, Target{Preset: p, Fit: fit, Quality: level})
	}
	return ts
}

func TestBuild_golden(t *testing.T) {
	t.Parallel()
	social := []string{"youtube-1080p", "instagram-reel", "linkedin-square"}
	six := []string{"youtube-1080p", "instagram-reel", "linkedin-square", "tiktok", "facebook-reel", "youtube-shorts"}
	for _, tc := range []struct {
		name    string
		source  string
		fit     preset.Fit
		level   preset.Level
		ids     []string
		threads int
	}{
		{"social-six", "master-12mbps", "", "", six, 0},
		{"social-six-web", "master-12mbps", "", preset.Web, six, 0},
		{"social-six-ultra", "master-12mbps", "", preset.Ultra, six, 0},
		{"social-six-threads", "master-12mbps", "", "", six, 2},
		{"master-social", "master-1080p30", "", "", social, 0},
		{"master-passthrough-only", "master-1080p30", "", "", []string{"youtube-1080p"}, 0},
		{"master-web-no-passthrough", "master-1080p30", "", preset.Web, []string{"youtube-1080p"}, 0},
		{"master-every-preset", "master-1080p30", "", "", preset.IDs(), 0},
		{"master-reel-pad", "master-1080p30", preset.FitPad, "", []string{"instagram-reel"}, 0},
		{"master-reel-crop", "master-1080p30", preset.FitCrop, "", []string{"instagram-reel"}, 0},
		{"hdr-social", "hdr10-4k60", "", preset.Ultra, append(social, "youtube-4k", "facebook-feed"), 0},
		{"phone-social", "phone-rotated", "", "", append(social, "tiktok", "gif-480p"), 0},
		{"odd-silent", "odd-silent", "", "", []string{"tiktok", "mp4-720p", "webm-1080p", "mov-prores-1080p"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src := sources[tc.source]
			plan, err := Build(&src, targets(t, tc.fit, tc.level, tc.ids...), Options{OutDir: "/out", Loudness: mastered, Threads: tc.threads})
			if err != nil {
				t.Fatal(err)
			}
			checkPlan(t, plan)
			goldenPlan(t, tc.name, plan)
		})
	}
}

// goldenPlan compares plan's argv and JSON with testdata/golden/NAME.json.
func goldenPlan(t *testing.T, name string, plan *Plan) {
	t.Helper()
	got, err := json.MarshalIndent(struct {
		Argv []string `json:"argv"`
		Plan *Plan    `json:"plan"`
	}{plan.Args(), plan}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, filepath.Join("testdata", "golden", name+".json"), append(got, '\n'))
}

// checkPlan asserts the invariants every plan keeps, beyond the golden bytes.
func checkPlan(t *testing.T, p *Plan) {
	t.Helper()
	args := p.Args()
	var inputs []string
	for i, a := range args {
		if a == "-i" {
			inputs = append(inputs, args[i+1])
		}
	}
	if len(inputs) != 1+len(p.Extra) || inputs[0] != p.Input || slices.Contains(inputs[1:], p.Input) {
		t.Errorf("plan inputs %q, want the source exactly once (one decode) and then %d extra inputs", inputs, len(p.Extra))
	}
	if n := len(slices.DeleteFunc(slices.Clone(args), func(a string) bool { return a != "-filter_complex" })); n > 1 {
		t.Error("more than one filter graph")
	}
	written := map[string]*Output{} // file → the output whose args write it
	patterns := map[string]int{}    // thumbnail pattern → outputs writing it
	for i := range p.Outputs {
		o := &p.Outputs[i]
		if o.SharedFile == "" {
			written[o.TempPath] = o
		}
		if th := o.Thumbnail; th != nil && len(th.Args) > 0 {
			patterns[th.Pattern]++
			if th.Args[len(th.Args)-1] != th.Pattern {
				t.Errorf("%s: thumbnail args do not end with the pattern", o.PresetID)
			}
		}
	}
	for _, o := range p.Outputs {
		if o.Width%2 != 0 || o.Height%2 != 0 {
			t.Errorf("%s: odd size %dx%d", o.PresetID, o.Width, o.Height)
		}
		if o.SharedFile == "" && o.Args[len(o.Args)-1] != o.TempPath {
			t.Errorf("%s: args do not end with the temp path", o.PresetID)
		}
		if o.SharedFile != "" {
			lead := written[o.SharedFile]
			switch {
			case len(o.Args) > 0:
				t.Errorf("%s shares %s and has args of its own", o.PresetID, o.SharedFile)
			case lead == nil:
				t.Errorf("%s shares %s, which no output writes", o.PresetID, o.SharedFile)
			case !slices.Contains(o.SharesEncodeWith, lead.PresetID) || !slices.Contains(lead.SharesEncodeWith, o.PresetID):
				t.Errorf("%s and %s share a file but do not list each other", o.PresetID, lead.PresetID)
			case lead.Width != o.Width || lead.Height != o.Height || lead.FPS != o.FPS || lead.Passthrough != o.Passthrough:
				t.Errorf("%s shares the file of %s, which differs in frame or mode", o.PresetID, lead.PresetID)
			}
		}
		if th := o.Thumbnail; th != nil && patterns[th.Pattern] != 1 {
			t.Errorf("%s: thumbnail pattern %s is written %d times", o.PresetID, th.Pattern, patterns[th.Pattern])
		}
		if o.Passthrough == (o.Reason != "") {
			t.Errorf("%s: passthrough=%v with reason %q", o.PresetID, o.Passthrough, o.Reason)
		}
		if !o.Passthrough && o.Encoding == nil {
			t.Errorf("%s: encoded without encoder settings", o.PresetID)
		}
	}
	// One encoder per file, not per target.
	encoded, copied := p.Encodes()
	if n := strings.Count(strings.Join(args, "\x00"), "\x00-c:v\x00") - strings.Count(strings.Join(args, "\x00"), "\x00-c:v\x00copy") -
		strings.Count(strings.Join(args, "\x00"), "\x00-c:v\x00mjpeg"); n != encoded {
		t.Errorf("argv has %d video encoders, the plan counts %d encodes", n, encoded)
	}
	if encoded+copied != len(written) {
		t.Errorf("Encodes() = %d + %d, want %d files", encoded, copied, len(written))
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/render -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the plan built now; if the change is intended, run go test ./internal/render -update and review the diff.\ngot:\n%s", path, got)
	}
}

// TestBuild_goldenFinishing covers captions, loudness, watermarks,
// thumbnails and samples, alone and together.
func TestBuild_goldenFinishing(t *testing.T) {
	t.Parallel()
	quiet := &media.Loudness{Integrated: -23.4, Threshold: -33.5, Range: 7.2, TruePeak: -12.1}
	peaky := &media.Loudness{Integrated: -16, Threshold: -26.2, Range: 14.3, TruePeak: 0.4}
	at := 2.5
	logo := &Watermark{Path: "/brand/logo.png", Position: BottomRight, Opacity: 0.8}
	for _, tc := range []struct {
		name   string
		source string
		ids    []string
		prep   func(ts []Target, o *Options)
	}{
		{"captions", "master-1080p30", []string{"youtube-1080p", "tiktok", "webm-1080p", "gif-480p"}, func(ts []Target, o *Options) {
			o.Captions, o.WorkDir = "/work/captions.vtt", "/work"
			ts[0].Captions = Captions{Track: true, Sidecar: true}
			ts[1].Captions = Captions{Burn: true}
			ts[2].Captions = Captions{Track: true}
			ts[3].Captions = Captions{Burn: true}
		}},
		{"loudness-gain", "master-1080p30", []string{"youtube-1080p", "tiktok", "mp4-720p"}, func(ts []Target, o *Options) {
			o.Loudness = quiet
			for i := range ts {
				ts[i].PlatformLoudness = true
			}
		}},
		{"loudness-limited", "master-1080p30", []string{"tiktok", "instagram-reel", "mp4-720p", "webm-1080p"}, func(ts []Target, o *Options) {
			o.Loudness = peaky
			for i := range ts {
				ts[i].PlatformLoudness = true
			}
			ts[1].LoudnessOff = true
			ts[2].Loudness = &preset.Loudness{LUFS: -16, TruePeak: -1.5}
		}},
		{"watermark", "master-1080p30", []string{"youtube-1080p", "instagram-reel", "linkedin-square", "tiktok"}, func(ts []Target, o *Options) {
			ts[0].Watermark = logo
			ts[1].Watermark = &Watermark{Path: logo.Path, Position: TopLeft}
			ts[2].Watermark = &Watermark{Path: logo.Path, Position: Center, Width: 0.5}
			ts[3].Watermark = &Watermark{Path: "/brand/other.png", Position: BottomLeft, Margin: 0.05}
		}},
		{"watermark-svg", "master-1080p30", []string{"youtube-1080p", "tiktok", "mp4-720p"}, func(ts []Target, o *Options) {
			for i := range ts {
				ts[i].Watermark = &Watermark{Path: "/brand/logo.SVG", Position: TopRight, Width: 0.2}
			}
			ts[2].NoPassthrough = true
		}},
		{"thumbnails", "master-1080p30", []string{"youtube-1080p", "instagram-reel", "gif-480p"}, func(ts []Target, o *Options) {
			for i := range ts {
				ts[i].Thumbnail = true
			}
		}},
		{"thumbnail-at", "phone-rotated", []string{"tiktok", "mp4-720p"}, func(ts []Target, o *Options) {
			o.ThumbnailAt = &at
			ts[0].Thumbnail, ts[1].Thumbnail = true, true
		}},
		{"thumbnail-passthrough-only", "master-1080p30", []string{"youtube-1080p"}, func(ts []Target, o *Options) {
			ts[0].Thumbnail = true
		}},
		{"everything", "hdr10-4k60", []string{"youtube-4k", "instagram-reel", "gif-480p"}, func(ts []Target, o *Options) {
			o.Captions, o.WorkDir, o.Loudness = "/work/it's [1],a;b.vtt", "/work/it's [1]", quiet
			for i := range ts {
				ts[i].PlatformLoudness = true
				ts[i].Captions = Captions{Burn: true}
				ts[i].Watermark = logo
				ts[i].Thumbnail = true
			}
			ts[0].Captions = Captions{Track: true, Sidecar: true}
		}},
		{"preview", "master-1080p30", []string{"youtube-1080p", "tiktok", "mov-prores-1080p", "gif-480p"}, func(ts []Target, o *Options) {
			o.Captions, o.WorkDir, o.Sample, o.FastDecode = "/work/captions.vtt", "/work", &Span{Duration: 10}, true
			for i := range ts {
				ts[i].Captions = CaptionsFor(ts[i].Preset, false)
				ts[i].Watermark = logo
				ts[i] = PreviewTarget(ts[i], 1920, 1080, 0)
			}
		}},
		{"sample", "master-1080p30", []string{"youtube-1080p", "tiktok"}, func(ts []Target, o *Options) {
			o.Sample = &Span{Start: 13.5, Duration: 3}
			ts[0].NoPassthrough = true
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src := sources[tc.source]
			ts := targets(t, "", "", tc.ids...)
			opts := Options{OutDir: "/out", Loudness: mastered}
			tc.prep(ts, &opts)
			plan, err := Build(&src, ts, opts)
			if err != nil {
				t.Fatal(err)
			}
			checkPlan(t, plan)
			goldenPlan(t, "finish-"+tc.name, plan)
		})
	}
}

// TestBuild_goldenTimeline covers joined clips: cut, crossfaded, with an
// audio bed, a clip without sound, a preview sample and a GIF only.
func TestBuild_goldenTimeline(t *testing.T) {
	t.Parallel()
	master, phone, silent, hdr := sources["master-1080p30"], sources["phone-rotated"], sources["odd-silent"], sources["hdr10-4k60"]
	intro := &media.Info{Path: "/brand/intro.mov", FormatName: "mov,mp4,m4a,3gp,3g2,mj2", Duration: 3,
		Video: &media.Video{Codec: "prores", PixFmt: "yuv422p10le", Width: 1920, Height: 1080, FrameRate: 25},
		Audio: &media.Audio{Codec: "pcm_s16le", SampleRate: 44100, Channels: 1}}
	for _, tc := range []struct {
		name string
		tl   Timeline
		ids  []string
		prep func(ts []Target, o *Options)
	}{
		{"cut", Timeline{Clips: []Clip{{Info: intro}, {Info: &master, In: 2, Out: 12.5}, {Info: &silent}, {Info: &phone, Out: 4}}},
			[]string{"youtube-1080p", "tiktok"}, nil},
		{"crossfade-bed", Timeline{Clips: []Clip{{Info: &master, Out: 10}, {Info: intro}}, Crossfade: 0.5,
			Bed: &AudioBed{Path: "/music/bed.mp3", Volume: 0.25, Duck: true}},
			[]string{"youtube-1080p", "instagram-reel"}, func(ts []Target, o *Options) {
				ts[0].Watermark = &Watermark{Path: "/brand/logo.png"}
			}},
		{"preview", Timeline{Clips: []Clip{{Info: intro}, {Info: &master}}},
			[]string{"youtube-1080p"}, func(ts []Target, o *Options) {
				o.Sample, o.FastDecode = &Span{Duration: 10}, true
				ts[0] = PreviewTarget(ts[0], 1920, 1080, 0)
			}},
		{"gif-only", Timeline{Clips: []Clip{{Info: &master, Out: 3}, {Info: intro}}}, []string{"gif-480p"}, nil},
		{"hdr-clip", Timeline{Clips: []Clip{{Info: &master, Out: 3}, {Info: &hdr}}}, []string{"youtube-1080p"}, nil},
		{"threads", Timeline{Clips: []Clip{{Info: intro}, {Info: &master, In: 2, Out: 6}}}, []string{"tiktok", "instagram-reel"},
			func(_ []Target, o *Options) { o.Threads = 3 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src, err := tc.tl.Source()
			if err != nil {
				t.Fatal(err)
			}
			ts := targets(t, "", "", tc.ids...)
			opts := Options{OutDir: "/out", Timeline: &tc.tl}
			if tc.prep != nil {
				tc.prep(ts, &opts)
			}
			plan, err := Build(src, ts, opts)
			if err != nil {
				t.Fatal(err)
			}
			checkPlan(t, plan)
			for _, o := range plan.Outputs {
				if o.Passthrough {
					t.Errorf("%s passes a timeline through", o.PresetID)
				}
			}
			goldenPlan(t, "timeline-"+tc.name, plan)
		})
	}
}

func TestTimeline_Validate(t *testing.T) {
	t.Parallel()
	m := sources["master-1080p30"]
	for _, tc := range []struct {
		name string
		tl   Timeline
	}{
		{"empty", Timeline{}},
		{"in past end", Timeline{Clips: []Clip{{Info: &m, In: 30}}}},
		{"out before in", Timeline{Clips: []Clip{{Info: &m, In: 5, Out: 4}}}},
		{"out past end", Timeline{Clips: []Clip{{Info: &m, Out: 31}}}},
		{"no video", Timeline{Clips: []Clip{{Info: &media.Info{Duration: 3}}}}},
		{"crossfade too long", Timeline{Clips: []Clip{{Info: &m, Out: 1}, {Info: &m}}, Crossfade: 1}},
		{"bed volume", Timeline{Clips: []Clip{{Info: &m}}, Bed: &AudioBed{Path: "/a.mp3", Volume: 9}}},
	} {
		if err := tc.tl.Validate(); errcode.Of(err) != errcode.TimelineInvalid {
			t.Errorf("%s: %v, want timeline_invalid", tc.name, err)
		}
	}
	ok := Timeline{Clips: []Clip{{Info: &m, In: 1, Out: 3}, {Info: &m, Out: 2}}, Crossfade: 0.5}
	src, err := ok.Source()
	if err != nil || src.Duration != 3.5 || src.Video.Width != 1920 || src.Audio == nil {
		t.Errorf("Source = %+v, %v; want 3.5 s, 1920 wide, with audio", src, err)
	}
}

func TestBuild_passthrough(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		mutate func(*media.Info)
		want   bool
	}{
		{"compatible master", func(*media.Info) {}, true},
		{"bitrate above cap", func(i *media.Info) { i.Video.BitRate = 20_000_000 }, false},
		{"rotated", func(i *media.Info) { i.Video.Rotation = 180 }, false},
		{"vfr", func(i *media.Info) { i.Video.VariableFrameRate = true }, false},
		{"main profile", func(i *media.Info) { i.Video.Profile = "Main" }, false},
		{"no audio", func(i *media.Info) { i.Audio = nil }, false},
		{"44.1 kHz", func(i *media.Info) { i.Audio.SampleRate = 44100 }, false},
		{"mkv", func(i *media.Info) { i.FormatName = "matroska,webm" }, false},
		{"720p", func(i *media.Info) { i.Video.Width, i.Video.Height = 1280, 720 }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src := sources["master-1080p30"]
			v, a := *src.Video, *src.Audio
			src.Video, src.Audio = &v, &a
			tc.mutate(&src)
			plan, err := Build(&src, targets(t, "", "", "youtube-1080p"), Options{OutDir: "/out", Loudness: mastered})
			if err != nil {
				t.Fatal(err)
			}
			if got := plan.Outputs[0].Passthrough; got != tc.want {
				t.Errorf("passthrough = %v (%s), want %v", got, plan.Outputs[0].Reason, tc.want)
			}
			if tc.want && plan.FilterGraph != "" {
				t.Errorf("passthrough-only plan has a filter graph %q", plan.FilterGraph)
			}
		})
	}
}

func TestBuild_errors(t *testing.T) {
	t.Parallel()
	audioOnly := &media.Info{Path: "/in/a.m4a", Duration: 3, Audio: &media.Audio{Codec: "aac"}}
	src := sources["master-1080p30"]
	for _, tc := range []struct {
		name    string
		src     *media.Info
		targets []Target
		code    errcode.Code
	}{
		{"audio only", audioOnly, targets(t, "", "", "tiktok"), errcode.SourceNoVideo},
		{"no targets", &src, nil, errcode.InvalidOption},
		{"same preset twice", &src, targets(t, "", "", "tiktok", "tiktok"), errcode.InvalidOption},
	} {
		_, err := Build(tc.src, tc.targets, Options{OutDir: "/out"})
		if got := errcode.Of(err); got != tc.code {
			t.Errorf("%s: code %q (%v), want %q", tc.name, got, err, tc.code)
		}
	}
}

// TestBuild_sharing pins the grouping rule: which targets share one encode,
// and with which limits.
func TestBuild_sharing(t *testing.T) {
	t.Parallel()
	six := []string{"youtube-1080p", "instagram-reel", "linkedin-square", "tiktok", "facebook-reel", "youtube-shorts"}
	reels := []string{"instagram-reel", "tiktok", "facebook-reel", "youtube-shorts"}
	for _, tc := range []struct {
		name  string
		ids   []string
		level preset.Level
		prep  func(ts []Target, o *Options)
		// want lists each file's targets, with the file's bitrate cap
		// and GOP: "id+id… kbps/gop".
		want []string
	}{
		{"hd six: three shapes, three encodes", six, preset.HD, nil,
			[]string{"youtube-1080p 8000/15", "instagram-reel+tiktok+facebook-reel+youtube-shorts 8000/15", "linkedin-square 6000/60"}},
		{"web six: the same groups at web's caps", six, preset.Web, nil,
			[]string{"youtube-1080p 4000/15", "instagram-reel+tiktok+facebook-reel+youtube-shorts 4000/15", "linkedin-square 3000/60"}},
		{"ultra: a looser cap or GOP keeps its own encode", six, preset.Ultra, nil,
			[]string{"youtube-1080p 12000/15", "instagram-reel+facebook-reel 12000/60", "linkedin-square 9000/60", "tiktok 18000/60", "youtube-shorts 12000/15"}},
		{"hd: the lowest cap of all members", reels, preset.HD, func(ts []Target, _ *Options) { ts[1].VideoKbps = 5000 },
			[]string{"instagram-reel+tiktok+facebook-reel+youtube-shorts 5000/15"}},
		{"levels never mix", reels, preset.HD, func(ts []Target, _ *Options) { ts[1].Quality = preset.Web },
			[]string{"instagram-reel+facebook-reel+youtube-shorts 8000/15", "tiktok 6000/60"}},
		{"loudness splits the file", reels, preset.HD, func(ts []Target, o *Options) {
			o.Loudness = &media.Loudness{Integrated: -20, Threshold: -30, Range: 5, TruePeak: -9}
			for i := range ts {
				ts[i].PlatformLoudness = true // -14 LUFS on Instagram, TikTok, YouTube; Facebook keeps the source's
			}
		}, []string{"instagram-reel+tiktok+youtube-shorts 8000/15", "facebook-reel 8000/60"}},
		{"watermarks split the file", reels, preset.HD, func(ts []Target, _ *Options) {
			ts[0].Watermark = &Watermark{Path: "/brand/a.png"}
			ts[1].Watermark = &Watermark{Path: "/brand/a.png"}
			ts[2].Watermark = &Watermark{Path: "/brand/b.png"}
		}, []string{"instagram-reel+tiktok 8000/60", "facebook-reel 8000/60", "youtube-shorts 8000/15"}},
		{"burned captions of one style share", reels, preset.HD, func(ts []Target, o *Options) {
			o.Captions = "/work/c.vtt"
			for i := range ts {
				ts[i].Captions = Captions{Burn: true}
			}
		}, []string{"instagram-reel+tiktok+facebook-reel+youtube-shorts 8000/15"}},
		{"fit splits the file, not the decode", reels, preset.HD, func(ts []Target, _ *Options) { ts[0].Fit = preset.FitCrop },
			[]string{"instagram-reel 8000/60", "tiktok+facebook-reel+youtube-shorts 8000/15"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src := sources["master-12mbps"]
			ts := targets(t, "", tc.level, tc.ids...)
			opts := Options{OutDir: "/out", Loudness: mastered}
			if tc.prep != nil {
				tc.prep(ts, &opts)
			}
			plan, err := Build(&src, ts, opts)
			if err != nil {
				t.Fatal(err)
			}
			checkPlan(t, plan)
			var got []string
			for _, o := range plan.Outputs {
				if o.SharedFile != "" {
					continue
				}
				ids := append([]string{o.PresetID}, o.SharesEncodeWith...)
				got = append(got, fmt.Sprintf("%s %d/%d", strings.Join(ids, "+"), o.Encoding.MaxRateKbps, o.Encoding.GOP))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("files:\n got %q\nwant %q", got, tc.want)
			}
			if enc, _ := plan.Encodes(); enc != len(tc.want) {
				t.Errorf("Encodes() = %d, want %d", enc, len(tc.want))
			}
		})
	}
}
