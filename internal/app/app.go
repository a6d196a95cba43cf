// Package app is Outpost's one wiring site: configuration → database and
// migrations → blob storage → the default workspace and its bootstrap API
// key → events, jobs (River) → the HTTP server, then Run until the context
// ends and shut down gracefully. cmd/outpost registers its commands (serve,
// worker, migrate); nothing else imports it.
package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"outpost/internal/blob"
	"outpost/internal/config"
	"outpost/internal/connect"
	"outpost/internal/engine"
	"outpost/internal/errcode"
	"outpost/internal/events"
	"outpost/internal/jobs"
	"outpost/internal/media"
	"outpost/internal/notify"
	"outpost/internal/publish"
	"outpost/internal/sandbox"
	"outpost/internal/service"
	"outpost/internal/store"
	"outpost/internal/ui"
	"outpost/internal/web"
)

// Shutdown budget.
const (
	// httpShutdownTimeout is how long requests in flight may take to finish.
	httpShutdownTimeout = 10 * time.Second
	// jobsShutdownTimeout is how long running jobs may take to finish before
	// they are canceled (and retried later, here or elsewhere).
	jobsShutdownTimeout = 10 * time.Second
)

// Options say what an App runs.
type Options struct {
	Config *config.Config
	Logger *slog.Logger
	// HTTP serves the API on Config.Listen (serve); false runs workers only.
	HTTP bool
	// Out receives the start-up banner (URL, API key hint). Nil: none.
	Out io.Writer
	// RescueStuckJobsAfter and NodeTimeout tune stuck-job recovery (see
	// jobs.Options); zero takes the defaults.
	RescueStuckJobsAfter time.Duration
	NodeTimeout          time.Duration
	// SandboxOptions tune the in-process emulators of --sandbox (tests:
	// consent skipped, faults); BaseURL and Logger are set by the app.
	SandboxOptions sandbox.Options
	// TunePublisherFunc, when set, adjusts every platform client (tests:
	// short poll intervals).
	TunePublisherFunc func(publish.Publisher)
	// PublishRetryBase is the first retry delay of a failed publication
	// (tests); zero takes the default.
	PublishRetryBase time.Duration
}

// App is a running Outpost process.
type App struct {
	cfg     *config.Config
	logger  *slog.Logger
	out     io.Writer
	store   *store.Store
	blob    *blob.Store
	events  *events.Broker
	jobs    *jobs.Runner
	connect *connect.Service
	sandbox *sandboxServer
	metrics *prometheus.Registry
	ln      net.Listener
	srv     *http.Server
	ui      *ui.Handler
	url     string
	// firstKey is an API key made on first run (no key existed, none
	// configured), shown once in the banner.
	firstKey    string
	releaseNode func() error
}

// New opens everything the process needs: on error, whatever was opened is
// closed again.
func New(ctx context.Context, opts Options) (*App, error) {
	if opts.Config == nil {
		return nil, errors.New("app: Config is required")
	}
	a := &App{cfg: opts.Config, logger: opts.Logger, out: opts.Out, metrics: prometheus.NewRegistry()}
	if a.logger == nil {
		a.logger = slog.New(slog.DiscardHandler)
	}
	if a.out == nil {
		a.out = io.Discard
	}
	if err := a.open(ctx, opts); err != nil {
		// Close what was opened; the error that stopped the start is the
		// one to report.
		if cerr := a.Close(); cerr != nil {
			a.logger.Warn("closing after a failed start", "error", cerr)
		}
		return nil, err
	}
	return a, nil
}

