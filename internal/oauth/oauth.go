package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"outpost/internal/errcode"
	"outpost/internal/publish"
	"outpost/internal/publish/platforms"
)

// Provider is a platform's OAuth 2.0 setup, from its descriptor.
type Provider struct {
	Platform string
	publish.OAuth
}

// Providers returns the real providers of every registered platform.
func Providers() map[string]Provider {
	out := map[string]Provider{}
	for _, d := range platforms.All() {
		out[d.ID] = Provider{Platform: d.ID, OAuth: d.OAuth}
	}
	return out
}

// Lookup returns a platform's real provider, or its sandbox twin when base
// is set (the sandbox serves every platform's paths from one origin).
func Lookup(platform, base string) (Provider, error) {
	d, ok := platforms.Lookup(platform)
	if !ok {
		return Provider{}, fmt.Errorf("oauth: unknown platform %q", platform)
	}
	p := Provider{Platform: d.ID, OAuth: d.OAuth}
	if base != "" {
		return p.Rebase(base)
	}
	return p, nil
}

// Rebase points the provider's URLs at base, keeping their paths.
func (p Provider) Rebase(base string) (Provider, error) {
	b, err := url.Parse(strings.TrimRight(base, "/"))
	if err != nil || b.Scheme == "" || b.Host == "" {
		return p, fmt.Errorf("oauth: base URL %q must be absolute", base)
	}
	move := func(s string) string {
		u, _ := url.Parse(s)
		u.Scheme, u.Host, u.Path = b.Scheme, b.Host, b.Path+u.Path
		return u.String()
	}
	p.AuthURL, p.TokenURL = move(p.AuthURL), move(p.TokenURL)
	return p, nil
}

// Credentials are the app's client id and secret and the callback URL.
type Credentials struct {
	ClientID     string
	ClientSecret string
	RedirectURL  string
}

// Config returns the x/oauth2 config of p for c.
func (p Provider) Config(c Credentials) *oauth2.Config {
	scopes := p.Scopes
	if p.ScopeSep != " " && len(scopes) > 0 {
		// x/oauth2 joins with spaces; comma platforms get one joined scope.
		scopes = []string{strings.Join(scopes, p.ScopeSep)}
	}
	return &oauth2.Config{
		ClientID: c.ClientID, ClientSecret: c.ClientSecret, RedirectURL: c.RedirectURL, Scopes: scopes,
		Endpoint: oauth2.Endpoint{AuthURL: p.AuthURL, TokenURL: p.TokenURL, AuthStyle: oauth2.AuthStyleInParams},
	}
}

// Client runs one platform's OAuth flow.
type Client struct {
	Provider    Provider
	Credentials Credentials
	HTTP        *http.Client
	// Now replaces the clock for expiry times.
	Now func() time.Time
}

// New returns a Client for platform; base is "" for the real platform or
// the sandbox origin.
func New(platform, base string, c Credentials, hc *http.Client) (*Client, error) {
	p, err := Lookup(platform, base)
	if err != nil {
		return nil, err
	}
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Client{Provider: p, Credentials: c, HTTP: hc}, nil
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// NewVerifier returns a fresh PKCE code verifier; keep it with the state
// until the callback.
func NewVerifier() string { return oauth2.GenerateVerifier() }

// AuthCodeURL returns the authorize URL for state, with the S256 challenge
// of verifier where the platform takes PKCE.
func (c *Client) AuthCodeURL(state, verifier string) string {
	p := c.Provider
	var opts []oauth2.AuthCodeOption
	for k, v := range p.AuthParams {
		opts = append(opts, oauth2.SetAuthURLParam(k, v))
	}
	if p.ClientIDParam != "" {
		opts = append(opts, oauth2.SetAuthURLParam(p.ClientIDParam, c.Credentials.ClientID))
	}
	if p.PKCE && verifier != "" {
		opts = append(opts, oauth2.S256ChallengeOption(verifier))
	}
	return p.Config(c.Credentials).AuthCodeURL(state, opts...)
}

// Token is what a connection stores (sealed).
type Token struct {
	AccessToken  string    `json:"access_token"`
	RefreshToken string    `json:"refresh_token,omitempty"`
	TokenType    string    `json:"token_type,omitempty"`
	Expiry       time.Time `json:"expiry,omitzero"`
	// RefreshExpiry is when the refresh token dies (LinkedIn, TikTok);
	// zero when unknown or never.
	RefreshExpiry time.Time `json:"refresh_expiry,omitzero"`
	Scopes        []string  `json:"scopes,omitempty"`
	// OpenID is TikTok's user id from the token response.
	OpenID string `json:"open_id,omitempty"`
}

// Expires reports whether the access token ends within d of now.
func (t Token) Expires(now time.Time, d time.Duration) bool {
	return !t.Expiry.IsZero() && !now.Add(d).Before(t.Expiry)
}

// Exchange trades an authorization code (and the PKCE verifier) for
// tokens. On LongLived platforms (Facebook, Instagram) the code yields an
// hour-long token, which is exchanged at once for the 60-day one.
func (c *Client) Exchange(ctx context.Context, code, verifier string) (Token, error) {
	p := c.Provider
	var opts []oauth2.AuthCodeOption
	if p.ClientIDParam != "" {
		opts = append(opts, oauth2.SetAuthURLParam(p.ClientIDParam, c.Credentials.ClientID))
	}
	if p.PKCE && verifier != "" {
		opts = append(opts, oauth2.VerifierOption(verifier))
	}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, c.HTTP)
	ot, err := p.Config(c.Credentials).Exchange(ctx, code, opts...)
	if err != nil {
		return Token{}, c.classify(err)
	}
	t := c.fromOAuth2(ot)
	if p.LongLived {
		return c.longLived(ctx, t.AccessToken)
	}
	return t, nil
}

