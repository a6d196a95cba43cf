// Package ui is Outpost's web interface for people: sign-in, projects
// (upload with progress, import from a URL), the export modal, live
// progress over SSE (renders and posts), the success screen with sharing,
// history, presets, connected accounts and webhooks. Pages are server-rendered with
// html/template; a small plain-JS file (static/app.js) adds upload
// progress, the modal, live progress and the first-run tour. Templates and
// static files are embedded.
//
// The UI uses the same services as the JSON API (store, blob, jobs,
// events, media, connect) with browser sessions instead of API keys: cookies are
// HttpOnly, SameSite=Lax and Secure behind https, and every state-changing
// request carries a per-session CSRF token.
//
// It is a package of its own (rather than web/page_*.go) so that it could
// be built beside the API; it is mounted on "/" next to the API's routes.
package ui

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"outpost/internal/blob"
	"outpost/internal/config"
	"outpost/internal/connect"
	"outpost/internal/engine"
	"outpost/internal/events"
	"outpost/internal/fetch"
	"outpost/internal/jobs"
	"outpost/internal/media"
	"outpost/internal/store"
)

//go:embed templates static
var assets embed.FS

// Deps are the services the UI uses.
type Deps struct {
	Config  *config.Config
	Store   *store.Store
	Blob    *blob.Store
	Exports *jobs.Service
	Events  *events.Broker
	Prober  *media.Prober
	// Connect connects accounts; nil when publishing is not configured
	// (no secret key). Exports then offer download only.
	Connect *connect.Service
	Logger  *slog.Logger
}

// exportService is what the UI needs of jobs.Service.
type exportService interface {
	CreateExport(ctx context.Context, workspaceID string, req jobs.ExportRequest) (store.Export, error)
	CancelExport(ctx context.Context, workspaceID, exportID string) (store.Export, error)
	RetryExport(ctx context.Context, workspaceID, exportID string) (store.Export, error)
}

// eventSource is what the progress stream needs of events.Broker.
type eventSource interface {
	Subscribe(ctx context.Context, exportID string, afterSeq int64) (<-chan events.Event, error)
}

// Timings and limits.
const (
	sessionTTL         = 30 * 24 * time.Hour
	sessionTouchPeriod = time.Hour
	downloadLinkTTL    = time.Hour
	sseHeartbeat       = 15 * time.Second
	maxFormBody        = 1 << 20
	maxLabelLen        = 200
)

