package ui

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"outpost/internal/config"
	"outpost/internal/errcode"
	"outpost/internal/store"
)

// Cookie names. The session cookie holds a random token whose SHA-256 the
// store keeps; the pre-session cookie carries the CSRF secret of the
// sign-in and setup forms (double submit).
const (
	sessionCookie = "outpost_session"
	preCSRFCookie = "outpost_csrf"
	csrfField     = "csrf_token"
	csrfHeader    = "X-CSRF-Token"
)

// viewer is the signed-in user of a request.
type viewer struct {
	User    store.User
	Session store.Session
	CSRF    string
}

type viewerKey struct{}

func viewerOf(r *http.Request) *viewer {
	v, _ := r.Context().Value(viewerKey{}).(*viewer)
	return v
}

func workspaceOf(r *http.Request) string { return viewerOf(r).User.WorkspaceID }

// handlerFunc is a page or action; a returned error is shown by fail.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// auth wraps a handler for signed-in users: it loads the session, checks
// the CSRF token of state-changing requests and shows errors plainly.
func (h *Handler) auth(fn handlerFunc) http.Handler { return h.authOpts(fn, false) }

// authUpload is auth for the upload route, whose multipart body may carry
// the CSRF token as its first field instead of a header: the handler
// checks it there before reading the file.
func (h *Handler) authUpload(fn handlerFunc) http.Handler { return h.authOpts(fn, true) }

func (h *Handler) authOpts(fn handlerFunc, tokenInMultipart bool) http.Handler {
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
		deferred := tokenInMultipart && r.Header.Get(csrfHeader) == "" && isMultipart(r)
		if r.Method != http.MethodGet && r.Method != http.MethodHead && !deferred && !h.checkCSRF(r, v.CSRF) {
			h.fail(w, r, &csrfError{})
			return
		}
		ctx := context.WithValue(r.Context(), viewerKey{}, v)
		if err := fn(w, r.WithContext(ctx)); err != nil {
			h.fail(w, r.WithContext(ctx), err)
		}
	})
}

// csrfError is a missing or wrong CSRF token.
type csrfError struct{}

func (*csrfError) Error() string { return "csrf token missing or wrong" }

// lookupViewer returns the request's signed-in user, or nil.
func (h *Handler) lookupViewer(r *http.Request) (*viewer, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" || len(c.Value) > 200 {
		return nil, nil
	}
	ctx := r.Context()
	now := h.now()
	s, err := h.store.LookupSession(ctx, c.Value, now)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	u, err := h.store.GetUser(ctx, s.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if now.Sub(s.LastSeenAt) > sessionTouchPeriod {
		// Sliding expiry; a failure only shortens the session.
		if err := h.store.TouchSession(ctx, s.ID, now, now.Add(sessionTTL)); err != nil {
			h.logger.WarnContext(ctx, "touch session", "error", err)
		}
	}
	return &viewer{User: u, Session: s, CSRF: h.csrfToken(s.ID)}, nil
}

// csrfToken is the session's CSRF token: an HMAC of its id, so nothing
// more is stored and it lives as long as the session.
func (h *Handler) csrfToken(sessionID string) string {
	mac := hmac.New(sha256.New, h.csrfKey)
	mac.Write([]byte(sessionID))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// checkCSRF compares the request's token (header, or form field of a
// url-encoded form) with want.
func (h *Handler) checkCSRF(r *http.Request, want string) bool {
	got := r.Header.Get(csrfHeader)
	if got == "" && isURLEncodedForm(r) {
		r.Body = http.MaxBytesReader(nil, r.Body, maxFormBody)
		got = r.PostFormValue(csrfField)
	}
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

func isMultipart(r *http.Request) bool {
	ct, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";")
	return strings.EqualFold(strings.TrimSpace(ct), "multipart/form-data")
}

func isURLEncodedForm(r *http.Request) bool {
	ct, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";")
	return strings.EqualFold(strings.TrimSpace(ct), "application/x-www-form-urlencoded")
}

