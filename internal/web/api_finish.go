package web

import (
	"context"
	"net/http"
	"time"

	"outpost/internal/engine"
	"outpost/internal/errcode"
	"outpost/internal/jobs"
	"outpost/internal/store"
)

// finishService is what the finishing routes (variants, estimates,
// previews, timelines) need of jobs.Service, beyond exportService.
type finishService interface {
	CreateVariants(ctx context.Context, workspaceID string, req jobs.ExportRequest, variants []jobs.Variant) (string, []store.Export, error)
	EstimateExport(ctx context.Context, workspaceID string, req jobs.ExportRequest) ([]engine.SizeEstimate, error)
	PreviewExport(ctx context.Context, workspaceID string, req jobs.ExportRequest, seconds float64) (jobs.Preview, error)
	CreateTimelineProject(ctx context.Context, workspaceID string, req jobs.TimelineProject) (store.Project, error)
}

var _ finishService = (*jobs.Service)(nil)

func (s *Server) finishService() (finishService, error) {
	if f, ok := s.exports.(finishService); ok {
		return f, nil
	}
	return nil, errcode.New(errcode.Internal, "exports are not available on this server")
}

// createVariants makes one export per variant, grouped.
func (s *Server) createVariants(w http.ResponseWriter, r *http.Request, req exportCreateRequest) error {
	g, err := s.variantGroup(r, req, r.Header.Get("Idempotency-Key"))
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusAccepted, g)
	return nil
}

// variantGroup creates the exports of req's variants and describes them.
func (s *Server) variantGroup(r *http.Request, req exportCreateRequest, idempotencyKey string) (exportGroupJSON, error) {
	jr, p, err := s.exportRequest(r, req, idempotencyKey)
	if err != nil {
		return exportGroupJSON{}, err
	}
	svc, err := s.finishService()
	if err != nil {
		return exportGroupJSON{}, err
	}
	group, es, err := svc.CreateVariants(r.Context(), workspaceOf(r), jr, req.Variants)
	if err != nil {
		return exportGroupJSON{}, err
	}
	out := exportGroupJSON{GroupID: group, Exports: make([]exportDetailJSON, len(es))}
	for i, e := range es {
		if e.ProjectName == "" {
			e.ProjectName = p.Name
		}
		if out.Exports[i], err = s.exportDetail(r.Context(), e); err != nil {
			return exportGroupJSON{}, err
		}
	}
	return out, nil
}

// MaxBatch bounds the exports of one batch request.
const MaxBatch = 50

// exportBatchRequest is many export requests in one call.
type exportBatchRequest struct {
	Exports []batchItemRequest `json:"exports"`
}

// batchItemRequest is one export of a batch; IdempotencyKey replaces the
// header, per item.
type batchItemRequest struct {
	exportCreateRequest
	IdempotencyKey string `json:"idempotency_key,omitempty"`
}

// batchResultJSON is the per-item outcome of a batch, in request order:
// Status is the HTTP status the item would have had alone.
type batchResultJSON struct {
	Results []batchItemJSON `json:"results"`
}

type batchItemJSON struct {
	Index  int               `json:"index"`
	Status int               `json:"status"`
	Export *exportDetailJSON `json:"export,omitempty"`
	Group  *exportGroupJSON  `json:"group,omitempty"`
	Error  *codedErrorJSON   `json:"error,omitempty"`
}

// createExportBatch starts many exports; each item succeeds or fails on its
// own (207 when some failed, 202 when all were accepted).
func (s *Server) createExportBatch(w http.ResponseWriter, r *http.Request) error {
	var req exportBatchRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if len(req.Exports) == 0 || len(req.Exports) > MaxBatch {
		return errcode.New(errcode.InvalidOption, "exports: give 1 to %d export requests, got %d", MaxBatch, len(req.Exports))
	}
	out := batchResultJSON{Results: make([]batchItemJSON, len(req.Exports))}
	status := http.StatusAccepted
	for i, item := range req.Exports {
		res := batchItemJSON{Index: i}
		var err error
		if len(item.Variants) > 0 {
			err = s.batchVariants(r, item, &res)
		} else {
			var d exportDetailJSON
			res.Status, d, err = s.startExport(r, item.exportCreateRequest, item.IdempotencyKey)
			res.Export = &d
		}
		if err != nil {
			e := httpError(err)
			if e.status >= 500 {
				s.logger.ErrorContext(r.Context(), "batch export item failed", "index", i, "error", err)
			}
			res = batchItemJSON{Index: i, Status: e.status, Error: codedError(e.code, e.message)}
			status = http.StatusMultiStatus
		}
		out.Results[i] = res
	}
	s.writeJSON(w, r, status, out)
	return nil
}

