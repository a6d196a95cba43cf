package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"outpost/internal/errcode"
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
	s *Service
}

func (w *cleanupWorker) Timeout(*river.Job[CleanupArgs]) time.Duration { return 10 * time.Minute }

func (w *cleanupWorker) Work(ctx context.Context, _ *river.Job[CleanupArgs]) error {
	res, err := w.s.Cleanup(ctx, time.Now())
	if res != (CleanupResult{}) {
		w.s.logger.InfoContext(ctx, "cleanup", "renditions_deleted", res.RenditionsDeleted,
			"idempotency_keys", res.IdempotencyKeys, "sessions", res.Sessions, "events", res.Events,
			"nodes", res.Nodes, "exports_failed", res.ExportsFailed)
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
}

// Cleanup deletes, as of now, the files of expired renditions (unless saved,
// pinned or still needed by an open publication), and prunes idempotency
// keys, sessions, old progress events and silent nodes. It also fails live
// exports whose job no longer exists. It runs every CleanupInterval on one
// node (River's leader); it is safe to run anywhere, any time.
func (s *Service) Cleanup(ctx context.Context, now time.Time) (CleanupResult, error) {
	var res CleanupResult
	var errs []error
	n, err := s.deleteExpired(ctx, now)
	res.RenditionsDeleted = n
	errs = append(errs, err)
	res.IdempotencyKeys, err = s.store.DeleteIdempotencyKeysBefore(ctx, now.Add(-idempotencyKeyRetention))
	errs = append(errs, err)
	res.Sessions, err = s.store.DeleteExpiredSessions(ctx, now)
	errs = append(errs, err)
	res.Events, err = s.store.DeleteExportEventsBefore(ctx, "progress", now.Add(-progressEventRetention))
	errs = append(errs, err)
	res.Nodes, err = s.store.DeleteNodesBefore(ctx, now.Add(-deadNodeRetention))
	errs = append(errs, err)
	res.ExportsFailed, err = s.failOrphanedExports(ctx, now)
	errs = append(errs, err)
	res.PublicationsFailed, err = s.failOrphanedPublications(ctx, now)
	errs = append(errs, err)
	res.OAuthStates, err = s.store.DeleteOAuthStatesBefore(ctx, now)
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return res, fmt.Errorf("cleanup: %w", err)
	}
	return res, nil
}

// deleteExpired deletes the files of renditions expired at now.
func (s *Service) deleteExpired(ctx context.Context, now time.Time) (int, error) {
	deleted := 0
	kept := map[string]bool{} // needed by a publication: skipped this round
	for {
		rs, err := s.store.ListExpiredRenditions(ctx, now, cleanupBatch+len(kept))
		if err != nil {
			return deleted, err
		}
		progress := false
		for _, r := range rs {
			if kept[r.ID] {
				continue
			}
			if n, err := s.store.CountOpenPublications(ctx, r.ID); err != nil {
				return deleted, err
			} else if n > 0 {
				kept[r.ID] = true
				continue
			}
			for _, key := range []string{r.ThumbnailKey, r.CaptionsKey} {
				if key == "" {
					continue
				}
				if err := s.blob.Delete(ctx, key); err != nil {
					return deleted, fmt.Errorf("delete %s: %w", key, err)
				}
			}
			// The video, unless another rendition shares it and stays.
			if r.BlobKey != "" {
				if err := s.releaseFile(ctx, r.BlobKey, r.ID); err != nil {
					return deleted, err
				}
			}
			if err := s.store.MarkRenditionDeleted(ctx, r.ID, now); err != nil {
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
func (s *Service) failOrphanedExports(ctx context.Context, now time.Time) (int, error) {
	live, err := s.store.ListLiveExportJobs(ctx, now.Add(-stuckExportAfter))
	if err != nil {
		return 0, err
	}
	failed := 0
	for _, lj := range live {
		job, err := s.client.JobGet(ctx, lj.JobID)
		switch {
		case errors.Is(err, river.ErrNotFound):
		case err != nil:
			return failed, err
		case job.FinalizedAt == nil && job.State != rivertype.JobStateCompleted &&
			job.State != rivertype.JobStateCancelled && job.State != rivertype.JobStateDiscarded:
			continue // still queued, retrying or running
		}
		if err := s.failExport(ctx, lj.ExportID, errcode.New(errcode.RenderFailed,
			"the export's render job ended without finishing it")); err != nil {
			return failed, err
		}
		failed++
	}
	return failed, nil
}
