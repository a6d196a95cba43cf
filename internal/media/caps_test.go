package media

import (
	"path/filepath"
	"testing"

	"outpost/internal/errcode"
)

func TestParseVersion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in           string
		version      string
		major, minor int
		wantErr      bool
	}{
		{"ffmpeg version 5.1.9-0+deb12u1 Copyright (c) 2000-2026 the FFmpeg developers\nbuilt with gcc 12", "5.1.9-0+deb12u1", 5, 1, false},
		{"ffmpeg version 6.1.1-3ubuntu5 Copyright (c) 2000-2023", "6.1.1-3ubuntu5", 6, 1, false},
		{"ffmpeg version n7.0 Copyright", "n7.0", 7, 0, false},
		{"ffmpeg version 7 Copyright", "7", 7, 0, false},
		{"ffmpeg version 4.4.2-0ubuntu0.22.04.1 Copyright", "4.4.2-0ubuntu0.22.04.1", 4, 4, false},
		{"ffmpeg version N-112233-gabcdef0123 Copyright", "N-112233-gabcdef0123", 0, 0, false},
		{"ffmpeg version git-2024-01-01-abcdef", "git-2024-01-01-abcdef", 0, 0, false},
		{"not ffmpeg at all", "", 0, 0, true},
		{"", "", 0, 0, true},
	}
	for _, tt := range tests {
		v, major, minor, err := ParseVersion(tt.in)
		if v != tt.version || major != tt.major || minor != tt.minor || (err != nil) != tt.wantErr {
			t.Errorf("ParseVersion(%q) = %q %d.%d %v; want %q %d.%d error %v", tt.in, v, major, minor, err, tt.version, tt.major, tt.minor, tt.wantErr)
		}
	}
}

func TestCaps_checkVersion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		major, minor int
		ok           bool
	}{
		{5, 1, true}, {5, 0, false}, {4, 4, false}, {6, 0, true}, {7, 1, true}, {0, 0, true},
	}
	for _, tt := range tests {
		err := Caps{Version: "x", Major: tt.major, Minor: tt.minor}.checkVersion()
		if (err == nil) != tt.ok || (err != nil && errcode.Of(err) != errcode.FFmpegMissing) {
			t.Errorf("%d.%d: %v", tt.major, tt.minor, err)
		}
	}
}

func TestParseLists(t *testing.T) {
	t.Parallel()
	encoders := parseCodecList(`Encoders:
 V..... = Video
 A..... = Audio
 .....D = Supports direct rendering method 1
 ------
 V....D libx264              libx264 H.264 / AVC / MPEG-4 AVC / MPEG-4 part 10 (codec h264)
 A..... aac                  AAC (Advanced Audio Coding)
`)
	if len(encoders) != 2 || !encoders["libx264"] || !encoders["aac"] {
		t.Errorf("encoders = %v", encoders)
	}
	filters := parseFilterList(`Filters:
  T.. = Timeline support
  .S. = Slice threading
  A = Audio input/output
  | = Source or sink filter
 ..C scale             V->V       Scale the input video size and/or convert the image format.
 ... anullsrc          |->A       Null audio source, return empty audio frames.
 TSC loudnorm          A->A       EBU R128 loudness normalization
`)
	if len(filters) != 3 || !filters["scale"] || !filters["anullsrc"] || !filters["loudnorm"] {
		t.Errorf("filters = %v", filters)
	}
}

func TestCaps_Require(t *testing.T) {
	t.Parallel()
	c := Caps{Version: "5.1.9", Encoders: map[string]bool{"libx264": true, "aac": true}}
	if err := c.Require("libx264", "aac"); err != nil {
		t.Errorf("Require = %v", err)
	}
	err := c.Require("libx264", "libsvtav1", "prores_ks", "libsvtav1")
	if errcode.Of(err) != errcode.EncoderMissing || errcode.As(err).Message != "ffmpeg 5.1.9 has no encoder libsvtav1, prores_ks" {
		t.Errorf("Require = %v", err)
	}
}

func TestRunner_Capabilities(t *testing.T) {
	t.Parallel()
	c, err := (&Runner{}).Capabilities(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("ffmpeg %s: %d encoders, %d filters", c.Version, len(c.Encoders), len(c.Filters))
	if c.Major < MinMajor || c.Major == MinMajor && c.Minor < MinMinor {
		t.Errorf("version %s parsed as %d.%d", c.Version, c.Major, c.Minor)
	}
	for _, e := range []string{"libx264", "libx265", "libvpx-vp9", "prores_ks", "aac", "libopus", "gif"} {
		if !c.HasEncoder(e) {
			t.Errorf("no encoder %s", e)
		}
	}
	for _, f := range []string{"scale", "pad", "split", "fps", "loudnorm", "ebur128", "palettegen", "paletteuse", "overlay", "subtitles", "boxblur"} {
		if !c.HasFilter(f) {
			t.Errorf("no filter %s", f)
		}
	}
	if c.HasEncoder("nosuchenc") || c.HasFilter("nosuchfilter") {
		t.Error("HasEncoder/HasFilter say yes to anything")
	}
}

func TestRunner_Capabilities_missing(t *testing.T) {
	t.Parallel()
	_, err := (&Runner{FFmpeg: filepath.Join(t.TempDir(), "ffmpeg")}).Capabilities(t.Context())
	if errcode.Of(err) != errcode.FFmpegMissing {
		t.Errorf("err = %v, want FFmpegMissing", err)
	}
}
