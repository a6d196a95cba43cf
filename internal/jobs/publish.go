package jobs

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"outpost/internal/connect"
	"outpost/internal/errcode"
	"outpost/internal/events"
	"outpost/internal/outpost"
	"outpost/internal/publish"
	"outpost/internal/store"
)

// KindPublish is the publication job's kind.
const KindPublish = "publication.publish"

// publishMaxAttempts bounds retries of transient failures (5xx, network);
// rate limits snooze without using attempts.
const publishMaxAttempts = 12

// Publishing timings.
const (
	// refreshAhead renews a token this close to its expiry before using it.
	refreshAhead = 2 * time.Minute
	// defaultSnooze is the wait of a rate limit that names none, and of a
	// post still processing.
	defaultSnooze = time.Minute
	// publishProgressInterval throttles the upload's live events.
	publishProgressInterval = 500 * time.Millisecond
	maxPublishRetry         = time.Hour
	// publishTimeout bounds one attempt: an upload of a large file takes
	// long; the clients bound their polls and the context carries
	// shutdown.
	publishTimeout = 6 * time.Hour
)

// PublishArgs are the publication job's arguments.
type PublishArgs struct {
	PublicationID string `json:"publication_id"`
}

// Kind implements river.JobArgs.
func (PublishArgs) Kind() string { return KindPublish }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (PublishArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueuePublish, MaxAttempts: publishMaxAttempts}
}

type publishWorker struct {
	river.WorkerDefaults[PublishArgs]
	store     *store.Store
	events    *events.Broker
	queue     *Queue
	files     *Files
	connect   *connect.Service
	retryBase time.Duration
	// quotaPerDay is the daily unit quota per platform project (YouTube).
	quotaPerDay map[string]int64
	steps       *stepLog
	logger      *slog.Logger
}

// Timeout is publishTimeout.
func (w *publishWorker) Timeout(*river.Job[PublishArgs]) time.Duration { return publishTimeout }

// NextRetry backs off exponentially from Options.PublishRetryBase.
func (w *publishWorker) NextRetry(job *river.Job[PublishArgs]) time.Time {
	d := w.retryBase << max(job.Attempt-1, 0)
	if d <= 0 || d > maxPublishRetry {
		d = maxPublishRetry
	}
	return time.Now().Add(d)
}

// pubRun is one attempt at one publication.
type pubRun struct {
	job *river.Job[PublishArgs]
	log *slog.Logger
	pub store.Publication
	// refreshed: the token was renewed in this attempt (AuthExpired gets
	// one refresh).
	refreshed bool

	// mu guards sentAt and pub's RemoteIDs, written by the publisher's
	// SaveFunc while its ProgressFunc may read pub.
	mu     sync.Mutex
	sentAt time.Time
}

