package jobs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"outpost/internal/blob"
)

// PreviewTTL is how long a preview's file is kept: the life of its link.
const PreviewTTL = time.Hour

// KindDeletePreview is the job that deletes a preview's file.
const KindDeletePreview = "preview.delete"

// DeletePreviewArgs are the arguments of the job that deletes a preview.
type DeletePreviewArgs struct {
	Key string `json:"key"`
}

// Kind implements river.JobArgs.
func (DeletePreviewArgs) Kind() string { return KindDeletePreview }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (DeletePreviewArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueDefault, MaxAttempts: 5}
}

type deletePreviewWorker struct {
	river.WorkerDefaults[DeletePreviewArgs]
	blob *blob.Store
}

func (w *deletePreviewWorker) Work(ctx context.Context, job *river.Job[DeletePreviewArgs]) error {
	if !strings.HasPrefix(job.Args.Key, "previews/") {
		return river.JobCancel(fmt.Errorf("delete preview: %q is not a preview key", job.Args.Key))
	}
	err := w.blob.Delete(ctx, job.Args.Key)
	if errors.Is(err, blob.ErrNotFound) {
		return nil
	}
	return err
}
