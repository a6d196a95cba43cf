package service

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"outpost/internal/blob"
	"outpost/internal/engine"
	"outpost/internal/errcode"
	"outpost/internal/events"
	"outpost/internal/jobs"
	"outpost/internal/media"
	"outpost/internal/outpost"
	"outpost/internal/plan"
	"outpost/internal/preset"
	"outpost/internal/render"
	"outpost/internal/store"
)

// Limits of a request.
const (
	maxIdempotencyLen = 255
	maxFPS            = 120
	minVideoKbps      = 50
	maxVideoKbps      = 500_000
)

// Exports are the exports and their files: acceptance (checked against the
// source and every target's rules before any work), history, live events,
// and the renditions' links.
type Exports struct {
	store     *store.Store
	blob      *blob.Store
	events    *events.Broker
	queue     *jobs.Queue
	files     *jobs.Files
	engine    *engine.Engine
	presets   *Presets
	pubs      *Publications
	views     *views
	logger    *slog.Logger
	now       func() time.Time
	estimates *estimateCache
	// retention is how long a file let go again is kept.
	retention time.Duration
}

var _ outpost.Exports = (*Exports)(nil)

// Create validates req against the project's probe and every target's
// rules before any work, then stores the export (queued), one pending
// rendition per target, its publications and the render job in one
// transaction. The same IdempotencyKey in the workspace returns the export
// it created.
func (s *Exports) Create(ctx context.Context, workspaceID string, req outpost.ExportRequest) (outpost.ExportDetail, error) {
	a, err := s.create(ctx, workspaceID, req)
	if err != nil {
		return outpost.ExportDetail{}, err
	}
	return s.acceptedDetail(ctx, a)
}

// accepted is what create stored: the export, and, when this call wrote
// it and nothing in the transaction changed them after they were written,
// its renditions and publications as written (written is true).
type accepted struct {
	export       store.Export
	renditions   []store.Rendition
	publications []store.Publication
	written      bool
}

// acceptedDetail is the detail of an accepted export. A fresh one is
// built from the rows just written rather than read back: the answer to
// a burst of accepts would otherwise read every export again, on SQLite
// through the same one connection the accepts write on.
func (s *Exports) acceptedDetail(ctx context.Context, a accepted) (outpost.ExportDetail, error) {
	if a.written {
		return s.views.compose(ctx, a.export, a.renditions, a.publications, nil), nil
	}
	return s.views.detail(ctx, s.store, a.export)
}

func (s *Exports) create(ctx context.Context, workspaceID string, req outpost.ExportRequest) (accepted, error) {
	req.IdempotencyKey = strings.TrimSpace(req.IdempotencyKey)
	if req.IdempotencyKey != "" {
		if len(req.IdempotencyKey) > maxIdempotencyLen {
			return accepted{}, errcode.New(errcode.InvalidOption, "idempotency key: at most %d characters", maxIdempotencyLen)
		}
		e, err := s.store.GetExportByIdempotencyKey(ctx, workspaceID, req.IdempotencyKey)
		if err == nil {
			return accepted{export: e}, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return accepted{}, err
		}
	}
	v, err := s.validate(ctx, workspaceID, req, true)
	if err != nil {
		return accepted{}, err
	}
	if err := s.checkPlan(ctx, workspaceID, req.Batch, req.Variant != "", 1, v); err != nil {
		return accepted{}, err
	}
	plan, err := s.pubs.plan(ctx, workspaceID, req.Destinations, v.targets(), v.src, v.project.Name, v.labels.Campaign)
	if err != nil {
		return accepted{}, err
	}
	reqJSON, err := json.Marshal(v.spec)
	if err != nil {
		return accepted{}, fmt.Errorf("encode export request: %w", err)
	}
	refused, err := v.refusedJSON()
	if err != nil {
		return accepted{}, fmt.Errorf("encode refused targets: %w", err)
	}
	var created accepted
	err = s.store.WithBatchedTx(ctx, func(tx *sql.Tx) error {
		q := s.store.Using(tx)
		e, err := q.CreateExport(ctx, store.Export{
			WorkspaceID:    workspaceID,
			ProjectID:      v.spec.ProjectID,
			Status:         store.ExportQueued,
			Request:        reqJSON,
			Priority:       v.spec.Priority,
			Client:         v.labels.Client,
			Campaign:       v.labels.Campaign,
			PresetIDs:      v.presetIDs,
			IdempotencyKey: req.IdempotencyKey,
			GroupID:        req.GroupID,
			Refused:        refused,
		})
		if err != nil {
			return err
		}
		rends := make([]store.Rendition, len(v.spec.Targets))
		for i, t := range v.spec.Targets {
			rends[i] = store.Rendition{ExportID: e.ID, PresetID: t.Preset, TargetIndex: i}
		}
		for _, r := range v.refused {
			if rends[r.TargetIndex], err = r.rendition(e.ID); err != nil {
				return err
			}
		}
		for i := range rends {
			if rends[i], err = q.CreateRendition(ctx, rends[i]); err != nil {
				return err
			}
		}
		pubs := make([]store.Publication, len(plan))
		for i, p := range plan {
			r := rends[p.targetIndex]
			if pubs[i], err = q.CreatePublication(ctx, p.publication(workspaceID, e.ID, r)); err != nil {
				return err
			}
		}
		for _, r := range v.refused {
			// Posts of a refused target fail now, as a failed render's do.
			if err := s.queue.RenditionStored(ctx, tx, rends[r.TargetIndex]); err != nil {
				return err
			}
		}
		if err := s.queue.InsertRender(ctx, tx, e.ID, v.spec.Priority); err != nil {
			return err
		}
		if err := s.queue.EmitTx(ctx, tx, store.Event{WorkspaceID: workspaceID, Type: outpost.EventExportCreated, SubjectID: e.ID},
			jobs.ExportData(e, len(plan))); err != nil {
			return err
		}
		e.ProjectName = v.project.Name
		// A refused target's posts have failed since they were written.
		created = accepted{export: e, renditions: rends, publications: pubs, written: len(v.refused) == 0}
		return nil
	})
	if errors.Is(err, store.ErrConflict) && req.IdempotencyKey != "" {
		// A concurrent request with the same key won.
		e, err := s.store.GetExportByIdempotencyKey(ctx, workspaceID, req.IdempotencyKey)
		return accepted{export: e}, err
	}
	if err != nil {
		return accepted{}, fmt.Errorf("create export: %w", err)
	}
	e := created.export
	s.logger.InfoContext(ctx, "export queued", "export_id", e.ID, "project_id", e.ProjectID,
		"presets", strings.Join(v.presetIDs, ","), "priority", e.Priority)
	return created, nil
}

