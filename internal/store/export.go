package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"outpost/internal/errcode"
	"outpost/internal/outpost"
)

// ExportStatus is where an export is in its life (outpost.ExportStatus:
// the domain owns its vocabulary; the store keeps it).
type ExportStatus = outpost.ExportStatus

// Export statuses.
const (
	ExportQueued          = outpost.ExportQueued
	ExportRunning         = outpost.ExportRunning
	ExportSucceeded       = outpost.ExportSucceeded
	ExportPartiallyFailed = outpost.ExportPartiallyFailed
	ExportFailed          = outpost.ExportFailed
	ExportCanceled        = outpost.ExportCanceled
)

// ExportStatuses lists every status, live ones first.
var ExportStatuses = outpost.ExportStatuses

// Progress is an export's live progress.
type Progress struct {
	// Stage is the step running now ("audio", "render", "check", "store",
	// "publish"); the UI names it.
	Stage   string  `json:"stage,omitempty"`
	Percent float64 `json:"percent"`
	// ETA is the estimated time left; zero when unknown.
	ETA time.Duration `json:"-"`
}

// Export is one export request and its outcome.
type Export struct {
	ID          string `json:"id"`
	WorkspaceID string `json:"workspace_id"`
	ProjectID   string `json:"project_id"`
	// ProjectName is read from the project (for history lists); it is not
	// written by CreateExport.
	ProjectName string       `json:"project_name,omitempty"`
	Status      ExportStatus `json:"status"`
	// Request is the export request as accepted (targets, destinations…).
	Request  json.RawMessage `json:"request,omitempty"`
	Priority int             `json:"priority"`
	Client   string          `json:"client,omitempty"`
	Campaign string          `json:"campaign,omitempty"`
	// PresetIDs are the targets' preset ids, kept apart from Request for
	// search and filters.
	PresetIDs      []string     `json:"preset_ids"`
	Progress       Progress     `json:"progress"`
	ErrorCode      errcode.Code `json:"error_code,omitempty"`
	ErrorMessage   string       `json:"error_message,omitempty"`
	IdempotencyKey string       `json:"idempotency_key,omitempty"`
	// GroupID is shared by the exports one request made (A/B variants);
	// "" for a lone export.
	GroupID string `json:"group_id,omitempty"`
	// Warnings are about files made all the same (a JSON array of
	// engine.Warning, each once: its renditions' warnings); nil for none.
	Warnings json.RawMessage `json:"warnings,omitempty"`
	// Refused are the targets refused when the export was accepted (a JSON
	// array of outpost.RefusedTarget); nil for none.
	Refused    json.RawMessage `json:"refused,omitempty"`
	CreatedAt  time.Time       `json:"created_at"`
	UpdatedAt  time.Time       `json:"updated_at"`
	StartedAt  *time.Time      `json:"started_at,omitempty"`
	FinishedAt *time.Time      `json:"finished_at,omitempty"`
}

const exportColumns = `e.id, e.workspace_id, e.project_id, p.name, e.status, e.request, e.priority,
	e.client, e.campaign, e.preset_ids, e.progress_stage, e.progress_percent, e.progress_eta_ms,
	e.error_code, e.error_message, e.idempotency_key, e.created_at, e.updated_at, e.started_at,
	e.finished_at, e.group_id, e.warnings, e.refused`

const exportFrom = ` FROM exports e JOIN projects p ON p.id = e.project_id`

// exportReturning is exportColumns for the RETURNING of an insert into
// exports, which names no table (SQLite refuses it there) and has no join
// to name the project by.
var exportReturning = strings.ReplaceAll(strings.Replace(exportColumns, "p.name",
	"(SELECT p.name FROM projects p WHERE p.id = project_id)", 1), "e.", "")

func scanExport(sc rowScanner) (Export, error) {
	var e Export
	var presets string
	var etaMS int64
	err := sc.Scan(&e.ID, &e.WorkspaceID, &e.ProjectID, &e.ProjectName, &e.Status, scanJSON(&e.Request),
		&e.Priority, &e.Client, &e.Campaign, &presets, &e.Progress.Stage, &e.Progress.Percent, &etaMS,
		&e.ErrorCode, &e.ErrorMessage, scanText(&e.IdempotencyKey), scanTime(&e.CreatedAt),
		scanTime(&e.UpdatedAt), scanNullTime(&e.StartedAt), scanNullTime(&e.FinishedAt), &e.GroupID,
		scanJSON(&e.Warnings), scanJSON(&e.Refused))
	e.PresetIDs = strings.Fields(presets)
	e.Progress.ETA = time.Duration(etaMS) * time.Millisecond
	return e, err
}

