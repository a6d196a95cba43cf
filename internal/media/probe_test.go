package media

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"outpost/internal/errcode"
	"outpost/internal/media/mediatest"
)

var update = flag.Bool("update", false, "regenerate testdata/probe/*.json with the local ffprobe")

// probeSources says how each testdata/probe file was made, so -update can
// remake them all from the generator (legacy_rotate.json is hand-written in
// the shape ffprobe 4.x printed, and is not regenerated).
var probeSources = map[string]func(t *testing.T) string{
	"h264_aac_faststart": func(t *testing.T) string {
		return mediatest.Generate(t, mediatest.Spec{Audio: true, FastStart: true, Profile: "high"})
	},
	"rotated90": func(t *testing.T) string {
		return mediatest.Generate(t, mediatest.Spec{Width: 320, Height: 180, Rotation: 90})
	},
	"rotated180_mov": func(t *testing.T) string {
		return mediatest.Generate(t, mediatest.Spec{Container: "mov", Rotation: 180})
	},
	"hevc10_hdr": func(t *testing.T) string {
		return mediatest.Generate(t, mediatest.Spec{Codec: "hevc10"})
	},
	"vfr": func(t *testing.T) string {
		return mediatest.Generate(t, mediatest.Spec{VFR: true, FPS: 30, Duration: 2})
	},
	"audio_only": func(t *testing.T) string {
		return mediatest.AudioOnly(t, 1)
	},
	"vp9_opus_webm": func(t *testing.T) string {
		return mediatest.Generate(t, mediatest.Spec{Codec: "vp9", Container: "webm", Audio: true})
	},
	"mjpeg_odd_mov": func(t *testing.T) string {
		return mediatest.Generate(t, mediatest.Spec{Codec: "mjpeg", Container: "mov", Width: 321, Height: 241})
	},
	"prores_ntsc_mov": func(t *testing.T) string {
		return mediatest.Generate(t, mediatest.Spec{Codec: "prores", Container: "mov", FPS: 29.97})
	},
	"interlaced": func(t *testing.T) string {
		return mediatest.Generate(t, mediatest.Spec{Interlaced: true, Container: "mkv"})
	},
	"cover_art": func(t *testing.T) string {
		clip := mediatest.Generate(t, mediatest.Spec{Audio: true})
		dir := t.TempDir()
		cover, out := filepath.Join(dir, "cover.png"), filepath.Join(dir, "with_cover.mp4")
		ffmpeg(t, "-f", "lavfi", "-i", "color=c=red:s=64x64", "-frames:v", "1", cover)
		ffmpeg(t, "-i", clip, "-i", cover, "-map", "0", "-map", "1", "-c", "copy",
			"-disposition:v:1", "attached_pic", out)
		return out
	},
}

func ffmpeg(t *testing.T, args ...string) {
	t.Helper()
	args = append([]string{"-hide_banner", "-nostdin", "-y", "-loglevel", "error"}, args...)
	if out, err := exec.CommandContext(t.Context(), "ffmpeg", args...).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %v: %v\n%s", args, err, out)
	}
}

func probeTestdata(t *testing.T, name string) []byte {
	t.Helper()
	path := filepath.Join("testdata", "probe", name+".json")
	if gen, ok := probeSources[name]; ok && *update {
		src := gen(t)
		out, err := exec.CommandContext(t.Context(), "ffprobe", "-v", "error",
			"-show_format", "-show_streams", "-print_format", "json", src).Output()
		if err != nil {
			t.Fatalf("ffprobe %s: %v", src, err)
		}
		// Keep temp folder names out of the committed files.
		out = bytes.ReplaceAll(out, []byte(filepath.Dir(src)+"/"), nil)
		if err := os.WriteFile(path, out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to make it)", err)
	}
	return data
}

