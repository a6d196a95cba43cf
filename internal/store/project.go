package store

import (
	"outpost/internal/outpost"

	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"outpost/internal/errcode"
)

// ProjectKind says where a project's source comes from.
type ProjectKind = outpost.ProjectKind

// Project kinds.
const (
	ProjectUpload   = outpost.ProjectUpload   // an uploaded master, at SourceKey
	ProjectURL      = outpost.ProjectURL      // fetched from SourceURL
	ProjectTimeline = outpost.ProjectTimeline // ordered clips, in Timeline
)

// ProjectStatus is where a project is in its intake.
type ProjectStatus = outpost.ProjectStatus

// Project statuses.
const (
	ProjectPending = outpost.ProjectPending
	ProjectProbing = outpost.ProjectProbing
	ProjectReady   = outpost.ProjectReady
	ProjectFailed  = outpost.ProjectFailed
)

// Project is a source to export.
type Project struct {
	ID          string      `json:"id"`
	WorkspaceID string      `json:"workspace_id"`
	Name        string      `json:"name"`
	Kind        ProjectKind `json:"kind"`
	SourceKey   string      `json:"source_key,omitempty"` // blob key of the master
	SourceURL   string      `json:"source_url,omitempty"`
	// Timeline is the clip list of a timeline project.
	Timeline json.RawMessage `json:"timeline,omitempty"`
	// Probe is the source's media.Info, as JSON.
	Probe        json.RawMessage `json:"probe,omitempty"`
	Status       ProjectStatus   `json:"status"`
	ErrorCode    errcode.Code    `json:"error_code,omitempty"`
	ErrorMessage string          `json:"error_message,omitempty"`
	Client       string          `json:"client,omitempty"`
	Campaign     string          `json:"campaign,omitempty"`
	SizeBytes    int64           `json:"size_bytes"`
	// Duration is the source's duration in seconds.
	Duration     float64   `json:"duration_seconds"`
	ThumbnailKey string    `json:"thumbnail_key,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

const projectColumns = `id, workspace_id, name, kind, source_key, source_url, timeline, probe, status,
	error_code, error_message, client, campaign, size_bytes, duration_seconds, thumbnail_key,
	created_at, updated_at`

func scanProject(sc rowScanner) (Project, error) {
	var p Project
	err := sc.Scan(&p.ID, &p.WorkspaceID, &p.Name, &p.Kind, &p.SourceKey, &p.SourceURL,
		scanJSON(&p.Timeline), scanJSON(&p.Probe), &p.Status, &p.ErrorCode, &p.ErrorMessage,
		&p.Client, &p.Campaign, &p.SizeBytes, &p.Duration, &p.ThumbnailKey,
		scanTime(&p.CreatedAt), scanTime(&p.UpdatedAt))
	return p, err
}

// CreateProject stores a new project. ID, CreatedAt and UpdatedAt are filled
// in when zero; Status defaults to pending.
func (q *Queries) CreateProject(ctx context.Context, p Project) (Project, error) {
	if p.ID == "" {
		p.ID = NewID(PrefixProject)
	}
	if p.Status == "" {
		p.Status = ProjectPending
	}
	p.CreatedAt = now(p.CreatedAt)
	p.UpdatedAt = p.CreatedAt
	_, err := q.exec(ctx, `INSERT INTO projects (`+projectColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`,
		p.ID, p.WorkspaceID, p.Name, p.Kind, p.SourceKey, p.SourceURL, p.Timeline, p.Probe, p.Status,
		p.ErrorCode, p.ErrorMessage, p.Client, p.Campaign, p.SizeBytes, p.Duration, p.ThumbnailKey,
		p.CreatedAt, p.UpdatedAt)
	if err != nil {
		return Project{}, fmt.Errorf("create project: %w", err)
	}
	return q.GetProject(ctx, p.ID)
}

// GetProject returns the project with id. Callers serving a workspace check
// WorkspaceID.
func (q *Queries) GetProject(ctx context.Context, id string) (Project, error) {
	p, err := scanProject(q.queryRow(ctx, `SELECT `+projectColumns+` FROM projects WHERE id = $1`, id))
	if err != nil {
		return Project{}, fmt.Errorf("get project %s: %w", id, notFound(err))
	}
	return p, nil
}

