// Package jobs runs exports as River jobs: the Service accepts, cancels and
// retries exports (rows and job in one transaction), and its workers render
// them (probe → render → check → store, one ffmpeg run per export), keep
// their progress in the database and in events for live watchers, and
// delete expired files.
//
// Every step is idempotent and its state lives in the database, so a process
// killed mid-render loses only that render: at restart, the jobs its previous
// incarnation was running are retried at once (the River client id is stable
// per node, see NodeID), and the jobs of a node that stopped sending
// heartbeats are retried by the others. A retried job renders only the
// targets that have no stored file yet, under the same blob keys, and never
// adds a rendition row.
package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"outpost/internal/blob"
	"outpost/internal/connect"
	"outpost/internal/engine"
	"outpost/internal/events"
	"outpost/internal/fetch"
	"outpost/internal/publish/youtube"
	"outpost/internal/store"
)

// Queues.
const (
	QueueRender  = "render"
	QueuePublish = "publish"
	QueueDefault = river.QueueDefault
)

// Defaults for Options.
const (
	DefaultPublishWorkers       = 4
	DefaultCleanupInterval      = 15 * time.Minute
	DefaultRescueStuckJobsAfter = 6 * time.Hour
	DefaultNodeTimeout          = 2 * time.Minute
	DefaultRetention            = 48 * time.Hour
	DefaultRefreshInterval      = 10 * time.Minute
	DefaultConnectionWarning    = 7 * 24 * time.Hour
	DefaultPublishRetryBase     = 30 * time.Second
	DefaultYouTubeQuotaPerDay   = 10000
	DefaultWebhookTimeout       = 15 * time.Second
)

// Options configure a Service.
type Options struct {
	Store  *store.Store
	Blob   *blob.Store
	Events *events.Broker
	// Engine renders; required when Workers > 0.
	Engine *engine.Engine
	Logger *slog.Logger
	// Metrics, when set, receives the job metrics.
	Metrics prometheus.Registerer
	// Connect connects accounts and makes publishers; nil disables
	// publishing (destinations are refused with platform_not_configured).
	Connect *connect.Service

	// Workers is how many renders this process runs at once (the render
	// queue's MaxWorkers). Zero makes the service insert-only: it accepts,
	// cancels and retries exports, and other processes work them.
	Workers int
	// PublishWorkers is the publish queue's MaxWorkers. Default 4.
	PublishWorkers int
	// Retention is how long a rendition's file is kept unless saved or
	// pinned. Default 48 h.
	Retention time.Duration
	// WorkDir holds one folder per export being rendered. Default: a folder
	// in os.TempDir(). Use a folder on the data volume: renders are large.
	WorkDir string
	// LocalBlobDir is the folder of file:// blob storage. When set, sources
	// are read there in place instead of being copied into WorkDir.
	LocalBlobDir string

	// ClientID is this process's River client id (see NodeID); random when
	// empty. Jobs still running under it when the service starts were
	// orphaned by a killed predecessor and are retried at once.
	ClientID string
	// Hostname is recorded with the node's heartbeats, for operators.
	Hostname string
	// RescueStuckJobsAfter is River's last-resort rescue of jobs running
	// that long (nodes that keep heartbeating but whose job hangs). Default
	// 6 h: longer than any render.
	RescueStuckJobsAfter time.Duration
	// NodeTimeout is how long a worker node may go without a heartbeat
	// before the jobs it was running are retried elsewhere. Default 2 min;
	// every node must use the same.
	NodeTimeout time.Duration
	// CleanupInterval is how often expired files are deleted. Default 15 min.
	CleanupInterval time.Duration

	// RefreshInterval is how often connections are checked for tokens to
	// renew and grants about to end. Default 10 min.
	RefreshInterval time.Duration
	// ConnectionWarning is how long before a grant ends connection.expiring
	// is sent. Default 7 days.
	ConnectionWarning time.Duration
	// PublishRetryBase is the first retry delay of a publication after a
	// transient failure; it doubles each attempt (capped at an hour).
	// Default 30 s.
	PublishRetryBase time.Duration
	// YouTubeQuotaPerDay is the Data API units the YouTube project (OAuth
	// client) may spend per Pacific day; a publication that would pass it
	// waits for the reset. Default 10 000 (Google's default); negative: no
	// ledger.
	YouTubeQuotaPerDay int
	// WebhookTimeout bounds one webhook delivery. Default 15 s.
	WebhookTimeout time.Duration
	// WebhookAllowLoopback lets webhooks reach 127.0.0.1 (tests only: never
	// from configuration).
	WebhookAllowLoopback bool

	// FetchPollInterval overrides River's fallback poll for new jobs (tests).
	FetchPollInterval time.Duration
	// TestOnly starts River without its start-up jitter (tests).
	TestOnly bool
}

