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
	"net/url"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"outpost/internal/clientip"
	"outpost/internal/config"
	"outpost/internal/events"
	"outpost/internal/outpost"

	"golang.org/x/sync/semaphore"
)

// Deps are what the HTTP interface uses.
type Deps struct {
	Config *config.Config
	// Services are the use cases the API exposes.
	Services outpost.Services
	// Downloads serves the signed download links (/dl/: blob.Store.Handler).
	Downloads http.Handler
	Logger    *slog.Logger
	// Metrics receives the HTTP metrics and Go runtime collectors; it must
	// also be a prometheus.Gatherer (a *prometheus.Registry is both), which
	// /metrics serves. Nil makes a new registry.
	Metrics prometheus.Registerer
	// Ready reports whether the service can take work, for /healthz. Nil
	// means always ready.
	Ready func(ctx context.Context) error
	// AcceptConcurrency is how many requests of the Burst routes are
	// served at once; 0 means no limit.
	AcceptConcurrency int
}

// Limits and timings.
const (
	maxJSONBody = 1 << 20
)

// Server is Outpost's HTTP handler.
type Server struct {
	cfg       *config.Config
	svc       outpost.Services
	downloads http.Handler
	logger    *slog.Logger
	ready     func(ctx context.Context) error
	metrics   *httpMetrics

	heartbeat time.Duration
	now       func() time.Time

	routes   []route
	mux      *http.ServeMux
	handler  http.Handler
	inFlight keyLocks
	// limiter rate-limits requests per API key; nil: no limit.
	limiter *keyLimiter
	// admit lets the Burst routes' requests in, in arrival order; nil:
	// no limit.
	admit *semaphore.Weighted
	// ips finds the client's address (trusted proxies); cop refuses
	// cross-site requests made with the UI's session cookie.
	ips clientip.Resolver
	cop *http.CrossOriginProtection
}

var _ http.Handler = (*Server)(nil)

// New builds the server and its routes.
func New(d Deps) (*Server, error) {
	switch {
	case d.Config == nil:
		return nil, errors.New("web: Deps.Config is nil")
	case d.Services.Exports == nil || d.Services.Accounts == nil:
		return nil, errors.New("web: Deps.Services is incomplete")
	}
	logger := d.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	downloads := d.Downloads
	if downloads == nil {
		downloads = http.NotFoundHandler()
	}
	s := &Server{
		cfg:       d.Config,
		svc:       d.Services,
		downloads: downloads,
		logger:    logger,
		ready:     d.Ready,
		heartbeat: events.DefaultHeartbeat,
		now:       time.Now,
		limiter:   newKeyLimiter(d.Config.APIRateLimit, d.Config.APIRateBurst),
		ips:       clientip.New(d.Config.TrustedProxies),
		cop:       http.NewCrossOriginProtection(),
	}
	if d.AcceptConcurrency > 0 {
		s.admit = semaphore.NewWeighted(int64(d.AcceptConcurrency))
	}
	if u, err := url.Parse(d.Config.PublicURL); err == nil && u.Host != "" {
		// Behind a proxy the Host the server sees may not be the public one.
		if err := s.cop.AddTrustedOrigin(u.Scheme + "://" + u.Host); err != nil {
			return nil, fmt.Errorf("web: public URL as a trusted origin: %w", err)
		}
	}
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
