package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"outpost/internal/errcode"
	"outpost/internal/jobs"
	"outpost/internal/preset"
	"outpost/internal/store"
)

// presetSettings are a user preset's changes to its built-in base: the same
// overrides an export target takes. They are stored as this JSON in
// store.Preset.Settings.
type presetSettings struct {
	Quality   string  `json:"quality,omitempty"` // web, hd or ultra
	Fit       string  `json:"fit,omitempty"`     // blur, pad or crop
	FPS       float64 `json:"fps,omitempty"`
	VideoKbps int     `json:"video_kbps,omitempty"`
	// BrandKit is a brand kit id or slug applied to exports of this
	// preset (an export's own brand_kit wins); checked when exporting.
	BrandKit string `json:"brand_kit,omitempty"`
	// CaptionsMode is how exports of this preset carry captions (auto,
	// burn, soft, sidecar, none), unless a target says otherwise.
	CaptionsMode string `json:"captions_mode,omitempty"`
	// Loudness normalises exports of this preset: "platform", a level in
	// LUFS, or "off".
	Loudness jobs.Loudness `json:"loudness,omitempty"`
}

// presetJSON is a built-in or user preset. A user preset shows its base's
// format and rules along with its own settings.
type presetJSON struct {
	ID           string                          `json:"id"`
	Name         string                          `json:"name"`
	Builtin      bool                            `json:"builtin"`
	BasePresetID string                          `json:"base_preset_id,omitempty"`
	Settings     *presetSettings                 `json:"settings,omitempty"`
	Platform     string                          `json:"platform"`
	Description  string                          `json:"description,omitempty"`
	Container    string                          `json:"container"`
	Extension    string                          `json:"extension"`
	Video        preset.Video                    `json:"video"`
	Audio        preset.Audio                    `json:"audio"`
	Quality      map[preset.Level]preset.Quality `json:"quality"`
	Rules        preset.Rules                    `json:"rules"`
	CreatedAt    *time.Time                      `json:"created_at,omitempty"`
	UpdatedAt    *time.Time                      `json:"updated_at,omitempty"`
}

// presetCreateRequest makes a user preset.
type presetCreateRequest struct {
	Name         string          `json:"name"`
	BasePresetID string          `json:"base_preset_id"`
	Settings     *presetSettings `json:"settings,omitempty"`
}

// presetPatchRequest changes a user preset; absent fields stay. Settings,
// when present, replace the old ones whole.
type presetPatchRequest struct {
	Name         *string         `json:"name,omitempty"`
	BasePresetID *string         `json:"base_preset_id,omitempty"`
	Settings     *presetSettings `json:"settings,omitempty"`
}

func builtinView(p preset.Preset) presetJSON {
	return presetJSON{
		ID: p.ID, Name: p.Name, Builtin: true, Platform: p.Platform, Description: p.Description,
		Container: p.Container, Extension: p.Extension, Video: p.Video, Audio: p.Audio,
		Quality: p.Quality, Rules: p.Rules,
	}
}

func userPresetView(p store.Preset) presetJSON {
	v := presetJSON{ID: p.ID, Name: p.Name, BasePresetID: p.BasePresetID, CreatedAt: &p.CreatedAt, UpdatedAt: &p.UpdatedAt}
	if base, err := preset.Lookup(p.BasePresetID); err == nil {
		b := builtinView(base)
		v.Platform, v.Description, v.Container, v.Extension = b.Platform, b.Description, b.Container, b.Extension
		v.Video, v.Audio, v.Quality, v.Rules = b.Video, b.Audio, b.Quality, b.Rules
	}
	var st presetSettings
	if len(p.Settings) > 0 && json.Unmarshal(p.Settings, &st) == nil {
		v.Settings = &st
	} else {
		v.Settings = &presetSettings{}
	}
	return v
}

func (s *Server) listPresets(w http.ResponseWriter, r *http.Request) error {
	user, err := s.store.ListPresets(r.Context(), workspaceOf(r))
	if err != nil {
		return err
	}
	builtins := preset.Builtins()
	views := make([]presetJSON, 0, len(builtins)+len(user))
	for _, p := range builtins {
		views = append(views, builtinView(p))
	}
	for _, p := range user {
		views = append(views, userPresetView(p))
	}
	s.writeJSON(w, r, http.StatusOK, newPage(views, ""))
	return nil
}

func (s *Server) getPreset(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if p, err := preset.Lookup(id); err == nil {
		s.writeJSON(w, r, http.StatusOK, builtinView(p))
		return nil
	}
	p, err := s.userPreset(r, id)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, userPresetView(p))
	return nil
}

func (s *Server) createPreset(w http.ResponseWriter, r *http.Request) error {
	var req presetCreateRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	var st presetSettings
	if req.Settings != nil {
		st = *req.Settings
	}
	p, err := checkUserPreset(req.Name, req.BasePresetID, st)
	if err != nil {
		return err
	}
	p.WorkspaceID = workspaceOf(r)
	name := p.Name
	p, err = s.store.CreatePreset(r.Context(), p)
	if errors.Is(err, store.ErrConflict) {
		return errcode.New(errcode.Conflict, "a preset named %q already exists", name)
	}
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusCreated, userPresetView(p))
	return nil
}

