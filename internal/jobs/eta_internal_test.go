package jobs

import (
	"encoding/json"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"outpost/internal/engine"
	"outpost/internal/preset"
	"outpost/internal/render"
)

// TestRenderETA replays a render that starts fast and then settles at
// half real time (as a 1080p render to several targets does): the ETA
// reported at 10 % comes from the estimator, not from ffmpeg's speed since
// the start, and once a render of the kind is recorded in the node's
// history file, the next one has a prior from the first report past its
// warm-up, after a restart too.
func TestRenderETA(t *testing.T) {
	t.Parallel()
	const total = 100.0
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	// Output time written by each second: 8 s in the first second
	// (start-up), then 0.5 s of media per second.
	out := func(sec float64) float64 {
		if sec <= 1 {
			return 8 * sec
		}
		return 8 + 0.5*(sec-1)
	}
	ffmpegETA := func(sec float64) time.Duration { // what ffmpeg's speed since the start gives
		o := out(sec)
		return time.Duration((total - o) / (o / sec) * float64(time.Second))
	}
	truth := func(sec float64) float64 { return (total-8)/0.5 + 1 - sec }
	key := etaKey(json.RawMessage(`{"video":{"width":1920,"height":1080,"frame_rate":30}}`),
		[]render.Target{{Preset: preset.Preset{ID: "tiktok"}, Quality: "web"}, {Preset: preset.Preset{ID: "youtube-1080p"}}})
	if key != "1920x1080@30|tiktok:web|youtube-1080p:hd" {
		t.Errorf("key %q", key)
	}
	path := filepath.Join(t.TempDir(), "render-history.json")
	log := slog.New(slog.DiscardHandler)

	// replay runs one render and returns the ETAs it reported at 10 %.
	replay := func(h *renderHistory) (at10 time.Duration) {
		r := h.start(key)
		for sec := 0.5; out(sec) < total; sec += 0.5 {
			ev := engine.Event{Stage: engine.StageRender, ETA: ffmpegETA(sec), OutTime: out(sec), Total: total}
			left := r.left(ev, t0.Add(time.Duration(sec*float64(time.Second))))
			if at10 == 0 && out(sec) >= 10 {
				at10 = left
			}
		}
		if left := r.left(engine.Event{Stage: engine.StageRender, Percent: 100, Done: true, Total: total}, t0); left != 0 {
			t.Errorf("done: left %v", left)
		}
		r.finish()
		return at10
	}
	sec10 := 5.0 // out(5) = 10
	relErr := func(d time.Duration) float64 { return d.Seconds()/truth(sec10) - 1 }

	first := replay(loadRenderHistory(path, log))
	if e := relErr(ffmpegETA(sec10)); e > -0.5 {
		t.Fatalf("the replay is not the case the estimator is for: ffmpeg is off by %.0f %% only", 100*e)
	}
	if e := relErr(first); first == 0 || e < -0.3 || e > 0.3 {
		t.Errorf("first render, no prior: ETA at 10 %% %v, truth %.0f s (%+.0f %%); want within ±30 %%", first, truth(sec10), 100*e)
	}
	// A restart: the history comes back from the file.
	again := loadRenderHistory(path, log)
	if p := again.hist.Prior(key); p < 0.45 || p > 0.55 {
		t.Fatalf("recorded speed %v, want about 0.5", p)
	}
	if e := relErr(replay(again)); e < -0.1 || e > 0.1 {
		t.Errorf("second render, with a prior: ETA at 10 %% off by %+.0f %%", 100*e)
	}
	// Other stages keep the engine's ETA.
	if left := again.start(key).left(engine.Event{Stage: engine.StageAudio, ETA: 7 * time.Second}, t0); left != 7*time.Second {
		t.Errorf("audio stage: %v", left)
	}
}
