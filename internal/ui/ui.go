// Package ui is Outpost's web interface for people: sign-in, projects
// (upload with progress, import from a URL), the export modal, live
// progress (renders and posts), the success screen with sharing, history,
// presets, connected accounts and webhooks. Pages are server-rendered with
// html/template; a small plain-JS file (static/app.js) adds upload
// progress, the modal and the first-run tour, and htmx swaps
// server-rendered fragments for live updates. Templates and static files
// are embedded.
//
// The UI is an adapter over the same use cases as the JSON API
// (outpost.Services), with browser sessions instead of API keys: cookies
// are HttpOnly, SameSite=Lax and Secure behind https, and cross-origin
// state-changing requests are refused (http.CrossOriginProtection).
//
// It is a package of its own (rather than web/page_*.go) so that it could
// be built beside the API; it is mounted on "/" next to the API's routes.
package ui

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"outpost/internal/clientip"
	"outpost/internal/config"
	"outpost/internal/errcode"
	"outpost/internal/outpost"
)

//go:embed templates static
var assets embed.FS

// Deps are what the UI uses.
type Deps struct {
	Config *config.Config
	// Services are the use cases the pages offer.
	Services outpost.Services
	Logger   *slog.Logger
}

// Timings and limits.
const (
	maxFormBody = 1 << 20
)

// Handler serves the UI. It is an http.Handler for "/" and every path not
// under /api/, /dl/, /healthz or /metrics.
type Handler struct {
	cfg *config.Config
	svc outpost.Services
	// csp is the Content-Security-Policy of every page.
	csp    string
	logger *slog.Logger

	pages map[string]*template.Template
	// handler is the mux behind the cross-origin check.
	handler http.Handler
	// secure marks cookies Secure: the public URL is https.
	secure bool

	heartbeat time.Duration
	now       func() time.Time
	// ips finds the client's address (trusted proxies), for the
	// sign-in throttle and the audit log.
	ips clientip.Resolver

	mu sync.Mutex
	// setupToken opens /setup while no user exists; "" once one does.
	setupToken string
}

var _ http.Handler = (*Handler)(nil)

// New builds the UI. When no user exists yet it either creates the admin
// from Config.AdminEmail and Config.AdminPassword, or makes a one-time
// setup link (see SetupURL), which it also logs.
func New(d Deps) (*Handler, error) {
	switch {
	case d.Config == nil:
		return nil, errors.New("ui: Deps.Config is nil")
	case d.Services.Accounts == nil || d.Services.Exports == nil:
		return nil, errors.New("ui: Deps.Services is incomplete")
	}
	logger := d.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	h := &Handler{
		cfg:       d.Config,
		svc:       d.Services,
		logger:    logger,
		heartbeat: 0, // events.DefaultHeartbeat
		now:       time.Now,
		ips:       clientip.New(d.Config.TrustedProxies),
	}
	h.csp = "default-src 'self'; img-src 'self' data: blob: " + h.imgSources() + "; " +
		"style-src 'self'; script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; " +
		"form-action 'self'; frame-ancestors 'none'"
	if u, err := url.Parse(d.Config.PublicURL); err == nil && u.Host != "" {
		h.secure = u.Scheme == "https"
	}
	var err error
	if h.pages, err = parsePages(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := h.firstRun(ctx); err != nil {
		return nil, err
	}
	if h.handler, err = h.routes(); err != nil {
		return nil, err
	}
	return h, nil
}

// SetupURL returns the one-time link that creates the first user, on base
// (the public URL, without a trailing slash), or "" when a user exists.
func (h *Handler) SetupURL(base string) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.setupToken == "" {
		return ""
	}
	return strings.TrimSuffix(base, "/") + "/setup?token=" + h.setupToken
}

// firstRun makes sure someone can sign in: the configured admin, or a
// setup link.
func (h *Handler) firstRun(ctx context.Context) error {
	ok, err := h.svc.Accounts.HasUsers(ctx)
	if err != nil || ok {
		return err
	}
	if h.cfg.AdminEmail != "" && h.cfg.AdminPassword != "" {
		_, err := h.svc.Accounts.CreateOwner(ctx, h.cfg.AdminEmail, "Admin", h.cfg.AdminPassword)
		if err != nil && errcode.Of(err) != errcode.Conflict {
			return fmt.Errorf("ui: create admin: %w", err)
		}
		h.logger.Info("created the web UI admin from OUTPOST_ADMIN_EMAIL", "email", h.cfg.AdminEmail)
		return nil
	}
	h.setupToken = randomHex(24)
	h.logger.Info("no web UI user yet: open the setup link to create the admin (shown once per start)",
		"setup_url", h.SetupURL(h.cfg.PublicURL))
	return nil
}

