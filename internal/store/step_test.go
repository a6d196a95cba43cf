package store_test

import (
	"slices"
	"testing"
	"time"

	"outpost/internal/errcode"
	"outpost/internal/outpost"
	"outpost/internal/store"
)

// TestStore_Steps: steps are recorded with their node and listed in the
// order they started; a step still running when the same step of the same
// subject starts again is interrupted; a finished one is not changed by a
// late finish; the nodes of each export come back in first-seen order.
func TestStore_Steps(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		fx := newFixture(t, ctx, s)
		e, err := s.CreateExport(ctx, store.Export{WorkspaceID: fx.ws.ID, ProjectID: fx.prj.ID})
		if err != nil {
			t.Fatal(err)
		}
		other, err := s.CreateExport(ctx, store.Export{WorkspaceID: fx.ws.ID, ProjectID: fx.prj.ID})
		if err != nil {
			t.Fatal(err)
		}
		at := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
		start := func(x store.Export, kind store.StepKind, rendition, publication, node string, attempt int, after time.Duration) store.Step {
			t.Helper()
			st, err := s.StartStep(ctx, store.Step{ExportID: x.ID, Kind: kind, RenditionID: rendition, PublicationID: publication,
				Node: node, Hostname: "host-" + node, JobID: 7, Attempt: attempt, StartedAt: at.Add(after)})
			if err != nil {
				t.Fatalf("StartStep: %v", err)
			}
			return st
		}
		render1 := start(e, outpost.StepRender, "rnd_a", "", "node-a", 1, 0)
		renderB := start(e, outpost.StepRender, "rnd_b", "", "node-a", 1, time.Millisecond)
		// node-a dies; node-b takes the render of rnd_a over.
		render2 := start(e, outpost.StepRender, "rnd_a", "", "node-b", 2, time.Second)
		if err := s.FinishStep(ctx, render2.ID, outpost.StepSucceeded, ""); err != nil {
			t.Fatal(err)
		}
		pub := start(e, outpost.StepPublish, "", "pub_a", "node-b", 1, 2*time.Second)
		if err := s.FinishStep(ctx, pub.ID, outpost.StepFailed, errcode.PlatformUnavailable); err != nil {
			t.Fatal(err)
		}
		// A finish that comes late (the step was interrupted) changes nothing.
		if err := s.FinishStep(ctx, render1.ID, outpost.StepSucceeded, ""); err != nil {
			t.Fatal(err)
		}
		start(other, outpost.StepRender, "rnd_c", "", "node-c", 1, 0)

		got, err := s.ListSteps(ctx, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		type row struct {
			id      string
			node    string
			outcome store.StepOutcome
			code    errcode.Code
			ended   bool
		}
		var rows []row
		for _, st := range got {
			rows = append(rows, row{st.ID, st.Node, st.Outcome, st.ErrorCode, st.FinishedAt != nil})
			if st.Hostname != "host-"+st.Node || st.JobID != 7 || st.ExportID != e.ID {
				t.Errorf("step %+v", st)
			}
		}
		want := []row{
			{render1.ID, "node-a", outpost.StepInterrupted, "", true},
			{renderB.ID, "node-a", outpost.StepRunning, "", false},
			{render2.ID, "node-b", outpost.StepSucceeded, "", true},
			{pub.ID, "node-b", outpost.StepFailed, errcode.PlatformUnavailable, true},
		}
		if !slices.Equal(rows, want) {
			t.Errorf("steps =\n%+v\nwant\n%+v", rows, want)
		}
		if !got[0].StartedAt.Equal(at) || got[3].Attempt != 1 || got[2].Attempt != 2 {
			t.Errorf("started %s, attempts %d %d", got[0].StartedAt, got[3].Attempt, got[2].Attempt)
		}

		nodes, err := s.ListStepNodes(ctx, []string{e.ID, other.ID, "exp_none"})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(nodes[e.ID], []string{"node-a", "node-b"}) || !slices.Equal(nodes[other.ID], []string{"node-c"}) || len(nodes) != 2 {
			t.Errorf("ListStepNodes = %v", nodes)
		}

		// The render failed for good: its steps still running are
		// interrupted, a publication's are not; then the publication's.
		pub2 := start(e, outpost.StepPublish, "", "pub_a", "node-b", 2, 3*time.Second)
		if err := s.InterruptSteps(ctx, e.ID, ""); err != nil {
			t.Fatal(err)
		}
		got, _ = s.ListSteps(ctx, e.ID)
		if got[1].Outcome != outpost.StepInterrupted || got[1].FinishedAt == nil || got[4].ID != pub2.ID || got[4].Outcome != outpost.StepRunning {
			t.Errorf("after InterruptSteps of the render: %+v, %+v", got[1], got[4])
		}
		if err := s.InterruptSteps(ctx, e.ID, "pub_a"); err != nil {
			t.Fatal(err)
		}
		if got, _ = s.ListSteps(ctx, e.ID); got[4].Outcome != outpost.StepInterrupted {
			t.Errorf("after InterruptSteps of the publication: %+v", got[4])
		}
	})
}

// TestStore_MigrateStepsDown rolls 00012 back and applies it again.
func TestStore_MigrateStepsDown(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		if err := s.MigrateDownTo(ctx, 11); err != nil {
			t.Fatalf("down: %v", err)
		}
		if _, err := s.ListSteps(ctx, "exp_a"); err == nil {
			t.Error("export_steps still there after down")
		}
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("up again: %v", err)
		}
		if _, err := s.ListSteps(ctx, "exp_a"); err != nil {
			t.Errorf("after up again: %v", err)
		}
	})
}
