// Package connect connects accounts on the publishing platforms and keeps
// them usable: the OAuth authorize redirect (state stored hashed and single
// use, PKCE where the platform takes it), the callback (code exchange,
// account lookup, tokens sealed before they reach the database), the
// per-platform publishers, and refreshing tokens (rotated refresh tokens
// persisted at once; a dead grant marks the connection expired).
//
// Tokens are sealed with oauth.Seal under the configured secret key, bound
// to the connection id, its platform and which token it is, so a sealed
// value copied to another row or column does not open.
package connect

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"outpost/internal/config"
	"outpost/internal/errcode"
	"outpost/internal/oauth"
	"outpost/internal/publish"
	"outpost/internal/publish/platforms"
	"outpost/internal/store"
)

// Defaults.
const (
	// DefaultStateTTL is how long an authorize link stays good.
	DefaultStateTTL = 15 * time.Minute
	// callTimeout bounds each OAuth and account lookup call.
	callTimeout = 30 * time.Second
	// SecretKeyID names the secret key (Options.Key) in sealed tokens.
	SecretKeyID byte = 1
)

// Options configure a Service.
type Options struct {
	Store *store.Store
	// Key is the 32-byte secret key that seals tokens (config.SecretKey),
	// key id 1.
	Key []byte
	// TokenKeys are more 32-byte token keys by key id (2…255,
	// config.TokenKeys): the highest id seals, every one opens what it
	// sealed. Adding a key with a higher id rotates: tokens are sealed
	// again under it as they are refreshed, and by ResealTokens.
	TokenKeys map[byte][]byte
	// Platforms are the OAuth apps and origins by platform name.
	Platforms map[string]config.Platform
	// PublicURL is this server's base URL: callbacks go to
	// PublicURL/oauth/{platform}/callback.
	PublicURL string
	// HTTP is the client for platform calls; nil makes one without an
	// overall timeout (uploads are long: contexts bound each call).
	HTTP   *http.Client
	Logger *slog.Logger
	// TuneFunc, when set, adjusts every publisher made (tests: short poll
	// intervals, small chunks).
	TuneFunc func(publish.Publisher)
	// StateTTL is how long an authorize link stays good. Default 15 min.
	StateTTL time.Duration
	// Now replaces the clock.
	Now func() time.Time
}

// Service connects accounts and hands out their publishers and tokens. It
// is safe for concurrent use.
type Service struct {
	store     *store.Store
	keyring   map[byte][]byte
	sealID    byte // the newest key's id: the one that seals
	platforms map[string]config.Platform
	publicURL string
	http      *http.Client
	logger    *slog.Logger
	tune      func(publish.Publisher)
	stateTTL  time.Duration
	now       func() time.Time

	mu    sync.Mutex
	locks map[string]*sync.Mutex // per connection: one refresh at a time
}

