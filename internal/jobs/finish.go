package jobs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"outpost/internal/blob"
	"outpost/internal/engine"
	"outpost/internal/errcode"
	"outpost/internal/render"
	"outpost/internal/store"
)

// preparedRequest is a validated request with the local files its render
// needs.
type preparedRequest struct {
	stored storedRequest
	req    engine.Request
	dir    string
}

// prepareLocal validates req as CreateExport does and gathers its files in
// a new folder under the work dir, which the caller removes.
func (s *Service) prepareLocal(ctx context.Context, workspaceID string, req ExportRequest, kind string) (*preparedRequest, error) {
	if s.engine == nil || s.workDir == "" {
		return nil, errcode.New(errcode.Internal, "this server renders nothing (no engine): estimates and previews need a worker node")
	}
	stored, _, err := s.validate(ctx, workspaceID, req)
	if err != nil {
		return nil, err
	}
	prj, err := s.store.GetProject(ctx, stored.ProjectID)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(s.workDir, 0o750); err != nil {
		return nil, fmt.Errorf("create work dir: %w", err)
	}
	dir, err := os.MkdirTemp(s.workDir, kind+"-")
	if err != nil {
		return nil, fmt.Errorf("create work dir: %w", err)
	}
	p := &preparedRequest{stored: stored, dir: dir}
	targets := make([]render.Target, len(stored.Targets))
	idx := make([]int, len(stored.Targets))
	for i := range stored.Targets {
		if targets[i], err = renderTarget(stored, i); err != nil {
			_ = os.RemoveAll(dir)
			return nil, err
		}
		idx[i] = i
	}
	if p.req, err = s.engineRequest(ctx, workspaceID, prj, stored, idx, targets, dir); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	return p, nil
}

// EstimateExport predicts each target's file size for req without
// exporting it (engine.EstimateRequest: one short sample encode of every
// target at its settings, brand watermark and intro/outro included).
func (s *Service) EstimateExport(ctx context.Context, workspaceID string, req ExportRequest) ([]engine.SizeEstimate, error) {
	p, err := s.prepareLocal(ctx, workspaceID, req, "estimate")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(p.dir)
	est, err := s.engine.EstimateRequest(ctx, p.req)
	if err != nil {
		return nil, err
	}
	for i := range est {
		est[i].Preset = p.stored.Targets[i].Preset
	}
	return est, nil
}

// Preview is a rendered preview of one target.
type Preview struct {
	Preset    string  `json:"preset"`
	BlobKey   string  `json:"-"`
	SizeBytes int64   `json:"size_bytes"`
	Duration  float64 `json:"duration_seconds"`
	Width     int     `json:"width"`
	Height    int     `json:"height"`
}

// PreviewSeconds is how much of the start a preview shows by default.
const PreviewSeconds = 10

// PreviewExport renders a fast, low-resolution preview of req's first
// target (render.PreviewTarget: same framing and watermark, H.264 at long
// side 640, at most 15 fps, x264 ultrafast) of the first seconds (0: all),
// and stores it under previews/. It runs while the caller waits.
func (s *Service) PreviewExport(ctx context.Context, workspaceID string, req ExportRequest, seconds float64) (Preview, error) {
	if len(req.Targets) != 1 {
		return Preview{}, errcode.New(errcode.InvalidOption, "targets: a preview is of one target, got %d", len(req.Targets))
	}
	if seconds < 0 || seconds > 600 {
		return Preview{}, errcode.New(errcode.InvalidOption, "seconds %g: give 0 (all) to 600", seconds)
	}
	p, err := s.prepareLocal(ctx, workspaceID, req, "preview")
	if err != nil {
		return Preview{}, err
	}
	defer os.RemoveAll(p.dir)
	p.req.Preview = &engine.Preview{Seconds: seconds}
	for i := range p.req.Targets {
		p.req.Targets[i].Path = ""
		p.req.Targets[i].Thumbnail = false
	}
	results, err := s.engine.Export(ctx, p.req, nil)
	if err != nil {
		return Preview{}, err
	}
	r := results[0]
	if r.Error != nil {
		return Preview{}, &errcode.Error{Code: r.Error.Code, Message: r.Error.Message, Remedy: r.Error.Remedy}
	}
	key, err := blob.Key("previews", store.NewID("prv"), p.stored.Targets[0].Base+".preview.mp4")
	if err != nil {
		return Preview{}, err
	}
	if _, err := s.blob.PutFile(ctx, key, r.Path, "video/mp4"); err != nil {
		return Preview{}, fmt.Errorf("store preview: %w", err)
	}
	// Gone once its link has expired.
	if _, err := s.client.Insert(ctx, DeletePreviewArgs{Key: key}, &river.InsertOpts{ScheduledAt: time.Now().Add(PreviewTTL)}); err != nil {
		_ = s.blob.Delete(context.WithoutCancel(ctx), key)
		return Preview{}, fmt.Errorf("schedule the preview's deletion: %w", err)
	}
	return Preview{Preset: p.stored.Targets[0].Preset, BlobKey: key, SizeBytes: r.SizeBytes, Duration: r.Duration,
		Width: r.Width, Height: r.Height}, nil
}

