package web

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"time"

	"outpost/internal/errcode"
	"outpost/internal/jobs"
	"outpost/internal/store"
)

// exportCreateRequest starts an export.
type exportCreateRequest struct {
	ProjectID string               `json:"project_id"`
	Targets   []jobs.TargetRequest `json:"targets"`
	Priority  int                  `json:"priority,omitempty"`
	Labels    labelsJSON           `json:"labels,omitzero"`
	// Destinations are posts of the renditions to connected accounts.
	Destinations []jobs.Destination `json:"destinations,omitempty"`
	// BrandKit is a brand kit id or slug for every target: its watermark,
	// intro and outro (a target's own brand_kit wins).
	BrandKit string `json:"brand_kit,omitempty"`
	// IntroProjectID and OutroProjectID replace the kit's ("none": none).
	IntroProjectID string `json:"intro_project_id,omitempty"`
	OutroProjectID string `json:"outro_project_id,omitempty"`
	// Captions (inline SRT or WebVTT) go on every target as its
	// captions_mode says (default auto: soft track, plus a sidecar for
	// platforms that take caption uploads).
	Captions *jobs.Captions `json:"captions,omitempty"`
	// Loudness: "platform", a level in LUFS (-70 to -5) or "off" (default).
	Loudness jobs.Loudness `json:"loudness,omitempty"`
	// TruePeak is the ceiling in dBTP with a LUFS level (default -1).
	TruePeak *float64 `json:"true_peak,omitempty"`
	// ThumbnailAt takes the thumbnails at this second instead of letting
	// the render pick a sharp, non-black frame.
	ThumbnailAt *float64 `json:"thumbnail_at,omitempty"`
	// Variants make one export per variant (A/B), grouped by group_id; the
	// response is then an exportGroupJSON.
	Variants []jobs.Variant `json:"variants,omitempty"`
}

// exportGroupJSON is the exports of one variants request.
type exportGroupJSON struct {
	GroupID string             `json:"group_id"`
	Exports []exportDetailJSON `json:"exports"`
}

// exportJSON is an export as history lists show it.
type exportJSON struct {
	ID          string             `json:"id"`
	ProjectID   string             `json:"project_id"`
	ProjectName string             `json:"project_name,omitempty"`
	Status      store.ExportStatus `json:"status"`
	Presets     []string           `json:"presets"`
	Priority    int                `json:"priority"`
	Progress    progressJSON       `json:"progress"`
	Labels      labelsJSON         `json:"labels"`
	CreatedAt   time.Time          `json:"created_at"`
	StartedAt   *time.Time         `json:"started_at"`
	FinishedAt  *time.Time         `json:"finished_at"`
	Error       *codedErrorJSON    `json:"error"`
	// GroupID is shared by the variants of one request; "" for none.
	GroupID string `json:"group_id,omitempty"`
}

// exportDetailJSON is one export with its renditions and publications.
type exportDetailJSON struct {
	exportJSON
	Renditions   []renditionJSON   `json:"renditions"`
	Publications []publicationJSON `json:"publications"`
}

// progressJSON is where a running export is.
type progressJSON struct {
	Stage      string  `json:"stage"`
	Percent    float64 `json:"percent"`
	ETASeconds *int64  `json:"eta_seconds"` // null when unknown
}

// renditionJSON is one output file of an export.
type renditionJSON struct {
	ID              string                `json:"id"`
	ExportID        string                `json:"export_id"`
	Preset          string                `json:"preset"`
	Status          store.RenditionStatus `json:"status"`
	SizeBytes       int64                 `json:"size_bytes"`
	DurationSeconds float64               `json:"duration_seconds"`
	Width           int                   `json:"width"`
	Height          int                   `json:"height"`
	VideoCodec      string                `json:"video_codec,omitempty"`
	AudioCodec      string                `json:"audio_codec,omitempty"`
	Passthrough     bool                  `json:"passthrough"`
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
	Error *codedErrorJSON `json:"error"`
}

func exportView(e store.Export) exportJSON {
	v := exportJSON{
		ID: e.ID, ProjectID: e.ProjectID, ProjectName: e.ProjectName, Status: e.Status,
		Presets: e.PresetIDs, Priority: e.Priority,
		Progress:  progressJSON{Stage: e.Progress.Stage, Percent: e.Progress.Percent},
		Labels:    labelsJSON{Client: e.Client, Campaign: e.Campaign},
		CreatedAt: e.CreatedAt, StartedAt: e.StartedAt, FinishedAt: e.FinishedAt,
		Error:   codedError(e.ErrorCode, e.ErrorMessage),
		GroupID: e.GroupID,
	}
	if v.Presets == nil {
		v.Presets = []string{}
	}
	if e.Progress.ETA > 0 && !e.Status.Final() {
		eta := ceilSeconds(e.Progress.ETA)
		v.Progress.ETASeconds = &eta
	}
	if e.Status == store.ExportSucceeded {
		v.Progress.Percent = 100
	}
	return v
}

