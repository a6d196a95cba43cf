package events_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"outpost/internal/errcode"
	"outpost/internal/events"
	"outpost/internal/store"
	"outpost/internal/testpg"
)

var pg testpg.Server

func TestMain(m *testing.M) { os.Exit(pg.Run(m)) }

// twoStores opens two pools on one fresh database, as two processes would,
// and returns them with an export to publish about.
func twoStores(t *testing.T, engine store.Engine) (*store.Store, *store.Store, string) {
	t.Helper()
	ctx := t.Context()
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "outpost.db")
	if engine == store.Postgres {
		dsn = pg.NewDatabase(t)
	}
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	var ss [2]*store.Store
	for i := range ss {
		s, err := store.Open(ctx, dsn, logger)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		ss[i] = s
	}
	if err := ss[0].Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	ws, err := ss[0].DefaultWorkspace(ctx)
	if err != nil {
		t.Fatal(err)
	}
	prj, err := ss[0].CreateProject(ctx, store.Project{WorkspaceID: ws.ID, Name: "p", Kind: store.ProjectUpload, Status: store.ProjectReady})
	if err != nil {
		t.Fatal(err)
	}
	x, err := ss[0].CreateExport(ctx, store.Export{WorkspaceID: ws.ID, ProjectID: prj.ID})
	if err != nil {
		t.Fatal(err)
	}
	return ss[0], ss[1], x.ID
}

func forEachEngine(t *testing.T, fn func(t *testing.T, engine store.Engine)) {
	for _, e := range []store.Engine{store.SQLite, store.Postgres} {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			fn(t, e)
		})
	}
}

func next(t *testing.T, ch <-chan events.Event, within time.Duration) (events.Event, bool) {
	t.Helper()
	select {
	case ev, ok := <-ch:
		return ev, ok
	case <-time.After(within):
		t.Fatalf("no event within %s", within)
		return events.Event{}, false
	}
}

func TestBroker_Subscribe(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, engine store.Engine) {
		ctx := t.Context()
		s1, s2, exportID := twoStores(t, engine)
		// A long poll: in-process events must not wait for it.
		local := events.NewBroker(s1.EventLog(), events.Options{PollInterval: time.Hour})
		defer local.Close()
		// Another process's broker sees them by polling.
		remote := events.NewBroker(s2.EventLog(), events.Options{PollInterval: 50 * time.Millisecond})
		defer remote.Close()

		first, err := local.Publish(ctx, exportID, events.TypeProgress, events.Progress{Stage: "probe"})
		if err != nil {
			t.Fatal(err)
		}
		second, err := local.Publish(ctx, exportID, events.TypeProgress, events.Progress{Stage: "render", Percent: 10})
		if err != nil {
			t.Fatal(err)
		}
		if second.Seq <= first.Seq || first.ExportID != exportID {
			t.Fatalf("published %+v then %+v", first, second)
		}

		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		all, err := local.Subscribe(sctx, exportID, 0)
		if err != nil {
			t.Fatal(err)
		}
		resumed, err := remote.Subscribe(sctx, exportID, first.Seq)
		if err != nil {
			t.Fatal(err)
		}
		// Replay.
		if ev, _ := next(t, all, 5*time.Second); ev.Seq != first.Seq {
			t.Errorf("replay[0] = %+v", ev)
		}
		if ev, _ := next(t, all, 5*time.Second); ev.Seq != second.Seq || ev.Type != events.TypeProgress {
			t.Errorf("replay[1] = %+v", ev)
		}
		if ev, _ := next(t, resumed, 5*time.Second); ev.Seq != second.Seq {
			t.Errorf("resumed[0] = %+v, want seq %d", ev, second.Seq)
		}

		// Live, published in this process: delivered at once.
		start := time.Now()
		third, err := local.Publish(ctx, exportID, events.TypeRendition, events.Rendition{ID: "rnd_1", Preset: "tiktok", Status: "succeeded"})
		if err != nil {
			t.Fatal(err)
		}
		ev, _ := next(t, all, 5*time.Second)
		if ev.Seq != third.Seq || time.Since(start) > 2*time.Second {
			t.Errorf("live event %+v after %s", ev, time.Since(start))
		}
		var r events.Rendition
		if err := json.Unmarshal(ev.Data, &r); err != nil || r.ID != "rnd_1" || r.Error != nil {
			t.Errorf("rendition data %s: %v", ev.Data, err)
		}
		if ev, _ := next(t, resumed, 5*time.Second); ev.Seq != third.Seq {
			t.Errorf("remote got %+v", ev)
		}

		// "done", written by the other process in a transaction without a
		// notification, reaches both by polling… the local one polls hourly,
		// so notify it as the writer's process would.
		err = s2.WithTx(ctx, func(tx *sql.Tx) error {
			if _, err := s2.Using(tx).UpdateExportStatus(ctx, exportID, store.StatusChange{Status: store.ExportSucceeded}); err != nil {
				return err
			}
			_, err := remote.PublishTx(ctx, tx, exportID, events.TypeDone, events.Done{Status: "succeeded"})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if ev, _ := next(t, resumed, 5*time.Second); ev.Type != events.TypeDone {
			t.Errorf("remote got %+v, want done", ev)
		}
		if _, ok := next(t, resumed, 5*time.Second); ok {
			t.Error("remote subscription open after done")
		}
		local.Notify(exportID)
		if ev, _ := next(t, all, 5*time.Second); ev.Type != events.TypeDone || string(ev.Data) == "" {
			t.Errorf("local got %+v, want done", ev)
		}
		if _, ok := next(t, all, 5*time.Second); ok {
			t.Error("local subscription open after done")
		}

		// Subscribing past the end of a finished export ends at once.
		ch, err := remote.Subscribe(sctx, exportID, 1<<40)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := next(t, ch, 5*time.Second); ok {
			t.Error("subscription past done got an event")
		}
	})
}

