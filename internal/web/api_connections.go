package web

import (
	"context"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"outpost/internal/connect"
	"outpost/internal/errcode"
	"outpost/internal/publish/platforms"
	"outpost/internal/store"
)

// connectionJSON is a connected account. Its tokens never leave the
// server.
type connectionJSON struct {
	ID               string                 `json:"id"`
	Platform         string                 `json:"platform"`
	AccountID        string                 `json:"account_id"`
	AccountName      string                 `json:"account_name"`
	AvatarURL        string                 `json:"avatar_url,omitempty"`
	Status           store.ConnectionStatus `json:"status"`
	Scopes           []string               `json:"scopes"`
	TokenExpiresAt   *time.Time             `json:"token_expires_at"`
	RefreshExpiresAt *time.Time             `json:"refresh_expires_at"`
	CreatedAt        time.Time              `json:"created_at"`
	UpdatedAt        time.Time              `json:"updated_at"`
}

func connectionView(c store.Connection) connectionJSON {
	v := connectionJSON{ID: c.ID, Platform: c.Platform, AccountID: c.AccountID, AccountName: c.AccountName,
		AvatarURL: c.AvatarURL, Status: c.Status, Scopes: c.Scopes, TokenExpiresAt: c.TokenExpiresAt,
		RefreshExpiresAt: c.RefreshExpiresAt, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
	if v.Scopes == nil {
		v.Scopes = []string{}
	}
	return v
}

// platformJSON says whether accounts of a platform can be connected here.
type platformJSON struct {
	Platform string `json:"platform"`
	// Status is "configured" or "not_configured" (no OAuth app: set
	// OUTPOST_<PLATFORM>_CLIENT_ID and _SECRET).
	Status string `json:"status"`
	// ConnectURL starts connecting an account in a browser (signed in).
	ConnectURL string `json:"connect_url,omitempty"`
}

// connectionsJSON is the connections list.
type connectionsJSON struct {
	Data      []connectionJSON `json:"data"`
	Platforms []platformJSON   `json:"platforms"`
}

// authorizeRequest starts connecting an account through the API.
type authorizeRequest struct {
	// ReturnTo is a local path the browser is sent to after the callback.
	ReturnTo string `json:"return_to,omitempty"`
}

// authorizeJSON is where to send the user to approve.
type authorizeJSON struct {
	Platform     string    `json:"platform"`
	AuthorizeURL string    `json:"authorize_url"`
	RedirectURI  string    `json:"redirect_uri"`
	ExpiresAt    time.Time `json:"expires_at"`
}

// connectionService is what the connection routes need of jobs.Service.
type connectionService interface {
	ResumeConnection(ctx context.Context, connectionID string) (int, error)
	DeleteConnection(ctx context.Context, workspaceID, id string) error
}

func (s *Server) connector() (*connect.Service, error) {
	if s.connect == nil {
		return nil, errcode.New(errcode.PlatformNotConfigured, "connecting accounts is not available on this server")
	}
	return s.connect, nil
}

func (s *Server) listConnections(w http.ResponseWriter, r *http.Request) error {
	cs, err := s.store.ListConnections(r.Context(), workspaceOf(r))
	if err != nil {
		return err
	}
	out := connectionsJSON{Data: make([]connectionJSON, len(cs))}
	for i, c := range cs {
		out.Data[i] = connectionView(c)
	}
	for _, p := range platforms.IDs() {
		pj := platformJSON{Platform: p, Status: "not_configured"}
		if s.connect != nil && s.connect.Configured(p) {
			pj.Status, pj.ConnectURL = "configured", s.cfg.PublicURL+"/connect/"+p
		}
		out.Platforms = append(out.Platforms, pj)
	}
	s.writeJSON(w, r, http.StatusOK, out)
	return nil
}

func (s *Server) getConnection(w http.ResponseWriter, r *http.Request) error {
	c, err := s.connectionInWorkspace(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, connectionView(c))
	return nil
}

func (s *Server) connectionInWorkspace(r *http.Request, id string) (store.Connection, error) {
	c, err := s.store.GetConnection(r.Context(), id)
	if isNotFound(err) || err == nil && c.WorkspaceID != workspaceOf(r) {
		return store.Connection{}, notFound("connection", id)
	}
	return c, err
}

func (s *Server) deleteConnection(w http.ResponseWriter, r *http.Request) error {
	c, err := s.connectionInWorkspace(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	if s.conns != nil {
		err = s.conns.DeleteConnection(r.Context(), c.WorkspaceID, c.ID)
	} else {
		err = s.store.DeleteConnection(r.Context(), c.ID)
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// localPath accepts a path on this server ("/exports"), nothing that
// leaves it.
func localPath(p string) (string, error) {
	if p == "" {
		return "", nil
	}
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") || strings.ContainsAny(p, "\r\n") {
		return "", errcode.New(errcode.InvalidOption, "return_to: give a path on this server, such as /connections")
	}
	return p, nil
}

func (s *Server) authorizeConnection(w http.ResponseWriter, r *http.Request) error {
	var req authorizeRequest
	if r.ContentLength != 0 {
		if err := decodeJSON(r, &req); err != nil {
			return err
		}
	}
	ret, err := localPath(req.ReturnTo)
	if err != nil {
		return err
	}
	c, err := s.connector()
	if err != nil {
		return err
	}
	platform := r.PathValue("platform")
	u, exp, err := c.Authorize(r.Context(), workspaceOf(r), platform, connect.AuthorizeOptions{ReturnTo: ret})
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, authorizeJSON{Platform: platform, AuthorizeURL: u, RedirectURI: c.RedirectURL(platform), ExpiresAt: exp})
	return nil
}

// Cookies of the connect flow.
const (
	sessionCookie = "outpost_session" // the UI's session (internal/ui)
	bindingCookie = "outpost_oauth"   // binds a browser-started flow to its browser
)

// connectStart sends a browser to the platform's authorize page. It is
// authenticated by an API key or by the UI's session cookie; a flow started
// with the session is bound to this browser by a cookie.
func (s *Server) connectStart(w http.ResponseWriter, r *http.Request) error {
	ws, viaSession, err := s.browserOrKey(r)
	if err != nil {
		return err
	}
	ret, err := localPath(r.URL.Query().Get("return_to"))
	if err != nil {
		return err
	}
	c, err := s.connector()
	if err != nil {
		return err
	}
	opts := connect.AuthorizeOptions{ReturnTo: ret}
	if viaSession {
		opts.BrowserNonce = connect.NewNonce()
	}
	u, _, err := c.Authorize(r.Context(), ws, r.PathValue("platform"), opts)
	if err != nil {
		return err
	}
	if opts.BrowserNonce != "" {
		http.SetCookie(w, &http.Cookie{Name: bindingCookie, Value: opts.BrowserNonce, Path: "/oauth/",
			MaxAge: int(connect.DefaultStateTTL / time.Second), HttpOnly: true, SameSite: http.SameSiteLaxMode,
			Secure: strings.HasPrefix(s.cfg.PublicURL, "https://")})
	}
	http.Redirect(w, r, u, http.StatusFound)
	return nil
}

// browserOrKey authenticates a request by its API key, else by the UI's
// session cookie, and returns the workspace.
func (s *Server) browserOrKey(r *http.Request) (workspaceID string, viaSession bool, err error) {
	if r.Header.Get("Authorization") != "" {
		key, err := s.authenticate(r)
		if err != nil {
			return "", false, err
		}
		return key.WorkspaceID, false, nil
	}
	ctx := r.Context()
	if ck, err := r.Cookie(sessionCookie); err == nil && ck.Value != "" && len(ck.Value) <= 200 {
		sess, err := s.store.LookupSession(ctx, ck.Value, s.now())
		if err == nil {
			u, err := s.store.GetUser(ctx, sess.UserID)
			if err == nil {
				infoOf(r).workspaceID = u.WorkspaceID
				return u.WorkspaceID, true, nil
			}
			if !isNotFound(err) {
				return "", false, err
			}
		} else if !isNotFound(err) {
			return "", false, err
		}
	}
	return "", false, errcode.New(errcode.Unauthorized, "sign in to Outpost first, or send Authorization: Bearer <key>")
}

var callbackPage = template.Must(template.New("callback").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Outpost: {{.Title}}</title>
<style>body{font:16px system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem}
.ok{color:#14532d}.err{color:#7f1d1d}code{background:#eee;padding:0 .2rem}</style></head>
<body><h1 class="{{if .Error}}err{{else}}ok{{end}}">{{.Title}}</h1>
{{if .Error}}<p>{{.Error}}</p>{{if .Remedy}}<p>{{.Remedy}}</p>{{end}}<p>Error code: <code>{{.Code}}</code></p>
{{else}}<ul>{{range .Connections}}<li><strong>{{.AccountName}}</strong> ({{.Platform}}, <code>{{.ID}}</code>)</li>{{end}}</ul>
<p>You can close this tab. Publications that waited for this account are on their way.</p>{{end}}
</body></html>`))

type callbackView struct {
	Title       string
	Error       string
	Remedy      string
	Code        errcode.Code
	Connections []store.Connection
}

// oauthCallback finishes connecting an account: the platform sends the
// browser here with a code (or an error). It answers with a small page, or
// a redirect to the return_to path given at the start.
func (s *Server) oauthCallback(w http.ResponseWriter, r *http.Request) {
	platform := r.PathValue("platform")
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	nonce := ""
	if ck, err := r.Cookie(bindingCookie); err == nil {
		nonce = ck.Value
		http.SetCookie(w, &http.Cookie{Name: bindingCookie, Value: "", Path: "/oauth/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	}
	var (
		res connect.Result
		err error
	)
	if c, cerr := s.connector(); cerr != nil {
		err = cerr
	} else {
		res, err = c.Callback(r.Context(), platform, r.URL.Query(), nonce)
	}
	if err == nil && s.conns != nil {
		infoOf(r).workspaceID = res.WorkspaceID
		for _, c := range res.Connections {
			if _, rerr := s.conns.ResumeConnection(r.Context(), c.ID); rerr != nil {
				s.logger.WarnContext(r.Context(), "queue publications after reconnect", slog.String("connection_id", c.ID), slog.Any("error", rerr))
			}
		}
	}
	if err == nil && res.ReturnTo != "" {
		sep := "?"
		if strings.Contains(res.ReturnTo, "?") {
			sep = "&"
		}
		http.Redirect(w, r, res.ReturnTo+sep+"connected="+platform, http.StatusSeeOther)
		return
	}
	view := callbackView{Title: "Connected to " + platform, Connections: res.Connections}
	status := http.StatusOK
	if err != nil {
		he := httpError(err)
		status = he.status
		if status >= 500 {
			s.logger.ErrorContext(r.Context(), "oauth callback failed", slog.String("platform", platform), slog.Any("error", err))
		} else {
			s.logger.InfoContext(r.Context(), "oauth callback refused", slog.String("platform", platform), slog.Any("error", err))
		}
		view = callbackView{Title: "Could not connect " + platform, Error: he.message, Code: he.code, Remedy: errcode.Remedies[he.code]}
		var ce *errcode.Error
		if errors.As(err, &ce) && ce.Remedy != "" {
			view.Remedy = ce.Remedy
		}
	}
	h.Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_ = callbackPage.Execute(w, view)
}

func isNotFound(err error) bool {
	return errors.Is(err, store.ErrNotFound) || errcode.Of(err) == errcode.NotFound
}