// validated is a request checked against its project.
type validated struct {
	spec      outpost.ExportSpec
	labels    outpost.Labels
	presetIDs []string
	bases     []preset.Preset
	project   store.Project
	src       *media.Info // the project's probe, intro and outro included
	// refused are the targets whose platform rules the source breaks
	// (checked when rules are); some, never all.
	refused []refusal
}

func (v validated) targets() []targetInfo {
	ts := make([]targetInfo, len(v.spec.Targets))
	for i, t := range v.spec.Targets {
		ts[i] = targetInfo{Preset: t.Preset, Base: t.Base}
	}
	return ts
}

// validate checks req and resolves its targets. rules checks each target's
// platform rules against the source (an estimate reports them per target
// instead).
func (s *Exports) validate(ctx context.Context, workspaceID string, req outpost.ExportRequest, rules bool) (validated, error) {
	var v validated
	out := &v.spec
	req.ProjectID = strings.TrimSpace(req.ProjectID)
	if req.ProjectID == "" {
		return v, errcode.New(errcode.InvalidOption, "project_id is required")
	}
	prj, err := projectIn(ctx, s.store, workspaceID, req.ProjectID)
	if err != nil {
		return v, err
	}
	v.project = prj
	if prj.Status != store.ProjectReady || len(prj.Probe) == 0 {
		return v, errcode.New(errcode.InvalidOption, "project %s is not ready (status %s): wait until its source is uploaded and probed", prj.ID, prj.Status)
	}
	if prj.SourceKey == "" && (prj.Kind != store.ProjectTimeline || len(prj.Timeline) == 0) {
		return v, errcode.New(errcode.InvalidOption, "project %s has no source file to render", prj.ID)
	}
	src := &media.Info{}
	if err := json.Unmarshal(prj.Probe, src); err != nil {
		return v, fmt.Errorf("read project %s probe: %w", prj.ID, err)
	}
	v.src = src

	switch {
	case req.Priority == 0:
		req.Priority = outpost.DefaultPriority
	case req.Priority < 1 || req.Priority > 4:
		return v, errcode.New(errcode.InvalidOption, "priority %d: use 1 (highest) to 4", req.Priority)
	}
	labels := outpost.Labels{Client: strings.TrimSpace(req.Labels.Client), Campaign: strings.TrimSpace(req.Labels.Campaign)}
	v.labels = labels
	for _, l := range []struct{ field, v string }{{"labels.client", labels.Client}, {"labels.campaign", labels.Campaign}} {
		if err := checkLabel(l.field, l.v); err != nil {
			return v, err
		}
	}
	if len(req.Targets) == 0 {
		return v, &errcode.Error{Code: errcode.InvalidOption, Message: `targets: give at least one target, e.g. [{"preset":"youtube-1080p"}]`,
			Remedy: "Pick at least one format."}
	}
	if len(req.Targets) > outpost.MaxTargets {
		return v, errcode.New(errcode.InvalidOption, "targets: at most %d per export, got %d", outpost.MaxTargets, len(req.Targets))
	}

	out.ProjectID, out.Priority, out.Variant = prj.ID, req.Priority, req.Variant
	if labels != (outpost.Labels{}) {
		out.Labels = &labels
	}
	kits := map[string]*outpost.KitSnapshot{}
	var resolved []outpost.ResolvedTarget
	for i, t := range req.Targets {
		if strings.TrimSpace(t.BrandKit) == "" {
			t.BrandKit = req.BrandKit
		}
		rt, p, err := s.presets.Resolve(ctx, workspaceID, t)
		if err != nil {
			return v, prefixError(err, fmt.Sprintf("targets[%d]", i))
		}
		if ref := strings.TrimSpace(rt.BrandKit); ref != "" && !strings.EqualFold(ref, "none") {
			k, ok := kits[ref]
			if !ok {
				if k, err = s.resolveKit(ctx, workspaceID, ref); err != nil {
					return v, prefixError(err, fmt.Sprintf("targets[%d]", i))
				}
				kits[ref] = k
			}
			rt.Kit = k
		}
		resolved, v.bases = append(resolved, rt), append(v.bases, p)
	}
	// Intro and outro: one pair for the whole export (one render joins
	// them), from the request or the targets' kits.
	intro, outro, err := s.introOutro(ctx, workspaceID, req, resolved)
	if err != nil {
		return v, err
	}
	out.IntroProjectID, out.OutroProjectID = intro.id, outro.id
	src.Duration += intro.duration + outro.duration
	if err := finishing(req, out, resolved, src.Duration); err != nil {
		return v, err
	}
	if prj.Kind == store.ProjectTimeline || intro.id != "" || outro.id != "" {
		for i, rt := range resolved {
			t := render.Target{Preset: v.bases[i]}
			jobs.ApplyLoudness(&t, rt.Loudness, out.TruePeak)
			if render.NeedsLoudness(src, []render.Target{t}) {
				return v, errcode.New(errcode.InvalidOption,
					"targets[%d] (%s): loudness normalisation is not available with timelines, intros or outros yet: set loudness off", i, rt.Preset)
			}
		}
	}
	loud := make([]render.Target, len(resolved))
	for i, rt := range resolved {
		loud[i] = render.Target{Preset: v.bases[i]}
		jobs.ApplyLoudness(&loud[i], rt.Loudness, out.TruePeak)
	}
	out.MeasuresLoudness = render.NeedsLoudness(src, loud)
	for i, rt := range resolved {
		p := v.bases[i]
		if vs := p.CheckSource(src); rules && len(vs) > 0 {
			// Refused, but kept in the spec: the other targets keep their
			// places, and the refused one's rendition says why.
			v.refused = append(v.refused, refusal{
				RefusedTarget: outpost.RefusedTarget{TargetIndex: i, Preset: rt.Preset, Code: errcode.PlatformRule, Rule: vs[0].Rule,
					Message: fmt.Sprintf("targets[%d] (%s): %s", i, rt.Preset, vs[0].String()), Remedy: vs[0].Remedy},
				violations: vs,
			})
		}
		if r := p.Rules; rt.FPS > 0 && ((r.MaxFPS > 0 && rt.FPS > r.MaxFPS) || (r.MinFPS > 0 && rt.FPS < r.MinFPS)) {
			return v, errcode.New(errcode.PlatformRule, "targets[%d] (%s): fps: %s allows %g to %g fps, asked %g",
				i, rt.Preset, p.Name, r.MinFPS, r.MaxFPS, rt.FPS)
		}
		out.Targets = append(out.Targets, rt)
		v.presetIDs = append(v.presetIDs, rt.Preset)
	}
	if len(v.refused) == len(resolved) {
		return v, v.refused[0].err()
	}
	return v, nil
}

