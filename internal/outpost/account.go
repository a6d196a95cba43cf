package outpost

import (
	"context"
	"time"

	"outpost/internal/authz"
)

// User is a person who signs in to the web UI.
type User struct {
	ID          string `json:"id"`
	WorkspaceID string `json:"workspace_id"`
	Email       string `json:"email"`
	Name        string `json:"name,omitempty"`
	Role        Role   `json:"role"`
}

// Session is a signed-in browser.
type Session struct {
	ID   string
	User User
}

// APIKey is a workspace's bearer key, as authenticated.
type APIKey struct {
	ID          string
	WorkspaceID string
	Prefix      string
	Scopes      []authz.Scope
}

// Caller is the request made with the key from ip.
func (k APIKey) Caller(ip string) Caller {
	return Caller{WorkspaceID: k.WorkspaceID, KeyID: k.ID, Name: k.Prefix, Scopes: k.Scopes, IP: ip}
}

// Caller is the request made in the session from ip.
func (s Session) Caller(ip string) Caller {
	return Caller{WorkspaceID: s.User.WorkspaceID, UserID: s.User.ID, Name: s.User.Email, Role: s.User.Role, IP: ip}
}

// MinPasswordLen is the shortest password an account may have.
const MinPasswordLen = 10

// Accounts are the use cases of who may do what: API keys, users and their
// browser sessions.
type Accounts interface {
	// AuthenticateKey checks a bearer API key sent from the client address
	// ip (errcode.Unauthorized when it is not valid) and records its use.
	// Too many bad keys from one address are refused before any lookup
	// (errcode.RateLimited with RetryAfter).
	AuthenticateKey(ctx context.Context, token, ip string) (APIKey, error)
	// SignIn checks an email and password from the client address ip
	// (errcode.Unauthorized when either is wrong; it takes as long for an
	// unknown email). Failed sign-ins are throttled per address and per
	// account before the password is checked (errcode.RateLimited with
	// RetryAfter).
	SignIn(ctx context.Context, email, password, ip string) (User, error)
	// StartSession signs a user in: the token goes in the browser's cookie.
	StartSession(ctx context.Context, userID string) (token string, expires time.Time, err error)
	// Session returns the session of a cookie's token, renewing its
	// expiry; errcode.Unauthorized when there is none.
	Session(ctx context.Context, token string) (Session, error)
	EndSession(ctx context.Context, sessionID string) error
	// HasUsers reports whether anyone can sign in yet.
	HasUsers(ctx context.Context) (bool, error)
	// CreateOwner makes the first user, the owner of the default
	// workspace; errcode.Conflict when a user exists.
	CreateOwner(ctx context.Context, email, name, password string) (User, error)
}

// IdempotencyRecord is the stored outcome of a POST made with an
// Idempotency-Key, replayed when the same key comes again.
type IdempotencyRecord struct {
	WorkspaceID string
	Key         string
	Method      string
	Path        string
	// RequestHash identifies the request body: the same key with another
	// body is a client error.
	RequestHash    string
	ResponseStatus int
	ResponseBody   []byte
	CreatedAt      time.Time
}

// Idempotency keeps the responses of requests made with an
// Idempotency-Key.
type Idempotency interface {
	// Get returns the workspace's record of key; errcode.NotFound when
	// there is none.
	Get(ctx context.Context, workspaceID, key string) (IdempotencyRecord, error)
	Put(ctx context.Context, rec IdempotencyRecord) error
}
