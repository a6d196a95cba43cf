package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"outpost/internal/blob"
	"outpost/internal/caption"
	"outpost/internal/engine"
	"outpost/internal/errcode"
	"outpost/internal/preset"
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
	// Captions replace the request's captions (its mode is kept unless
	// this one has a mode); {"mode": "none"} (no text) removes them.
	Captions *Captions `json:"captions,omitempty"`
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
		if v.Captions != nil {
			c := *v.Captions
			if c.Mode == "" && req.Captions != nil {
				c.Mode = req.Captions.Mode // other words, same placement
			}
			r.Captions = &c
			if strings.TrimSpace(c.Text) == "" && strings.EqualFold(strings.TrimSpace(c.Mode), CaptionsNone) {
				r.Captions = nil
			}
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

// Captions are an export's captions, sent inline with the request.
type Captions struct {
	// Text is the caption file: SRT or WebVTT (with its WEBVTT header), at
	// most MaxCaptionsBytes.
	Text string `json:"text"`
	// Language is the captions' language as a BCP 47 tag ("en", "pt-BR");
	// kept with the export for publishing.
	Language string `json:"language,omitempty"`
	// Mode is how targets carry them unless a target's captions_mode (or
	// its user preset's) says otherwise: auto, burn, soft, sidecar or none.
	Mode string `json:"mode,omitempty"`
}

// MaxCaptionsBytes bounds inline caption text: hours of dialogue fit.
const MaxCaptionsBytes = 512 << 10

// Caption modes: how one target carries an export's captions.
const (
	// CaptionsAuto is the CLI's default: a soft track where the container
	// has one (MP4/MOV mov_text, WebM WebVTT), plus a sidecar file for
	// platforms that take caption uploads (YouTube, LinkedIn, Facebook feed).
	CaptionsAuto = "auto"
	// CaptionsBurn renders them into the picture, inside the platform's
	// safe area (no track or sidecar then).
	CaptionsBurn = "burn"
	// CaptionsSoft adds a soft subtitle track only.
	CaptionsSoft = "soft"
	// CaptionsSidecar writes a caption file next to the video only (SRT,
	// or the platform's upload format).
	CaptionsSidecar = "sidecar"
	// CaptionsNone leaves this target without captions.
	CaptionsNone = "none"
)

// CheckCaptionsMode validates a caption mode ("" is allowed: unset).
func CheckCaptionsMode(mode string) error {
	switch mode {
	case "", CaptionsAuto, CaptionsBurn, CaptionsSoft, CaptionsSidecar, CaptionsNone:
		return nil
	}
	return errcode.New(errcode.InvalidOption, "captions mode %q: use auto, burn, soft, sidecar or none", mode)
}

// renderCaptions is how a target of preset p carries captions in mode.
func renderCaptions(p preset.Preset, mode string) render.Captions {
	switch mode {
	case CaptionsBurn:
		return render.Captions{Burn: true}
	case CaptionsSoft:
		return render.Captions{Track: true}
	case CaptionsSidecar:
		return render.Captions{Sidecar: true}
	case CaptionsAuto:
		return render.CaptionsFor(p, false)
	}
	return render.Captions{}
}

// Loudness is a loudness normalisation setting: "platform" (each
// platform's level: YouTube, Instagram, TikTok −14 LUFS), a target level
// in LUFS from -70 to -5, or "off" (the source's loudness is kept, the
// default). In JSON it is a string or a number.
type Loudness string

// Loudness settings besides a level.
const (
	LoudnessOff      Loudness = "off"
	LoudnessPlatform Loudness = "platform"
)

// UnmarshalJSON takes a string ("platform", "off", "-14") or a number (-14).
func (l *Loudness) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*l = Loudness(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("loudness: want \"platform\", \"off\" or a level in LUFS such as -14")
	}
	*l = Loudness(n.String())
	return nil
}

// Normalize returns the setting in its stored form ("off", "platform", or
// the level as a plain number), or errcode.InvalidOption. "" stays "".
func (l Loudness) Normalize() (Loudness, error) {
	s := strings.ToLower(strings.TrimSpace(string(l)))
	switch s {
	case "":
		return "", nil
	case "off", "none":
		return LoudnessOff, nil
	case "platform":
		return LoudnessPlatform, nil
	}
	v, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(strings.TrimSuffix(s, "lufs")), " "), 64)
	if err != nil || math.IsNaN(v) || v < -70 || v > -5 {
		return "", errcode.New(errcode.InvalidOption, "loudness %q: give a level in LUFS between -70 and -5 (e.g. -14), platform, or off", string(l))
	}
	return Loudness(strconv.FormatFloat(v, 'f', -1, 64)), nil
}

