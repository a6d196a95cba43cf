package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"outpost/internal/errcode"
	"outpost/internal/outpost"
	"outpost/internal/preset"
	"outpost/internal/store"
)

// Presets are the built-in presets and the workspaces' own: one settings
// type (outpost.PresetSettings), and one resolver of a target against them.
type Presets struct {
	store *store.Store
}

var _ outpost.Presets = (*Presets)(nil)

func builtinView(p preset.Preset) outpost.Preset {
	return outpost.Preset{
		ID: p.ID, Name: p.Name, Builtin: true, Platform: p.Platform, Description: p.Description,
		Container: p.Container, Extension: p.Extension, Video: p.Video, Audio: p.Audio,
		Quality: p.Quality, Rules: p.Rules,
	}
}

func userPresetView(p store.Preset) outpost.Preset {
	v := outpost.Preset{ID: p.ID, Name: p.Name, BasePresetID: p.BasePresetID, CreatedAt: &p.CreatedAt, UpdatedAt: &p.UpdatedAt}
	if base, err := preset.Lookup(p.BasePresetID); err == nil {
		b := builtinView(base)
		v.Platform, v.Description, v.Container, v.Extension = b.Platform, b.Description, b.Container, b.Extension
		v.Video, v.Audio, v.Quality, v.Rules = b.Video, b.Audio, b.Quality, b.Rules
	}
	v.Settings = &outpost.PresetSettings{}
	if len(p.Settings) > 0 {
		_ = json.Unmarshal(p.Settings, v.Settings)
	}
	return v
}

// List returns the built-ins, then the workspace's presets.
func (s *Presets) List(ctx context.Context, workspaceID string) ([]outpost.Preset, error) {
	user, err := s.store.ListPresets(ctx, workspaceID)
	if err != nil {
		return nil, err
	}
	builtins := preset.Builtins()
	out := make([]outpost.Preset, 0, len(builtins)+len(user))
	for _, p := range builtins {
		out = append(out, builtinView(p))
	}
	for _, p := range user {
		out = append(out, userPresetView(p))
	}
	return out, nil
}

// Get returns a built-in or one of the workspace's presets.
func (s *Presets) Get(ctx context.Context, workspaceID, id string) (outpost.Preset, error) {
	if p, err := preset.Lookup(id); err == nil {
		return builtinView(p), nil
	}
	p, err := s.user(ctx, workspaceID, id)
	if err != nil {
		return outpost.Preset{}, err
	}
	return userPresetView(p), nil
}

func (s *Presets) user(ctx context.Context, workspaceID, id string) (store.Preset, error) {
	return inWorkspace(ctx, workspaceID, "preset", id, s.store.GetPreset, func(p store.Preset) string { return p.WorkspaceID })
}

// Create makes a user preset on a built-in.
func (s *Presets) Create(ctx context.Context, workspaceID string, req outpost.PresetChange) (outpost.Preset, error) {
	p, err := change(req).apply(store.Preset{WorkspaceID: workspaceID})
	if err != nil {
		return outpost.Preset{}, err
	}
	return s.save(ctx, p, s.store.CreatePreset)
}

// Update changes a user preset; built-ins are read-only.
func (s *Presets) Update(ctx context.Context, workspaceID, id string, req outpost.PresetChange) (outpost.Preset, error) {
	if _, err := preset.Lookup(id); err == nil {
		return outpost.Preset{}, &errcode.Error{Code: errcode.Conflict, Message: "Built-in formats cannot be changed: " + id + " is read-only",
			Remedy: fmt.Sprintf("Save your settings as a preset of your own instead (base_preset_id %q).", id)}
	}
	old, err := s.user(ctx, workspaceID, id)
	if err != nil {
		return outpost.Preset{}, err
	}
	p, err := change(req).apply(old)
	if err != nil {
		return outpost.Preset{}, err
	}
	return s.save(ctx, p, s.store.UpdatePreset)
}

