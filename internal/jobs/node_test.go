package jobs_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"outpost/internal/store"
	"outpost/internal/waitfor"
)

type blockArgs struct{}

func (blockArgs) Kind() string { return "test.block" }

// TestService_rescue: the running job of a node that died is made available
// again, on both engines, by the heartbeat check (another node) and by the
// start-up check (the same node, restarted).
func TestService_rescue(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, eng store.Engine) {
		ctx := t.Context()
		e := newEnv(t, eng, envOptions{})
		// The "dead" node: a client whose job blocks until the test ends.
		workers := river.NewWorkers()
		river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, _ *river.Job[blockArgs]) error {
			<-ctx.Done()
			return ctx.Err()
		}))
		dead, err := river.NewClient(e.store.RiverDriver(), &river.Config{
			ID: "dead-node", Logger: testLogger(t), Workers: workers, TestOnly: true,
			FetchPollInterval: 100 * time.Millisecond,
			Queues:            map[string]river.QueueConfig{"test": {MaxWorkers: 1}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := dead.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = dead.StopAndCancel(sctx)
		})
		running := func() int64 {
			t.Helper()
			res, err := dead.Insert(ctx, blockArgs{}, &river.InsertOpts{Queue: "test"})
			if err != nil {
				t.Fatal(err)
			}
			waitJob(t, dead, res.Job.ID, rivertype.JobStateRunning)
			return res.Job.ID
		}

		// Another node notices the silent heartbeat.
		first := running()
		if err := e.store.TouchNode(ctx, store.Node{ID: "dead-node", HeartbeatAt: time.Now().Add(-time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if n, err := e.runner.RescueDeadNodes(ctx); err != nil || n != 1 {
			t.Fatalf("RescueDeadNodes = %d, %v", n, err)
		}
		j := waitJob(t, dead, first, rivertype.JobStateAvailable)
		if len(j.Errors) != 1 || !strings.Contains(j.Errors[0].Error, "heartbeats") {
			t.Errorf("rescued job errors = %+v", j.Errors)
		}
		if nodes, err := e.store.ListNodes(ctx); err != nil || len(nodes) != 0 {
			t.Errorf("nodes after the rescue = %+v, %v", nodes, err)
		}
		if n, err := e.runner.RescueDeadNodes(ctx); err != nil || n != 0 {
			t.Errorf("second RescueDeadNodes = %d, %v", n, err)
		}
		if _, err := dead.JobCancel(ctx, first); err != nil {
			t.Fatal(err)
		}

		// The same node, restarted, retries what its predecessor ran.
		second := running()
		if n, err := e.runner.RescueOwnOrphans(ctx, "other-node", time.Now()); err != nil || n != 0 {
			t.Errorf("RescueOwnOrphans of another id = %d, %v", n, err)
		}
		if n, err := e.runner.RescueOwnOrphans(ctx, "dead-node", time.Now()); err != nil || n != 1 {
			t.Fatalf("RescueOwnOrphans = %d, %v", n, err)
		}
		waitJob(t, dead, second, rivertype.JobStateAvailable)
	})
}

func waitJob(t *testing.T, c *river.Client[*sql.Tx], id int64, state rivertype.JobState) *rivertype.JobRow {
	t.Helper()
	return waitfor.Value(t, 30*time.Second, func() (*rivertype.JobRow, error) {
		j, err := c.JobGet(t.Context(), id)
		if err == nil && j.State != state {
			err = fmt.Errorf("job is %s", j.State)
		}
		return j, err
	}, "job %d %s", id, state)
}
