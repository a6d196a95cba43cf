package store

import (
	"outpost/internal/outpost"

	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"outpost/internal/errcode"
)

// PublicationState is where a post is.
type PublicationState = outpost.PublicationState

// Publication states.
const (
	PublicationPending    = outpost.PublicationPending
	PublicationScheduled  = outpost.PublicationScheduled
	PublicationUploading  = outpost.PublicationUploading
	PublicationProcessing = outpost.PublicationProcessing
	PublicationPublished  = outpost.PublicationPublished
	PublicationFailed     = outpost.PublicationFailed
	PublicationCanceled   = outpost.PublicationCanceled
)

// Publication is one post of one rendition to one connected account.
type Publication struct {
	ID           string `json:"id"`
	WorkspaceID  string `json:"workspace_id"`
	ExportID     string `json:"export_id"`
	RenditionID  string `json:"rendition_id"`
	ConnectionID string `json:"connection_id"`
	Platform     string `json:"platform"`
	// Metadata is the post: title, description, caption, tags, privacy…
	Metadata json.RawMessage  `json:"metadata,omitempty"`
	State    PublicationState `json:"state"`
	// RemoteIDs holds every upload step's remote id (upload session,
	// container, media id, post id), saved before the next step so that a
	// retry resumes instead of posting twice.
	RemoteIDs    json.RawMessage `json:"remote_ids,omitempty"`
	PostURL      string          `json:"post_url,omitempty"`
	ErrorCode    errcode.Code    `json:"error_code,omitempty"`
	ErrorMessage string          `json:"error_message,omitempty"`
	ScheduleAt   *time.Time      `json:"schedule_at,omitempty"`
	Attempts     int             `json:"attempts"`
	// PresetID is the export target posted (the rendition's preset).
	PresetID string `json:"preset_id"`
	// JobID is the River job that publishes it (to cancel or reschedule).
	JobID       int64      `json:"job_id,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	PublishedAt *time.Time `json:"published_at,omitempty"`
}

const publicationColumns = `id, workspace_id, export_id, rendition_id, connection_id, platform,
	metadata, state, remote_ids, post_url, error_code, error_message, schedule_at, attempts,
	created_at, updated_at, published_at, preset_id, job_id`

func scanPublication(sc rowScanner) (Publication, error) {
	var p Publication
	var job sql.NullInt64
	err := sc.Scan(&p.ID, &p.WorkspaceID, &p.ExportID, &p.RenditionID, &p.ConnectionID, &p.Platform,
		scanJSON(&p.Metadata), &p.State, scanJSON(&p.RemoteIDs), &p.PostURL, &p.ErrorCode,
		&p.ErrorMessage, scanNullTime(&p.ScheduleAt), &p.Attempts, scanTime(&p.CreatedAt),
		scanTime(&p.UpdatedAt), scanNullTime(&p.PublishedAt), &p.PresetID, &job)
	p.JobID = job.Int64
	return p, err
}

// CreatePublication stores a publication; State defaults to pending, or
// scheduled when ScheduleAt is set.
func (q *Queries) CreatePublication(ctx context.Context, p Publication) (Publication, error) {
	if p.ID == "" {
		p.ID = NewID(PrefixPublication)
	}
	if p.State == "" {
		p.State = PublicationPending
		if p.ScheduleAt != nil {
			p.State = PublicationScheduled
		}
	}
	p.CreatedAt = now(p.CreatedAt)
	p.UpdatedAt = p.CreatedAt
	// RETURNING gives the row as stored, in the same statement.
	p, err := scanPublication(q.queryRow(ctx, `INSERT INTO publications (`+publicationColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
		RETURNING `+publicationColumns,
		p.ID, p.WorkspaceID, p.ExportID, p.RenditionID, p.ConnectionID, p.Platform, p.Metadata,
		p.State, p.RemoteIDs, p.PostURL, p.ErrorCode, p.ErrorMessage, p.ScheduleAt, p.Attempts,
		p.CreatedAt, p.UpdatedAt, p.PublishedAt, p.PresetID, nullJob(p.JobID)))
	if err != nil {
		return Publication{}, fmt.Errorf("create publication: %w", err)
	}
	return p, nil
}

// GetPublication returns the publication with id.
func (q *Queries) GetPublication(ctx context.Context, id string) (Publication, error) {
	p, err := scanPublication(q.queryRow(ctx, `SELECT `+publicationColumns+` FROM publications WHERE id = $1`, id))
	if err != nil {
		return Publication{}, fmt.Errorf("get publication %s: %w", id, notFound(err))
	}
	return p, nil
}

