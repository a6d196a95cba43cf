package jobs

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/riverqueue/river"

	"outpost/internal/errcode"
	"outpost/internal/events"
	"outpost/internal/media"
	"outpost/internal/preset"
	"outpost/internal/render"
	"outpost/internal/store"
)

// TargetRequest is one requested deliverable of an export.
type TargetRequest struct {
	Preset    string  `json:"preset"`            // built-in id ("tiktok") or a user preset id (store.Preset)
	Quality   string  `json:"quality,omitempty"` // web|hd|ultra, default hd
	Fit       string  `json:"fit,omitempty"`     // pad|blur|crop, default blur
	FPS       float64 `json:"fps,omitempty"`
	VideoKbps int     `json:"video_kbps,omitempty"`
	// BrandKit is a brand kit id or slug for this target; "" takes the
	// export's, else the user preset's.
	BrandKit string `json:"brand_kit,omitempty"`
	// CaptionsMode is how this target carries the export's captions (auto,
	// burn, soft, sidecar, none); "" takes the user preset's, else the
	// export's captions.mode, else auto.
	CaptionsMode string `json:"captions_mode,omitempty"`
	// Loudness normalises this target ("platform", a level in LUFS, "off");
	// "" takes the user preset's, else the export's, else off.
	Loudness Loudness `json:"loudness,omitempty"`
}

// ExportRequest is an export as asked for.
type ExportRequest struct {
	ProjectID string          `json:"project_id"`
	Targets   []TargetRequest `json:"targets"`
	Priority  int             `json:"priority,omitempty"` // 1 (highest) … 4, default 2 (River priorities)
	// Destinations are the posts to make of the renditions once stored.
	Destinations []Destination `json:"destinations,omitempty"`
	// BrandKit is a brand kit id or slug applied to every target (a
	// target's own brand_kit wins; a user preset's comes last): its
	// watermark on the picture, its intro and outro around the video.
	BrandKit string `json:"brand_kit,omitempty"`
	// IntroProjectID and OutroProjectID replace the brand kit's intro and
	// outro ("none" removes them).
	IntroProjectID string `json:"intro_project_id,omitempty"`
	OutroProjectID string `json:"outro_project_id,omitempty"`
	// Captions are burned in, added as a track or written as a sidecar
	// file, per target (TargetRequest.CaptionsMode).
	Captions *Captions `json:"captions,omitempty"`
	// Loudness is every target's loudness normalisation unless the target
	// (or its user preset) says otherwise; "" is off.
	Loudness Loudness `json:"loudness,omitempty"`
	// TruePeak is the true-peak ceiling in dBTP with a LUFS level; nil
	// means DefaultTruePeak.
	TruePeak *float64 `json:"true_peak,omitempty"`
	// ThumbnailAt takes every rendition's thumbnail at this many seconds;
	// nil lets the render choose a sharp, non-black frame.
	ThumbnailAt *float64 `json:"thumbnail_at,omitempty"`
	// GroupID groups the exports of one variants request.
	GroupID        string `json:"-"`
	Client         string `json:"-"` // labels, filled by the API from {"labels":{"client","campaign"}}
	Campaign       string `json:"-"`
	IdempotencyKey string `json:"-"`
}

// Limits of a request.
const (
	MaxTargets        = 32
	DefaultPriority   = 2
	maxLabelLen       = 200
	maxIdempotencyLen = 255
	maxFPS            = 120
	minVideoKbps      = 50
	maxVideoKbps      = 500_000
)

// resolvedTarget is a target as accepted: the request's fields with the
// user preset's settings and the defaults applied, and the built-in preset
// it renders with. It is what the export's Request column keeps, so a
// user preset edited later does not change an accepted export.
type resolvedTarget struct {
	TargetRequest
	// Base is the built-in preset the target renders with: Preset itself,
	// or the user preset's base.
	Base string `json:"base_preset"`
	// Kit is the target's brand kit as accepted.
	Kit *kitSnapshot `json:"kit,omitempty"`
}