// Handler serves the UI. It is an http.Handler for "/" and every path not
// under /api/, /dl/, /healthz or /metrics.
type Handler struct {
	cfg     *config.Config
	store   *store.Store
	blob    *blob.Store
	exports exportService
	events  eventSource
	// publish and connect are nil when publishing is not available.
	publish publishService
	connect connector
	// webhookLoopback accepts webhook URLs on loopback addresses (tests).
	webhookLoopback bool
	// csp is the Content-Security-Policy of every page.
	csp     string
	prober  *media.Prober
	runner  *media.Runner
	fetcher *fetch.Client
	// estimator measures file sizes (engine.Engine.Estimate).
	estimator estimator
	estimates *estimates
	logger    *slog.Logger

	pages map[string]*template.Template
	mux   *http.ServeMux
	// csrfKey derives each session's CSRF token (HMAC of the session id).
	csrfKey []byte
	// secure marks cookies Secure: the public URL is https.
	secure bool
	origin string // scheme://host of the public URL
	tmpDir string
	// localBlobDir is the folder of file:// blob storage, "" otherwise.
	localBlobDir string

	bcryptCost int
	heartbeat  time.Duration
	now        func() time.Time
	limiter    *signinLimiter
	dummyOnce  sync.Once
	dummy      []byte

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
	case d.Store == nil:
		return nil, errors.New("ui: Deps.Store is nil")
	case d.Blob == nil:
		return nil, errors.New("ui: Deps.Blob is nil")
	}
	logger := d.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	prober := d.Prober
	if prober == nil {
		prober = &media.Prober{FFprobe: d.Config.FFprobePath}
	}
	h := &Handler{
		cfg:          d.Config,
		store:        d.Store,
		blob:         d.Blob,
		prober:       prober,
		runner:       &media.Runner{FFmpeg: d.Config.FFmpegPath, Logger: logger},
		fetcher:      fetch.New(fetch.Options{MaxBytes: d.Config.MaxUploadBytes}),
		logger:       logger,
		tmpDir:       filepath.Join(d.Config.DataDir, "tmp"),
		localBlobDir: localBlobDir(d.Config.BlobURL),
		bcryptCost:   bcrypt.DefaultCost + 2,
		heartbeat:    sseHeartbeat,
		now:          time.Now,
		limiter:      newSigninLimiter(),
		estimates:    newEstimates(),
	}
	h.estimator = &engine.Engine{Prober: prober, Runner: h.runner, Logger: logger}
	// A nil *jobs.Service in an interface would not be nil: keep nil nil.
	if d.Exports != nil {
		h.exports = d.Exports
		h.publish = d.Exports
	}
	if d.Connect != nil {
		h.connect = d.Connect
	}
	h.csp = "default-src 'self'; img-src 'self' data: blob: " + h.imgSources() + "; " +
		"style-src 'self'; script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; " +
		"form-action 'self'; frame-ancestors 'none'"
	if d.Events != nil {
		h.events = d.Events
	}
	if u, err := url.Parse(d.Config.PublicURL); err == nil && u.Host != "" {
		h.secure = u.Scheme == "https"
		h.origin = u.Scheme + "://" + u.Host
	}
	if len(d.Config.SecretKey) > 0 {
		mac := hmac.New(sha256.New, d.Config.SecretKey)
		mac.Write([]byte("outpost ui csrf v1"))
		h.csrfKey = mac.Sum(nil)
	} else {
		// Tokens then change at every restart; pages open across one
		// must be reloaded. app always configures a key.
		h.csrfKey = make([]byte, 32)
		if _, err := rand.Read(h.csrfKey); err != nil {
			return nil, fmt.Errorf("ui: csrf key: %w", err)
		}
	}
	if err := os.MkdirAll(h.tmpDir, 0o700); err != nil {
		return nil, fmt.Errorf("ui: create temp dir: %w", err)
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
	h.routes()
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
	ws, err := h.store.DefaultWorkspace(ctx)
	if err != nil {
		return fmt.Errorf("ui: %w", err)
	}
	users, err := h.store.ListUsers(ctx, ws.ID)
	if err != nil {
		return fmt.Errorf("ui: %w", err)
	}
	if len(users) > 0 {
		return nil
	}
	if h.cfg.AdminEmail != "" && h.cfg.AdminPassword != "" {
		hash, err := bcrypt.GenerateFromPassword([]byte(h.cfg.AdminPassword), h.bcryptCost)
		if err != nil {
			return fmt.Errorf("ui: hash admin password: %w", err)
		}
		_, err = h.store.CreateUser(ctx, store.User{WorkspaceID: ws.ID, Email: h.cfg.AdminEmail,
			Name: "Admin", PasswordHash: string(hash), Role: store.RoleOwner})
		if err != nil && !errors.Is(err, store.ErrConflict) {
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

func (h *Handler) routes() {
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
	m.Handle("POST /projects", h.authUpload(h.uploadProject))
	m.Handle("POST /projects/import", h.auth(h.importProject))
	m.Handle("GET /projects/{id}/poster", h.auth(h.poster))
	m.Handle("GET /projects/{id}/export-options", h.auth(h.exportOptions))
	m.Handle("POST /projects/{id}/estimate", h.auth(h.estimateProject))

	m.Handle("POST /exports", h.auth(h.createExport))
	m.Handle("GET /exports/{id}", h.auth(h.exportPage))
	m.Handle("GET /exports/{id}/events", h.auth(h.exportEvents))
	m.Handle("POST /exports/{id}/cancel", h.auth(h.cancelExport))
	m.Handle("POST /exports/{id}/retry", h.auth(h.retryExport))
	m.Handle("POST /exports/{id}/rerender", h.auth(h.rerenderExport))
	m.Handle("GET /renditions/{id}/download", h.auth(h.download))

	m.Handle("GET /history", h.auth(h.historyPage))

	m.Handle("GET /presets", h.auth(h.presetsPage))
	m.Handle("POST /presets", h.auth(h.createPreset))
	m.Handle("POST /presets/{id}", h.auth(h.updatePreset))
	m.Handle("POST /presets/{id}/delete", h.auth(h.deletePreset))

	m.Handle("POST /exports/{id}/publications", h.auth(h.sharePublications))
	m.Handle("POST /publications/{id}/cancel", h.auth(h.cancelPublication))
	m.Handle("POST /publications/{id}/reschedule", h.auth(h.reschedulePublication))
	m.Handle("POST /publications/{id}/retry", h.auth(h.retryPublication))

	m.Handle("GET /connections", h.auth(h.connectionsPage))
	m.Handle("POST /connections/{id}/disconnect", h.auth(h.disconnect))
	m.Handle("GET /webhooks", h.auth(h.webhooksPage))
	m.Handle("POST /webhooks", h.auth(h.createWebhook))
	m.Handle("POST /webhooks/{id}/delete", h.auth(h.deleteWebhook))
	m.Handle("POST /webhook-deliveries/{id}/redeliver", h.auth(h.redeliver))

	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		// Signed-in people keep their menu on a missing page.
		if v, _ := h.lookupViewer(r); v != nil {
			r = r.WithContext(context.WithValue(r.Context(), viewerKey{}, v))
		}
		h.renderError(w, r, http.StatusNotFound, "Page not found",
			"There is nothing at "+r.URL.Path+".", "Use the menu to go to your projects or history.")
	})
	h.mux = m
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	hd.Set("Content-Security-Policy", h.csp)
	if r.Method != http.MethodGet && r.Method != http.MethodHead && !h.sameOrigin(r) {
		h.renderError(w, r, http.StatusForbidden, "Request refused",
			"This form was sent from another site.", "Reload the page and try again.")
		return
	}
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
	h.mux.ServeHTTP(w, r)
}

// sameOrigin refuses cross-site state-changing requests that browsers mark
// (Sec-Fetch-Site, Origin), on top of the CSRF token.
func (h *Handler) sameOrigin(r *http.Request) bool {
	if s := r.Header.Get("Sec-Fetch-Site"); s == "cross-site" || s == "same-site" {
		return false
	}
	o := r.Header.Get("Origin")
	if o == "" {
		return true // older browsers and non-browser clients: the token decides
	}
	if o == h.origin {
		return true
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return o == scheme+"://"+r.Host
}

func cacheStatic(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Short: the files change with the binary, and names carry no hash.
		w.Header().Set("Cache-Control", "public, max-age=300")
		next.ServeHTTP(w, r)
	})
}

// localBlobDir returns the folder of a file:// blob URL, or "".
func localBlobDir(blobURL string) string {
	u, err := url.Parse(blobURL)
	if err != nil || u.Scheme != "file" {
		return ""
	}
	return filepath.FromSlash(u.Path)
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	return hex.EncodeToString(b)
}