func (w *publishWorker) Work(ctx context.Context, job *river.Job[PublishArgs]) (err error) {
	run := &pubRun{job: job}
	run.log = w.logger.With("publication_id", job.Args.PublicationID, "job_id", job.ID, "attempt", job.Attempt)
	p, err := w.store.GetPublication(ctx, job.Args.PublicationID)
	if errors.Is(err, store.ErrNotFound) {
		return river.JobCancel(fmt.Errorf("publication %s no longer exists: %w", job.Args.PublicationID, err))
	}
	if err != nil {
		return err
	}
	if p.State.Final() {
		return nil
	}
	if p.JobID != 0 && p.JobID != job.ID {
		run.log.InfoContext(ctx, "stale publish job: the publication has a newer one", "current_job_id", p.JobID)
		return nil
	}
	if w.connect == nil {
		return w.failPublication(ctx, run, p, errcode.New(errcode.PlatformNotConfigured, "publishing is not configured on this server"))
	}
	// A future schedule is the platform's to keep where it can (the post
	// is uploaded now, scheduled there); elsewhere the job waits.
	native := w.queue.NativeSchedule(p.Platform, p.ScheduleAt, time.Now())
	if !native && p.ScheduleAt != nil && time.Until(*p.ScheduleAt) > time.Second {
		return river.JobSnooze(time.Until(*p.ScheduleAt))
	}
	run.log = run.log.With("platform", p.Platform, "export_id", p.ExportID)
	// This node's attempt at the publication, whatever becomes of it.
	step := w.steps.start(ctx, job.ID, job.Attempt, store.Step{ExportID: p.ExportID, PublicationID: p.ID, Kind: outpost.StepPublish})
	defer func() { w.steps.finish(ctx, step, err) }()

	r, err := w.store.GetRendition(ctx, p.RenditionID)
	if err != nil {
		return err
	}
	if r.Status != store.RenditionSucceeded || r.BlobKey == "" || r.DeletedAt != nil {
		return w.failPublication(ctx, run, p, errcode.New(errcode.FileNotFound, "the %s file is not available (%s)", r.PresetID, r.Status))
	}
	conn, err := w.store.GetConnection(ctx, p.ConnectionID)
	if errors.Is(err, store.ErrNotFound) {
		return w.failPublication(ctx, run, p, errcode.New(errcode.ConnectionExpired, "the connection was deleted"))
	}
	if err != nil {
		return err
	}
	if conn.Status != store.ConnectionActive {
		return w.failPublication(ctx, run, p, errcode.New(errcode.ConnectionExpired,
			"%s connection %s (%s) is %s: reconnect the account and the post goes out", conn.Platform, conn.ID, conn.AccountName, conn.Status))
	}
	var meta outpost.PostSpec
	if len(p.Metadata) > 0 {
		if err := json.Unmarshal(p.Metadata, &meta); err != nil {
			return w.failPublication(ctx, run, p, errcode.Wrap(errcode.PostInvalid, err, "the stored post is unreadable"))
		}
	}
	var st publish.State
	if len(p.RemoteIDs) > 0 {
		if err := json.Unmarshal(p.RemoteIDs, &st); err != nil {
			return river.JobCancel(fmt.Errorf("publication %s remote ids: %w", p.ID, err))
		}
	}
	pub, err := w.connect.Publisher(p.Platform)
	if err != nil {
		return w.failPublication(ctx, run, p, err)
	}

	// Going out now.
	from := p.State
	p.State = store.PublicationUploading
	if from == store.PublicationProcessing || from == store.PublicationScheduled && p.PostURL != "" {
		p.State = from // processing, or scheduled on the platform: looking again
	}
	p.Attempts++
	p.ErrorCode, p.ErrorMessage = "", ""
	if p, err = w.store.TransitionPublication(ctx, p, store.PublicationPending, store.PublicationScheduled,
		store.PublicationUploading, store.PublicationProcessing); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil // canceled meanwhile
		}
		return err
	}
	run.pub = p
	w.publicationEvent(ctx, p, 0, r.SizeBytes)

	file, cleanup, err := w.files.BlobFile(ctx, r.BlobKey, job.ID)
	if err != nil {
		return w.publishFailed(ctx, run, err)
	}
	defer cleanup()

	pj := &publish.Job{
		Rendition: publish.Rendition{Path: file, Size: r.SizeBytes, Duration: time.Duration(r.Duration * float64(time.Second)),
			Width: r.Width, Height: r.Height, VideoCodec: r.VideoCodec, AudioCodec: r.AudioCodec},
		Post:  meta.Post(p.Platform, p.PresetID),
		State: &st,
		SaveFunc: func(ctx context.Context, st publish.State) error {
			b, err := json.Marshal(st)
			if err != nil {
				return err
			}
			if err := w.store.SavePublicationRemoteIDs(ctx, p.ID, b); err != nil {
				return err
			}
			// What this attempt writes of the publication later (failed,
			// scheduled on the platform) carries the saved ids, never the
			// ones it started with: a retry must resume, not post again.
			run.mu.Lock()
			run.pub.RemoteIDs = b
			run.mu.Unlock()
			return nil
		},
		ProgressFunc: func(sent, total int64) { w.publishProgress(ctx, run, sent, total) },
	}
	if path.Ext(r.BlobKey) == ".webm" {
		pj.Rendition.ContentType = "video/webm"
	}
	if native {
		pj.Post.ScheduleAt = *p.ScheduleAt
	}
	// The rendition's thumbnail goes with the post where the platform
	// takes one, unless an earlier attempt set it already.
	if r.ThumbnailKey != "" && pub.Features().Thumbnail && !st.IsDone("thumbnail") {
		thumb, cleanup, err := w.files.BlobFile(ctx, r.ThumbnailKey, job.ID)
		if err != nil {
			run.log.WarnContext(ctx, "thumbnail left out: its file cannot be read", "thumbnail_key", r.ThumbnailKey, "error", err)
		} else {
			defer cleanup()
			pj.Post.ThumbnailPath = thumb
		}
	}
	// So do its caption sidecar (YouTube captions.insert), in the
	// export's caption language.
	if r.CaptionsKey != "" && pub.Features().Captions && !st.IsDone("captions") {
		subs, cleanup, err := w.files.BlobFile(ctx, r.CaptionsKey, job.ID)
		if err != nil {
			run.log.WarnContext(ctx, "captions left out: their file cannot be read", "captions_key", r.CaptionsKey, "error", err)
		} else {
			defer cleanup()
			pj.Post.CaptionsPath = subs
			pj.Post.CaptionsLanguage = w.captionsLanguage(ctx, p.ExportID)
		}
	}

	for {
		// A token about to end is renewed first.
		if conn.TokenExpiresAt != nil && time.Until(*conn.TokenExpiresAt) < refreshAhead && connect.Refreshable(conn) && !run.refreshed {
			run.refreshed = true
			if conn, err = w.connect.Refresh(ctx, conn); err != nil {
				return w.publishFailed(ctx, run, err)
			}
		}
		if pj.Account, err = w.connect.Account(conn); err != nil {
			return w.publishFailed(ctx, run, err)
		}
		// A unit quota (YouTube) is reserved before the calls and settled
		// with what they cost after.
		hold, err := w.reserveQuota(ctx, pub, pj)
		if qw := (*quotaWaitError)(nil); errors.As(err, &qw) {
			run.log.InfoContext(ctx, "daily quota would be exceeded: waiting for the reset", "again_in", qw.wait)
			w.noteRetry(ctx, run.pub, &errcode.Error{Code: errcode.PlatformRateLimited, Message: qw.Error()})
			return river.JobSnooze(qw.wait)
		}
		if err != nil {
			return err
		}
		res, err := w.publishOnce(ctx, pub, pj, st.MediaID == "" && st.SessionURL == "" && st.UploadID == "")
		w.settleQuota(ctx, hold, res.QuotaUnits, err)
		if err == nil {
			return w.publishResult(ctx, run, pj, res)
		}
		if publish.ClassOf(err) != publish.AuthExpired || run.refreshed || ctx.Err() != nil {
			return w.publishFailed(ctx, run, err)
		}
		run.log.InfoContext(ctx, "the platform refused the token: refreshing it once", "error", err)
		run.refreshed = true
		if conn, err = w.connect.Refresh(ctx, conn); err != nil {
			return w.publishFailed(ctx, run, err)
		}
	}
}

