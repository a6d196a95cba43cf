package jobs

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"outpost/internal/blob"
	"outpost/internal/errcode"
	"outpost/internal/store"
	"outpost/internal/throttle"
)

// KindCleanup is the periodic cleanup job's kind.
const KindCleanup = "outpost.cleanup"

// Retention of the small records the cleanup prunes.
const (
	idempotencyKeyRetention = 24 * time.Hour
	progressEventRetention  = 24 * time.Hour
	deadNodeRetention       = 24 * time.Hour
	// stuckExportAfter is how long a live export may go without an update
	// before the cleanup checks that its job still exists.
	stuckExportAfter = 10 * time.Minute
	cleanupBatch     = 200
)

// CleanupArgs are the periodic cleanup job's arguments.
type CleanupArgs struct{}

// Kind implements river.JobArgs.
func (CleanupArgs) Kind() string { return KindCleanup }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (CleanupArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueDefault, MaxAttempts: 3}
}

type cleanupWorker struct {
	river.WorkerDefaults[CleanupArgs]
	store  *store.Store
	blob   *blob.Store
	queue  *Queue
	logger *slog.Logger
	// throttle's failure records past every window are purged.
	throttle *throttle.Throttle
	// historyRetention, when positive, is how long finished exports
	// whose files are gone stay in the history.
	historyRetention time.Duration
}

func (w *cleanupWorker) Timeout(*river.Job[CleanupArgs]) time.Duration { return 10 * time.Minute }

func (w *cleanupWorker) Work(ctx context.Context, _ *river.Job[CleanupArgs]) error {
	res, err := w.run(ctx, time.Now())
	if res != (CleanupResult{}) {
		w.logger.InfoContext(ctx, "cleanup", "renditions_deleted", res.RenditionsDeleted,
			"idempotency_keys", res.IdempotencyKeys, "sessions", res.Sessions, "events", res.Events,
			"nodes", res.Nodes, "exports_failed", res.ExportsFailed, "auth_failures", res.AuthFailures,
			"history_deleted", res.HistoryDeleted)
	}
	return err
}

// CleanupResult counts what a cleanup removed.
type CleanupResult struct {
	RenditionsDeleted  int   // files past retention, deleted from storage
	IdempotencyKeys    int64 // records older than a day
	Sessions           int64 // expired sessions
	Events             int64 // progress events older than a day
	Nodes              int64 // worker nodes silent for a day
	ExportsFailed      int   // live exports whose job is gone
	PublicationsFailed int   // live publications whose job is gone
	OAuthStates        int64 // authorizations never completed, expired
	AuthFailures       int64 // failed sign-ins and bad keys past every throttling window
	HistoryDeleted     int64 // finished exports past OUTPOST_HISTORY_RETENTION
}

// run deletes, as of now, the files of expired renditions (unless saved,
// pinned or still needed by an open publication), and prunes idempotency
// keys, sessions, old progress events and silent nodes. It also fails live
// exports whose job no longer exists. It runs every CleanupInterval on one
// node (River's leader); it is safe to run anywhere, any time.
func (w *cleanupWorker) run(ctx context.Context, now time.Time) (CleanupResult, error) {
	var res CleanupResult
	var errs []error
	n, err := w.deleteExpired(ctx, now)
	res.RenditionsDeleted = n
	errs = append(errs, err)
	res.IdempotencyKeys, err = w.store.DeleteIdempotencyKeysBefore(ctx, now.Add(-idempotencyKeyRetention))
	errs = append(errs, err)
	res.Sessions, err = w.store.DeleteExpiredSessions(ctx, now)
	errs = append(errs, err)
	res.Events, err = w.store.DeleteExportEventsBefore(ctx, "progress", now.Add(-progressEventRetention))
	errs = append(errs, err)
	res.Nodes, err = w.store.DeleteNodesBefore(ctx, now.Add(-deadNodeRetention))
	errs = append(errs, err)
	res.ExportsFailed, err = w.failOrphanedExports(ctx, now)
	errs = append(errs, err)
	res.PublicationsFailed, err = w.failOrphanedPublications(ctx, now)
	errs = append(errs, err)
	res.OAuthStates, err = w.store.DeleteOAuthStatesBefore(ctx, now)
	errs = append(errs, err)
	if w.throttle != nil {
		res.AuthFailures, err = w.throttle.Purge(ctx)
		errs = append(errs, err)
	}
	res.HistoryDeleted, err = w.deleteHistory(ctx, now)
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return res, fmt.Errorf("cleanup: %w", err)
	}
	return res, nil
}