// storedRequest is the export's Request column.
type storedRequest struct {
	ProjectID string           `json:"project_id"`
	Targets   []resolvedTarget `json:"targets"`
	Priority  int              `json:"priority"`
	Labels    *labels          `json:"labels,omitempty"`
	// IntroProjectID and OutroProjectID are clips around the video (from
	// the brand kit or the request); every target gets the same.
	IntroProjectID string `json:"intro_project_id,omitempty"`
	OutroProjectID string `json:"outro_project_id,omitempty"`
	// Captions, TruePeak and ThumbnailAt are the finishing settings every
	// target shares; each target's caption mode and loudness are in its
	// resolvedTarget.
	Captions    *storedCaptions `json:"captions,omitempty"`
	TruePeak    float64         `json:"true_peak,omitempty"`
	ThumbnailAt *float64        `json:"thumbnail_at,omitempty"`
}

type labels struct {
	Client   string `json:"client,omitempty"`
	Campaign string `json:"campaign,omitempty"`
}

// presetSettings are the fields of a user preset's settings that rendering
// uses today; other keys are kept by the store and ignored here.
type presetSettings struct {
	Quality   string  `json:"quality"`
	Fit       string  `json:"fit"`
	FPS       float64 `json:"fps"`
	VideoKbps int     `json:"video_kbps"`
	BrandKit  string  `json:"brand_kit"`
	// CaptionsMode and Loudness are the preset's finishing defaults.
	CaptionsMode string   `json:"captions_mode"`
	Loudness     Loudness `json:"loudness"`
}

// CreateExport validates req against the project's probe and every
// target's rules before any work, then stores the export (queued), one
// pending rendition per target and the render job in one transaction. The
// same IdempotencyKey in the workspace returns the export it created.
//
// Errors: errcode.NotFound (project missing or in another workspace),
// UnknownPreset, InvalidOption (bad option, project not ready),
// PlatformRule (a target the source can never satisfy, rule named).
func (s *Service) CreateExport(ctx context.Context, workspaceID string, req ExportRequest) (store.Export, error) {
	req.IdempotencyKey = strings.TrimSpace(req.IdempotencyKey)
	if req.IdempotencyKey != "" {
		if len(req.IdempotencyKey) > maxIdempotencyLen {
			return store.Export{}, errcode.New(errcode.InvalidOption, "idempotency key: at most %d characters", maxIdempotencyLen)
		}
		e, err := s.store.GetExportByIdempotencyKey(ctx, workspaceID, req.IdempotencyKey)
		if err == nil {
			return e, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return store.Export{}, err
		}
	}
	stored, presetIDs, err := s.validate(ctx, workspaceID, req)
	if err != nil {
		return store.Export{}, err
	}
	plan, err := s.planDestinations(ctx, workspaceID, req, stored)
	if err != nil {
		return store.Export{}, err
	}
	reqJSON, err := json.Marshal(stored)
	if err != nil {
		return store.Export{}, fmt.Errorf("encode export request: %w", err)
	}
	var created store.Export
	// Accepts come in bursts: those arriving together share a transaction
	// (each in its savepoint), and each returns once it is committed.
	err = s.store.WithBatchedTx(ctx, func(tx *sql.Tx) error {
		q := s.store.Using(tx)
		e, err := q.CreateExport(ctx, store.Export{
			WorkspaceID:    workspaceID,
			ProjectID:      stored.ProjectID,
			Status:         store.ExportQueued,
			Request:        reqJSON,
			Priority:       stored.Priority,
			Client:         req.Client,
			Campaign:       req.Campaign,
			PresetIDs:      presetIDs,
			IdempotencyKey: req.IdempotencyKey,
			GroupID:        req.GroupID,
		})
		if err != nil {
			return err
		}
		rends := make([]store.Rendition, len(stored.Targets))
		for i, t := range stored.Targets {
			if rends[i], err = q.CreateRendition(ctx, store.Rendition{ExportID: e.ID, PresetID: t.Preset, TargetIndex: i}); err != nil {
				return err
			}
		}
		if err := s.createPublicationsTx(ctx, q, workspaceID, e.ID, rends, plan); err != nil {
			return err
		}
		if err := s.insertRenderJob(ctx, tx, e.ID, stored.Priority); err != nil {
			return err
		}
		if err := s.emitTx(ctx, tx, store.Event{WorkspaceID: workspaceID, Type: EventExportCreated, SubjectID: e.ID},
			exportData(e, len(plan))); err != nil {
			return err
		}
		created = e
		return nil
	})
	if errors.Is(err, store.ErrConflict) && req.IdempotencyKey != "" {
		// A concurrent request with the same key won.
		return s.store.GetExportByIdempotencyKey(ctx, workspaceID, req.IdempotencyKey)
	}
	if err != nil {
		return store.Export{}, fmt.Errorf("create export: %w", err)
	}
	s.logger.InfoContext(ctx, "export queued", "export_id", created.ID, "project_id", created.ProjectID,
		"presets", strings.Join(presetIDs, ","), "priority", created.Priority)
	return created, nil
}