func (s *Server) batchVariants(r *http.Request, item batchItemRequest, res *batchItemJSON) error {
	g, err := s.variantGroup(r, item.exportCreateRequest, item.IdempotencyKey)
	if err != nil {
		return err
	}
	res.Status, res.Group = http.StatusAccepted, &g
	return nil
}

// estimateRequest asks for size estimates of an export's settings.
type estimateRequest struct {
	ProjectID      string               `json:"project_id"`
	Targets        []jobs.TargetRequest `json:"targets"`
	BrandKit       string               `json:"brand_kit,omitempty"`
	IntroProjectID string               `json:"intro_project_id,omitempty"`
	OutroProjectID string               `json:"outro_project_id,omitempty"`
	// Captions, Loudness and ThumbnailAt are checked as an export's are, so
	// one body serves both; a preview burns the captions in (loudness and
	// thumbnails do not change a preview or an estimate).
	Captions    *jobs.Captions `json:"captions,omitempty"`
	Loudness    jobs.Loudness  `json:"loudness,omitempty"`
	ThumbnailAt *float64       `json:"thumbnail_at,omitempty"`
}

// estimateJSON is the predicted size of each target's file.
type estimateJSON struct {
	Estimates []engine.SizeEstimate `json:"estimates"`
}

func (r estimateRequest) export() exportCreateRequest {
	return exportCreateRequest{ProjectID: r.ProjectID, Targets: r.Targets, BrandKit: r.BrandKit,
		IntroProjectID: r.IntroProjectID, OutroProjectID: r.OutroProjectID,
		Captions: r.Captions, Loudness: r.Loudness, ThumbnailAt: r.ThumbnailAt}
}

// estimate predicts file sizes from a short sample encode (a few seconds
// of work while the caller waits).
func (s *Server) estimate(w http.ResponseWriter, r *http.Request) error {
	var req estimateRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	jr, _, err := s.exportRequest(r, req.export(), "")
	if err != nil {
		return err
	}
	svc, err := s.finishService()
	if err != nil {
		return err
	}
	est, err := svc.EstimateExport(r.Context(), workspaceOf(r), jr)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, estimateJSON{Estimates: est})
	return nil
}

// previewRequest asks for a preview of one target's settings.
type previewRequest struct {
	estimateRequest
	// Seconds is how much of the start to render: 10 when absent, 0 for
	// all of it.
	Seconds *float64 `json:"seconds,omitempty"`
}

// previewJSON is a rendered preview: a small H.264 MP4 that plays in a
// browser's <video>.
type previewJSON struct {
	jobs.Preview
	URL          string    `json:"url"`
	URLExpiresAt time.Time `json:"url_expires_at"`
}

// preview renders a fast low-resolution preview and returns its link.
func (s *Server) preview(w http.ResponseWriter, r *http.Request) error {
	var req previewRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	jr, _, err := s.exportRequest(r, req.export(), "")
	if err != nil {
		return err
	}
	svc, err := s.finishService()
	if err != nil {
		return err
	}
	secs := float64(jobs.PreviewSeconds)
	if req.Seconds != nil {
		secs = *req.Seconds
	}
	pv, err := svc.PreviewExport(r.Context(), workspaceOf(r), jr, secs)
	if err != nil {
		return err
	}
	link, exp, err := s.blob.SignedURL(r.Context(), pv.BlobKey, downloadLinkTTL, pv.Preset+".preview.mp4")
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusCreated, previewJSON{Preview: pv, URL: link, URLExpiresAt: exp})
	return nil
}

// timelineProjectRequest creates a timeline project: clips of other
// projects, joined when exported.
type timelineProjectRequest struct {
	Name     string        `json:"name,omitempty"`
	Client   string        `json:"client,omitempty"`
	Campaign string        `json:"campaign,omitempty"`
	Timeline jobs.Timeline `json:"timeline"`
}

func (s *Server) createTimelineProject(w http.ResponseWriter, r *http.Request, req timelineProjectRequest) error {
	for _, l := range []struct{ field, v string }{{"name", req.Name}, {"client", req.Client}, {"campaign", req.Campaign}} {
		if err := checkLabel(l.field, l.v); err != nil {
			return err
		}
	}
	svc, err := s.finishService()
	if err != nil {
		return err
	}
	p, err := svc.CreateTimelineProject(r.Context(), workspaceOf(r), jobs.TimelineProject{
		Name: req.Name, Client: req.Client, Campaign: req.Campaign, Timeline: req.Timeline})
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusCreated, projectView(p))
	return nil
}
