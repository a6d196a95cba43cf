package outpost

import (
	"context"
	"io"
	"mime/multipart"
	"time"

	"outpost/internal/errcode"
	"outpost/internal/media"
)

// Project is a source to export, as people and scripts see it.
type Project struct {
	ID        string        `json:"id"`
	Name      string        `json:"name"`
	Kind      ProjectKind   `json:"kind"`
	Status    ProjectStatus `json:"status"`
	SourceURL string        `json:"source_url,omitempty"`
	// Media is the source's probe.
	Media           *media.Info `json:"media"`
	SizeBytes       int64       `json:"size_bytes"`
	DurationSeconds float64     `json:"duration_seconds"`
	Labels          Labels      `json:"labels"`
	Error           *CodedError `json:"error"`
	CreatedAt       time.Time   `json:"created_at"`
	UpdatedAt       time.Time   `json:"updated_at"`
}

// Labels organise exports and projects.
type Labels struct {
	Client   string `json:"client,omitempty"`
	Campaign string `json:"campaign,omitempty"`
}

// CodedError is a stored failure (of an export, a rendition, a project), as
// opposed to the failure of a request.
type CodedError struct {
	Code    errcode.Code `json:"code"`
	Message string       `json:"message"`
}

// NewCodedError returns the failure of code and message, or nil without a
// code.
func NewCodedError(code errcode.Code, message string) *CodedError {
	if code == "" {
		return nil
	}
	return &CodedError{Code: code, Message: message}
}

// ProjectPage is one page of projects, newest first.
type ProjectPage struct {
	Projects []Project
	// NextCursor fetches the next page; "" on the last one.
	NextCursor string
}

// ProjectQuery selects projects: Q matches name, client and campaign;
// Client and Campaign, when set, match exactly (a folder).
type ProjectQuery struct {
	Q        string
	Client   string
	Campaign string
	Limit    int // 50 when zero, at most 500
	Cursor   string
}

// Folder is a client with its campaigns, as the folders sidebar lists
// them: how many projects and exports each holds.
type Folder struct {
	Client    string           `json:"client"` // "" for work without a client
	Projects  int              `json:"projects"`
	Exports   int              `json:"exports"`
	Campaigns []CampaignFolder `json:"campaigns"`
}

// CampaignFolder is one campaign of a client.
type CampaignFolder struct {
	Campaign string `json:"campaign"`
	Projects int    `json:"projects"`
	Exports  int    `json:"exports"`
}

// Import asks for a project made of a file fetched from a public URL.
type Import struct {
	SourceURL string
	Name      string
	Labels    Labels
}

// Timeline is a timeline project's clips, as requests give them and the
// project keeps them.
type Timeline struct {
	Clips []TimelineClip `json:"clips"`
	// Crossfade is the cross-dissolve between clips in seconds; 0 cuts.
	Crossfade float64 `json:"crossfade_seconds,omitempty"`
	// AudioBedProjectID is a project whose sound is mixed under the
	// timeline at AudioBedVolume (0 means 0.3); "" for none.
	AudioBedProjectID string  `json:"audio_bed_project_id,omitempty"`
	AudioBedVolume    float64 `json:"audio_bed_volume,omitempty"`
	// Main is the clip whose size and frame rate the video takes.
	Main int `json:"main,omitempty"`
}

// TimelineClip is a part of a project's source.
type TimelineClip struct {
	ProjectID string  `json:"project_id"`
	In        float64 `json:"in,omitempty"`
	Out       float64 `json:"out,omitempty"` // 0: the end
}

// TimelineProject asks for a timeline project.
type TimelineProject struct {
	Name     string
	Labels   Labels
	Timeline Timeline
}

// Poster is a project's poster frame.
type Poster struct {
	io.ReadCloser
	ContentType string
}

// Projects are the use cases of sources: upload, import, timelines.
type Projects interface {
	// Upload makes a project of a multipart form's "file" part (streamed to
	// disk, at most the configured upload size) with its optional "name",
	// "client" and "campaign" fields. A source that cannot be used (not a
	// video, cut short, no video stream) is refused with its code and
	// leaves nothing behind.
	Upload(ctx context.Context, workspaceID string, form *multipart.Reader) (Project, error)
	// Import fetches a public URL (SSRF-guarded) and makes a project of it.
	Import(ctx context.Context, workspaceID string, req Import) (Project, error)
	// CreateTimeline checks a timeline against its clips' projects and
	// stores it as a ready project.
	CreateTimeline(ctx context.Context, workspaceID string, req TimelineProject) (Project, error)
	List(ctx context.Context, workspaceID string, q ProjectQuery) (ProjectPage, error)
	Get(ctx context.Context, workspaceID, id string) (Project, error)
	// Poster opens the project's poster frame; a project without one gets
	// a placeholder image.
	Poster(ctx context.Context, workspaceID, id string) (Poster, error)
	// Labels lists the client and campaign labels in use, sorted.
	Labels(ctx context.Context, workspaceID string) (clients, campaigns []string, err error)
	// Folders lists the clients, each with its campaigns, with how many
	// projects and exports each holds; work without a client comes last.
	Folders(ctx context.Context, workspaceID string) ([]Folder, error)
}