func (h *Handler) setSessionCookie(w http.ResponseWriter, token string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: token, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteLaxMode,
	})
}

// preCSRF returns the sign-in form's CSRF token, setting its cookie when
// the browser has none.
func (h *Handler) preCSRF(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(preCSRFCookie); err == nil && len(c.Value) == 32 {
		return c.Value
	}
	tok := randomHex(16)
	http.SetCookie(w, &http.Cookie{
		Name: preCSRFCookie, Value: tok, Path: "/", MaxAge: 3600,
		HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteLaxMode,
	})
	return tok
}

func checkPreCSRF(r *http.Request) bool {
	c, err := r.Cookie(preCSRFCookie)
	got := r.PostFormValue(csrfField)
	return err == nil && c.Value != "" && subtle.ConstantTimeCompare([]byte(c.Value), []byte(got)) == 1
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
	h.render(w, r, status, "signin", page{Title: "Sign in", CSRF: h.preCSRF(w, r), Flash: fl, FlashInPage: true, Data: d})
}

func (h *Handler) signin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	email := strings.TrimSpace(r.PostFormValue("email"))
	next := safeNext(r.PostFormValue("next"))
	d := signinData{Email: email, Next: next}
	if !checkPreCSRF(r) {
		h.renderSignin(w, r, http.StatusForbidden, d, &flash{Kind: "error",
			Message: "The sign-in form expired.", Remedy: "Sign in again: the page has been refreshed."})
		return
	}
	if !h.limiter.allow(email, h.now()) {
		h.renderSignin(w, r, http.StatusTooManyRequests, d, &flash{Kind: "error",
			Message: "Too many failed sign-ins for this email.", Remedy: "Wait 15 minutes, then try again."})
		return
	}
	ctx := r.Context()
	u, err := h.store.GetUserByEmail(ctx, email)
	hash := h.dummyHash()
	if err == nil {
		hash = []byte(u.PasswordHash)
	} else if !errors.Is(err, store.ErrNotFound) {
		h.fail(w, r, err)
		return
	}
	// Compare even for an unknown email, so that timing tells nothing.
	perr := bcrypt.CompareHashAndPassword(hash, []byte(r.PostFormValue("password")))
	if err != nil || perr != nil {
		h.limiter.fail(email, h.now())
		h.renderSignin(w, r, http.StatusUnauthorized, d, &flash{Kind: "error",
			Message: "Wrong email or password.", Remedy: "Check both and try again."})
		return
	}
	h.limiter.reset(email)
	if err := h.startSession(w, r, u); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// dummyHash returns a bcrypt hash of a random password, at the cost real
// hashes have, compared against when the email is unknown.
func (h *Handler) dummyHash() []byte {
	h.dummyOnce.Do(func() {
		h.dummy, _ = bcrypt.GenerateFromPassword([]byte(randomHex(16)), h.bcryptCost)
	})
	return h.dummy
}

func (h *Handler) startSession(w http.ResponseWriter, r *http.Request, u store.User) error {
	_, token, err := h.store.CreateSession(r.Context(), u.ID, h.now().Add(sessionTTL))
	if err != nil {
		return err
	}
	h.setSessionCookie(w, token, int(sessionTTL/time.Second))
	return nil
}