func TestParseProbe(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		check func(t *testing.T, info *Info)
	}{
		{"h264_aac_faststart", func(t *testing.T, info *Info) {
			want := Info{FormatName: "mov,mp4,m4a,3gp,3g2,mj2", StreamCount: 2}
			if info.FormatName != want.FormatName || info.StreamCount != want.StreamCount {
				t.Errorf("format = %q, %d streams; want %q, %d", info.FormatName, info.StreamCount, want.FormatName, want.StreamCount)
			}
			if !near(info.Duration, 1, 0.05) || info.SizeBytes <= 0 || info.BitRate <= 0 {
				t.Errorf("duration %v size %d bit rate %d", info.Duration, info.SizeBytes, info.BitRate)
			}
			v := info.Video
			wantV := Video{Index: 0, Codec: "h264", Profile: "High", PixFmt: "yuv420p", BitDepth: 8,
				Width: 320, Height: 180, CodedWidth: 320, CodedHeight: 180, FrameRate: 25,
				FrameCount: 25, FieldOrder: "progressive", SampleAspectRatio: "1:1"}
			gotV := *v
			gotV.BitRate = 0
			if gotV != wantV {
				t.Errorf("video =\n %+v\nwant\n %+v", gotV, wantV)
			}
			if v.BitRate <= 0 {
				t.Errorf("video bit rate %d", v.BitRate)
			}
			a := *info.Audio
			a.BitRate = 0
			if wantA := (Audio{Index: 1, Codec: "aac", Profile: "LC", SampleRate: 48000, Channels: 2, ChannelLayout: "stereo"}); a != wantA {
				t.Errorf("audio = %+v, want %+v", a, wantA)
			}
		}},
		{"rotated90", func(t *testing.T, info *Info) {
			v := info.Video
			if v.Rotation != 90 || v.Width != 180 || v.Height != 320 || v.CodedWidth != 320 || v.CodedHeight != 180 {
				t.Errorf("rotation %d, display %dx%d, coded %dx%d; want 90, 180x320, 320x180",
					v.Rotation, v.Width, v.Height, v.CodedWidth, v.CodedHeight)
			}
			if info.Audio != nil {
				t.Errorf("audio = %+v, want none", info.Audio)
			}
		}},
		{"rotated180_mov", func(t *testing.T, info *Info) {
			if v := info.Video; v.Rotation != 180 || v.Width != 320 || v.Height != 180 {
				t.Errorf("rotation %d, display %dx%d; want 180, 320x180", v.Rotation, v.Width, v.Height)
			}
		}},
		{"legacy_rotate", func(t *testing.T, info *Info) {
			if v := info.Video; v.Rotation != 270 || v.Width != 1080 || v.Height != 1920 {
				t.Errorf("rotation %d, display %dx%d; want 270, 1080x1920", v.Rotation, v.Width, v.Height)
			}
			if !near(info.Video.FrameRate, 30000.0/1001, 1e-9) {
				t.Errorf("frame rate %v", info.Video.FrameRate)
			}
		}},
		{"hevc10_hdr", func(t *testing.T, info *Info) {
			v := info.Video
			if v.Codec != "hevc" || v.Profile != "Main 10" || v.PixFmt != "yuv420p10le" || v.BitDepth != 10 {
				t.Errorf("codec %s %s %s depth %d", v.Codec, v.Profile, v.PixFmt, v.BitDepth)
			}
			if !v.HDR || v.ColorTransfer != "smpte2084" || v.ColorPrimaries != "bt2020" || v.ColorSpace != "bt2020nc" {
				t.Errorf("hdr %v transfer %q primaries %q space %q", v.HDR, v.ColorTransfer, v.ColorPrimaries, v.ColorSpace)
			}
		}},
		{"vfr", func(t *testing.T, info *Info) {
			// The header alone shows it: r_frame_rate 30, average about 21.
			v := info.Video
			if !v.VariableFrameRate || v.FrameRate > 25 || v.FrameRate < 18 {
				t.Errorf("vfr %v at %v fps", v.VariableFrameRate, v.FrameRate)
			}
		}},
		{"audio_only", func(t *testing.T, info *Info) {
			if info.Video != nil {
				t.Errorf("video = %+v, want nil", info.Video)
			}
			if a := info.Audio; a == nil || a.Codec != "aac" || a.Channels != 2 || a.SampleRate != 48000 || a.Index != 0 {
				t.Errorf("audio = %+v", a)
			}
			if info.Aspect() != 0 {
				t.Errorf("aspect %v without video", info.Aspect())
			}
		}},
		{"vp9_opus_webm", func(t *testing.T, info *Info) {
			if info.FormatName != "matroska,webm" || info.Video.Codec != "vp9" || info.Audio.Codec != "opus" {
				t.Errorf("format %s video %s audio %s", info.FormatName, info.Video.Codec, info.Audio.Codec)
			}
			// Matroska has no nb_frames and ffprobe has no bits_per_raw_sample for VP9.
			if info.Video.FrameCount != 0 || info.Video.BitDepth != 8 || info.Video.VariableFrameRate {
				t.Errorf("frames %d depth %d vfr %v", info.Video.FrameCount, info.Video.BitDepth, info.Video.VariableFrameRate)
			}
		}},
		{"mjpeg_odd_mov", func(t *testing.T, info *Info) {
			if v := info.Video; v.Codec != "mjpeg" || v.Width != 321 || v.Height != 241 {
				t.Errorf("%s %dx%d", v.Codec, v.Width, v.Height)
			}
		}},
		{"prores_ntsc_mov", func(t *testing.T, info *Info) {
			v := info.Video
			if v.Codec != "prores" || v.BitDepth != 10 || v.PixFmt != "yuv422p10le" || !near(v.FrameRate, 30000.0/1001, 1e-6) {
				t.Errorf("%s %s depth %d at %v fps", v.Codec, v.PixFmt, v.BitDepth, v.FrameRate)
			}
		}},
		{"interlaced", func(t *testing.T, info *Info) {
			if v := info.Video; v.FieldOrder != "tt" || v.VariableFrameRate {
				t.Errorf("field order %q vfr %v", v.FieldOrder, v.VariableFrameRate)
			}
		}},
		{"cover_art", func(t *testing.T, info *Info) {
			// The MP4 demuxer lists the cover (from udta/covr) last.
			if v := info.Video; v.Index != 0 || v.Codec != "h264" {
				t.Errorf("video stream %d %s, want 0 h264", v.Index, v.Codec)
			}
			if info.StreamCount != 3 {
				t.Errorf("%d streams, want 3", info.StreamCount)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			info, err := ParseProbe(probeTestdata(t, tt.name))
			if err != nil {
				t.Fatal(err)
			}
			if tt.name != "audio_only" && info.Video == nil {
				t.Fatal("no video")
			}
			tt.check(t, info)
		})
	}
}

