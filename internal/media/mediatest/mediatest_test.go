package mediatest_test

import (
	"math"
	"testing"

	"outpost/internal/media"
	"outpost/internal/media/mediatest"
)

// Each Spec knob shows up in what ffprobe reads back. (Rotation, VFR, HDR,
// faststart, audio-only, empty, text and truncated files are checked by
// package media's Probe tests.)
func TestGenerate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		spec  mediatest.Spec
		check func(t *testing.T, info *media.Info)
	}{
		{"defaults", mediatest.Spec{}, func(t *testing.T, info *media.Info) {
			v := info.Video
			if v.Codec != "h264" || v.Width != 320 || v.Height != 180 || v.FrameRate != 25 || v.FrameCount != 25 ||
				info.Audio != nil || info.FastStart || info.FormatName != "mov,mp4,m4a,3gp,3g2,mj2" {
				t.Errorf("info %+v video %+v", info, v)
			}
		}},
		{"h264 high with audio", mediatest.Spec{Profile: "high", Audio: true, Duration: 0.5}, func(t *testing.T, info *media.Info) {
			if info.Video.Profile != "High" || info.Audio == nil || info.Audio.Codec != "aac" || info.Audio.Channels != 2 {
				t.Errorf("video %+v audio %+v", info.Video, info.Audio)
			}
		}},
		{"bitrate", mediatest.Spec{Bitrate: "100k", Duration: 2}, func(t *testing.T, info *media.Info) {
			if br := info.Video.BitRate; br <= 0 || br > 200_000 {
				t.Errorf("bit rate %d, want about 100k", br)
			}
		}},
		{"ntsc", mediatest.Spec{FPS: 29.97}, func(t *testing.T, info *media.Info) {
			if math.Abs(info.Video.FrameRate-30000.0/1001) > 1e-6 {
				t.Errorf("frame rate %v", info.Video.FrameRate)
			}
		}},
		{"hevc 8-bit", mediatest.Spec{Codec: "hevc"}, func(t *testing.T, info *media.Info) {
			if v := info.Video; v.Codec != "hevc" || v.BitDepth != 8 || v.HDR {
				t.Errorf("video %+v", v)
			}
		}},
		{"prores mov", mediatest.Spec{Codec: "prores", Container: "mov"}, func(t *testing.T, info *media.Info) {
			if v := info.Video; v.Codec != "prores" || v.BitDepth != 10 {
				t.Errorf("video %+v", v)
			}
		}},
		{"vp9 webm", mediatest.Spec{Codec: "vp9", Container: "webm", Audio: true}, func(t *testing.T, info *media.Info) {
			if info.FormatName != "matroska,webm" || info.Video.Codec != "vp9" || info.Audio.Codec != "opus" {
				t.Errorf("format %s video %+v audio %+v", info.FormatName, info.Video, info.Audio)
			}
		}},
		{"mjpeg odd size", mediatest.Spec{Codec: "mjpeg", Container: "mov", Width: 161, Height: 91}, func(t *testing.T, info *media.Info) {
			if v := info.Video; v.Codec != "mjpeg" || v.Width != 161 || v.Height != 91 {
				t.Errorf("video %+v", v)
			}
		}},
		{"interlaced", mediatest.Spec{Interlaced: true}, func(t *testing.T, info *media.Info) {
			if v := info.Video; v.FieldOrder != "tt" {
				t.Errorf("field order %q", v.FieldOrder)
			}
		}},
		{"mov faststart rotated", mediatest.Spec{Container: "mov", FastStart: true, Rotation: 180}, func(t *testing.T, info *media.Info) {
			if !info.FastStart || info.Video.Rotation != 180 {
				t.Errorf("faststart %v rotation %d", info.FastStart, info.Video.Rotation)
			}
		}},
	}
	p := &media.Prober{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			info, err := p.Probe(t.Context(), mediatest.Generate(t, tt.spec))
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, info)
		})
	}
}