// refusal is a target refused when its export is accepted: the source
// breaks a rule of its platform that no render can fix (duration).
type refusal struct {
	outpost.RefusedTarget
	violations []preset.Violation
}

// err is the refusal as the answer to a request refused whole.
func (r refusal) err() error {
	return &errcode.Error{Code: r.Code, Message: r.Message, Remedy: r.Remedy}
}

// rendition is the refused target's rendition of export exportID: failed
// from the start, with the code and the rules it breaks.
func (r refusal) rendition(exportID string) (store.Rendition, error) {
	check, err := json.Marshal(engine.CheckReport{Violations: r.violations})
	if err != nil {
		return store.Rendition{}, fmt.Errorf("encode check report: %w", err)
	}
	return store.Rendition{ExportID: exportID, PresetID: r.Preset, TargetIndex: r.TargetIndex, Status: store.RenditionFailed,
		ErrorCode: r.Code, ErrorMessage: r.Message, CheckReport: check}, nil
}

// refusedJSON is the export's refused targets (nil for none).
func (v validated) refusedJSON() (json.RawMessage, error) {
	if len(v.refused) == 0 {
		return nil, nil
	}
	out := make([]outpost.RefusedTarget, len(v.refused))
	for i, r := range v.refused {
		out[i] = r.RefusedTarget
	}
	return json.Marshal(out)
}

