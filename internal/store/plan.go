package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"outpost/internal/plan"
)

// Plan is a workspace's limits as stored.
type Plan struct {
	WorkspaceID string `json:"workspace_id"`
	plan.Limits
	// UpdatedAt is zero for a workspace whose plan was never set.
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// GetPlan returns the workspace's plan; one never set is unlimited.
func (q *Queries) GetPlan(ctx context.Context, workspaceID string) (Plan, error) {
	p := Plan{WorkspaceID: workspaceID}
	err := q.queryRow(ctx, `SELECT max_resolution, batch_disabled, variants_disabled, max_concurrent_exports,
		max_stored_bytes, updated_at FROM workspace_plans WHERE workspace_id = $1`, workspaceID).Scan(
		&p.MaxResolution, &p.BatchDisabled, &p.VariantsDisabled, &p.MaxConcurrentExports, &p.MaxStoredBytes,
		scanTime(&p.UpdatedAt))
	if err != nil {
		if errors.Is(notFound(err), ErrNotFound) {
			return Plan{WorkspaceID: workspaceID}, nil
		}
		return Plan{}, fmt.Errorf("get plan of %s: %w", workspaceID, err)
	}
	return p, nil
}

// SetPlan stores the workspace's plan (negative limits are refused).
func (q *Queries) SetPlan(ctx context.Context, p Plan) (Plan, error) {
	if p.MaxResolution < 0 || p.MaxConcurrentExports < 0 || p.MaxStoredBytes < 0 {
		return Plan{}, fmt.Errorf("set plan of %s: negative limit", p.WorkspaceID)
	}
	p.UpdatedAt = now(time.Time{})
	_, err := q.exec(ctx, `INSERT INTO workspace_plans (workspace_id, max_resolution, batch_disabled, variants_disabled,
		max_concurrent_exports, max_stored_bytes, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (workspace_id) DO UPDATE SET max_resolution = excluded.max_resolution,
		batch_disabled = excluded.batch_disabled, variants_disabled = excluded.variants_disabled,
		max_concurrent_exports = excluded.max_concurrent_exports, max_stored_bytes = excluded.max_stored_bytes,
		updated_at = excluded.updated_at`,
		p.WorkspaceID, p.MaxResolution, p.BatchDisabled, p.VariantsDisabled, p.MaxConcurrentExports, p.MaxStoredBytes, p.UpdatedAt)
	if err != nil {
		return Plan{}, fmt.Errorf("set plan of %s: %w", p.WorkspaceID, err)
	}
	return p, nil
}

// WorkspaceUsage returns what the workspace uses now, for plan checks:
// exports queued or running, and the bytes of sources and live renditions
// (a file that backs several renditions counts once).
func (q *Queries) WorkspaceUsage(ctx context.Context, workspaceID string) (plan.Usage, error) {
	var u plan.Usage
	err := q.queryRow(ctx, `SELECT
		(SELECT COUNT(*) FROM exports WHERE workspace_id = $1 AND status IN ($2, $3)),
		(SELECT COALESCE(SUM(size_bytes), 0) FROM projects WHERE workspace_id = $1) +
		(SELECT COALESCE(SUM(size_bytes), 0) FROM (SELECT DISTINCT r.blob_key, r.size_bytes FROM renditions r
			JOIN exports e ON e.id = r.export_id
			WHERE e.workspace_id = $1 AND r.deleted_at IS NULL AND r.blob_key <> '') AS files)`,
		workspaceID, ExportQueued, ExportRunning).Scan(&u.ActiveExports, &u.StoredBytes)
	if err != nil {
		return plan.Usage{}, fmt.Errorf("workspace usage of %s: %w", workspaceID, err)
	}
	return u, nil
}
