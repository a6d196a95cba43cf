package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// ExportFilter selects exports for ListExports. Zero fields match all.
type ExportFilter struct {
	WorkspaceID string // required
	ProjectID   string
	// GroupID matches the exports of one variants request.
	GroupID string
	// Statuses matches any of them.
	Statuses []ExportStatus
	Client   string // exact
	Campaign string // exact
	// PresetIDs matches exports with any of these targets (a platform
	// filter is its presets).
	PresetIDs []string
	// PublishedTo matches exports with a publication to this platform; with
	// PresetIDs, an export matching either is listed.
	PublishedTo string
	// Q matches the project name, client, campaign and preset ids
	// case-insensitively, and the export id exactly.
	Q string
	// CreatedFrom and CreatedTo bound created_at: From <= created_at < To.
	CreatedFrom time.Time
	CreatedTo   time.Time
	Limit       int    // 50 when zero, at most 500
	Cursor      string // from the previous page's NextCursor
}

// ExportPage is one page of exports, newest first.
type ExportPage struct {
	Exports []Export `json:"exports"`
	// NextCursor fetches the next page; empty on the last one.
	NextCursor string `json:"next_cursor,omitempty"`
}

// ListExports returns a page of the workspace's exports, newest first, with
// keyset pagination on (created_at, id): pages stay stable while new exports
// arrive.
func (q *Queries) ListExports(ctx context.Context, f ExportFilter) (ExportPage, error) {
	if f.WorkspaceID == "" {
		return ExportPage{}, fmt.Errorf("list exports: no workspace")
	}
	var p params
	conds := []string{"e.workspace_id = " + p.add(f.WorkspaceID)}
	if f.ProjectID != "" {
		conds = append(conds, "e.project_id = "+p.add(f.ProjectID))
	}
	if f.GroupID != "" {
		conds = append(conds, "e.group_id = "+p.add(f.GroupID))
	}
	if len(f.Statuses) > 0 {
		ph := make([]string, len(f.Statuses))
		for i, s := range f.Statuses {
			ph[i] = p.add(s)
		}
		conds = append(conds, "e.status IN ("+strings.Join(ph, ", ")+")")
	}
	if f.Client != "" {
		conds = append(conds, "e.client = "+p.add(f.Client))
	}
	if f.Campaign != "" {
		conds = append(conds, "e.campaign = "+p.add(f.Campaign))
	}
	if len(f.PresetIDs) > 0 || f.PublishedTo != "" {
		ors := make([]string, 0, len(f.PresetIDs)+1)
		for _, id := range f.PresetIDs {
			ors = append(ors, `(' ' || e.preset_ids || ' ') LIKE `+p.add("% "+escapeLike(id)+" %")+` ESCAPE '\'`)
		}
		if f.PublishedTo != "" {
			ors = append(ors, "EXISTS (SELECT 1 FROM publications pb WHERE pb.export_id = e.id AND pb.platform = "+p.add(f.PublishedTo)+")")
		}
		conds = append(conds, "("+strings.Join(ors, " OR ")+")")
	}
	if f.Q != "" {
		pat := p.add(likeContains(f.Q))
		var ors []string
		for _, col := range []string{"p.name", "e.client", "e.campaign", "e.preset_ids"} {
			ors = append(ors, "LOWER("+col+") LIKE "+pat+` ESCAPE '\'`)
		}
		ors = append(ors, "e.id = "+p.add(strings.TrimSpace(f.Q)))
		conds = append(conds, "("+strings.Join(ors, " OR ")+")")
	}
	if !f.CreatedFrom.IsZero() {
		conds = append(conds, "e.created_at >= "+p.add(f.CreatedFrom))
	}
	if !f.CreatedTo.IsZero() {
		conds = append(conds, "e.created_at < "+p.add(f.CreatedTo))
	}
	keyset, err := keysetCondition(&p, "e.", f.Cursor)
	if err != nil {
		return ExportPage{}, fmt.Errorf("list exports: %w", err)
	}
	limit := pageLimit(f.Limit)
	query := `SELECT ` + exportColumns + exportFrom + ` WHERE ` + strings.Join(conds, " AND ") + keyset +
		` ORDER BY e.created_at DESC, e.id DESC LIMIT ` + p.add(limit+1)
	rows, err := q.query(ctx, query, p.args...)
	if err != nil {
		return ExportPage{}, fmt.Errorf("list exports: %w", err)
	}
	exports, err := collect(rows, scanExport)
	if err != nil {
		return ExportPage{}, fmt.Errorf("list exports: %w", err)
	}
	page := ExportPage{Exports: exports}
	if len(exports) > limit {
		page.Exports = exports[:limit]
		last := page.Exports[limit-1]
		page.NextCursor = encodeCursor(last.CreatedAt, last.ID)
	}
	return page, nil
}
