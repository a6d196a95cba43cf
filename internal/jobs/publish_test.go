package jobs_test

import (
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"

	"outpost/internal/connect"
	"outpost/internal/errcode"
	"outpost/internal/events"
	"outpost/internal/jobs"
	"outpost/internal/media/mediatest"
	"outpost/internal/outpost"
	"outpost/internal/publish"
	"outpost/internal/publish/tiktok"
	"outpost/internal/publish/youtube"
	"outpost/internal/sandbox"
	"outpost/internal/store"
	"outpost/internal/waitfor"
)

// connectVia runs the OAuth flow against the sandbox without a browser:
// the authorize URL's redirect carries the code to Callback.
func connectVia(t *testing.T, c *connect.Service, ws, platform string) store.Connection {
	t.Helper()
	ctx := t.Context()
	u, _, err := c.Authorize(ctx, ws, platform, connect.AuthorizeOptions{})
	if err != nil {
		t.Fatalf("Authorize: %v", err)
	}
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := hc.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	back, err := url.Parse(res.Header.Get("Location"))
	if err != nil || res.StatusCode != http.StatusFound {
		t.Fatalf("authorize: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	r, err := c.Callback(ctx, platform, back.Query(), "")
	if err != nil {
		t.Fatalf("Callback: %v", err)
	}
	if len(r.Connections) != 1 {
		t.Fatalf("connections %+v", r.Connections)
	}
	// A state is good once.
	if _, err := c.Callback(ctx, platform, back.Query(), ""); err == nil {
		t.Error("a used state was accepted again")
	}
	return r.Connections[0]
}

// TestPublication_engines publishes one export to YouTube and TikTok on
// each engine: TikTok's token has expired, so its rotated refresh token is
// stored first; both posts go out once, the live stream's "done" lists
// them, and the tracking events are recorded.
func TestPublication_engines(t *testing.T) {
	needFFmpeg(t)
	forEachEngine(t, func(t *testing.T, eng store.Engine) {
		sb, sts := newSandbox(t)
		var cs *connect.Service
		e := newEnv(t, eng, envOptions{workers: 1, configure: func(s *store.Store, o *jobs.Options) {
			key := make([]byte, 32)
			_, _ = rand.Read(key)
			platforms := sandbox.PlatformSettings(sts.URL)
			var err error
			cs, err = connect.New(connect.Options{Store: s, Key: key, Platforms: platforms, PublicURL: "http://127.0.0.1:1",
				TuneFunc: func(p publish.Publisher) {
					switch c := p.(type) {
					case *youtube.Client:
						c.PollInterval = 20 * time.Millisecond
					case *tiktok.Client:
						c.PollInterval = 20 * time.Millisecond
					}
				}})
			if err != nil {
				t.Fatal(err)
			}
			o.Connect, o.PublishRetryBase = cs, 100*time.Millisecond
		}})
		ctx := t.Context()
		yt := connectVia(t, cs, e.ws.ID, "youtube")
		tt := connectVia(t, cs, e.ws.ID, "tiktok")
		oldTT, _ := cs.Tokens(tt)
		if err := sb.Inject(sandbox.Fault{Platform: sandbox.TikTok, Kind: sandbox.FaultExpireToken}); err != nil {
			t.Fatal(err)
		}

		prj := e.project(t, mediatest.Spec{Width: 320, Height: 180, Duration: 1, Audio: true})
		x, err := e.createExport(ctx, e.ws.ID, outpost.ExportRequest{ProjectID: prj.ID, Labels: outpost.Labels{Campaign: "launch"},
			Targets: []outpost.TargetRequest{{Preset: "mp4-720p", Quality: "web"}},
			Destinations: []outpost.Destination{
				{ConnectionID: yt.ID, Preset: "mp4-720p", PostFields: outpost.PostFields{Title: "Launch", Description: "https://example.com/a", Privacy: "public"}},
				{ConnectionID: tt.ID, Preset: "mp4-720p", PostFields: outpost.PostFields{Caption: "Launch", Privacy: "public"}},
			}})
		if err != nil {
			t.Fatalf("CreateExport: %v", err)
		}
		ch, err := e.events.Subscribe(ctx, x.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		evs := collect(t, ch, 90*time.Second)
		last := evs[len(evs)-1]
		var done events.Done
		if err := json.Unmarshal(last.Data, &done); err != nil || last.Type != events.TypeDone {
			t.Fatalf("last event %s %s", last.Type, last.Data)
		}
		if done.Status != "succeeded" || len(done.Publications) != 2 {
			t.Fatalf("done %s", last.Data)
		}
		for _, p := range done.Publications {
			if p.State != "published" || p.PostURL == "" {
				t.Errorf("done lists %+v", p)
			}
		}
		for _, platform := range []string{"youtube", "tiktok"} {
			if n := len(sb.Posts(platform)); n != 1 {
				t.Errorf("%s: %d posts, want 1", platform, n)
			}
		}
		nowTT, err := e.store.GetConnection(ctx, tt.ID)
		if err != nil {
			t.Fatal(err)
		}
		newTT, _ := cs.Tokens(nowTT)
		if newTT.Refresh == oldTT.Refresh || newTT.Refresh == "" {
			t.Error("the rotated TikTok refresh token was not stored")
		}
		n, err := e.store.CountEvents(ctx, store.EventFilter{WorkspaceID: e.ws.ID, Type: outpost.EventPublicationPublished})
		if err != nil || n != 2 {
			t.Errorf("publication.published events: %d, %v", n, err)
		}
		pubs, _ := e.store.ListPublications(ctx, x.ID)
		for _, p := range pubs {
			if p.State != store.PublicationPublished || len(p.RemoteIDs) == 0 {
				t.Errorf("publication %+v", p)
			}
		}
		// This node ran every step: the rendition's render, check and
		// store, then each publication's attempts, the last published.
		// A publish step is closed just after its publication is marked
		// published: read the steps once none is running.
		steps := waitfor.Value(t, 30*time.Second, func() ([]store.Step, error) {
			steps, err := e.store.ListSteps(ctx, x.ID)
			for _, s := range steps {
				if err == nil && s.FinishedAt == nil {
					err = fmt.Errorf("the %s step of job %d is still running", s.Kind, s.JobID)
				}
			}
			return steps, err
		}, "every step of the export is closed")
		rends, _ := e.store.ListRenditions(ctx, x.ID)
		var kinds []outpost.StepKind
		lastStep := map[string]store.Step{}
		for _, s := range steps {
			if s.Node != e.runner.ClientID() || s.JobID == 0 || s.Attempt < 1 || s.FinishedAt == nil {
				t.Errorf("step %+v, want one by %s, ended", s, e.runner.ClientID())
			}
			if s.RenditionID != "" {
				kinds = append(kinds, s.Kind)
				if s.RenditionID != rends[0].ID || s.Outcome != outpost.StepSucceeded {
					t.Errorf("rendition step %+v", s)
				}
			}
			if s.PublicationID != "" {
				lastStep[s.PublicationID] = s
			}
		}
		if want := []outpost.StepKind{outpost.StepRender, outpost.StepCheck, outpost.StepStore}; !slices.Equal(kinds, want) {
			t.Errorf("rendition steps %v, want %v", kinds, want)
		}
		for _, p := range pubs {
			if s := lastStep[p.ID]; s.Kind != outpost.StepPublish || s.Outcome != outpost.StepSucceeded {
				t.Errorf("last step of publication %s = %+v, want a publish step that succeeded", p.Platform, s)
			}
		}

		// The refresh job: nothing due right after connecting.
		res, err := e.runner.RefreshConnections(ctx, time.Now())
		if err != nil || res.Refreshed != 0 || res.Expired != 0 {
			t.Errorf("RefreshConnections = %+v, %v", res, err)
		}
		// Near the end of TikTok's day-long token, it is renewed ahead.
		res, err = e.runner.RefreshConnections(ctx, time.Now().Add(23*time.Hour))
		if err != nil || res.Refreshed != 1 {
			t.Errorf("RefreshConnections a day later = %+v, %v", res, err)
		}
		// LinkedIn's refresh token ends after a year, whatever refreshes
		// happen: a week before, connection.expiring goes out, once.
		li := connectVia(t, cs, e.ws.ID, "linkedin")
		if li.RefreshExpiresAt == nil {
			t.Fatalf("linkedin connection without a refresh expiry: %+v", li)
		}
		for range 2 {
			if res, err = e.runner.RefreshConnections(ctx, li.RefreshExpiresAt.Add(-5*24*time.Hour)); err != nil || res.Warned == 0 && res.Refreshed == 0 {
				t.Errorf("RefreshConnections near the end = %+v, %v", res, err)
			}
		}
		n, err = e.store.CountEvents(ctx, store.EventFilter{WorkspaceID: e.ws.ID, Type: outpost.EventConnectionExpiring, SubjectID: li.ID})
		if err != nil || n != 1 {
			t.Errorf("connection.expiring events for linkedin: %d, %v", n, err)
		}
	})
}

// newSandbox serves the platform emulators (consent approved) until the
// test ends.
func newSandbox(t *testing.T) (*sandbox.Server, *httptest.Server) {
	t.Helper()
	sb := sandbox.New(sandbox.Options{AutoApprove: true, Dir: t.TempDir()})
	sts := httptest.NewServer(sb)
	t.Cleanup(func() {
		sts.Close()
		_ = sb.Close()
	})
	return sb, sts
}

// sandboxConnect returns a connect service over the emulators at url with
// a key of its own: two of them stand for two nodes with different secret
// keys.
func sandboxConnect(t *testing.T, s *store.Store, url string) *connect.Service {
	t.Helper()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	cs, err := connect.New(connect.Options{Store: s, Key: key, Platforms: sandbox.PlatformSettings(url), PublicURL: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// storedPublication makes, straight in the store, a finished export with a
// stored rendition of prj's source and a publication of it to conn, and
// queues the publication's job.
func (e *env) storedPublication(t *testing.T, prj store.Project, conn store.Connection) store.Publication {
	t.Helper()
	ctx := t.Context()
	x, err := e.store.CreateExport(ctx, store.Export{WorkspaceID: e.ws.ID, ProjectID: prj.ID, Status: store.ExportSucceeded})
	if err != nil {
		t.Fatal(err)
	}
	r, err := e.store.CreateRendition(ctx, store.Rendition{ExportID: x.ID, PresetID: "mp4-720p", Status: store.RenditionSucceeded,
		BlobKey: prj.SourceKey, SizeBytes: prj.SizeBytes, Duration: prj.Duration, Width: 320, Height: 180,
		VideoCodec: "h264", AudioCodec: "aac"})
	if err != nil {
		t.Fatal(err)
	}
	meta, _ := json.Marshal(outpost.PostSpec{PostFields: outpost.PostFields{Title: "Launch", Privacy: "public"}})
	p, err := e.store.CreatePublication(ctx, store.Publication{WorkspaceID: e.ws.ID, ExportID: x.ID, RenditionID: r.ID,
		ConnectionID: conn.ID, Platform: conn.Platform, PresetID: r.PresetID, Metadata: meta})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.store.WithTx(ctx, func(tx *sql.Tx) error {
		p, err = e.runner.Queue().EnqueuePublication(ctx, tx, p, store.PublicationPending)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPublication_unreadableToken: a token sealed under another node's key
// (the API's key A, the worker's key B) fails the publication in its first
// attempt with connection_unreadable and a message, instead of retrying
// in silence; nothing reaches the platform.
func TestPublication_unreadableToken(t *testing.T) {
	needFFmpeg(t)
	forEachEngine(t, func(t *testing.T, eng store.Engine) {
		sb, sts := newSandbox(t)
		var api *connect.Service
		e := newEnv(t, eng, envOptions{workers: 1, configure: func(s *store.Store, o *jobs.Options) {
			api = sandboxConnect(t, s, sts.URL)
			o.Connect, o.PublishRetryBase = sandboxConnect(t, s, sts.URL), 100*time.Millisecond
		}})
		ctx := t.Context()
		conn := connectVia(t, api, e.ws.ID, "youtube") // sealed under the API's key
		prj := e.project(t, mediatest.Spec{Width: 320, Height: 180, Duration: 1, Audio: true})
		p := e.storedPublication(t, prj, conn)

		p = waitfor.Value(t, 60*time.Second, func() (store.Publication, error) {
			got, err := e.store.GetPublication(ctx, p.ID)
			if err == nil && !got.State.Final() {
				err = fmt.Errorf("state %s, error %q", got.State, got.ErrorCode)
			}
			return got, err
		}, "the publication fails")
		if p.State != store.PublicationFailed || p.ErrorCode != errcode.ConnectionUnreadable || p.Attempts != 1 {
			t.Errorf("publication = %s %s after %d attempts, want failed connection_unreadable after 1", p.State, p.ErrorCode, p.Attempts)
		}
		if !strings.Contains(p.ErrorMessage, "cannot be opened with this server's keys") {
			t.Errorf("message %q", p.ErrorMessage)
		}
		// River records the job's end just after the attempt returns.
		if j := waitJob(t, e.runner.Client(), p.JobID, rivertype.JobStateCancelled); j.Attempt != 1 {
			t.Errorf("job cancelled after %d attempts, want 1", j.Attempt)
		}
		if n := len(sb.Posts("youtube")); n != 0 {
			t.Errorf("%d posts reached the platform", n)
		}
	})
}