// insertRenderJob inserts the export's render job in tx and records its id.
func (s *Service) insertRenderJob(ctx context.Context, tx *sql.Tx, exportID string, priority int) error {
	res, err := s.client.InsertTx(ctx, tx, RenderArgs{ExportID: exportID}, &river.InsertOpts{Priority: priority})
	if err != nil {
		return fmt.Errorf("insert render job: %w", err)
	}
	return s.store.Using(tx).SetExportJobID(ctx, exportID, res.Job.ID)
}

// validate checks req and resolves its targets.
func (s *Service) validate(ctx context.Context, workspaceID string, req ExportRequest) (storedRequest, []string, error) {
	var out storedRequest
	req.ProjectID = strings.TrimSpace(req.ProjectID)
	if req.ProjectID == "" {
		return out, nil, errcode.New(errcode.InvalidOption, "project_id is required")
	}
	prj, err := s.store.GetProject(ctx, req.ProjectID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && prj.WorkspaceID != workspaceID) {
		return out, nil, errcode.New(errcode.NotFound, "project %s not found", req.ProjectID)
	}
	if err != nil {
		return out, nil, err
	}
	if prj.Status != store.ProjectReady || len(prj.Probe) == 0 {
		return out, nil, errcode.New(errcode.InvalidOption, "project %s is not ready (status %s): wait until its source is uploaded and probed", prj.ID, prj.Status)
	}
	if prj.SourceKey == "" && (prj.Kind != store.ProjectTimeline || len(prj.Timeline) == 0) {
		return out, nil, errcode.New(errcode.InvalidOption, "project %s has no source file to render", prj.ID)
	}
	src := &media.Info{}
	if err := json.Unmarshal(prj.Probe, src); err != nil {
		return out, nil, fmt.Errorf("read project %s probe: %w", prj.ID, err)
	}

	switch {
	case req.Priority == 0:
		req.Priority = DefaultPriority
	case req.Priority < 1 || req.Priority > 4:
		return out, nil, errcode.New(errcode.InvalidOption, "priority %d: use 1 (highest) to 4", req.Priority)
	}
	for name, v := range map[string]string{"client": req.Client, "campaign": req.Campaign} {
		if utf8.RuneCountInString(v) > maxLabelLen {
			return out, nil, errcode.New(errcode.InvalidOption, "labels.%s: at most %d characters", name, maxLabelLen)
		}
	}
	if len(req.Targets) == 0 {
		return out, nil, errcode.New(errcode.InvalidOption, "targets: at least one target is required")
	}
	if len(req.Targets) > MaxTargets {
		return out, nil, errcode.New(errcode.InvalidOption, "targets: at most %d per export, got %d", MaxTargets, len(req.Targets))
	}

	out.ProjectID, out.Priority = prj.ID, req.Priority
	if req.Client != "" || req.Campaign != "" {
		out.Labels = &labels{Client: req.Client, Campaign: req.Campaign}
	}
	presetIDs := make([]string, 0, len(req.Targets))
	kits := map[string]*kitSnapshot{}
	var resolved []resolvedTarget
	var bases []preset.Preset
	for i, t := range req.Targets {
		if strings.TrimSpace(t.BrandKit) == "" {
			t.BrandKit = req.BrandKit
		}
		rt, p, err := s.resolveTarget(ctx, workspaceID, t)
		if err != nil {
			return out, nil, prefixError(err, fmt.Sprintf("targets[%d]", i))
		}
		if ref := strings.TrimSpace(rt.BrandKit); ref != "" && !strings.EqualFold(ref, "none") {
			k, ok := kits[ref]
			if !ok {
				if k, err = s.resolveKit(ctx, workspaceID, ref); err != nil {
					return out, nil, prefixError(err, fmt.Sprintf("targets[%d]", i))
				}
				kits[ref] = k
			}
			rt.Kit = k
		}
		resolved, bases = append(resolved, rt), append(bases, p)
	}
	// Intro and outro: one pair for the whole export (one render joins
	// them), from the request or the targets' kits.
	intro, outro, err := s.introOutro(ctx, workspaceID, req, resolved)
	if err != nil {
		return out, nil, err
	}
	out.IntroProjectID, out.OutroProjectID = intro.id, outro.id
	src.Duration += intro.duration + outro.duration
	if err := finishing(req, &out, resolved, src.Duration); err != nil {
		return out, nil, err
	}
	if prj.Kind == store.ProjectTimeline || intro.id != "" || outro.id != "" {
		for i, rt := range resolved {
			t := render.Target{Preset: bases[i]}
			applyLoudness(&t, rt.Loudness, out.TruePeak)
			if render.NeedsLoudness(src, []render.Target{t}) {
				return out, nil, errcode.New(errcode.InvalidOption,
					"targets[%d] (%s): loudness normalisation is not available with timelines, intros or outros yet: set loudness off", i, rt.Preset)
			}
		}
	}
	for i, rt := range resolved {
		p := bases[i]
		if vs := p.CheckSource(src); len(vs) > 0 {
			return out, nil, &errcode.Error{Code: errcode.PlatformRule,
				Message: fmt.Sprintf("targets[%d] (%s): %s", i, rt.Preset, vs[0].String()), Remedy: vs[0].Remedy}
		}
		if r := p.Rules; rt.FPS > 0 && ((r.MaxFPS > 0 && rt.FPS > r.MaxFPS) || (r.MinFPS > 0 && rt.FPS < r.MinFPS)) {
			return out, nil, errcode.New(errcode.PlatformRule, "targets[%d] (%s): fps: %s allows %g to %g fps, asked %g",
				i, rt.Preset, p.Name, r.MinFPS, r.MaxFPS, rt.FPS)
		}
		out.Targets = append(out.Targets, rt)
		presetIDs = append(presetIDs, rt.Preset)
	}
	return out, presetIDs, nil
}

