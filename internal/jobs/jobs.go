// Package jobs is the job queue: River's job kinds and their workers (render
// an export — probe → render → check → store, one ffmpeg run per export —,
// publish a post, deliver a webhook, refresh connections, clean up), the
// queue wiring (Runner), and Queue, through which the services
// (internal/service) insert and cancel jobs in the same transaction as the
// rows they act on. Workers keep their progress in the database and in
// events for live watchers.
//
// Every step is idempotent and its state lives in the database, so a process
// killed mid-render loses only that render: at restart, the jobs its previous
// incarnation was running are retried at once (the River client id is stable
// per node, see TakeNode), and the jobs of a node that stopped sending
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
	"net/netip"
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
	"outpost/internal/notify"
	"outpost/internal/publish/youtube"
	"outpost/internal/store"
	"outpost/internal/throttle"
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

// Options configure a Runner.
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
	// publishing (publications fail with platform_not_configured).
	Connect *connect.Service

	// Workers is how many renders this process runs at once (the render
	// queue's MaxWorkers). Zero makes the runner insert-only: the
	// services accept, cancel and retry exports, and other processes work
	// them.
	Workers int
	// PublishWorkers is the publish queue's MaxWorkers. Default 4.
	PublishWorkers int
	// Retention is how long a rendition's file is kept unless saved or
	// pinned. Default 48 h.
	Retention time.Duration
	// WorkDir holds one folder per export being rendered. Default: a folder
	// in os.TempDir(). Use the node's (TakeNode), on the data volume:
	// renders are large, and a node's folder is emptied when it restarts.
	WorkDir string
	// LocalBlobDir is the folder of file:// blob storage. When set, sources
	// are read there in place instead of being copied into WorkDir.
	LocalBlobDir string

	// ClientID is this process's River client id (see TakeNode); random when
	// empty. Jobs still running under it when the runner starts were
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
	// SegmentThreshold is the source length in seconds above which an
	// export is rendered in as many segments as there are live worker
	// nodes, each a job of its own (OUTPOST_SEGMENT_THRESHOLD); 0: only
	// exports that ask for segments are cut.
	SegmentThreshold float64
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
	// WebhookAllowNets are private networks webhooks may reach
	// (config.WebhookAllowNets).
	WebhookAllowNets []netip.Prefix
	// RenderHistory is the file that keeps what renders took on this node,
	// the prior of the render ETAs (DATA_DIR/render-history.json); ""
	// keeps it in memory.
	RenderHistory string

	// Mailer sends email notices (export ready or failed, post failed,
	// connection expiring or expired, invites); nil or not configured:
	// none are queued.
	Mailer *notify.Mailer
	// PublicURL is the web UI's address, the base of the links in emails.
	PublicURL string
	// HistoryRetention, when positive, deletes finished exports older
	// than it whose files are gone (OUTPOST_HISTORY_RETENTION).
	HistoryRetention time.Duration
	// APIKeyGuessLimit is the throttle's bad-key limit, so that the
	// cleanup keeps the failures its windows need.
	APIKeyGuessLimit int

	// FetchPollInterval overrides River's fallback poll for new jobs (tests).
	FetchPollInterval time.Duration
	// TestOnly starts River without its start-up jitter (tests).
	TestOnly bool
}

// Runner is this process's part of the job queue: the River client, its
// workers (one type per job kind, each with its own dependencies), and
// the node's heartbeat and rescue of jobs whose node died. With Workers >
// 0 it works jobs; otherwise it only inserts them (through Queue).
type Runner struct {
	store       *store.Store
	client      *river.Client[*sql.Tx]
	queue       *Queue
	files       *Files
	logger      *slog.Logger
	workers     int
	workDir     string
	clientID    string
	hostname    string
	nodeTimeout time.Duration
	retention   time.Duration
	startedAt   time.Time
	cleanup     *cleanupWorker
	refresh     *refreshWorker

	mu      sync.Mutex
	started bool
	stopBG  context.CancelFunc
	bgDone  chan struct{}
}

