package sandbox

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"outpost/internal/publish/platforms"
)

const (
	kindAccess  = "access"
	kindRefresh = "refresh"
	kindPage    = "page" // Facebook Page token
)

// token is an access or refresh token the sandbox issued.
type token struct {
	value    string
	platform string
	clientID string
	kind     string
	scopes   []string
	issued   time.Time
	expires  time.Time // zero: never
	revoked  bool
	pageID   string // Page tokens
	long     bool   // Facebook long-lived user token
	// refresh: when the refresh token's life started (LinkedIn never
	// extends it).
	parent *token
}

func (t *token) has(scope string) bool { return slices.Contains(t.scopes, scope) }

// authCode is an authorization code waiting for exchange.
type authCode struct {
	platform  string
	clientID  string
	redirect  string
	scopes    []string
	challenge string
	method    string
	offline   bool // Google access_type=offline
	expires   time.Time
	used      bool
}

// default token lifetimes (platforms.md §3.1, §4.1, §6.1, §7.1).
func (s *Server) accessTTL(platform string, long bool) time.Duration {
	if s.lim.AccessTTL != 0 {
		return s.lim.AccessTTL
	}
	switch platform {
	case YouTube:
		return 3599 * time.Second
	case Facebook, Instagram:
		if long {
			return 60 * 24 * time.Hour
		}
		return time.Hour
	case LinkedIn:
		return 60 * 24 * time.Hour
	}
	return 24 * time.Hour
}

func (s *Server) refreshTTL(platform string) time.Duration {
	if s.lim.RefreshTTL != 0 {
		return s.lim.RefreshTTL
	}
	return 365 * 24 * time.Hour
}

var tokenPrefix = map[string]string{
	YouTube: "ya29.", Facebook: "EAA", Instagram: "EAA", LinkedIn: "AQV", TikTok: "act.",
}

// issueLocked creates a token; callers hold s.mu.
func (s *Server) issueLocked(platform, clientID, kind string, scopes []string, ttl time.Duration) *token {
	t := &token{platform: platform, clientID: clientID, kind: kind, scopes: scopes, issued: s.now()}
	switch kind {
	case kindRefresh:
		t.value = map[string]string{YouTube: "1//", LinkedIn: "AQX", TikTok: "rft."}[platform] + randToken(40)
	default:
		t.value = tokenPrefix[platform] + randToken(48)
	}
	if ttl > 0 {
		t.expires = t.issued.Add(ttl)
	}
	s.tokens[t.value] = t
	return t
}