// UpdateProject writes every field of p except its id, workspace, kind and
// creation time, and sets UpdatedAt.
func (q *Queries) UpdateProject(ctx context.Context, p Project) (Project, error) {
	p.UpdatedAt = now(time.Time{})
	res, err := q.exec(ctx, `UPDATE projects SET name = $2, source_key = $3, source_url = $4,
		timeline = $5, probe = $6, status = $7, error_code = $8, error_message = $9, client = $10,
		campaign = $11, size_bytes = $12, duration_seconds = $13, thumbnail_key = $14, updated_at = $15
		WHERE id = $1`,
		p.ID, p.Name, p.SourceKey, p.SourceURL, p.Timeline, p.Probe, p.Status, p.ErrorCode,
		p.ErrorMessage, p.Client, p.Campaign, p.SizeBytes, p.Duration, p.ThumbnailKey, p.UpdatedAt)
	if err != nil {
		return Project{}, fmt.Errorf("update project %s: %w", p.ID, err)
	}
	if err := rowsAffected(res); err != nil {
		return Project{}, fmt.Errorf("update project %s: %w", p.ID, err)
	}
	return q.GetProject(ctx, p.ID)
}

// ProjectFilter selects projects for ListProjects.
type ProjectFilter struct {
	WorkspaceID string // required
	// Q matches name, client and campaign, case-insensitively.
	Q string
	// Client and Campaign match exactly when set.
	Client   string
	Campaign string
	Limit    int    // 50 when zero, at most 500
	Cursor   string // from the previous page's NextCursor
}

// ProjectPage is one page of projects, newest first.
type ProjectPage struct {
	Projects []Project `json:"projects"`
	// NextCursor fetches the next page; empty on the last one.
	NextCursor string `json:"next_cursor,omitempty"`
}

// ListProjects returns a page of the workspace's projects, newest first.
func (q *Queries) ListProjects(ctx context.Context, f ProjectFilter) (ProjectPage, error) {
	var p params
	where := "workspace_id = " + p.add(f.WorkspaceID)
	if f.Q != "" {
		pat := p.add(likeContains(f.Q))
		where += ` AND (LOWER(name) LIKE ` + pat + ` ESCAPE '\' OR LOWER(client) LIKE ` + pat +
			` ESCAPE '\' OR LOWER(campaign) LIKE ` + pat + ` ESCAPE '\')`
	}
	if f.Client != "" {
		where += " AND client = " + p.add(f.Client)
	}
	if f.Campaign != "" {
		where += " AND campaign = " + p.add(f.Campaign)
	}
	keyset, err := keysetCondition(&p, "", f.Cursor)
	if err != nil {
		return ProjectPage{}, fmt.Errorf("list projects: %w", err)
	}
	where += keyset
	limit := pageLimit(f.Limit)
	rows, err := q.query(ctx, `SELECT `+projectColumns+` FROM projects WHERE `+where+
		` ORDER BY created_at DESC, id DESC LIMIT `+p.add(limit+1), p.args...)
	if err != nil {
		return ProjectPage{}, fmt.Errorf("list projects: %w", err)
	}
	projects, err := collect(rows, scanProject)
	if err != nil {
		return ProjectPage{}, fmt.Errorf("list projects: %w", err)
	}
	page := ProjectPage{Projects: projects}
	if len(projects) > limit {
		page.Projects = projects[:limit]
		last := page.Projects[limit-1]
		page.NextCursor = encodeCursor(last.CreatedAt, last.ID)
	}
	return page, nil
}

// LabelCount is how many projects and exports carry one client and
// campaign pair ("" for none).
type LabelCount struct {
	Client   string
	Campaign string
	Projects int
	Exports  int
}

// CountLabels counts the workspace's projects and exports by client and
// campaign, sorted by client then campaign.
func (q *Queries) CountLabels(ctx context.Context, workspaceID string) ([]LabelCount, error) {
	type key struct{ client, campaign string }
	counts := map[key]*LabelCount{}
	var order []key
	for _, t := range []struct {
		table string
		field func(*LabelCount) *int
	}{
		{"projects", func(c *LabelCount) *int { return &c.Projects }},
		{"exports", func(c *LabelCount) *int { return &c.Exports }},
	} {
		rows, err := q.query(ctx, `SELECT client, campaign, COUNT(*) FROM `+t.table+
			` WHERE workspace_id = $1 GROUP BY client, campaign`, workspaceID)
		if err != nil {
			return nil, fmt.Errorf("count labels: %w", err)
		}
		type row struct {
			k key
			n int
		}
		got, err := collect(rows, func(sc rowScanner) (row, error) {
			var r row
			return r, sc.Scan(&r.k.client, &r.k.campaign, &r.n)
		})
		if err != nil {
			return nil, fmt.Errorf("count labels: %w", err)
		}
		for _, r := range got {
			c, ok := counts[r.k]
			if !ok {
				c = &LabelCount{Client: r.k.client, Campaign: r.k.campaign}
				counts[r.k] = c
				order = append(order, r.k)
			}
			*t.field(c) = r.n
		}
	}
	out := make([]LabelCount, 0, len(order))
	for _, k := range order {
		out = append(out, *counts[k])
	}
	slices.SortFunc(out, func(a, b LabelCount) int {
		return cmp.Or(cmp.Compare(a.Client, b.Client), cmp.Compare(a.Campaign, b.Campaign))
	})
	return out, nil
}
