package outpost

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"outpost/internal/caption"
	"outpost/internal/engine"
	"outpost/internal/errcode"
	"outpost/internal/events"
)

// TargetRequest is one requested deliverable of an export.
type TargetRequest struct {
	Preset    string  `json:"preset"`            // built-in id ("tiktok") or a user preset id
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
	Labels    Labels          `json:"labels,omitzero"`
	// Destinations are posts of the renditions to connected accounts, made
	// once each file is stored.
	Destinations []Destination `json:"destinations,omitempty"`
	// BrandKit is a brand kit id or slug applied to every target (a
	// target's own brand_kit wins; a user preset's comes last): its
	// watermark on the picture, its intro and outro around the video.
	BrandKit string `json:"brand_kit,omitempty"`
	// IntroProjectID and OutroProjectID replace the brand kit's intro and
	// outro ("none" removes them).
	IntroProjectID string `json:"intro_project_id,omitempty"`
	OutroProjectID string `json:"outro_project_id,omitempty"`
	// Captions (inline SRT or WebVTT) go on every target as its
	// captions_mode says (default auto: soft track, plus a sidecar for
	// platforms that take caption uploads).
	Captions *Captions `json:"captions,omitempty"`
	// Loudness: "platform", a level in LUFS (-70 to -5) or "off" (default),
	// for every target that does not say otherwise.
	Loudness Loudness `json:"loudness,omitempty"`
	// TruePeak is the ceiling in dBTP with a LUFS level (default -1).
	TruePeak *float64 `json:"true_peak,omitempty"`
	// ThumbnailAt takes the thumbnails at this second instead of letting
	// the render pick a sharp, non-black frame.
	ThumbnailAt *float64 `json:"thumbnail_at,omitempty"`
	// Segments cuts the render into this many segments (1 to
	// MaxSegments), each rendered by a job any worker may take, and joins
	// them without re-encoding; 1 renders in one pass. Unset, an export
	// whose source is longer than OUTPOST_SEGMENT_THRESHOLD is cut into
	// as many segments as there are live workers. A source too short for
	// two segments of OUTPOST_SEGMENT_MIN_SECONDS renders in one pass.
	Segments int `json:"segments,omitempty"`
	// IdempotencyKey: the same key in the workspace returns the export it
	// created (the API's Idempotency-Key header, the UI's per-modal key).
	IdempotencyKey string `json:"-"`
	// GroupID groups the exports of one variants or batch request.
	GroupID string `json:"-"`
	// Variant names the version of a variants request this export is.
	Variant string `json:"-"`
	// Batch marks an item of a batch request (the plan may not allow
	// batches); the API's batch route sets it.
	Batch bool `json:"-"`
}

// Limits of a request.
const (
	MaxTargets = 32
	// MaxSegments bounds a segmented render's segments.
	MaxSegments     = 16
	DefaultPriority = 2
	MaxVariants     = 10
	// MaxCaptionsBytes bounds inline caption text: hours of dialogue fit.
	MaxCaptionsBytes = 512 << 10
	// DefaultTruePeak is the true-peak ceiling of a loudness level, in dBTP.
	DefaultTruePeak = -1.0
	// PreviewSeconds is how much of the start a preview shows by default.
	PreviewSeconds = 10
	// MaxLabelLen bounds names and labels, in characters.
	MaxLabelLen = 200
)

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

// CaptionsModes lists the caption modes, for forms.
var CaptionsModes = []string{CaptionsAuto, CaptionsBurn, CaptionsSoft, CaptionsSidecar, CaptionsNone}