func TestParseProbe_edgeCases(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		json    string
		wantErr bool
		check   func(*Info) bool
	}{
		{"not json", `moov atom not found`, true, nil},
		{"empty object", `{}`, false, func(i *Info) bool { return i.Video == nil && i.Audio == nil && i.StreamCount == 0 }},
		{"numbers as numbers", `{"format":{"duration":2.5,"size":100},"streams":[{"codec_type":"video","width":10,"height":20}]}`, false,
			func(i *Info) bool { return i.Duration == 2.5 && i.SizeBytes == 100 && i.Video.Width == 10 }},
		{"N/A and null", `{"format":{"duration":"N/A","bit_rate":null},"streams":[{"codec_type":"video","r_frame_rate":"0/0","avg_frame_rate":"0/0","nb_frames":"N/A"}]}`, false,
			func(i *Info) bool { return i.Duration == 0 && i.Video.FrameRate == 0 && i.Video.FrameCount == 0 }},
		{"avg 0/0 falls back to r", `{"streams":[{"codec_type":"video","r_frame_rate":"24000/1001","avg_frame_rate":"0/0"}]}`, false,
			func(i *Info) bool { return near(i.Video.FrameRate, 23.976, 0.001) && !i.Video.VariableFrameRate }},
		{"only attached pic", `{"streams":[{"codec_type":"video","disposition":{"attached_pic":1}},{"codec_type":"audio","index":1}]}`, false,
			func(i *Info) bool { return i.Video == nil && i.Audio.Index == 1 }},
		{"attached pic first", `{"streams":[{"index":0,"codec_type":"video","codec_name":"png","disposition":{"attached_pic":1}},{"index":1,"codec_type":"video","codec_name":"h264"}]}`, false,
			func(i *Info) bool { return i.Video.Index == 1 && i.Video.Codec == "h264" && i.StreamCount == 2 }},
		{"display matrix wins over tag", `{"streams":[{"codec_type":"video","width":4,"height":2,"tags":{"rotate":"180"},"side_data_list":[{"side_data_type":"Display Matrix","rotation":-90}]}]}`, false,
			func(i *Info) bool { return i.Video.Rotation == 90 && i.Video.Width == 2 }},
		{"HLG is HDR", `{"streams":[{"codec_type":"video","color_transfer":"arib-std-b67"}]}`, false,
			func(i *Info) bool { return i.Video.HDR }},
		{"unknown colour is empty", `{"streams":[{"codec_type":"video","color_transfer":"unknown","sample_aspect_ratio":"0:1"}]}`, false,
			func(i *Info) bool { return i.Video.ColorTransfer == "" && i.Video.SampleAspectRatio == "" }},
		{"duration from video stream", `{"streams":[{"codec_type":"video","index":0,"duration":"3.5"}]}`, false,
			func(i *Info) bool { return i.Duration == 3.5 }},
		{"negative and huge sizes", `{"format":{"size":"-5"},"streams":[{"codec_type":"video","width":-1,"height":1e300}]}`, false,
			func(i *Info) bool { return i.SizeBytes == 0 && i.Video.Width == 0 && i.Video.Height == 0 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			info, err := ParseProbe([]byte(tt.json))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if tt.check != nil && !tt.check(info) {
				t.Errorf("unexpected info %+v (video %+v, audio %+v)", info, info.Video, info.Audio)
			}
		})
	}
}

