package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Segment is one part of an export rendered in segments on many workers
// (migration 00016): part 0 is the rest, part i ≥ 1 piece i.
type Segment struct {
	ExportID string
	Part     int
	// Seconds is the part's length: its weight in the export's progress.
	Seconds float64
	// JobID is the River job rendering it.
	JobID   int64
	Percent float64
	// Files are the names of its stored files (under the export's
	// segments prefix), once it is done.
	Files []string
	// Report is what its render noticed (a media.Report as JSON: the
	// damaged stretches of the source it decoded), once it is done; nil
	// when nothing.
	Report    json.RawMessage
	CreatedAt time.Time
	DoneAt    *time.Time
}

const segmentColumns = `export_id, part, seconds, job_id, percent, files, report, created_at, done_at`

func scanSegment(sc rowScanner) (Segment, error) {
	var s Segment
	var files, report string
	err := sc.Scan(&s.ExportID, &s.Part, &s.Seconds, &s.JobID, &s.Percent, &files, &report, scanTime(&s.CreatedAt),
		scanNullTime(&s.DoneAt))
	if files != "" {
		s.Files = strings.Split(files, "\n")
	}
	if report != "" {
		s.Report = json.RawMessage(report)
	}
	return s, err
}

// CreateSegment records one part of an export's segmented render.
func (q *Queries) CreateSegment(ctx context.Context, s Segment) error {
	if _, err := q.exec(ctx, `INSERT INTO export_segments (`+segmentColumns+`)
		VALUES ($1, $2, $3, $4, 0, '', '', $5, NULL)`, s.ExportID, s.Part, s.Seconds, s.JobID, now(s.CreatedAt)); err != nil {
		return fmt.Errorf("create segment %d of %s: %w", s.Part, s.ExportID, err)
	}
	return nil
}

// ListSegments returns the parts of the export's segmented render, by part.
func (q *Queries) ListSegments(ctx context.Context, exportID string) ([]Segment, error) {
	rows, err := q.query(ctx, `SELECT `+segmentColumns+` FROM export_segments WHERE export_id = $1 ORDER BY part`, exportID)
	if err != nil {
		return nil, fmt.Errorf("list segments: %w", err)
	}
	ss, err := collect(rows, scanSegment)
	if err != nil {
		return nil, fmt.Errorf("list segments: %w", err)
	}
	return ss, nil
}

// SegmentProgress records how far one part's render is.
func (q *Queries) SegmentProgress(ctx context.Context, exportID string, part int, percent float64) error {
	if _, err := q.exec(ctx, `UPDATE export_segments SET percent = $3 WHERE export_id = $1 AND part = $2 AND done_at IS NULL`,
		exportID, part, percent); err != nil {
		return fmt.Errorf("segment progress: %w", err)
	}
	return nil
}

// FinishSegment records that a part's files are stored, with its report
// (nil for none), and returns how
// many parts of the export are not done yet, or -1 when the part was done
// already (a rerun of its job): only the first finish counts. Called in a
// transaction that first locks the export (LockExport), the part that
// finishes last sees 0, however many finish at once.
func (q *Queries) FinishSegment(ctx context.Context, exportID string, part int, files []string, report json.RawMessage) (int, error) {
	res, err := q.exec(ctx, `UPDATE export_segments SET percent = 100, files = $3, report = $4, done_at = $5
		WHERE export_id = $1 AND part = $2 AND done_at IS NULL`, exportID, part, strings.Join(files, "\n"), string(report), now(time.Time{}))
	if err != nil {
		return 0, fmt.Errorf("finish segment %d of %s: %w", part, exportID, err)
	}
	if err := rowsAffected(res); errors.Is(err, ErrNotFound) {
		return -1, nil // done before: this finish is not the one that counts
	} else if err != nil {
		return 0, fmt.Errorf("finish segment %d of %s: %w", part, exportID, err)
	}
	var left int
	if err := q.queryRow(ctx, `SELECT COUNT(*) FROM export_segments WHERE export_id = $1 AND done_at IS NULL`,
		exportID).Scan(&left); err != nil {
		return 0, fmt.Errorf("finish segment %d of %s: %w", part, exportID, err)
	}
	return left, nil
}

// DeleteSegments forgets the parts of the export's segmented render.
func (q *Queries) DeleteSegments(ctx context.Context, exportID string) error {
	if _, err := q.exec(ctx, `DELETE FROM export_segments WHERE export_id = $1`, exportID); err != nil {
		return fmt.Errorf("delete segments: %w", err)
	}
	return nil
}
