package outpost

import (
	"context"
	"strings"
	"time"
)

// BrandKit is a client's look: a watermark and how it sits in the frame,
// and optional intro and outro clips.
type BrandKit struct {
	ID     string `json:"id"`
	Slug   string `json:"slug"`
	Name   string `json:"name"`
	Client string `json:"client,omitempty"`
	// Watermark is null when the kit has no image.
	Watermark      *Watermark `json:"watermark"`
	IntroProjectID string     `json:"intro_project_id,omitempty"`
	OutroProjectID string     `json:"outro_project_id,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
}

// Watermark is a kit's image and its placement.
type Watermark struct {
	Format string `json:"format"` // png or svg
	// URL is a signed link to the image, valid for an hour.
	URL      string  `json:"url,omitempty"`
	Position string  `json:"position"`
	Margin   float64 `json:"margin"`
	Width    float64 `json:"width"`
	Opacity  float64 `json:"opacity"`
}

// BrandKitChange creates a brand kit, or changes one (absent fields stay).
// Position is tl, tr, bl, br or center; Margin, Width (fractions of the
// frame) and Opacity are 0 for their defaults (0.03, 0.15, 1).
type BrandKitChange struct {
	Slug           *string  `json:"slug,omitempty"`
	Name           *string  `json:"name,omitempty"`
	Client         *string  `json:"client,omitempty"`
	Position       *string  `json:"position,omitempty"`
	Margin         *float64 `json:"margin,omitempty"`
	Width          *float64 `json:"width,omitempty"`
	Opacity        *float64 `json:"opacity,omitempty"`
	IntroProjectID *string  `json:"intro_project_id,omitempty"`
	OutroProjectID *string  `json:"outro_project_id,omitempty"`
}

// MaxWatermarkBytes caps a watermark image.
const MaxWatermarkBytes = 5 << 20

// BrandKits are the use cases of brand kits. A kit is named by its id or
// its slug.
type BrandKits interface {
	// Create makes a kit, with its watermark image (PNG or SVG) when
	// watermark is not nil.
	Create(ctx context.Context, workspaceID string, req BrandKitChange, watermark []byte) (BrandKit, error)
	List(ctx context.Context, workspaceID string) ([]BrandKit, error)
	Get(ctx context.Context, workspaceID, ref string) (BrandKit, error)
	Update(ctx context.Context, workspaceID, ref string, req BrandKitChange) (BrandKit, error)
	// SetWatermark replaces a kit's image; exports accepted earlier keep
	// the old one.
	SetWatermark(ctx context.Context, workspaceID, ref string, image []byte) (BrandKit, error)
	Delete(ctx context.Context, workspaceID, ref string) error
}

// Slug is name as lowercase letters and digits with single dashes between
// words, at most max bytes: a brand kit's slug ("Acme Corp" → "acme-corp"),
// a download's file name.
func Slug(name string, max int) string {
	var b strings.Builder
	dash := false
	for _, c := range strings.ToLower(name) {
		if b.Len() >= max {
			break
		}
		switch {
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
			b.WriteRune(c)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.Trim(b.String(), "-")
}