func TestBroker_Subscribe_ends(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, _, exportID := twoStores(t, store.SQLite)
	b := events.NewBroker(s.EventLog(), events.Options{PollInterval: 20 * time.Millisecond})

	if _, err := b.Subscribe(ctx, "exp_missing", 0); errcode.Of(err) != errcode.NotFound {
		t.Errorf("missing export: %v, want not_found", err)
	}

	sctx, cancel := context.WithCancel(ctx)
	byCtx, err := b.Subscribe(sctx, exportID, 0)
	if err != nil {
		t.Fatal(err)
	}
	byClose, err := b.Subscribe(ctx, exportID, 0)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, ok := next(t, byCtx, 5*time.Second); ok {
		t.Error("event after ctx ended")
	}
	b.Close()
	if _, ok := next(t, byClose, 5*time.Second); ok {
		t.Error("event after Close")
	}
	ch, err := b.Subscribe(ctx, exportID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := next(t, ch, 5*time.Second); ok {
		t.Error("subscription after Close got an event")
	}
}

// TestBroker_Subscribe_laterEvents: events after an export's "done" (posts
// added to the finished export) are delivered; the subscription ends at the
// last "done".
func TestBroker_Subscribe_laterEvents(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, engine store.Engine) {
		ctx := t.Context()
		s, _, exportID := twoStores(t, engine)
		b := events.NewBroker(s.EventLog(), events.Options{PollInterval: 20 * time.Millisecond})
		defer b.Close()
		if _, err := s.UpdateExportStatus(ctx, exportID, store.StatusChange{Status: store.ExportSucceeded}); err != nil {
			t.Fatal(err)
		}
		for _, ev := range []struct {
			typ  string
			data any
		}{
			{events.TypeDone, events.Done{Status: "succeeded"}},
			{events.TypePublication, events.Publication{ID: "pub_1", State: "published"}},
			{events.TypeDone, events.Done{Status: "succeeded"}},
		} {
			if _, err := b.Publish(ctx, exportID, ev.typ, ev.data); err != nil {
				t.Fatal(err)
			}
		}
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		ch, err := b.Subscribe(sctx, exportID, 0)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for {
			ev, ok := next(t, ch, 10*time.Second)
			if !ok {
				break
			}
			got = append(got, ev.Type)
		}
		if want := "done publication done"; strings.Join(got, " ") != want {
			t.Errorf("events %v, want %s and the end", got, want)
		}
	})
}