// routes builds the mux behind the cross-origin check: a state-changing
// request a browser marks as coming from another site (Sec-Fetch-Site,
// Origin) is refused before any handler runs.
func (h *Handler) routes() (http.Handler, error) {
	m := http.NewServeMux()
	static, _ := fs.Sub(assets, "static")
	files := http.FileServerFS(static)
	m.Handle("GET /static/", http.StripPrefix("/static/", cacheStatic(files)))
	m.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/static/icon.svg", http.StatusMovedPermanently)
	})

	m.HandleFunc("GET /signin", h.signinPage)
	m.HandleFunc("POST /signin", h.signin)
	m.HandleFunc("GET /setup", h.setupPage)
	m.HandleFunc("POST /setup", h.setup)
	m.Handle("POST /signout", h.auth(h.signout))

	m.Handle("GET /{$}", h.auth(func(w http.ResponseWriter, r *http.Request) error {
		http.Redirect(w, r, "/projects", http.StatusSeeOther)
		return nil
	}))
	m.Handle("GET /projects", h.auth(h.projectsPage))
	m.Handle("POST /projects", h.auth(h.uploadProject))
	m.Handle("POST /projects/import", h.auth(h.importProject))
	m.Handle("GET /projects/{id}/poster", h.auth(h.poster))
	m.Handle("GET /projects/{id}/export-options", h.auth(h.exportOptions))
	m.Handle("POST /projects/{id}/estimate", h.auth(h.estimateProject))

	m.Handle("POST /exports", h.auth(h.createExport))
	m.Handle("GET /exports/{id}", h.auth(h.exportPage))
	m.Handle("GET /exports/{id}/events", h.auth(h.exportEvents))
	m.Handle("GET /exports/{id}/live", h.auth(h.exportLive))
	m.Handle("POST /exports/{id}/cancel", h.auth(h.cancelExport))
	m.Handle("POST /exports/{id}/retry", h.auth(h.retryExport))
	m.Handle("POST /exports/{id}/rerender", h.auth(h.rerenderExport))
	m.Handle("GET /renditions/{id}/download", h.auth(h.download))
	m.Handle("POST /renditions/{id}/keep", h.auth(h.keepRendition))
	m.Handle("POST /renditions/{id}/thumbnail", h.auth(h.setThumbnail))

	m.Handle("GET /history", h.auth(h.historyPage))
	m.Handle("GET /groups/{id}", h.auth(h.groupPage))
	m.Handle("GET /groups/{id}/live", h.auth(h.groupLive))

	m.Handle("GET /presets", h.auth(h.presetsPage))
	m.Handle("POST /presets", h.auth(h.createPreset))
	m.Handle("POST /presets/{id}", h.auth(h.updatePreset))
	m.Handle("POST /presets/{id}/delete", h.auth(h.deletePreset))

	m.Handle("POST /share-defaults", h.auth(h.saveShareDefaults))
	m.Handle("POST /exports/{id}/publications", h.auth(h.sharePublications))
	m.Handle("POST /publications/{id}/cancel", h.auth(h.cancelPublication))
	m.Handle("POST /publications/{id}/reschedule", h.auth(h.reschedulePublication))
	m.Handle("POST /publications/{id}/retry", h.auth(h.retryPublication))
	m.Handle("POST /publications/{id}/edit", h.auth(h.editPublication))

	m.Handle("GET /brand-kits", h.auth(h.brandKitsPage))
	m.Handle("POST /brand-kits", h.auth(h.createBrandKit))
	m.Handle("POST /brand-kits/{id}", h.auth(h.updateBrandKit))
	m.Handle("POST /brand-kits/{id}/delete", h.auth(h.deleteBrandKit))

	m.Handle("GET /connections", h.auth(h.connectionsPage))
	m.Handle("POST /connections/{id}/disconnect", h.auth(h.disconnect))
	m.Handle("POST /connections/share-default", h.auth(h.saveShareDefaultForm))
	m.Handle("GET /webhooks", h.auth(h.webhooksPage))
	m.Handle("POST /webhooks", h.auth(h.createWebhook))
	m.Handle("POST /webhooks/{id}/delete", h.auth(h.deleteWebhook))
	m.Handle("POST /webhook-deliveries/{id}/redeliver", h.auth(h.redeliver))

	h.settingsRoutes(m)

	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		// Signed-in people keep their menu on a missing page.
		if v, _ := h.lookupViewer(r); v != nil {
			r = r.WithContext(withViewer(r.Context(), v))
		}
		h.renderError(w, r, http.StatusNotFound, "Page not found",
			"There is nothing at "+r.URL.Path+".", "Use the menu to go to your projects or history.")
	})
	cop := http.NewCrossOriginProtection()
	if u, err := url.Parse(h.cfg.PublicURL); err == nil && u.Host != "" {
		// Behind a proxy the Host the server sees may not be the public one.
		if err := cop.AddTrustedOrigin(u.Scheme + "://" + u.Host); err != nil {
			return nil, fmt.Errorf("ui: public URL as a trusted origin: %w", err)
		}
	}
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.renderError(w, r, http.StatusForbidden, "Request refused",
			"This form was sent from another site.", "Reload the page and try again.")
	}))
	return cop.Handler(m), nil
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	hd.Set("Content-Security-Policy", h.csp)
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			h.logger.ErrorContext(r.Context(), "ui panic", "path", r.URL.Path, "panic", fmt.Sprint(p))
			h.renderError(w, r, http.StatusInternalServerError, "Something went wrong",
				"An unexpected error happened.", "Retry, and report it with the server log if it persists.")
		}
	}()
	h.handler.ServeHTTP(w, r)
}

func cacheStatic(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Short: the files change with the binary, and names carry no hash.
		w.Header().Set("Cache-Control", "public, max-age=300")
		next.ServeHTTP(w, r)
	})
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	return hex.EncodeToString(b)
}