// Service accepts exports and, with Workers > 0, works them.
type Service struct {
	store        *store.Store
	blob         *blob.Store
	events       *events.Broker
	engine       *engine.Engine
	connect      *connect.Service
	webhooks     *fetch.Client
	logger       *slog.Logger
	client       *river.Client[*sql.Tx]
	metrics      *metrics
	workers      int
	retention    time.Duration
	workDir      string
	localBlobDir string
	clientID     string
	hostname     string
	nodeTimeout  time.Duration
	startedAt    time.Time
	warning      time.Duration
	retryBase    time.Duration
	// quotaPerDay is the daily unit quota per platform project (YouTube).
	quotaPerDay map[string]int64

	mu      sync.Mutex
	started bool
	stopBG  context.CancelFunc
	bgDone  chan struct{}
}

// New builds the service and its River client. It starts nothing: call
// Start to work jobs.
func New(opts Options) (*Service, error) {
	if opts.Store == nil || opts.Blob == nil || opts.Events == nil {
		return nil, errors.New("jobs: Store, Blob and Events are required")
	}
	if opts.Workers > 0 && opts.Engine == nil {
		return nil, errors.New("jobs: Engine is required to run workers")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.PublishWorkers <= 0 {
		opts.PublishWorkers = DefaultPublishWorkers
	}
	if opts.Retention <= 0 {
		opts.Retention = DefaultRetention
	}
	if opts.WorkDir == "" {
		opts.WorkDir = filepath.Join(os.TempDir(), "outpost-work")
	}
	if opts.RescueStuckJobsAfter <= 0 {
		opts.RescueStuckJobsAfter = DefaultRescueStuckJobsAfter
	}
	if opts.NodeTimeout <= 0 {
		opts.NodeTimeout = DefaultNodeTimeout
	}
	if opts.CleanupInterval <= 0 {
		opts.CleanupInterval = DefaultCleanupInterval
	}
	if opts.ClientID == "" {
		opts.ClientID = randomNodeID(opts.Hostname)
	}
	if opts.RefreshInterval <= 0 {
		opts.RefreshInterval = DefaultRefreshInterval
	}
	if opts.ConnectionWarning <= 0 {
		opts.ConnectionWarning = DefaultConnectionWarning
	}
	if opts.PublishRetryBase <= 0 {
		opts.PublishRetryBase = DefaultPublishRetryBase
	}
	if opts.WebhookTimeout <= 0 {
		opts.WebhookTimeout = DefaultWebhookTimeout
	}
	if opts.YouTubeQuotaPerDay == 0 {
		opts.YouTubeQuotaPerDay = DefaultYouTubeQuotaPerDay
	}
	m, err := newMetrics(opts.Metrics)
	if err != nil {
		return nil, err
	}
	s := &Service{
		store:   opts.Store,
		blob:    opts.Blob,
		events:  opts.Events,
		engine:  opts.Engine,
		connect: opts.Connect,
		webhooks: fetch.New(fetch.Options{Timeout: opts.WebhookTimeout, UserAgent: "Outpost-Webhooks/1",
			AllowLoopback: opts.WebhookAllowLoopback}),
		logger:       opts.Logger,
		metrics:      m,
		workers:      opts.Workers,
		retention:    opts.Retention,
		workDir:      opts.WorkDir,
		localBlobDir: opts.LocalBlobDir,
		clientID:     opts.ClientID,
		hostname:     opts.Hostname,
		nodeTimeout:  opts.NodeTimeout,
		warning:      opts.ConnectionWarning,
		retryBase:    opts.PublishRetryBase,
		quotaPerDay:  map[string]int64{youtube.ID: int64(opts.YouTubeQuotaPerDay)},
	}

	workers := river.NewWorkers()
	river.AddWorker(workers, &renderWorker{s: s})
	river.AddWorker(workers, &cleanupWorker{s: s})
	river.AddWorker(workers, &publishWorker{s: s})
	river.AddWorker(workers, &deliverWorker{s: s})
	river.AddWorker(workers, &refreshWorker{s: s})
	river.AddWorker(workers, &deletePreviewWorker{s: s})
	cfg := &river.Config{
		ID:                   opts.ClientID,
		Logger:               slog.New(demoteInfo{opts.Logger.Handler()}),
		Workers:              workers,
		RescueStuckJobsAfter: opts.RescueStuckJobsAfter,
		FetchPollInterval:    opts.FetchPollInterval,
		TestOnly:             opts.TestOnly,
		Middleware:           []rivertype.Middleware{m},
	}
	if opts.Workers > 0 {
		cfg.Queues = map[string]river.QueueConfig{
			QueueRender:  {MaxWorkers: opts.Workers},
			QueuePublish: {MaxWorkers: opts.PublishWorkers},
			QueueDefault: {MaxWorkers: 2},
		}
		cfg.PeriodicJobs = []*river.PeriodicJob{
			river.NewPeriodicJob(river.PeriodicInterval(opts.CleanupInterval),
				func() (river.JobArgs, *river.InsertOpts) { return CleanupArgs{}, nil },
				&river.PeriodicJobOpts{ID: KindCleanup, RunOnStart: true}),
			river.NewPeriodicJob(river.PeriodicInterval(opts.RefreshInterval),
				func() (river.JobArgs, *river.InsertOpts) { return RefreshArgs{}, nil },
				&river.PeriodicJobOpts{ID: KindRefresh, RunOnStart: true}),
		}
	}
	client, err := river.NewClient(opts.Store.RiverDriver(), cfg)
	if err != nil {
		return nil, fmt.Errorf("jobs: create river client: %w", err)
	}
	s.client = client
	return s, nil
}

// Client returns the River client (for riverui, tests and job inserts in a
// caller's transaction).
func (s *Service) Client() *river.Client[*sql.Tx] { return s.client }

// ClientID returns this process's River client id.
func (s *Service) ClientID() string { return s.clientID }

// Start starts working jobs, when the service has workers (it does nothing
// otherwise): jobs orphaned by this node's killed predecessor are retried
// first, then the node's heartbeat starts and River fetches work. ctx bounds
// the start only; Stop stops.
func (s *Service) Start(ctx context.Context) error {
	if s.workers <= 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return errors.New("jobs: already started")
	}
	s.startedAt = time.Now()
	s.sweepWorkDir(ctx)
	if n, err := s.rescueOwnOrphans(ctx); err != nil {
		return fmt.Errorf("jobs: retry orphaned jobs: %w", err)
	} else if n > 0 {
		s.logger.InfoContext(ctx, "retrying jobs this node was running when it stopped", "jobs", n, "client_id", s.clientID)
	}
	if err := s.heartbeat(ctx); err != nil {
		return fmt.Errorf("jobs: %w", err)
	}
	// River's own goroutines live until Stop, not until ctx ends.
	if err := s.client.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("jobs: start river: %w", err)
	}
	bg, stop := context.WithCancel(context.WithoutCancel(ctx))
	s.stopBG, s.bgDone = stop, make(chan struct{})
	go s.heartbeatLoop(bg, s.bgDone)
	s.started = true
	return nil
}

