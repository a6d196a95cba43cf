package jobs

import (
	"testing"

	"outpost/internal/outpost"
	"outpost/internal/render"
)

func TestRenderTarget_finishing(t *testing.T) {
	t.Parallel()
	at := 1.5
	req := outpost.ExportSpec{Captions: &outpost.AcceptedCaptions{Text: "x", Format: "srt"}, TruePeak: -2, ThumbnailAt: &at,
		Targets: []outpost.ResolvedTarget{
			{TargetRequest: outpost.TargetRequest{Preset: "youtube-1080p", CaptionsMode: outpost.CaptionsAuto, Loudness: "-14"}, Base: "youtube-1080p"},
			{TargetRequest: outpost.TargetRequest{Preset: "tiktok", CaptionsMode: outpost.CaptionsBurn, Loudness: outpost.LoudnessPlatform}, Base: "tiktok"},
			{TargetRequest: outpost.TargetRequest{Preset: "webm-1080p", CaptionsMode: outpost.CaptionsSoft}, Base: "webm-1080p"},
			{TargetRequest: outpost.TargetRequest{Preset: "mp4-720p", CaptionsMode: outpost.CaptionsSidecar, Loudness: outpost.LoudnessOff}, Base: "mp4-720p"},
		}}
	want := []struct {
		caps          render.Captions
		lufs          float64
		platform, off bool
	}{
		{render.Captions{Track: true, Sidecar: true}, -14, false, false},
		{render.Captions{Burn: true}, 0, true, false},
		{render.Captions{Track: true}, 0, false, true},
		{render.Captions{Sidecar: true}, 0, false, true},
	}
	for i, w := range want {
		tg, err := RenderTarget(req, i)
		if err != nil {
			t.Fatal(err)
		}
		lufs := 0.0
		if tg.Loudness != nil {
			lufs = tg.Loudness.LUFS
			if tg.Loudness.TruePeak != -2 {
				t.Errorf("target %d true peak %g", i, tg.Loudness.TruePeak)
			}
		}
		if tg.Captions != w.caps || lufs != w.lufs || tg.PlatformLoudness != w.platform || tg.LoudnessOff != w.off || !tg.Thumbnail {
			t.Errorf("target %d = captions %+v loudness %v platform %v off %v thumbnail %v", i, tg.Captions, tg.Loudness,
				tg.PlatformLoudness, tg.LoudnessOff, tg.Thumbnail)
		}
	}
	// An export without captions gives no target captions, whatever the mode.
	req.Captions = nil
	if tg, _ := RenderTarget(req, 1); tg.Captions != (render.Captions{}) {
		t.Errorf("captions without a file: %+v", tg.Captions)
	}
}