// save stores a checked preset with write; a taken name is a conflict.
func (s *Presets) save(ctx context.Context, p store.Preset, write func(context.Context, store.Preset) (store.Preset, error)) (outpost.Preset, error) {
	saved, err := write(ctx, p)
	if errors.Is(err, store.ErrConflict) {
		return outpost.Preset{}, errcode.New(errcode.Conflict, "a preset named %q already exists", p.Name)
	}
	if err != nil {
		return outpost.Preset{}, err
	}
	return userPresetView(saved), nil
}

// change is a preset change applied to a stored preset.
type change outpost.PresetChange

// apply returns old with the change's fields (absent ones stay; settings
// replace the old ones whole), checked and ready to store.
func (c change) apply(old store.Preset) (store.Preset, error) {
	name, base := old.Name, old.BasePresetID
	var st outpost.PresetSettings
	if len(old.Settings) > 0 {
		_ = json.Unmarshal(old.Settings, &st)
	}
	if c.Name != nil {
		name = *c.Name
	}
	if c.BasePresetID != nil {
		base = *c.BasePresetID
	}
	if c.Settings != nil {
		st = *c.Settings
	}
	p, err := checkUserPreset(name, base, st)
	p.ID, p.WorkspaceID = old.ID, old.WorkspaceID
	return p, err
}

// Delete deletes a user preset; exports made with it are kept.
func (s *Presets) Delete(ctx context.Context, workspaceID, id string) error {
	if _, err := preset.Lookup(id); err == nil {
		return &errcode.Error{Code: errcode.Conflict, Message: "Built-in formats cannot be deleted: " + id + " is read-only",
			Remedy: "Delete presets of your own only; built-ins are always there."}
	}
	if _, err := s.user(ctx, workspaceID, id); err != nil {
		return err
	}
	return coded(s.store.DeletePreset(ctx, id), "preset", id)
}

// checkUserPreset validates a user preset and returns it ready to store.
func checkUserPreset(name, baseID string, st outpost.PresetSettings) (store.Preset, error) {
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
	if st, err = checkSettings(base, st); err != nil {
		return store.Preset{}, err
	}
	raw, err := json.Marshal(st)
	if err != nil {
		return store.Preset{}, fmt.Errorf("encode preset settings: %w", err)
	}
	return store.Preset{Name: name, BasePresetID: base.ID, Settings: raw}, nil
}

// checkSettings validates overrides against their base preset and returns
// them in their stored form (levels and fits by their names).
func checkSettings(base preset.Preset, st outpost.PresetSettings) (outpost.PresetSettings, error) {
	if st.Quality != "" {
		l, err := preset.ParseLevel(st.Quality)
		if err != nil {
			return st, errcode.New(errcode.InvalidOption, "settings.quality %q: want web, hd or ultra", st.Quality)
		}
		st.Quality = string(l)
	}
	if st.Fit != "" {
		f, err := preset.ParseFit(st.Fit)
		if err != nil {
			return st, errcode.New(errcode.InvalidOption, "settings.fit %q: want blur, pad or crop", st.Fit)
		}
		st.Fit = string(f)
	}
	switch {
	case st.FPS < 0 || st.FPS > maxFPS:
		return st, errcode.New(errcode.InvalidOption, "settings.fps %v: want 1 to 120, or 0 for the preset's", st.FPS)
	case st.FPS > 0 && st.FPS < 1:
		return st, errcode.New(errcode.InvalidOption, "settings.fps %v: want at least 1", st.FPS)
	case st.FPS > 0 && base.Rules.MaxFPS > 0 && st.FPS > base.Rules.MaxFPS:
		return st, errcode.New(errcode.InvalidOption, "settings.fps %v: %s allows at most %v", st.FPS, base.ID, base.Rules.MaxFPS)
	case st.FPS > 0 && st.FPS < base.Rules.MinFPS:
		return st, errcode.New(errcode.InvalidOption, "settings.fps %v: %s needs at least %v", st.FPS, base.ID, base.Rules.MinFPS)
	case st.VideoKbps < 0 || st.VideoKbps > 0 && (st.VideoKbps < minVideoKbps || st.VideoKbps > maxVideoKbps):
		return st, errcode.New(errcode.InvalidOption, "settings.video_kbps %d: want 50 to 500000, or 0 for the quality level's", st.VideoKbps)
	}
	st.BrandKit, st.CaptionsMode = strings.TrimSpace(st.BrandKit), strings.ToLower(strings.TrimSpace(st.CaptionsMode))
	if err := outpost.CheckCaptionsMode(st.CaptionsMode); err != nil {
		return st, errcode.New(errcode.InvalidOption, "settings.captions_mode %q: want auto, burn, soft, sidecar or none", st.CaptionsMode)
	}
	l, err := st.Loudness.Normalize()
	if err != nil {
		return st, errcode.New(errcode.InvalidOption, "settings.loudness %q: want platform, off or a level in LUFS between -70 and -5", string(st.Loudness))
	}
	st.Loudness = l
	return st, nil
}

