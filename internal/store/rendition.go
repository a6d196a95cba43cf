package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"outpost/internal/errcode"
	"outpost/internal/outpost"
)

// RenditionStatus is where one output file of an export is.
type RenditionStatus = outpost.RenditionStatus

// Rendition statuses.
const (
	RenditionPending   = outpost.RenditionPending
	RenditionRunning   = outpost.RenditionRunning
	RenditionSucceeded = outpost.RenditionSucceeded
	RenditionFailed    = outpost.RenditionFailed
	RenditionCanceled  = outpost.RenditionCanceled
)

// Rendition is one output file of an export: one target.
type Rendition struct {
	ID          string          `json:"id"`
	ExportID    string          `json:"export_id"`
	PresetID    string          `json:"preset_id"`
	TargetIndex int             `json:"target_index"` // position in the export's targets
	Status      RenditionStatus `json:"status"`
	BlobKey     string          `json:"blob_key,omitempty"`
	SizeBytes   int64           `json:"size_bytes"`
	// Duration is in seconds.
	Duration    float64 `json:"duration_seconds"`
	Width       int     `json:"width"`
	Height      int     `json:"height"`
	VideoCodec  string  `json:"video_codec,omitempty"`
	AudioCodec  string  `json:"audio_codec,omitempty"`
	Passthrough bool    `json:"passthrough"` // stream-copied, not re-encoded
	// CheckReport is the validation of the file against its target's rules.
	CheckReport  json.RawMessage `json:"check_report,omitempty"`
	ErrorCode    errcode.Code    `json:"error_code,omitempty"`
	ErrorMessage string          `json:"error_message,omitempty"`
	ThumbnailKey string          `json:"thumbnail_key,omitempty"`
	// CaptionsKey is the caption sidecar file (SRT or WebVTT); "" for none.
	CaptionsKey string `json:"captions_key,omitempty"`
	// Warnings are about a file made all the same (a JSON array of
	// engine.Warning: source_damaged with its time ranges); nil for none.
	Warnings json.RawMessage `json:"warnings,omitempty"`
	// ExpiresAt is when the file may be deleted, unless Pinned or Saved.
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	// Pinned keeps the file while a scheduled publication needs it.
	Pinned bool `json:"pinned"`
	// Saved keeps the file until the user deletes it.
	Saved bool `json:"saved"`
	// DeletedAt is when the file was removed from blob storage.
	DeletedAt *time.Time `json:"deleted_at,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
}

const renditionColumns = `id, export_id, preset_id, target_index, status, blob_key, size_bytes,
	duration_seconds, width, height, video_codec, audio_codec, passthrough, check_report, error_code,
	error_message, thumbnail_key, expires_at, pinned, saved, deleted_at, created_at, updated_at, captions_key, warnings`

func scanRendition(sc rowScanner) (Rendition, error) {
	var r Rendition
	err := sc.Scan(&r.ID, &r.ExportID, &r.PresetID, &r.TargetIndex, &r.Status, &r.BlobKey, &r.SizeBytes,
		&r.Duration, &r.Width, &r.Height, &r.VideoCodec, &r.AudioCodec, &r.Passthrough,
		scanJSON(&r.CheckReport), &r.ErrorCode, &r.ErrorMessage, &r.ThumbnailKey,
		scanNullTime(&r.ExpiresAt), &r.Pinned, &r.Saved, scanNullTime(&r.DeletedAt),
		scanTime(&r.CreatedAt), scanTime(&r.UpdatedAt), &r.CaptionsKey, scanJSON(&r.Warnings))
	return r, err
}

// CreateRendition stores a new rendition. ID, CreatedAt and UpdatedAt are
// filled in when zero; Status defaults to pending. A second rendition for
// the same export and target index gives ErrConflict.
func (q *Queries) CreateRendition(ctx context.Context, r Rendition) (Rendition, error) {
	if r.ID == "" {
		r.ID = NewID(PrefixRendition)
	}
	if r.Status == "" {
		r.Status = RenditionPending
	}
	r.CreatedAt = now(r.CreatedAt)
	r.UpdatedAt = r.CreatedAt
	// RETURNING gives the row as stored, in the same statement: a burst
	// of accepts writes many, on SQLite one at a time.
	r, err := scanRendition(q.queryRow(ctx, `INSERT INTO renditions (`+renditionColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19,
		$20, $21, $22, $23, $24, $25)
		ON CONFLICT (export_id, target_index) DO NOTHING RETURNING `+renditionColumns,
		r.ID, r.ExportID, r.PresetID, r.TargetIndex, r.Status, r.BlobKey, r.SizeBytes, r.Duration,
		r.Width, r.Height, r.VideoCodec, r.AudioCodec, r.Passthrough, r.CheckReport, r.ErrorCode,
		r.ErrorMessage, r.ThumbnailKey, r.ExpiresAt, r.Pinned, r.Saved, r.DeletedAt, r.CreatedAt,
		r.UpdatedAt, r.CaptionsKey, r.Warnings))
	if errors.Is(err, sql.ErrNoRows) {
		return Rendition{}, fmt.Errorf("create rendition: export %s target %d exists: %w", r.ExportID, r.TargetIndex, ErrConflict)
	}
	if err != nil {
		return Rendition{}, fmt.Errorf("create rendition: %w", err)
	}
	return r, nil
}

