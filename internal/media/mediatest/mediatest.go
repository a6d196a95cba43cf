// Package mediatest makes small synthetic media files for tests, with the
// real ffmpeg on PATH (lavfi testsrc2 and sine sources), in t.TempDir().
// Nothing is cached: each call encodes a fresh file, which at the default
// 320x180, 1 s takes a fraction of a second.
//
// It must not import package media: media's own tests use it.
package mediatest

import (
	"encoding/binary"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Spec describes a clip to generate. The zero value is a 1 s, 320x180,
// 25 fps H.264 MP4 without audio, moov at the end.
type Spec struct {
	// Width and Height in pixels; default 320x180. Odd sizes work: H.264
	// then defaults to yuv444p (4:2:0 needs even sizes), MJPEG works as is.
	Width, Height int
	// Duration in seconds; default 1.
	Duration float64
	// FPS is the frame rate; default 25. NTSC rates (29.97, 59.94, 23.976)
	// are written exactly as 30000/1001 and so on.
	FPS float64
	// Audio adds a 440 Hz stereo tone at 48 kHz (AAC; Opus in WebM).
	Audio bool
	// Codec is one of h264 (default, libx264 ultrafast), hevc (8-bit),
	// hevc10 (10-bit HEVC tagged HDR10: PQ, BT.2020), mjpeg, prores
	// (ProRes 422 Proxy, 10-bit; use mov) or vp9 (use webm or mkv).
	Codec string
	// PixFmt overrides the codec's pixel format.
	PixFmt string
	// Profile is the encoder profile, e.g. "high" or "main" for H.264. The
	// H.264 preset then becomes veryfast, because ultrafast uses only
	// baseline tools and ffprobe reports "Constrained Baseline" whatever was
	// asked.
	Profile string
	// Bitrate is the video bitrate, e.g. "500k"; empty leaves the encoder's
	// default quality.
	Bitrate string
	// Container is mp4 (default), mov, mkv or webm.
	Container string
	// Rotation is the clockwise display rotation, 0, 90, 180 or 270, stored
	// as a display matrix (mp4 and mov only: ffmpeg 5.1's Matroska muxer
	// drops it). ffprobe then reports rotation -Rotation.
	Rotation int
	// VFR drops frames irregularly and writes the survivors with their own
	// timestamps (-fps_mode vfr), so packet intervals vary.
	VFR bool
	// FastStart puts moov before mdat (mp4 and mov).
	FastStart bool
	// GOP is the keyframe interval in frames (-g); 0 leaves the encoder's.
	GOP int
	// Interlaced encodes H.264 as interlaced, top field first.
	Interlaced bool
	// VideoSource replaces testsrc2 with another lavfi video source and its
	// options, e.g. "color=c=0x336699"; size, rate and duration are added.
	VideoSource string
	// VideoFilter is applied to the picture, e.g. "fade=in:st=1:d=0.04"
	// for a first second of black, or "noise=alls=80:allf=t" for a clip
	// that is hard to compress.
	VideoFilter string
	// AudioSource replaces the 440 Hz tone with another lavfi audio source
	// and its options, e.g. "sine=frequency=1000"; sample rate and
	// duration are added.
	AudioSource string
	// AudioFilter is applied to the sound, e.g. "volume=-12dB".
	AudioFilter string
}

func (s Spec) withDefaults() Spec {
	if s.Width == 0 {
		s.Width = 320
	}
	if s.Height == 0 {
		s.Height = 180
	}
	if s.Duration == 0 {
		s.Duration = 1
	}
	if s.FPS == 0 {
		s.FPS = 25
	}
	if s.Codec == "" {
		s.Codec = "h264"
	}
	if s.Container == "" {
		s.Container = "mp4"
	}
	return s
}

// Generate encodes the clip spec describes into a new file in t.TempDir()
// and returns its path. It fails the test if ffmpeg is missing or fails.
func Generate(t testing.TB, spec Spec) string {
	t.Helper()
	s := spec.withDefaults()
	isISO := s.Container == "mp4" || s.Container == "mov"
	if s.Rotation%90 != 0 {
		t.Fatalf("mediatest: rotation %d is not a multiple of 90", s.Rotation)
	}
	if s.Rotation%360 != 0 && !isISO {
		t.Fatalf("mediatest: rotation needs mp4 or mov; ffmpeg 5.1's %s muxer drops it", s.Container)
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "clip."+s.Container)

	args := []string{"-hide_banner", "-nostdin", "-y", "-loglevel", "error"}
	// testsrc2 needs an even size; scale makes odd ones.
	vsrc := s.VideoSource
	if vsrc == "" {
		vsrc = "testsrc2"
	}
	if !strings.Contains(vsrc, "=") {
		vsrc += "="
	} else {
		vsrc += ":"
	}
	args = append(args, "-f", "lavfi", "-i", fmt.Sprintf("%ssize=%dx%d:rate=%s:duration=%s",
		vsrc, s.Width+s.Width%2, s.Height+s.Height%2, rate(s.FPS), seconds(s.Duration)))
	if s.Audio {
		asrc := s.AudioSource
		if asrc == "" {
			asrc = "sine=frequency=440"
		}
		sep := ":"
		if !strings.Contains(asrc, "=") {
			sep = "="
		}
		args = append(args, "-f", "lavfi", "-i", asrc+sep+"sample_rate=48000:duration="+seconds(s.Duration))
		if s.AudioFilter != "" {
			args = append(args, "-af", s.AudioFilter)
		}
	}
	var filters []string
	if s.VideoFilter != "" {
		filters = append(filters, s.VideoFilter)
	}
	if s.Width%2 != 0 || s.Height%2 != 0 {
		filters = append(filters, fmt.Sprintf("scale=%d:%d", s.Width, s.Height))
	}
	if s.VFR {
		// Drop frames 2 of every 5 and 3 of every 7: gaps of one and two
		// frame intervals in an irregular pattern.
		filters = append(filters, `select='not(eq(mod(n\,5)\,2))*not(eq(mod(n\,7)\,3))'`)
	}
	if len(filters) > 0 {
		args = append(args, "-vf", strings.Join(filters, ","))
	}
	if s.VFR {
		args = append(args, "-fps_mode", "vfr")
	}
	args = append(args, "-map", "0:v")
	if s.Audio {
		args = append(args, "-map", "1:a")
	}
	args = append(args, videoArgs(t, s)...)
	if s.Bitrate != "" {
		args = append(args, "-b:v", s.Bitrate)
	}
	if s.GOP > 0 {
		args = append(args, "-g", strconv.Itoa(s.GOP))
	}
	if s.Audio {
		if s.Container == "webm" {
			args = append(args, "-c:a", "libopus", "-b:a", "64k")
		} else {
			args = append(args, "-c:a", "aac", "-b:a", "96k")
		}
		args = append(args, "-ac", "2")
	}

	rotated := s.Rotation%360 != 0
	if s.FastStart && isISO && !rotated {
		args = append(args, "-movflags", "+faststart")
	}
	target := out
	if rotated {
		target = filepath.Join(dir, "unrotated."+s.Container)
	}
	run(t, append(args, target)...)

	if rotated {
		// ffmpeg 5.1 writes no display matrix for "-metadata:s:v rotate="
		// when encoding, only when stream copying; and then reads the value
		// counter-clockwise, the opposite of the old tag's meaning.
		ccw := ((360 - s.Rotation%360) % 360)
		args := []string{"-hide_banner", "-nostdin", "-y", "-loglevel", "error",
			"-i", target, "-map", "0", "-c", "copy",
			"-metadata:s:v:0", "rotate=" + strconv.Itoa(ccw)}
		if s.FastStart {
			args = append(args, "-movflags", "+faststart")
		}
		run(t, append(args, out)...)
		if err := os.Remove(target); err != nil {
			t.Fatalf("mediatest: %v", err)
		}
	}
	return out
}

func videoArgs(t testing.TB, s Spec) []string {
	odd := s.Width%2 != 0 || s.Height%2 != 0
	pix := func(def string) []string {
		if s.PixFmt != "" {
			return []string{"-pix_fmt", s.PixFmt}
		}
		return []string{"-pix_fmt", def}
	}
	profile := func() []string {
		if s.Profile == "" {
			return nil
		}
		return []string{"-profile:v", s.Profile}
	}
	var a []string
	switch s.Codec {
	case "h264":
		preset := "ultrafast"
		if s.Profile != "" {
			preset = "veryfast"
		}
		def := "yuv420p"
		if odd {
			def = "yuv444p"
		}
		a = append([]string{"-c:v", "libx264", "-preset", preset}, pix(def)...)
		a = append(a, profile()...)
		if s.Interlaced {
			a = append(a, "-flags", "+ildct+ilme", "-x264-params", "interlaced=1:tff=1", "-field_order", "tt")
		}
	case "hevc":
		a = append([]string{"-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error", "-tag:v", "hvc1"}, pix("yuv420p")...)
		a = append(a, profile()...)
	case "hevc10":
		a = append([]string{
			"-c:v", "libx265", "-preset", "ultrafast", "-tag:v", "hvc1",
			"-x265-params", "log-level=error:hdr10=1:colorprim=bt2020:transfer=smpte2084:colormatrix=bt2020nc:" +
				"master-display=G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)L(10000000,1):max-cll=1000,400",
			"-color_primaries", "bt2020", "-color_trc", "smpte2084", "-colorspace", "bt2020nc",
		}, pix("yuv420p10le")...)
		a = append(a, profile()...)
	case "mjpeg":
		a = append([]string{"-c:v", "mjpeg", "-q:v", "5"}, pix("yuvj420p")...)
	case "prores":
		p := s.Profile
		if p == "" {
			p = "0" // Proxy: the smallest
		}
		a = append([]string{"-c:v", "prores_ks", "-profile:v", p}, pix("yuv422p10le")...)
	case "vp9":
		a = append([]string{"-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8"}, pix("yuv420p")...)
	default:
		t.Fatalf("mediatest: unknown codec %q", s.Codec)
	}
	return a
}

// AudioOnly writes an AAC stereo .m4a of dur seconds and returns its path.
func AudioOnly(t testing.TB, dur float64) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "audio.m4a")
	run(t, "-hide_banner", "-nostdin", "-y", "-loglevel", "error",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration="+seconds(dur),
		"-c:a", "aac", "-b:a", "96k", "-ac", "2", out)
	return out
}