// checkPlan checks a request of n exports, with the outputs of vs,
// against the workspace's plan: resolution, batch and variants, exports
// at once, stored bytes (plan_limit naming the limit).
func (s *Exports) checkPlan(ctx context.Context, workspaceID string, batch, variants bool, n int, vs ...validated) error {
	p, err := s.store.GetPlan(ctx, workspaceID)
	if err != nil || p.Unlimited() {
		return err
	}
	req := plan.Request{Batch: batch, Variants: variants, Exports: n}
	for _, v := range vs {
		var sw, sh int
		if v.src.Video != nil {
			sw, sh = v.src.Video.Width, v.src.Video.Height
		}
		for i := range v.bases {
			w, h := v.bases[i].Size(sw, sh)
			req.Outputs = append(req.Outputs, plan.Size{Width: w, Height: h})
		}
	}
	u, err := s.store.WorkspaceUsage(ctx, workspaceID)
	if err != nil {
		return err
	}
	return p.Check(req, u)
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

// resolveKit finds the workspace's brand kit by id or slug; nil for "".
func (s *Exports) resolveKit(ctx context.Context, workspaceID, ref string) (*outpost.KitSnapshot, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return nil, nil
	}
	k, err := s.store.FindBrandKit(ctx, workspaceID, ref)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errcode.New(errcode.NotFound, "brand kit %q not found", ref)
	}
	if err != nil {
		return nil, err
	}
	return &outpost.KitSnapshot{ID: k.ID, Slug: k.Slug, Name: k.Name, WatermarkKey: k.WatermarkKey, WatermarkFormat: k.WatermarkFormat,
		Position: k.Position, Margin: k.Margin, Width: k.Width, Opacity: k.Opacity,
		IntroProjectID: k.IntroProjectID, OutroProjectID: k.OutroProjectID}, nil
}

// clipRef is an intro or outro project as accepted.
type clipRef struct {
	id       string
	duration float64
}

// introOutro picks the export's intro and outro: the request's (the word
// "none" for none), else the targets' brand kits', which must agree, since
// one render joins one pair to every target.
func (s *Exports) introOutro(ctx context.Context, workspaceID string, req outpost.ExportRequest, ts []outpost.ResolvedTarget) (clipRef, clipRef, error) {
	pick := func(explicit, what string, fromKit func(*outpost.KitSnapshot) string) (clipRef, error) {
		id := strings.TrimSpace(explicit)
		if id == "" {
			seen := false
			for i, t := range ts {
				var k string
				if t.Kit != nil {
					k = fromKit(t.Kit)
				}
				if seen && k != id {
					return clipRef{}, errcode.New(errcode.InvalidOption,
						"targets[%d]: its brand kit has another %s than the other targets': one export has one %s (use variants, or %s_project_id)", i, what, what, what)
				}
				id, seen = k, true
			}
		}
		if id == "" || strings.EqualFold(id, "none") {
			return clipRef{}, nil
		}
		_, info, err := s.files.ClipProject(ctx, workspaceID, id, what)
		if err != nil {
			return clipRef{}, err
		}
		return clipRef{id: id, duration: info.Duration}, nil
	}
	intro, err := pick(req.IntroProjectID, "intro", func(k *outpost.KitSnapshot) string { return k.IntroProjectID })
	if err != nil {
		return intro, clipRef{}, err
	}
	outro, err := pick(req.OutroProjectID, "outro", func(k *outpost.KitSnapshot) string { return k.OutroProjectID })
	return intro, outro, err
}