func (c *Client) fromOAuth2(ot *oauth2.Token) Token {
	t := Token{AccessToken: ot.AccessToken, RefreshToken: ot.RefreshToken, TokenType: ot.TokenType, Expiry: ot.Expiry}
	if s, ok := ot.Extra("scope").(string); ok {
		t.Scopes = splitScopes(s)
	}
	if s, ok := ot.Extra("open_id").(string); ok {
		t.OpenID = s
	}
	for _, k := range []string{"refresh_expires_in", "refresh_token_expires_in"} {
		if f, ok := ot.Extra(k).(float64); ok && f > 0 {
			t.RefreshExpiry = c.now().Add(time.Duration(f) * time.Second)
		}
	}
	return t
}

func splitScopes(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' })
}

// tokenResponse is a token endpoint's JSON, success or error.
type tokenResponse struct {
	AccessToken      string          `json:"access_token"`
	TokenType        string          `json:"token_type"`
	ExpiresIn        json.Number     `json:"expires_in"`
	RefreshToken     string          `json:"refresh_token"`
	RefreshExpiresIn json.Number     `json:"refresh_expires_in"`
	RefreshTTL       json.Number     `json:"refresh_token_expires_in"`
	Scope            string          `json:"scope"`
	OpenID           string          `json:"open_id"`
	Error            json.RawMessage `json:"error"`
	ErrorDescription string          `json:"error_description"`
}

// post sends form to the token endpoint (GET with a query for Graph's
// fb_exchange_token) and decodes the answer, inspecting the body even on
// HTTP 200 (TikTok's sandbox answers invalid_grant with 200).
func (c *Client) post(ctx context.Context, method string, form url.Values) (tokenResponse, error) {
	var req *http.Request
	var err error
	if method == http.MethodGet {
		req, err = http.NewRequestWithContext(ctx, method, c.Provider.TokenURL+"?"+form.Encode(), nil)
	} else {
		req, err = http.NewRequestWithContext(ctx, method, c.Provider.TokenURL, strings.NewReader(form.Encode()))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	}
	if err != nil {
		return tokenResponse{}, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return tokenResponse{}, &TokenError{Platform: c.Provider.Platform, Description: "token endpoint unreachable", Err: err}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var tr tokenResponse
	jerr := json.Unmarshal(body, &tr)
	if te := tokenError(c.Provider.Platform, resp.StatusCode, body); te != nil {
		return tr, te
	}
	if jerr != nil || tr.AccessToken == "" {
		return tr, &TokenError{Platform: c.Provider.Platform, Status: resp.StatusCode,
			Description: fmt.Sprintf("unexpected token response %.200q", body)}
	}
	return tr, nil
}

func (c *Client) fromResponse(tr tokenResponse) Token {
	now := c.now()
	t := Token{AccessToken: tr.AccessToken, RefreshToken: tr.RefreshToken, TokenType: tr.TokenType,
		Scopes: splitScopes(tr.Scope), OpenID: tr.OpenID}
	if n, err := tr.ExpiresIn.Int64(); err == nil && n > 0 {
		t.Expiry = now.Add(time.Duration(n) * time.Second)
	}
	for _, v := range []json.Number{tr.RefreshExpiresIn, tr.RefreshTTL} {
		if n, err := v.Int64(); err == nil && n > 0 {
			t.RefreshExpiry = now.Add(time.Duration(n) * time.Second)
		}
	}
	return t
}

// longLived exchanges a Meta user token for a 60-day one.
func (c *Client) longLived(ctx context.Context, access string) (Token, error) {
	tr, err := c.post(ctx, http.MethodGet, url.Values{"grant_type": {"fb_exchange_token"},
		"client_id": {c.Credentials.ClientID}, "client_secret": {c.Credentials.ClientSecret}, "fb_exchange_token": {access}})
	if err != nil {
		return Token{}, err
	}
	t := c.fromResponse(tr)
	t.Scopes = nil
	return t, nil
}

// ErrNoRefreshToken says the connection has nothing to refresh with: the
// user must reconnect.
var ErrNoRefreshToken = errors.New("oauth: no refresh token; reconnect the account")

// Refresh renews the access token. The result always carries a refresh
// token: the rotated one when the platform sent one (TikTok rotates on
// every use and the old one dies, so persist the result at once), else
// the previous one — an empty refresh token never overwrites a stored one.
// LongLived platforms (Facebook, Instagram) have no refresh tokens: a live
// long-lived token is exchanged for a fresh one instead.
func (c *Client) Refresh(ctx context.Context, old Token) (Token, error) {
	p := c.Provider
	if p.LongLived {
		if old.AccessToken == "" || old.Expires(c.now(), 0) {
			return Token{}, &TokenError{Platform: p.Platform, Code: "invalid_grant", Description: "the token has expired; reconnect", Err: ErrNoRefreshToken}
		}
		return c.longLived(ctx, old.AccessToken)
	}
	if old.RefreshToken == "" {
		return Token{}, &TokenError{Platform: p.Platform, Code: "invalid_grant", Description: "no refresh token stored", Err: ErrNoRefreshToken}
	}
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {old.RefreshToken},
		"client_id": {c.Credentials.ClientID}, "client_secret": {c.Credentials.ClientSecret}}
	if p.ClientIDParam != "" {
		form.Set(p.ClientIDParam, c.Credentials.ClientID)
	}
	tr, err := c.post(ctx, http.MethodPost, form)
	if err != nil {
		return Token{}, err
	}
	t := c.fromResponse(tr)
	if t.RefreshToken == "" {
		t.RefreshToken, t.RefreshExpiry = old.RefreshToken, old.RefreshExpiry
	}
	if len(t.Scopes) == 0 {
		t.Scopes = old.Scopes
	}
	if t.OpenID == "" {
		t.OpenID = old.OpenID
	}
	return t, nil
}

