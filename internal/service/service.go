// Package service implements the use cases of internal/outpost over the
// store, blob storage, the job queue (internal/jobs), the platforms
// (internal/connect) and ffmpeg: one type per family — Projects, Exports,
// Presets, Publications, Connections, Webhooks, BrandKits, Stats,
// Accounts, and the team's Members, Workspaces, APIKeys, Audit,
// Notifications and Deletions. The web UI and the JSON API call them through the outpost
// interfaces; internal/app builds them with New.
//
// Every method takes the caller's workspace: a record of another workspace
// is not found. Failures carry an errcode; the store's sentinels become
// not_found, conflict and invalid_option here.
package service

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"time"

	"outpost/internal/blob"
	"outpost/internal/connect"
	"outpost/internal/engine"
	"outpost/internal/errcode"
	"outpost/internal/events"
	"outpost/internal/fetch"
	"outpost/internal/jobs"
	"outpost/internal/media"
	"outpost/internal/outpost"
	"outpost/internal/store"
	"outpost/internal/throttle"
)

// Options are what the services use.
type Options struct {
	Store  *store.Store
	Blob   *blob.Store
	Events *events.Broker
	// Jobs is the job queue: the services insert and cancel jobs through
	// its Queue, and estimates and previews read its Files.
	Jobs *jobs.Runner
	// Engine renders estimates and previews; nil: they are refused.
	Engine *engine.Engine
	// Connect connects accounts and makes publishers; nil: publishing is
	// not available on this server.
	Connect *connect.Service
	Prober  *media.Prober
	// FFmpeg runs ffmpeg for poster frames.
	FFmpeg *media.Runner
	Logger *slog.Logger
	// MaxUploadBytes caps an upload or an imported file.
	MaxUploadBytes int64
	// TmpDir receives uploads and fetched sources while they are probed.
	TmpDir string
	// PublicURL is the server's URL, for links in answers.
	PublicURL string
	// WebhookAllowLoopback accepts webhook URLs on loopback addresses
	// (tests only).
	WebhookAllowLoopback bool
	// WebhookAllowNets are private networks webhook endpoints may be on
	// (config.WebhookAllowNets).
	WebhookAllowNets []netip.Prefix
	// FetchAllowLoopback imports sources from loopback addresses (tests
	// only: their origin servers run on 127.0.0.1).
	FetchAllowLoopback bool
	// EstimateTimeout bounds one size estimate (it encodes samples of
	// every target); 0 is 45 s. Tests on a loaded machine raise it.
	EstimateTimeout time.Duration
	// BcryptCost is the cost of password hashes; 0 is bcrypt's default + 2.
	BcryptCost int
	// APIKeyGuessLimit is how many bad API keys a minute one address may
	// send before it is refused (0: no limit).
	APIKeyGuessLimit int
	// Now is the clock (tests); nil is time.Now.
	Now func() time.Time
}

