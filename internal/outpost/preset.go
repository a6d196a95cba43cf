package outpost

import (
	"context"
	"time"

	"outpost/internal/preset"
)

// PresetSettings are a user preset's changes to its built-in base: the
// overrides an export target takes, applied to every target of the preset
// unless the target says otherwise.
type PresetSettings struct {
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
	Loudness Loudness `json:"loudness,omitempty"`
}

// Preset is a built-in or user preset. A user preset shows its base's
// format and rules along with its own settings.
type Preset struct {
	ID           string                          `json:"id"`
	Name         string                          `json:"name"`
	Builtin      bool                            `json:"builtin"`
	BasePresetID string                          `json:"base_preset_id,omitempty"`
	Settings     *PresetSettings                 `json:"settings,omitempty"`
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

// PresetChange creates a user preset, or changes one: absent (nil) fields
// stay; Settings, when present, replace the old ones whole.
type PresetChange struct {
	Name         *string         `json:"name,omitempty"`
	BasePresetID *string         `json:"base_preset_id,omitempty"`
	Settings     *PresetSettings `json:"settings,omitempty"`
}

// Presets are the use cases of presets: the built-ins and the workspace's
// own.
type Presets interface {
	// List returns the built-ins, then the workspace's presets.
	List(ctx context.Context, workspaceID string) ([]Preset, error)
	Get(ctx context.Context, workspaceID, id string) (Preset, error)
	Create(ctx context.Context, workspaceID string, req PresetChange) (Preset, error)
	Update(ctx context.Context, workspaceID, id string, req PresetChange) (Preset, error)
	Delete(ctx context.Context, workspaceID, id string) error
}
