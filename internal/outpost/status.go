package outpost

import (
	"slices"

	"outpost/internal/authz"
)

// ExportStatus is where an export is in its life.
type ExportStatus string

// Export statuses. queued and running are live; the others are final.
const (
	ExportQueued          ExportStatus = "queued"
	ExportRunning         ExportStatus = "running"
	ExportSucceeded       ExportStatus = "succeeded"
	ExportPartiallyFailed ExportStatus = "partially_failed" // some targets failed, others succeeded
	ExportFailed          ExportStatus = "failed"
	ExportCanceled        ExportStatus = "canceled"
)

// ExportStatuses lists every status, live ones first.
var ExportStatuses = []ExportStatus{
	ExportQueued, ExportRunning, ExportSucceeded, ExportPartiallyFailed, ExportFailed, ExportCanceled,
}

// Final reports whether s is a final status: nothing changes it any more.
func (s ExportStatus) Final() bool {
	switch s {
	case ExportSucceeded, ExportPartiallyFailed, ExportFailed, ExportCanceled:
		return true
	}
	return false
}

// Valid reports whether s is one of the statuses.
func (s ExportStatus) Valid() bool { return slices.Contains(ExportStatuses, s) }

// RenditionStatus is where one output file of an export is.
type RenditionStatus string

// Rendition statuses.
const (
	RenditionPending   RenditionStatus = "pending"
	RenditionRunning   RenditionStatus = "running"
	RenditionSucceeded RenditionStatus = "succeeded"
	RenditionFailed    RenditionStatus = "failed"
	RenditionCanceled  RenditionStatus = "canceled"
)

// RenditionStatuses lists every rendition status.
var RenditionStatuses = []RenditionStatus{
	RenditionPending, RenditionRunning, RenditionSucceeded, RenditionFailed, RenditionCanceled,
}

// ProjectKind says where a project's source comes from.
type ProjectKind string

// Project kinds.
const (
	ProjectUpload   ProjectKind = "upload"   // an uploaded master
	ProjectURL      ProjectKind = "url"      // fetched from a URL
	ProjectTimeline ProjectKind = "timeline" // ordered clips of other projects
)

// ProjectKinds lists every kind.
var ProjectKinds = []ProjectKind{ProjectUpload, ProjectURL, ProjectTimeline}

// ProjectStatus is where a project is in its intake.
type ProjectStatus string

// Project statuses.
const (
	ProjectPending ProjectStatus = "pending" // waiting for its upload or fetch
	ProjectProbing ProjectStatus = "probing"
	ProjectReady   ProjectStatus = "ready" // probed; exports can start
	ProjectFailed  ProjectStatus = "failed"
)

// ProjectStatuses lists every project status.
var ProjectStatuses = []ProjectStatus{ProjectPending, ProjectProbing, ProjectReady, ProjectFailed}

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

// Due reports whether a publication in state s is going out now (not
// scheduled for later, not final).
func (s PublicationState) Due() bool {
	return s == PublicationPending || s == PublicationUploading || s == PublicationProcessing
}

// ConnectionStatus is the health of a connected account.
type ConnectionStatus string

// Connection statuses.
const (
	ConnectionActive  ConnectionStatus = "active"
	ConnectionExpired ConnectionStatus = "expired" // refresh failed: the user must reconnect
	ConnectionRevoked ConnectionStatus = "revoked"
)

// DeliveryStatus is where a webhook delivery is.
type DeliveryStatus string

// Delivery statuses.
const (
	DeliveryPending   DeliveryStatus = "pending"
	DeliverySucceeded DeliveryStatus = "succeeded"
	DeliveryFailed    DeliveryStatus = "failed" // gave up
)

// Role is what a user may do in a workspace (authz has the rules).
type Role = authz.Role

// Roles.
const (
	RoleOwner  = authz.Owner
	RoleAdmin  = authz.Admin
	RoleMember = authz.Member
	RoleViewer = authz.Viewer
)