// ListPublications returns an export's publications in creation order.
func (q *Queries) ListPublications(ctx context.Context, exportID string) ([]Publication, error) {
	rows, err := q.query(ctx, `SELECT `+publicationColumns+` FROM publications WHERE export_id = $1
		ORDER BY created_at, id`, exportID)
	if err != nil {
		return nil, fmt.Errorf("list publications: %w", err)
	}
	ps, err := collect(rows, scanPublication)
	if err != nil {
		return nil, fmt.Errorf("list publications: %w", err)
	}
	return ps, nil
}

// CountOpenPublications counts the rendition's publications that are not
// final, or that failed only because their connection expired (they go out
// when the account is connected again): while any is open, the rendition's
// file must stay (pinned).
func (q *Queries) CountOpenPublications(ctx context.Context, renditionID string) (int, error) {
	var n int
	err := q.queryRow(ctx, `SELECT COUNT(*) FROM publications WHERE rendition_id = $1
		AND `+openPublicationCond, renditionID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count open publications: %w", err)
	}
	return n, nil
}

// openPublicationCond is the condition on publications that still need
// their rendition's file: not final and not yet uploaded to be scheduled
// by the platform (scheduled with a post URL), or waiting for a reconnect.
const openPublicationCond = `((state NOT IN ('published', 'failed', 'canceled')
		AND NOT (state = 'scheduled' AND post_url <> ''))
	OR (state = 'failed' AND error_code = 'connection_expired'))`

// SyncRenditionPin sets the rendition's pinned flag from its publications:
// pinned while one is open (see CountOpenPublications), released when none
// is. Call it in the transaction that changed a publication's state, after
// the change.
//
// It first takes the rendition's row lock and only then reads the
// publications, in a statement of its own: under READ COMMITTED a
// statement that waited for the lock sees what the lock holder committed,
// so of concurrent transactions changing publications of one rendition the
// last to get the lock writes the flag from every change (a single UPDATE …
// SET pinned = EXISTS(…) would read the publications as of before its wait,
// and two concurrent last finishes could each see the other still open).
func (q *Queries) SyncRenditionPin(ctx context.Context, renditionID string) error {
	res, err := q.exec(ctx, `UPDATE renditions SET pinned = pinned WHERE id = $1`, renditionID)
	if err != nil {
		return fmt.Errorf("lock rendition %s: %w", renditionID, err)
	}
	if err := rowsAffected(res); err != nil {
		return fmt.Errorf("lock rendition %s: %w", renditionID, err)
	}
	_, err = q.exec(ctx, `UPDATE renditions SET pinned = NOT pinned, updated_at = $2
		WHERE id = $1 AND pinned <> EXISTS (SELECT 1 FROM publications
			WHERE rendition_id = $1 AND `+openPublicationCond+`)`, renditionID, now(time.Time{}))
	if err != nil {
		return fmt.Errorf("sync rendition pin %s: %w", renditionID, err)
	}
	return nil
}

// UpdatePublication writes the progress fields of p (metadata, state,
// remote ids, post URL, error, schedule, attempts, published time) and sets
// UpdatedAt.
func (q *Queries) UpdatePublication(ctx context.Context, p Publication) (Publication, error) {
	res, err := q.exec(ctx, `UPDATE publications SET metadata = $2, state = $3, remote_ids = $4,
		post_url = $5, error_code = $6, error_message = $7, schedule_at = $8, attempts = $9,
		published_at = $10, updated_at = $11 WHERE id = $1`,
		p.ID, p.Metadata, p.State, p.RemoteIDs, p.PostURL, p.ErrorCode, p.ErrorMessage, p.ScheduleAt,
		p.Attempts, p.PublishedAt, now(time.Time{}))
	if err != nil {
		return Publication{}, fmt.Errorf("update publication %s: %w", p.ID, err)
	}
	if err := rowsAffected(res); err != nil {
		return Publication{}, fmt.Errorf("update publication %s: %w", p.ID, err)
	}
	return q.GetPublication(ctx, p.ID)
}