// CheckCaptionsMode validates a caption mode ("" is allowed: unset).
func CheckCaptionsMode(mode string) error {
	switch mode {
	case "", CaptionsAuto, CaptionsBurn, CaptionsSoft, CaptionsSidecar, CaptionsNone:
		return nil
	}
	return errcode.New(errcode.InvalidOption, "captions mode %q: use auto, burn, soft, sidecar or none", mode)
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

// ExportSpec is an export as accepted: its targets resolved (user preset
// settings and defaults applied, brand kits snapshotted), so that a preset
// or kit edited later does not change it. The render reads it; the
// export's details show it.
type ExportSpec struct {
	ProjectID string           `json:"project_id"`
	Targets   []ResolvedTarget `json:"targets"`
	Priority  int              `json:"priority"`
	Labels    *Labels          `json:"labels,omitempty"`
	// IntroProjectID and OutroProjectID are clips around the video (from
	// the brand kit or the request); every target gets the same.
	IntroProjectID string `json:"intro_project_id,omitempty"`
	OutroProjectID string `json:"outro_project_id,omitempty"`
	// Captions, TruePeak and ThumbnailAt are the finishing settings every
	// target shares; each target's caption mode and loudness are in its
	// ResolvedTarget.
	Captions    *AcceptedCaptions `json:"captions,omitempty"`
	TruePeak    float64           `json:"true_peak,omitempty"`
	ThumbnailAt *float64          `json:"thumbnail_at,omitempty"`
	// MeasuresLoudness: the render measures the source's loudness first
	// (some target normalises it), so progress has an audio stage.
	MeasuresLoudness bool `json:"measures_loudness,omitempty"`
	// Variant is the version's name in a variants request ("A", "B").
	Variant string `json:"variant,omitempty"`
	// Segments is the request's count of segments; 0: chosen by the
	// workers (ExportRequest.Segments).
	Segments int `json:"segments,omitempty"`
}

// ResolvedTarget is a target as accepted: the request's fields with the
// user preset's settings and the defaults applied, and the built-in preset
// it renders with.
type ResolvedTarget struct {
	TargetRequest
	// Base is the built-in preset the target renders with: Preset itself,
	// or the user preset's base.
	Base string `json:"base_preset"`
	// Kit is the target's brand kit as accepted.
	Kit *KitSnapshot `json:"kit,omitempty"`
}

// KitSnapshot is a brand kit as an export accepted it: a kit edited later
// does not change an accepted export (a replaced watermark gets a new blob
// key; the old one stays while exports use it).
type KitSnapshot struct {
	ID              string  `json:"id"`
	Slug            string  `json:"slug"`
	Name            string  `json:"name,omitempty"`
	WatermarkKey    string  `json:"watermark_key,omitempty"`
	WatermarkFormat string  `json:"watermark_format,omitempty"`
	Position        string  `json:"position,omitempty"`
	Margin          float64 `json:"margin,omitempty"`
	Width           float64 `json:"width,omitempty"`
	Opacity         float64 `json:"opacity,omitempty"`
	IntroProjectID  string  `json:"intro_project_id,omitempty"`
	OutroProjectID  string  `json:"outro_project_id,omitempty"`
}

// AcceptedCaptions are an export's captions as accepted.
type AcceptedCaptions struct {
	Text     string         `json:"text"`
	Format   caption.Format `json:"format"`
	Language string         `json:"language,omitempty"`
	Cues     int            `json:"cues"`
}

// Export is an export as history lists show it.
type Export struct {
	ID          string       `json:"id"`
	ProjectID   string       `json:"project_id"`
	ProjectName string       `json:"project_name,omitempty"`
	Status      ExportStatus `json:"status"`
	Presets     []string     `json:"presets"`
	Priority    int          `json:"priority"`
	Progress    Progress     `json:"progress"`
	Labels      Labels       `json:"labels"`
	CreatedAt   time.Time    `json:"created_at"`
	StartedAt   *time.Time   `json:"started_at"`
	FinishedAt  *time.Time   `json:"finished_at"`
	Error       *CodedError  `json:"error"`
	// GroupID is shared by the variants of one request; "" for none.
	GroupID string `json:"group_id,omitempty"`
	// Nodes are the nodes that ran the export's steps (render, check,
	// store, publish), in the order each first started one.
	Nodes []string `json:"nodes"`
	// Warnings are about files that were made all the same (each once):
	// source_damaged, with the stretches of the video, in seconds.
	Warnings []engine.Warning `json:"warnings,omitempty"`
	// Refused are the targets refused when the export was accepted (the
	// source breaks a rule of the platform that no render can fix); the
	// other targets render. Each refused target's rendition is failed with
	// the same code.
	Refused []RefusedTarget `json:"refused,omitempty"`
}

// RefusedTarget is a target refused when its export was accepted.
type RefusedTarget struct {
	// TargetIndex is the target's place in the request's targets.
	TargetIndex int          `json:"target_index"`
	Preset      string       `json:"preset"`
	Code        errcode.Code `json:"code"`
	// Rule is the platform rule the source breaks (min_duration,
	// max_duration, …).
	Rule    string `json:"rule"`
	Message string `json:"message"`
	Remedy  string `json:"remedy,omitempty"`
}

// Progress is where a running export is.
type Progress struct {
	Stage      string  `json:"stage"`
	Percent    float64 `json:"percent"`
	ETASeconds *int64  `json:"eta_seconds"` // null when unknown
}

// ExportDetail is one export with its renditions and publications.
type ExportDetail struct {
	Export
	Renditions   []Rendition   `json:"renditions"`
	Publications []Publication `json:"publications"`
	// Outcome is the export's overall state with its posts: "Ready — 2
	// of 3 posts failed" (OutcomeOf).
	Outcome Outcome `json:"outcome"`
	// Steps are every step a node ran for the export, in the order they
	// started: each attempt of each rendition's render, check and store
	// and of each publication, with its node and outcome.
	Steps []Step `json:"steps"`
	// Segments, for an export rendered in segments over many workers,
	// says how many of its parts (pieces, and the rest: audio, copies,
	// GIF) each node rendered, in the order each first finished one.
	Segments []SegmentNode `json:"segments,omitempty"`
	// Spec is the export as accepted; the UI shows its settings (it is not
	// part of the API's answer).
	Spec *ExportSpec `json:"-"`
}

// SegmentNode is how many parts of a segmented render one node rendered.
type SegmentNode struct {
	Node  string `json:"node"`
	Parts int    `json:"parts"`
}

// ExportGroup is the exports of one variants or batch request.
type ExportGroup struct {
	GroupID string         `json:"group_id"`
	Exports []ExportDetail `json:"exports"`
}

// BatchItem is the outcome of one request of a batch: its export, or why
// it was refused.
type BatchItem struct {
	Export *ExportDetail
	Err    error
}

// MaxBatch bounds the requests of one batch.
const MaxBatch = 50

// Rendition is one output file of an export.
type Rendition struct {
	ID              string          `json:"id"`
	ExportID        string          `json:"export_id"`
	Preset          string          `json:"preset"`
	Status          RenditionStatus `json:"status"`
	SizeBytes       int64           `json:"size_bytes"`
	DurationSeconds float64         `json:"duration_seconds"`
	Width           int             `json:"width"`
	Height          int             `json:"height"`
	VideoCodec      string          `json:"video_codec,omitempty"`
	AudioCodec      string          `json:"audio_codec,omitempty"`
	Passthrough     bool            `json:"passthrough"`
	// DownloadURL is a signed link, valid until DownloadURLExpiresAt (at
	// most an hour, and never past ExpiresAt unless saved); null while the
	// file is not ready or after it was deleted.
	DownloadURL          *string    `json:"download_url"`
	DownloadURLExpiresAt *time.Time `json:"download_url_expires_at"`
	// ExpiresAt is when the file is deleted unless saved or pinned.
	ExpiresAt *time.Time `json:"expires_at"`
	Saved     bool       `json:"saved"`
	Pinned    bool       `json:"pinned"`
	Deleted   bool       `json:"deleted"`
	// ThumbnailURL is a signed link to the thumbnail (JPEG: the frame the
	// render chose, or an uploaded one: PUT
	// /api/v1/renditions/{id}/thumbnail); null when there is none.
	ThumbnailURL *string `json:"thumbnail_url,omitempty"`
	// CaptionsURL is a signed link to the caption sidecar file (SRT or
	// WebVTT) for platforms that take caption uploads; absent when none.
	CaptionsURL *string `json:"captions_url,omitempty"`
	// Check is the validation of the file against its platform's rules.
	Check json.RawMessage `json:"check,omitempty"`
	Error *CodedError     `json:"error"`
	// Warnings are about a file that was made all the same: source_damaged,
	// with the stretches of the video it is about, in seconds.
	Warnings []engine.Warning `json:"warnings,omitempty"`
	// Node is the node that last worked on the rendition (its render,
	// check and store); absent before one has.
	Node string `json:"node,omitempty"`
	// SameFileAs is the id of the export's earlier rendition whose file
	// this one is: targets of the same shape are encoded once and share
	// one stored file (one download, counted once in the export's size).
	// Absent for a file of its own.
	SameFileAs string `json:"same_file_as,omitempty"`
	// TargetIndex is the rendition's place in the export's targets.
	TargetIndex int `json:"-"`
}

// Expired reports whether the rendition's file is gone, or past its
// retention (unless saved or pinned) at now.
func (r Rendition) Expired(now time.Time) bool {
	if r.Deleted {
		return true
	}
	return r.ExpiresAt != nil && !r.Saved && !r.Pinned && !r.ExpiresAt.After(now.Add(time.Second))
}

// ExportQuery selects exports for history, newest first.
type ExportQuery struct {
	ProjectID string
	// GroupID matches the exports of one variants request.
	GroupID  string
	Statuses []ExportStatus
	Client   string // exact
	Campaign string // exact
	// Presets matches exports with any of these targets.
	Presets []string
	// Platform matches exports with a target of the platform (its
	// built-ins and the user presets on them) or a post to it.
	Platform string
	// Q matches project name, labels and presets; an export id exactly.
	Q string
	// CreatedFrom and CreatedTo bound the creation time: From <= t < To.
	CreatedFrom time.Time
	CreatedTo   time.Time
	Limit       int // 50 when zero, at most 500
	Cursor      string
}

// ExportPage is one page of exports, newest first.
type ExportPage struct {
	Exports    []Export
	NextCursor string
}

// Preview is a rendered preview of one target: a small H.264 MP4 that
// plays in a browser's <video>.
type Preview struct {
	Preset       string    `json:"preset"`
	SizeBytes    int64     `json:"size_bytes"`
	Duration     float64   `json:"duration_seconds"`
	Width        int       `json:"width"`
	Height       int       `json:"height"`
	URL          string    `json:"url"`
	URLExpiresAt time.Time `json:"url_expires_at"`
}

// Exports are the use cases of exports and their files.
type Exports interface {
	// Create validates req against the project's probe and every target's
	// rules before any work, then queues the export. The same
	// IdempotencyKey in the workspace returns the export it created.
	Create(ctx context.Context, workspaceID string, req ExportRequest) (ExportDetail, error)
	// CreateVariants makes one export per variant of req, grouped; a bad
	// variant creates nothing.
	CreateVariants(ctx context.Context, workspaceID string, req ExportRequest, variants []Variant) (ExportGroup, error)
	// CreateBatch creates one export per request, each accepted or refused
	// on its own; the accepted ones share a group (several projects ×
	// formats, seen together). The group id is "" when none was accepted.
	CreateBatch(ctx context.Context, workspaceID string, reqs []ExportRequest) (string, []BatchItem)
	// Estimate predicts each target's file size (a short sample encode).
	Estimate(ctx context.Context, workspaceID string, req ExportRequest) ([]engine.SizeEstimate, error)
	// Preview renders a fast low-resolution preview of req's one target.
	Preview(ctx context.Context, workspaceID string, req ExportRequest, seconds float64) (Preview, error)
	Cancel(ctx context.Context, workspaceID, id string) (ExportDetail, error)
	// Retry queues a failed, partially failed or canceled export again.
	Retry(ctx context.Context, workspaceID, id string) (ExportDetail, error)
	// Rerender makes a new export with an old one's settings (its files
	// are past their retention).
	Rerender(ctx context.Context, workspaceID, id string) (ExportDetail, error)
	List(ctx context.Context, workspaceID string, q ExportQuery) (ExportPage, error)
	Get(ctx context.Context, workspaceID, id string) (ExportDetail, error)
	// Events streams the export's live events after afterSeq, until its
	// "done".
	Events(ctx context.Context, workspaceID, id string, afterSeq int64) (<-chan events.Event, error)
	Rendition(ctx context.Context, workspaceID, id string) (Rendition, error)
	// KeepRendition keeps a rendition's file past its retention (keep), or
	// lets it go at its expiry again.
	KeepRendition(ctx context.Context, workspaceID, id string, keep bool) (Rendition, error)
	// SetThumbnail replaces a rendition's thumbnail with an uploaded JPEG
	// or PNG, sized to the platform rules.
	SetThumbnail(ctx context.Context, workspaceID, id string, image io.Reader) (Rendition, error)
	// MostUsedPresets lists the preset ids of the workspace's recent
	// exports, most used first.
	MostUsedPresets(ctx context.Context, workspaceID string) ([]string, error)
}
