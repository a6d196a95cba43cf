// Package web is Outpost's HTTP interface: the JSON API under /api/v1 (bearer
// API keys, idempotency keys, cursor pagination, an OpenAPI document built
// from the route table), live progress over SSE, signed download links,
// health and metrics.
//
// routes.go lists every route; api_*.go hold the handlers, one file per
// resource; respond.go writes JSON; errors.go maps errors to HTTP statuses in
// one place; middleware.go has the request pipeline.
package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"outpost/internal/blob"
	"outpost/internal/config"
	"outpost/internal/connect"
	"outpost/internal/events"
	"outpost/internal/fetch"
	"outpost/internal/jobs"
	"outpost/internal/media"
	"outpost/internal/store"
)

// Deps are the services the HTTP interface uses.
type Deps struct {
	Config  *config.Config
	Store   *store.Store
	Blob    *blob.Store
	Exports *jobs.Service
	Events  *events.Broker
	Prober  *media.Prober
	// Connect connects accounts (OAuth); nil: publishing is unavailable.
	Connect *connect.Service
	Logger  *slog.Logger
	// Metrics receives the HTTP metrics and Go runtime collectors; it must
	// also be a prometheus.Gatherer (a *prometheus.Registry is both), which
	// /metrics serves. Nil makes a new registry.
	Metrics prometheus.Registerer
	// Ready reports whether the service can take work, for /healthz. Nil
	// means always ready.
	Ready func(ctx context.Context) error
}

// exportService is what the API needs of jobs.Service.
type exportService interface {
	CreateExport(ctx context.Context, workspaceID string, req jobs.ExportRequest) (store.Export, error)
	CancelExport(ctx context.Context, workspaceID, exportID string) (store.Export, error)
	RetryExport(ctx context.Context, workspaceID, exportID string) (store.Export, error)
}

// publishService is what the publication routes need of jobs.Service.
type publishService interface {
	AddPublications(ctx context.Context, workspaceID, exportID string, dests []jobs.Destination) ([]store.Publication, error)
	CancelPublication(ctx context.Context, workspaceID, id string) (store.Publication, error)
	ReschedulePublication(ctx context.Context, workspaceID, id string, at time.Time) (store.Publication, error)
	RetryPublication(ctx context.Context, workspaceID, id string) (store.Publication, error)
}

// eventSource is what the SSE stream needs of events.Broker.
type eventSource interface {
	Subscribe(ctx context.Context, exportID string, afterSeq int64) (<-chan events.Event, error)
}

// Limits and timings.
const (
	maxJSONBody       = 1 << 20
	downloadLinkTTL   = time.Hour
	sseHeartbeat      = 15 * time.Second
	apiKeyTouchPeriod = time.Minute
)

// Server is Outpost's HTTP handler.
type Server struct {
	cfg     *config.Config
	store   *store.Store
	blob    *blob.Store
	exports exportService
	publish publishService
	conns   connectionService
	hooks   webhookService
	connect *connect.Service
	events  eventSource
	prober  *media.Prober
	logger  *slog.Logger
	ready   func(ctx context.Context) error
	fetcher *fetch.Client
	metrics *httpMetrics
	// tmpDir receives uploads and fetched sources while they are probed.
	tmpDir string
	// webhookLoopback accepts webhook URLs on 127.0.0.1 (tests only).
	webhookLoopback bool

	heartbeat time.Duration
	now       func() time.Time

	routes   []route
	mux      *http.ServeMux
	handler  http.Handler
	inFlight keyLocks
	// limiter rate-limits requests per API key; nil: no limit.
	limiter *keyLimiter
}

var _ http.Handler = (*Server)(nil)

// New builds the server and its routes.
func New(d Deps) (*Server, error) {
	switch {
	case d.Config == nil:
		return nil, errors.New("web: Deps.Config is nil")
	case d.Store == nil:
		return nil, errors.New("web: Deps.Store is nil")
	case d.Blob == nil:
		return nil, errors.New("web: Deps.Blob is nil")
	}
	logger := d.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	prober := d.Prober
	if prober == nil {
		prober = &media.Prober{FFprobe: d.Config.FFprobePath}
	}
	s := &Server{
		cfg:       d.Config,
		store:     d.Store,
		blob:      d.Blob,
		prober:    prober,
		logger:    logger,
		ready:     d.Ready,
		heartbeat: sseHeartbeat,
		now:       time.Now,
		fetcher:   fetch.New(fetch.Options{MaxBytes: d.Config.MaxUploadBytes}),
		tmpDir:    filepath.Join(d.Config.DataDir, "tmp"),
		limiter:   newKeyLimiter(d.Config.APIRateLimit, d.Config.APIRateBurst),
	}
	// A nil *jobs.Service in an interface would not be nil: keep nil nil.
	if d.Exports != nil {
		s.exports, s.publish, s.conns, s.hooks = d.Exports, d.Exports, d.Exports, d.Exports
	}
	s.connect = d.Connect
	if d.Events != nil {
		s.events = d.Events
	}
	if err := os.MkdirAll(s.tmpDir, 0o700); err != nil {
		return nil, fmt.Errorf("web: create temp dir: %w", err)
	}
	s.removeStaleSources(24 * time.Hour)
	m, gatherer, err := newHTTPMetrics(d.Metrics)
	if err != nil {
		return nil, err
	}
	s.metrics = m
	s.routes = s.routeTable(gatherer)
	s.mux = http.NewServeMux()
	for _, rt := range s.routes {
		s.mux.Handle(rt.pattern(), s.wrap(rt))
	}
	s.handler = s.logRequests(s.recoverPanics(s.securityHeaders(http.HandlerFunc(s.dispatch))))
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

// dispatch routes the request; the mux's own plain-text 404 and 405 become
// JSON errors.
func (s *Server) dispatch(w http.ResponseWriter, r *http.Request) {
	if _, pattern := s.mux.Handler(r); pattern == "" {
		w = &muxErrorWriter{ResponseWriter: w, s: s, r: r}
	}
	s.mux.ServeHTTP(w, r)
}

// removeStaleSources deletes intake temp files a killed process left
// behind. Only old ones: another process on the same data dir may be
// receiving an upload right now.
func (s *Server) removeStaleSources(age time.Duration) {
	entries, err := os.ReadDir(s.tmpDir)
	if err != nil {
		return
	}
	for _, de := range entries {
		if !strings.HasPrefix(de.Name(), "source-") {
			continue
		}
		if fi, err := de.Info(); err == nil && s.now().Sub(fi.ModTime()) > age {
			_ = os.Remove(filepath.Join(s.tmpDir, de.Name()))
		}
	}
}