// CreateExport stores a new export. ID, CreatedAt and UpdatedAt are filled
// in when zero; Status defaults to queued. An IdempotencyKey already used in
// the workspace gives ErrConflict (find that export with
// GetExportByIdempotencyKey); on PostgreSQL the transaction stays usable.
func (q *Queries) CreateExport(ctx context.Context, e Export) (Export, error) {
	if e.ID == "" {
		e.ID = NewID(PrefixExport)
	}
	if e.Status == "" {
		e.Status = ExportQueued
	}
	if !e.Status.Valid() {
		return Export{}, fmt.Errorf("create export: invalid status %q", e.Status)
	}
	for _, id := range e.PresetIDs {
		if id == "" || strings.ContainsAny(id, " \t\n") {
			return Export{}, fmt.Errorf("create export: invalid preset id %q", id)
		}
	}
	e.CreatedAt = now(e.CreatedAt)
	e.UpdatedAt = e.CreatedAt
	// RETURNING gives the row as stored, in the same statement: a burst
	// of accepts writes many, on SQLite one at a time.
	e, err := scanExport(q.queryRow(ctx, `INSERT INTO exports (id, workspace_id, project_id, status, request,
		priority, client, campaign, preset_ids, progress_stage, progress_percent, progress_eta_ms,
		error_code, error_message, idempotency_key, created_at, updated_at, started_at, finished_at, group_id,
		warnings, refused)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)
		ON CONFLICT (workspace_id, idempotency_key) DO NOTHING RETURNING `+exportReturning,
		e.ID, e.WorkspaceID, e.ProjectID, e.Status, e.Request, e.Priority, e.Client, e.Campaign,
		strings.Join(e.PresetIDs, " "), e.Progress.Stage, e.Progress.Percent, e.Progress.ETA.Milliseconds(),
		e.ErrorCode, e.ErrorMessage, nullable(e.IdempotencyKey), e.CreatedAt, e.UpdatedAt,
		e.StartedAt, e.FinishedAt, e.GroupID, e.Warnings, e.Refused))
	if errors.Is(err, sql.ErrNoRows) {
		return Export{}, fmt.Errorf("create export: idempotency key %q already used: %w", e.IdempotencyKey, ErrConflict)
	}
	if err != nil {
		return Export{}, fmt.Errorf("create export: %w", err)
	}
	return e, nil
}

// GetExport returns the export with id. Callers serving a workspace check
// WorkspaceID.
func (q *Queries) GetExport(ctx context.Context, id string) (Export, error) {
	e, err := scanExport(q.queryRow(ctx, `SELECT `+exportColumns+exportFrom+` WHERE e.id = $1`, id))
	if err != nil {
		return Export{}, fmt.Errorf("get export %s: %w", id, notFound(err))
	}
	return e, nil
}

// GetExportByIdempotencyKey returns the workspace's export created with key.
func (q *Queries) GetExportByIdempotencyKey(ctx context.Context, workspaceID, key string) (Export, error) {
	e, err := scanExport(q.queryRow(ctx, `SELECT `+exportColumns+exportFrom+
		` WHERE e.workspace_id = $1 AND e.idempotency_key = $2`, workspaceID, key))
	if err != nil {
		return Export{}, fmt.Errorf("get export by idempotency key: %w", notFound(err))
	}
	return e, nil
}

// StatusChange is a new status for an export.
type StatusChange struct {
	Status       ExportStatus
	ErrorCode    errcode.Code // for failed and partially_failed
	ErrorMessage string
	// At is when it happened; now when zero. Moving to running sets
	// StartedAt (once); moving to a final status sets FinishedAt.
	At time.Time
}

// UpdateExportStatus moves an export to a new status and returns it. A final
// export does not change: asking for the status it already has returns it
// unchanged (so a retried job step is harmless), any other gives ErrConflict.
func (q *Queries) UpdateExportStatus(ctx context.Context, id string, c StatusChange) (Export, error) {
	if !c.Status.Valid() {
		return Export{}, fmt.Errorf("update export %s: invalid status %q", id, c.Status)
	}
	at := now(c.At)
	var started, finished *time.Time
	if c.Status == ExportRunning {
		started = &at
	}
	if c.Status.Final() {
		finished = &at
	}
	res, err := q.exec(ctx, `UPDATE exports SET status = $2, error_code = $3, error_message = $4,
		updated_at = $5, started_at = COALESCE(started_at, $6), finished_at = COALESCE($7, finished_at)
		WHERE id = $1 AND status NOT IN ('succeeded', 'partially_failed', 'failed', 'canceled')`,
		id, c.Status, c.ErrorCode, c.ErrorMessage, at, started, finished)
	if err != nil {
		return Export{}, fmt.Errorf("update export %s status: %w", id, err)
	}
	if rowsAffected(res) == nil {
		return q.GetExport(ctx, id)
	}
	e, err := q.GetExport(ctx, id)
	if err != nil {
		return Export{}, err
	}
	if e.Status == c.Status {
		return e, nil
	}
	return Export{}, fmt.Errorf("update export %s to %s: already %s: %w", id, c.Status, e.Status, ErrConflict)
}

// SetExportWarnings records the warnings about an export's files (a JSON
// array; nil for none).
func (q *Queries) SetExportWarnings(ctx context.Context, id string, warnings json.RawMessage) error {
	res, err := q.exec(ctx, `UPDATE exports SET warnings = $2, updated_at = $3 WHERE id = $1`,
		id, warnings, now(time.Time{}))
	if err != nil {
		return fmt.Errorf("update export %s warnings: %w", id, err)
	}
	if err := rowsAffected(res); err != nil {
		return fmt.Errorf("update export %s warnings: %w", id, err)
	}
	return nil
}

// UpdateExportProgress records an export's progress.
func (q *Queries) UpdateExportProgress(ctx context.Context, id string, p Progress) error {
	res, err := q.exec(ctx, `UPDATE exports SET progress_stage = $2, progress_percent = $3,
		progress_eta_ms = $4, updated_at = $5 WHERE id = $1`,
		id, p.Stage, p.Percent, p.ETA.Milliseconds(), now(time.Time{}))
	if err != nil {
		return fmt.Errorf("update export %s progress: %w", id, err)
	}
	if err := rowsAffected(res); err != nil {
		return fmt.Errorf("update export %s progress: %w", id, err)
	}
	return nil
}