// publishOnce validates (on the first attempt of a fresh upload: later ones
// resume what the platform already holds) and publishes.
func (w *publishWorker) publishOnce(ctx context.Context, pub publish.Publisher, pj *publish.Job, fresh bool) (publish.Result, error) {
	if fresh {
		if err := pub.Validate(ctx, pj.Rendition, pj.Post, pj.Account); err != nil {
			return publish.Result{}, err
		}
	}
	return pub.Publish(ctx, pj)
}

// publicationEvent stores a live "publication" event outside any
// transaction; a failure only loses this report.
func (w *publishWorker) publicationEvent(ctx context.Context, p store.Publication, sent, total int64) {
	if _, err := w.events.Publish(ctx, p.ExportID, events.TypePublication, PublicationEvent(p, sent, total)); err != nil && ctx.Err() == nil {
		w.logger.WarnContext(ctx, "report publication progress", "publication_id", p.ID, "error", err)
	}
}

// publishProgress reports bytes sent, at most every
// publishProgressInterval and at the end.
func (w *publishWorker) publishProgress(ctx context.Context, run *pubRun, sent, total int64) {
	run.mu.Lock()
	now := time.Now()
	if sent < total && now.Sub(run.sentAt) < publishProgressInterval {
		run.mu.Unlock()
		return
	}
	run.sentAt = now
	p := run.pub
	run.mu.Unlock()
	w.publicationEvent(ctx, p, sent, total)
}