// GetRendition returns the rendition with id.
func (q *Queries) GetRendition(ctx context.Context, id string) (Rendition, error) {
	r, err := scanRendition(q.queryRow(ctx, `SELECT `+renditionColumns+` FROM renditions WHERE id = $1`, id))
	if err != nil {
		return Rendition{}, fmt.Errorf("get rendition %s: %w", id, notFound(err))
	}
	return r, nil
}

// ListRenditions returns an export's renditions in target order.
func (q *Queries) ListRenditions(ctx context.Context, exportID string) ([]Rendition, error) {
	rows, err := q.query(ctx, `SELECT `+renditionColumns+` FROM renditions WHERE export_id = $1
		ORDER BY target_index`, exportID)
	if err != nil {
		return nil, fmt.Errorf("list renditions: %w", err)
	}
	rs, err := collect(rows, scanRendition)
	if err != nil {
		return nil, fmt.Errorf("list renditions: %w", err)
	}
	return rs, nil
}

// UpdateRendition writes the outcome fields of r (status through
// thumbnail key, CaptionsKey, Warnings and ExpiresAt) and sets UpdatedAt. Pinned, Saved and
// DeletedAt have their own methods, so that a render step never undoes a
// user's save: a saved rendition keeps no expiry whatever r says.
func (q *Queries) UpdateRendition(ctx context.Context, r Rendition) (Rendition, error) {
	res, err := q.exec(ctx, `UPDATE renditions SET status = $2, blob_key = $3, size_bytes = $4,
		duration_seconds = $5, width = $6, height = $7, video_codec = $8, audio_codec = $9,
		passthrough = $10, check_report = $11, error_code = $12, error_message = $13,
		thumbnail_key = $14, expires_at = CASE WHEN saved THEN expires_at ELSE $15 END, updated_at = $16, captions_key = $17, warnings = $18 WHERE id = $1`,
		r.ID, r.Status, r.BlobKey, r.SizeBytes, r.Duration, r.Width, r.Height, r.VideoCodec,
		r.AudioCodec, r.Passthrough, r.CheckReport, r.ErrorCode, r.ErrorMessage, r.ThumbnailKey,
		r.ExpiresAt, now(time.Time{}), r.CaptionsKey, r.Warnings)
	if err != nil {
		return Rendition{}, fmt.Errorf("update rendition %s: %w", r.ID, err)
	}
	if err := rowsAffected(res); err != nil {
		return Rendition{}, fmt.Errorf("update rendition %s: %w", r.ID, err)
	}
	return q.GetRendition(ctx, r.ID)
}