func TestParseRate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want float64
	}{
		{"25/1", 25}, {"30000/1001", 30000.0 / 1001}, {"24", 24}, {"0/0", 0}, {"1/0", 0},
		{"", 0}, {"N/A", 0}, {"-25/1", 0}, {"NaN/1", 0}, {"1e400/1", 0}, {"25/x", 0},
	}
	for _, tt := range tests {
		if got := ParseRate(tt.in); got != tt.want {
			t.Errorf("ParseRate(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestBitDepth(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw  int
		pix  string
		want int
	}{
		{8, "yuv420p", 8}, {0, "yuv420p", 8}, {0, "yuv420p10le", 10}, {0, "yuv420p10be", 10},
		{0, "p010le", 10}, {0, "yuv422p12le", 12}, {0, "gray12le", 12}, {0, "nv12", 8},
		{0, "rgb24", 8}, {0, "rgb48le", 16}, {0, "yuv444p16le", 16}, {10, "yuv420p", 10},
		{0, "", 8}, {99, "yuv420p10le", 10},
	}
	for _, tt := range tests {
		if got := bitDepth(tt.raw, tt.pix); got != tt.want {
			t.Errorf("bitDepth(%d, %q) = %d, want %d", tt.raw, tt.pix, got, tt.want)
		}
	}
}

func TestQuarterTurns(t *testing.T) {
	t.Parallel()
	tests := []struct {
		deg  float64
		want int
	}{
		{0, 0}, {90, 90}, {-90, 270}, {180, 180}, {-180, 180}, {270, 270}, {-270, 90},
		{360, 0}, {450, 90}, {89.6, 90}, {-0.0, 0}, {math.NaN(), 0}, {1e300, 0},
	}
	for _, tt := range tests {
		got := quarterTurns(tt.deg)
		if tt.deg == 1e300 { // any quarter turn will do; it must not panic
			if got%90 != 0 || got < 0 || got > 270 {
				t.Errorf("quarterTurns(1e300) = %d", got)
			}
			continue
		}
		if got != tt.want {
			t.Errorf("quarterTurns(%v) = %d, want %d", tt.deg, got, tt.want)
		}
	}
}

func TestRatesDisagree(t *testing.T) {
	t.Parallel()
	tests := []struct {
		r, avg float64
		field  string
		want   bool
	}{
		{25, 25, "progressive", false},
		{30, 29.9, "progressive", false},
		{30, 20.8, "progressive", true},
		{50, 25, "tt", false}, // field rate
		{50, 25, "progressive", true},
		{0, 25, "", false},
		{25, 0, "", false},
	}
	for _, tt := range tests {
		if got := ratesDisagree(tt.r, tt.avg, tt.field); got != tt.want {
			t.Errorf("ratesDisagree(%v, %v, %q) = %v, want %v", tt.r, tt.avg, tt.field, got, tt.want)
		}
	}
}

// series returns n timestamps step apart, each passed through f.
func series(n int, step float64, f func(i int, ts float64) float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = float64(i) * step
		if f != nil {
			out[i] = f(i, out[i])
		}
	}
	return out
}

