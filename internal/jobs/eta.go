package jobs

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"outpost/internal/engine"
	"outpost/internal/eta"
	"outpost/internal/media"
	"outpost/internal/render"
)

// renderHistory is what renders took on this node (eta.History), kept in
// a file so that the first ETA of a render after a restart has a prior.
type renderHistory struct {
	hist *eta.History
	path string // "" keeps it in memory
	log  *slog.Logger
}

func loadRenderHistory(path string, log *slog.Logger) *renderHistory {
	h := &renderHistory{hist: &eta.History{}, path: path, log: log}
	if path == "" {
		return h
	}
	hist, err := eta.Load(path)
	if err != nil {
		// Only the ETAs of the first renders suffer: start afresh.
		log.Warn("render history unreadable: ETAs start without a prior", "error", err)
		return h
	}
	h.hist = hist
	return h
}

// renderETA estimates one render's time left: the speed measured after a
// warm-up, blended with what renders of the same kind took on this node.
type renderETA struct {
	h   *renderHistory
	key string
	est eta.Estimator
}

// etaKey names a kind of render: the source's frame and rate, and each
// target with its quality.
func etaKey(probe json.RawMessage, targets []render.Target) string {
	var src media.Info
	parts := []string{"?"}
	if json.Unmarshal(probe, &src) == nil && src.Video != nil {
		parts[0] = fmt.Sprintf("%dx%d@%.3g", src.Video.Width, src.Video.Height, src.Video.FrameRate)
	}
	for _, t := range targets {
		q := string(t.Quality)
		if q == "" {
			q = "hd"
		}
		parts = append(parts, t.Preset.ID+":"+q)
	}
	return eta.Key(parts...)
}

func (h *renderHistory) start(key string) *renderETA {
	return &renderETA{h: h, key: key, est: eta.Estimator{Prior: h.hist.Prior(key)}}
}

// left is the time left to report with ev: the estimator's for the render
// stage (0, unknown, until it has something to go on), the engine's for
// the others. Calls come from one goroutine, the engine's progress.
func (r *renderETA) left(ev engine.Event, at time.Time) time.Duration {
	if ev.Stage != engine.StageRender || ev.Total <= 0 {
		return ev.ETA
	}
	if ev.Done {
		return 0
	}
	r.est.Total = ev.Total
	left, ok := r.est.Observe(ev.OutTime, at)
	if !ok {
		return 0
	}
	return left
}

// finish records the render's speed for the next of its kind.
func (r *renderETA) finish() {
	speed := r.est.Speed()
	if speed <= 0 {
		return
	}
	r.h.hist.Record(r.key, speed)
	if r.h.path == "" {
		return
	}
	if err := r.h.hist.Save(r.h.path); err != nil {
		r.h.log.Warn("save render history", "error", err)
	}
}
