package outpost

import (
	"context"
	"net/url"
	"time"
)

// Connection is a connected account. Its tokens never leave the server.
type Connection struct {
	ID               string           `json:"id"`
	Platform         string           `json:"platform"`
	AccountID        string           `json:"account_id"`
	AccountName      string           `json:"account_name"`
	AvatarURL        string           `json:"avatar_url,omitempty"`
	Status           ConnectionStatus `json:"status"`
	Scopes           []string         `json:"scopes"`
	TokenExpiresAt   *time.Time       `json:"token_expires_at"`
	RefreshExpiresAt *time.Time       `json:"refresh_expires_at"`
	CreatedAt        time.Time        `json:"created_at"`
	UpdatedAt        time.Time        `json:"updated_at"`
	// GrantEndsAt is when the account stops working unless the user
	// connects it again (its refresh token's end, or its access token's
	// when it cannot be renewed); nil when it renews by itself.
	GrantEndsAt *time.Time `json:"-"`
}

// Name is how the account is called: its name, else its id.
func (c Connection) Name() string {
	if c.AccountName != "" {
		return c.AccountName
	}
	return c.AccountID
}

// PlatformStatus says whether accounts of a platform can be connected here.
type PlatformStatus struct {
	Platform string `json:"platform"`
	// Status is "configured" or "not_configured" (no OAuth app: set
	// OUTPOST_<PLATFORM>_CLIENT_ID and _SECRET).
	Status string `json:"status"`
	// ConnectURL starts connecting an account in a browser (signed in).
	ConnectURL string `json:"connect_url,omitempty"`
}

// Configured reports whether the platform has an OAuth app here.
func (p PlatformStatus) Configured() bool { return p.Status == "configured" }

// ConnectionList is the workspace's connected accounts and which platforms
// can be connected.
type ConnectionList struct {
	Data      []Connection     `json:"data"`
	Platforms []PlatformStatus `json:"platforms"`
}

// AuthorizeOptions start connecting an account.
type AuthorizeOptions struct {
	// ReturnTo is a local path the browser is sent to after the callback.
	ReturnTo string
	// Browser binds the flow to the browser that starts it (a signed-in
	// session): Authorization.BrowserNonce goes in a cookie and must come
	// back with the callback.
	Browser bool
}

// Authorization is where to send the user to approve.
type Authorization struct {
	Platform     string    `json:"platform"`
	AuthorizeURL string    `json:"authorize_url"`
	RedirectURI  string    `json:"redirect_uri"`
	ExpiresAt    time.Time `json:"expires_at"`
	// BrowserNonce binds a browser-started flow (AuthorizeOptions.Browser).
	BrowserNonce string `json:"-"`
}

// Connected is the outcome of an OAuth callback.
type Connected struct {
	WorkspaceID string
	Connections []Connection
	// ReturnTo is the local path given when the flow started.
	ReturnTo string
}

// Connections are the use cases of connected accounts.
type Connections interface {
	List(ctx context.Context, workspaceID string) (ConnectionList, error)
	Get(ctx context.Context, workspaceID, id string) (Connection, error)
	// Delete disconnects an account of the caller's workspace: its posts
	// that have not gone out are canceled.
	Delete(ctx context.Context, c Caller, id string) error
	Authorize(ctx context.Context, workspaceID, platform string, opts AuthorizeOptions) (Authorization, error)
	// Callback finishes connecting (the platform's redirect), and queues
	// again the posts that waited for the account. by is who the browser
	// is signed in as, when known (the audit log's actor).
	Callback(ctx context.Context, by Caller, platform string, query url.Values, browserNonce string) (Connected, error)
	// Available reports whether this server can connect accounts and post
	// (it has a secret key and the publishing service).
	Available() bool
	// Origins are the configured platforms' base URLs (the emulators', in
	// the sandbox): avatars are loaded from there.
	Origins() []string
	// Platforms are the publishing platforms, in display order, with
	// their post fields.
	Platforms() []Platform
	// ShareDefaults returns the caller's saved "share to" default in their
	// workspace: the accounts a share starts with ticked, only those still
	// connected and active. It needs a signed-in user (not an API key).
	ShareDefaults(ctx context.Context, c Caller) (ShareDefaults, error)
	// SetShareDefaults saves it; none clears it. Each id must be an
	// active connected account of the caller's workspace.
	SetShareDefaults(ctx context.Context, c Caller, connectionIDs []string) (ShareDefaults, error)
}

// ShareDefaults are the accounts a person's shares start with ticked (a
// user's own, per workspace); nothing is ticked without them.
type ShareDefaults struct {
	// ConnectionIDs are connected accounts' ids, in the order saved.
	ConnectionIDs []string `json:"connection_ids"`
}
