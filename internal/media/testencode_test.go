package media

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunner_TestEncode: a working encoder passes, a failing one gives
// ffmpeg's reason without its context prefix, and each answer is asked of
// ffmpeg once per process (counted by a wrapper around the real ffmpeg).
func TestRunner_TestEncode(t *testing.T) {
	t.Parallel()
	real, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Skip("no ffmpeg")
	}
	dir := t.TempDir()
	count := filepath.Join(dir, "runs")
	wrapper := filepath.Join(dir, "ffmpeg")
	script := "#!/bin/sh\necho run >> " + count + "\nexec " + real + " \"$@\"\n"
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	r := &Runner{FFmpeg: wrapper}
	oneFrame := func(codec string) []string {
		return []string{"-loglevel", "error", "-f", "lavfi", "-i", "color=c=black:s=64x64:r=30", "-frames:v", "1", "-c:v", codec, "-f", "null", "-"}
	}
	ctx := context.Background()
	for range 2 {
		if err := r.TestEncode(ctx, oneFrame("libx264")); err != nil {
			t.Fatalf("libx264 test encode: %v", err)
		}
		err := r.TestEncode(ctx, oneFrame("no_such_encoder"))
		if err == nil {
			t.Fatal("a test encode with a bad option worked")
		}
		if strings.Contains(err.Error(), " @ 0x") || strings.HasPrefix(err.Error(), "Conversion failed") {
			t.Errorf("reason %q: want ffmpeg's cause, without its context address", err)
		}
	}
	b, err := os.ReadFile(count)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), "run"); n != 2 {
		t.Errorf("ffmpeg ran %d times for 2 distinct test encodes asked twice each, want 2", n)
	}
}