// CreateVariants makes one export per variant of req, grouped by a new
// group id: every variant is validated before any is created, so a bad
// variant creates nothing. With an idempotency key, each variant's export
// uses the key plus its name.
func (s *Exports) CreateVariants(ctx context.Context, workspaceID string, req outpost.ExportRequest, variants []outpost.Variant) (outpost.ExportGroup, error) {
	if len(variants) == 0 || len(variants) > outpost.MaxVariants {
		return outpost.ExportGroup{}, errcode.New(errcode.InvalidOption, "variants: give 1 to %d, got %d", outpost.MaxVariants, len(variants))
	}
	names := map[string]bool{}
	reqs := make([]outpost.ExportRequest, len(variants))
	var checked []validated
	for i, v := range variants {
		name := strings.TrimSpace(v.Name)
		if name == "" || len(name) > 100 || names[name] {
			return outpost.ExportGroup{}, errcode.New(errcode.InvalidOption, "variants[%d]: give each variant a distinct name (at most 100 characters)", i)
		}
		names[name] = true
		r := req
		if v.BrandKit != "" {
			r.BrandKit = v.BrandKit
		}
		if v.IntroProjectID != "" {
			r.IntroProjectID = v.IntroProjectID
		}
		if v.OutroProjectID != "" {
			r.OutroProjectID = v.OutroProjectID
		}
		if len(v.Targets) > 0 {
			r.Targets = v.Targets
		}
		if v.Captions != nil {
			c := *v.Captions
			if c.Mode == "" && req.Captions != nil {
				c.Mode = req.Captions.Mode // other words, same placement
			}
			r.Captions = &c
			if strings.TrimSpace(c.Text) == "" && strings.EqualFold(strings.TrimSpace(c.Mode), outpost.CaptionsNone) {
				r.Captions = nil
			}
		}
		if r.IdempotencyKey != "" {
			r.IdempotencyKey += "/" + name
		}
		r.Variant = name
		v, err := s.validate(ctx, workspaceID, r, true)
		if err != nil {
			return outpost.ExportGroup{}, prefixError(err, fmt.Sprintf("variants[%d] (%s)", i, name))
		}
		checked = append(checked, v)
		reqs[i] = r
	}
	if err := s.checkPlan(ctx, workspaceID, req.Batch, true, len(reqs), checked...); err != nil {
		return outpost.ExportGroup{}, err
	}
	group := store.NewID(store.PrefixGroup)
	out := outpost.ExportGroup{}
	for i := range reqs {
		reqs[i].GroupID = group
		a, err := s.create(ctx, workspaceID, reqs[i])
		if err != nil {
			return outpost.ExportGroup{}, prefixError(err, fmt.Sprintf("variants[%d]", i))
		}
		if a.export.GroupID != "" {
			group = a.export.GroupID // an idempotent replay returns the first group
		}
		d, err := s.acceptedDetail(ctx, a)
		if err != nil {
			return outpost.ExportGroup{}, err
		}
		out.Exports = append(out.Exports, d)
	}
	out.GroupID = group
	return out, nil
}

// CreateBatch creates one export per request, each validated and
// accepted or refused on its own; the accepted ones share a new group.
func (s *Exports) CreateBatch(ctx context.Context, workspaceID string, reqs []outpost.ExportRequest) (string, []outpost.BatchItem) {
	out := make([]outpost.BatchItem, len(reqs))
	if len(reqs) == 0 || len(reqs) > outpost.MaxBatch {
		err := errcode.New(errcode.InvalidOption, "exports: give 1 to %d export requests, got %d", outpost.MaxBatch, len(reqs))
		for i := range out {
			out[i].Err = err
		}
		return "", out
	}
	group, accepted := store.NewID(store.PrefixGroup), 0
	for i, req := range reqs {
		req.GroupID, req.Batch = group, true
		a, err := s.create(ctx, workspaceID, req)
		if err == nil {
			var d outpost.ExportDetail
			if d, err = s.acceptedDetail(ctx, a); err == nil {
				out[i].Export = &d
				accepted++
				if a.export.GroupID != "" {
					group = a.export.GroupID // an idempotent replay returns the first group
				}
				continue
			}
		}
		out[i].Err = err
	}
	if accepted == 0 {
		group = ""
	}
	return group, out
}

// Cancel cancels a queued or running export: its job is canceled (a
// running ffmpeg gets SIGINT), its unfinished renditions are marked
// canceled and watchers get "done". Files of this run already stored are
// deleted by the worker as it stops. An export that already finished gives
// errcode.Conflict.
func (s *Exports) Cancel(ctx context.Context, workspaceID, id string) (outpost.ExportDetail, error) {
	e, err := exportIn(ctx, s.store, workspaceID, id)
	if err != nil {
		return outpost.ExportDetail{}, err
	}
	conflict := func(st store.ExportStatus) error {
		return errcode.New(errcode.Conflict, "export %s already %s: only queued or running exports can be canceled", e.ID, st)
	}
	if e.Status.Final() {
		return outpost.ExportDetail{}, conflict(e.Status)
	}
	return s.transition(ctx, e, "canceled", conflict, func(tx *sql.Tx) (store.Export, error) {
		q := s.store.Using(tx)
		out, err := q.UpdateExportStatus(ctx, e.ID, store.StatusChange{
			Status: store.ExportCanceled, ErrorCode: errcode.Canceled, ErrorMessage: "canceled by request"})
		if err != nil {
			return out, err
		}
		if _, err := q.CancelRenditions(ctx, e.ID); err != nil {
			return out, err
		}
		jobID, err := q.ExportJobID(ctx, e.ID)
		if err != nil {
			return out, err
		}
		if err := s.queue.CancelJob(ctx, tx, jobID); err != nil {
			return out, err
		}
		// A segmented render's parts, and their stored files.
		if err := s.queue.DropSegmentsTx(ctx, tx, e.ID, 0); err != nil {
			return out, err
		}
		if err := s.queue.CancelPublications(ctx, tx, e.ID); err != nil {
			return out, err
		}
		if err := s.queue.EmitTx(ctx, tx, store.Event{WorkspaceID: out.WorkspaceID, Type: outpost.EventExportCanceled, SubjectID: e.ID},
			jobs.ExportData(out, 0)); err != nil {
			return out, err
		}
		if err := q.LockExport(ctx, e.ID); err != nil {
			return out, err
		}
		return out, s.queue.MaybeDone(ctx, tx, e.ID)
	})
}

