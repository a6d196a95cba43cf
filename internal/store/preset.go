package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Preset is a user preset: a built-in preset with saved changes, named and
// kept in a workspace.
type Preset struct {
	ID          string `json:"id"`
	WorkspaceID string `json:"workspace_id"`
	Name        string `json:"name"`
	// BasePresetID is the built-in preset it starts from ("youtube-1080p").
	BasePresetID string `json:"base_preset_id"`
	// Settings are the overrides applied to the base preset.
	Settings  json.RawMessage `json:"settings,omitempty"`
	CreatedAt time.Time       `json:"created_at"`
	UpdatedAt time.Time       `json:"updated_at"`
}

const presetColumns = `id, workspace_id, name, base_preset_id, settings, created_at, updated_at`

func scanPreset(sc rowScanner) (Preset, error) {
	var p Preset
	err := sc.Scan(&p.ID, &p.WorkspaceID, &p.Name, &p.BasePresetID, scanJSON(&p.Settings),
		scanTime(&p.CreatedAt), scanTime(&p.UpdatedAt))
	return p, err
}

// CreatePreset stores a user preset. A name already used in the workspace
// gives ErrConflict.
func (q *Queries) CreatePreset(ctx context.Context, p Preset) (Preset, error) {
	if p.ID == "" {
		p.ID = NewID(PrefixPreset)
	}
	p.CreatedAt = now(p.CreatedAt)
	p.UpdatedAt = p.CreatedAt
	res, err := q.exec(ctx, `INSERT INTO presets (`+presetColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (workspace_id, name) DO NOTHING`,
		p.ID, p.WorkspaceID, p.Name, p.BasePresetID, p.Settings, p.CreatedAt, p.UpdatedAt)
	if err != nil {
		return Preset{}, fmt.Errorf("create preset: %w", err)
	}
	if err := rowsAffected(res); err != nil {
		return Preset{}, fmt.Errorf("create preset %q: name taken: %w", p.Name, ErrConflict)
	}
	return q.GetPreset(ctx, p.ID)
}

// GetPreset returns the user preset with id.
func (q *Queries) GetPreset(ctx context.Context, id string) (Preset, error) {
	p, err := scanPreset(q.queryRow(ctx, `SELECT `+presetColumns+` FROM presets WHERE id = $1`, id))
	if err != nil {
		return Preset{}, fmt.Errorf("get preset %s: %w", id, notFound(err))
	}
	return p, nil
}

// ListPresets returns the workspace's user presets by name.
func (q *Queries) ListPresets(ctx context.Context, workspaceID string) ([]Preset, error) {
	rows, err := q.query(ctx, `SELECT `+presetColumns+` FROM presets WHERE workspace_id = $1
		ORDER BY name, id`, workspaceID)
	if err != nil {
		return nil, fmt.Errorf("list presets: %w", err)
	}
	ps, err := collect(rows, scanPreset)
	if err != nil {
		return nil, fmt.Errorf("list presets: %w", err)
	}
	return ps, nil
}

// UpdatePreset writes the name, base and settings of p. A name already used
// by another preset of the workspace gives ErrConflict.
func (q *Queries) UpdatePreset(ctx context.Context, p Preset) (Preset, error) {
	// Check the name first: a failed statement would abort a PostgreSQL
	// transaction.
	var clash int
	err := q.queryRow(ctx, `SELECT COUNT(*) FROM presets WHERE workspace_id = (SELECT workspace_id
		FROM presets WHERE id = $1) AND name = $2 AND id <> $1`, p.ID, p.Name).Scan(&clash)
	if err != nil {
		return Preset{}, fmt.Errorf("update preset %s: %w", p.ID, err)
	}
	if clash > 0 {
		return Preset{}, fmt.Errorf("update preset %s: name %q taken: %w", p.ID, p.Name, ErrConflict)
	}
	res, err := q.exec(ctx, `UPDATE presets SET name = $2, base_preset_id = $3, settings = $4,
		updated_at = $5 WHERE id = $1`, p.ID, p.Name, p.BasePresetID, p.Settings, now(time.Time{}))
	if err != nil {
		return Preset{}, fmt.Errorf("update preset %s: %w", p.ID, err)
	}
	if err := rowsAffected(res); err != nil {
		return Preset{}, fmt.Errorf("update preset %s: %w", p.ID, err)
	}
	return q.GetPreset(ctx, p.ID)
}

// DeletePreset deletes the user preset with id.
func (q *Queries) DeletePreset(ctx context.Context, id string) error {
	res, err := q.exec(ctx, `DELETE FROM presets WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete preset %s: %w", id, err)
	}
	if err := rowsAffected(res); err != nil {
		return fmt.Errorf("delete preset %s: %w", id, err)
	}
	return nil
}
