package ui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"outpost/internal/engine"
	"outpost/internal/errcode"
	"outpost/internal/jobs"
	"outpost/internal/preset"
	"outpost/internal/render"
	"outpost/internal/store"
)

// estimator measures sizes with a sample encode (engine.Engine).
type estimator interface {
	Estimate(ctx context.Context, src string, targets []render.Target) ([]engine.SizeEstimate, error)
}

// Limits of measured estimates: they run ffmpeg, so one at a time, each
// bounded, and remembered.
const (
	estimateTimeout  = 45 * time.Second
	estimateCacheMax = 256
)

// estimates runs engine.Estimate one at a time and remembers the answers.
type estimates struct {
	slot  chan struct{}
	mu    sync.Mutex
	cache map[string][]engine.SizeEstimate
}

func newEstimates() *estimates {
	return &estimates{slot: make(chan struct{}, 1), cache: map[string][]engine.SizeEstimate{}}
}

type estimateRequest struct {
	Targets []jobs.TargetRequest `json:"targets"`
}

type estimateResponse struct {
	Estimates []engine.SizeEstimate `json:"estimates"`
	// Method explains the figures, for the modal.
	Method string `json:"method"`
}

// MeasuredMethod says how measured estimates are made.
const MeasuredMethod = "measured (a 3 s sample of each format, encoded and scaled to the duration)"

// estimateProject measures the size of each requested target for the
// project's source (engine.Estimate: a short sample encode). The modal
// shows the instant upper bound first and this figure when it arrives.
// Sources not on local storage are not measured (501): the bound stays.
func (h *Handler) estimateProject(w http.ResponseWriter, r *http.Request) error {
	if h.estimator == nil {
		return errcode.New(errcode.Internal, "size measuring is not available on this server")
	}
	p, err := h.projectInWorkspace(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	var req estimateRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxFormBody)).Decode(&req); err != nil {
		return errcode.New(errcode.InvalidJSON, "the estimate request could not be read")
	}
	if len(req.Targets) == 0 || len(req.Targets) > jobs.MaxTargets {
		return errcode.New(errcode.InvalidOption, "ask for 1 to %d targets", jobs.MaxTargets)
	}
	src := h.localSource(p)
	if src == "" {
		h.writeJSONError(w, http.StatusNotImplemented, errcode.Internal,
			"sizes are measured only for sources on local storage", "Use the upper bound shown.")
		return nil
	}
	ctx := r.Context()
	user, _, err := h.userPresets(ctx, workspaceOf(r))
	if err != nil {
		return err
	}
	targets := make([]render.Target, len(req.Targets))
	keys := make([]string, len(req.Targets))
	for i, t := range req.Targets {
		if targets[i], err = renderTarget(t, user); err != nil {
			return err
		}
		rt := targets[i]
		keys[i] = fmt.Sprintf("%s/%s/%s/%g/%d", rt.Preset.ID, rt.Quality, rt.Fit, rt.FPS, rt.VideoKbps)
	}
	key := p.ID + "|" + strings.Join(keys, "|")

	e := h.estimates
	e.mu.Lock()
	cached, ok := e.cache[key]
	e.mu.Unlock()
	if !ok {
		select {
		case e.slot <- struct{}{}:
		case <-ctx.Done():
			return nil // a newer request replaced this one
		}
		ectx, cancel := context.WithTimeout(ctx, estimateTimeout)
		cached, err = h.estimator.Estimate(ectx, src, targets)
		cancel()
		<-e.slot
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		e.mu.Lock()
		if len(e.cache) >= estimateCacheMax {
			clear(e.cache)
		}
		e.cache[key] = cached
		e.mu.Unlock()
	}
	out := estimateResponse{Estimates: make([]engine.SizeEstimate, len(cached)), Method: MeasuredMethod}
	copy(out.Estimates, cached)
	for i := range out.Estimates {
		out.Estimates[i].Preset = req.Targets[i].Preset // the user preset id, not its base
	}
	h.writeJSON(w, http.StatusOK, out)
	return nil
}

// localSource is the path of the project's source on file:// storage, or
// "" when it is elsewhere.
func (h *Handler) localSource(p store.Project) string {
	if h.localBlobDir == "" || p.SourceKey == "" {
		return ""
	}
	path := filepath.Join(h.localBlobDir, filepath.FromSlash(p.SourceKey))
	if _, err := os.Stat(path); err != nil {
		return ""
	}
	return path
}

// renderTarget resolves a requested target (a built-in, or a user preset
// with its settings under the request's) as jobs does.
func renderTarget(t jobs.TargetRequest, user map[string]store.Preset) (render.Target, error) {
	var settings presetSettings
	p, err := preset.Lookup(t.Preset)
	if err != nil {
		up, ok := user[t.Preset]
		if !ok {
			return render.Target{}, errcode.New(errcode.UnknownPreset, "unknown format %q", t.Preset)
		}
		if p, err = preset.Lookup(up.BasePresetID); err != nil {
			return render.Target{}, errcode.New(errcode.UnknownPreset, "preset %q is based on unknown format %q", up.Name, up.BasePresetID)
		}
		if len(up.Settings) > 0 {
			_ = json.Unmarshal(up.Settings, &settings)
		}
	}
	q, fit := firstNonEmpty(t.Quality, settings.Quality), firstNonEmpty(t.Fit, settings.Fit)
	level, lerr := preset.ParseLevel(q)
	f, ferr := preset.ParseFit(fit)
	if err := errors.Join(lerr, ferr); err != nil {
		return render.Target{}, errcode.New(errcode.InvalidOption, "%v", err)
	}
	fps, kbps := t.FPS, t.VideoKbps
	if fps == 0 {
		fps = settings.FPS
	}
	if kbps == 0 {
		kbps = settings.VideoKbps
	}
	if fps < 0 || fps > 120 || kbps < 0 || kbps > 500_000 {
		return render.Target{}, errcode.New(errcode.InvalidOption, "frame rate or bitrate out of range")
	}
	return render.Target{Preset: p, Quality: level, Fit: f, FPS: fps, VideoKbps: kbps}, nil
}
