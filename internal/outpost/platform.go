package outpost

import (
	"cmp"
	"slices"

	"outpost/internal/publish"
)

// Platform is a publishing platform as the API and the UI show it: the
// part of its descriptor (publish.Descriptor, listed by
// internal/publish/platforms) that a share needs — the post fields with
// their limits and counting rules, how it schedules, the presets that
// suit it, best first — and whether this server can connect it. The share
// forms, their counters and GET /api/v1/platforms are built from it, never
// from tables of their own.
type Platform struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Icon is the platform's mark as inline SVG (a constant of its
	// package: safe to embed in HTML as it is).
	Icon string `json:"-"`
	// Env is the platform's part of its settings' names:
	// OUTPOST_<Env>_CLIENT_ID and _CLIENT_SECRET.
	Env string `json:"-"`
	// Fields are the post fields it takes, in form order; a field's Name
	// is the Destination field it fills (title, description, caption,
	// tags, privacy, format).
	Fields   []publish.Field `json:"fields"`
	Schedule Schedule        `json:"schedule"`
	Presets  []string        `json:"presets"`
	// Configured: this server has the platform's OAuth app, so its
	// accounts can be connected and posted to.
	Configured bool `json:"configured"`
}

// Schedule is how a platform schedules a post: natively, within a window
// (the platform holds the post and publishes it at its time), or not
// (Outpost holds it and posts at the time).
type Schedule struct {
	Native bool `json:"native"`
	// MinAheadSeconds and MaxAheadSeconds bound a native schedule (0: no
	// bound); outside them Outpost holds the post instead.
	MinAheadSeconds int64 `json:"min_ahead_seconds,omitempty"`
	MaxAheadSeconds int64 `json:"max_ahead_seconds,omitempty"`
}

// Formats lists the presets among presets (built-ins, and user presets by
// their base) that suit the platform, best first: in the order of the
// platform's presets (its descriptor's), a built-in before the user
// presets on it. A format no preset of the platform's is the base of does
// not suit it (a vertical Shorts file is not a LinkedIn post).
func (p Platform) Formats(presets []Preset) []string {
	type ranked struct {
		id         string
		rank, user int
	}
	var rs []ranked
	for _, pr := range presets {
		base, user := pr.ID, 0
		if !pr.Builtin {
			base, user = pr.BasePresetID, 1
		}
		if i := slices.Index(p.Presets, base); i >= 0 {
			rs = append(rs, ranked{pr.ID, i, user})
		}
	}
	slices.SortStableFunc(rs, func(a, b ranked) int { return cmp.Or(a.rank-b.rank, a.user-b.user) })
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.id
	}
	return out
}
