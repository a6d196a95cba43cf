package web

import (
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"outpost/internal/authz"
	"outpost/internal/errcode"
	"outpost/internal/outpost"
)

// authorizeRequest starts connecting an account through the API.
type authorizeRequest struct {
	// ReturnTo is a local path the browser is sent to after the callback.
	ReturnTo string `json:"return_to,omitempty"`
}

func (s *Server) listConnections(w http.ResponseWriter, r *http.Request) error {
	list, err := s.svc.Connections.List(r.Context(), workspaceOf(r))
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, list)
	return nil
}

// platformList is the publishing platforms, from their descriptors.
type platformList struct {
	Data []outpost.Platform `json:"data"`
}

func (s *Server) listPlatforms(w http.ResponseWriter, r *http.Request) error {
	s.writeJSON(w, r, http.StatusOK, platformList{Data: s.svc.Connections.Platforms()})
	return nil
}

func (s *Server) getConnection(w http.ResponseWriter, r *http.Request) error {
	c, err := s.svc.Connections.Get(r.Context(), workspaceOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, c)
	return nil
}

func (s *Server) deleteConnection(w http.ResponseWriter, r *http.Request) error {
	if err := s.svc.Connections.Delete(r.Context(), callerOf(r), r.PathValue("id")); err != nil {
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
	a, err := s.svc.Connections.Authorize(r.Context(), workspaceOf(r), r.PathValue("platform"), outpost.AuthorizeOptions{ReturnTo: ret})
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, a)
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
	a, err := s.svc.Connections.Authorize(r.Context(), ws, r.PathValue("platform"), outpost.AuthorizeOptions{ReturnTo: ret, Browser: viaSession})
	if err != nil {
		return err
	}
	if a.BrowserNonce != "" {
		http.SetCookie(w, &http.Cookie{Name: bindingCookie, Value: a.BrowserNonce, Path: "/oauth/",
			MaxAge: int(time.Until(a.ExpiresAt) / time.Second), HttpOnly: true, SameSite: http.SameSiteLaxMode,
			Secure: strings.HasPrefix(s.cfg.PublicURL, "https://")})
	}
	http.Redirect(w, r, a.AuthorizeURL, http.StatusFound)
	return nil
}

// browserOrKey authenticates a request by its API key, else by the UI's
// session cookie, checks it may connect accounts, and returns the
// workspace.
func (s *Server) browserOrKey(r *http.Request) (workspaceID string, viaSession bool, err error) {
	c, err := s.authenticate(r)
	if err != nil {
		if errcode.Of(err) == errcode.Unauthorized && r.Header.Get("Authorization") == "" {
			return "", false, errcode.New(errcode.Unauthorized, "sign in to Outpost first, or send Authorization: Bearer <key>")
		}
		return "", false, err
	}
	infoOf(r).workspaceID = c.WorkspaceID
	if err := c.Check(authz.ManageConnections); err != nil {
		return "", false, err
	}
	return c.WorkspaceID, c.KeyID == "", nil
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
	Connections []outpost.Connection
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
	var by outpost.Caller
	if ses, ok, _ := s.session(r); ok {
		by = ses.Caller(s.ips.IP(r))
	} else {
		by.IP = s.ips.IP(r)
	}
	res, err := s.svc.Connections.Callback(r.Context(), by, platform, r.URL.Query(), nonce)
	if err == nil {
		infoOf(r).workspaceID = res.WorkspaceID
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
