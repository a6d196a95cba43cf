package jobs

import (
	"encoding/json"
	"testing"

	"outpost/internal/render"
)

func TestLoudness_Normalize(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"", "", true}, {"off", "off", true}, {"None", "off", true}, {"platform", "platform", true},
		{"-14", "-14", true}, {" -16.5 ", "-16.5", true}, {"-14 LUFS", "-14", true},
		{"-4", "", false}, {"-71", "", false}, {"loud", "", false}, {"NaN", "", false},
	} {
		got, err := Loudness(tc.in).Normalize()
		if (err == nil) != tc.ok || string(got) != tc.want {
			t.Errorf("Normalize(%q) = %q, %v; want %q (ok %v)", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestLoudness_UnmarshalJSON(t *testing.T) {
	t.Parallel()
	var v struct {
		A, B Loudness
	}
	if err := json.Unmarshal([]byte(`{"a": -14, "b": "platform"}`), &v); err != nil || v.A != "-14" || v.B != "platform" {
		t.Errorf("got %+v, %v", v, err)
	}
	if err := json.Unmarshal([]byte(`{"a": true}`), &v); err == nil {
		t.Error("a boolean was accepted")
	}
}

func TestRenderTarget_finishing(t *testing.T) {
	t.Parallel()
	at := 1.5
	req := storedRequest{Captions: &storedCaptions{Text: "x", Format: "srt"}, TruePeak: -2, ThumbnailAt: &at,
		Targets: []resolvedTarget{
			{TargetRequest: TargetRequest{Preset: "youtube-1080p", CaptionsMode: CaptionsAuto, Loudness: "-14"}, Base: "youtube-1080p"},
			{TargetRequest: TargetRequest{Preset: "tiktok", CaptionsMode: CaptionsBurn, Loudness: LoudnessPlatform}, Base: "tiktok"},
			{TargetRequest: TargetRequest{Preset: "webm-1080p", CaptionsMode: CaptionsSoft}, Base: "webm-1080p"},
			{TargetRequest: TargetRequest{Preset: "mp4-720p", CaptionsMode: CaptionsSidecar, Loudness: LoudnessOff}, Base: "mp4-720p"},
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
		tg, err := renderTarget(req, i)
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
	if tg, _ := renderTarget(req, 1); tg.Captions != (render.Captions{}) {
		t.Errorf("captions without a file: %+v", tg.Captions)
	}
}
