package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// SetExportJobID records the River job that works the export.
func (q *Queries) SetExportJobID(ctx context.Context, exportID string, jobID int64) error {
	res, err := q.exec(ctx, `UPDATE exports SET job_id = $2 WHERE id = $1`, exportID, jobID)
	if err != nil {
		return fmt.Errorf("set export %s job: %w", exportID, err)
	}
	if err := rowsAffected(res); err != nil {
		return fmt.Errorf("set export %s job: %w", exportID, err)
	}
	return nil
}

// ExportJobID returns the River job that works the export; 0 when none was
// recorded.
func (q *Queries) ExportJobID(ctx context.Context, exportID string) (int64, error) {
	var id sql.NullInt64
	if err := q.queryRow(ctx, `SELECT job_id FROM exports WHERE id = $1`, exportID).Scan(&id); err != nil {
		return 0, fmt.Errorf("get export %s job: %w", exportID, notFound(err))
	}
	return id.Int64, nil
}

// RequeueExport moves a finished export back to queued for a retry: its
// error, progress and finish time are cleared. Only an export whose status
// is one of from moves; any other gives ErrConflict.
func (q *Queries) RequeueExport(ctx context.Context, id string, from ...ExportStatus) (Export, error) {
	p := &params{}
	p.add(id)
	p.add(now(time.Time{}))
	in := ""
	for i, s := range from {
		if i > 0 {
			in += ", "
		}
		in += p.add(string(s))
	}
	if in == "" {
		return Export{}, fmt.Errorf("requeue export %s: no status to move from", id)
	}
	res, err := q.exec(ctx, `UPDATE exports SET status = 'queued', error_code = '', error_message = '',
		progress_stage = '', progress_percent = 0, progress_eta_ms = 0, updated_at = $2,
		finished_at = NULL WHERE id = $1 AND status IN (`+in+`)`, p.args...)
	if err != nil {
		return Export{}, fmt.Errorf("requeue export %s: %w", id, err)
	}
	if rowsAffected(res) == nil {
		return q.GetExport(ctx, id)
	}
	e, err := q.GetExport(ctx, id)
	if err != nil {
		return Export{}, err
	}
	return Export{}, fmt.Errorf("requeue export %s: it is %s: %w", id, e.Status, ErrConflict)
}

// ResetRenditions moves the export's renditions whose status is one of from
// back to pending, clearing their outcome (error, file facts, check report),
// and returns how many moved. Saved, pinned and deleted flags are kept.
func (q *Queries) ResetRenditions(ctx context.Context, exportID string, from ...RenditionStatus) (int64, error) {
	p := &params{}
	p.add(exportID)
	p.add(now(time.Time{}))
	in := ""
	for i, s := range from {
		if i > 0 {
			in += ", "
		}
		in += p.add(string(s))
	}
	if in == "" {
		return 0, nil
	}
	return q.deleteCount(ctx, "reset renditions", `UPDATE renditions SET status = 'pending', blob_key = '',
		size_bytes = 0, duration_seconds = 0, width = 0, height = 0, video_codec = '', audio_codec = '',
		passthrough = FALSE, check_report = NULL, error_code = '', error_message = '', thumbnail_key = '', captions_key = '',
		warnings = NULL, expires_at = NULL, updated_at = $2 WHERE export_id = $1 AND status IN (`+in+`)`, p.args...)
}

// CancelRenditions marks the export's pending and running renditions
// canceled and returns how many.
func (q *Queries) CancelRenditions(ctx context.Context, exportID string) (int64, error) {
	return q.deleteCount(ctx, "cancel renditions", `UPDATE renditions SET status = 'canceled',
		error_code = 'canceled', error_message = 'the export was canceled', updated_at = $2
		WHERE export_id = $1 AND status IN ('pending', 'running')`, exportID, now(time.Time{}))
}

// LiveExportJob is a queued or running export and the job working it.
type LiveExportJob struct {
	ExportID string
	JobID    int64
}

// ListLiveExportJobs returns the queued and running exports with a job that
// were last updated before t, oldest first, at most 500.
func (q *Queries) ListLiveExportJobs(ctx context.Context, t time.Time) ([]LiveExportJob, error) {
	rows, err := q.query(ctx, `SELECT id, job_id FROM exports
		WHERE status IN ('queued', 'running') AND job_id IS NOT NULL AND updated_at < $1
		ORDER BY updated_at LIMIT 500`, t)
	if err != nil {
		return nil, fmt.Errorf("list live export jobs: %w", err)
	}
	ls, err := collect(rows, func(sc rowScanner) (LiveExportJob, error) {
		var l LiveExportJob
		err := sc.Scan(&l.ExportID, &l.JobID)
		return l, err
	})
	if err != nil {
		return nil, fmt.Errorf("list live export jobs: %w", err)
	}
	return ls, nil
}

// UpdateLiveExportProgress records the progress of a queued or running
// export. A final export gives ErrConflict: its progress no longer moves
// (a late report from a canceled render is dropped).
func (q *Queries) UpdateLiveExportProgress(ctx context.Context, id string, p Progress) error {
	return q.updateLive(ctx, id, "update export progress", `progress_stage = $3, progress_percent = $4,
		progress_eta_ms = $5,`, p.Stage, p.Percent, p.ETA.Milliseconds())
}

// TouchLiveExport sets the export's UpdatedAt if it is queued or running,
// else gives ErrConflict (ErrNotFound when it does not exist). In a
// transaction it locks the row, so that what the transaction writes about
// the export commits only while the export is live.
func (q *Queries) TouchLiveExport(ctx context.Context, id string) error {
	return q.updateLive(ctx, id, "touch export", "")
}

func (q *Queries) updateLive(ctx context.Context, id, what, set string, args ...any) error {
	res, err := q.exec(ctx, `UPDATE exports SET `+set+` updated_at = $2
		WHERE id = $1 AND status IN ('queued', 'running')`, append([]any{id, now(time.Time{})}, args...)...)
	if err != nil {
		return fmt.Errorf("%s %s: %w", what, id, err)
	}
	if rowsAffected(res) == nil {
		return nil
	}
	e, err := q.GetExport(ctx, id)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return fmt.Errorf("%s %s: it is %s: %w", what, id, e.Status, ErrConflict)
}