// transition changes export e in one transaction (change) and wakes its
// watchers; the export found in another status meanwhile (the store's
// ErrConflict) gives conflict of that status.
func (s *Exports) transition(ctx context.Context, e store.Export, what string, conflict func(store.ExportStatus) error,
	change func(tx *sql.Tx) (store.Export, error),
) (outpost.ExportDetail, error) {
	var out store.Export
	err := s.store.WithTx(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = change(tx)
		return err
	})
	if errors.Is(err, store.ErrConflict) {
		cur, gerr := s.store.GetExport(ctx, e.ID)
		if gerr != nil {
			return outpost.ExportDetail{}, gerr
		}
		return outpost.ExportDetail{}, conflict(cur.Status)
	}
	if err != nil {
		return outpost.ExportDetail{}, fmt.Errorf("export %s %s: %w", e.ID, what, err)
	}
	s.queue.Notify(e.ID)
	s.logger.InfoContext(ctx, "export "+what, "export_id", e.ID)
	out.ProjectName = e.ProjectName
	return s.views.detail(ctx, s.store, out)
}

// retryFrom are the statuses an export can be retried from.
var retryFrom = []store.ExportStatus{store.ExportFailed, store.ExportPartiallyFailed, store.ExportCanceled}

// Retry queues a failed, partially failed or canceled export again: only
// its renditions without a stored file are rendered; those that succeeded
// are kept. Its old events are replaced by the new run's (with higher
// Seq). Any other status gives errcode.Conflict.
func (s *Exports) Retry(ctx context.Context, workspaceID, id string) (outpost.ExportDetail, error) {
	e, err := exportIn(ctx, s.store, workspaceID, id)
	if err != nil {
		return outpost.ExportDetail{}, err
	}
	conflict := func(st store.ExportStatus) error {
		return errcode.New(errcode.Conflict, "export %s is %s: only failed, partially failed or canceled exports can be retried", e.ID, st)
	}
	if !slices.Contains(retryFrom, e.Status) {
		return outpost.ExportDetail{}, conflict(e.Status)
	}
	return s.transition(ctx, e, "retried", conflict, func(tx *sql.Tx) (store.Export, error) {
		q := s.store.Using(tx)
		out, err := q.RequeueExport(ctx, e.ID, retryFrom...)
		if err != nil {
			return out, err
		}
		if _, err := q.ResetRenditions(ctx, e.ID, store.RenditionFailed, store.RenditionCanceled,
			store.RenditionPending, store.RenditionRunning); err != nil {
			return out, err
		}
		if _, err := q.DeleteExportEvents(ctx, e.ID); err != nil {
			return out, err
		}
		if err := s.queue.PublishTx(ctx, tx, e.ID, events.TypeProgress, events.Progress{Stage: jobs.StageQueued}); err != nil {
			return out, err
		}
		return out, s.queue.InsertRender(ctx, tx, e.ID, e.Priority)
	})
}

// Rerender makes a new export with the settings of an old one, for files
// past their retention.
func (s *Exports) Rerender(ctx context.Context, workspaceID, id string) (outpost.ExportDetail, error) {
	old, err := exportIn(ctx, s.store, workspaceID, id)
	if err != nil {
		return outpost.ExportDetail{}, err
	}
	var spec outpost.ExportSpec
	if err := json.Unmarshal(old.Request, &spec); err != nil || len(spec.Targets) == 0 {
		return outpost.ExportDetail{}, errcode.New(errcode.Conflict, "the settings of export %s cannot be read: start a new export from the project", old.ID)
	}
	targets := make([]outpost.TargetRequest, len(spec.Targets))
	for i, t := range spec.Targets {
		targets[i] = t.TargetRequest
	}
	return s.Create(ctx, workspaceID, outpost.ExportRequest{
		ProjectID: old.ProjectID, Targets: targets, Priority: spec.Priority,
		Labels: outpost.Labels{Client: old.Client, Campaign: old.Campaign},
	})
}