// New builds the services.
func New(o Options) (outpost.Services, error) {
	switch {
	case o.Store == nil || o.Blob == nil || o.Events == nil || o.Jobs == nil:
		return outpost.Services{}, errors.New("service: Store, Blob, Events and Jobs are required")
	case o.TmpDir == "":
		return outpost.Services{}, errors.New("service: TmpDir is required")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Prober == nil {
		o.Prober = &media.Prober{}
	}
	if o.FFmpeg == nil {
		o.FFmpeg = &media.Runner{Logger: o.Logger}
	}
	if err := os.MkdirAll(o.TmpDir, 0o700); err != nil {
		return outpost.Services{}, fmt.Errorf("service: create temp dir: %w", err)
	}
	removeStaleIntake(o.TmpDir, 24*time.Hour, o.Now())
	files := o.Jobs.Files()
	th := throttle.New(o.Store, throttle.DefaultPolicy(o.APIKeyGuessLimit), o.Now)
	accounts := newAccounts(o.Store, th, o.BcryptCost, o.Logger, o.Now)
	views := &views{store: o.Store, blob: o.Blob, logger: o.Logger, now: o.Now}
	presets := &Presets{store: o.Store}
	projects := &Projects{store: o.Store, blob: o.Blob, files: files, prober: o.Prober, ffmpeg: o.FFmpeg,
		fetcher: fetch.New(fetch.Options{MaxBytes: o.MaxUploadBytes, AllowLoopback: o.FetchAllowLoopback}), maxUpload: o.MaxUploadBytes,
		tmpDir: o.TmpDir, logger: o.Logger}
	pubs := &Publications{store: o.Store, queue: o.Jobs.Queue(), connect: o.Connect, views: views, logger: o.Logger, now: o.Now}
	exports := &Exports{store: o.Store, blob: o.Blob, events: o.Events, queue: o.Jobs.Queue(), files: files,
		engine: o.Engine, presets: presets, pubs: pubs, views: views, logger: o.Logger, now: o.Now,
		estimates: newEstimateCache(cmp.Or(o.EstimateTimeout, defaultEstimateTimeout)), retention: o.Jobs.Retention()}
	return outpost.Services{
		Projects:     projects,
		Exports:      exports,
		Presets:      presets,
		Publications: pubs,
		Connections: &Connections{store: o.Store, queue: o.Jobs.Queue(), connect: o.Connect, pubs: pubs,
			publicURL: o.PublicURL, logger: o.Logger},
		Webhooks: &Webhooks{store: o.Store, queue: o.Jobs.Queue(), connect: o.Connect,
			guard: fetch.Guard{AllowLoopback: o.WebhookAllowLoopback, Allow: o.WebhookAllowNets}},
		BrandKits:   &BrandKits{store: o.Store, blob: o.Blob, prober: o.Prober, tmpDir: o.TmpDir, views: views, logger: o.Logger},
		Stats:       &Stats{store: o.Store, logger: o.Logger},
		Accounts:    accounts,
		Idempotency: &Idempotency{store: o.Store},

		Members: &Members{store: o.Store, queue: o.Jobs.Queue(), accounts: accounts, publicURL: o.PublicURL,
			logger: o.Logger, now: o.Now},
		Workspaces:    &Workspaces{store: o.Store, blob: o.Blob, logger: o.Logger, now: o.Now},
		APIKeys:       &APIKeys{store: o.Store, now: o.Now},
		Audit:         &Audit{store: o.Store},
		Notifications: &Notifications{store: o.Store, queue: o.Jobs.Queue()},
		Deletions:     &Deletions{store: o.Store, blob: o.Blob, queue: o.Jobs.Queue(), logger: o.Logger, now: o.Now},
	}, nil
}

// coded gives the store's sentinels their codes; others pass through.
func coded(err error, kind, id string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound):
		return errcode.New(errcode.NotFound, "%s %s not found", kind, id)
	case errors.Is(err, store.ErrInvalidCursor):
		return errcode.New(errcode.InvalidOption, "cursor: not a cursor this server issued")
	case errors.Is(err, store.ErrConflict):
		return errcode.Wrap(errcode.Conflict, err, "the request conflicts with the current state")
	}
	return err
}

// inWorkspace returns the record got by get when it is workspaceID's, or
// errcode.NotFound naming kind and id (another workspace's record looks
// missing).
func inWorkspace[T any](ctx context.Context, workspaceID, kind, id string, get func(context.Context, string) (T, error), ws func(T) string) (T, error) {
	v, err := get(ctx, id)
	if err == nil && ws(v) != workspaceID {
		err = store.ErrNotFound
	}
	if err != nil {
		var zero T
		return zero, coded(err, kind, id)
	}
	return v, nil
}

func projectIn(ctx context.Context, st *store.Store, workspaceID, id string) (store.Project, error) {
	return inWorkspace(ctx, workspaceID, "project", id, st.GetProject, func(p store.Project) string { return p.WorkspaceID })
}

func exportIn(ctx context.Context, st *store.Store, workspaceID, id string) (store.Export, error) {
	return inWorkspace(ctx, workspaceID, "export", id, st.GetExport, func(e store.Export) string { return e.WorkspaceID })
}

func publicationIn(ctx context.Context, st *store.Store, workspaceID, id string) (store.Publication, error) {
	return inWorkspace(ctx, workspaceID, "publication", id, st.GetPublication, func(p store.Publication) string { return p.WorkspaceID })
}

func connectionIn(ctx context.Context, st *store.Store, workspaceID, id string) (store.Connection, error) {
	return inWorkspace(ctx, workspaceID, "connection", id, st.GetConnection, func(c store.Connection) string { return c.WorkspaceID })
}

// isNotFound reports a missing row or a not_found error.
func isNotFound(err error) bool {
	return errors.Is(err, store.ErrNotFound) || errcode.Of(err) == errcode.NotFound
}
