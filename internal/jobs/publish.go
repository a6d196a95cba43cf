package jobs

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"outpost/internal/blob"
	"outpost/internal/connect"
	"outpost/internal/errcode"
	"outpost/internal/events"
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
	s *Service
}

// Timeout: an upload of a large file takes long; the clients bound their
// polls and the context carries shutdown.
func (w *publishWorker) Timeout(*river.Job[PublishArgs]) time.Duration { return 6 * time.Hour }

// NextRetry backs off exponentially from Options.PublishRetryBase.
func (w *publishWorker) NextRetry(job *river.Job[PublishArgs]) time.Time {
	d := w.s.retryBase << max(job.Attempt-1, 0)
	if d <= 0 || d > maxPublishRetry {
		d = maxPublishRetry
	}
	return time.Now().Add(d)
}

func (w *publishWorker) Work(ctx context.Context, job *river.Job[PublishArgs]) error {
	return w.s.publish(ctx, job)
}

// pubRun is one attempt at one publication.
type pubRun struct {
	job *river.Job[PublishArgs]
	log *slog.Logger
	pub store.Publication
	// refreshed: the token was renewed in this attempt (AuthExpired gets
	// one refresh).
	refreshed bool

	mu     sync.Mutex
	sentAt time.Time
}

func (s *Service) publish(ctx context.Context, job *river.Job[PublishArgs]) error {
	run := &pubRun{job: job}
	run.log = s.logger.With("publication_id", job.Args.PublicationID, "job_id", job.ID, "attempt", job.Attempt)
	p, err := s.store.GetPublication(ctx, job.Args.PublicationID)
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
	if s.connect == nil {
		return s.failPublication(ctx, run, p, errcode.New(errcode.PlatformNotConfigured, "publishing is not configured on this server"))
	}
	// A future schedule is the platform's to keep where it can (the post
	// is uploaded now, scheduled there); elsewhere the job waits.
	native := s.nativeSchedule(p.Platform, p.ScheduleAt, time.Now())
	if !native && p.ScheduleAt != nil && time.Until(*p.ScheduleAt) > time.Second {
		return river.JobSnooze(time.Until(*p.ScheduleAt))
	}
	run.log = run.log.With("platform", p.Platform, "export_id", p.ExportID)

	r, err := s.store.GetRendition(ctx, p.RenditionID)
	if err != nil {
		return err
	}
	if r.Status != store.RenditionSucceeded || r.BlobKey == "" || r.DeletedAt != nil {
		return s.failPublication(ctx, run, p, errcode.New(errcode.FileNotFound, "the %s file is not available (%s)", r.PresetID, r.Status))
	}
	conn, err := s.store.GetConnection(ctx, p.ConnectionID)
	if errors.Is(err, store.ErrNotFound) {
		return s.failPublication(ctx, run, p, errcode.New(errcode.ConnectionExpired, "the connection was deleted"))
	}
	if err != nil {
		return err
	}
	if conn.Status != store.ConnectionActive {
		return s.failPublication(ctx, run, p, errcode.New(errcode.ConnectionExpired,
			"%s connection %s (%s) is %s: reconnect the account and the post goes out", conn.Platform, conn.ID, conn.AccountName, conn.Status))
	}
	var meta postMeta
	if len(p.Metadata) > 0 {
		if err := json.Unmarshal(p.Metadata, &meta); err != nil {
			return s.failPublication(ctx, run, p, errcode.Wrap(errcode.PostInvalid, err, "the stored post is unreadable"))
		}
	}
	var st publish.State
	if len(p.RemoteIDs) > 0 {
		if err := json.Unmarshal(p.RemoteIDs, &st); err != nil {
			return river.JobCancel(fmt.Errorf("publication %s remote ids: %w", p.ID, err))
		}
	}
	pub, err := s.connect.Publisher(p.Platform)
	if err != nil {
		return s.failPublication(ctx, run, p, err)
	}

	// Going out now.
	from := p.State
	p.State = store.PublicationUploading
	if from == store.PublicationProcessing || from == store.PublicationScheduled && p.PostURL != "" {
		p.State = from // processing, or scheduled on the platform: looking again
	}
	p.Attempts++
	p.ErrorCode, p.ErrorMessage = "", ""
	if p, err = s.store.TransitionPublication(ctx, p, store.PublicationPending, store.PublicationScheduled,
		store.PublicationUploading, store.PublicationProcessing); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil // canceled meanwhile
		}
		return err
	}
	run.pub = p
	s.publicationEvent(ctx, p, 0, r.SizeBytes)

	file, cleanup, err := s.renditionFile(ctx, r, job)
	if err != nil {
		return s.publishFailed(ctx, run, err)
	}
	defer cleanup()

	pj := &publish.Job{
		Rendition: publish.Rendition{Path: file, Size: r.SizeBytes, Duration: time.Duration(r.Duration * float64(time.Second)),
			Width: r.Width, Height: r.Height, VideoCodec: r.VideoCodec, AudioCodec: r.AudioCodec},
		Post:  meta.post(p.Platform, p.PresetID),
		State: &st,
		SaveFunc: func(ctx context.Context, st publish.State) error {
			b, err := json.Marshal(st)
			if err != nil {
				return err
			}
			return s.store.SavePublicationRemoteIDs(ctx, p.ID, b)
		},
		ProgressFunc: func(sent, total int64) { s.publishProgress(ctx, run, sent, total) },
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
		thumb, cleanup, err := s.blobFile(ctx, r.ThumbnailKey, job)
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
		subs, cleanup, err := s.blobFile(ctx, r.CaptionsKey, job)
		if err != nil {
			run.log.WarnContext(ctx, "captions left out: their file cannot be read", "captions_key", r.CaptionsKey, "error", err)
		} else {
			defer cleanup()
			pj.Post.CaptionsPath = subs
			pj.Post.CaptionsLanguage = s.captionsLanguage(ctx, p.ExportID)
		}
	}

	for {
		// A token about to end is renewed first.
		if conn.TokenExpiresAt != nil && time.Until(*conn.TokenExpiresAt) < refreshAhead && connect.Refreshable(conn) && !run.refreshed {
			run.refreshed = true
			if conn, err = s.connect.Refresh(ctx, conn); err != nil {
				return s.publishFailed(ctx, run, err)
			}
		}
		if pj.Account, err = s.connect.Account(conn); err != nil {
			return s.publishFailed(ctx, run, err)
		}
		// A unit quota (YouTube) is reserved before the calls and settled
		// with what they cost after.
		hold, err := s.reserveQuota(ctx, pub, pj)
		if qw := (*quotaWaitError)(nil); errors.As(err, &qw) {
			run.log.InfoContext(ctx, "daily quota would be exceeded: waiting for the reset", "again_in", qw.wait)
			s.noteRetry(ctx, run.pub, &errcode.Error{Code: errcode.PlatformRateLimited, Message: qw.Error()})
			return river.JobSnooze(qw.wait)
		}
		if err != nil {
			return err
		}
		res, err := s.publishOnce(ctx, pub, pj, st.MediaID == "" && st.SessionURL == "" && st.UploadID == "")
		s.settleQuota(ctx, hold, res.QuotaUnits, err)
		if err == nil {
			return s.publishResult(ctx, run, pj, res)
		}
		if publish.ClassOf(err) != publish.AuthExpired || run.refreshed || ctx.Err() != nil {
			return s.publishFailed(ctx, run, err)
		}
		run.log.InfoContext(ctx, "the platform refused the token: refreshing it once", "error", err)
		run.refreshed = true
		if conn, err = s.connect.Refresh(ctx, conn); err != nil {
			return s.publishFailed(ctx, run, err)
		}
	}
}