// open is New's body: it fills a step by step and stops at the first error,
// leaving Close to release what it opened.
func (a *App) open(ctx context.Context, opts Options) (err error) {
	cfg, logger := a.cfg, a.logger
	prober := &media.Prober{FFprobe: cfg.FFprobePath}
	runner := &media.Runner{FFmpeg: cfg.FFmpegPath, Logger: logger.With("component", "ffmpeg"), Nice: cfg.RenderNice}
	if err := checkTools(ctx, cfg, opts.HTTP, runner, prober); err != nil {
		return err
	}
	if err := checkDataDir(cfg.DataDir); err != nil {
		return err
	}
	if err := checkKeySource(cfg, opts.HTTP); err != nil {
		return err
	}
	if generated, err := cfg.EnsureSecretKey(); err != nil {
		return err
	} else if generated {
		logger.Info("generated a secret key", "file", filepath.Join(cfg.DataDir, config.SecretKeyFile))
	}
	if opts.HTTP {
		if err := a.listen(); err != nil {
			return err
		}
	}
	if a.store, err = store.Open(ctx, cfg.DatabaseURL, logger.With("component", "store")); err != nil {
		return err
	}
	if err := a.store.Migrate(ctx); err != nil {
		return err
	}
	if err := a.checkClusterKeys(ctx); err != nil {
		return err
	}
	a.blob, err = blob.Open(ctx, cfg.BlobURL, blob.Options{
		Secret:        cfg.SecretKey,
		PublicBaseURL: cfg.PublicURL,
		Logger:        logger.With("component", "blob"),
	})
	if err != nil {
		return errcode.Wrap(errcode.ConfigInvalid, err, "open blob storage (OUTPOST_BLOB_URL, --blob-url)")
	}
	cctx, cancel := context.WithTimeout(ctx, blobCheckTimeout)
	err = a.blob.Check(cctx)
	cancel()
	if err != nil {
		return errcode.Wrap(errcode.ConfigInvalid, err, "blob storage (OUTPOST_BLOB_URL, --blob-url) does not answer")
	}
	if err := a.ensureWorkspace(ctx, opts.HTTP); err != nil {
		return err
	}
	a.events = events.NewBroker(a.store.EventLog(), events.Options{Logger: logger.With("component", "events")})

	if cfg.Sandbox && opts.HTTP {
		// The emulators run beside the API, and every platform points there.
		if a.sandbox, err = startKeptSandbox(cfg, opts.SandboxOptions, logger.With("component", "sandbox")); err != nil {
			return err
		}
		cfg.Platforms = sandbox.PlatformSettings(a.sandbox.url)
	} else if cfg.Sandbox {
		logger.Warn("--sandbox runs the emulators in `outpost serve` only; this worker publishes to the platforms configured by OUTPOST_<PLATFORM>_* ")
	}
	if len(cfg.SecretKey) == 32 {
		a.connect, err = connect.New(connect.Options{Store: a.store, Key: cfg.SecretKey, TokenKeys: cfg.TokenKeys, Platforms: cfg.Platforms,
			PublicURL: cfg.PublicURL, Logger: logger.With("component", "connect"), TuneFunc: opts.TunePublisherFunc})
		if err != nil {
			return err
		}
		// Webhook secrets from before migration 00014 are sealed now, on
		// start, not lazily: none stays plain past the first start.
		if n, err := a.connect.SealWebhookSecrets(ctx); err != nil {
			return fmt.Errorf("seal webhook secrets: %w", err)
		} else if n > 0 {
			logger.Info("sealed the signing secrets of webhook endpoints", "endpoints", n)
		}
	}

	mailer, err := notify.NewMailer(cfg.SMTPURL, cfg.SMTPFrom, notify.Options{})
	if err != nil {
		return err
	}
	eng := &engine.Engine{Prober: prober, Runner: runner, Logger: logger.With("component", "engine"), Threads: cfg.RenderThreads,
		SegmentMinSeconds: cfg.SegmentMinSeconds}
	jopts := jobs.Options{
		Store:                a.store,
		Blob:                 a.blob,
		Events:               a.events,
		Engine:               eng,
		Logger:               logger.With("component", "jobs"),
		Metrics:              a.metrics,
		Workers:              cfg.Workers,
		Retention:            cfg.Retention,
		WorkDir:              filepath.Join(cfg.DataDir, "work"),
		LocalBlobDir:         localBlobDir(cfg.BlobURL),
		RescueStuckJobsAfter: opts.RescueStuckJobsAfter,
		NodeTimeout:          opts.NodeTimeout,
		SegmentThreshold:     cfg.SegmentThreshold,
		Connect:              a.connect,
		ConnectionWarning:    cfg.ConnectionWarning,
		YouTubeQuotaPerDay:   cfg.YouTubeQuotaPerDay,
		PublishRetryBase:     opts.PublishRetryBase,
		Mailer:               mailer,
		PublicURL:            cfg.PublicURL,
		HistoryRetention:     cfg.HistoryRetention,
		APIKeyGuessLimit:     cfg.APIKeyGuessLimit,
		WebhookAllowNets:     cfg.WebhookAllowNets,
		RenderHistory:        filepath.Join(cfg.DataDir, "render-history.json"),
	}
	jopts.Hostname, _ = os.Hostname()
	// The node's slot in the data dir: its id, and its own scratch folder,
	// emptied of what a killed predecessor left (serve's estimates and
	// previews work there too).
	if node, err := jobs.TakeNode(cfg.DataDir, jopts.Hostname); err != nil {
		logger.Warn("no stable node id: jobs of a killed predecessor wait for other nodes to retry them", "error", err)
	} else {
		jopts.ClientID, jopts.WorkDir, a.releaseNode = node.ID, node.WorkDir, node.Release
		if node.Cleared > 0 {
			logger.Info("removed the scratch files a stopped node left behind", "node", node.ID, "entries", node.Cleared)
		}
		if cfg.Workers > 0 {
			// The slot is this process's now: ffmpeg its killed predecessor
			// left running goes before the jobs are taken again.
			children := &media.Children{Dir: filepath.Join(cfg.DataDir, "children", node.ID)}
			if n, err := children.KillLeftovers(ctx); err != nil {
				logger.Warn("stop processes left by this node's predecessor", "error", err)
			} else if n > 0 {
				logger.Info("stopped processes left by this node's predecessor", "processes", n)
			}
			runner.Children, prober.Children = children, children
		}
	}
	if cfg.Workers > 0 {
		// A worker encodes on the hardware encoder that passes its test
		// encode (OUTPOST_ENCODER=auto), or on the one asked for, or stops.
		if err := eng.UseEncoder(ctx, cfg.Encoder); err != nil {
			return err
		}
	}
	if a.jobs, err = jobs.New(jopts); err != nil {
		return err
	}

	if opts.HTTP {
		services, err := service.New(service.Options{
			Store: a.store, Blob: a.blob, Events: a.events, Jobs: a.jobs, Engine: eng, Connect: a.connect,
			Prober: prober, FFmpeg: runner, Logger: logger.With("component", "service"),
			MaxUploadBytes: cfg.MaxUploadBytes, TmpDir: filepath.Join(cfg.DataDir, "tmp"), PublicURL: cfg.PublicURL,
			APIKeyGuessLimit: cfg.APIKeyGuessLimit, WebhookAllowNets: cfg.WebhookAllowNets,
		})
		if err != nil {
			return err
		}
		handler, err := web.New(web.Deps{
			Config:            cfg,
			Services:          services,
			Downloads:         a.blob.Handler(),
			Logger:            logger.With("component", "web"),
			Metrics:           a.metrics,
			Ready:             a.ready,
			AcceptConcurrency: cmp.Or(cfg.AcceptConcurrency, a.store.BurstConcurrency()),
		})
		if err != nil {
			return err
		}
		if a.ui, err = ui.New(ui.Deps{Config: cfg, Services: services, Logger: logger.With("component", "ui")}); err != nil {
			return err
		}
		// The API, downloads, OAuth and probes go to web; every other path
		// is a page of the UI.
		mux := http.NewServeMux()
		for _, p := range []string{"/api/", "/dl/", "/connect/", "/oauth/", "/healthz", "/metrics"} {
			mux.Handle(p, handler)
		}
		mux.Handle("/", a.ui)
		a.srv = &http.Server{
			Handler: mux,
			// No ReadTimeout or WriteTimeout: uploads, downloads and event
			// streams legitimately last long. Slow headers are cut short.
			ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout:       2 * time.Minute,
			MaxHeaderBytes:    1 << 20,
			ErrorLog:          slog.NewLogLogger(logger.With("component", "http").Handler(), slog.LevelWarn),
		}
		// Shutdown waits for idle connections: end event streams first.
		a.srv.RegisterOnShutdown(a.events.Close)
	}
	return nil
}