// exportDetail reads the export's renditions and signs their links.
//
// Publications are read before renditions: a publication's final state and
// its rendition's pin release commit together, so a reader that sees the
// publication final then also sees the pin as it was left (read the other
// way round, a commit in between showed every publication done and the file
// still pinned).
func (s *Server) exportDetail(ctx context.Context, e store.Export) (exportDetailJSON, error) {
	ps, err := s.store.ListPublications(ctx, e.ID)
	if err != nil {
		return exportDetailJSON{}, err
	}
	rs, err := s.store.ListRenditions(ctx, e.ID)
	if err != nil {
		return exportDetailJSON{}, err
	}
	d := exportDetailJSON{exportJSON: exportView(e), Renditions: make([]renditionJSON, len(rs))}
	for i, r := range rs {
		d.Renditions[i] = s.renditionView(ctx, r, e.ProjectName)
	}
	d.Publications = make([]publicationJSON, len(ps))
	for i, p := range ps {
		d.Publications[i] = publicationView(p)
	}
	return d, nil
}

func (s *Server) renditionView(ctx context.Context, r store.Rendition, projectName string) renditionJSON {
	v := renditionJSON{
		ID: r.ID, ExportID: r.ExportID, Preset: r.PresetID, Status: r.Status, SizeBytes: r.SizeBytes,
		DurationSeconds: r.Duration, Width: r.Width, Height: r.Height,
		VideoCodec: r.VideoCodec, AudioCodec: r.AudioCodec, Passthrough: r.Passthrough,
		ExpiresAt: r.ExpiresAt, Saved: r.Saved, Pinned: r.Pinned, Deleted: r.DeletedAt != nil,
		Check: r.CheckReport, Error: codedError(r.ErrorCode, r.ErrorMessage),
	}
	if r.Status != store.RenditionSucceeded || r.BlobKey == "" || r.DeletedAt != nil {
		return v
	}
	ttl := downloadLinkTTL
	if r.ExpiresAt != nil && !r.Saved && !r.Pinned {
		left := r.ExpiresAt.Sub(s.now())
		if left < time.Second {
			return v // expired: the cleanup job deletes it soon
		}
		ttl = min(ttl, left)
	}
	link, exp, err := s.blob.SignedURL(ctx, r.BlobKey, ttl, downloadName(projectName, r))
	if err != nil {
		s.logger.WarnContext(ctx, "sign download link", slog.String("rendition_id", r.ID), slog.Any("error", err))
		return v
	}
	v.DownloadURL, v.DownloadURLExpiresAt = &link, &exp
	if r.ThumbnailKey != "" {
		if link, _, err := s.blob.SignedURL(ctx, r.ThumbnailKey, ttl, strings.TrimSuffix(downloadName(projectName, r), path.Ext(r.BlobKey))+".jpg"); err == nil {
			v.ThumbnailURL = &link
		}
	}
	if r.CaptionsKey != "" {
		if link, _, err := s.blob.SignedURL(ctx, r.CaptionsKey, ttl, strings.TrimSuffix(downloadName(projectName, r), path.Ext(r.BlobKey))+path.Ext(r.CaptionsKey)); err == nil {
			v.CaptionsURL = &link
		}
	}
	return v
}