// Text writes a small text file named like a video (notes.mp4), the classic
// wrong upload.
func Text(t testing.TB) string {
	t.Helper()
	return write(t, "notes.mp4", []byte("These are my notes for the edit, not a video.\nScene 1: intro.\n"))
}

// Empty writes a 0-byte file named empty.mp4.
func Empty(t testing.TB) string {
	t.Helper()
	return write(t, "empty.mp4", nil)
}

// Truncated writes a copy of the MP4/MOV at src cut in the middle of its
// media data, as an interrupted upload leaves it: the moov index at the end
// is gone. src must not be faststart (Generate's default), or the cut would
// keep the index.
func Truncated(t testing.TB, src string) string {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatalf("mediatest: %v", err)
	}
	moov, mdat := boxOffsets(data)
	if mdat < 0 || moov < mdat {
		t.Fatalf("mediatest: Truncated needs an MP4 with moov after mdat; %s has moov at %d, mdat at %d", src, moov, mdat)
	}
	cut := mdat + (moov-mdat)/2
	return write(t, "truncated"+filepath.Ext(src), data[:cut])
}

// Damaged writes a copy of the MP4/MOV at src whose media data from
// fraction from to fraction to (0 to 1 of the mdat box) is overwritten
// with random bytes, as a bad disk or transfer leaves it: the file opens,
// and the frames stored there fail to decode. src must not be faststart.
// The bytes are the same on every run (a fixed seed): some random damage
// hits what ffmpeg cannot get past, and a test must not depend on the draw.
func Damaged(t testing.TB, src string, from, to float64) string {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatalf("mediatest: %v", err)
	}
	moov, mdat := boxOffsets(data)
	if mdat < 0 || moov < mdat || from < 0 || to > 1 || from >= to {
		t.Fatalf("mediatest: Damaged needs an MP4 with moov after mdat and 0 <= from < to <= 1; %s has moov at %d, mdat at %d", src, moov, mdat)
	}
	body := data[mdat+16 : moov] // past the box header, with room for a large size
	r := mrand.New(mrand.NewPCG(1, 2))
	for i := int(from * float64(len(body))); i < int(to*float64(len(body))); i++ {
		body[i] = byte(r.Uint32())
	}
	return write(t, "damaged"+filepath.Ext(src), data)
}