// listen binds the HTTP address now, so that a port taken is reported at
// start and port 0 resolves before links are signed.
func (a *App) listen() error {
	ln, err := net.Listen("tcp", a.cfg.Listen)
	if err != nil {
		return listenError(a.cfg.Listen, err)
	}
	a.ln = ln
	addr := ln.Addr().(*net.TCPAddr)
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "localhost"
	}
	a.url = "http://" + net.JoinHostPort(host, fmt.Sprint(addr.Port))
	// The default public URL of an ephemeral port (":0") names the real one.
	if u, err := url.Parse(a.cfg.PublicURL); err == nil && u.Port() == "0" {
		u.Host = net.JoinHostPort(u.Hostname(), fmt.Sprint(addr.Port))
		a.cfg.PublicURL = strings.TrimSuffix(u.String(), "/")
	}
	return nil
}

// ensureWorkspace makes the default workspace and the bootstrap API key. On
// the first start of a server with no key at all, it makes one to show.
func (a *App) ensureWorkspace(ctx context.Context, server bool) error {
	ws, err := a.store.DefaultWorkspace(ctx)
	if err != nil {
		return err
	}
	if k := a.cfg.BootstrapAPIKey; k != "" {
		key, err := a.store.EnsureAPIKey(ctx, ws.ID, k)
		if err != nil {
			return errcode.Wrap(errcode.ConfigInvalid, err, "ensure OUTPOST_BOOTSTRAP_API_KEY")
		}
		if key.RevokedAt != nil {
			a.logger.Warn("OUTPOST_BOOTSTRAP_API_KEY was revoked and stays revoked", "key_id", key.ID)
		}
		return nil
	}
	if !server {
		return nil
	}
	keys, err := a.store.ListAPIKeys(ctx, ws.ID)
	if err != nil || len(keys) > 0 {
		return err
	}
	_, plain, err := a.store.CreateAPIKey(ctx, ws.ID, "first run")
	if err != nil {
		return err
	}
	a.firstKey = plain
	return nil
}

