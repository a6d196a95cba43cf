package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"strings"
	"testing"

	"outpost/internal/media/mediatest"
	"outpost/internal/render"
)

// TestExport_encoder: on a machine without a GPU, OUTPOST_ENCODER=nvenc
// stops the export before anything runs, with a stable code and remedy; auto
// plans x264; an unknown value is a configuration error.
func TestExport_encoder(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"/dev/nvidia0", render.VAAPIDevice} {
		if _, err := os.Stat(p); err == nil {
			t.Skip("this machine has a GPU device: scripts/gpu-check.sh tests the hardware path")
		}
	}
	src := mediatest.Generate(t, mediatest.Spec{Width: 320, Height: 180, Duration: 1, FPS: 30, Audio: true})
	export := func(encoder string) (int, string) {
		var out, errb bytes.Buffer
		env := &Env{Stdout: &out, Stderr: &errb, Logger: slog.New(slog.DiscardHandler),
			Getenv: func(k string) string {
				if k == "OUTPOST_ENCODER" {
					return encoder
				}
				return ""
			}}
		code := Main(context.Background(), env, []string{"export", src, "--preset", "mp4-720p", "--out", t.TempDir(), "--plan", "--json"})
		return code, out.String() + errb.String()
	}

	code, out := export("nvenc")
	if code == ExitOK || !strings.Contains(out, "hardware_encoder_unavailable") || !strings.Contains(out, "OUTPOST_ENCODER=nvenc") ||
		!strings.Contains(out, "OUTPOST_ENCODER=auto") {
		t.Errorf("OUTPOST_ENCODER=nvenc: exit %d, output:\n%s\nwant the hardware_encoder_unavailable code, its cause and remedy", code, out)
	}
	code, out = export("vdpau")
	if code == ExitOK || !strings.Contains(out, "config_invalid") {
		t.Errorf("OUTPOST_ENCODER=vdpau: exit %d, output:\n%s\nwant config_invalid", code, out)
	}
	code, out = export("auto")
	var plan planSummary
	if err := json.Unmarshal([]byte(out), &plan); code != ExitOK || err != nil {
		t.Fatalf("OUTPOST_ENCODER=auto: exit %d (%v), output:\n%s", code, err, out)
	}
	if e := plan.Outputs[0].Encoding; e == nil || e.Encoder != "libx264" {
		t.Errorf("auto without a GPU planned %+v, want libx264", e)
	}
}