// List returns a page of the workspace's exports, newest first.
func (s *Exports) List(ctx context.Context, workspaceID string, q outpost.ExportQuery) (outpost.ExportPage, error) {
	f := store.ExportFilter{
		WorkspaceID: workspaceID, ProjectID: q.ProjectID, GroupID: q.GroupID, Statuses: q.Statuses,
		Client: q.Client, Campaign: q.Campaign, Q: q.Q, PresetIDs: q.Presets,
		CreatedFrom: q.CreatedFrom, CreatedTo: q.CreatedTo, Limit: q.Limit, Cursor: q.Cursor,
	}
	for _, st := range q.Statuses {
		if !st.Valid() {
			return outpost.ExportPage{}, errcode.New(errcode.InvalidOption, "status %q: want one of queued, running, succeeded, partially_failed, failed, canceled", st)
		}
	}
	if q.Platform != "" {
		ids, err := s.platformPresets(ctx, workspaceID, q.Platform)
		if err != nil {
			return outpost.ExportPage{}, err
		}
		f.PresetIDs, f.PublishedTo = append(f.PresetIDs, ids...), q.Platform
	}
	pg, err := s.store.ListExports(ctx, f)
	if err != nil {
		return outpost.ExportPage{}, coded(err, "export", "")
	}
	ids := make([]string, len(pg.Exports))
	for i, e := range pg.Exports {
		ids[i] = e.ID
	}
	nodes, err := s.store.ListStepNodes(ctx, ids)
	if err != nil {
		return outpost.ExportPage{}, err
	}
	out := outpost.ExportPage{NextCursor: pg.NextCursor, Exports: make([]outpost.Export, len(pg.Exports))}
	for i, e := range pg.Exports {
		out.Exports[i] = exportView(e, nodes[e.ID])
	}
	return out, nil
}

// platformPresets returns the ids of the built-ins of a platform and of the
// workspace's presets based on them.
func (s *Exports) platformPresets(ctx context.Context, workspaceID, platform string) ([]string, error) {
	var ids []string
	base := map[string]bool{}
	for _, p := range preset.Builtins() {
		if p.Platform == platform {
			ids = append(ids, p.ID)
			base[p.ID] = true
		}
	}
	if len(ids) == 0 {
		return nil, errcode.New(errcode.InvalidOption, "unknown platform %q", platform)
	}
	user, err := s.store.ListPresets(ctx, workspaceID)
	if err != nil {
		return nil, err
	}
	for _, up := range user {
		if base[up.BasePresetID] {
			ids = append(ids, up.ID)
		}
	}
	return ids, nil
}

// Get returns one of the workspace's exports with its renditions and
// publications.
func (s *Exports) Get(ctx context.Context, workspaceID, id string) (outpost.ExportDetail, error) {
	e, err := exportIn(ctx, s.store, workspaceID, id)
	if err != nil {
		return outpost.ExportDetail{}, err
	}
	return s.views.detail(ctx, s.store, e)
}

// Events subscribes to the export's live events after afterSeq.
func (s *Exports) Events(ctx context.Context, workspaceID, id string, afterSeq int64) (<-chan events.Event, error) {
	if _, err := exportIn(ctx, s.store, workspaceID, id); err != nil {
		return nil, err
	}
	return s.events.Subscribe(ctx, id, afterSeq)
}

// rendition returns one of the workspace's renditions and its export.
func (s *Exports) rendition(ctx context.Context, workspaceID, id string) (store.Rendition, store.Export, error) {
	rd, err := s.store.GetRendition(ctx, id)
	if err != nil {
		return rd, store.Export{}, coded(err, "rendition", id)
	}
	e, err := exportIn(ctx, s.store, workspaceID, rd.ExportID)
	if errcode.Of(err) == errcode.NotFound {
		err = errcode.New(errcode.NotFound, "rendition %s not found", id)
	}
	return rd, e, err
}

// Rendition returns one of the workspace's renditions with fresh links.
func (s *Exports) Rendition(ctx context.Context, workspaceID, id string) (outpost.Rendition, error) {
	rd, e, err := s.rendition(ctx, workspaceID, id)
	if err != nil {
		return outpost.Rendition{}, err
	}
	return s.views.rendition(ctx, rd, e.ProjectName, s.views.node(ctx, rd.ExportID, rd.ID, "")), nil
}

