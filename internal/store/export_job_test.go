package store_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"outpost/internal/errcode"
	"outpost/internal/store"
)

func TestStore_ExportEvents(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		fx := newFixture(t, ctx, s)
		a, err := s.CreateExport(ctx, store.Export{WorkspaceID: fx.ws.ID, ProjectID: fx.prj.ID})
		if err != nil {
			t.Fatal(err)
		}
		b, err := s.CreateExport(ctx, store.Export{WorkspaceID: fx.ws.ID, ProjectID: fx.prj.ID})
		if err != nil {
			t.Fatal(err)
		}
		old := time.Now().Add(-48 * time.Hour)
		var seqs []int64
		for i, ev := range []store.ExportEvent{
			{ExportID: a.ID, Type: "progress", Data: json.RawMessage(`{"stage":"probe","percent":0}`), CreatedAt: old},
			{ExportID: b.ID, Type: "progress", Data: json.RawMessage(`{"stage":"probe"}`)},
			{ExportID: a.ID, Type: "rendition", Data: json.RawMessage(`{"id":"rnd_1"}`), CreatedAt: old},
			{ExportID: a.ID, Type: "progress", Data: json.RawMessage(`{"stage":"store","percent":100}`)},
			{ExportID: a.ID, Type: "done", Data: json.RawMessage(`{"status":"succeeded"}`)},
		} {
			got, err := s.InsertExportEvent(ctx, ev)
			if err != nil {
				t.Fatalf("InsertExportEvent %d: %v", i, err)
			}
			if i > 0 && got.Seq <= seqs[i-1] {
				t.Errorf("seq %d after %d", got.Seq, seqs[i-1])
			}
			seqs = append(seqs, got.Seq)
		}
		if _, err := s.InsertExportEvent(ctx, store.ExportEvent{ExportID: "exp_missing", Type: "progress"}); err == nil {
			t.Error("event of a missing export was stored")
		}

		evs, err := s.ListExportEvents(ctx, a.ID, 0, 0)
		if err != nil || len(evs) != 4 || evs[0].Seq != seqs[0] || evs[3].Type != "done" || !jsonEqual(t, evs[1].Data, json.RawMessage(`{"id":"rnd_1"}`)) {
			t.Fatalf("ListExportEvents = %+v, %v", evs, err)
		}
		if evs, err := s.ListExportEvents(ctx, a.ID, seqs[2], 1); err != nil || len(evs) != 1 || evs[0].Seq != seqs[3] {
			t.Errorf("after %d, limit 1 = %+v, %v", seqs[2], evs, err)
		}

		// Pruning keeps renditions and done.
		n, err := s.DeleteExportEventsBefore(ctx, "progress", time.Now().Add(-24*time.Hour))
		if err != nil || n != 1 {
			t.Errorf("DeleteExportEventsBefore = %d, %v", n, err)
		}
		if n, err := s.DeleteExportEvents(ctx, a.ID); err != nil || n != 3 {
			t.Errorf("DeleteExportEvents = %d, %v", n, err)
		}
		// Seqs are never reused.
		next, err := s.InsertExportEvent(ctx, store.ExportEvent{ExportID: a.ID, Type: "progress"})
		if err != nil || next.Seq <= seqs[4] {
			t.Errorf("after delete: seq %d, want > %d (%v)", next.Seq, seqs[4], err)
		}
		if evs, err := s.ListExportEvents(ctx, b.ID, 0, 0); err != nil || len(evs) != 1 {
			t.Errorf("other export's events = %+v, %v", evs, err)
		}
	})
}