func (h *Handler) signout(w http.ResponseWriter, r *http.Request) error {
	if err := h.store.DeleteSession(r.Context(), viewerOf(r).Session.ID); err != nil {
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
	h.render(w, r, http.StatusOK, "setup", page{Title: "Create the admin account", CSRF: h.preCSRF(w, r),
		Data: signinData{Token: tok, MinChars: config.MinAdminPasswordLen}})
}

func (h *Handler) setup(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	tok := r.PostFormValue("token")
	d := signinData{Token: tok, MinChars: config.MinAdminPasswordLen,
		Email: strings.TrimSpace(r.PostFormValue("email")), Name: strings.TrimSpace(r.PostFormValue("name"))}
	if !h.setupOpen(tok) {
		h.renderError(w, r, http.StatusNotFound, "Setup link not valid",
			"This setup link is wrong, or the admin account already exists.", "Sign in instead.")
		return
	}
	again := func(status int, msg, remedy string) {
		h.render(w, r, status, "setup", page{Title: "Create the admin account", CSRF: h.preCSRF(w, r),
			Flash: &flash{Kind: "error", Message: msg, Remedy: remedy}, FlashInPage: true, Data: d})
	}
	if !checkPreCSRF(r) {
		again(http.StatusForbidden, "The form expired.", "Fill it in again: the page has been refreshed.")
		return
	}
	pw := r.PostFormValue("password")
	switch {
	case !strings.Contains(d.Email, "@") || len(d.Email) > 254:
		again(http.StatusUnprocessableEntity, "That email address does not look right.", "Enter the address you will sign in with.")
		return
	case utf8.RuneCountInString(pw) < config.MinAdminPasswordLen:
		again(http.StatusUnprocessableEntity, "The password is too short.", "Use at least 10 characters; a few words make a good one.")
		return
	case len(pw) > 72:
		again(http.StatusUnprocessableEntity, "The password is too long.", "Use at most 72 bytes.")
		return
	case pw != r.PostFormValue("confirm"):
		again(http.StatusUnprocessableEntity, "The two passwords differ.", "Type the same password twice.")
		return
	case len(d.Name) > maxLabelLen:
		again(http.StatusUnprocessableEntity, "The name is too long.", "Use at most 200 characters.")
		return
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(pw), h.bcryptCost)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ctx := r.Context()
	ws, err := h.store.DefaultWorkspace(ctx)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.mu.Lock()
	if h.setupToken != tok {
		h.mu.Unlock()
		again(http.StatusConflict, "The admin account was created meanwhile.", "Sign in instead.")
		return
	}
	users, err := h.store.ListUsers(ctx, ws.ID)
	if err == nil && len(users) > 0 {
		h.setupToken = ""
		h.mu.Unlock()
		again(http.StatusConflict, "The admin account already exists.", "Sign in instead.")
		return
	}
	var u store.User
	if err == nil {
		u, err = h.store.CreateUser(ctx, store.User{WorkspaceID: ws.ID, Email: d.Email, Name: d.Name,
			PasswordHash: string(hash), Role: store.RoleOwner})
	}
	if err == nil {
		h.setupToken = ""
	}
	h.mu.Unlock()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.logger.InfoContext(ctx, "web UI admin created", "user_id", u.ID)
	if err := h.startSession(w, r, u); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/projects", http.StatusSeeOther)
}

// safeNext keeps a post-sign-in redirect on this site.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") ||
		strings.HasPrefix(next, "/\\") || strings.ContainsAny(next, "\r\n") {
		return "/projects"
	}
	return next
}

// signinLimiter slows password guessing: after maxFailures failed sign-ins
// for one email within signinWindow, that email is refused until the
// window passes.
type signinLimiter struct {
	mu       sync.Mutex
	failures map[string][]time.Time
}

const (
	maxFailures  = 10
	signinWindow = 15 * time.Minute
)

func newSigninLimiter() *signinLimiter {
	return &signinLimiter{failures: map[string][]time.Time{}}
}

func (l *signinLimiter) recent(email string, now time.Time) []time.Time {
	ts := l.failures[email]
	i := 0
	for i < len(ts) && now.Sub(ts[i]) > signinWindow {
		i++
	}
	ts = ts[i:]
	if len(ts) == 0 {
		delete(l.failures, email)
	} else {
		l.failures[email] = ts
	}
	return ts
}

func (l *signinLimiter) allow(email string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.recent(strings.ToLower(email), now)) < maxFailures
}

func (l *signinLimiter) fail(email string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	email = strings.ToLower(email)
	if len(l.failures) > 10000 {
		l.failures = map[string][]time.Time{} // bounded memory under a flood
	}
	l.failures[email] = append(l.recent(email, now), now)
}

func (l *signinLimiter) reset(email string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.failures, strings.ToLower(email))
}