// boxOffsets returns the offsets of the first top-level moov and mdat
// boxes, -1 when absent.
func boxOffsets(data []byte) (moov, mdat int) {
	moov, mdat = -1, -1
	for off := 0; off+8 <= len(data); {
		size := int(binary.BigEndian.Uint32(data[off:]))
		switch typ := string(data[off+4 : off+8]); {
		case typ == "moov" && moov < 0:
			moov = off
		case typ == "mdat" && mdat < 0:
			mdat = off
		}
		switch {
		case size == 1 && off+16 <= len(data):
			size = int(binary.BigEndian.Uint64(data[off+8:]))
		case size == 0:
			size = len(data) - off
		}
		if size < 8 {
			break
		}
		off += size
	}
	return moov, mdat
}

func write(t testing.TB, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatalf("mediatest: %v", err)
	}
	return p
}

// run runs ffmpeg with args, failing the test with its output on error.
func run(t testing.TB, args ...string) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), "ffmpeg", args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("mediatest: ffmpeg %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// rate formats a frame rate for lavfi, exact for the NTSC family.
func rate(fps float64) string {
	for _, base := range []float64{24, 30, 48, 60, 120} {
		if math.Abs(fps-base*1000/1001) < 0.005 {
			return fmt.Sprintf("%d/1001", int(base*1000))
		}
	}
	return strconv.FormatFloat(fps, 'f', -1, 64)
}

func seconds(s float64) string { return strconv.FormatFloat(s, 'f', -1, 64) }