// publishOnce validates (on the first attempt of a fresh upload: later ones
// resume what the platform already holds) and publishes.
func (s *Service) publishOnce(ctx context.Context, pub publish.Publisher, pj *publish.Job, fresh bool) (publish.Result, error) {
	if fresh {
		if err := pub.Validate(ctx, pj.Rendition, pj.Post, pj.Account); err != nil {
			return publish.Result{}, err
		}
	}
	return pub.Publish(ctx, pj)
}

// renditionFile returns a local path of the rendition's file: the blob
// itself for local storage, else a copy in the work dir.
func (s *Service) renditionFile(ctx context.Context, r store.Rendition, job *river.Job[PublishArgs]) (string, func(), error) {
	return s.blobFile(ctx, r.BlobKey, job)
}

// blobFile returns a local path of the blob at key: the blob itself for
// local storage, else a copy in the work dir.
func (s *Service) blobFile(ctx context.Context, key string, job *river.Job[PublishArgs]) (string, func(), error) {
	if s.localBlobDir != "" {
		p := filepath.Join(s.localBlobDir, filepath.FromSlash(key))
		if _, err := os.Stat(p); err == nil {
			return p, func() {}, nil
		}
	}
	rd, err := s.blob.Open(ctx, key)
	if errors.Is(err, blob.ErrNotFound) {
		return "", nil, errcode.Wrap(errcode.FileNotFound, err, "the file to post is gone from storage")
	}
	if err != nil {
		return "", nil, fmt.Errorf("open %s: %w", key, err)
	}
	defer rd.Close()
	if err := os.MkdirAll(s.workDir, 0o750); err != nil {
		return "", nil, fmt.Errorf("create work dir: %w", err)
	}
	f, err := os.CreateTemp(s.workDir, fmt.Sprintf("publish-%d-*%s", job.ID, path.Ext(key)))
	if err != nil {
		return "", nil, fmt.Errorf("create copy of %s: %w", key, err)
	}
	cleanup := func() { _ = os.Remove(f.Name()) }
	if _, err := io.Copy(f, rd); err != nil {
		_ = f.Close()
		cleanup()
		return "", nil, fmt.Errorf("copy %s: %w", key, err)
	}
	if err := f.Close(); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("copy %s: %w", key, err)
	}
	return f.Name(), cleanup, nil
}