// publishResult records a publish outcome: live (or natively scheduled) →
// published; still processing → snooze and look again.
func (w *publishWorker) publishResult(ctx context.Context, run *pubRun, pj *publish.Job, res publish.Result) error {
	p := run.pub
	b, err := json.Marshal(pj.State)
	if err != nil {
		return err
	}
	p.RemoteIDs = b
	for _, w := range res.Warnings {
		run.log.WarnContext(ctx, "publication warning", "warning", w)
	}
	if res.Status == publish.StatusScheduled && p.ScheduleAt != nil {
		return w.scheduledOnPlatform(ctx, run, pj, res)
	}
	switch res.Status {
	case publish.StatusPublished, publish.StatusScheduled:
		now := time.Now().UTC()
		p.State, p.PostURL, p.PublishedAt = store.PublicationPublished, res.PostURL, &now
		if p.PostURL == "" {
			p.PostURL = pj.State.PostURL
		}
		err := w.store.WithTx(context.WithoutCancel(ctx), func(tx *sql.Tx) error {
			var err error
			p, err = w.queue.FinishPublication(ctx, tx, p)
			return err
		})
		if errors.Is(err, store.ErrConflict) {
			return nil
		}
		if err != nil {
			return err
		}
		w.events.Notify(p.ExportID)
		run.log.InfoContext(ctx, "published", "post_url", p.PostURL)
		return nil
	case publish.StatusProcessing, publish.StatusUploading:
		p.State = store.PublicationProcessing
		if _, err := w.store.TransitionPublication(ctx, p, store.PublicationUploading, store.PublicationProcessing); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return nil
			}
			return err
		}
		w.publicationEvent(ctx, p, pj.Rendition.Size, pj.Rendition.Size)
		wait := res.PollAfter
		if wait <= 0 {
			wait = defaultSnooze
		}
		run.log.InfoContext(ctx, "the platform is still processing the upload", "remote", res.Remote, "again_in", wait)
		return river.JobSnooze(wait)
	}
	return w.failPublication(ctx, run, p, errcode.New(errcode.PlatformRejected, "%s answered %s (%s)", p.Platform, res.Status, res.Remote))
}

// publishFailed acts on a failed attempt by its class: transient → retry
// with backoff (fail on the last attempt), rate limited → snooze, expired
// auth (after the one refresh) or a dead grant → connection_expired,
// permanent → fail this publication only.
func (w *publishWorker) publishFailed(ctx context.Context, run *pubRun, err error) error {
	p := run.pub
	if ctx.Err() != nil {
		// Shutdown: the next attempt resumes from the saved state.
		return err
	}
	if errors.Is(err, connect.ErrExpired) {
		if c, gerr := w.store.GetConnection(context.WithoutCancel(ctx), p.ConnectionID); gerr == nil {
			if nerr := w.queue.NotifyExpired(ctx, c, err); nerr != nil {
				run.log.WarnContext(ctx, "send connection.expired", "error", nerr)
			}
		}
		return w.failPublication(ctx, run, p, err)
	}
	switch publish.ClassOf(err) {
	case publish.RateLimited:
		wait := publish.RetryAfterOf(err)
		if wait <= 0 {
			wait = defaultSnooze
		}
		run.log.InfoContext(ctx, "rate limited: waiting", "retry_after", wait, "error", err)
		w.noteRetry(ctx, p, err)
		return river.JobSnooze(wait)
	case publish.AuthExpired:
		// Refreshed, and still refused: the grant no longer covers posting.
		if c, gerr := w.store.GetConnection(ctx, p.ConnectionID); gerr == nil {
			if _, xerr := w.queue.ExpireConnection(ctx, c, err); xerr != nil {
				run.log.WarnContext(ctx, "mark connection expired", "error", xerr)
			}
		}
		return w.failPublication(ctx, run, p, &errcode.Error{Code: errcode.ConnectionExpired, Message: err.Error()})
	case publish.Permanent:
		return w.failPublication(ctx, run, p, err)
	}
	if permanent(errcode.Of(err)) {
		return w.failPublication(ctx, run, p, err)
	}
	if run.job.Attempt >= run.job.MaxAttempts {
		return w.failPublication(ctx, run, p, &errcode.Error{Code: errcode.PlatformUnavailable,
			Message: fmt.Sprintf("gave up after %d attempts: %v", run.job.Attempt, err)})
	}
	run.log.WarnContext(ctx, "publish failed; it will be retried", "error", err)
	w.noteRetry(ctx, p, err)
	return err
}

