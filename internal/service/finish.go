package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"sync"
	"time"

	"outpost/internal/blob"
	"outpost/internal/caption"
	"outpost/internal/engine"
	"outpost/internal/errcode"
	"outpost/internal/jobs"
	"outpost/internal/outpost"
	"outpost/internal/render"
	"outpost/internal/store"
)

// checkCaptions validates inline captions with the caption parser: a
// malformed file is caption_invalid naming the line.
func checkCaptions(c *outpost.Captions) (*outpost.AcceptedCaptions, error) {
	if strings.TrimSpace(c.Text) == "" {
		return nil, errcode.New(errcode.InvalidOption, "captions.text: give the SRT or WebVTT file's text")
	}
	if len(c.Text) > outpost.MaxCaptionsBytes {
		return nil, errcode.New(errcode.CaptionInvalid, "captions.text: %d bytes; at most %d KiB", len(c.Text), outpost.MaxCaptionsBytes>>10)
	}
	// Checked by the rule the render applies, so that a tag accepted here
	// never fails the render.
	lang := strings.TrimSpace(c.Language)
	if _, err := caption.TrackLanguage(lang); err != nil {
		return nil, errcode.New(errcode.InvalidOption, "captions.language %q: give a BCP 47 tag such as en or pt-BR", c.Language)
	}
	data := []byte(c.Text)
	cues, err := caption.Parse(data)
	if err != nil {
		return nil, prefixError(err, "captions")
	}
	return &outpost.AcceptedCaptions{Text: c.Text, Format: caption.Detect(data), Language: lang, Cues: len(cues)}, nil
}

// finishing validates the request's captions, loudness and thumbnail time
// and resolves each target's caption mode and loudness: a target's own,
// else its user preset's (already in ts), else the export's.
func finishing(req outpost.ExportRequest, out *outpost.ExportSpec, ts []outpost.ResolvedTarget, duration float64) error {
	exportMode := ""
	if req.Captions != nil {
		c, err := checkCaptions(req.Captions)
		if err != nil {
			return err
		}
		out.Captions = c
		exportMode = strings.ToLower(strings.TrimSpace(req.Captions.Mode))
		if err := outpost.CheckCaptionsMode(exportMode); err != nil {
			return prefixError(err, "captions.mode")
		}
		if exportMode == "" {
			exportMode = outpost.CaptionsAuto
		}
	}
	loud, err := req.Loudness.Normalize()
	if err != nil {
		return err
	}
	out.TruePeak = outpost.DefaultTruePeak
	if req.TruePeak != nil {
		if *req.TruePeak < -9 || *req.TruePeak > 0 {
			return errcode.New(errcode.InvalidOption, "true_peak %g: give a ceiling in dBTP between -9 and 0", *req.TruePeak)
		}
		out.TruePeak = *req.TruePeak
	}
	for i := range ts {
		t := &ts[i]
		mode := strings.ToLower(strings.TrimSpace(t.CaptionsMode))
		if err := outpost.CheckCaptionsMode(mode); err != nil {
			return prefixError(err, fmt.Sprintf("targets[%d]", i))
		}
		switch {
		case out.Captions == nil:
			if m := strings.ToLower(strings.TrimSpace(req.Targets[i].CaptionsMode)); m != "" && m != outpost.CaptionsNone {
				return errcode.New(errcode.InvalidOption, "targets[%d].captions_mode: the export has no captions: add captions.text", i)
			}
			mode = ""
		case mode == "":
			mode = exportMode
		}
		if mode == outpost.CaptionsNone {
			mode = ""
		}
		t.CaptionsMode = mode
		l, err := t.Loudness.Normalize()
		if err != nil {
			return prefixError(err, fmt.Sprintf("targets[%d]", i))
		}
		if l == "" {
			l = loud
		}
		if l == "" {
			l = outpost.LoudnessOff
		}
		t.Loudness = l
	}
	if req.Segments < 0 || req.Segments > outpost.MaxSegments {
		return errcode.New(errcode.InvalidOption, "segments %d: give 1 (one pass) to %d", req.Segments, outpost.MaxSegments)
	}
	out.Segments = req.Segments
	if req.ThumbnailAt != nil {
		at := *req.ThumbnailAt
		if math.IsNaN(at) || at < 0 || (duration > 0 && at >= duration) {
			return errcode.New(errcode.InvalidOption, "thumbnail_at %g: give a time in seconds from 0 to under the video's %.2f s", at, duration)
		}
		out.ThumbnailAt = &at
	}
	return nil
}

