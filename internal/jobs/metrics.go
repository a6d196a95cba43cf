package jobs

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// metrics counts jobs, exports and renditions. It is River middleware
// around every job this process works.
type metrics struct {
	river.MiddlewareDefaults

	jobs       *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	exports    *prometheus.CounterVec
	renditions *prometheus.CounterVec
}

var _ rivertype.WorkerMiddleware = (*metrics)(nil)

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "outpost", Name: "jobs_total",
			Help: "Jobs worked by this process, by kind and outcome (completed, error, canceled, snoozed, panic).",
		}, []string{"kind", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "outpost", Name: "job_duration_seconds",
			Help:    "Time spent working jobs, by kind and outcome.",
			Buckets: []float64{0.05, 0.25, 1, 5, 15, 60, 300, 900, 3600},
		}, []string{"kind", "outcome"}),
		exports: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "outpost", Name: "exports_finished_total",
			Help: "Exports finished by this process, by final status.",
		}, []string{"status"}),
		renditions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "outpost", Name: "renditions_total",
			Help: "Renditions rendered by this process, by preset and status.",
		}, []string{"preset", "status"}),
	}
	if reg == nil {
		return m, nil
	}
	var err error
	if m.jobs, err = register(reg, m.jobs); err != nil {
		return nil, err
	}
	if m.duration, err = register(reg, m.duration); err != nil {
		return nil, err
	}
	if m.exports, err = register(reg, m.exports); err != nil {
		return nil, err
	}
	if m.renditions, err = register(reg, m.renditions); err != nil {
		return nil, err
	}
	return m, nil
}

// register registers c, or returns the collector already registered under
// its name (a second service on the same registry shares it).
func register[T prometheus.Collector](reg prometheus.Registerer, c T) (T, error) {
	err := reg.Register(c)
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(T); ok {
			return existing, nil
		}
	}
	return c, err
}

// Work implements rivertype.WorkerMiddleware.
func (m *metrics) Work(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) (err error) {
	start := time.Now()
	outcome := "panic"
	defer func() {
		m.jobs.WithLabelValues(job.Kind, outcome).Inc()
		m.duration.WithLabelValues(job.Kind, outcome).Observe(time.Since(start).Seconds())
	}()
	err = doInner(ctx)
	var cancelErr *rivertype.JobCancelError
	var snoozeErr *rivertype.JobSnoozeError
	switch {
	case err == nil:
		outcome = "completed"
	case errors.As(err, &cancelErr):
		outcome = "canceled"
	case errors.As(err, &snoozeErr):
		outcome = "snoozed"
	default:
		outcome = "error"
	}
	return err
}

func (m *metrics) export(status string) { m.exports.WithLabelValues(status).Inc() }

func (m *metrics) rendition(preset, status string) {
	m.renditions.WithLabelValues(preset, status).Inc()
}
