package engine

import (
	"context"
	"encoding/binary"
	"image"
	"math"
	"os/exec"
	"path/filepath"
	"testing"

	"outpost/internal/errcode"
	"outpost/internal/media/mediatest"
	"outpost/internal/render"
)

// flashBeep is a black clip with a white flash and a 1 kHz beep at the
// same moment, from at to at+0.1 s.
func flashBeep(t *testing.T, w, h int, dur, at float64) string {
	t.Helper()
	return mediatest.Generate(t, mediatest.Spec{Width: w, Height: h, Duration: dur, FPS: 25, Audio: true,
		VideoSource: "color=c=black",
		VideoFilter: "drawbox=x=0:y=0:w=iw:h=ih:color=white:t=fill:enable='between(t," + seconds(at) + "," + seconds(at+0.1) + ")'",
		AudioSource: "aevalsrc=exprs='if(between(t," + seconds(at) + "," + seconds(at+0.1) + "),0.8*sin(2*PI*1000*t),0)'"})
}

// onsets returns when the picture first turns bright and when the sound
// first gets loud, in seconds of path.
func onsets(t *testing.T, path string) (video, audio float64) {
	t.Helper()
	out, err := exec.CommandContext(t.Context(), "ffmpeg", "-hide_banner", "-loglevel", "error", "-i", path,
		"-vf", "scale=16:16,format=gray", "-f", "rawvideo", "-").Output()
	if err != nil {
		t.Fatalf("decode picture: %v", err)
	}
	fps := probe(t, path).Video.FrameRate
	video = -1
	for i := 0; i+256 <= len(out); i += 256 {
		sum := 0
		for _, b := range out[i : i+256] {
			sum += int(b)
		}
		if sum/256 > 128 {
			video = float64(i/256) / fps
			break
		}
	}
	out, err = exec.CommandContext(t.Context(), "ffmpeg", "-hide_banner", "-loglevel", "error", "-i", path,
		"-ac", "1", "-ar", "48000", "-f", "f32le", "-").Output()
	if err != nil {
		t.Fatalf("decode sound: %v", err)
	}
	audio = -1
	for i := 0; i+4 <= len(out); i += 4 {
		if v := math.Float32frombits(binary.LittleEndian.Uint32(out[i:])); v > 0.3 || v < -0.3 {
			audio = float64(i/4) / 48000
			break
		}
	}
	return video, audio
}

