package outpost

import (
	"cmp"

	"context"
	"outpost/internal/publish"
	"time"
)

// Destination is one post of an export: where (a connection), what (one of
// the export's targets, by preset) and the text.
type Destination struct {
	ConnectionID string `json:"connection_id"`
	Preset       string `json:"preset"`
	PostFields
	// ScheduleAt, in the future, holds the post until then.
	ScheduleAt *time.Time `json:"schedule_at,omitempty"`
	// UTM overrides the campaign parameters added to links in the text.
	UTM *UTMOverride `json:"utm,omitempty"`
}

// UTMOverride replaces the default UTM parameters of one destination
// (utm_source = platform, utm_medium = social, utm_campaign = the export's
// campaign label, utm_content = preset); empty fields keep the default.
type UTMOverride struct {
	Source   string `json:"source,omitempty"`
	Medium   string `json:"medium,omitempty"`
	Campaign string `json:"campaign,omitempty"`
	Content  string `json:"content,omitempty"`
	// Disabled leaves links as they are.
	Disabled bool `json:"disabled,omitempty"`
}

// MaxDestinations bounds the posts of one request.
const MaxDestinations = 25

// Publication is one post of an export to a connected account.
type Publication struct {
	ID           string           `json:"id"`
	ExportID     string           `json:"export_id"`
	Platform     string           `json:"platform"`
	ConnectionID string           `json:"connection_id"`
	Preset       string           `json:"preset"`
	RenditionID  string           `json:"rendition_id"`
	State        PublicationState `json:"state"`
	// PostURL is the live post, once published (or scheduled on the
	// platform).
	PostURL     string     `json:"post_url,omitempty"`
	ScheduleAt  *time.Time `json:"schedule_at"`
	PublishedAt *time.Time `json:"published_at"`
	Attempts    int        `json:"attempts"`
	// Error is why it failed, or, while it is live, why its last attempt
	// did not finish (it is retried).
	Error *CodedError `json:"error"`
	// Node is the node of its last attempt; absent before one.
	Node      string    `json:"node,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// OnPlatform reports whether the post is uploaded and scheduled by the
// platform itself: Outpost can no longer move or cancel it.
func (p Publication) OnPlatform() bool {
	return p.State == PublicationScheduled && p.PostURL != ""
}

// Publications are the use cases of posts.
type Publications interface {
	// Share posts a finished export's files to more accounts.
	Share(ctx context.Context, workspaceID, exportID string, dests []Destination) ([]Publication, error)
	Get(ctx context.Context, workspaceID, id string) (Publication, error)
	// Cancel cancels a pending or scheduled publication.
	Cancel(ctx context.Context, workspaceID, id string) (Publication, error)
	// Reschedule moves a pending or scheduled publication to at (zero:
	// now).
	Reschedule(ctx context.Context, workspaceID, id string, at time.Time) (Publication, error)
	// Retry queues a failed publication again as it was: the upload
	// resumes, and a post already made is found, never made twice.
	Retry(ctx context.Context, workspaceID, id string) (Publication, error)
}

// PostFields are a post's text fields: which of them a platform takes,
// and its limits, its descriptor says (GET /api/v1/platforms).
type PostFields struct {
	Title       string   `json:"title,omitempty"`
	Description string   `json:"description,omitempty"`
	Caption     string   `json:"caption,omitempty"`
	Tags        []string `json:"tags,omitempty"`
	// Privacy: public, unlisted, private (YouTube); TikTok's privacy
	// levels; LinkedIn connections.
	Privacy string `json:"privacy,omitempty"`
	// Format "reel" posts a Facebook Reel (the facebook-reel preset does
	// by default).
	Format string `json:"format,omitempty"`
}

// PostSpec is a publication as accepted: the post as asked, with the
// defaults applied at acceptance. The publish job posts it.
type PostSpec struct {
	PostFields
	UTM *UTMOverride `json:"utm,omitempty"`
	// Campaign is the export's campaign label, the default utm_campaign.
	Campaign string `json:"campaign,omitempty"`
}

// Post builds the publish.Post of the spec, with UTM parameters added to
// the links of the text.
func (m PostSpec) Post(platform, presetID string) publish.Post {
	p := publish.Post{Title: m.Title, Description: m.Description, Caption: m.Caption, Tags: m.Tags,
		Privacy: m.Privacy, Format: m.Format}
	if m.UTM == nil || !m.UTM.Disabled {
		u := publish.UTMParams{Source: platform, Medium: "social", Campaign: m.Campaign, Content: presetID}
		if o := m.UTM; o != nil {
			u.Source = cmp.Or(o.Source, u.Source)
			u.Medium = cmp.Or(o.Medium, u.Medium)
			u.Campaign = cmp.Or(o.Campaign, u.Campaign)
			u.Content = cmp.Or(o.Content, u.Content)
		}
		p.Description = publish.UTM(p.Description, u)
		p.Caption = publish.UTM(p.Caption, u)
	}
	return p
}