// IssueToken returns a fresh access token for the seeded account of
// platform with the given scopes (all the platform's publishing scopes when
// none): a Page token for Facebook, a user token for the others. Tests use
// it to skip the OAuth dance.
func (s *Server) IssueToken(platform string, scopes ...string) string {
	if len(scopes) == 0 {
		d, _ := platforms.Lookup(platform)
		scopes = d.OAuth.Scopes
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cid := s.clientFor(platform).ID
	t := s.issueLocked(platform, cid, kindAccess, scopes, s.accessTTL(platform, true))
	if platform == Facebook {
		t.long = true
		p := s.issueLocked(platform, cid, kindPage, scopes, 0)
		p.pageID, p.parent = FacebookPageID, t
		return p.value
	}
	return t.value
}

// clientFor returns the platform's first registered client; callers hold
// s.mu or call before serving.
func (s *Server) clientFor(platform string) Client {
	var ids []string
	for id, c := range s.clients {
		if c.Platform == platform {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	if len(ids) == 0 {
		return DefaultClient(platform)
	}
	return s.clients[ids[0]]
}

// lookupToken returns a live access or Page token of one of the platforms,
// and why not otherwise: "missing", "expired", "revoked".
func (s *Server) lookupToken(value string, platforms ...string) (*token, string) {
	if value == "" {
		return nil, "missing"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[value]
	if !ok || t.kind == kindRefresh || !slices.Contains(platforms, t.platform) {
		return nil, "invalid"
	}
	if t.revoked || (t.parent != nil && t.parent.revoked) {
		return nil, "revoked"
	}
	if !t.expires.IsZero() && !s.now().Before(t.expires) {
		return nil, "expired"
	}
	return t, ""
}

// --- authorize -------------------------------------------------------------

// clientParam is the authorize parameter naming the client: client_id,
// or the platform's own (TikTok's client_key).
func clientParam(platform string) string {
	if d, _ := platforms.Lookup(platform); d.OAuth.ClientIDParam != "" {
		return d.OAuth.ClientIDParam
	}
	return "client_id"
}

var consentPage = template.Must(template.New("consent").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sandbox {{.Platform}}: authorize</title>
<style>body{font:16px system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem}
button{font-size:1rem;padding:.5rem 1.2rem;margin-right:.5rem}code{background:#eee;padding:0 .2rem}</style></head>
<body><h1>{{.Platform}} (sandbox)</h1>
<p><strong>{{.Client}}</strong> asks to act as <strong>{{.Account}}</strong> with these permissions:</p>
<ul>{{range .Scopes}}<li><code>{{.}}</code></li>{{end}}</ul>
<p>This is Outpost's emulator: nothing leaves this machine.</p>
<form method="post">{{range $k, $v := .Params}}<input type="hidden" name="{{$k}}" value="{{$v}}">{{end}}
<button name="decision" value="approve" id="approve">Approve</button>
<button name="decision" value="deny" id="deny">Deny</button></form></body></html>`))

var accountName = map[string]string{
	YouTube: YouTubeChannelName, Facebook: FacebookUserName, Instagram: FacebookUserName + " (@" + InstagramUsername + ")",
	LinkedIn: LinkedInName, TikTok: TikTokNickname,
}

// authorize serves a platform's authorize page: GET shows the consent page
// (or redirects at once with AutoApprove), POST takes the decision.
func (s *Server) authorize(fixed string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		platform := fixed
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		q := r.Form
		param := clientParam(platform)
		if platform == "" { // Facebook Login serves Facebook and Instagram apps
			param = clientParam(Facebook)
		}
		cid := q.Get(param)
		s.mu.Lock()
		c, ok := s.clients[cid]
		s.mu.Unlock()
		if platform == "" && ok && (c.Platform == Facebook || c.Platform == Instagram) {
			platform = c.Platform
		}
		if !ok || c.Platform != platform {
			http.Error(w, "sandbox "+platform+": unknown "+param+" "+strconvQuote(cid), http.StatusBadRequest)
			return
		}
		redirect := q.Get("redirect_uri")
		if !redirectAllowed(c, redirect) {
			http.Error(w, "sandbox "+platform+": redirect_uri "+strconvQuote(redirect)+" is not registered for this client", http.StatusBadRequest)
			return
		}
		back, _ := url.Parse(redirect)
		bq := back.Query()
		if st := q.Get("state"); st != "" {
			bq.Set("state", st)
		}
		if q.Get("response_type") != "code" {
			bq.Set("error", "unsupported_response_type")
			bq.Set("error_description", "response_type must be code")
			back.RawQuery = bq.Encode()
			http.Redirect(w, r, back.String(), http.StatusFound)
			return
		}
		scopes := splitScopes(q.Get("scope"))
		decision := "approve"
		if r.Method == http.MethodPost {
			decision = q.Get("decision")
		} else if !s.opts.AutoApprove {
			params := map[string]string{}
			for k := range q {
				params[k] = q.Get(k)
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_ = consentPage.Execute(w, map[string]any{
				"Platform": platform, "Client": cid, "Account": accountName[platform], "Scopes": scopes, "Params": params,
			})
			return
		}
		if decision != "approve" {
			bq.Set("error", "access_denied")
			bq.Set("error_description", "The user denied the request")
			back.RawQuery = bq.Encode()
			http.Redirect(w, r, back.String(), http.StatusFound)
			return
		}
		code := &authCode{
			platform: platform, clientID: cid, redirect: redirect, scopes: scopes,
			challenge: q.Get("code_challenge"), method: q.Get("code_challenge_method"),
			offline: q.Get("access_type") == "offline", expires: s.now().Add(10 * time.Minute),
		}
		if code.challenge != "" && code.method == "" {
			code.method = "plain"
		}
		value := randToken(32)
		if platform == Facebook || platform == Instagram {
			value = "AQ" + randToken(60)
		}
		s.mu.Lock()
		s.codes[value] = code
		s.mu.Unlock()
		bq.Set("code", value)
		if platform == TikTok {
			bq.Set("scopes", strings.Join(scopes, ","))
		}
		back.RawQuery = bq.Encode()
		http.Redirect(w, r, back.String(), http.StatusFound)
	}
}

func strconvQuote(s string) string { return `"` + template.HTMLEscapeString(s) + `"` }

func redirectAllowed(c Client, redirect string) bool {
	u, err := url.Parse(redirect)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return false
	}
	return len(c.RedirectURIs) == 0 || slices.Contains(c.RedirectURIs, redirect)
}

func splitScopes(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' })
}

// --- token endpoint core ---------------------------------------------------

// grantError is an OAuth failure to be written in the platform's envelope.
type grantError struct {
	status int
	code   string // invalid_grant, invalid_client, invalid_request, unsupported_grant_type
	desc   string
	why    string // invalid, used, expired, redirect, verifier
}

// checkClient authenticates the client by params or HTTP Basic.
func (s *Server) checkClient(r *http.Request, platform, idParam string) (Client, *grantError) {
	id, secret := r.Form.Get(idParam), r.Form.Get("client_secret")
	if u, p, ok := r.BasicAuth(); ok && id == "" {
		id, secret = u, p
	}
	s.mu.Lock()
	c, ok := s.clients[id]
	s.mu.Unlock()
	if !ok || c.Platform != platform || subtle.ConstantTimeCompare([]byte(c.Secret), []byte(secret)) != 1 {
		return Client{}, &grantError{http.StatusUnauthorized, "invalid_client", "Client authentication failed.", "client"}
	}
	return c, nil
}

// redeemCode checks and consumes an authorization code, PKCE included.
func (s *Server) redeemCode(platform string, c Client, code, redirect, verifier string) (*authCode, *grantError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ac, ok := s.codes[code]
	switch {
	case !ok || ac.platform != platform || ac.clientID != c.ID:
		return nil, &grantError{http.StatusBadRequest, "invalid_grant", "Authorization code is invalid or expired.", "invalid"}
	case ac.used:
		return nil, &grantError{http.StatusBadRequest, "invalid_grant", "Authorization code has already been used.", "used"}
	case !s.now().Before(ac.expires):
		delete(s.codes, code)
		return nil, &grantError{http.StatusBadRequest, "invalid_grant", "Authorization code is invalid or expired.", "expired"}
	case redirect != ac.redirect:
		return nil, &grantError{http.StatusBadRequest, "invalid_grant", "redirect_uri does not match the one used to authorize.", "redirect"}
	}
	if ac.challenge != "" {
		if verifier == "" {
			return nil, &grantError{http.StatusBadRequest, "invalid_grant", "Missing code verifier.", "verifier"}
		}
		got := verifier
		if ac.method == "S256" {
			sum := sha256.Sum256([]byte(verifier))
			got = base64.RawURLEncoding.EncodeToString(sum[:])
		}
		if subtle.ConstantTimeCompare([]byte(got), []byte(ac.challenge)) != 1 {
			return nil, &grantError{http.StatusBadRequest, "invalid_grant", "Invalid code verifier.", "verifier"}
		}
	}
	ac.used = true
	return ac, nil
}

// useRefresh checks a refresh token; rotate revokes it (TikTok).
func (s *Server) useRefresh(platform string, c Client, value string, rotate bool) (*token, *grantError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[value]
	switch {
	case !ok || t.kind != kindRefresh || t.platform != platform || t.clientID != c.ID:
		return nil, &grantError{http.StatusBadRequest, "invalid_grant", "Refresh token is invalid.", "invalid"}
	case t.revoked:
		return nil, &grantError{http.StatusBadRequest, "invalid_grant", "Token has been expired or revoked.", "revoked"}
	case !t.expires.IsZero() && !s.now().Before(t.expires):
		return nil, &grantError{http.StatusBadRequest, "invalid_grant", "Token has been expired or revoked.", "expired"}
	}
	if rotate {
		t.revoked = true
	}
	return t, nil
}

func secondsUntil(now, t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return int64(t.Sub(now).Round(time.Second) / time.Second)
}