// localBlobDir returns the folder of a file:// blob URL, or "".
func localBlobDir(blobURL string) string {
	u, err := url.Parse(blobURL)
	if err != nil || u.Scheme != "file" {
		return ""
	}
	return filepath.FromSlash(u.Path)
}

// ready is the readiness check: the database answers.
func (a *App) ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := a.store.DB().PingContext(ctx); err != nil {
		return errcode.Wrap(errcode.DBUnavailable, err, "database does not answer")
	}
	return nil
}

// URL returns the address the HTTP server listens on ("" without HTTP).
func (a *App) URL() string { return a.url }

// Store returns the database (tests).
func (a *App) Store() *store.Store { return a.store }

// Jobs returns the job runner (tests).
func (a *App) Jobs() *jobs.Runner { return a.jobs }

// Sandbox returns the in-process emulators of --sandbox and their URL, or
// nil (tests).
func (a *App) Sandbox() (*sandbox.Server, string) {
	if a.sandbox == nil {
		return nil, ""
	}
	return a.sandbox.sb, a.sandbox.url
}

// Run works jobs and serves HTTP until ctx ends, then shuts down: event
// streams end, requests in flight may finish (10 s), running jobs may finish
// (10 s) and are otherwise canceled, to be retried. It returns nil after a
// clean shutdown.
func (a *App) Run(ctx context.Context) error {
	if err := a.jobs.Start(ctx); err != nil {
		return err
	}
	serveErr := make(chan error, 1)
	if a.srv != nil {
		go func() { serveErr <- a.srv.Serve(a.ln) }()
	}
	sandboxErr := make(chan error, 1)
	if a.sandbox != nil {
		go func() { sandboxErr <- a.sandbox.serve() }()
	}
	a.banner()

	var err error
	select {
	case <-ctx.Done():
	case err = <-serveErr:
		err = fmt.Errorf("serve http: %w", err)
	case err = <-sandboxErr:
		err = fmt.Errorf("serve sandbox: %w", err)
	}
	a.logger.Info("shutting down")
	// Requests and jobs wind down side by side.
	jobsDone := make(chan error, 1)
	go func() {
		jctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), jobsShutdownTimeout)
		defer cancel()
		jobsDone <- a.jobs.Stop(jctx)
	}()
	if a.srv != nil {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), httpShutdownTimeout)
		if serr := a.srv.Shutdown(sctx); serr != nil {
			a.logger.Warn("requests still running at shutdown: closing them", "error", serr)
			_ = a.srv.Close()
		}
		cancel()
	}
	if jerr := <-jobsDone; jerr != nil {
		err = errors.Join(err, jerr)
	}
	if a.sandbox != nil {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		a.sandbox.shutdown(sctx)
		cancel()
	}
	a.events.Close()
	return err
}