// publicationEvent stores a live "publication" event outside any
// transaction; a failure only loses this report.
func (s *Service) publicationEvent(ctx context.Context, p store.Publication, sent, total int64) {
	if _, err := s.events.Publish(ctx, p.ExportID, events.TypePublication, publicationEvent(p, sent, total)); err != nil && ctx.Err() == nil {
		s.logger.WarnContext(ctx, "report publication progress", "publication_id", p.ID, "error", err)
	}
}

// publishProgress reports bytes sent, at most every
// publishProgressInterval and at the end.
func (s *Service) publishProgress(ctx context.Context, run *pubRun, sent, total int64) {
	run.mu.Lock()
	now := time.Now()
	if sent < total && now.Sub(run.sentAt) < publishProgressInterval {
		run.mu.Unlock()
		return
	}
	run.sentAt = now
	run.mu.Unlock()
	s.publicationEvent(ctx, run.pub, sent, total)
}

// publishResult records a publish outcome: live (or natively scheduled) →
// published; still processing → snooze and look again.
func (s *Service) publishResult(ctx context.Context, run *pubRun, pj *publish.Job, res publish.Result) error {
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
		return s.scheduledOnPlatform(ctx, run, pj, res)
	}
	switch res.Status {
	case publish.StatusPublished, publish.StatusScheduled:
		now := time.Now().UTC()
		p.State, p.PostURL, p.PublishedAt = store.PublicationPublished, res.PostURL, &now
		if p.PostURL == "" {
			p.PostURL = pj.State.PostURL
		}
		err := s.store.WithTx(context.WithoutCancel(ctx), func(tx *sql.Tx) error {
			var err error
			p, err = s.finishPublicationTx(ctx, tx, p)
			return err
		})
		if errors.Is(err, store.ErrConflict) {
			return nil
		}
		if err != nil {
			return err
		}
		s.events.Notify(p.ExportID)
		run.log.InfoContext(ctx, "published", "post_url", p.PostURL)
		return nil
	case publish.StatusProcessing, publish.StatusUploading:
		p.State = store.PublicationProcessing
		if _, err := s.store.TransitionPublication(ctx, p, store.PublicationUploading, store.PublicationProcessing); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return nil
			}
			return err
		}
		s.publicationEvent(ctx, p, pj.Rendition.Size, pj.Rendition.Size)
		wait := res.PollAfter
		if wait <= 0 {
			wait = defaultSnooze
		}
		run.log.InfoContext(ctx, "the platform is still processing the upload", "remote", res.Remote, "again_in", wait)
		return river.JobSnooze(wait)
	}
	return s.failPublication(ctx, run, p, errcode.New(errcode.PlatformRejected, "%s answered %s (%s)", p.Platform, res.Status, res.Remote))
}

// publishFailed acts on a failed attempt by its class: transient → retry
// with backoff (fail on the last attempt), rate limited → snooze, expired
// auth (after the one refresh) or a dead grant → connection_expired,
// permanent → fail this publication only.
func (s *Service) publishFailed(ctx context.Context, run *pubRun, err error) error {
	p := run.pub
	if ctx.Err() != nil {
		// Shutdown: the next attempt resumes from the saved state.
		return err
	}
	if errors.Is(err, connect.ErrExpired) {
		if c, gerr := s.store.GetConnection(context.WithoutCancel(ctx), p.ConnectionID); gerr == nil {
			if nerr := s.notifyExpired(ctx, c, err); nerr != nil {
				run.log.WarnContext(ctx, "send connection.expired", "error", nerr)
			}
		}
		return s.failPublication(ctx, run, p, err)
	}
	switch publish.ClassOf(err) {
	case publish.RateLimited:
		wait := publish.RetryAfterOf(err)
		if wait <= 0 {
			wait = defaultSnooze
		}
		run.log.InfoContext(ctx, "rate limited: waiting", "retry_after", wait, "error", err)
		s.noteRetry(ctx, p, err)
		return river.JobSnooze(wait)
	case publish.AuthExpired:
		// Refreshed, and still refused: the grant no longer covers posting.
		if c, gerr := s.store.GetConnection(ctx, p.ConnectionID); gerr == nil {
			if _, xerr := s.expireConnection(ctx, c, err); xerr != nil {
				run.log.WarnContext(ctx, "mark connection expired", "error", xerr)
			}
		}
		return s.failPublication(ctx, run, p, &errcode.Error{Code: errcode.ConnectionExpired, Message: err.Error()})
	case publish.Permanent:
		return s.failPublication(ctx, run, p, err)
	}
	if code := errcode.Of(err); code == errcode.FileNotFound || code == errcode.PlatformNotConfigured {
		return s.failPublication(ctx, run, p, err)
	}
	if run.job.Attempt >= run.job.MaxAttempts {
		return s.failPublication(ctx, run, p, &errcode.Error{Code: errcode.PlatformUnavailable,
			Message: fmt.Sprintf("gave up after %d attempts: %v", run.job.Attempt, err)})
	}
	run.log.WarnContext(ctx, "publish failed; it will be retried", "error", err)
	s.noteRetry(ctx, p, err)
	return err
}