// TestEngine_Export_timeline joins an intro of another size and without
// sound, a trimmed clip with a flash and a beep, and an outro: the flash
// and the beep land together where the timeline puts them.
func TestEngine_Export_timeline(t *testing.T) {
	t.Parallel()
	intro := mediatest.Generate(t, mediatest.Spec{Width: 320, Height: 240, Duration: 1.2, FPS: 30})
	main := flashBeep(t, 320, 180, 2, 1.0)
	outro := mediatest.Generate(t, mediatest.Spec{Width: 320, Height: 180, Duration: 0.6, FPS: 25, Audio: true, VideoSource: "color=c=blue"})
	tg := small(t, "mp4-720p", "tl", 320, 180)
	// The flash is at 1.0 s of main, 0.6 s after its in point: 1.2 + 0.6
	// = 1.8 s into the video.
	req := Request{Targets: []render.Target{tg}, OutDir: t.TempDir(), Intro: intro, Outro: outro,
		Timeline: &Timeline{Clips: []TimelineClip{{Source: main, In: 0.4, Out: 1.8}}}}
	results, err := newEngine().Export(context.Background(), req, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := results[0]
	if r.Error != nil {
		t.Fatalf("%+v", r.Error)
	}
	if r.Passthrough || r.Width != 320 || r.Height != 180 || r.AudioCodec != "aac" {
		t.Errorf("result %+v", r)
	}
	if want := 1.2 + 1.4 + 0.6; math.Abs(r.Duration-want) > 0.1 {
		t.Errorf("duration %.3f s, want %.1f", r.Duration, want)
	}
	v, a := onsets(t, r.Path)
	if math.Abs(v-1.8) > 0.05 {
		t.Errorf("flash at %.3f s, want 1.8", v)
	}
	if math.Abs(a-1.8) > 0.03 {
		t.Errorf("beep at %.3f s, want 1.8", a)
	}
	if math.Abs(a-v) > 0.045 {
		t.Errorf("A/V offset %.0f ms", 1000*(a-v))
	}
}

// TestEngine_Export_timelineCrossfadeBed: crossfaded clips under an audio
// bed, written by a timeline file with relative paths.
func TestEngine_Export_timelineCrossfadeBed(t *testing.T) {
	t.Parallel()
	a := mediatest.Generate(t, mediatest.Spec{Width: 160, Height: 90, Duration: 1.5, FPS: 25, Audio: true})
	b := mediatest.Generate(t, mediatest.Spec{Width: 160, Height: 90, Duration: 1.5, FPS: 25, VideoSource: "color=c=red"})
	bed := mediatest.AudioOnly(t, 1)
	file := writeText(t, "tl.json", `{"clips":[{"source":"`+filepath.Base(a)+`"},{"source":"`+b+`"}],
		"crossfade_seconds":0.5,"audio_bed":{"source":"`+bed+`","volume":0.5,"duck":true}}`)
	// Relative sources are read from the file's folder.
	tl, err := ReadTimeline(file)
	if err != nil {
		t.Fatal(err)
	}
	if tl.Clips[0].Source != filepath.Join(filepath.Dir(file), filepath.Base(a)) {
		t.Fatalf("relative source read as %s", tl.Clips[0].Source)
	}
	tl.Clips[0].Source = a
	tg := small(t, "mp4-720p", "tl", 160, 90)
	results, err := newEngine().Export(context.Background(), Request{Targets: []render.Target{tg}, OutDir: t.TempDir(), Timeline: tl}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r := results[0]; r.Error != nil || math.Abs(r.Duration-2.5) > 0.1 || r.AudioCodec != "aac" {
		t.Errorf("result %+v (error %+v), want 2.5 s with sound", r, r.Error)
	}
}

func TestEngine_Export_timelineInvalid(t *testing.T) {
	t.Parallel()
	a := mediatest.Generate(t, mediatest.Spec{Duration: 1, FPS: 25})
	tg := small(t, "mp4-720p", "tl", 160, 90)
	for name, tl := range map[string]*Timeline{
		"empty":        {},
		"out of range": {Clips: []TimelineClip{{Source: a, In: 2}}},
		"no source":    {Clips: []TimelineClip{{}}},
	} {
		_, err := newEngine().Export(context.Background(), Request{Targets: []render.Target{tg}, OutDir: t.TempDir(), Timeline: tl}, nil)
		if errcode.Of(err) != errcode.TimelineInvalid {
			t.Errorf("%s: %v, want timeline_invalid", name, err)
		}
	}
}

// TestEngine_Export_kitThumbnail: a brand kit's intro and outro are sharp
// test patterns and the programme a flat blue; the thumbnail is still
// taken from the programme, not from the kit's clips.
func TestEngine_Export_kitThumbnail(t *testing.T) {
	t.Parallel()
	intro := mediatest.Generate(t, mediatest.Spec{Width: 320, Height: 180, Duration: 2, FPS: 25})
	main := mediatest.Generate(t, mediatest.Spec{Width: 320, Height: 180, Duration: 3, FPS: 25, VideoSource: "color=c=blue"})
	outro := mediatest.Generate(t, mediatest.Spec{Width: 320, Height: 180, Duration: 1, FPS: 25})
	tg := small(t, "mp4-720p", "kit", 320, 180)
	tg.Thumbnail = true
	results, err := newEngine().Export(t.Context(), Request{Source: main, Targets: []render.Target{tg}, OutDir: t.TempDir(),
		Intro: intro, Outro: outro}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := results[0]
	if r.Error != nil || r.Thumbnail == "" {
		t.Fatalf("result %+v (error %+v), want a thumbnail", r, r.Error)
	}
	img, _ := meanLuma(t, r.Thumbnail)
	b := img.Bounds()
	for _, p := range []image.Point{{b.Dx() / 4, b.Dy() / 4}, {b.Dx() / 2, b.Dy() / 2}, {3 * b.Dx() / 4, 3 * b.Dy() / 4}} {
		if rd, g, bl, _ := img.At(p.X, p.Y).RGBA(); bl>>8 < 150 || rd>>8 > 80 || g>>8 > 80 {
			t.Errorf("thumbnail at %v is %d,%d,%d, want the programme's blue", p, rd>>8, g>>8, bl>>8)
		}
	}
}
