package render

import (
	"testing"

	"outpost/internal/media"
)

func TestTimeline_Programme(t *testing.T) {
	clip := func(d float64) Clip { return Clip{Info: &media.Info{Duration: d}} }
	three := []Clip{clip(2), clip(5), clip(1)}
	for _, tt := range []struct {
		name       string
		tl         *Timeline
		start, end float64
		ok         bool
	}{
		{"no timeline", nil, 0, 0, false},
		{"no kit clips", &Timeline{Clips: three}, 0, 0, false},
		{"intro and outro", &Timeline{Clips: three, Lead: 1, Tail: 1}, 2, 7, true},
		{"intro only", &Timeline{Clips: three, Lead: 1}, 2, 8, true},
		{"outro only", &Timeline{Clips: three, Tail: 1}, 0, 7, true},
		{"crossfades overlap the clips", &Timeline{Clips: three, Lead: 1, Tail: 1, Crossfade: 0.5}, 1.5, 6.5, true},
		{"kit clips only", &Timeline{Clips: []Clip{clip(2), clip(1)}, Lead: 1, Tail: 1}, 0, 0, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			start, end, ok := tt.tl.Programme()
			if start != tt.start || end != tt.end || ok != tt.ok {
				t.Errorf("Programme() = %g, %g, %v; want %g, %g, %v", start, end, ok, tt.start, tt.end, tt.ok)
			}
		})
	}
}

func TestThumbnailOutput_Preferred(t *testing.T) {
	th := &ThumbnailOutput{Step: 1, From: 2, To: 7}
	for n, want := range map[int]bool{1: false, 2: false, 3: true, 7: true, 8: false} {
		if got := th.Preferred(n); got != want {
			t.Errorf("Preferred(%d) (at %d s) = %v, want %v", n, n-1, got, want)
		}
	}
	if !(&ThumbnailOutput{Step: 1}).Preferred(9) {
		t.Error("without a stretch every candidate is preferred")
	}
}