// New builds the runner, its River client and workers. It starts nothing:
// call Start to work jobs.
func New(opts Options) (*Runner, error) {
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
	q := &Queue{store: opts.Store, events: opts.Events, connect: opts.Connect, logger: opts.Logger,
		mailer: opts.Mailer, publicURL: opts.PublicURL}
	files := &Files{store: opts.Store, blob: opts.Blob, workDir: opts.WorkDir, localBlobDir: opts.LocalBlobDir}
	r := &Runner{
		store:       opts.Store,
		queue:       q,
		files:       files,
		logger:      opts.Logger,
		workers:     opts.Workers,
		workDir:     opts.WorkDir,
		clientID:    opts.ClientID,
		hostname:    opts.Hostname,
		nodeTimeout: opts.NodeTimeout,
		retention:   opts.Retention,
		cleanup: &cleanupWorker{store: opts.Store, blob: opts.Blob, queue: q, logger: opts.Logger,
			throttle:         throttle.New(opts.Store, throttle.DefaultPolicy(opts.APIKeyGuessLimit), nil),
			historyRetention: opts.HistoryRetention},
		refresh: &refreshWorker{store: opts.Store, queue: q, connect: opts.Connect, warning: opts.ConnectionWarning,
			logger: opts.Logger},
	}

	steps := &stepLog{store: opts.Store, node: opts.ClientID, hostname: opts.Hostname, logger: opts.Logger}
	workers := river.NewWorkers()
	render := &renderWorker{store: opts.Store, blob: opts.Blob, events: opts.Events, queue: q, files: files,
		engine: opts.Engine, metrics: m, retention: opts.Retention, workDir: opts.WorkDir, steps: steps, logger: opts.Logger,
		segmentThreshold: opts.SegmentThreshold, nodeTimeout: opts.NodeTimeout,
		history: loadRenderHistory(opts.RenderHistory, opts.Logger)}
	river.AddWorker(workers, render)
	river.AddWorker(workers, &segmentWorker{r: render})
	river.AddWorker(workers, &joinWorker{r: render})
	river.AddWorker(workers, r.cleanup)
	river.AddWorker(workers, &publishWorker{store: opts.Store, events: opts.Events, queue: q, files: files,
		connect: opts.Connect, retryBase: opts.PublishRetryBase, steps: steps, logger: opts.Logger,
		quotaPerDay: map[string]int64{youtube.ID: int64(opts.YouTubeQuotaPerDay)}})
	river.AddWorker(workers, &deliverWorker{store: opts.Store, logger: opts.Logger, connect: opts.Connect,
		webhooks: fetch.New(fetch.Options{Timeout: opts.WebhookTimeout, UserAgent: "Outpost-Webhooks/1",
			AllowLoopback: opts.WebhookAllowLoopback, Allow: opts.WebhookAllowNets})})
	river.AddWorker(workers, r.refresh)
	river.AddWorker(workers, &deletePreviewWorker{blob: opts.Blob})
	river.AddWorker(workers, &emailWorker{mailer: opts.Mailer})
	river.AddWorker(workers, &deleteFilesWorker{blob: opts.Blob})
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
	r.client, q.client = client, client
	return r, nil
}

// Client returns the River client (for riverui and tests).
func (r *Runner) Client() *river.Client[*sql.Tx] { return r.client }

// ClientID returns this process's River client id.
func (r *Runner) ClientID() string { return r.clientID }

// Queue returns the way to the queue for the services: jobs inserted and
// canceled in their transactions.
func (r *Runner) Queue() *Queue { return r.queue }

// Files returns the local copies of stored files that renders and uploads
// read.
func (r *Runner) Files() *Files { return r.files }

// Retention is how long a stored rendition's file is kept unless saved or
// pinned.
func (r *Runner) Retention() time.Duration { return r.retention }

// Cleanup runs the periodic cleanup now (see CleanupResult).
func (r *Runner) Cleanup(ctx context.Context, now time.Time) (CleanupResult, error) {
	return r.cleanup.run(ctx, now)
}

// RefreshConnections runs the periodic connection check now (see
// RefreshResult).
func (r *Runner) RefreshConnections(ctx context.Context, now time.Time) (RefreshResult, error) {
	return r.refresh.run(ctx, now)
}

// Start starts working jobs, when the runner has workers (it does nothing
// otherwise): jobs orphaned by this node's killed predecessor are retried
// first, then the node's heartbeat starts and River fetches work. ctx bounds
// the start only; Stop stops.
func (r *Runner) Start(ctx context.Context) error {
	if r.workers <= 0 {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started {
		return errors.New("jobs: already started")
	}
	r.startedAt = time.Now()
	if n, err := r.rescueOwnOrphans(ctx); err != nil {
		return fmt.Errorf("jobs: retry orphaned jobs: %w", err)
	} else if n > 0 {
		r.logger.InfoContext(ctx, "retrying jobs this node was running when it stopped", "jobs", n, "client_id", r.clientID)
	}
	if err := r.heartbeat(ctx); err != nil {
		return fmt.Errorf("jobs: %w", err)
	}
	// River's own goroutines live until Stop, not until ctx ends.
	if err := r.client.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("jobs: start river: %w", err)
	}
	bg, stop := context.WithCancel(context.WithoutCancel(ctx))
	r.stopBG, r.bgDone = stop, make(chan struct{})
	go r.heartbeatLoop(bg, r.bgDone)
	r.started = true
	return nil
}

// Stop stops working jobs: running jobs may finish until ctx ends, then
// they are canceled (ffmpeg gets SIGINT) and retried later, here or on
// another node. It does nothing for a runner that was not started.
func (r *Runner) Stop(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.started {
		return nil
	}
	r.started = false
	r.stopBG()
	<-r.bgDone
	err := r.client.Stop(ctx)
	if err != nil && ctx.Err() != nil {
		r.logger.Warn("jobs still running at shutdown: canceling them (they will be retried)")
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		err = r.client.StopAndCancel(cctx)
	}
	if err != nil {
		return fmt.Errorf("jobs: stop river: %w", err)
	}
	// A clean stop leaves no running job behind: forget the node.
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	return r.store.DeleteNode(dctx, r.clientID)
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
