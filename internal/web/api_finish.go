package web

import (
	"net/http"

	"outpost/internal/engine"
	"outpost/internal/errcode"
	"outpost/internal/outpost"
)

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
	Index  int                   `json:"index"`
	Status int                   `json:"status"`
	Export *outpost.ExportDetail `json:"export,omitempty"`
	Group  *outpost.ExportGroup  `json:"group,omitempty"`
	Error  *outpost.CodedError   `json:"error,omitempty"`
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
		res := batchItemJSON{Index: i, Status: http.StatusAccepted}
		item.ExportRequest.IdempotencyKey = item.IdempotencyKey
		item.ExportRequest.Batch = true
		v, err := s.startExport(r.Context(), workspaceOf(r), item.exportCreateRequest)
		switch v := v.(type) {
		case outpost.ExportDetail:
			res.Export = &v
		case outpost.ExportGroup:
			res.Group = &v
		}
		if err != nil {
			e := httpError(err)
			if e.status >= 500 {
				s.logger.ErrorContext(r.Context(), "batch export item failed", "index", i, "error", err)
			}
			res = batchItemJSON{Index: i, Status: e.status, Error: outpost.NewCodedError(e.code, e.message)}
			status = http.StatusMultiStatus
		}
		out.Results[i] = res
	}
	s.writeJSON(w, r, status, out)
	return nil
}

// estimateRequest asks for size estimates of an export's settings.
type estimateRequest struct {
	ProjectID      string                  `json:"project_id"`
	Targets        []outpost.TargetRequest `json:"targets"`
	BrandKit       string                  `json:"brand_kit,omitempty"`
	IntroProjectID string                  `json:"intro_project_id,omitempty"`
	OutroProjectID string                  `json:"outro_project_id,omitempty"`
	// Captions, Loudness and ThumbnailAt are checked as an export's are, so
	// one body serves both; a preview burns the captions in (loudness and
	// thumbnails do not change a preview or an estimate).
	Captions    *outpost.Captions `json:"captions,omitempty"`
	Loudness    outpost.Loudness  `json:"loudness,omitempty"`
	ThumbnailAt *float64          `json:"thumbnail_at,omitempty"`
}

// estimateJSON is the predicted size of each target's file.
type estimateJSON struct {
	Estimates []engine.SizeEstimate `json:"estimates"`
}

func (r estimateRequest) export() outpost.ExportRequest {
	return outpost.ExportRequest{ProjectID: r.ProjectID, Targets: r.Targets, BrandKit: r.BrandKit,
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
	if err := checkExport(req.export(), nil); err != nil {
		return err
	}
	est, err := s.svc.Exports.Estimate(r.Context(), workspaceOf(r), req.export())
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

// preview renders a fast low-resolution preview and returns its link.
func (s *Server) preview(w http.ResponseWriter, r *http.Request) error {
	var req previewRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if err := checkExport(req.export(), nil); err != nil {
		return err
	}
	secs := float64(outpost.PreviewSeconds)
	if req.Seconds != nil {
		secs = *req.Seconds
	}
	pv, err := s.svc.Exports.Preview(r.Context(), workspaceOf(r), req.export(), secs)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusCreated, pv)
	return nil
}
