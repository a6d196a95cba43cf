package ui

import (
	"context"
	"crypto/subtle"
	"net/http"
	"net/url"
	"strings"
	"time"

	"outpost/internal/errcode"
	"outpost/internal/outpost"
)

// sessionCookie holds a random token whose SHA-256 the store keeps.
const sessionCookie = "outpost_session"

type viewerKey struct{}

// viewerOf returns the signed-in session of a request (auth sets it).
func viewerOf(r *http.Request) *outpost.Session {
	v, _ := r.Context().Value(viewerKey{}).(*outpost.Session)
	return v
}

func workspaceOf(r *http.Request) string { return viewerOf(r).User.WorkspaceID }

// withViewer is ctx with the signed-in session v.
func withViewer(ctx context.Context, v *outpost.Session) context.Context {
	return context.WithValue(ctx, viewerKey{}, v)
}

// handlerFunc is a page or action; a returned error is shown by fail.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// auth wraps a handler for signed-in users: it loads the session, checks
// that the user's role allows the route's action (pageActions) and shows
// errors plainly.
func (h *Handler) auth(fn handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := h.lookupViewer(r)
		if err != nil {
			if r.Context().Err() != nil {
				return // the client went away
			}
			h.fail(w, r, err)
			return
		}
		if v == nil {
			if wantsJSON(r) || r.Method != http.MethodGet {
				h.writeJSONError(w, http.StatusUnauthorized, errcode.Unauthorized,
					"Your session has ended.", "Sign in again, then retry.")
				return
			}
			http.Redirect(w, r, "/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		r = r.WithContext(withViewer(r.Context(), v))
		if err := h.authorize(r); err != nil {
			h.fail(w, r, err)
			return
		}
		if err := fn(w, r); err != nil {
			h.fail(w, r, err)
		}
	})
}

// callerOf is the signed-in user making the request, for the services.
func (h *Handler) callerOf(r *http.Request) outpost.Caller {
	return viewerOf(r).Caller(h.ips.IP(r))
}

// lookupViewer returns the request's signed-in session, or nil.
func (h *Handler) lookupViewer(r *http.Request) (*outpost.Session, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil, nil
	}
	s, err := h.svc.Accounts.Session(r.Context(), c.Value)
	if errcode.Of(err) == errcode.Unauthorized {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &s, nil
}

func (h *Handler) setSessionCookie(w http.ResponseWriter, token string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: token, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteLaxMode,
	})
}

// signinData is the sign-in and setup pages' data.
type signinData struct {
	Email    string
	Name     string
	Next     string
	Token    string // setup token
	NoUsers  bool
	MinChars int
}

func (h *Handler) signinPage(w http.ResponseWriter, r *http.Request) {
	if v, _ := h.lookupViewer(r); v != nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	h.renderSignin(w, r, http.StatusOK, signinData{Next: safeNext(r.URL.Query().Get("next"))}, nil)
}

func (h *Handler) renderSignin(w http.ResponseWriter, r *http.Request, status int, d signinData, fl *flash) {
	h.mu.Lock()
	d.NoUsers = h.setupToken != ""
	h.mu.Unlock()
	h.render(w, r, status, "signin", page{Title: "Sign in", Flash: fl, FlashInPage: true, Data: d})
}

func (h *Handler) signin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	email := strings.TrimSpace(r.PostFormValue("email"))
	next := safeNext(r.PostFormValue("next"))
	d := signinData{Email: email, Next: next}
	u, err := h.svc.Accounts.SignIn(r.Context(), email, r.PostFormValue("password"), h.ips.IP(r))
	switch e := errcode.As(err); {
	case err == nil:
	case e.Code == errcode.Unauthorized:
		h.renderSignin(w, r, http.StatusUnauthorized, d, &flash{Kind: "error", Message: e.Message, Remedy: e.RemedyText()})
		return
	case e.Code == errcode.RateLimited:
		w.Header().Set("Retry-After", errcode.RetryAfterHeader(err))
		h.renderSignin(w, r, http.StatusTooManyRequests, d, &flash{Kind: "error", Message: plainMessage(e.Message) + ".",
			Remedy: "Wait, then try again; if you forgot your password, ask a workspace owner."})
		return
	default:
		h.fail(w, r, err)
		return
	}
	h.signedIn(w, r, u, next)
}

