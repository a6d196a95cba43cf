package jobs_test

import (
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"outpost/internal/connect"
	"outpost/internal/events"
	"outpost/internal/jobs"
	"outpost/internal/media/mediatest"
	"outpost/internal/outpost"
	"outpost/internal/publish"
	"outpost/internal/publish/tiktok"
	"outpost/internal/publish/youtube"
	"outpost/internal/sandbox"
	"outpost/internal/store"
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
		sb := sandbox.New(sandbox.Options{AutoApprove: true, Dir: t.TempDir()})
		sts := httptest.NewServer(sb)
		t.Cleanup(func() {
			sts.Close()
			_ = sb.Close()
		})
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