// KeepRendition keeps a rendition's file past retention (no expiry), or
// lets it go again, a full retention from now. Keeping twice is harmless; a file already deleted cannot be
// kept.
func (s *Exports) KeepRendition(ctx context.Context, workspaceID, id string, keep bool) (outpost.Rendition, error) {
	rd, e, err := s.rendition(ctx, workspaceID, id)
	if err != nil {
		return outpost.Rendition{}, err
	}
	if rd.DeletedAt != nil {
		return outpost.Rendition{}, errcode.New(errcode.Conflict, "rendition %s was deleted after its retention: export again to get the file back", rd.ID)
	}
	if rd.Status == store.RenditionFailed || rd.Status == store.RenditionCanceled {
		return outpost.Rendition{}, errcode.New(errcode.Conflict, "rendition %s is %s: there is no file to keep", rd.ID, rd.Status)
	}
	switch {
	case keep && (!rd.Saved || rd.ExpiresAt != nil):
		if err := s.store.SaveRendition(ctx, rd.ID); err != nil {
			return outpost.Rendition{}, err
		}
		rd.Saved, rd.ExpiresAt = true, nil
	case !keep && rd.Saved:
		// Kept, it had no expiry: it gets a full retention from now.
		exp := s.now().Add(s.retention)
		if err := s.store.UnsaveRendition(ctx, rd.ID, exp); err != nil {
			return outpost.Rendition{}, err
		}
		rd.Saved, rd.ExpiresAt = false, &exp
	}
	return s.views.rendition(ctx, rd, e.ProjectName, s.views.node(ctx, rd.ExportID, rd.ID, "")), nil
}

// maxThumbnailBytes caps an uploaded thumbnail image.
const maxThumbnailBytes = 20 << 20

// SetThumbnail replaces a rendition's thumbnail with an uploaded image,
// sized to the platform rules: the video's aspect, long side 1280 (YouTube
// 1280×720), JPEG of at most 2 MiB.
func (s *Exports) SetThumbnail(ctx context.Context, workspaceID, id string, image io.Reader) (outpost.Rendition, error) {
	rd, e, err := s.rendition(ctx, workspaceID, id)
	if err != nil {
		return outpost.Rendition{}, err
	}
	if rd.Status != store.RenditionSucceeded || rd.Width <= 0 || rd.Height <= 0 {
		return outpost.Rendition{}, errcode.New(errcode.Conflict, "rendition %s is %s: a thumbnail goes with a finished video", rd.ID, rd.Status)
	}
	data, err := io.ReadAll(io.LimitReader(image, maxThumbnailBytes+1))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return outpost.Rendition{}, errcode.New(errcode.PayloadTooLarge, "the upload is larger than the limit of %d bytes", tooLarge.Limit)
	}
	if err != nil {
		return outpost.Rendition{}, errcode.Wrap(errcode.InvalidOption, err, "the image was cut short")
	}
	if len(data) > maxThumbnailBytes {
		return outpost.Rendition{}, errcode.New(errcode.PayloadTooLarge, "the thumbnail is larger than %d MiB", maxThumbnailBytes>>20)
	}
	tw, th := render.ThumbnailSize(rd.Width, rd.Height)
	jpg, err := engine.ThumbnailFromImage(bytes.NewReader(data), tw, th)
	if err != nil {
		return outpost.Rendition{}, err
	}
	// Named for the rendition, not its file: renditions that one encode
	// served share their file, each has its own thumbnail.
	key, err := blob.RenditionKey(rd.ExportID, rd.ID+".thumbnail.jpg")
	if err != nil {
		return outpost.Rendition{}, err
	}
	if _, err := s.blob.Put(ctx, key, bytes.NewReader(jpg), "image/jpeg"); err != nil {
		return outpost.Rendition{}, err
	}
	rd.ThumbnailKey = key
	if rd, err = s.store.UpdateRendition(ctx, rd); err != nil {
		return outpost.Rendition{}, err
	}
	return s.views.rendition(ctx, rd, e.ProjectName, s.views.node(ctx, rd.ExportID, rd.ID, "")), nil
}

// MostUsedPresets returns the workspace's preset ids by how often its
// recent exports used them, most first.
func (s *Exports) MostUsedPresets(ctx context.Context, workspaceID string) ([]string, error) {
	pg, err := s.store.ListExports(ctx, store.ExportFilter{WorkspaceID: workspaceID, Limit: 200})
	if err != nil {
		return nil, err
	}
	count := map[string]int{}
	for _, e := range pg.Exports {
		for _, id := range e.PresetIDs {
			count[id]++
		}
	}
	ids := make([]string, 0, len(count))
	for id := range count {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool {
		if count[ids[i]] != count[ids[j]] {
			return count[ids[i]] > count[ids[j]]
		}
		return ids[i] < ids[j]
	})
	return ids, nil
}