// Resolve applies a user preset's settings and the defaults to t and
// returns it with the built-in preset it renders with.
func (s *Presets) Resolve(ctx context.Context, workspaceID string, t outpost.TargetRequest) (outpost.ResolvedTarget, preset.Preset, error) {
	rt := outpost.ResolvedTarget{TargetRequest: t}
	rt.Preset = strings.TrimSpace(t.Preset)
	if rt.Preset == "" {
		return rt, preset.Preset{}, errcode.New(errcode.InvalidOption, "preset is required")
	}
	var settings outpost.PresetSettings
	p, err := preset.Lookup(rt.Preset)
	if err != nil {
		up, uerr := s.store.GetPreset(ctx, rt.Preset)
		if errors.Is(uerr, store.ErrNotFound) || (uerr == nil && up.WorkspaceID != workspaceID) {
			return rt, preset.Preset{}, errcode.New(errcode.UnknownPreset, "unknown preset %q", rt.Preset)
		}
		if uerr != nil {
			return rt, preset.Preset{}, uerr
		}
		if p, err = preset.Lookup(up.BasePresetID); err != nil {
			return rt, preset.Preset{}, errcode.New(errcode.UnknownPreset, "preset %q is based on unknown preset %q", rt.Preset, up.BasePresetID)
		}
		if len(up.Settings) > 0 {
			if err := json.Unmarshal(up.Settings, &settings); err != nil {
				return rt, preset.Preset{}, errcode.New(errcode.InvalidOption, "preset %q has unreadable settings: %v", rt.Preset, err)
			}
		}
	}
	rt.Base = p.ID
	if rt.Quality == "" {
		rt.Quality = settings.Quality
	}
	if rt.Fit == "" {
		rt.Fit = settings.Fit
	}
	if rt.FPS == 0 {
		rt.FPS = settings.FPS
	}
	if rt.VideoKbps == 0 {
		rt.VideoKbps = settings.VideoKbps
	}
	if strings.TrimSpace(rt.BrandKit) == "" {
		rt.BrandKit = settings.BrandKit
	}
	if strings.TrimSpace(rt.CaptionsMode) == "" {
		rt.CaptionsMode = settings.CaptionsMode
	}
	if strings.TrimSpace(string(rt.Loudness)) == "" {
		rt.Loudness = settings.Loudness
	}
	level, err := preset.ParseLevel(rt.Quality)
	if err != nil {
		return rt, p, errcode.New(errcode.InvalidOption, "quality %q: use web, hd or ultra", rt.Quality)
	}
	fit, err := preset.ParseFit(rt.Fit)
	if err != nil {
		return rt, p, errcode.New(errcode.InvalidOption, "fit %q: use pad, blur or crop", rt.Fit)
	}
	rt.Quality, rt.Fit = string(level), string(fit)
	if rt.FPS < 0 || rt.FPS > maxFPS {
		return rt, p, errcode.New(errcode.InvalidOption, "fps %g: use 1 to %d, or 0 for the preset's", rt.FPS, maxFPS)
	}
	if rt.VideoKbps != 0 && (rt.VideoKbps < minVideoKbps || rt.VideoKbps > maxVideoKbps) {
		return rt, p, errcode.New(errcode.InvalidOption, "video_kbps %d: use %d to %d, or 0 for the quality level's", rt.VideoKbps, minVideoKbps, maxVideoKbps)
	}
	return rt, p, nil
}