// noteRetry records on the publication, and tells watchers, why it waits
// for its next attempt: a retried failure is never silent.
func (w *publishWorker) noteRetry(ctx context.Context, p store.Publication, err error) {
	e := errcode.As(err)
	p.ErrorCode, p.ErrorMessage = e.Code, errMessage(err)
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if nerr := w.store.NotePublicationError(wctx, p.ID, p.ErrorCode, p.ErrorMessage); nerr != nil {
		w.logger.WarnContext(ctx, "record publication error", "publication_id", p.ID, "error", nerr)
	}
	w.publicationEvent(ctx, p, 0, 0)
}

func errMessage(err error) string {
	if pe, ok := publish.AsError(err); ok {
		msg := pe.Message
		if msg == "" && pe.Err != nil {
			msg = pe.Err.Error()
		}
		if pe.Raw != "" {
			msg += " (" + pe.Raw + ")"
		}
		return pe.Platform + ": " + msg
	}
	if e := errcode.As(err); e.Code != errcode.Internal && e.Message != "" {
		return e.Message
	}
	return err.Error()
}

// failPublication marks the publication failed with err's code and
// cancels the job (nothing a retry would change). The export and the other
// destinations are unaffected.
func (w *publishWorker) failPublication(ctx context.Context, run *pubRun, p store.Publication, err error) error {
	code := errcode.Of(err)
	if pe, ok := publish.AsError(err); ok {
		code = pe.ErrCode()
	}
	if code == errcode.Internal {
		code = errcode.PlatformRejected
	}
	msg := errMessage(err)
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	ferr := w.store.WithTx(wctx, func(tx *sql.Tx) error {
		var err error
		p, err = w.queue.FailPublication(wctx, tx, p, code, msg)
		return err
	})
	if ferr != nil && !errors.Is(ferr, store.ErrConflict) {
		return errors.Join(err, ferr)
	}
	w.events.Notify(p.ExportID)
	run.log.WarnContext(ctx, "publication failed", "error_code", code, "error", msg)
	return river.JobCancel(err)
}

// minScheduledRecheck is the shortest wait before looking again at a post
// the platform holds for its time.
const minScheduledRecheck = 2 * time.Second

// scheduledOnPlatform records a post uploaded and scheduled by the
// platform: the publication stays scheduled, with its post URL, its file
// is no longer needed, and the job looks again at the time to see it
// published.
func (w *publishWorker) scheduledOnPlatform(ctx context.Context, run *pubRun, pj *publish.Job, res publish.Result) error {
	p := run.pub
	p.State, p.PostURL = store.PublicationScheduled, cmp.Or(res.PostURL, pj.State.PostURL)
	err := w.store.WithTx(context.WithoutCancel(ctx), func(tx *sql.Tx) error {
		q := w.store.Using(tx)
		if err := q.LockExport(ctx, p.ExportID); err != nil {
			return err
		}
		var err error
		if p, err = q.TransitionPublication(ctx, p, store.PublicationUploading, store.PublicationProcessing, store.PublicationScheduled); err != nil {
			return err
		}
		if _, err := w.events.PublishTx(ctx, tx, p.ExportID, events.TypePublication, PublicationEvent(p, 0, 0)); err != nil {
			return err
		}
		if err := q.SyncRenditionPin(ctx, p.RenditionID); err != nil {
			return err
		}
		return w.queue.MaybeDone(ctx, tx, p.ExportID)
	})
	if errors.Is(err, store.ErrConflict) {
		return nil
	}
	if err != nil {
		return err
	}
	w.events.Notify(p.ExportID)
	wait := max(time.Until(*p.ScheduleAt)+time.Second, minScheduledRecheck)
	run.log.InfoContext(ctx, "scheduled on the platform", "post_url", p.PostURL, "publish_at", p.ScheduleAt, "again_in", wait)
	return river.JobSnooze(wait)
}

