package engine

import (
	"context"
	"math"
	"testing"

	"outpost/internal/media/mediatest"
	"outpost/internal/render"
)

// TestEngine_Estimate compares estimates with the real sizes on an easy
// source (testsrc2: the sample calibrates a CRF rate far under the cap)
// and a hard one (noise: the cap bounds the size), for H.264 and VP9.
func TestEngine_Estimate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		spec   mediatest.Spec
		method string
	}{
		{"testsrc2", mediatest.Spec{Width: 640, Height: 360, Duration: 8, FPS: 25, Audio: true}, "sample"},
		{"noise", mediatest.Spec{Width: 640, Height: 360, Duration: 8, FPS: 25, Audio: true, VideoSource: "color=c=gray", VideoFilter: "noise=alls=60:allf=t+u"}, "cap"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src := mediatest.Generate(t, tc.spec)
			tg := small(t, "mp4-720p", "est", 640, 360)
			est, err := newEngine().Estimate(context.Background(), src, []render.Target{tg})
			if err != nil {
				t.Fatal(err)
			}
			results, err := newEngine().Export(context.Background(), Request{Source: src, Targets: []render.Target{tg}, OutDir: t.TempDir()}, nil)
			if err != nil || results[0].Error != nil {
				t.Fatalf("%v %+v", err, results[0].Error)
			}
			real := results[0].SizeBytes
			e := est[0]
			ratio := float64(e.Bytes)/float64(real) - 1
			t.Logf("%s: estimate %d bytes (%s), real %d bytes: %+.1f%%", tc.name, e.Bytes, e.Method, real, 100*ratio)
			if e.Method != tc.method {
				t.Errorf("method %q, want %q", e.Method, tc.method)
			}
			if math.Abs(ratio) > 0.25 {
				t.Errorf("estimate off by %+.0f%%, want within ±25%%", 100*ratio)
			}
		})
	}
}