// DefaultTruePeak is the true-peak ceiling of a loudness level, in dBTP.
const DefaultTruePeak = -1.0

// applyLoudness sets t's loudness fields from a normalised setting.
func applyLoudness(t *render.Target, l Loudness, truePeak float64) {
	switch l {
	case "", LoudnessOff:
		t.LoudnessOff = true
	case LoudnessPlatform:
		t.PlatformLoudness = true
	default:
		v, err := strconv.ParseFloat(string(l), 64)
		if err != nil {
			t.LoudnessOff = true
			return
		}
		t.Loudness = &preset.Loudness{LUFS: v, TruePeak: truePeak}
	}
}

// storedCaptions are the export's captions as accepted.
type storedCaptions struct {
	Text     string         `json:"text"`
	Format   caption.Format `json:"format"`
	Language string         `json:"language,omitempty"`
	Cues     int            `json:"cues"`
}

// checkCaptions validates inline captions with the caption parser: a
// malformed file is caption_invalid naming the line.
func checkCaptions(c *Captions) (*storedCaptions, error) {
	if strings.TrimSpace(c.Text) == "" {
		return nil, errcode.New(errcode.InvalidOption, "captions.text: give the SRT or WebVTT file's text")
	}
	if len(c.Text) > MaxCaptionsBytes {
		return nil, errcode.New(errcode.CaptionInvalid, "captions.text: %d bytes; at most %d KiB", len(c.Text), MaxCaptionsBytes>>10)
	}
	lang := strings.TrimSpace(c.Language)
	if len(lang) > 35 || strings.ContainsFunc(lang, func(r rune) bool {
		return !(r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	}) {
		return nil, errcode.New(errcode.InvalidOption, "captions.language %q: give a BCP 47 tag such as en or pt-BR", c.Language)
	}
	data := []byte(c.Text)
	cues, err := caption.Parse(data)
	if err != nil {
		return nil, prefixError(err, "captions")
	}
	return &storedCaptions{Text: c.Text, Format: caption.Detect(data), Language: lang, Cues: len(cues)}, nil
}

// finishing validates the request's captions, loudness and thumbnail time
// and resolves each target's caption mode and loudness: a target's own,
// else its user preset's (already in ts), else the export's.
func finishing(req ExportRequest, out *storedRequest, ts []resolvedTarget, duration float64) error {
	exportMode := ""
	if req.Captions != nil {
		c, err := checkCaptions(req.Captions)
		if err != nil {
			return err
		}
		out.Captions = c
		exportMode = strings.ToLower(strings.TrimSpace(req.Captions.Mode))
		if err := CheckCaptionsMode(exportMode); err != nil {
			return prefixError(err, "captions.mode")
		}
		if exportMode == "" {
			exportMode = CaptionsAuto
		}
	}
	loud, err := req.Loudness.Normalize()
	if err != nil {
		return err
	}
	out.TruePeak = DefaultTruePeak
	if req.TruePeak != nil {
		if *req.TruePeak < -9 || *req.TruePeak > 0 {
			return errcode.New(errcode.InvalidOption, "true_peak %g: give a ceiling in dBTP between -9 and 0", *req.TruePeak)
		}
		out.TruePeak = *req.TruePeak
	}
	for i := range ts {
		t := &ts[i]
		mode := strings.ToLower(strings.TrimSpace(t.CaptionsMode))
		if err := CheckCaptionsMode(mode); err != nil {
			return prefixError(err, fmt.Sprintf("targets[%d]", i))
		}
		switch {
		case out.Captions == nil:
			if m := strings.ToLower(strings.TrimSpace(req.Targets[i].CaptionsMode)); m != "" && m != CaptionsNone {
				return errcode.New(errcode.InvalidOption, "targets[%d].captions_mode: the export has no captions: add captions.text", i)
			}
			mode = ""
		case mode == "":
			mode = exportMode
		}
		if mode == CaptionsNone {
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
			l = LoudnessOff
		}
		t.Loudness = l
	}
	if req.ThumbnailAt != nil {
		at := *req.ThumbnailAt
		if math.IsNaN(at) || at < 0 || (duration > 0 && at >= duration) {
			return errcode.New(errcode.InvalidOption, "thumbnail_at %g: give a time in seconds from 0 to under the video's %.2f s", at, duration)
		}
		out.ThumbnailAt = &at
	}
	return nil
}