// resolveTarget applies a user preset's settings and the defaults to t and
// returns it with the built-in preset it renders with.
func (s *Service) resolveTarget(ctx context.Context, workspaceID string, t TargetRequest) (resolvedTarget, preset.Preset, error) {
	rt := resolvedTarget{TargetRequest: t}
	rt.Preset = strings.TrimSpace(t.Preset)
	if rt.Preset == "" {
		return rt, preset.Preset{}, errcode.New(errcode.InvalidOption, "preset is required")
	}
	var settings presetSettings
	p, err := preset.Lookup(rt.Preset)
	if err != nil {
		up, uerr := s.store.GetPreset(ctx, rt.Preset)
		if errors.Is(uerr, store.ErrNotFound) || (uerr == nil && up.WorkspaceID != workspaceID) {
			return rt, preset.Preset{}, errcode.New(errcode.UnknownPreset, "unknown preset %q", rt.Preset)
		}
		if uerr != nil {
			return rt, preset.Preset{}, uerr
		}
		if p, err = preset.Lookup(up.BasePresetID); err != nil {
			return rt, preset.Preset{}, errcode.New(errcode.UnknownPreset, "preset %q is based on unknown preset %q", rt.Preset, up.BasePresetID)
		}
		if len(up.Settings) > 0 {
			if err := json.Unmarshal(up.Settings, &settings); err != nil {
				return rt, preset.Preset{}, errcode.New(errcode.InvalidOption, "preset %q has unreadable settings: %v", rt.Preset, err)
			}
		}
	}
	rt.Base = p.ID
	if rt.Quality == "" {
		rt.Quality = settings.Quality
	}
	if rt.Fit == "" {
		rt.Fit = settings.Fit
	}
	if rt.FPS == 0 {
		rt.FPS = settings.FPS
	}
	if rt.VideoKbps == 0 {
		rt.VideoKbps = settings.VideoKbps
	}
	if strings.TrimSpace(rt.BrandKit) == "" {
		rt.BrandKit = settings.BrandKit
	}
	if strings.TrimSpace(rt.CaptionsMode) == "" {
		rt.CaptionsMode = settings.CaptionsMode
	}
	if strings.TrimSpace(string(rt.Loudness)) == "" {
		rt.Loudness = settings.Loudness
	}
	level, err := preset.ParseLevel(rt.Quality)
	if err != nil {
		return rt, p, errcode.New(errcode.InvalidOption, "quality %q: use web, hd or ultra", rt.Quality)
	}
	fit, err := preset.ParseFit(rt.Fit)
	if err != nil {
		return rt, p, errcode.New(errcode.InvalidOption, "fit %q: use pad, blur or crop", rt.Fit)
	}
	rt.Quality, rt.Fit = string(level), string(fit)
	if rt.FPS < 0 || rt.FPS > maxFPS {
		return rt, p, errcode.New(errcode.InvalidOption, "fps %g: use 1 to %d, or 0 for the preset's", rt.FPS, maxFPS)
	}
	if rt.VideoKbps != 0 && (rt.VideoKbps < minVideoKbps || rt.VideoKbps > maxVideoKbps) {
		return rt, p, errcode.New(errcode.InvalidOption, "video_kbps %d: use %d to %d, or 0 for the quality level's", rt.VideoKbps, minVideoKbps, maxVideoKbps)
	}
	return rt, p, nil
}

