package engine

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"outpost/internal/errcode"
	"outpost/internal/media/mediatest"
	"outpost/internal/render"
)

// hasGPUDevice reports whether this machine has a GPU device node a
// hardware encoder could open; the tests below are about the machines
// without one (scripts/gpu-check.sh covers the others).
func hasGPUDevice() bool {
	for _, p := range []string{"/dev/nvidia0", "/dev/nvidiactl", render.VAAPIDevice} {
		if _, err := os.Stat(p); err == nil {
			return true
		}
	}
	return false
}

// TestProbeEncoders_noGPU: with no GPU, every hardware encoder ffmpeg was
// built with fails its one-frame test encode, with ffmpeg's reason.
func TestProbeEncoders_noGPU(t *testing.T) {
	t.Parallel()
	if hasGPUDevice() {
		t.Skip("this machine has a GPU device: scripts/gpu-check.sh tests the hardware path")
	}
	e := newEngine()
	probes := ProbeEncoders(context.Background(), e.Runner, render.Hardwares...)
	want := []string{"h264_nvenc", "hevc_nvenc", "h264_vaapi", "h264_qsv"}
	if len(probes) != len(want) {
		t.Fatalf("probed %d encoders, want %v", len(probes), want)
	}
	for _, name := range want {
		err, ok := probes[name]
		switch {
		case !ok:
			t.Errorf("%s not probed", name)
		case err == nil:
			t.Errorf("%s: test encode worked on a machine without a GPU", name)
		case strings.Contains(err.Error(), " @ 0x"):
			t.Errorf("%s: reason %q keeps ffmpeg's context address", name, err)
		default:
			t.Logf("%s: %v", name, err)
		}
	}
}

func TestEngine_UseEncoder_noGPU(t *testing.T) {
	t.Parallel()
	if hasGPUDevice() {
		t.Skip("this machine has a GPU device: scripts/gpu-check.sh tests the hardware path")
	}
	for _, tc := range []struct {
		choice   string
		wantCode errcode.Code // "" for no error
		wantMsg  string
	}{
		{"", "", ""},
		{"auto", "", ""},
		{"software", "", ""},
		{"nvenc", errcode.HWEncoderFailed, "OUTPOST_ENCODER=nvenc: the h264_nvenc test encode failed"},
		{"vaapi", errcode.HWEncoderFailed, "OUTPOST_ENCODER=vaapi: the h264_vaapi test encode failed"},
		{"qsv", errcode.HWEncoderFailed, "OUTPOST_ENCODER=qsv: the h264_qsv test encode failed"},
		{"cuda", errcode.ConfigInvalid, "OUTPOST_ENCODER"},
	} {
		t.Run(tc.choice, func(t *testing.T) {
			t.Parallel()
			e := newEngine()
			e.Hardware = render.QSV // whatever was there is replaced
			err := e.UseEncoder(context.Background(), tc.choice)
			if e.Hardware != render.Software {
				t.Errorf("Hardware = %q, want software (x264)", e.Hardware)
			}
			if tc.wantCode == "" {
				if err != nil {
					t.Fatalf("UseEncoder(%q) = %v, want x264 and no error", tc.choice, err)
				}
				return
			}
			ce := errcode.As(err)
			if err == nil || ce.Code != tc.wantCode || !strings.Contains(ce.Message, tc.wantMsg) {
				t.Fatalf("UseEncoder(%q) = %v (code %q), want code %s and %q", tc.choice, err, ce.Code, tc.wantCode, tc.wantMsg)
			}
			if ce.RemedyText() == "" {
				t.Errorf("no remedy for %s", ce.Code)
			}
		})
	}
}

// TestEngine_Export_autoFallsBack: OUTPOST_ENCODER=auto on a machine
// without a GPU renders H.264 with x264 (its version string is in the
// stream's SEI).
func TestEngine_Export_autoFallsBack(t *testing.T) {
	t.Parallel()
	if hasGPUDevice() {
		t.Skip("this machine has a GPU device: scripts/gpu-check.sh tests the hardware path")
	}
	src := mediatest.Generate(t, mediatest.Spec{Width: 320, Height: 180, Duration: 1, FPS: 30, Audio: true})
	e := newEngine()
	if err := e.UseEncoder(context.Background(), "auto"); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	results, err := e.Export(context.Background(), Request{Source: src, Targets: web(t, "", "mp4-720p"), OutDir: out}, func(Event) {})
	if err != nil {
		t.Fatal(err)
	}
	if results[0].Error != nil {
		t.Fatalf("export failed: %+v", results[0].Error)
	}
	b, err := os.ReadFile(filepath.Join(out, "mp4-720p.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte("x264 - core")) {
		t.Error("the H.264 stream was not written by x264")
	}
}
