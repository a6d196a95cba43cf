package outpost

import (
	"context"
	"encoding/json"
	"io"
	"time"

	"outpost/internal/authz"
	"outpost/internal/errcode"
	"outpost/internal/plan"
)

// Caller is who makes a request, as an adapter authenticated it: a
// signed-in user (UserID, with their Role in WorkspaceID) or an API key
// (KeyID, with its Scopes). The adapters check each route's action with
// it; the services check the finer rules (who may give which role, who
// administers the instance) and write it to the audit log.
type Caller struct {
	WorkspaceID string `json:"workspace_id"`
	UserID      string `json:"user_id,omitempty"`
	KeyID       string `json:"key_id,omitempty"`
	// Name is the user's email or the key's prefix, for the audit log.
	Name   string        `json:"name,omitempty"`
	Role   Role          `json:"role,omitempty"`
	Scopes []authz.Scope `json:"scopes,omitempty"`
	// IP is the client's address (see internal/clientip).
	IP string `json:"ip,omitempty"`
}

// Principal is the caller as authz sees it.
func (c Caller) Principal() authz.Principal {
	if c.KeyID != "" {
		return authz.KeyPrincipal(c.Scopes)
	}
	return authz.MemberPrincipal(c.Role)
}

// Check returns nil when the caller may take action a in its workspace,
// else a forbidden error naming what is missing.
func (c Caller) Check(a authz.Action) error { return c.Principal().Check(a) }

// User returns nil when the caller is a signed-in user, else a forbidden
// error: what needs a person (their workspaces, their email settings)
// cannot be done with an API key.
func (c Caller) User() error {
	if c.UserID == "" || c.KeyID != "" {
		return errcode.New(errcode.Forbidden, "this needs a signed-in user, not an API key: sign in to Outpost")
	}
	return nil
}

// Member is a user's membership of the caller's workspace.
type Member struct {
	UserID   string    `json:"user_id"`
	Email    string    `json:"email"`
	Name     string    `json:"name,omitempty"`
	Role     Role      `json:"role"`
	JoinedAt time.Time `json:"joined_at"`
}

// Invite is an invitation to join a workspace with a role.
type Invite struct {
	ID string `json:"id"`
	// Email, when set, is the only address that may accept.
	Email     string    `json:"email,omitempty"`
	Role      Role      `json:"role"`
	InvitedBy string    `json:"invited_by,omitempty"` // the inviter's email
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	// Link is the invite's link: shown once, when it is created.
	Link string `json:"link,omitempty"`
	// Emailed says an email with the link was queued.
	Emailed bool `json:"emailed"`
}

// InviteRequest asks for an invite.
type InviteRequest struct {
	// Email, when set, limits the invite to that address and, with
	// SendEmail on a server that sends email, mails it the link.
	Email     string `json:"email,omitempty"`
	Role      Role   `json:"role"`
	SendEmail bool   `json:"send_email,omitempty"`
}

// MemberList is a workspace's members and pending invites.
type MemberList struct {
	Members []Member `json:"members"`
	Invites []Invite `json:"invites"`
	// EmailConfigured says invites can go by email.
	EmailConfigured bool `json:"email_configured"`
}

// InviteInfo is what an invite link's page shows before it is accepted.
type InviteInfo struct {
	Workspace string    `json:"workspace"`
	Role      Role      `json:"role"`
	Email     string    `json:"email,omitempty"`
	InvitedBy string    `json:"invited_by,omitempty"`
	ExpiresAt time.Time `json:"expires_at"`
	// HasAccount says a user with the invite's email exists (sign in to
	// accept rather than create an account).
	HasAccount bool `json:"has_account"`
}