// prepared is a validated request with the local files its render needs,
// in dir (removed by the caller).
type prepared struct {
	validated
	req engine.Request
	dir string
}

// errNoEngine refuses estimates and previews on a server without ffmpeg.
var errNoEngine = errcode.New(errcode.Internal, "this server renders nothing (no engine): estimates and previews need a worker node")

// prepare gathers the local files of a validated request in a new folder
// under the work dir.
func (s *Exports) prepare(ctx context.Context, workspaceID string, v validated, kind string) (*prepared, error) {
	if err := os.MkdirAll(s.files.WorkDir(), 0o750); err != nil {
		return nil, fmt.Errorf("create work dir: %w", err)
	}
	dir, err := os.MkdirTemp(s.files.WorkDir(), kind+"-")
	if err != nil {
		return nil, fmt.Errorf("create work dir: %w", err)
	}
	p := &prepared{validated: v, dir: dir}
	targets := make([]render.Target, len(v.spec.Targets))
	idx := make([]int, len(v.spec.Targets))
	for i := range v.spec.Targets {
		if targets[i], err = jobs.RenderTarget(v.spec, i); err != nil {
			_ = os.RemoveAll(dir)
			return nil, err
		}
		idx[i] = i
	}
	if p.req, err = s.files.EngineRequest(ctx, workspaceID, v.project, v.spec, idx, targets, dir); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	return p, nil
}

// Limits of estimates: they run ffmpeg, so one at a time, each bounded, and
// remembered.
const (
	defaultEstimateTimeout = 45 * time.Second
	estimateCacheMax       = 256
)

// estimateCache runs estimates one at a time and remembers the answers, by
// the request as accepted.
type estimateCache struct {
	timeout time.Duration
	slot    chan struct{}
	mu      sync.Mutex
	cache   map[string][]engine.SizeEstimate
}

func newEstimateCache(timeout time.Duration) *estimateCache {
	return &estimateCache{timeout: timeout, slot: make(chan struct{}, 1), cache: map[string][]engine.SizeEstimate{}}
}

// Estimate predicts each target's file size for req without exporting it
// (engine.EstimateRequest: one short sample encode of every target at its
// settings, brand watermark and intro/outro included). A target the source
// cannot be made into has its rule in its estimate's error.
func (s *Exports) Estimate(ctx context.Context, workspaceID string, req outpost.ExportRequest) ([]engine.SizeEstimate, error) {
	if s.engine == nil {
		return nil, errNoEngine
	}
	v, err := s.validate(ctx, workspaceID, req, false)
	if err != nil {
		return nil, err
	}
	spec, err := json.Marshal(v.spec)
	if err != nil {
		return nil, err
	}
	key := string(spec)
	c := s.estimates
	c.mu.Lock()
	est, ok := c.cache[key]
	c.mu.Unlock()
	if !ok {
		select {
		case c.slot <- struct{}{}:
		case <-ctx.Done():
			return nil, ctx.Err() // a newer request replaced this one
		}
		est, err = s.estimate(ctx, workspaceID, v)
		<-c.slot
		if err != nil {
			return nil, err
		}
		c.mu.Lock()
		if len(c.cache) >= estimateCacheMax {
			clear(c.cache)
		}
		c.cache[key] = est
		c.mu.Unlock()
	}
	out := make([]engine.SizeEstimate, len(est))
	copy(out, est)
	for i := range out {
		out[i].Preset = v.spec.Targets[i].Preset // the user preset id, not its base
	}
	return out, nil
}