// deleteExpired deletes the files of renditions expired at now.
func (w *cleanupWorker) deleteExpired(ctx context.Context, now time.Time) (int, error) {
	deleted := 0
	kept := map[string]bool{} // needed by a publication: skipped this round
	for {
		rs, err := w.store.ListExpiredRenditions(ctx, now, cleanupBatch+len(kept))
		if err != nil {
			return deleted, err
		}
		progress := false
		for _, r := range rs {
			if kept[r.ID] {
				continue
			}
			if n, err := w.store.CountOpenPublications(ctx, r.ID); err != nil {
				return deleted, err
			} else if n > 0 {
				kept[r.ID] = true
				continue
			}
			for _, key := range []string{r.BlobKey, r.ThumbnailKey, r.CaptionsKey} {
				if key == "" {
					continue
				}
				if err := w.blob.Delete(ctx, key); err != nil {
					return deleted, fmt.Errorf("delete %s: %w", key, err)
				}
			}
			if err := w.store.MarkRenditionDeleted(ctx, r.ID, now); err != nil {
				return deleted, err
			}
			deleted++
			progress = true
		}
		if !progress || len(rs) < cleanupBatch+len(kept) {
			return deleted, nil
		}
	}
}

// failOrphanedExports fails queued or running exports, quiet for a while,
// whose render job is finalized or gone (River discarded it, or an operator
// deleted it): nothing would ever finish them.
func (w *cleanupWorker) failOrphanedExports(ctx context.Context, now time.Time) (int, error) {
	live, err := w.store.ListLiveExportJobs(ctx, now.Add(-stuckExportAfter))
	if err != nil {
		return 0, err
	}
	failed := 0
	for _, lj := range live {
		_, ended, err := w.jobEnded(ctx, lj.JobID)
		if err != nil {
			return failed, err
		}
		if !ended {
			continue // still queued, retrying or running
		}
		if err := w.queue.FailExport(ctx, lj.ExportID, errcode.New(errcode.RenderFailed,
			"the export's render job ended without finishing it")); err != nil {
			return failed, err
		}
		failed++
	}
	return failed, nil
}

// jobEnded reports whether a job is finalized or gone (a nil job): nothing
// will run it again.
func (w *cleanupWorker) jobEnded(ctx context.Context, jobID int64) (*rivertype.JobRow, bool, error) {
	job, err := w.queue.client.JobGet(ctx, jobID)
	switch {
	case errors.Is(err, river.ErrNotFound):
		return nil, true, nil
	case err != nil:
		return nil, false, err
	}
	return job, job.FinalizedAt != nil || job.State == rivertype.JobStateCompleted ||
		job.State == rivertype.JobStateCancelled || job.State == rivertype.JobStateDiscarded, nil
}

// Sweep of abandoned and stuck publications.
const (
	// stuckPublicationAfter: a live publication quiet this long is checked
	// against its job (a snoozed or retrying job is left alone).
	stuckPublicationAfter = 10 * time.Minute
	stuckPublicationBatch = 500
	// stuckPublicationLimit is how long a publication a node works
	// (uploading, processing) may go without any change while its job
	// still exists: every attempt, saved upload step and retried error
	// changes it, an attempt lasts at most publishTimeout and the next one
	// comes within maxPublishRetry. Quieter than that, nothing is moving
	// it (a node that hangs, a job no node takes).
	stuckPublicationLimit = publishTimeout + maxPublishRetry
)

