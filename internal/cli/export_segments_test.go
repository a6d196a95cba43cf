package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"testing"

	"outpost/internal/media/mediatest"
)

// TestExport_segments renders with --segments 2 and in one pass, and the
// files match frame for frame (mediatest.SameRender); --plan shows the
// segments.
func TestExport_segments(t *testing.T) {
	t.Parallel()
	src := mediatest.Generate(t, mediatest.Spec{Duration: 4, FPS: 25, GOP: 25, Audio: true, Profile: "high"})
	vars := map[string]string{"OUTPOST_SEGMENT_MIN_SECONDS": "1"}
	runEnv := func(args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		env := &Env{Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return vars[k] }, Logger: slog.New(slog.DiscardHandler)}
		if code := Main(context.Background(), env, args); code != ExitOK {
			t.Fatalf("exit %d\n%s", code, errb.String())
		}
		return out.String()
	}
	var plan planSummary
	if err := json.Unmarshal([]byte(runEnv("export", src, "--preset", "linkedin-landscape", "--quality", "ultra", "--out", t.TempDir(), "--segments", "2", "--plan")), &plan); err != nil {
		t.Fatal(err)
	}
	if s := plan.Segments; s == nil || len(s.Segments) != 2 || len(s.Pieces) != 2 || len(s.Joins) != 1 || s.Segments[1].Start != 2 {
		t.Fatalf("--plan segments %+v", plan.Segments)
	}
	one, seg := t.TempDir(), t.TempDir()
	runEnv("export", src, "--preset", "linkedin-landscape", "--quality", "ultra", "--out", one)
	runEnv("export", src, "--preset", "linkedin-landscape", "--quality", "ultra", "--out", seg, "--segments", "2")
	mediatest.SameRender(t, filepath.Join(one, "linkedin-landscape.mp4"), filepath.Join(seg, "linkedin-landscape.mp4"))
}