func TestDetectVFR(t *testing.T) {
	t.Parallel()
	// reorder swaps each group of 4 into decode order I P B B: 0 3 1 2.
	reorder := func(pts []float64) []float64 {
		out := make([]float64, 0, len(pts))
		for i := 0; i+4 <= len(pts); i += 4 {
			out = append(out, pts[i], pts[i+3], pts[i+1], pts[i+2])
		}
		return out
	}
	tests := []struct {
		name    string
		pts     []float64
		limit   int
		vfr, ok bool
	}{
		{"cfr 25", series(100, 0.04, nil), 300, false, true},
		{"cfr ntsc", series(300, 1001.0/30000, nil), 300, false, true},
		{"cfr b-frames", reorder(series(100, 0.04, nil)), 300, false, true},
		{"cfr b-frames cut by the window", reorder(series(304, 0.04, nil))[:300], 300, false, true},
		{"mkv millisecond rounding", series(120, 1.0/30, func(_ int, ts float64) float64 { return math.Round(ts*1000) / 1000 }), 300, false, true},
		{"mkv 60 fps rounding", series(120, 1.0/60, func(_ int, ts float64) float64 { return math.Round(ts*1000) / 1000 }), 300, false, true},
		{"one dropped frame", append(series(50, 0.04, nil), series(50, 0.04, func(_ int, ts float64) float64 { return ts + 2.04 })...), 300, false, true},
		{"irregular drops", series(100, 1.0/30, func(i int, ts float64) float64 {
			if i%5 == 2 || i%7 == 3 {
				return -1 // removed below
			}
			return ts
		}), 300, true, true},
		{"screen recording", series(60, 0.1, func(i int, ts float64) float64 { return ts + 0.03*float64(i%3) }), 300, true, true},
		{"too few", series(5, 0.04, nil), 300, false, false},
		{"all equal", make([]float64, 50), 300, false, false},
		{"empty", nil, 300, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pts := tt.pts[:0:0]
			for _, p := range tt.pts {
				if p >= 0 {
					pts = append(pts, p)
				}
			}
			vfr, ok := detectVFR(pts, tt.limit)
			if vfr != tt.vfr || ok != tt.ok {
				t.Errorf("detectVFR = %v, %v; want %v, %v", vfr, ok, tt.vfr, tt.ok)
			}
		})
	}
}

func TestPacketTimes(t *testing.T) {
	t.Parallel()
	in := `{"packets": [
		{"stream_index": 0, "pts_time": "0.000000"},
		{"stream_index": 1, "pts_time": "-0.021333", "side_data_list": [{}]},
		{"stream_index": 0, "pts_time": "0.066667"},
		{"stream_index": 0, "pts_time": "N/A"},
		{"stream_index": 0},
		{"stream_index": 0, "pts_time": "0.033333"},
		{"stream_index": 0, "pts_time": "nan"}
	], "streams": [], "format": {}}`
	got := packetTimes([]byte(in), 0)
	want := []float64{0, 0.066667, 0.033333}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if got := packetTimes([]byte("not json"), 0); got != nil {
		t.Errorf("not json: got %v, want nil", got)
	}
}

