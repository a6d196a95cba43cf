package ui

import (
	"encoding/json"
	"net/http"

	"outpost/internal/engine"
	"outpost/internal/errcode"
	"outpost/internal/outpost"
)

type estimateRequest struct {
	Targets []outpost.TargetRequest `json:"targets"`
	// BrandKit is the modal's kit: its watermark and clips count.
	BrandKit string `json:"brand_kit"`
}

type estimateResponse struct {
	Estimates []engine.SizeEstimate `json:"estimates"`
	// Method explains the figures, for the modal.
	Method string `json:"method"`
}

// MeasuredMethod says how measured estimates are made.
const MeasuredMethod = "measured (a 3 s sample of each format, encoded and scaled to the duration)"

// estimateProject measures the size of each requested target for the
// project's source (a short sample encode: the exports service's Estimate,
// as POST /api/v1/estimate). The modal shows the instant upper bound first
// and this figure when it arrives.
func (h *Handler) estimateProject(w http.ResponseWriter, r *http.Request) error {
	var req estimateRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxFormBody)).Decode(&req); err != nil {
		return errcode.New(errcode.InvalidJSON, "the estimate request could not be read")
	}
	est, err := h.svc.Exports.Estimate(r.Context(), workspaceOf(r), outpost.ExportRequest{ProjectID: r.PathValue("id"), Targets: req.Targets, BrandKit: req.BrandKit})
	if err != nil {
		if r.Context().Err() != nil {
			return nil // a newer request replaced this one
		}
		return err
	}
	h.writeJSON(w, http.StatusOK, estimateResponse{Estimates: est, Method: MeasuredMethod})
	return nil
}