// Members are the use cases of a workspace's people: members, roles and
// invites.
type Members interface {
	List(ctx context.Context, c Caller) (MemberList, error)
	// Invite makes an invite link (and emails it when asked and possible).
	Invite(ctx context.Context, c Caller, req InviteRequest) (Invite, error)
	RevokeInvite(ctx context.Context, c Caller, id string) error
	// SetRole changes a member's role (authz.CheckRoleChange's rules; a
	// workspace keeps an owner).
	SetRole(ctx context.Context, c Caller, userID string, role Role) (Member, error)
	// Remove ends a membership (a member may also leave).
	Remove(ctx context.Context, c Caller, userID string) error
	// LookupInvite describes the invite of a link's token; invite_invalid
	// when it cannot be accepted.
	LookupInvite(ctx context.Context, token string) (InviteInfo, error)
	// Accept makes the signed-in caller a member through the invite and
	// moves them to its workspace.
	Accept(ctx context.Context, c Caller, token string) (Member, error)
	// Join creates an account through the invite: the user and the
	// membership in one transaction.
	Join(ctx context.Context, token, email, name, password, ip string) (User, error)
}

// Workspace is a workspace as its members see it.
type Workspace struct {
	ID        string    `json:"id"`
	Slug      string    `json:"slug"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
	// Role is the caller's role there ("" for an instance admin who is
	// not a member).
	Role Role `json:"role,omitempty"`
	// Current marks the caller's workspace.
	Current bool `json:"current"`
}

// Plan is a workspace's limits with what it uses now.
type Plan struct {
	WorkspaceID string `json:"workspace_id"`
	plan.Limits
	Usage     plan.Usage `json:"usage"`
	UpdatedAt time.Time  `json:"updated_at,omitzero"`
}

// WorkspaceList is the workspaces a caller sees.
type WorkspaceList struct {
	Workspaces []Workspace `json:"workspaces"`
	// InstanceAdmin says the caller administers the instance: every
	// workspace is listed, and they set plans and create workspaces.
	InstanceAdmin bool `json:"instance_admin"`
}

// DataExport is a workspace's data export, ready to write.
type DataExport struct {
	Filename string
	// Write writes the zip.
	Write func(w io.Writer) error
}

// Workspaces are the use cases of workspaces: the ones a user belongs to,
// switching between them, creating them, their plans and data export.
type Workspaces interface {
	List(ctx context.Context, c Caller) (WorkspaceList, error)
	// Create makes a workspace with the caller (an instance admin) as its
	// owner.
	Create(ctx context.Context, c Caller, name, slug string) (Workspace, error)
	// Switch makes another of the caller's workspaces their current one.
	Switch(ctx context.Context, c Caller, id string) (Workspace, error)
	// Rename changes a workspace's name (its owners).
	Rename(ctx context.Context, c Caller, id, name string) (Workspace, error)
	Plan(ctx context.Context, c Caller, id string) (Plan, error)
	// SetPlan sets a workspace's limits (instance admins).
	SetPlan(ctx context.Context, c Caller, id string, l plan.Limits) (Plan, error)
	// ExportData is the caller's workspace's data export (a zip).
	ExportData(ctx context.Context, c Caller) (DataExport, error)
}

// APIKeyInfo is an API key as lists show it (never its secret).
type APIKeyInfo struct {
	ID         string        `json:"id"`
	Name       string        `json:"name"`
	Prefix     string        `json:"prefix"`
	Scopes     []authz.Scope `json:"scopes"`
	CreatedBy  string        `json:"created_by,omitempty"` // the creator's email
	CreatedAt  time.Time     `json:"created_at"`
	LastUsedAt *time.Time    `json:"last_used_at"`
	RevokedAt  *time.Time    `json:"revoked_at,omitempty"`
	// ExpiresAt is when a rotated key stops working.
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	ReplacedBy string     `json:"replaced_by,omitempty"`
	// State is active, expiring (rotated, in its grace period), expired
	// or revoked.
	State string `json:"state"`
}

// API key states.
const (
	KeyActive   = "active"
	KeyExpiring = "expiring"
	KeyExpired  = "expired"
	KeyRevoked  = "revoked"
)

// NewAPIKey is a key just made, with its secret: shown this once.
type NewAPIKey struct {
	APIKeyInfo
	Secret string `json:"secret"`
}

// APIKeyRequest asks for a key.
type APIKeyRequest struct {
	Name   string        `json:"name"`
	Scopes []authz.Scope `json:"scopes"`
}

// APIKeys are the use cases of a workspace's API keys.
type APIKeys interface {
	List(ctx context.Context, c Caller) ([]APIKeyInfo, error)
	Create(ctx context.Context, c Caller, req APIKeyRequest) (NewAPIKey, error)
	// Revoke stops a key at once, on every node.
	Revoke(ctx context.Context, c Caller, id string) (APIKeyInfo, error)
	// Rotate makes a replacement; the old key works for grace more (a
	// duration such as "1h" or "0"; "" is 24 hours).
	Rotate(ctx context.Context, c Caller, id, grace string) (NewAPIKey, error)
}

// AuditEvent is one entry of the audit log.
type AuditEvent struct {
	ID         string          `json:"id"`
	ActorType  string          `json:"actor_type"`
	ActorID    string          `json:"actor_id,omitempty"`
	ActorName  string          `json:"actor_name,omitempty"`
	Action     string          `json:"action"`
	TargetType string          `json:"target_type,omitempty"`
	TargetID   string          `json:"target_id,omitempty"`
	IP         string          `json:"ip,omitempty"`
	Details    json.RawMessage `json:"details,omitempty"`
	CreatedAt  time.Time       `json:"created_at"`
}

// AuditQuery selects audit events.
type AuditQuery struct {
	Action   string
	ActorID  string
	TargetID string
	Limit    int
	Cursor   string
}

// AuditPage is one page of the audit log, newest first.
type AuditPage struct {
	Events     []AuditEvent
	NextCursor string
}

// Audit is the use case of reading the audit log.
type Audit interface {
	List(ctx context.Context, c Caller, q AuditQuery) (AuditPage, error)
}

// NotificationPref is one kind of email and whether the user gets it.
type NotificationPref struct {
	Kind  string `json:"kind"`
	Label string `json:"label"`
	Email bool   `json:"email"`
}

// NotificationPrefs are a user's email preferences.
type NotificationPrefs struct {
	// EmailConfigured is false when the server sends no email (nothing
	// is sent whatever the preferences).
	EmailConfigured bool               `json:"email_configured"`
	Email           string             `json:"email"`
	Prefs           []NotificationPref `json:"prefs"`
}

// Notifications are the use cases of a user's email preferences.
type Notifications interface {
	Get(ctx context.Context, c Caller) (NotificationPrefs, error)
	// Set turns kinds on or off; kinds not given keep their setting.
	Set(ctx context.Context, c Caller, email map[string]bool) (NotificationPrefs, error)
}

// DeleteResult says what a deletion removed.
type DeleteResult struct {
	Exports  int `json:"exports"`
	Projects int `json:"projects"`
	// FilesDeleted are the files removed from storage; FilesKept, files
	// another rendition still holds (shared by several renditions).
	FilesDeleted int `json:"files_deleted"`
	FilesKept    int `json:"files_kept"`
	// PublicationsCanceled are scheduled posts canceled by force.
	PublicationsCanceled int `json:"publications_canceled"`
	// RemotePosts are posts already on the platforms: deleting here does
	// not remove them there.
	RemotePosts int `json:"remote_posts"`
}

// Deletions are the use cases of taking data out for good: an export (its
// files and history rows), a project with its exports, a user, a
// workspace. Each is refused with conflict while a scheduled publication
// still needs a file, unless forced (the publications are canceled).
type Deletions interface {
	Export(ctx context.Context, c Caller, id string, force bool) (DeleteResult, error)
	Project(ctx context.Context, c Caller, id string, force bool) (DeleteResult, error)
	// User deletes an account (the caller's own, or any for an instance
	// admin); a workspace's last owner must hand it over or delete it
	// first.
	User(ctx context.Context, c Caller, userID string) error
	Workspace(ctx context.Context, c Caller, id string, force bool) (DeleteResult, error)
}
