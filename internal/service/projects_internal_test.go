package service

import (
	"strings"
	"testing"
)

func TestPosterArgs(t *testing.T) {
	t.Parallel()
	got := strings.Join(posterArgs("/in/a b.mp4", 20, "/out/p.jpg"), " ")
	want := "-ss 3.000 -i /in/a b.mp4 -frames:v 1 -an -sn -vf scale=w=640:h=640:force_original_aspect_ratio=decrease -q:v 4 -f image2 -update 1 /out/p.jpg"
	if got != want {
		t.Errorf("posterArgs:\n got %s\nwant %s", got, want)
	}
	if got := posterArgs("x", 2, "y")[1]; got != "0.500" {
		t.Errorf("seek for a 2 s clip: %s", got)
	}
}