// failOrphanedPublications fails live publications, quiet for a while,
// whose publish job is finalized or gone (River discarded it after its
// last attempt ended in a crash or a timeout, or an operator deleted it):
// nothing would ever finish them, and their pin would keep the file
// forever. The publication fails with publication_abandoned. One whose
// job still exists but that sat uploading or processing past
// stuckPublicationLimit is reported stuck: its job is canceled and it
// fails with publication_stuck, naming the node that last worked on it
// and the last error, so that it is not left uploading.
func (w *cleanupWorker) failOrphanedPublications(ctx context.Context, now time.Time) (int, error) {
	live, err := w.store.ListLivePublicationJobs(ctx, now.Add(-stuckPublicationAfter), stuckPublicationBatch)
	if err != nil {
		return 0, err
	}
	failed := 0
	for _, p := range live {
		job, ended, err := w.jobEnded(ctx, p.JobID)
		if err != nil {
			return failed, err
		}
		code, why := errcode.PublicationAbandoned, ""
		switch {
		case ended:
			why = "the publication did not finish: its publish job no longer exists"
			if job != nil {
				why = fmt.Sprintf("the publication did not finish: its publish job ended (%s after %d attempts)", job.State, job.Attempt)
				if n := len(job.Errors); n > 0 {
					why += ": " + job.Errors[n-1].Error
				}
			}
		case stuck(p, now):
			code, why = errcode.PublicationStuck, w.stuckReason(ctx, p, job, now)
		default:
			continue // queued, snoozed, retrying or running
		}
		err = w.store.WithTx(ctx, func(tx *sql.Tx) error {
			// Under the export's lock, the publication must be as listed:
			// a reschedule or a reconnect may have given it a new job.
			q := w.store.Using(tx)
			if err := q.LockExport(ctx, p.ExportID); err != nil {
				return err
			}
			cur, err := q.GetPublication(ctx, p.ID)
			if err != nil {
				return err
			}
			if cur.JobID != p.JobID || cur.State != p.State || !cur.UpdatedAt.Equal(p.UpdatedAt) {
				return store.ErrConflict
			}
			if !ended {
				// Stuck: its job must not go on behind the failure.
				if err := w.queue.CancelJob(ctx, tx, p.JobID); err != nil {
					return err
				}
			}
			if err := q.InterruptSteps(ctx, p.ExportID, p.ID); err != nil {
				return err
			}
			_, err = w.queue.FailPublication(ctx, tx, cur, code, why)
			return err
		})
		if errors.Is(err, store.ErrConflict) {
			continue // it moved on meanwhile
		}
		if err != nil {
			return failed, fmt.Errorf("fail %s publication %s: %w", code, p.ID, err)
		}
		w.queue.Notify(p.ExportID)
		w.logger.WarnContext(ctx, "publication failed by the sweep", "publication_id", p.ID, "job_id", p.JobID,
			"error_code", code, "reason", why)
		failed++
	}
	return failed, nil
}

// stuck reports whether p, in a state a node works, has gone without a
// change past stuckPublicationLimit at now.
func stuck(p store.Publication, now time.Time) bool {
	return (p.State == store.PublicationUploading || p.State == store.PublicationProcessing) &&
		now.Sub(p.UpdatedAt) > stuckPublicationLimit
}

// stuckReason says how long p sat in its state, which node last worked on
// it and its last error (the one recorded on it, else its job's).
func (w *cleanupWorker) stuckReason(ctx context.Context, p store.Publication, job *rivertype.JobRow, now time.Time) string {
	why := fmt.Sprintf("the publication sat %s for %s without a change", p.State, now.Sub(p.UpdatedAt).Round(time.Minute))
	node := ""
	if steps, err := w.store.ListSteps(ctx, p.ExportID); err == nil {
		for _, s := range steps {
			if s.PublicationID == p.ID {
				node = fmt.Sprintf("%s (attempt %d)", s.Node, s.Attempt)
			}
		}
	}
	if node == "" && job != nil && len(job.AttemptedBy) > 0 {
		node = job.AttemptedBy[len(job.AttemptedBy)-1]
	}
	if node != "" {
		why += "; last worked on by node " + node
	}
	last := p.ErrorMessage
	if last == "" && job != nil && len(job.Errors) > 0 {
		last = job.Errors[len(job.Errors)-1].Error
	}
	if last == "" {
		last = "none recorded"
	}
	return why + "; last error: " + last
}

// deleteHistory deletes the finished exports created before now minus the
// history retention whose files are gone (in batches), and records how
// many in the instance's audit log.
func (w *cleanupWorker) deleteHistory(ctx context.Context, now time.Time) (int64, error) {
	if w.historyRetention <= 0 {
		return 0, nil
	}
	before := now.Add(-w.historyRetention)
	var total int64
	for {
		n, err := w.store.DeleteHistoryBefore(ctx, before, cleanupBatch)
		total += n
		if err != nil || n < cleanupBatch {
			if total > 0 {
				d, _ := json.Marshal(map[string]any{"exports": total, "before": before.UTC()})
				if _, aerr := w.store.InsertAuditEvent(ctx, store.AuditEvent{ActorType: store.ActorSystem, ActorName: "history retention",
					Action: store.AuditHistoryRetentionRan, Details: d}); aerr != nil {
					err = errors.Join(err, aerr)
				}
			}
			return total, err
		}
	}
}