// prefixError puts where in the request an error is in front of its message.
func prefixError(err error, where string) error {
	var e *errcode.Error
	if errors.As(err, &e) {
		c := *e
		c.Message = where + ": " + c.Message
		return &c
	}
	return err
}

// CancelExport cancels a queued or running export: its job is canceled (a
// running ffmpeg gets SIGINT), its unfinished renditions are marked
// canceled and watchers get "done". Files of this run already stored are
// deleted by the worker as it stops. An export that already finished gives
// errcode.Conflict.
func (s *Service) CancelExport(ctx context.Context, workspaceID, exportID string) (store.Export, error) {
	e, err := s.getExport(ctx, workspaceID, exportID)
	if err != nil {
		return store.Export{}, err
	}
	if e.Status.Final() {
		return store.Export{}, errcode.New(errcode.Conflict, "export %s already %s: only queued or running exports can be canceled", e.ID, e.Status)
	}
	var out store.Export
	err = s.store.WithTx(ctx, func(tx *sql.Tx) error {
		q := s.store.Using(tx)
		var err error
		out, err = q.UpdateExportStatus(ctx, exportID, store.StatusChange{
			Status: store.ExportCanceled, ErrorCode: errcode.Canceled, ErrorMessage: "canceled by request"})
		if err != nil {
			return err
		}
		if _, err := q.CancelRenditions(ctx, exportID); err != nil {
			return err
		}
		jobID, err := q.ExportJobID(ctx, exportID)
		if err != nil {
			return err
		}
		if jobID != 0 {
			if _, err := s.client.JobCancelTx(ctx, tx, jobID); err != nil && !errors.Is(err, river.ErrNotFound) {
				return fmt.Errorf("cancel job %d: %w", jobID, err)
			}
		}
		if err := s.cancelPublicationsTx(ctx, tx, exportID); err != nil {
			return err
		}
		if err := s.emitTx(ctx, tx, store.Event{WorkspaceID: out.WorkspaceID, Type: EventExportCanceled, SubjectID: exportID},
			exportData(out, 0)); err != nil {
			return err
		}
		if err := q.LockExport(ctx, exportID); err != nil {
			return err
		}
		return s.maybeDoneTx(ctx, tx, exportID)
	})
	if errors.Is(err, store.ErrConflict) {
		cur, gerr := s.store.GetExport(ctx, exportID)
		if gerr != nil {
			return store.Export{}, gerr
		}
		return store.Export{}, errcode.New(errcode.Conflict, "export %s already %s: only queued or running exports can be canceled", exportID, cur.Status)
	}
	if err != nil {
		return store.Export{}, fmt.Errorf("cancel export %s: %w", exportID, err)
	}
	s.events.Notify(exportID)
	s.logger.InfoContext(ctx, "export canceled", "export_id", exportID)
	return out, nil
}

// retryFrom are the statuses an export can be retried from.
var retryFrom = []store.ExportStatus{store.ExportFailed, store.ExportPartiallyFailed, store.ExportCanceled}

