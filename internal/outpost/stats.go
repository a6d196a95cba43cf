package outpost

import (
	"context"
	"time"
)

// Tracking event types recorded by the interfaces. The export lifecycle
// events (export.queued, export.progress, export.succeeded…) are recorded
// by the services and workers.
const (
	EventHistoryViewed       = "history.viewed"
	EventRenditionDownloaded = "rendition.downloaded"
)

// StatsReport is tracking events counted per UTC day and type, every day
// of the range listed (empty counts on quiet days).
type StatsReport struct {
	From string     `json:"from"` // first day, YYYY-MM-DD
	To   string     `json:"to"`   // last day, inclusive
	Days []StatsDay `json:"days"`
}

// StatsDay is one day's counts.
type StatsDay struct {
	Date   string           `json:"date"`
	Counts map[string]int64 `json:"counts"` // event type → count
}

// Stats are the use cases of tracking events.
type Stats interface {
	// Count counts the workspace's events per UTC day from from to to,
	// both days included.
	Count(ctx context.Context, workspaceID string, from, to time.Time) (StatsReport, error)
	// Record stores a tracking event about subject; it never fails the
	// request it describes (an error is logged).
	Record(ctx context.Context, workspaceID, typ, subjectID string, payload any)
	// RecordDownload records rendition.downloaded for a file served by its
	// signed link (its blob key, and the file name the link gave it:
	// renditions that share one file tell apart by that name).
	RecordDownload(ctx context.Context, blobKey, linkName string)
}
