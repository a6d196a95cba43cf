// Package plan is a workspace's limits (its plan) and the one check of a
// request against them. Instance admins set the limits; the zero Limits is
// unlimited, and so is every zero field. It is pure: the caller brings the
// workspace's current usage.
package plan

import (
	"fmt"

	"github.com/dustin/go-humanize"

	"outpost/internal/errcode"
)

// Limits are a workspace's plan. Zero values mean "no limit".
type Limits struct {
	// MaxResolution is the highest output resolution, as the short side
	// in pixels (1080: up to 1080p, so 1920×1080 and 1080×1920 pass and
	// 3840×2160 does not).
	MaxResolution int `json:"max_resolution"`
	// BatchDisabled refuses batch requests (several projects at once).
	BatchDisabled bool `json:"batch_disabled"`
	// VariantsDisabled refuses variants requests (several settings of one
	// project at once).
	VariantsDisabled bool `json:"variants_disabled"`
	// MaxConcurrentExports caps the exports queued or running at once.
	MaxConcurrentExports int `json:"max_concurrent_exports"`
	// MaxStoredBytes caps the bytes of sources and renditions kept.
	MaxStoredBytes int64 `json:"max_stored_bytes"`
}

// Unlimited reports whether no limit is set.
func (l Limits) Unlimited() bool { return l == Limits{} }

// Usage is what a workspace uses now.
type Usage struct {
	// ActiveExports are the exports queued or running.
	ActiveExports int `json:"active_exports"`
	// StoredBytes are the bytes of sources and renditions kept.
	StoredBytes int64 `json:"stored_bytes"`
}

// Request is what a new request would add.
type Request struct {
	// Outputs are the width×height of each output it renders.
	Outputs []Size
	// Batch and Variants say what kind of request it is.
	Batch    bool
	Variants bool
	// Exports is how many exports it starts (0 for none).
	Exports int
	// Bytes is what it stores (an upload's size; 0 when unknown).
	Bytes int64
}

// Size is an output's dimensions in pixels.
type Size struct{ Width, Height int }

func (s Size) shortSide() int { return min(s.Width, s.Height) }

// Check returns nil when the request fits the limits with the usage, else a
// plan_limit error naming the first limit it passes.
func (l Limits) Check(req Request, u Usage) error {
	if l.MaxResolution > 0 {
		for _, o := range req.Outputs {
			if o.shortSide() > l.MaxResolution {
				return errcode.New(errcode.PlanLimit, "max_resolution: this workspace's plan renders up to %dp; a %d×%d output is %dp",
					l.MaxResolution, o.Width, o.Height, o.shortSide())
			}
		}
	}
	if req.Batch && l.BatchDisabled {
		return errcode.New(errcode.PlanLimit, "batch: this workspace's plan does not include batch exports; export the projects one by one")
	}
	if req.Variants && l.VariantsDisabled {
		return errcode.New(errcode.PlanLimit, "variants: this workspace's plan does not include variants; export each setting on its own")
	}
	if l.MaxConcurrentExports > 0 && req.Exports > 0 && u.ActiveExports+req.Exports > l.MaxConcurrentExports {
		return errcode.New(errcode.PlanLimit, "max_concurrent_exports: this workspace's plan runs %d exports at once; %d are queued or running and this request adds %d",
			l.MaxConcurrentExports, u.ActiveExports, req.Exports)
	}
	if l.MaxStoredBytes > 0 && (u.StoredBytes >= l.MaxStoredBytes || req.Bytes > 0 && u.StoredBytes+req.Bytes > l.MaxStoredBytes) {
		return errcode.New(errcode.PlanLimit, "max_stored_bytes: this workspace's plan stores %s; %s are stored%s",
			humanize.IBytes(uint64(l.MaxStoredBytes)), humanize.IBytes(uint64(max(u.StoredBytes, 0))), adding(req.Bytes))
	}
	return nil
}

func adding(b int64) string {
	if b <= 0 {
		return ""
	}
	return fmt.Sprintf(" and this adds %s", humanize.IBytes(uint64(b)))
}