// ListExpiredRenditions returns up to limit renditions whose file has
// expired at the time at and may be deleted: not pinned, not saved, not yet
// deleted. Oldest expiry first.
func (q *Queries) ListExpiredRenditions(ctx context.Context, at time.Time, limit int) ([]Rendition, error) {
	rows, err := q.query(ctx, `SELECT `+renditionColumns+` FROM renditions
		WHERE expires_at <= $1 AND deleted_at IS NULL AND pinned = FALSE AND saved = FALSE
		ORDER BY expires_at, id LIMIT $2`, at, pageLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("list expired renditions: %w", err)
	}
	rs, err := collect(rows, scanRendition)
	if err != nil {
		return nil, fmt.Errorf("list expired renditions: %w", err)
	}
	return rs, nil
}

// renditionHolds is the one rule of who holds a stored file, as SQL on a
// renditions row (alias r) and a key expression: a rendition whose files
// are not deleted (deleted_at IS NULL) holds its video, its thumbnail and
// its caption sidecar. One encode may serve several targets, whose
// renditions then share one video; a file leaves blob storage only when
// no rendition outside what is being let go still holds it, whether a
// rendition expires or is canceled (CountFileHolders) or a deletion
// removes an export, project or workspace (DeletionFiles).
func renditionHolds(r, key string) string {
	return r + ".deleted_at IS NULL AND (" + r + ".blob_key = " + key + " OR " + r + ".thumbnail_key = " + key +
		" OR " + r + ".captions_key = " + key + ")"
}

// CountFileHolders counts the renditions, other than exceptID, that still
// hold the file at key (renditionHolds): the file may leave blob storage
// only when this count is 0, so that deleting one rendition never deletes
// a file another still needs.
func (q *Queries) CountFileHolders(ctx context.Context, key, exceptID string) (int, error) {
	var n int
	err := q.queryRow(ctx, `SELECT COUNT(*) FROM renditions r WHERE `+renditionHolds("r", "$1")+` AND r.id <> $2`,
		key, exceptID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count holders of %s: %w", key, err)
	}
	return n, nil
}

// MarkRenditionDeleted records that the rendition's file (and thumbnail and captions)
// were removed from blob storage at t. Marking twice keeps the first time.
func (q *Queries) MarkRenditionDeleted(ctx context.Context, id string, t time.Time) error {
	return q.updateRenditionFlag(ctx, id, "mark rendition deleted",
		`deleted_at = COALESCE(deleted_at, $2)`, now(t))
}

// SaveRendition keeps a rendition's file until the user deletes it: saved,
// with no expiry. Saving twice is harmless.
func (q *Queries) SaveRendition(ctx context.Context, id string) error {
	return q.updateRenditionFlag(ctx, id, "save rendition", `saved = $2, expires_at = NULL`, true)
}

// UnsaveRendition lets a saved rendition's file go again: not saved, and
// expiring at expiresAt (a time already past deletes it at the next
// cleanup).
func (q *Queries) UnsaveRendition(ctx context.Context, id string, expiresAt time.Time) error {
	res, err := q.exec(ctx, `UPDATE renditions SET saved = $2, expires_at = $3, updated_at = $4 WHERE id = $1`,
		id, false, now(expiresAt), now(time.Time{}))
	if err != nil {
		return fmt.Errorf("unsave rendition %s: %w", id, err)
	}
	if err := rowsAffected(res); err != nil {
		return fmt.Errorf("unsave rendition %s: %w", id, err)
	}
	return nil
}

// SetRenditionPinned pins (keeps while a scheduled publication needs it) or
// unpins a rendition.
func (q *Queries) SetRenditionPinned(ctx context.Context, id string, pinned bool) error {
	return q.updateRenditionFlag(ctx, id, "pin rendition", `pinned = $2`, pinned)
}

func (q *Queries) updateRenditionFlag(ctx context.Context, id, what, set string, v any) error {
	res, err := q.exec(ctx, `UPDATE renditions SET `+set+`, updated_at = $3 WHERE id = $1`, id, v, now(time.Time{}))
	if err != nil {
		return fmt.Errorf("%s %s: %w", what, id, err)
	}
	if err := rowsAffected(res); err != nil {
		return fmt.Errorf("%s %s: %w", what, id, err)
	}
	return nil
}