// Stop stops working jobs: running jobs may finish until ctx ends, then
// they are canceled (ffmpeg gets SIGINT) and retried later, here or on
// another node. It does nothing for a service that was not started.
func (s *Service) Stop(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.started {
		return nil
	}
	s.started = false
	s.stopBG()
	<-s.bgDone
	err := s.client.Stop(ctx)
	if err != nil && ctx.Err() != nil {
		s.logger.Warn("jobs still running at shutdown: canceling them (they will be retried)")
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		err = s.client.StopAndCancel(cctx)
	}
	if err != nil {
		return fmt.Errorf("jobs: stop river: %w", err)
	}
	// A clean stop leaves no running job behind: forget the node.
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	return s.store.DeleteNode(dctx, s.clientID)
}

// demoteInfo logs River's chatty info records (job counts every few
// seconds) at debug level; its warnings and errors stay as they are.
type demoteInfo struct{ slog.Handler }

func (h demoteInfo) Enabled(ctx context.Context, l slog.Level) bool {
	return h.Handler.Enabled(ctx, h.level(l))
}

func (h demoteInfo) Handle(ctx context.Context, r slog.Record) error {
	r.Level = h.level(r.Level)
	return h.Handler.Handle(ctx, r)
}

func (h demoteInfo) WithAttrs(attrs []slog.Attr) slog.Handler {
	return demoteInfo{h.Handler.WithAttrs(attrs)}
}

func (h demoteInfo) WithGroup(name string) slog.Handler { return demoteInfo{h.Handler.WithGroup(name)} }

func (demoteInfo) level(l slog.Level) slog.Level {
	if l == slog.LevelInfo {
		return slog.LevelDebug
	}
	return l
}

// staleWorkAge is the age past which a render folder left in WorkDir is
// removed at start: no render of this node is running then, and other
// processes sharing the folder touch theirs far more often.
const staleWorkAge = 24 * time.Hour

// sweepWorkDir removes render folders that killed processes left behind
// and no retry came back for.
func (s *Service) sweepWorkDir(ctx context.Context) {
	entries, err := os.ReadDir(s.workDir)
	if err != nil {
		return
	}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || time.Since(info.ModTime()) < staleWorkAge {
			continue
		}
		if err := os.RemoveAll(filepath.Join(s.workDir, e.Name())); err != nil {
			s.logger.WarnContext(ctx, "remove stale work dir", "dir", e.Name(), "error", err)
		}
	}
}