// captionsLanguage is the language of the export's captions as requested,
// "" (the publisher's default) when none was given or it cannot be read.
func (w *publishWorker) captionsLanguage(ctx context.Context, exportID string) string {
	e, err := w.store.GetExport(ctx, exportID)
	if err != nil {
		return ""
	}
	var req outpost.ExportSpec
	if json.Unmarshal(e.Request, &req) != nil || req.Captions == nil {
		return ""
	}
	return req.Captions.Language
}

// quotaResetMargin is waited past a quota reset, so that a publication
// snoozed until then does not arrive a moment before the platform resets.
const quotaResetMargin = time.Minute

// unitQuota is a publisher whose calls spend a daily unit quota per
// project (YouTube).
type unitQuota interface {
	// QuotaDay returns the quota day of t and the time until it resets.
	QuotaDay(t time.Time) (string, time.Duration)
	// QuotaEstimate returns the most units one Publish call may spend.
	QuotaEstimate(p publish.Post, st publish.State) int
}

// quotaHold is units reserved in the ledger for one Publish call.
type quotaHold struct {
	key      store.Quota
	reserved int64
	limit    int64
}

// quotaWaitError says the day's quota cannot cover the next call: the
// publication waits until the reset.
type quotaWaitError struct {
	platform string
	wait     time.Duration
}

func (e *quotaWaitError) Error() string {
	return fmt.Sprintf("%s: the project's daily quota would be exceeded; waiting %s for the reset", e.platform, e.wait.Round(time.Second))
}

// reserveQuota reserves in the ledger what the next Publish call may spend
// of the platform project's daily quota. It returns a nil hold for
// platforms without a unit quota, and a *quotaWaitError when the day's
// remaining quota is too small: the caller snoozes until the reset without
// calling the platform.
func (w *publishWorker) reserveQuota(ctx context.Context, pub publish.Publisher, pj *publish.Job) (*quotaHold, error) {
	uq, ok := pub.(unitQuota)
	platform := pub.Platform()
	limit := w.quotaPerDay[platform]
	if !ok || limit <= 0 || w.connect == nil {
		return nil, nil
	}
	day, reset := uq.QuotaDay(time.Now())
	h := &quotaHold{key: store.Quota{Platform: platform, Project: w.connect.ClientID(platform), Day: day},
		reserved: int64(uq.QuotaEstimate(pj.Post, *pj.State)), limit: limit}
	granted, err := w.store.ReserveQuota(ctx, h.key, h.reserved, limit)
	if err != nil {
		return nil, err
	}
	if !granted {
		return nil, &quotaWaitError{platform: platform, wait: reset + quotaResetMargin}
	}
	return h, nil
}

// settleQuota books what the call really spent in place of the
// reservation; when the platform said the quota is used up (another client
// of the project spent it), the day is marked used up, so that other
// publications wait without asking.
func (w *publishWorker) settleQuota(ctx context.Context, h *quotaHold, spent int, callErr error) {
	if h == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	err := w.store.AddQuota(ctx, h.key, int64(spent)-h.reserved)
	if err == nil && quotaExceeded(callErr) {
		err = w.store.ExhaustQuota(ctx, h.key, h.limit)
	}
	if err != nil {
		w.logger.WarnContext(ctx, "settle quota", "platform", h.key.Platform, "day", h.key.Day, "error", err)
	}
}

// quotaExceeded reports whether err is the platform's "daily quota used
// up" (YouTube's 403 quotaExceeded).
func quotaExceeded(err error) bool {
	pe, ok := publish.AsError(err)
	return ok && pe.Raw == "quotaExceeded"
}
