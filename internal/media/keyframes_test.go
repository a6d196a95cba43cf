package media_test

import (
	"context"
	"slices"
	"testing"

	"outpost/internal/media"
	"outpost/internal/media/mediatest"
)

func TestParseKeyframes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		in   string
		want []float64
	}{
		{"mp4", "0.000000,K_\n0.040000,__\n2.000000,K_\n1.960000,__\n0.000000\n", []float64{0, 2}},
		{"start offset (MPEG-TS)", "1.400000,K_\n1.440000,__\n3.400000,K_\n1.400000\n", []float64{0, 2}},
		{"no start time", "0.000000,K_\n4.000000,K_\nN/A\n", []float64{0, 4}},
		{"unknown packet time", "N/A,K_\n2.000000,K_\n0.000000\n", []float64{2}},
	} {
		got, err := media.ParseKeyframes([]byte(tc.in))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		for i := range got {
			got[i] = float64(int(got[i]*1e6+0.5)) / 1e6
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	if _, err := media.ParseKeyframes([]byte("x,K_\n")); err == nil {
		t.Error("a bad time was accepted")
	}
}

func TestProber_Keyframes(t *testing.T) {
	t.Parallel()
	src := mediatest.Generate(t, mediatest.Spec{Duration: 3, FPS: 10, GOP: 10})
	got, err := (&media.Prober{}).Keyframes(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []float64{0, 1, 2}) {
		t.Errorf("keyframes %v, want [0 1 2]", got)
	}
}