// noteRetry tells watchers why the publication waits.
func (s *Service) noteRetry(ctx context.Context, p store.Publication, err error) {
	e := errcode.As(err)
	p.ErrorCode, p.ErrorMessage = e.Code, errMessage(err)
	s.publicationEvent(ctx, p, 0, 0)
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
func (s *Service) failPublication(ctx context.Context, run *pubRun, p store.Publication, err error) error {
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
	ferr := s.store.WithTx(wctx, func(tx *sql.Tx) error {
		var err error
		p, err = s.failPublicationTx(wctx, tx, p, code, msg)
		return err
	})
	if ferr != nil && !errors.Is(ferr, store.ErrConflict) {
		return errors.Join(err, ferr)
	}
	s.events.Notify(p.ExportID)
	run.log.WarnContext(ctx, "publication failed", "error_code", code, "error", msg)
	return river.JobCancel(err)
}

// nativeSchedule reports whether a publication due at at is left to the
// platform's own scheduling: the platform has it and at is within its
// range (Facebook: 10 minutes to 30 days ahead).
func (s *Service) nativeSchedule(platform string, at *time.Time, now time.Time) bool {
	if at == nil || s.connect == nil || !at.After(now.Add(time.Second)) {
		return false
	}
	pub, err := s.connect.Publisher(platform)
	if err != nil {
		return false
	}
	f, d := pub.Features(), at.Sub(now)
	return f.NativeSchedule && d >= f.MinScheduleAhead && (f.MaxScheduleAhead <= 0 || d <= f.MaxScheduleAhead)
}

// minScheduledRecheck is the shortest wait before looking again at a post
// the platform holds for its time.
const minScheduledRecheck = 2 * time.Second

// scheduledOnPlatform records a post uploaded and scheduled by the
// platform: the publication stays scheduled, with its post URL, its file
// is no longer needed, and the job looks again at the time to see it
// published.
func (s *Service) scheduledOnPlatform(ctx context.Context, run *pubRun, pj *publish.Job, res publish.Result) error {
	p := run.pub
	p.State, p.PostURL = store.PublicationScheduled, cmp(res.PostURL, pj.State.PostURL)
	err := s.store.WithTx(context.WithoutCancel(ctx), func(tx *sql.Tx) error {
		q := s.store.Using(tx)
		if err := q.LockExport(ctx, p.ExportID); err != nil {
			return err
		}
		var err error
		if p, err = q.TransitionPublication(ctx, p, store.PublicationUploading, store.PublicationProcessing, store.PublicationScheduled); err != nil {
			return err
		}
		if _, err := s.events.PublishTx(ctx, tx, p.ExportID, events.TypePublication, publicationEvent(p, 0, 0)); err != nil {
			return err
		}
		if err := q.SyncRenditionPin(ctx, p.RenditionID); err != nil {
			return err
		}
		return s.maybeDoneTx(ctx, tx, p.ExportID)
	})
	if errors.Is(err, store.ErrConflict) {
		return nil
	}
	if err != nil {
		return err
	}
	s.events.Notify(p.ExportID)
	wait := max(time.Until(*p.ScheduleAt)+time.Second, minScheduledRecheck)
	run.log.InfoContext(ctx, "scheduled on the platform", "post_url", p.PostURL, "publish_at", p.ScheduleAt, "again_in", wait)
	return river.JobSnooze(wait)
}

// captionsLanguage is the language of the export's captions as requested,
// "" (the publisher's default) when none was given or it cannot be read.
func (s *Service) captionsLanguage(ctx context.Context, exportID string) string {
	e, err := s.store.GetExport(ctx, exportID)
	if err != nil {
		return ""
	}
	var req storedRequest
	if json.Unmarshal(e.Request, &req) != nil || req.Captions == nil {
		return ""
	}
	return req.Captions.Language
}
