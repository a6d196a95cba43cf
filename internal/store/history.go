package store

import (
	"context"
	"time"
)

// DeleteHistoryBefore deletes up to limit history rows, finished exports
// (with their renditions' rows, publications and progress events) created
// before t, and returns how many exports it deleted. It keeps any export
// with a rendition whose file is still stored (saved, pinned or not yet
// expired): files go through the retention sweep, which deletes them and
// marks the rendition, never here. OUTPOST_HISTORY_RETENTION drives it.
func (q *Queries) DeleteHistoryBefore(ctx context.Context, t time.Time, limit int) (int64, error) {
	return q.deleteCount(ctx, "delete history", `DELETE FROM exports WHERE id IN (
		SELECT e.id FROM exports e WHERE e.created_at < $1 AND e.status IN ($2, $3, $4, $5)
		AND NOT EXISTS (SELECT 1 FROM renditions r WHERE r.export_id = e.id AND r.deleted_at IS NULL
			AND (r.blob_key <> '' OR r.thumbnail_key <> '' OR r.captions_key <> ''))
		ORDER BY e.created_at LIMIT $6)`,
		t, ExportSucceeded, ExportPartiallyFailed, ExportFailed, ExportCanceled, pageLimit(limit))
}