func FuzzParseProbe(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "probe", "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed corpus: %v", err)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"streams":[{"codec_type":"video","side_data_list":[{"side_data_type":"Display Matrix","rotation":"1e309"}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := ParseProbe(data)
		if err != nil {
			return
		}
		if info == nil {
			t.Fatal("nil info without error")
		}
		if info.Duration < 0 || math.IsNaN(info.Duration) || info.SizeBytes < 0 || info.BitRate < 0 {
			t.Errorf("bad format fields %+v", info)
		}
		if v := info.Video; v != nil {
			if v.Rotation%90 != 0 || v.Rotation < 0 || v.Rotation > 270 {
				t.Errorf("rotation %d", v.Rotation)
			}
			if v.FrameRate < 0 || math.IsNaN(v.FrameRate) || math.IsInf(v.FrameRate, 0) {
				t.Errorf("frame rate %v", v.FrameRate)
			}
			if v.BitDepth < 8 || v.BitDepth > 16 {
				t.Errorf("bit depth %d", v.BitDepth)
			}
			if v.Width < 0 || v.Height < 0 || v.Width*v.Height != v.CodedWidth*v.CodedHeight {
				t.Errorf("sizes %dx%d coded %dx%d", v.Width, v.Height, v.CodedWidth, v.CodedHeight)
			}
		}
	})
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

// Integration: generated media through the real ffprobe.

func TestProber_Probe(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		gen   func(t *testing.T) string
		check func(t *testing.T, info *Info)
	}{
		{"h264 aac moov last", func(t *testing.T) string { return mediatest.Generate(t, mediatest.Spec{Audio: true}) },
			func(t *testing.T, info *Info) {
				if info.FastStart {
					t.Error("FastStart = true for a file with moov at the end")
				}
				if info.Video.VariableFrameRate || info.Video.FrameCount != 25 || info.Audio == nil {
					t.Errorf("vfr %v frames %d audio %+v", info.Video.VariableFrameRate, info.Video.FrameCount, info.Audio)
				}
			}},
		{"faststart", func(t *testing.T) string { return mediatest.Generate(t, mediatest.Spec{FastStart: true}) },
			func(t *testing.T, info *Info) {
				if !info.FastStart {
					t.Error("FastStart = false for a faststart file")
				}
			}},
		{"rotated 90", func(t *testing.T) string { return mediatest.Generate(t, mediatest.Spec{Rotation: 90, FastStart: true}) },
			func(t *testing.T, info *Info) {
				if v := info.Video; v.Rotation != 90 || v.Width != 180 || v.Height != 320 {
					t.Errorf("rotation %d display %dx%d; want 90 180x320", v.Rotation, v.Width, v.Height)
				}
				if !info.FastStart {
					t.Error("FastStart lost in the rotation remux")
				}
			}},
		{"rotated 270", func(t *testing.T) string { return mediatest.Generate(t, mediatest.Spec{Rotation: 270}) },
			func(t *testing.T, info *Info) {
				if v := info.Video; v.Rotation != 270 || v.Width != 180 {
					t.Errorf("rotation %d width %d", v.Rotation, v.Width)
				}
			}},
		{"vfr", func(t *testing.T) string {
			return mediatest.Generate(t, mediatest.Spec{VFR: true, FPS: 30, Duration: 2})
		},
			func(t *testing.T, info *Info) {
				if !info.Video.VariableFrameRate {
					t.Error("VariableFrameRate = false")
				}
			}},
		{"cfr 29.97 mkv", func(t *testing.T) string {
			return mediatest.Generate(t, mediatest.Spec{FPS: 29.97, Container: "mkv", Duration: 2})
		},
			func(t *testing.T, info *Info) {
				if v := info.Video; v.VariableFrameRate || !near(v.FrameRate, 29.97, 0.01) {
					t.Errorf("vfr %v at %v fps", v.VariableFrameRate, v.FrameRate)
				}
				if info.FastStart {
					t.Error("FastStart for Matroska")
				}
			}},
		{"hdr10", func(t *testing.T) string { return mediatest.Generate(t, mediatest.Spec{Codec: "hevc10"}) },
			func(t *testing.T, info *Info) {
				if v := info.Video; !v.HDR || v.BitDepth != 10 || v.Codec != "hevc" {
					t.Errorf("hdr %v depth %d codec %s", v.HDR, v.BitDepth, v.Codec)
				}
			}},
		{"audio only", func(t *testing.T) string { return mediatest.AudioOnly(t, 1) },
			func(t *testing.T, info *Info) {
				if info.Video != nil || info.Audio == nil || !near(info.Duration, 1, 0.1) {
					t.Errorf("video %+v audio %+v duration %v", info.Video, info.Audio, info.Duration)
				}
			}},
		{"odd size h264", func(t *testing.T) string { return mediatest.Generate(t, mediatest.Spec{Width: 321, Height: 241}) },
			func(t *testing.T, info *Info) {
				if v := info.Video; v.Width != 321 || v.Height != 241 || v.PixFmt != "yuv444p" {
					t.Errorf("%dx%d %s", v.Width, v.Height, v.PixFmt)
				}
			}},
	}
	p := &Prober{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := tt.gen(t)
			info, err := p.Probe(t.Context(), path)
			if err != nil {
				t.Fatal(err)
			}
			if info.Path != path || info.SizeBytes <= 0 || info.Duration <= 0 {
				t.Errorf("path %q size %d duration %v", info.Path, info.SizeBytes, info.Duration)
			}
			tt.check(t, info)
		})
	}
}