func (h *Handler) startSession(w http.ResponseWriter, r *http.Request, u outpost.User) error {
	token, exp, err := h.svc.Accounts.StartSession(r.Context(), u.ID)
	if err != nil {
		return err
	}
	h.setSessionCookie(w, token, int(exp.Sub(h.now())/time.Second))
	return nil
}

func (h *Handler) signout(w http.ResponseWriter, r *http.Request) error {
	if err := h.svc.Accounts.EndSession(r.Context(), viewerOf(r).ID); err != nil {
		return err
	}
	h.setSessionCookie(w, "", -1)
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
	return nil
}

// setupOpen reports whether token opens the one-time setup.
func (h *Handler) setupOpen(token string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.setupToken != "" && subtle.ConstantTimeCompare([]byte(h.setupToken), []byte(token)) == 1
}

func (h *Handler) setupPage(w http.ResponseWriter, r *http.Request) {
	tok := r.URL.Query().Get("token")
	if !h.setupOpen(tok) {
		h.renderError(w, r, http.StatusNotFound, "Setup link not valid",
			"This setup link is wrong, or the admin account already exists.",
			"Sign in instead; if no one can, restart the server and use the new link it prints.")
		return
	}
	h.render(w, r, http.StatusOK, "setup", page{Title: "Create the admin account",
		Data: signinData{Token: tok, MinChars: outpost.MinPasswordLen}})
}

func (h *Handler) setup(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	tok := r.PostFormValue("token")
	d := signinData{Token: tok, MinChars: outpost.MinPasswordLen,
		Email: strings.TrimSpace(r.PostFormValue("email")), Name: strings.TrimSpace(r.PostFormValue("name"))}
	if !h.setupOpen(tok) {
		h.renderError(w, r, http.StatusNotFound, "Setup link not valid",
			"This setup link is wrong, or the admin account already exists.", "Sign in instead.")
		return
	}
	again := func(status int, msg, remedy string) {
		h.render(w, r, status, "setup", page{Title: "Create the admin account",
			Flash: &flash{Kind: "error", Message: msg, Remedy: remedy}, FlashInPage: true, Data: d})
	}
	pw := r.PostFormValue("password")
	if pw != r.PostFormValue("confirm") {
		again(http.StatusUnprocessableEntity, "The two passwords differ.", "Type the same password twice.")
		return
	}
	h.mu.Lock()
	if h.setupToken != tok {
		h.mu.Unlock()
		again(http.StatusConflict, "The admin account was created meanwhile.", "Sign in instead.")
		return
	}
	u, err := h.svc.Accounts.CreateOwner(r.Context(), d.Email, d.Name, pw)
	if err == nil || errcode.Of(err) == errcode.Conflict {
		h.setupToken = ""
	}
	h.mu.Unlock()
	if err != nil {
		if st := accountFormStatus(err); st != 0 {
			e := errcode.As(err)
			again(st, e.Message, e.RemedyText())
			return
		}
		h.fail(w, r, err)
		return
	}
	h.logger.InfoContext(r.Context(), "web UI admin created", "user_id", u.ID)
	h.signedIn(w, r, u, "/projects")
}

// accountFormStatus is the status a form that makes an account shows its
// error with, in the form: 422 for a field to fix, 409 for an account that
// exists; 0 for any other error (an error page).
func accountFormStatus(err error) int {
	switch errcode.Of(err) {
	case errcode.InvalidOption:
		return http.StatusUnprocessableEntity
	case errcode.Conflict:
		return http.StatusConflict
	}
	return 0
}

// signedIn starts a session for u and sends the browser to next.
func (h *Handler) signedIn(w http.ResponseWriter, r *http.Request, u outpost.User, next string) {
	if err := h.startSession(w, r, u); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// safeNext keeps a post-sign-in redirect on this site.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") ||
		strings.HasPrefix(next, "/\\") || strings.ContainsAny(next, "\r\n") {
		return "/projects"
	}
	return next
}
