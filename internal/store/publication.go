package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"outpost/internal/errcode"
)

// PublicationState is where a post is.
type PublicationState string

// Publication states.
const (
	PublicationPending    PublicationState = "pending"
	PublicationScheduled  PublicationState = "scheduled"
	PublicationUploading  PublicationState = "uploading"
	PublicationProcessing PublicationState = "processing" // uploaded; the platform is processing it
	PublicationPublished  PublicationState = "published"
	PublicationFailed     PublicationState = "failed"
	PublicationCanceled   PublicationState = "canceled"
)

// Final reports whether s is a final state.
func (s PublicationState) Final() bool {
	return s == PublicationPublished || s == PublicationFailed || s == PublicationCanceled
}

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
	CreatedAt    time.Time       `json:"created_at"`
	UpdatedAt    time.Time       `json:"updated_at"`
	PublishedAt  *time.Time      `json:"published_at,omitempty"`
}

const publicationColumns = `id, workspace_id, export_id, rendition_id, connection_id, platform,
	metadata, state, remote_ids, post_url, error_code, error_message, schedule_at, attempts,
	created_at, updated_at, published_at`

func scanPublication(sc rowScanner) (Publication, error) {
	var p Publication
	err := sc.Scan(&p.ID, &p.WorkspaceID, &p.ExportID, &p.RenditionID, &p.ConnectionID, &p.Platform,
		scanJSON(&p.Metadata), &p.State, scanJSON(&p.RemoteIDs), &p.PostURL, &p.ErrorCode,
		&p.ErrorMessage, scanNullTime(&p.ScheduleAt), &p.Attempts, scanTime(&p.CreatedAt),
		scanTime(&p.UpdatedAt), scanNullTime(&p.PublishedAt))
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
	_, err := q.exec(ctx, `INSERT INTO publications (`+publicationColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
		p.ID, p.WorkspaceID, p.ExportID, p.RenditionID, p.ConnectionID, p.Platform, p.Metadata,
		p.State, p.RemoteIDs, p.PostURL, p.ErrorCode, p.ErrorMessage, p.ScheduleAt, p.Attempts,
		p.CreatedAt, p.UpdatedAt, p.PublishedAt)
	if err != nil {
		return Publication{}, fmt.Errorf("create publication: %w", err)
	}
	return q.GetPublication(ctx, p.ID)
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
// final: while any is open, the rendition's file must stay (pinned).
func (q *Queries) CountOpenPublications(ctx context.Context, renditionID string) (int, error) {
	var n int
	err := q.queryRow(ctx, `SELECT COUNT(*) FROM publications WHERE rendition_id = $1
		AND state NOT IN ('published', 'failed', 'canceled')`, renditionID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count open publications: %w", err)
	}
	return n, nil
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
