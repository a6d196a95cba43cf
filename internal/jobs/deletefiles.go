package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"outpost/internal/blob"
)

// KindDeleteFiles is the job that deletes the files of deleted records.
const KindDeleteFiles = "outpost.delete_files"

// deleteFilesBatch is how many keys one job carries.
const deleteFilesBatch = 500

// DeleteFilesArgs are the blob keys to delete: files that no record holds
// any more (a deleted export's, project's or workspace's).
type DeleteFilesArgs struct {
	Keys []string `json:"keys"`
}

// Kind implements river.JobArgs.
func (DeleteFilesArgs) Kind() string { return KindDeleteFiles }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (DeleteFilesArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueDefault, MaxAttempts: 10}
}

type deleteFilesWorker struct {
	river.WorkerDefaults[DeleteFilesArgs]
	blob *blob.Store
}

func (w *deleteFilesWorker) Timeout(*river.Job[DeleteFilesArgs]) time.Duration {
	return 10 * time.Minute
}

func (w *deleteFilesWorker) Work(ctx context.Context, job *river.Job[DeleteFilesArgs]) error {
	_, err := DeleteFiles(ctx, w.blob, job.Args.Keys)
	return err
}

// DeleteFiles deletes the files at keys (a missing one is no error) and
// returns how many it deleted before the first failure.
func DeleteFiles(ctx context.Context, b *blob.Store, keys []string) (int, error) {
	for i, k := range keys {
		if err := b.Delete(ctx, k); err != nil && !errors.Is(err, blob.ErrNotFound) {
			return i, fmt.Errorf("delete file: %w", err)
		}
	}
	return len(keys), nil
}

// InsertDeleteFiles queues the deletion of the files at keys in tx, the
// transaction that deletes the records that held them: the files go even
// if this process stops before it deletes them itself.
func (q *Queue) InsertDeleteFiles(ctx context.Context, tx *sql.Tx, keys []string) error {
	for len(keys) > 0 {
		n := min(len(keys), deleteFilesBatch)
		if _, err := q.client.InsertTx(ctx, tx, DeleteFilesArgs{Keys: keys[:n]}, nil); err != nil {
			return fmt.Errorf("insert delete files job: %w", err)
		}
		keys = keys[n:]
	}
	return nil
}