func TestProber_Probe_errors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		prober Prober
		path   func(t *testing.T) string
		ctx    func(t *testing.T) context.Context
		want   errcode.Code
	}{
		{"missing", Prober{}, func(t *testing.T) string { return filepath.Join(t.TempDir(), "nope.mp4") }, nil, errcode.SourceNotFound},
		{"empty", Prober{}, mediatestEmpty, nil, errcode.SourceEmpty},
		{"text named mp4", Prober{}, mediatestText, nil, errcode.SourceUnreadable},
		{"folder", Prober{}, func(t *testing.T) string { return t.TempDir() }, nil, errcode.SourceUnreadable},
		{"truncated", Prober{}, func(t *testing.T) string {
			return mediatest.Truncated(t, mediatest.Generate(t, mediatest.Spec{Audio: true}))
		}, nil, errcode.SourceTruncated},
		{"cut inside moov", Prober{}, func(t *testing.T) string { return cutTail(t, mediatest.Generate(t, mediatest.Spec{}), 100) }, nil, errcode.SourceTruncated},
		{"faststart cut inside mdat", Prober{}, func(t *testing.T) string {
			return cutTail(t, mediatest.Generate(t, mediatest.Spec{FastStart: true}), 5000)
		}, nil, errcode.SourceTruncated},
		{"no ffprobe", Prober{FFprobe: "/nonexistent/ffprobe"}, func(t *testing.T) string { return mediatestText(t) }, nil, errcode.FFmpegMissing},
		{"no ffprobe on PATH", Prober{FFprobe: "outpost-no-such-ffprobe"}, func(t *testing.T) string { return mediatestText(t) }, nil, errcode.FFmpegMissing},
		{"canceled", Prober{}, func(t *testing.T) string { return mediatest.Generate(t, mediatest.Spec{}) },
			func(t *testing.T) context.Context {
				ctx, cancel := context.WithCancel(t.Context())
				cancel()
				return ctx
			}, errcode.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			if tt.ctx != nil {
				ctx = tt.ctx(t)
			}
			info, err := tt.prober.Probe(ctx, tt.path(t))
			if got := errcode.Of(err); got != tt.want {
				t.Fatalf("code %q (%v), want %q", got, err, tt.want)
			}
			t.Log(err)
			if info != nil {
				t.Errorf("info %+v with error", info)
			}
			if msg := err.Error(); strings.Contains(msg, "\n") {
				t.Errorf("multi-line message %q", msg)
			}
			var ee *ExitError
			if errors.As(err, &ee) && ee.Stderr == "" {
				t.Errorf("ExitError without stderr: %v", err)
			}
		})
	}
}

func mediatestEmpty(t *testing.T) string { return mediatest.Empty(t) }
func mediatestText(t *testing.T) string  { return mediatest.Text(t) }

// cutTail copies the file at src without its last n bytes.
func cutTail(t *testing.T, src string, n int) string {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if n >= len(data) {
		t.Fatalf("%s is only %d bytes", src, len(data))
	}
	out := filepath.Join(t.TempDir(), "cut.mp4")
	if err := os.WriteFile(out, data[:len(data)-n], 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}