func nullJob(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// ListPublicationsByRendition returns the rendition's publications in
// creation order.
func (q *Queries) ListPublicationsByRendition(ctx context.Context, renditionID string) ([]Publication, error) {
	return q.listPublications(ctx, "list rendition publications", `rendition_id = $1`, renditionID)
}

// ListPublicationsByConnection returns the connection's publications in a
// state (all when state is empty), in creation order.
func (q *Queries) ListPublicationsByConnection(ctx context.Context, connectionID string, state PublicationState) ([]Publication, error) {
	if state == "" {
		return q.listPublications(ctx, "list connection publications", `connection_id = $1`, connectionID)
	}
	return q.listPublications(ctx, "list connection publications", `connection_id = $1 AND state = $2`, connectionID, state)
}

func (q *Queries) listPublications(ctx context.Context, what, where string, args ...any) ([]Publication, error) {
	rows, err := q.query(ctx, `SELECT `+publicationColumns+` FROM publications WHERE `+where+`
		ORDER BY created_at, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	ps, err := collect(rows, scanPublication)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return ps, nil
}

// ListLivePublicationJobs returns up to limit publications, of every
// workspace, that are not final, have a job and were last updated before
// t: the candidates of the sweep for publications whose job ended without
// finishing them. Oldest first.
func (q *Queries) ListLivePublicationJobs(ctx context.Context, t time.Time, limit int) ([]Publication, error) {
	rows, err := q.query(ctx, `SELECT `+publicationColumns+` FROM publications
		WHERE state IN ('pending', 'scheduled', 'uploading', 'processing') AND job_id IS NOT NULL AND updated_at < $1
		ORDER BY updated_at, id LIMIT $2`, t, pageLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("list live publication jobs: %w", err)
	}
	ps, err := collect(rows, scanPublication)
	if err != nil {
		return nil, fmt.Errorf("list live publication jobs: %w", err)
	}
	return ps, nil
}

// CountDuePublications counts the export's publications that are due and
// not final (pending, uploading or processing): while any is, the export's
// live stream goes on. Scheduled ones are not counted.
func (q *Queries) CountDuePublications(ctx context.Context, exportID string) (int, error) {
	var n int
	err := q.queryRow(ctx, `SELECT COUNT(*) FROM publications WHERE export_id = $1
		AND state IN ('pending', 'uploading', 'processing')`, exportID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count due publications: %w", err)
	}
	return n, nil
}

// TransitionPublication writes p like UpdatePublication, but only while the
// stored state is one of from; otherwise it returns ErrConflict (a cancel,
// or another worker, got there first).
func (q *Queries) TransitionPublication(ctx context.Context, p Publication, from ...PublicationState) (Publication, error) {
	var pa params
	pa.add(p.ID)
	set := `metadata = ` + pa.add(p.Metadata) + `, state = ` + pa.add(p.State) + `, remote_ids = ` + pa.add(p.RemoteIDs) +
		`, post_url = ` + pa.add(p.PostURL) + `, error_code = ` + pa.add(p.ErrorCode) + `, error_message = ` + pa.add(p.ErrorMessage) +
		`, schedule_at = ` + pa.add(p.ScheduleAt) + `, attempts = ` + pa.add(p.Attempts) + `, published_at = ` + pa.add(p.PublishedAt) +
		`, job_id = ` + pa.add(nullJob(p.JobID)) + `, updated_at = ` + pa.add(now(time.Time{}))
	in := make([]string, len(from))
	for i, st := range from {
		in[i] = pa.add(st)
	}
	where := `id = $1`
	if len(in) > 0 {
		where += ` AND state IN (` + strings.Join(in, ", ") + `)`
	}
	res, err := q.exec(ctx, `UPDATE publications SET `+set+` WHERE `+where, pa.args...)
	if err != nil {
		return Publication{}, fmt.Errorf("update publication %s: %w", p.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return Publication{}, fmt.Errorf("update publication %s: %w", p.ID, err)
	} else if n == 0 {
		cur, err := q.GetPublication(ctx, p.ID)
		if err != nil {
			return Publication{}, err
		}
		return cur, fmt.Errorf("update publication %s: it is %s: %w", p.ID, cur.State, ErrConflict)
	}
	return q.GetPublication(ctx, p.ID)
}

// NotePublicationError records on a live publication why it waits for
// its next attempt (the last attempt's error), and nothing else: the API
// and the UI show it while the job retries. A publication that finished
// meanwhile is left as it is.
func (q *Queries) NotePublicationError(ctx context.Context, id string, code errcode.Code, msg string) error {
	_, err := q.exec(ctx, `UPDATE publications SET error_code = $2, error_message = $3, updated_at = $4
		WHERE id = $1 AND state IN ('pending', 'scheduled', 'uploading', 'processing')`, id, code, msg, now(time.Time{}))
	if err != nil {
		return fmt.Errorf("note publication %s error: %w", id, err)
	}
	return nil
}

// SavePublicationRemoteIDs stores the remote ids of a publication's upload
// steps, and nothing else, unless it is final: what a step created is on
// record before the next step starts.
func (q *Queries) SavePublicationRemoteIDs(ctx context.Context, id string, remote json.RawMessage) error {
	res, err := q.exec(ctx, `UPDATE publications SET remote_ids = $2, updated_at = $3
		WHERE id = $1 AND state NOT IN ('published', 'failed', 'canceled')`, id, remote, now(time.Time{}))
	if err != nil {
		return fmt.Errorf("save publication %s remote ids: %w", id, err)
	}
	if err := rowsAffected(res); err != nil {
		return fmt.Errorf("save publication %s remote ids: %w", id, err)
	}
	return nil
}
