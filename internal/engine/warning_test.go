package engine

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"outpost/internal/errcode"
	"outpost/internal/media"
	"outpost/internal/media/mediatest"
)

// TestEngine_Export_damagedSource renders a source whose middle is random
// bytes: the file is made, and carries a source_damaged warning with the
// stretch, which the render of the intact source does not.
func TestEngine_Export_damagedSource(t *testing.T) {
	t.Parallel()
	const dur = 8.0
	src := mediatest.Generate(t, mediatest.Spec{Duration: dur, Audio: true, Bitrate: "1500k"})
	for _, tc := range []struct {
		name    string
		src     string
		damaged bool
	}{
		{"intact", src, false},
		{"damaged", mediatest.Damaged(t, src, 0.45, 0.6), true},
	} {
		out := t.TempDir()
		results, err := newEngine().Export(context.Background(), Request{Source: tc.src, Targets: web(t, "", "mp4-720p"), OutDir: out}, nil)
		if err != nil || len(results) != 1 || results[0].Error != nil {
			t.Fatalf("%s: Export = %+v, %v", tc.name, results, err)
		}
		r := results[0]
		if r.Path != filepath.Join(out, "mp4-720p.mp4") {
			t.Errorf("%s: path %q", tc.name, r.Path)
		}
		if !tc.damaged {
			if len(r.Warnings) != 0 {
				t.Errorf("%s: warnings %+v", tc.name, r.Warnings)
			}
			continue
		}
		if len(r.Warnings) != 1 {
			t.Fatalf("%s: warnings %+v, want source_damaged", tc.name, r.Warnings)
		}
		w := r.Warnings[0]
		if w.Code != errcode.SourceDamaged || len(w.Ranges) == 0 || !strings.Contains(w.Message, "decode error") ||
			strings.Contains(w.Message, "/") || w.Remedy == "" {
			t.Errorf("%s: warning %+v", tc.name, w)
		}
		for _, rg := range w.Ranges {
			if rg.Start >= dur || rg.End <= 0 || rg.Start >= rg.End {
				t.Errorf("%s: range %+v outside the %v s source", tc.name, rg, dur)
			}
		}
	}
}

func TestRenderWarnings(t *testing.T) {
	t.Parallel()
	if w := renderWarnings(media.Report{}); w != nil {
		t.Errorf("no decode errors: %+v", w)
	}
	w := renderWarnings(media.Report{DecodeErrors: 3, Damaged: []media.TimeRange{{Start: 4, End: 6.5}, {Start: 10, End: 12}}})
	want := "the source is damaged: 3 decode error(s) around 4.0–6.5 s, 10.0–12.0 s; the render went on, and those parts may show glitches"
	if len(w) != 1 || w[0].Code != errcode.SourceDamaged || w[0].Message != want || len(w[0].Ranges) != 2 {
		t.Errorf("renderWarnings = %+v, want one source_damaged saying %q", w, want)
	}
}
