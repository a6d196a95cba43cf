package web

import (
	"net/http"

	"outpost/internal/outpost"
)

// presetCreateRequest makes a user preset.
type presetCreateRequest struct {
	Name         string                  `json:"name"`
	BasePresetID string                  `json:"base_preset_id"`
	Settings     *outpost.PresetSettings `json:"settings,omitempty"`
}

// presetPatchRequest changes a user preset; absent fields stay. Settings,
// when present, replace the old ones whole.
type presetPatchRequest = outpost.PresetChange

func (s *Server) listPresets(w http.ResponseWriter, r *http.Request) error {
	ps, err := s.svc.Presets.List(r.Context(), workspaceOf(r))
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, newPage(ps, ""))
	return nil
}

func (s *Server) getPreset(w http.ResponseWriter, r *http.Request) error {
	p, err := s.svc.Presets.Get(r.Context(), workspaceOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, p)
	return nil
}

func (s *Server) createPreset(w http.ResponseWriter, r *http.Request) error {
	var req presetCreateRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	p, err := s.svc.Presets.Create(r.Context(), workspaceOf(r), outpost.PresetChange{Name: &req.Name,
		BasePresetID: &req.BasePresetID, Settings: req.Settings})
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusCreated, p)
	return nil
}

func (s *Server) updatePreset(w http.ResponseWriter, r *http.Request) error {
	var req presetPatchRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	p, err := s.svc.Presets.Update(r.Context(), workspaceOf(r), r.PathValue("id"), req)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, p)
	return nil
}

func (s *Server) deletePreset(w http.ResponseWriter, r *http.Request) error {
	if err := s.svc.Presets.Delete(r.Context(), workspaceOf(r), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