func (s *Server) updatePreset(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if _, err := preset.Lookup(id); err == nil {
		return errcode.New(errcode.Conflict, "built-in preset %s is read-only: create a user preset with base_preset_id %q instead", id, id)
	}
	var req presetPatchRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	old, err := s.userPreset(r, id)
	if err != nil {
		return err
	}
	name, base := old.Name, old.BasePresetID
	var st presetSettings
	if len(old.Settings) > 0 {
		_ = json.Unmarshal(old.Settings, &st)
	}
	if req.Name != nil {
		name = *req.Name
	}
	if req.BasePresetID != nil {
		base = *req.BasePresetID
	}
	if req.Settings != nil {
		st = *req.Settings
	}
	p, err := checkUserPreset(name, base, st)
	if err != nil {
		return err
	}
	p.ID, p.WorkspaceID = old.ID, old.WorkspaceID
	p, err = s.store.UpdatePreset(r.Context(), p)
	if errors.Is(err, store.ErrConflict) {
		return errcode.New(errcode.Conflict, "a preset named %q already exists", name)
	}
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, userPresetView(p))
	return nil
}

func (s *Server) deletePreset(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if _, err := preset.Lookup(id); err == nil {
		return errcode.New(errcode.Conflict, "built-in preset %s is read-only and cannot be deleted", id)
	}
	if _, err := s.userPreset(r, id); err != nil {
		return err
	}
	if err := s.store.DeletePreset(r.Context(), id); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return notFound("preset", id)
		}
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// userPreset returns the workspace's user preset id, or not_found.
func (s *Server) userPreset(r *http.Request, id string) (store.Preset, error) {
	p, err := s.store.GetPreset(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) || err == nil && p.WorkspaceID != workspaceOf(r) {
		return store.Preset{}, errcode.New(errcode.NotFound, "preset %s not found", id)
	}
	return p, err
}

// checkUserPreset validates a user preset and returns it ready to store.
func checkUserPreset(name, baseID string, st presetSettings) (store.Preset, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return store.Preset{}, errcode.New(errcode.InvalidOption, "name is required")
	}
	if err := checkLabel("name", name); err != nil {
		return store.Preset{}, err
	}
	if _, err := preset.Lookup(name); err == nil {
		return store.Preset{}, errcode.New(errcode.InvalidOption, "name %q is a built-in preset id: choose another", name)
	}
	if baseID == "" {
		return store.Preset{}, errcode.New(errcode.InvalidOption, "base_preset_id is required: one of %s", strings.Join(preset.IDs(), ", "))
	}
	base, err := preset.Lookup(baseID)
	if err != nil {
		return store.Preset{}, errcode.New(errcode.UnknownPreset, "base_preset_id %q is not a built-in preset: one of %s", baseID, strings.Join(preset.IDs(), ", "))
	}
	if err := checkSettings(base, st); err != nil {
		return store.Preset{}, err
	}
	raw, err := json.Marshal(st)
	if err != nil {
		return store.Preset{}, fmt.Errorf("encode preset settings: %w", err)
	}
	return store.Preset{Name: name, BasePresetID: base.ID, Settings: raw}, nil
}

// checkSettings validates overrides against their base preset.
func checkSettings(base preset.Preset, st presetSettings) error {
	if _, err := preset.ParseLevel(st.Quality); err != nil {
		return errcode.New(errcode.InvalidOption, "settings.quality %q: want web, hd or ultra", st.Quality)
	}
	if _, err := preset.ParseFit(st.Fit); err != nil {
		return errcode.New(errcode.InvalidOption, "settings.fit %q: want blur, pad or crop", st.Fit)
	}
	switch {
	case st.FPS < 0 || st.FPS > 120:
		return errcode.New(errcode.InvalidOption, "settings.fps %v: want 1 to 120, or 0 for the preset's", st.FPS)
	case st.FPS > 0 && st.FPS < 1:
		return errcode.New(errcode.InvalidOption, "settings.fps %v: want at least 1", st.FPS)
	case st.FPS > 0 && base.Rules.MaxFPS > 0 && st.FPS > base.Rules.MaxFPS:
		return errcode.New(errcode.InvalidOption, "settings.fps %v: %s allows at most %v", st.FPS, base.ID, base.Rules.MaxFPS)
	case st.FPS > 0 && st.FPS < base.Rules.MinFPS:
		return errcode.New(errcode.InvalidOption, "settings.fps %v: %s needs at least %v", st.FPS, base.ID, base.Rules.MinFPS)
	case st.VideoKbps < 0 || st.VideoKbps > 0 && (st.VideoKbps < 50 || st.VideoKbps > 500_000):
		return errcode.New(errcode.InvalidOption, "settings.video_kbps %d: want 50 to 500000, or 0 for the quality level's", st.VideoKbps)
	}
	if err := jobs.CheckCaptionsMode(st.CaptionsMode); err != nil {
		return errcode.New(errcode.InvalidOption, "settings.captions_mode %q: want auto, burn, soft, sidecar or none", st.CaptionsMode)
	}
	if _, err := st.Loudness.Normalize(); err != nil {
		return errcode.New(errcode.InvalidOption, "settings.loudness %q: want platform, off or a level in LUFS between -70 and -5", string(st.Loudness))
	}
	return nil
}