func (a *App) banner() {
	mode := fmt.Sprintf("%d render worker(s)", a.cfg.Workers)
	if a.cfg.Workers == 0 {
		mode = "no workers (API only)"
	}
	if a.srv == nil {
		fmt.Fprintf(a.out, "Outpost worker is running: %s, database %s\n", mode, a.store.Engine())
		return
	}
	fmt.Fprintf(a.out, "Outpost is running at %s\n", a.url)
	if a.ui != nil {
		if u := a.ui.SetupURL(a.url); u != "" {
			fmt.Fprintf(a.out, "  create the admin account: %s\n", u)
		}
	}
	if a.cfg.PublicURL != a.url {
		fmt.Fprintf(a.out, "  public URL: %s\n", a.cfg.PublicURL)
	}
	fmt.Fprintf(a.out, "  %s, database %s, data in %s\n", mode, a.store.Engine(), a.cfg.DataDir)
	if a.sandbox != nil {
		printSandbox(a.out, a.sandbox.url, false)
		fmt.Fprintf(a.out, "  connect a sandbox account: open %s/connect/youtube signed in, or POST /api/v1/connections/youtube/authorize\n", a.url)
	}
	switch {
	case a.firstKey != "":
		fmt.Fprintf(a.out, "  API key (shown once, keep it): %s\n", a.firstKey)
		fmt.Fprintf(a.out, "  try: curl -H 'Authorization: Bearer %s' %s/api/v1/presets\n", a.firstKey, a.url)
	case a.cfg.BootstrapAPIKey != "":
		fmt.Fprintln(a.out, "  API key: the one in OUTPOST_BOOTSTRAP_API_KEY")
	default:
		fmt.Fprintln(a.out, "  API key: set OUTPOST_BOOTSTRAP_API_KEY=opk_<your secret> and restart to add one")
	}
}

// Close releases what New opened. Run must have returned.
func (a *App) Close() error {
	var errs []error
	if a.ln != nil {
		// Serve closes it when it ran; close it when it did not.
		if err := a.ln.Close(); !errors.Is(err, net.ErrClosed) {
			errs = append(errs, err)
		}
	}
	if a.sandbox != nil {
		errs = append(errs, a.sandbox.close())
	}
	if a.blob != nil {
		errs = append(errs, a.blob.Close())
	}
	if a.store != nil {
		errs = append(errs, a.store.Close())
	}
	if a.releaseNode != nil {
		errs = append(errs, a.releaseNode())
	}
	return errors.Join(errs...)
}