// ErrInvalidGrant matches token errors that mean the grant is dead
// (expired, revoked, already used): the connection needs the user again.
var ErrInvalidGrant = errors.New("oauth: authorization expired or revoked")

// TokenError is a token endpoint failure.
type TokenError struct {
	Platform    string
	Status      int    // HTTP status; 0 without a response
	Code        string // invalid_grant, invalid_client, …; Graph: "190", "100/36007"
	Description string
	Err         error
}

func (e *TokenError) Error() string {
	s := "oauth: " + e.Platform + " token"
	if e.Code != "" {
		s += ": " + e.Code
	}
	if e.Description != "" {
		s += ": " + e.Description
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Expired reports whether the grant is dead for good (reconnect), as
// opposed to a failure worth retrying.
func (e *TokenError) Expired() bool {
	switch e.Code {
	case "invalid_grant", "190", "190/460", "190/463", "190/467", "102", "100/36007", "100/36009":
		return true
	}
	return errors.Is(e.Err, ErrNoRefreshToken)
}

// Temporary reports whether retrying later may succeed: no response, a
// 5xx or a 429.
func (e *TokenError) Temporary() bool {
	return !e.Expired() && (e.Status == 0 && e.Code == "" || e.Status >= 500 || e.Status == http.StatusTooManyRequests)
}

// Unwrap exposes ErrInvalidGrant and a connection_expired code for dead
// grants, and the cause.
func (e *TokenError) Unwrap() []error {
	var out []error
	if e.Expired() {
		out = append(out, ErrInvalidGrant, &errcode.Error{Code: errcode.ConnectionExpired, Message: e.Platform + ": " + e.Description})
	}
	if e.Err != nil {
		out = append(out, e.Err)
	}
	return out
}

// tokenError reads an error body: RFC 6749 {"error","error_description"}
// (Google, LinkedIn, TikTok, even with HTTP 200) or Graph's
// {"error":{"code","error_subcode","message"}}.
func tokenError(platform string, status int, body []byte) *TokenError {
	var env struct {
		Error json.RawMessage `json:"error"`
		Desc  string          `json:"error_description"`
	}
	_ = json.Unmarshal(body, &env)
	if len(env.Error) > 0 && env.Error[0] == '"' {
		var code string
		_ = json.Unmarshal(env.Error, &code)
		if code != "" {
			return &TokenError{Platform: platform, Status: status, Code: code, Description: env.Desc}
		}
	}
	if len(env.Error) > 0 && env.Error[0] == '{' {
		var g struct {
			Code    int    `json:"code"`
			Subcode int    `json:"error_subcode"`
			Message string `json:"message"`
		}
		_ = json.Unmarshal(env.Error, &g)
		code := strconv.Itoa(g.Code)
		if g.Subcode != 0 {
			code += "/" + strconv.Itoa(g.Subcode)
		}
		return &TokenError{Platform: platform, Status: status, Code: code, Description: g.Message}
	}
	if status/100 != 2 {
		return &TokenError{Platform: platform, Status: status, Description: fmt.Sprintf("HTTP %d: %.200q", status, body)}
	}
	return nil
}

// classify turns an x/oauth2 exchange error into a *TokenError.
func (c *Client) classify(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		if te := tokenError(c.Provider.Platform, status, re.Body); te != nil {
			return te
		}
		return &TokenError{Platform: c.Provider.Platform, Status: status, Code: re.ErrorCode, Description: re.ErrorDescription, Err: err}
	}
	return &TokenError{Platform: c.Provider.Platform, Description: "token exchange failed", Err: err}
}
