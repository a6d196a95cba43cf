package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// httpMetrics are the request counters and latencies, labelled by route
// pattern (never the raw path: ids would make the label set unbounded).
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// newHTTPMetrics registers the HTTP metrics and the Go runtime and process
// collectors on reg (a new registry when nil) and returns what /metrics
// serves.
func newHTTPMetrics(reg prometheus.Registerer) (*httpMetrics, prometheus.Gatherer, error) {
	var gatherer prometheus.Gatherer
	if reg == nil {
		r := prometheus.NewRegistry()
		reg, gatherer = r, r
	} else {
		g, ok := reg.(prometheus.Gatherer)
		if !ok {
			return nil, nil, fmt.Errorf("web: Deps.Metrics (%T) is not a prometheus.Gatherer: pass a *prometheus.Registry", reg)
		}
		gatherer = g
	}
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "outpost", Subsystem: "http", Name: "requests_total",
			Help: "HTTP requests by method, route pattern and status.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "outpost", Subsystem: "http", Name: "request_duration_seconds",
			Help:    "HTTP request durations by method and route pattern (SSE streams last as long as they are open).",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
		}, []string{"method", "route"}),
	}
	var err error
	if m.requests, err = register(reg, m.requests); err != nil {
		return nil, nil, err
	}
	if m.duration, err = register(reg, m.duration); err != nil {
		return nil, nil, err
	}
	if _, err := register(reg, collectors.NewGoCollector()); err != nil {
		return nil, nil, err
	}
	if _, err := register(reg, collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})); err != nil {
		return nil, nil, err
	}
	return m, gatherer, nil
}

// register registers c, or returns the collector already registered in its
// place (the app may build a server twice on one registry, tests do).
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	err := reg.Register(c)
	if are := (prometheus.AlreadyRegisteredError{}); errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing, nil
		}
		return c, nil // a runtime collector someone else registered: fine
	}
	if err != nil {
		return c, fmt.Errorf("web: register metrics: %w", err)
	}
	return c, nil
}

func (m *httpMetrics) observe(method, route string, status int, d time.Duration) {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
	default:
		method = "OTHER"
	}
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(method, route).Observe(d.Seconds())
}