// downloadName is the file name a download is saved under:
// "<project>-<preset>.<ext>".
func downloadName(projectName string, r store.Rendition) string {
	var b strings.Builder
	dash := false
	for _, c := range strings.ToLower(projectName) {
		switch {
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
			b.WriteRune(c)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= 60 {
			break
		}
	}
	base := strings.Trim(b.String(), "-")
	if base == "" {
		base = r.ExportID
	}
	return base + "-" + r.PresetID + path.Ext(r.BlobKey)
}

// exportInWorkspace returns the caller's export id, or not_found.
func (s *Server) exportInWorkspace(r *http.Request, id string) (store.Export, error) {
	e, err := s.store.GetExport(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) || err == nil && e.WorkspaceID != workspaceOf(r) {
		return store.Export{}, notFound("export", id)
	}
	return e, err
}

func (s *Server) exportService() (exportService, error) {
	if s.exports == nil {
		return nil, errcode.New(errcode.Internal, "exports are not available on this server")
	}
	return s.exports, nil
}

func (s *Server) createExport(w http.ResponseWriter, r *http.Request) error {
	var req exportCreateRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if len(req.Variants) > 0 {
		return s.createVariants(w, r, req)
	}
	status, d, err := s.startExport(r, req, r.Header.Get("Idempotency-Key"))
	if err != nil {
		return err
	}
	s.writeJSON(w, r, status, d)
	return nil
}

// exportRequest checks the request's own fields and converts it.
func (s *Server) exportRequest(r *http.Request, req exportCreateRequest, key string) (jobs.ExportRequest, store.Project, error) {
	if req.ProjectID == "" {
		return jobs.ExportRequest{}, store.Project{}, errcode.New(errcode.InvalidOption, "project_id is required")
	}
	if len(req.Targets) == 0 && len(req.Variants) == 0 {
		return jobs.ExportRequest{}, store.Project{}, errcode.New(errcode.InvalidOption, "targets: give at least one target, e.g. [{\"preset\":\"youtube-1080p\"}]")
	}
	if err := checkLabel("labels.client", req.Labels.Client); err != nil {
		return jobs.ExportRequest{}, store.Project{}, err
	}
	if err := checkLabel("labels.campaign", req.Labels.Campaign); err != nil {
		return jobs.ExportRequest{}, store.Project{}, err
	}
	p, err := s.store.GetProject(r.Context(), req.ProjectID)
	if errors.Is(err, store.ErrNotFound) || err == nil && p.WorkspaceID != workspaceOf(r) {
		return jobs.ExportRequest{}, store.Project{}, notFound("project", req.ProjectID)
	}
	if err != nil {
		return jobs.ExportRequest{}, store.Project{}, err
	}
	return jobs.ExportRequest{
		ProjectID: req.ProjectID, Targets: req.Targets, Priority: req.Priority, Destinations: req.Destinations,
		Client: strings.TrimSpace(req.Labels.Client), Campaign: strings.TrimSpace(req.Labels.Campaign),
		IdempotencyKey: key, BrandKit: req.BrandKit, IntroProjectID: req.IntroProjectID, OutroProjectID: req.OutroProjectID,
		Captions: req.Captions, Loudness: req.Loudness, TruePeak: req.TruePeak, ThumbnailAt: req.ThumbnailAt,
	}, p, nil
}

// startExport creates one export and returns its view.
func (s *Server) startExport(r *http.Request, req exportCreateRequest, key string) (int, exportDetailJSON, error) {
	jr, p, err := s.exportRequest(r, req, key)
	if err != nil {
		return 0, exportDetailJSON{}, err
	}
	svc, err := s.exportService()
	if err != nil {
		return 0, exportDetailJSON{}, err
	}
	e, err := svc.CreateExport(r.Context(), workspaceOf(r), jr)
	if err != nil {
		return 0, exportDetailJSON{}, err
	}
	if e.ProjectName == "" {
		e.ProjectName = p.Name
	}
	d, err := s.exportDetail(r.Context(), e)
	if err != nil {
		return 0, exportDetailJSON{}, err
	}
	return http.StatusAccepted, d, nil
}

func (s *Server) listExports(w http.ResponseWriter, r *http.Request) error {
	cursor, limit, err := pageQuery(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := store.ExportFilter{
		WorkspaceID: workspaceOf(r), ProjectID: q.Get("project_id"), GroupID: q.Get("group_id"),
		Client: q.Get("client"), Campaign: q.Get("campaign"), Q: q.Get("q"),
		Limit: limit, Cursor: cursor,
	}
	for _, st := range splitList(q.Get("status")) {
		status := store.ExportStatus(st)
		if !status.Valid() {
			return errcode.New(errcode.InvalidOption, "status %q: want one of queued, running, succeeded, partially_failed, failed, canceled", st)
		}
		f.Statuses = append(f.Statuses, status)
	}
	f.PresetIDs = splitList(q.Get("preset"))
	pg, err := s.store.ListExports(r.Context(), f)
	if err != nil {
		return err
	}
	views := make([]exportJSON, len(pg.Exports))
	for i, e := range pg.Exports {
		views[i] = exportView(e)
	}
	s.writeJSON(w, r, http.StatusOK, newPage(views, pg.NextCursor))
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func (s *Server) getExport(w http.ResponseWriter, r *http.Request) error {
	e, err := s.exportInWorkspace(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	d, err := s.exportDetail(r.Context(), e)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, d)
	return nil
}

func (s *Server) cancelExport(w http.ResponseWriter, r *http.Request) error {
	return s.changeExport(w, r, http.StatusOK, exportService.CancelExport)
}

func (s *Server) retryExport(w http.ResponseWriter, r *http.Request) error {
	return s.changeExport(w, r, http.StatusAccepted, exportService.RetryExport)
}

func (s *Server) changeExport(w http.ResponseWriter, r *http.Request, status int,
	change func(exportService, context.Context, string, string) (store.Export, error),
) error {
	old, err := s.exportInWorkspace(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	svc, err := s.exportService()
	if err != nil {
		return err
	}
	e, err := change(svc, r.Context(), old.WorkspaceID, old.ID)
	if err != nil {
		return err
	}
	if e.ProjectName == "" {
		e.ProjectName = old.ProjectName
	}
	d, err := s.exportDetail(r.Context(), e)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, status, d)
	return nil
}

// ceilSeconds is a duration in whole seconds, rounded up, for ETAs.
func ceilSeconds(d time.Duration) int64 {
	return int64((d + time.Second - 1) / time.Second)
}