// PreviewTTL is how long a preview's file is kept: the life of its link.
const PreviewTTL = time.Hour

// KindDeletePreview is the job that deletes a preview's file.
const KindDeletePreview = "preview.delete"

// DeletePreviewArgs are the arguments of the job that deletes a preview.
type DeletePreviewArgs struct {
	Key string `json:"key"`
}

// Kind implements river.JobArgs.
func (DeletePreviewArgs) Kind() string { return KindDeletePreview }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (DeletePreviewArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueDefault, MaxAttempts: 5}
}

type deletePreviewWorker struct {
	river.WorkerDefaults[DeletePreviewArgs]
	s *Service
}

func (w *deletePreviewWorker) Work(ctx context.Context, job *river.Job[DeletePreviewArgs]) error {
	if !strings.HasPrefix(job.Args.Key, "previews/") {
		return river.JobCancel(fmt.Errorf("delete preview: %q is not a preview key", job.Args.Key))
	}
	err := w.s.blob.Delete(ctx, job.Args.Key)
	if errors.Is(err, blob.ErrNotFound) {
		return nil
	}
	return err
}

// Variant is one version of an A/B export: overrides of the request.
type Variant struct {
	Name string `json:"name"`
	// BrandKit replaces the request's brand kit ("none" for none).
	BrandKit string `json:"brand_kit,omitempty"`
	// IntroProjectID and OutroProjectID replace the kit's ("none" for
	// none).
	IntroProjectID string `json:"intro_project_id,omitempty"`
	OutroProjectID string `json:"outro_project_id,omitempty"`
	// Targets replace the request's targets; empty keeps them.
	Targets []TargetRequest `json:"targets,omitempty"`
}

// MaxVariants bounds the variants of one request.
const MaxVariants = 10

// CreateVariants makes one export per variant of req, grouped by a new
// group id: every variant is validated before any is created, so a bad
// variant creates nothing. With an idempotency key, each variant's export
// uses the key plus its name.
func (s *Service) CreateVariants(ctx context.Context, workspaceID string, req ExportRequest, variants []Variant) (string, []store.Export, error) {
	if len(variants) == 0 || len(variants) > MaxVariants {
		return "", nil, errcode.New(errcode.InvalidOption, "variants: give 1 to %d, got %d", MaxVariants, len(variants))
	}
	names := map[string]bool{}
	reqs := make([]ExportRequest, len(variants))
	for i, v := range variants {
		name := strings.TrimSpace(v.Name)
		if name == "" || len(name) > 100 || names[name] {
			return "", nil, errcode.New(errcode.InvalidOption, "variants[%d]: give each variant a distinct name (at most 100 characters)", i)
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
		if r.IdempotencyKey != "" {
			r.IdempotencyKey += "/" + name
		}
		if _, _, err := s.validate(ctx, workspaceID, r); err != nil {
			return "", nil, prefixError(err, fmt.Sprintf("variants[%d] (%s)", i, name))
		}
		reqs[i] = r
	}
	group := store.NewID(store.PrefixGroup)
	var out []store.Export
	for i := range reqs {
		reqs[i].GroupID = group
		e, err := s.CreateExport(ctx, workspaceID, reqs[i])
		if err != nil {
			return group, out, prefixError(err, fmt.Sprintf("variants[%d]", i))
		}
		if e.GroupID != "" {
			group = e.GroupID // an idempotent replay returns the first group
		}
		out = append(out, e)
	}
	return group, out, nil
}