// RetryExport queues a failed, partially failed or canceled export again:
// only its renditions without a stored file are rendered; those that
// succeeded are kept. Its old events are replaced by the new run's (with
// higher Seq). Any other status gives errcode.Conflict.
func (s *Service) RetryExport(ctx context.Context, workspaceID, exportID string) (store.Export, error) {
	e, err := s.getExport(ctx, workspaceID, exportID)
	if err != nil {
		return store.Export{}, err
	}
	conflict := func(st store.ExportStatus) error {
		return errcode.New(errcode.Conflict, "export %s is %s: only failed, partially failed or canceled exports can be retried", exportID, st)
	}
	switch e.Status {
	case store.ExportFailed, store.ExportPartiallyFailed, store.ExportCanceled:
	default:
		return store.Export{}, conflict(e.Status)
	}
	var out store.Export
	err = s.store.WithTx(ctx, func(tx *sql.Tx) error {
		q := s.store.Using(tx)
		var err error
		if out, err = q.RequeueExport(ctx, exportID, retryFrom...); err != nil {
			return err
		}
		if _, err := q.ResetRenditions(ctx, exportID, store.RenditionFailed, store.RenditionCanceled,
			store.RenditionPending, store.RenditionRunning); err != nil {
			return err
		}
		if _, err := q.DeleteExportEvents(ctx, exportID); err != nil {
			return err
		}
		if _, err := s.events.PublishTx(ctx, tx, exportID, events.TypeProgress, events.Progress{Stage: StageQueued}); err != nil {
			return err
		}
		return s.insertRenderJob(ctx, tx, exportID, e.Priority)
	})
	if errors.Is(err, store.ErrConflict) {
		cur, gerr := s.store.GetExport(ctx, exportID)
		if gerr != nil {
			return store.Export{}, gerr
		}
		return store.Export{}, conflict(cur.Status)
	}
	if err != nil {
		return store.Export{}, fmt.Errorf("retry export %s: %w", exportID, err)
	}
	s.events.Notify(exportID)
	s.logger.InfoContext(ctx, "export retried", "export_id", exportID)
	return out, nil
}

// getExport returns the workspace's export, or errcode.NotFound.
func (s *Service) getExport(ctx context.Context, workspaceID, exportID string) (store.Export, error) {
	e, err := s.store.GetExport(ctx, exportID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && e.WorkspaceID != workspaceID) {
		return store.Export{}, errcode.New(errcode.NotFound, "export %s not found", exportID)
	}
	return e, err
}

// planDestinations checks the request's destinations against its resolved
// targets.
func (s *Service) planDestinations(ctx context.Context, workspaceID string, req ExportRequest, stored storedRequest) ([]plannedPub, error) {
	if len(req.Destinations) == 0 {
		return nil, nil
	}
	prj, err := s.store.GetProject(ctx, stored.ProjectID)
	if err != nil {
		return nil, err
	}
	src := &media.Info{}
	if err := json.Unmarshal(prj.Probe, src); err != nil {
		return nil, fmt.Errorf("read project %s probe: %w", prj.ID, err)
	}
	targets := make([]targetInfo, len(stored.Targets))
	for i, t := range stored.Targets {
		targets[i] = targetInfo{Preset: t.Preset, Base: t.Base}
	}
	return s.checkDestinations(ctx, workspaceID, req.Destinations, targets, src, prj.Name, strings.TrimSpace(req.Campaign))
}

// exportPayload is the data of export.* webhooks.
type exportPayload struct {
	ID           string        `json:"id"`
	ProjectID    string        `json:"project_id"`
	Status       string        `json:"status"`
	Presets      []string      `json:"presets"`
	Client       string        `json:"client,omitempty"`
	Campaign     string        `json:"campaign,omitempty"`
	Percent      float64       `json:"percent,omitempty"`
	Destinations int           `json:"destinations,omitempty"`
	Error        *events.Error `json:"error,omitempty"`
}

func exportData(e store.Export, destinations int) exportPayload {
	d := exportPayload{ID: e.ID, ProjectID: e.ProjectID, Status: string(e.Status), Presets: e.PresetIDs,
		Client: e.Client, Campaign: e.Campaign, Destinations: destinations}
	if e.ErrorCode != "" {
		d.Error = &events.Error{Code: e.ErrorCode, Message: e.ErrorMessage}
	}
	return d
}
