package mediatest

import (
	"encoding/json"
	"math"
	"os/exec"
	"regexp"
	"strconv"
	"testing"
)

// Streams is what ffprobe counts in a file: its video frames (packets) and
// each stream's duration.
type Streams struct {
	Frames        int
	VideoDuration float64
	AudioDuration float64 // 0 without audio
	FPS           float64
}

// Count reads path's video frame count and stream durations.
func Count(t testing.TB, path string) Streams {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-count_packets", "-show_entries",
		"stream=codec_type,nb_read_packets,duration,avg_frame_rate", "-of", "json", path).Output()
	if err != nil {
		t.Fatalf("mediatest: count %s: %v", path, err)
	}
	var doc struct {
		Streams []struct {
			Type     string `json:"codec_type"`
			Packets  string `json:"nb_read_packets"`
			Duration string `json:"duration"`
			Rate     string `json:"avg_frame_rate"`
		} `json:"streams"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("mediatest: count %s: %v", path, err)
	}
	var s Streams
	for _, st := range doc.Streams {
		d, _ := strconv.ParseFloat(st.Duration, 64)
		switch st.Type {
		case "video":
			s.Frames, _ = strconv.Atoi(st.Packets)
			s.VideoDuration = d
			if g := rateFraction.FindStringSubmatch(st.Rate); g != nil {
				n, _ := strconv.ParseFloat(g[1], 64)
				m, _ := strconv.ParseFloat(g[2], 64)
				if m > 0 {
					s.FPS = n / m
				}
			}
		case "audio":
			s.AudioDuration = d
		}
	}
	return s
}

// rate is ffprobe's frame rate fraction.
var rateFraction = regexp.MustCompile(`^(\d+)/(\d+)$`)

// psnrLine is the summary ffmpeg's psnr filter logs: the average over the
// file and the worst frame's, in dB ("inf" where the pictures are equal).
var psnrLine = regexp.MustCompile(`PSNR .*average:(\S+) min:(\S+)`)

// PSNR compares the pictures of a and b frame by frame (ffmpeg's psnr
// filter) and returns the average and the lowest frame's PSNR in dB.
func PSNR(t testing.TB, a, b string) (avg, lowest float64) {
	t.Helper()
	out, err := exec.Command("ffmpeg", "-hide_banner", "-nostdin", "-i", a, "-i", b,
		"-lavfi", "[0:v][1:v]psnr", "-f", "null", "-").CombinedOutput()
	if err != nil {
		t.Fatalf("mediatest: psnr of %s and %s: %v\n%s", a, b, err, out)
	}
	m := psnrLine.FindSubmatch(out)
	if m == nil {
		t.Fatalf("mediatest: no PSNR summary in ffmpeg's output:\n%s", out)
	}
	avg, _ = strconv.ParseFloat(string(m[1]), 64)
	lowest, _ = strconv.ParseFloat(string(m[2]), 64)
	return avg, lowest
}

// SameRender is SameRenderPSNR at 45 dB average.
func SameRender(t testing.TB, single, joined string) {
	t.Helper()
	SameRenderPSNR(t, single, joined, 45)
}

// SameRenderPSNR fails t unless joined (a segmented render) is single (the
// one-pass render of the same request) by the measures of a frame-exact
// join: the same number of frames, audio and video within one frame of
// each other and of the single pass's, and pictures within minAvg dB PSNR
// on average and 35 dB on every frame.
func SameRenderPSNR(t testing.TB, single, joined string, minAvg float64) {
	t.Helper()
	s, j := Count(t, single), Count(t, joined)
	if s.Frames != j.Frames || s.Frames == 0 {
		t.Errorf("%d frames joined, %d in one pass", j.Frames, s.Frames)
	}
	frame := 1 / max(j.FPS, 1)
	if j.AudioDuration > 0 || s.AudioDuration > 0 {
		if d := math.Abs(j.AudioDuration - j.VideoDuration); d > frame+1e-6 {
			t.Errorf("joined: audio %.3f s, video %.3f s: %.1f frames apart", j.AudioDuration, j.VideoDuration, d/frame)
		}
		if d := math.Abs(j.AudioDuration - s.AudioDuration); d > frame+1e-6 {
			t.Errorf("audio %.3f s joined, %.3f s in one pass", j.AudioDuration, s.AudioDuration)
		}
	}
	if d := math.Abs(j.VideoDuration - s.VideoDuration); d > frame+1e-6 {
		t.Errorf("video %.3f s joined, %.3f s in one pass", j.VideoDuration, s.VideoDuration)
	}
	avg, lowest := PSNR(t, single, joined)
	if avg < minAvg || lowest < 35 {
		t.Errorf("PSNR joined vs one pass: %.2f dB average, %.2f dB lowest frame; want at least %g and 35", avg, lowest, minAvg)
	}
	t.Logf("%d frames; PSNR %.2f dB average, %.2f dB lowest frame", j.Frames, avg, lowest)
}