func (s *Exports) estimate(ctx context.Context, workspaceID string, v validated) ([]engine.SizeEstimate, error) {
	limit := s.estimates.timeout
	ctx, cancel := context.WithTimeoutCause(ctx, limit, errEstimateTimeout)
	defer cancel()
	p, err := s.prepare(ctx, workspaceID, v, "estimate")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(p.dir)
	est, err := s.engine.EstimateRequest(ctx, p.req)
	if err != nil && context.Cause(ctx) == errEstimateTimeout {
		// Our own limit, not the caller's cancel: say so, not "canceled".
		return nil, errcode.New(errcode.TimedOut, "the size estimate took longer than %s (the server may be busy)", limit)
	}
	return est, err
}

// errEstimateTimeout is the cause of an estimate's context when its limit
// passes.
var errEstimateTimeout = errors.New("estimate time limit")

// previewTTL is how long a preview's file is kept: the life of its link.
const previewTTL = time.Hour

// Preview renders a fast, low-resolution preview of req's one target
// (render.PreviewTarget: same framing and watermark, H.264 at long side
// 640, at most 15 fps, x264 ultrafast) of the first seconds (0: all),
// stores it under previews/ for an hour and returns its link. It runs
// while the caller waits.
func (s *Exports) Preview(ctx context.Context, workspaceID string, req outpost.ExportRequest, seconds float64) (outpost.Preview, error) {
	if len(req.Targets) != 1 {
		return outpost.Preview{}, errcode.New(errcode.InvalidOption, "targets: a preview is of one target, got %d", len(req.Targets))
	}
	if seconds < 0 || seconds > 600 {
		return outpost.Preview{}, errcode.New(errcode.InvalidOption, "seconds %g: give 0 (all) to 600", seconds)
	}
	if s.engine == nil {
		return outpost.Preview{}, errNoEngine
	}
	v, err := s.validate(ctx, workspaceID, req, true)
	if err != nil {
		return outpost.Preview{}, err
	}
	if len(v.refused) > 0 {
		return outpost.Preview{}, v.refused[0].err() // a preview shows every target it is asked for
	}
	p, err := s.prepare(ctx, workspaceID, v, "preview")
	if err != nil {
		return outpost.Preview{}, err
	}
	defer os.RemoveAll(p.dir)
	p.req.Preview = &engine.Preview{Seconds: seconds}
	for i := range p.req.Targets {
		p.req.Targets[i].Path = ""
		p.req.Targets[i].Thumbnail = false
	}
	results, err := s.engine.Export(ctx, p.req, nil)
	if err != nil {
		return outpost.Preview{}, err
	}
	r := results[0]
	if r.Error != nil {
		return outpost.Preview{}, &errcode.Error{Code: r.Error.Code, Message: r.Error.Message, Remedy: r.Error.Remedy}
	}
	t := p.spec.Targets[0]
	key, err := blob.Key("previews", store.NewID("prv"), t.Base+".preview.mp4")
	if err != nil {
		return outpost.Preview{}, err
	}
	if _, err := s.blob.PutFile(ctx, key, r.Path, "video/mp4"); err != nil {
		return outpost.Preview{}, fmt.Errorf("store preview: %w", err)
	}
	// Gone once its link has expired.
	if err := s.queue.DeletePreviewAt(ctx, key, s.now().Add(previewTTL)); err != nil {
		_ = s.blob.Delete(context.WithoutCancel(ctx), key)
		return outpost.Preview{}, err
	}
	link, exp, err := s.blob.SignedURL(ctx, key, min(downloadLinkTTL, previewTTL), t.Preset+".preview.mp4")
	if err != nil {
		return outpost.Preview{}, err
	}
	return outpost.Preview{Preset: t.Preset, SizeBytes: r.SizeBytes, Duration: r.Duration,
		Width: r.Width, Height: r.Height, URL: link, URLExpiresAt: exp}, nil
}