func TestStore_ExportJob(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		fx := newFixture(t, ctx, s)
		x, err := s.CreateExport(ctx, store.Export{WorkspaceID: fx.ws.ID, ProjectID: fx.prj.ID})
		if err != nil {
			t.Fatal(err)
		}
		if id, err := s.ExportJobID(ctx, x.ID); err != nil || id != 0 {
			t.Errorf("ExportJobID before = %d, %v", id, err)
		}
		if err := s.SetExportJobID(ctx, x.ID, 42); err != nil {
			t.Fatal(err)
		}
		if id, err := s.ExportJobID(ctx, x.ID); err != nil || id != 42 {
			t.Errorf("ExportJobID = %d, %v", id, err)
		}
		if _, err := s.ExportJobID(ctx, "exp_missing"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("missing: %v", err)
		}
		if err := s.SetExportJobID(ctx, "exp_missing", 1); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("set missing: %v", err)
		}
		live, err := s.ListLiveExportJobs(ctx, time.Now().Add(time.Minute))
		if err != nil || len(live) != 1 || live[0] != (store.LiveExportJob{ExportID: x.ID, JobID: 42}) {
			t.Errorf("ListLiveExportJobs = %+v, %v", live, err)
		}
		if live, err := s.ListLiveExportJobs(ctx, time.Now().Add(-time.Minute)); err != nil || len(live) != 0 {
			t.Errorf("ListLiveExportJobs (older) = %+v, %v", live, err)
		}

		var rs []store.Rendition
		for i, st := range []store.RenditionStatus{store.RenditionSucceeded, store.RenditionFailed, store.RenditionRunning, store.RenditionPending} {
			r, err := s.CreateRendition(ctx, store.Rendition{ExportID: x.ID, PresetID: "tiktok", TargetIndex: i, Status: st,
				BlobKey: "k", SizeBytes: 9, ErrorCode: errcode.RenderFailed, ErrorMessage: "boom", CheckReport: json.RawMessage(`{}`)})
			if err != nil {
				t.Fatal(err)
			}
			rs = append(rs, r)
		}
		if err := s.SaveRendition(ctx, rs[1].ID); err != nil {
			t.Fatal(err)
		}
		// Requeue only from the statuses given.
		if _, err := s.RequeueExport(ctx, x.ID, store.ExportFailed); !errors.Is(err, store.ErrConflict) {
			t.Errorf("requeue of a queued export: %v", err)
		}
		if n, err := s.CancelRenditions(ctx, x.ID); err != nil || n != 2 {
			t.Errorf("CancelRenditions = %d, %v", n, err)
		}
		if err := s.UpdateExportProgress(ctx, x.ID, store.Progress{Stage: "render", Percent: 40}); err != nil {
			t.Fatal(err)
		}
		if err := s.UpdateLiveExportProgress(ctx, x.ID, store.Progress{Stage: "render", Percent: 50, ETA: 3 * time.Second}); err != nil {
			t.Fatal(err)
		}
		if err := s.TouchLiveExport(ctx, x.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.UpdateExportStatus(ctx, x.ID, store.StatusChange{Status: store.ExportCanceled, ErrorCode: errcode.Canceled}); err != nil {
			t.Fatal(err)
		}
		// A final export's progress no longer moves.
		if err := s.UpdateLiveExportProgress(ctx, x.ID, store.Progress{Stage: "render", Percent: 60}); !errors.Is(err, store.ErrConflict) {
			t.Errorf("progress of a canceled export: %v, want ErrConflict", err)
		}
		if err := s.TouchLiveExport(ctx, x.ID); !errors.Is(err, store.ErrConflict) {
			t.Errorf("touch of a canceled export: %v, want ErrConflict", err)
		}
		if err := s.TouchLiveExport(ctx, "exp_missing"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("touch of a missing export: %v, want ErrNotFound", err)
		}
		if got, err := s.GetExport(ctx, x.ID); err != nil || got.Progress.Percent != 50 || got.Progress.ETA != 3*time.Second {
			t.Errorf("progress = %+v, %v", got.Progress, err)
		}
		got, err := s.RequeueExport(ctx, x.ID, store.ExportFailed, store.ExportCanceled)
		if err != nil || got.Status != store.ExportQueued || got.ErrorCode != "" || got.FinishedAt != nil || got.Progress.Percent != 0 {
			t.Errorf("RequeueExport = %+v, %v", got, err)
		}
		if n, err := s.ResetRenditions(ctx, x.ID, store.RenditionFailed, store.RenditionCanceled); err != nil || n != 3 {
			t.Errorf("ResetRenditions = %d, %v", n, err)
		}
		after, err := s.ListRenditions(ctx, x.ID)
		if err != nil {
			t.Fatal(err)
		}
		if after[0].Status != store.RenditionSucceeded || after[0].BlobKey != "k" {
			t.Errorf("succeeded one changed: %+v", after[0])
		}
		for _, r := range after[1:] {
			if r.Status != store.RenditionPending || r.BlobKey != "" || r.ErrorCode != "" || r.SizeBytes != 0 || r.CheckReport != nil {
				t.Errorf("reset rendition = %+v", r)
			}
		}
		if !after[1].Saved {
			t.Error("reset lost the saved flag")
		}
	})
}

func TestStore_Nodes(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		start := time.Now().Add(-time.Hour)
		if err := s.TouchNode(ctx, store.Node{ID: "a", Hostname: "h1", StartedAt: start, HeartbeatAt: start}); err != nil {
			t.Fatal(err)
		}
		if err := s.TouchNode(ctx, store.Node{ID: "b", Hostname: "h2"}); err != nil {
			t.Fatal(err)
		}
		if err := s.TouchNode(ctx, store.Node{ID: "a", Hostname: "h1", StartedAt: start, HeartbeatAt: start.Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
		ns, err := s.ListNodes(ctx)
		if err != nil || len(ns) != 2 || ns[0].ID != "a" || !ns[0].HeartbeatAt.Equal(start.Add(time.Minute).UTC().Truncate(time.Microsecond)) || ns[1].Hostname != "h2" {
			t.Fatalf("ListNodes = %+v, %v", ns, err)
		}
		if n, err := s.DeleteNodesBefore(ctx, time.Now().Add(-time.Minute)); err != nil || n != 1 {
			t.Errorf("DeleteNodesBefore = %d, %v", n, err)
		}
		if err := s.DeleteNode(ctx, "b"); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteNode(ctx, "b"); err != nil {
			t.Errorf("second delete: %v", err)
		}
		if ns, err := s.ListNodes(ctx); err != nil || len(ns) != 0 {
			t.Errorf("ListNodes after deletes = %+v, %v", ns, err)
		}
	})
}
