package store

import (
	"context"
	"fmt"
	"time"
)

// BrandKit is a client's look, kept in a workspace: a watermark image and
// how it sits in the frame, and optional intro and outro clips. Agencies pick
// the client's kit once per export or per preset.
type BrandKit struct {
	ID          string `json:"id"`
	WorkspaceID string `json:"workspace_id"`
	// Slug names the kit in requests and the CLI ("acme"); unique in the
	// workspace.
	Slug   string `json:"slug"`
	Name   string `json:"name"`
	Client string `json:"client,omitempty"`
	// WatermarkKey is the image's blob key; "" for no watermark.
	WatermarkKey string `json:"watermark_key,omitempty"`
	// WatermarkFormat is "png" or "svg".
	WatermarkFormat string `json:"watermark_format,omitempty"`
	// Position, Margin, Width and Opacity place the watermark (see
	// render.Watermark; zero values mean its defaults).
	Position string  `json:"position"`
	Margin   float64 `json:"margin"`
	Width    float64 `json:"width"`
	Opacity  float64 `json:"opacity"`
	// IntroProjectID and OutroProjectID are projects played before and
	// after the export's own; "" for none.
	IntroProjectID string    `json:"intro_project_id,omitempty"`
	OutroProjectID string    `json:"outro_project_id,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

const brandKitColumns = `id, workspace_id, slug, name, client, watermark_key, watermark_format,
	watermark_position, watermark_margin, watermark_width, watermark_opacity, intro_project_id,
	outro_project_id, created_at, updated_at`

func scanBrandKit(sc rowScanner) (BrandKit, error) {
	var k BrandKit
	err := sc.Scan(&k.ID, &k.WorkspaceID, &k.Slug, &k.Name, &k.Client, &k.WatermarkKey, &k.WatermarkFormat,
		&k.Position, &k.Margin, &k.Width, &k.Opacity, &k.IntroProjectID, &k.OutroProjectID,
		scanTime(&k.CreatedAt), scanTime(&k.UpdatedAt))
	return k, err
}

// CreateBrandKit stores a brand kit. A slug already used in the workspace
// gives ErrConflict.
func (q *Queries) CreateBrandKit(ctx context.Context, k BrandKit) (BrandKit, error) {
	if k.ID == "" {
		k.ID = NewID(PrefixBrandKit)
	}
	k.CreatedAt = now(k.CreatedAt)
	k.UpdatedAt = k.CreatedAt
	res, err := q.exec(ctx, `INSERT INTO brand_kits (`+brandKitColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
		ON CONFLICT (workspace_id, slug) DO NOTHING`,
		k.ID, k.WorkspaceID, k.Slug, k.Name, k.Client, k.WatermarkKey, k.WatermarkFormat, k.Position,
		k.Margin, k.Width, k.Opacity, k.IntroProjectID, k.OutroProjectID, k.CreatedAt, k.UpdatedAt)
	if err != nil {
		return BrandKit{}, fmt.Errorf("create brand kit: %w", err)
	}
	if err := rowsAffected(res); err != nil {
		return BrandKit{}, fmt.Errorf("create brand kit %q: slug taken: %w", k.Slug, ErrConflict)
	}
	return q.GetBrandKit(ctx, k.ID)
}

// GetBrandKit returns the brand kit with id. Callers serving a workspace
// check WorkspaceID.
func (q *Queries) GetBrandKit(ctx context.Context, id string) (BrandKit, error) {
	k, err := scanBrandKit(q.queryRow(ctx, `SELECT `+brandKitColumns+` FROM brand_kits WHERE id = $1`, id))
	if err != nil {
		return BrandKit{}, fmt.Errorf("get brand kit %s: %w", id, notFound(err))
	}
	return k, nil
}

// FindBrandKit returns the workspace's brand kit whose id or slug is ref.
func (q *Queries) FindBrandKit(ctx context.Context, workspaceID, ref string) (BrandKit, error) {
	k, err := scanBrandKit(q.queryRow(ctx, `SELECT `+brandKitColumns+` FROM brand_kits
		WHERE workspace_id = $1 AND (id = $2 OR slug = $2)`, workspaceID, ref))
	if err != nil {
		return BrandKit{}, fmt.Errorf("find brand kit %q: %w", ref, notFound(err))
	}
	return k, nil
}

// ListBrandKits returns the workspace's brand kits by slug.
func (q *Queries) ListBrandKits(ctx context.Context, workspaceID string) ([]BrandKit, error) {
	rows, err := q.query(ctx, `SELECT `+brandKitColumns+` FROM brand_kits WHERE workspace_id = $1
		ORDER BY slug, id`, workspaceID)
	if err != nil {
		return nil, fmt.Errorf("list brand kits: %w", err)
	}
	ks, err := collect(rows, scanBrandKit)
	if err != nil {
		return nil, fmt.Errorf("list brand kits: %w", err)
	}
	return ks, nil
}

// UpdateBrandKit writes every field of k but its workspace and times. A
// slug already used by another kit of the workspace gives ErrConflict.
func (q *Queries) UpdateBrandKit(ctx context.Context, k BrandKit) (BrandKit, error) {
	// Check the slug first: a failed statement would abort a PostgreSQL
	// transaction.
	var clash int
	err := q.queryRow(ctx, `SELECT COUNT(*) FROM brand_kits WHERE workspace_id = (SELECT workspace_id
		FROM brand_kits WHERE id = $1) AND slug = $2 AND id <> $1`, k.ID, k.Slug).Scan(&clash)
	if err != nil {
		return BrandKit{}, fmt.Errorf("update brand kit %s: %w", k.ID, err)
	}
	if clash > 0 {
		return BrandKit{}, fmt.Errorf("update brand kit %s: slug %q taken: %w", k.ID, k.Slug, ErrConflict)
	}
	res, err := q.exec(ctx, `UPDATE brand_kits SET slug = $2, name = $3, client = $4, watermark_key = $5,
		watermark_format = $6, watermark_position = $7, watermark_margin = $8, watermark_width = $9,
		watermark_opacity = $10, intro_project_id = $11, outro_project_id = $12, updated_at = $13
		WHERE id = $1`, k.ID, k.Slug, k.Name, k.Client, k.WatermarkKey, k.WatermarkFormat, k.Position,
		k.Margin, k.Width, k.Opacity, k.IntroProjectID, k.OutroProjectID, now(time.Time{}))
	if err != nil {
		return BrandKit{}, fmt.Errorf("update brand kit %s: %w", k.ID, err)
	}
	if err := rowsAffected(res); err != nil {
		return BrandKit{}, fmt.Errorf("update brand kit %s: %w", k.ID, err)
	}
	return q.GetBrandKit(ctx, k.ID)
}

// DeleteBrandKit deletes the brand kit with id (not its image: the caller
// removes the blob).
func (q *Queries) DeleteBrandKit(ctx context.Context, id string) error {
	res, err := q.exec(ctx, `DELETE FROM brand_kits WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete brand kit %s: %w", id, err)
	}
	if err := rowsAffected(res); err != nil {
		return fmt.Errorf("delete brand kit %s: %w", id, err)
	}
	return nil
}