// New returns a Service.
func New(opts Options) (*Service, error) {
	if opts.Store == nil {
		return nil, errors.New("connect: Store is required")
	}
	if len(opts.Key) != 32 {
		return nil, errors.New("connect: Key must be 32 bytes")
	}
	keyring := map[byte][]byte{SecretKeyID: opts.Key}
	sealID := SecretKeyID
	for id, k := range opts.TokenKeys {
		if id <= SecretKeyID {
			return nil, fmt.Errorf("connect: token key id %d: ids 2 to 255 (1 is the secret key)", id)
		}
		if len(k) != 32 {
			return nil, fmt.Errorf("connect: token key %d must be 32 bytes", id)
		}
		keyring[id] = k
		sealID = max(sealID, id)
	}
	if opts.HTTP == nil {
		opts.HTTP = &http.Client{Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			ForceAttemptHTTP2:     true,
			TLSHandshakeTimeout:   15 * time.Second,
			ResponseHeaderTimeout: 2 * time.Minute,
			IdleConnTimeout:       90 * time.Second,
			MaxIdleConnsPerHost:   4,
		}}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.StateTTL <= 0 {
		opts.StateTTL = DefaultStateTTL
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	platforms := map[string]config.Platform{}
	for k, v := range opts.Platforms {
		platforms[k] = v
	}
	return &Service{
		store: opts.Store, keyring: keyring, sealID: sealID, platforms: platforms,
		publicURL: strings.TrimRight(opts.PublicURL, "/"), http: opts.HTTP, logger: opts.Logger,
		tune: opts.TuneFunc, stateTTL: opts.StateTTL, now: opts.Now, locks: map[string]*sync.Mutex{},
	}, nil
}

// Known reports whether platform is one Outpost publishes to.
func Known(platform string) bool {
	_, ok := platforms.Lookup(platform)
	return ok
}

// Configured reports whether platform has an OAuth app configured.
func (s *Service) Configured(platform string) bool {
	return s.platforms[platform].Configured()
}

// ClientID returns the platform's OAuth client id: the project whose quota
// (YouTube) the calls spend.
func (s *Service) ClientID(platform string) string { return s.platforms[platform].ClientID }

// BaseURL returns the platform's origin override ("" for the real one).
func (s *Service) BaseURL(platform string) string { return s.platforms[platform].BaseURL }

// checkPlatform returns an error for an unknown or unconfigured platform.
func (s *Service) checkPlatform(platform string) error {
	d, ok := platforms.Lookup(platform)
	if !ok {
		return errcode.New(errcode.NotFound, "unknown platform %q: use one of %s", platform, strings.Join(platforms.IDs(), ", "))
	}
	if !s.Configured(platform) {
		up := d.Env
		return &errcode.Error{Code: errcode.PlatformNotConfigured,
			Message: fmt.Sprintf("%s is not configured on this server", platform),
			Remedy:  fmt.Sprintf("Set OUTPOST_%s_CLIENT_ID and OUTPOST_%s_CLIENT_SECRET to the app's credentials and restart (or run `outpost serve --sandbox` to try the emulators).", up, up)}
	}
	return nil
}

// RedirectURL is the OAuth callback of platform on this server.
func (s *Service) RedirectURL(platform string) string {
	return s.publicURL + "/oauth/" + platform + "/callback"
}

func (s *Service) oauthClient(platform string) (*oauth.Client, error) {
	p := s.platforms[platform]
	c, err := oauth.New(platform, p.BaseURL, oauth.Credentials{ClientID: p.ClientID, ClientSecret: p.ClientSecret,
		RedirectURL: s.RedirectURL(platform)}, s.http)
	if err != nil {
		return nil, err
	}
	c.Now = s.now
	return c, nil
}

// Publisher returns the platform's client, pointed at its configured
// origin.
func (s *Service) Publisher(platform string) (publish.Publisher, error) {
	d, ok := platforms.Lookup(platform)
	if !ok {
		return nil, errcode.New(errcode.NotFound, "unknown platform %q", platform)
	}
	p := d.NewFunc(s.platforms[platform].BaseURL, s.http)
	if s.tune != nil {
		s.tune(p)
	}
	return p, nil
}

// AuthorizeOptions tune one authorization.
type AuthorizeOptions struct {
	// BrowserNonce binds the flow to the browser that started it (a cookie
	// value the callback must bring back); empty for API-started flows.
	BrowserNonce string
	// ReturnTo is a local path the callback redirects to.
	ReturnTo string
}

// Authorize starts connecting an account of platform to the workspace: it
// stores a single-use state (hashed) with the PKCE verifier (sealed) and
// returns the platform's authorize URL.
func (s *Service) Authorize(ctx context.Context, workspaceID, platform string, o AuthorizeOptions) (string, time.Time, error) {
	if err := s.checkPlatform(platform); err != nil {
		return "", time.Time{}, err
	}
	c, err := s.oauthClient(platform)
	if err != nil {
		return "", time.Time{}, err
	}
	state := randomToken()
	id := hashHex(state)
	verifier := oauth.NewVerifier()
	sealed, err := oauth.Seal(s.keyring[s.sealID], s.sealID, []byte(verifier), []byte("oauth_state:"+id))
	if err != nil {
		return "", time.Time{}, err
	}
	st := store.OAuthState{ID: id, WorkspaceID: workspaceID, Platform: platform, Verifier: sealed,
		ReturnTo: o.ReturnTo, ExpiresAt: s.now().Add(s.stateTTL)}
	if o.BrowserNonce != "" {
		st.BrowserHash = hashHex(o.BrowserNonce)
	}
	if err := s.store.CreateOAuthState(ctx, st); err != nil {
		return "", time.Time{}, err
	}
	return c.AuthCodeURL(state, verifier), st.ExpiresAt, nil
}

// Result is what a callback connected.
type Result struct {
	WorkspaceID string
	Platform    string
	// Connections are the accounts connected (a Facebook user with two
	// Pages connects both).
	Connections []store.Connection
	ReturnTo    string
}

// Callback finishes an authorization: q is the callback's query (state,
// code or error), browserNonce the binding cookie's value ("" when none).
// The code is exchanged for tokens, the account (or accounts) looked up
// and stored with sealed tokens; a reconnect keeps the connection's id and
// makes it active again.
func (s *Service) Callback(ctx context.Context, platform string, q url.Values, browserNonce string) (Result, error) {
	if !Known(platform) {
		return Result{}, errcode.New(errcode.NotFound, "unknown platform %q", platform)
	}
	state := q.Get("state")
	if state == "" {
		return Result{}, oauthFailed("the callback has no state: start again from /connect/%s", platform)
	}
	st, err := s.store.TakeOAuthState(ctx, hashHex(state), s.now())
	if errors.Is(err, store.ErrNotFound) {
		return Result{}, oauthFailed("the authorization is unknown, already used or expired (links last %s): start again", s.stateTTL)
	}
	if err != nil {
		return Result{}, err
	}
	if st.Platform != platform {
		return Result{}, oauthFailed("the authorization was started for %s, not %s", st.Platform, platform)
	}
	if st.BrowserHash != "" && hashHex(browserNonce) != st.BrowserHash {
		return Result{}, oauthFailed("the authorization was started in another browser: start again here")
	}
	res := Result{WorkspaceID: st.WorkspaceID, Platform: platform, ReturnTo: st.ReturnTo}
	if e := q.Get("error"); e != "" {
		desc := q.Get("error_description")
		if desc == "" {
			desc = e
		}
		return res, oauthFailed("%s did not authorize Outpost: %s", platform, desc)
	}
	code := q.Get("code")
	if code == "" {
		return res, oauthFailed("the callback has no code")
	}
	if err := s.checkPlatform(platform); err != nil {
		return res, err
	}
	verifier, err := oauth.Open(s.keys(), st.Verifier, []byte("oauth_state:"+st.ID))
	if err != nil {
		return res, fmt.Errorf("open pkce verifier: %w", err)
	}
	c, err := s.oauthClient(platform)
	if err != nil {
		return res, err
	}
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	tok, err := c.Exchange(cctx, code, string(verifier))
	if err != nil {
		return res, errcode.Wrap(errcode.OAuthFailed, err, platform+" refused the authorization code")
	}
	accts, err := s.accounts(cctx, platform, tok)
	if err != nil {
		return res, err
	}
	for _, a := range accts {
		conn, err := s.save(ctx, st.WorkspaceID, platform, a)
		if err != nil {
			return res, err
		}
		res.Connections = append(res.Connections, conn)
		s.logger.InfoContext(ctx, "account connected", "platform", platform, "connection_id", conn.ID,
			"account_id", conn.AccountID, "workspace_id", conn.WorkspaceID)
	}
	return res, nil
}

func oauthFailed(format string, args ...any) error {
	return errcode.New(errcode.OAuthFailed, format, args...)
}

// account is one account an authorization gives access to, with the
// tokens to store for it.
type account struct {
	id, name, avatar string
	access, refresh  string
	expiry           time.Time // of access (Facebook: of the user token behind the Page token)
	refreshExpiry    time.Time
	scopes           []string
}

// accounts looks up who the token is: the accounts the grant may post
// as. An account with a token of its own (a Facebook Page) posts with it
// and keeps the grant's token to renew it.
func (s *Service) accounts(ctx context.Context, platform string, tok oauth.Token) ([]account, error) {
	d, ok := platforms.Lookup(platform)
	if !ok {
		return nil, errcode.New(errcode.NotFound, "unknown platform %q", platform)
	}
	remote, err := d.NewFunc(s.platforms[platform].BaseURL, s.http).Accounts(ctx, tok.AccessToken)
	if err != nil {
		if errors.Is(err, publish.ErrNoAccount) {
			return nil, err // it says what is missing (no Page, …)
		}
		return nil, errcode.Wrap(errcode.OAuthFailed, err, "look up the "+platform+" account")
	}
	var out []account
	for _, r := range remote {
		a := account{id: r.ID, name: r.Name, avatar: r.AvatarURL, access: tok.AccessToken, refresh: tok.RefreshToken,
			expiry: tok.Expiry, refreshExpiry: tok.RefreshExpiry, scopes: tok.Scopes}
		if a.id == "" {
			a.id = tok.OpenID // the token response named the user (TikTok)
		}
		if r.AccessToken != "" {
			a.access, a.refresh = r.AccessToken, tok.AccessToken
		}
		out = append(out, a)
	}
	return out, nil
}

// save seals the account's tokens under its connection id and upserts it.
func (s *Service) save(ctx context.Context, workspaceID, platform string, a account) (store.Connection, error) {
	id := store.NewID(store.PrefixConnection)
	if old, err := s.store.GetConnectionByAccount(ctx, workspaceID, platform, a.id); err == nil {
		id = old.ID
	} else if !errors.Is(err, store.ErrNotFound) {
		return store.Connection{}, err
	}
	for range 2 {
		c := store.Connection{ID: id, WorkspaceID: workspaceID, Platform: platform, AccountID: a.id,
			AccountName: a.name, AvatarURL: a.avatar, Scopes: a.scopes, Status: store.ConnectionActive,
			TokenExpiresAt: timePtr(a.expiry), RefreshExpiresAt: timePtr(a.refreshExpiry)}
		var err error
		if c.AccessToken, err = s.seal(id, platform, "access", a.access); err != nil {
			return store.Connection{}, err
		}
		if c.RefreshToken, err = s.seal(id, platform, "refresh", a.refresh); err != nil {
			return store.Connection{}, err
		}
		got, err := s.store.UpsertConnection(ctx, c)
		if err != nil {
			return store.Connection{}, err
		}
		if got.ID == id {
			return got, nil
		}
		// A concurrent callback stored the account first under another
		// id: seal again for that row.
		id = got.ID
	}
	return store.Connection{}, fmt.Errorf("save connection: %w", store.ErrConflict)
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

func (s *Service) keys() map[byte][]byte { return s.keyring }

// SealKeyID is the id of the key new seals use (the highest configured).
func (s *Service) SealKeyID() byte { return s.sealID }

func aad(connID, platform, which string) []byte {
	return []byte(connID + "\x00" + platform + "\x00" + which)
}

func (s *Service) seal(connID, platform, which, v string) ([]byte, error) {
	if v == "" {
		return nil, nil
	}
	return oauth.Seal(s.keyring[s.sealID], s.sealID, []byte(v), aad(connID, platform, which))
}

func (s *Service) open(c store.Connection, which string, sealed []byte) (string, error) {
	if len(sealed) == 0 {
		return "", nil
	}
	b, err := oauth.Open(s.keys(), sealed, aad(c.ID, c.Platform, which))
	if err != nil {
		// Nothing a retry or a refresh changes: the token was sealed under
		// a key this node does not hold, or is damaged.
		return "", errcode.Wrap(errcode.ConnectionUnreadable, err, fmt.Sprintf(
			"the %s token of the %s connection (%s) cannot be opened with this server's keys: %s",
			which, c.Platform, c.AccountName, strings.TrimPrefix(err.Error(), "oauth: ")))
	}
	return string(b), nil
}

// Tokens are a connection's tokens in the clear.
type Tokens struct {
	Access  string
	Refresh string
}

// Tokens opens the connection's sealed tokens.
func (s *Service) Tokens(c store.Connection) (Tokens, error) {
	var t Tokens
	var err error
	if t.Access, err = s.open(c, "access", c.AccessToken); err != nil {
		return t, err
	}
	if t.Refresh, err = s.open(c, "refresh", c.RefreshToken); err != nil {
		return t, err
	}
	return t, nil
}

// Account returns the publish.Account of a connection, token included.
func (s *Service) Account(c store.Connection) (publish.Account, error) {
	t, err := s.Tokens(c)
	if err != nil {
		return publish.Account{}, err
	}
	return publish.Account{ID: c.AccountID, Name: c.AccountName, AccessToken: t.Access}, nil
}

// Refreshable reports whether the connection has a way to renew its access
// token: a refresh token, or on LongLived platforms (Facebook, Instagram)
// a long-lived token to exchange (the user token behind a Page token, kept
// as the refresh token, else the access token itself).
func Refreshable(c store.Connection) bool {
	if d, ok := platforms.Lookup(c.Platform); ok && d.OAuth.LongLived {
		return len(c.RefreshToken) > 0 || len(c.AccessToken) > 0
	}
	return len(c.RefreshToken) > 0
}

func (s *Service) lock(id string) func() {
	s.mu.Lock()
	m, ok := s.locks[id]
	if !ok {
		m = &sync.Mutex{}
		s.locks[id] = m
	}
	s.mu.Unlock()
	m.Lock()
	return m.Unlock
}

// ErrExpired matches refresh failures that expired the connection.
var ErrExpired = errors.New("connect: the connection has expired; reconnect the account")

// Refresh renews the connection's access token and stores the result at
// once (a rotated refresh token is single use), returning the connection
// as stored. stale is the connection as the caller last read it: when its
// tokens changed since (another job or process refreshed), those are
// returned without a call. A dead grant (invalid_grant, revoked) marks the
// connection expired and returns an error matching ErrExpired and carrying
// errcode.ConnectionExpired; other failures are returned as they are
// (retry later).
func (s *Service) Refresh(ctx context.Context, stale store.Connection) (store.Connection, error) {
	unlock := s.lock(stale.ID)
	defer unlock()
	cur, err := s.store.GetConnection(ctx, stale.ID)
	if err != nil {
		return store.Connection{}, err
	}
	if string(cur.AccessToken) != string(stale.AccessToken) {
		return cur, nil // refreshed meanwhile
	}
	if cur.Status != store.ConnectionActive {
		return cur, expired(cur, "the connection is "+string(cur.Status))
	}
	if !s.Configured(cur.Platform) {
		return cur, s.checkPlatform(cur.Platform)
	}
	c, err := s.oauthClient(cur.Platform)
	if err != nil {
		return cur, err
	}
	tok, err := s.Tokens(cur)
	if err != nil {
		return cur, err
	}
	old := oauth.Token{AccessToken: tok.Access, RefreshToken: tok.Refresh}
	if cur.TokenExpiresAt != nil {
		old.Expiry = *cur.TokenExpiresAt
	}
	if cur.RefreshExpiresAt != nil {
		old.RefreshExpiry = *cur.RefreshExpiresAt
	}
	d, _ := platforms.Lookup(cur.Platform)
	// An account posting with a token of its own (a Facebook Page) keeps
	// the grant's long-lived user token as its refresh token: that is what
	// gets exchanged, and the account's token is looked up again with it.
	ownToken := d.OAuth.LongLived && tok.Refresh != ""
	if ownToken {
		old.AccessToken = tok.Refresh
	}
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	nt, err := c.Refresh(cctx, old)
	if err != nil {
		var te *oauth.TokenError
		if errors.As(err, &te) && te.Expired() {
			return s.expire(ctx, cur, err)
		}
		return cur, err
	}
	a := account{access: nt.AccessToken, refresh: nt.RefreshToken, expiry: nt.Expiry, refreshExpiry: nt.RefreshExpiry}
	switch {
	case ownToken:
		remote, err := d.NewFunc(s.platforms[cur.Platform].BaseURL, s.http).Accounts(cctx, nt.AccessToken)
		if err != nil {
			if errors.Is(err, publish.ErrNoAccount) || publish.ClassOf(err) == publish.AuthExpired {
				return s.expire(ctx, cur, err) // no account left, or the token is dead
			}
			return cur, err
		}
		a.access, a.refresh = "", nt.AccessToken
		for _, r := range remote {
			if r.ID == cur.AccountID {
				a.access = r.AccessToken
			}
		}
		if a.access == "" {
			return s.expire(ctx, cur, errors.New("the account is no longer granted to Outpost"))
		}
	case d.OAuth.LongLived:
		a.refresh = "" // the exchanged token is all there is
	}
	var t store.ConnectionTokens
	if t.AccessToken, err = s.seal(cur.ID, cur.Platform, "access", a.access); err != nil {
		return cur, err
	}
	if t.RefreshToken, err = s.seal(cur.ID, cur.Platform, "refresh", a.refresh); err != nil {
		return cur, err
	}
	t.ExpiresAt, t.RefreshExpiresAt = timePtr(a.expiry), timePtr(a.refreshExpiry)
	// A refresh token that keeps its first expiry (LinkedIn) keeps the
	// warning already sent about it; the platform rounds to seconds.
	if o, n := cur.RefreshExpiresAt, t.RefreshExpiresAt; o != nil && n != nil {
		t.KeepWarning = n.Sub(*o).Abs() < time.Minute
	}
	// Persist even when the caller's context ends now: the old refresh
	// token may already be dead.
	wctx, wcancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer wcancel()
	if err := s.store.SwapConnectionTokens(wctx, cur.ID, cur.RefreshToken, t); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return s.store.GetConnection(wctx, cur.ID)
		}
		return cur, err
	}
	s.logger.InfoContext(ctx, "connection refreshed", "connection_id", cur.ID, "platform", cur.Platform,
		"rotated", a.refresh != "" && a.refresh != tok.Refresh)
	return s.store.GetConnection(wctx, cur.ID)
}

