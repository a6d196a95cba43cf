package store_test

import (
	"database/sql"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"outpost/internal/store"
)

// renderArgs stands in for the jobs package's args.
type renderArgs struct {
	ExportID string `json:"export_id"`
}

func (renderArgs) Kind() string { return "store_test_render" }

// TestStore_River proves that River's schema and drivers fit the store on
// both engines: an insert-only river.Client[*sql.Tx] inserts jobs in the
// same transaction as the rows they act on.
func TestStore_River(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		var client *river.Client[*sql.Tx]
		client, err := river.NewClient(s.RiverDriver(), &river.Config{Logger: testLogger(t)})
		if err != nil {
			t.Fatalf("river.NewClient: %v", err)
		}
		if (s.Engine() == store.Postgres) != (s.ListenerPool() != nil) {
			t.Errorf("ListenerPool() = %v on %s", s.ListenerPool(), s.Engine())
		}
		fx := newFixture(t, ctx, s)

		// Committed: the export and its job exist together.
		var exportID string
		var jobID int64
		err = s.WithTx(ctx, func(tx *sql.Tx) error {
			e, err := s.Using(tx).CreateExport(ctx, store.Export{WorkspaceID: fx.ws.ID, ProjectID: fx.prj.ID})
			if err != nil {
				return err
			}
			res, err := client.InsertTx(ctx, tx, renderArgs{ExportID: e.ID}, &river.InsertOpts{Priority: 2, Queue: "render"})
			if err != nil {
				return err
			}
			exportID, jobID = e.ID, res.Job.ID
			return nil
		})
		if err != nil {
			t.Fatalf("WithTx: %v", err)
		}
		job, err := client.JobGet(ctx, jobID)
		if err != nil {
			t.Fatalf("JobGet: %v", err)
		}
		var args renderArgs
		if err := json.Unmarshal(job.EncodedArgs, &args); err != nil || args.ExportID != exportID {
			t.Errorf("job args = %s (%v), want export %s", job.EncodedArgs, err, exportID)
		}
		if job.State != rivertype.JobStateAvailable || job.Priority != 2 || job.Queue != "render" || job.Kind != "store_test_render" {
			t.Errorf("job = state %s, priority %d, queue %s, kind %s", job.State, job.Priority, job.Queue, job.Kind)
		}

		// Rolled back: neither exists.
		var lostExport string
		var lostJob int64
		boom := errors.New("boom")
		err = s.WithTx(ctx, func(tx *sql.Tx) error {
			e, err := s.Using(tx).CreateExport(ctx, store.Export{WorkspaceID: fx.ws.ID, ProjectID: fx.prj.ID})
			if err != nil {
				return err
			}
			res, err := client.InsertTx(ctx, tx, renderArgs{ExportID: e.ID}, nil)
			if err != nil {
				return err
			}
			lostExport, lostJob = e.ID, res.Job.ID
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("WithTx = %v, want boom", err)
		}
		if _, err := client.JobGet(ctx, lostJob); !errors.Is(err, river.ErrNotFound) {
			t.Errorf("rolled-back job: JobGet = %v, want ErrNotFound", err)
		}
		if _, err := s.GetExport(ctx, lostExport); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("rolled-back export: %v, want ErrNotFound", err)
		}

		// Scheduled and unique jobs (used for scheduled publications).
		at := time.Now().Add(time.Hour)
		opts := &river.InsertOpts{ScheduledAt: at, UniqueOpts: river.UniqueOpts{ByArgs: true}}
		first, err := client.Insert(ctx, renderArgs{ExportID: "exp_scheduled"}, opts)
		if err != nil {
			t.Fatalf("Insert scheduled: %v", err)
		}
		second, err := client.Insert(ctx, renderArgs{ExportID: "exp_scheduled"}, opts)
		if err != nil {
			t.Fatalf("Insert duplicate: %v", err)
		}
		if first.Job.State != rivertype.JobStateScheduled || !second.UniqueSkippedAsDuplicate || second.Job.ID != first.Job.ID {
			t.Errorf("scheduled = %s; duplicate skipped = %v (ids %d, %d)", first.Job.State,
				second.UniqueSkippedAsDuplicate, first.Job.ID, second.Job.ID)
		}
	})
}