// expire marks the connection expired, unless its tokens changed since cur
// was read (a concurrent refresh won, and our refresh token was the
// rotated-away one).
func (s *Service) expire(ctx context.Context, cur store.Connection, cause error) (store.Connection, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	now, err := s.store.GetConnection(ctx, cur.ID)
	if err != nil {
		return cur, err
	}
	if string(now.RefreshToken) != string(cur.RefreshToken) || string(now.AccessToken) != string(cur.AccessToken) {
		return now, nil
	}
	if err := s.store.SetConnectionStatus(ctx, cur.ID, store.ConnectionExpired); err != nil {
		return cur, err
	}
	s.logger.WarnContext(ctx, "connection expired: the user must reconnect", "connection_id", cur.ID,
		"platform", cur.Platform, "error", cause)
	now.Status = store.ConnectionExpired
	return now, expired(now, cause.Error())
}

func expired(c store.Connection, why string) error {
	return fmt.Errorf("%w: %w", ErrExpired, &errcode.Error{Code: errcode.ConnectionExpired,
		Message: fmt.Sprintf("%s connection %s (%s): %s", c.Platform, c.ID, c.AccountName, why)})
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// NewNonce returns a random value for a browser binding cookie.
func NewNonce() string { return randomToken() }

func hashHex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// Stale reports whether a token of c is sealed under a key other than the
// newest (ResealTokens would seal it again).
func (s *Service) Stale(c store.Connection) bool {
	for _, b := range [][]byte{c.AccessToken, c.RefreshToken} {
		if id, ok := oauth.KeyID(b); ok && id != s.sealID {
			return true
		}
	}
	return false
}

// ResealTokens seals c's tokens again under the newest key, when either is
// under an older one, without asking the platform: after it the older key
// can be removed. It reports whether it wrote; a connection whose tokens
// changed meanwhile (a refresh, which seals with the newest key anyway) is
// left as it is.
func (s *Service) ResealTokens(ctx context.Context, c store.Connection) (bool, error) {
	if !s.Stale(c) {
		return false, nil
	}
	t, err := s.Tokens(c)
	if err != nil {
		return false, err
	}
	access, err := s.seal(c.ID, c.Platform, "access", t.Access)
	if err != nil {
		return false, err
	}
	refresh, err := s.seal(c.ID, c.Platform, "refresh", t.Refresh)
	if err != nil {
		return false, err
	}
	err = s.store.ResealConnectionTokens(ctx, c.ID, c.AccessToken, c.RefreshToken, access, refresh)
	if errors.Is(err, store.ErrConflict) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	s.logger.InfoContext(ctx, "connection tokens sealed under the newest key", "connection_id", c.ID, "key_id", s.sealID)
	return true, nil
}
