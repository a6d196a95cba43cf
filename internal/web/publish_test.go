package web

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"outpost/internal/config"
	"outpost/internal/connect"
	"outpost/internal/events"
	"outpost/internal/jobs"
	"outpost/internal/media/mediatest"
	"outpost/internal/oauth"
	"outpost/internal/outpost"
	"outpost/internal/publish"
	"outpost/internal/publish/facebook"
	"outpost/internal/publish/instagram"
	"outpost/internal/publish/linkedin"
	"outpost/internal/publish/platforms"
	"outpost/internal/publish/tiktok"
	"outpost/internal/publish/youtube"
	"outpost/internal/sandbox"
	"outpost/internal/service"
	"outpost/internal/store"
	"outpost/internal/waitfor"
)

// pubEnv is a server with a rendering worker, publishing to the sandbox
// emulators over real HTTP.
type pubEnv struct {
	*env
	sb      *sandbox.Server
	sbURL   string
	connect *connect.Service
	dbPath  string
	// secretKey and platforms made connect (to make another with more
	// keys).
	secretKey []byte
	platforms map[string]config.Platform
}

// tunePublisher makes the clients poll fast (the sandbox processes at once).
func tunePublisher(p publish.Publisher) {
	const poll = 20 * time.Millisecond
	switch c := p.(type) {
	case *youtube.Client:
		c.PollInterval = poll
	case *facebook.Client:
		c.PollInterval = poll
	case *instagram.Client:
		c.PollInterval = poll
	case *linkedin.Client:
		c.PollInterval = poll
	case *tiktok.Client:
		c.PollInterval = poll
	}
}

func newPubEnv(t *testing.T, sbOpts sandbox.Options) *pubEnv {
	t.Helper()
	return newPubEnvWorkers(t, sbOpts, true)
}

// newPubEnvLite is a pubEnv that renders nothing (connections only).
func newPubEnvLite(t *testing.T) *pubEnv {
	t.Helper()
	return newPubEnvWorkers(t, sandbox.Options{}, false)
}

func newPubEnvWorkers(t *testing.T, sbOpts sandbox.Options, workers bool) *pubEnv {
	t.Helper()
	return newPubEnvTuned(t, sbOpts, workers, nil)
}

// newPubEnvTuned is newPubEnvWorkers with tune adjusting the jobs' options.
func newPubEnvTuned(t *testing.T, sbOpts sandbox.Options, workers bool, tune func(*jobs.Options)) *pubEnv {
	t.Helper()
	sbOpts.AutoApprove = true
	sbOpts.Dir = t.TempDir()
	sb := sandbox.New(sbOpts)
	sts := httptest.NewServer(sb)
	t.Cleanup(func() {
		sts.Close()
		_ = sb.Close()
	})
	pe := &pubEnv{sb: sb, sbURL: sts.URL}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	pe.env = newEnvJobs(t, workers, func(e *env, jo *jobs.Options) {
		platforms := sandbox.PlatformSettings(sts.URL)
		var err error
		pe.secretKey, pe.platforms = key, platforms
		pe.connect, err = connect.New(connect.Options{Store: e.store, Key: key, Platforms: platforms,
			PublicURL: e.cfg.PublicURL, TuneFunc: tunePublisher})
		if err != nil {
			t.Fatal(err)
		}
		jo.Connect, jo.PublishRetryBase, jo.WebhookAllowLoopback = pe.connect, 100*time.Millisecond, true
		if tune != nil {
			tune(jo)
		}
	}, func(e *env, d *Deps, so *service.Options) {
		so.Connect, so.WebhookAllowLoopback = pe.connect, true
	})
	pe.dbPath = e2eDB(t, pe.env)
	return pe
}

// e2eDB returns the SQLite file of the env.
func e2eDB(t *testing.T, e *env) string {
	t.Helper()
	var path string
	if err := e.store.DB().QueryRowContext(t.Context(), "SELECT file FROM pragma_database_list WHERE name = 'main'").Scan(&path); err != nil {
		t.Fatal(err)
	}
	return path
}

// connectAccount runs the whole OAuth flow as a user would: ask for the
// authorize URL, open it (the sandbox approves and redirects to our
// callback), land on the callback page.
func (pe *pubEnv) connectAccount(platform string) outpost.Connection {
	pe.t.Helper()
	r := pe.post("/api/v1/connections/"+platform+"/authorize", map[string]any{})
	want(pe.t, r, http.StatusOK)
	var a outpost.Authorization
	r.json(pe.t, &a)
	if !strings.HasPrefix(a.AuthorizeURL, pe.sbURL) || !strings.Contains(a.AuthorizeURL, "state=") {
		pe.t.Fatalf("authorize URL %s", a.AuthorizeURL)
	}
	res, err := http.Get(a.AuthorizeURL) // follows the sandbox's redirect to the callback
	if err != nil {
		pe.t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), "Connected to "+platform) {
		pe.t.Fatalf("callback: %d %s", res.StatusCode, body)
	}
	r = pe.get("/api/v1/connections")
	want(pe.t, r, http.StatusOK)
	var list outpost.ConnectionList
	r.json(pe.t, &list)
	for _, c := range list.Data {
		if c.Platform == platform {
			return c
		}
	}
	pe.t.Fatalf("no %s connection after the callback: %s", platform, r.body)
	return outpost.Connection{}
}

// readyClip uploads a one-second clip and returns the project id.
func (pe *pubEnv) readyClip() string {
	pe.t.Helper()
	return pe.uploadProject("Launch", mediatest.Generate(pe.t, mediatest.Spec{Duration: 1, Audio: true})).ID
}

// pubDeadline bounds the waits for a render and its posts: far above what
// they take on an idle machine (seconds), so that a loaded one (make test
// beside a bench, other suites) still passes.
const pubDeadline = 3 * time.Minute

// waitExport polls the export until ok holds (what says what that is).
func (e *env) waitExport(id string, ok func(outpost.ExportDetail) bool, what string) outpost.ExportDetail {
	e.t.Helper()
	return waitfor.Value(e.t, pubDeadline, func() (outpost.ExportDetail, error) {
		r := e.get("/api/v1/exports/" + id)
		var d outpost.ExportDetail
		r.json(e.t, &d)
		if !ok(d) {
			return d, fmt.Errorf("%s", r.body)
		}
		return d, nil
	}, "export %s %s", id, what)
}

// waitPublications polls the export until every publication satisfies ok.
func (pe *pubEnv) waitPublications(id string, ok func(outpost.Publication) bool) outpost.ExportDetail {
	pe.t.Helper()
	return waitfor.Value(pe.t, pubDeadline, func() (outpost.ExportDetail, error) {
		r := pe.get("/api/v1/exports/" + id)
		want(pe.t, r, http.StatusOK)
		var d outpost.ExportDetail
		r.json(pe.t, &d)
		done := len(d.Publications) > 0
		for _, p := range d.Publications {
			done = done && ok(p)
		}
		if !done {
			return d, fmt.Errorf("%s", r.body)
		}
		return d, nil
	}, "publications of %s", id)
}

func final(p outpost.Publication) bool {
	return p.State == store.PublicationPublished || p.State == store.PublicationFailed || p.State == store.PublicationCanceled
}

func byPlatform(d outpost.ExportDetail) map[string]outpost.Publication {
	m := map[string]outpost.Publication{}
	for _, p := range d.Publications {
		m[p.Platform] = p
	}
	return m
}

// receiver is a webhook endpoint that keeps what it got.
type receiver struct {
	mu   sync.Mutex
	got  []receivedHook
	ts   *httptest.Server
	fail int // answer 500 to that many first requests
}

type receivedHook struct {
	header http.Header
	body   []byte
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{}
	rc.ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		defer rc.mu.Unlock()
		if rc.fail > 0 {
			rc.fail--
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		rc.got = append(rc.got, receivedHook{header: r.Header.Clone(), body: b})
	}))
	t.Cleanup(rc.ts.Close)
	return rc
}

func (rc *receiver) find(typ string) (receivedHook, bool) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for _, h := range rc.got {
		var b struct{ Type string }
		if json.Unmarshal(h.body, &b) == nil && b.Type == typ {
			return h, true
		}
	}
	return receivedHook{}, false
}

// TestPublish_endToEnd connects YouTube and TikTok through OAuth, checks
// that no token reaches the database file in the clear, exports with both
// as destinations, follows the live stream until "done" lists both posts,
// and checks the sandbox got exactly one post each, with UTM-tagged links,
// and that the webhook receiver got a correctly signed
// publication.published.
func TestPublish_endToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("renders with ffmpeg")
	}
	t.Parallel()
	pe := newPubEnv(t, sandbox.Options{})
	rc := newReceiver(t)
	rc.fail = 1 // the first delivery is retried

	r := pe.get("/api/v1/connections")
	want(t, r, http.StatusOK)
	var before outpost.ConnectionList
	r.json(t, &before)
	if len(before.Data) != 0 || len(before.Platforms) != 5 || before.Platforms[0].Status != "configured" {
		t.Fatalf("connections before: %s", r.body)
	}
	yt := pe.connectAccount("youtube")
	tt := pe.connectAccount("tiktok")
	if yt.AccountID != sandbox.YouTubeChannelID || yt.AccountName != sandbox.YouTubeChannelName || yt.Status != store.ConnectionActive {
		t.Errorf("youtube connection %+v", yt)
	}
	if tt.AccountID != sandbox.TikTokOpenID {
		t.Errorf("tiktok connection %+v", tt)
	}
	// A reconnect keeps the connection.
	if again := pe.connectAccount("youtube"); again.ID != yt.ID {
		t.Errorf("reconnect made connection %s, want %s", again.ID, yt.ID)
	}

	// The tokens are sealed: their bytes are nowhere in the database files.
	var secrets [][]byte
	for _, id := range []string{yt.ID, tt.ID} {
		c, err := pe.store.GetConnection(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := pe.connect.Tokens(c)
		if err != nil {
			t.Fatal(err)
		}
		if tok.Access == "" || tok.Refresh == "" {
			t.Fatalf("%s tokens missing: %+v", c.Platform, c)
		}
		secrets = append(secrets, []byte(tok.Access), []byte(tok.Refresh))
	}
	if _, err := pe.store.DB().ExecContext(t.Context(), "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{pe.dbPath, pe.dbPath + "-wal"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, s := range secrets {
			if bytes.Contains(b, s) {
				t.Fatalf("%s holds a token in the clear (%.12s…)", filepath.Base(f), s)
			}
		}
	}

	r = pe.post("/api/v1/webhooks", map[string]any{"url": rc.ts.URL + "/hook", "events": []string{"publication.published", "export.succeeded"}})
	want(t, r, http.StatusCreated)
	var hook outpost.Webhook
	r.json(t, &hook)
	if !strings.HasPrefix(hook.Secret, "whsec_") {
		t.Fatalf("webhook %s", r.body)
	}
	wantError(t, pe.post("/api/v1/webhooks", map[string]any{"url": "http://10.0.0.1/hook"}), http.StatusBadRequest, "url_not_allowed")

	prj := pe.readyClip()
	// Validation before any work: a TikTok post needs a privacy choice.
	wantError(t, pe.post("/api/v1/exports", map[string]any{"project_id": prj,
		"targets":      []any{map[string]any{"preset": "mp4-720p", "quality": "web"}},
		"destinations": []any{map[string]any{"connection_id": tt.ID, "preset": "mp4-720p", "caption": "x"}}}),
		http.StatusBadRequest, "post_invalid")
	wantError(t, pe.post("/api/v1/exports", map[string]any{"project_id": prj,
		"targets":      []any{map[string]any{"preset": "mp4-720p", "quality": "web"}},
		"destinations": []any{map[string]any{"connection_id": yt.ID, "preset": "tiktok", "title": "x"}}}),
		http.StatusBadRequest, "invalid_option")

	d := pe.createExport(pe.key, map[string]any{"project_id": prj,
		"targets": []any{map[string]any{"preset": "mp4-720p", "quality": "web"}},
		"labels":  map[string]any{"campaign": "spring-launch"},
		"destinations": []any{
			map[string]any{"connection_id": yt.ID, "preset": "mp4-720p", "title": "Launch",
				"description": "Watch https://example.com/launch?ref=yt today", "tags": []string{"launch"}, "privacy": "public"},
			map[string]any{"connection_id": tt.ID, "preset": "mp4-720p", "caption": "Out now https://example.com/launch #launch",
				"privacy": "public", "utm": map[string]any{"campaign": "tt-special"}},
		}})
	if len(d.Publications) != 2 || d.Publications[0].State != store.PublicationPending {
		t.Fatalf("export publications %+v", d.Publications)
	}

	// The live stream ends with "done" once both posts are out.
	evs := pe.streamEvents(d.ID, 90*time.Second, 10000)
	if len(evs) == 0 || evs[len(evs)-1].event != "done" {
		t.Fatalf("stream ended without done: %+v", evs)
	}
	var done struct {
		Status       string
		Publications []struct {
			Platform, State string
			PostURL         string `json:"post_url"`
		}
	}
	if err := json.Unmarshal([]byte(evs[len(evs)-1].data), &done); err != nil {
		t.Fatal(err)
	}
	if done.Status != "succeeded" || len(done.Publications) != 2 {
		t.Fatalf("done %s", evs[len(evs)-1].data)
	}
	for _, p := range done.Publications {
		if p.State != "published" || p.PostURL == "" {
			t.Errorf("done lists %+v", p)
		}
	}
	sawUpload := false
	for _, ev := range evs {
		if ev.event == "publication" && strings.Contains(ev.data, `"state":"uploading"`) {
			sawUpload = true
		}
	}
	if !sawUpload {
		t.Error("no publication uploading event in the stream")
	}

	got := pe.waitPublications(d.ID, final)
	ps := byPlatform(got)
	for _, platform := range []string{"youtube", "tiktok"} {
		p := ps[platform]
		posts := pe.sb.Posts(platform)
		if p.State != store.PublicationPublished || p.PostURL == "" || p.Error != nil {
			t.Errorf("%s publication %+v", platform, p)
		}
		if len(posts) != 1 {
			t.Fatalf("%s: %d posts in the sandbox, want 1", platform, len(posts))
		}
		if posts[0].URL != p.PostURL {
			t.Errorf("%s post URL %s, sandbox says %s", platform, p.PostURL, posts[0].URL)
		}
	}
	ytText, ttText := pe.sb.Posts("youtube")[0].Text, pe.sb.Posts("tiktok")[0].Text
	for _, want := range []string{"ref=yt", "utm_source=youtube", "utm_medium=social", "utm_campaign=spring-launch", "utm_content=mp4-720p"} {
		if !strings.Contains(ytText, want) {
			t.Errorf("youtube text %q lacks %s", ytText, want)
		}
	}
	if !strings.Contains(ttText, "utm_source=tiktok") || !strings.Contains(ttText, "utm_campaign=tt-special") {
		t.Errorf("tiktok text %q", ttText)
	}
	if got.Status != store.ExportSucceeded || got.Renditions[0].Pinned {
		t.Errorf("export %s, rendition pinned %v", got.Status, got.Renditions[0].Pinned)
	}

	// The webhook: delivered (after one 500), with a valid signature.
	var h receivedHook
	waitfor.True(t, 30*time.Second, func() (ok bool) {
		h, ok = rc.find("publication.published")
		return ok
	}, "a publication.published webhook")
	wh, err := standardwebhooks.NewWebhook(hook.Secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.Verify(h.body, h.header); err != nil {
		t.Errorf("webhook signature: %v", err)
	}
	var body struct {
		Type string
		Data struct {
			Platform string
			PostURL  string `json:"post_url"`
		}
	}
	if err := json.Unmarshal(h.body, &body); err != nil || body.Data.PostURL == "" {
		t.Errorf("webhook body %s", h.body)
	}
	// The delivery log shows it; a redelivery sends it again.
	r = pe.get("/api/v1/webhooks/" + hook.ID + "/deliveries")
	want(t, r, http.StatusOK)
	var log page[outpost.Delivery]
	r.json(t, &log)
	if len(log.Data) < 2 {
		t.Fatalf("deliveries %s", r.body)
	}
	var delivered *outpost.Delivery
	for i, dl := range log.Data {
		if dl.Status == store.DeliverySucceeded {
			delivered = &log.Data[i]
		}
	}
	if delivered == nil {
		t.Fatalf("no succeeded delivery: %s", r.body)
	}
	rc.mu.Lock()
	n := len(rc.got)
	rc.mu.Unlock()
	want(t, pe.post("/api/v1/webhook-deliveries/"+delivered.ID+"/redeliver", nil), http.StatusAccepted)
	waitfor.True(t, 30*time.Second, func() bool {
		rc.mu.Lock()
		defer rc.mu.Unlock()
		return len(rc.got) > n
	}, "the redelivery received")

	// Disconnecting removes the connection.
	want(t, pe.do(request{method: "DELETE", path: "/api/v1/connections/" + tt.ID, key: pe.key}), http.StatusNoContent)
	wantError(t, pe.do(request{method: "DELETE", path: "/api/v1/connections/" + tt.ID, key: pe.okey}), http.StatusNotFound, "not_found")
	// Both ends of the connection are in the audit log.
	for _, a := range []string{"connection.connected", "connection.revoked"} {
		var audit page[outpost.AuditEvent]
		pe.get("/api/v1/audit?action="+a+"&target_id="+tt.ID).json(t, &audit)
		if len(audit.Data) != 1 {
			t.Errorf("audit log: %d %s events for %s", len(audit.Data), a, tt.ID)
		}
	}
}

// TestPublish_faults publishes one export to all five platforms: a 429
// snoozes YouTube until Retry-After, a connection reset mid-upload leaves
// TikTok with exactly one post, a rejection by Facebook fails that
// publication only, and Instagram and LinkedIn go out.
func TestPublish_faults(t *testing.T) {
	if testing.Short() {
		t.Skip("renders with ffmpeg")
	}
	t.Parallel()
	pe := newPubEnv(t, sandbox.Options{})
	yt, tt, fb := pe.connectAccount("youtube"), pe.connectAccount("tiktok"), pe.connectAccount("facebook")
	ig, li := pe.connectAccount("instagram"), pe.connectAccount("linkedin")
	if fb.AccountID != sandbox.FacebookPageID || ig.AccountID != sandbox.InstagramUserID || li.AccountID != sandbox.LinkedInPersonURN {
		t.Fatalf("connections %+v %+v %+v", fb, ig, li)
	}
	for _, f := range []sandbox.Fault{
		{Platform: sandbox.YouTube, Kind: sandbox.FaultRateLimit, Op: "init", RetryAfter: 1},
		{Platform: sandbox.TikTok, Kind: sandbox.FaultReset},
		{Platform: sandbox.Facebook, Kind: sandbox.FaultReject, Reason: "copyright"},
	} {
		if err := pe.sb.Inject(f); err != nil {
			t.Fatal(err)
		}
	}
	// Instagram and LinkedIn take 3 s at least.
	clip := mediatest.Generate(pe.t, mediatest.Spec{Duration: 3, Audio: true})
	r := pe.upload(pe.key, map[string]string{"name": "Launch"}, clip)
	want(t, r, http.StatusCreated)
	var prj outpost.Project
	r.json(t, &prj)
	d := pe.createExport(pe.key, map[string]any{"project_id": prj.ID,
		"targets": []any{map[string]any{"preset": "mp4-720p", "quality": "web"}},
		"destinations": []any{
			map[string]any{"connection_id": yt.ID, "title": "Launch", "privacy": "public"},
			map[string]any{"connection_id": tt.ID, "caption": "Launch", "privacy": "public"},
			map[string]any{"connection_id": fb.ID, "description": "Launch"},
			map[string]any{"connection_id": ig.ID, "caption": "Launch https://example.com #launch"},
			map[string]any{"connection_id": li.ID, "caption": "Launch https://example.com"},
		}})
	start := time.Now()
	got := pe.waitPublications(d.ID, final)
	ps := byPlatform(got)
	if p := ps["youtube"]; p.State != store.PublicationPublished {
		t.Errorf("youtube %+v", p)
	}
	if time.Since(start) < time.Second {
		t.Errorf("youtube published in %s despite Retry-After: 1", time.Since(start))
	}
	if p := ps["tiktok"]; p.State != store.PublicationPublished {
		t.Errorf("tiktok %+v", p)
	}
	if p := ps["facebook"]; p.State != store.PublicationFailed || p.Error == nil || p.Error.Code != "platform_rejected" {
		t.Errorf("facebook %+v", p)
	}
	for _, platform := range []string{"instagram", "linkedin"} {
		if p := ps[platform]; p.State != store.PublicationPublished || p.PostURL == "" {
			t.Errorf("%s %+v", platform, p)
		}
	}
	for _, platform := range []string{"youtube", "tiktok", "instagram", "linkedin"} {
		if n := len(pe.sb.Posts(platform)); n != 1 {
			t.Errorf("%s: %d posts, want 1", platform, n)
		}
	}
	if len(pe.sb.Faults()) != 0 {
		t.Errorf("faults left unused: %+v", pe.sb.Faults())
	}
	if got.Status != store.ExportSucceeded {
		t.Errorf("export %s: a failed publication is not a failed export", got.Status)
	}
}

// TestPublish_reconnect: a revoked grant fails the publication with
// connection_expired and expires the connection; connecting the account
// again queues it again and it goes out. An expired access token (TikTok)
// is refreshed and the rotated refresh token stored.
func TestPublish_reconnect(t *testing.T) {
	if testing.Short() {
		t.Skip("renders with ffmpeg")
	}
	t.Parallel()
	pe := newPubEnv(t, sandbox.Options{})
	yt, tt := pe.connectAccount("youtube"), pe.connectAccount("tiktok")
	ttBefore, err := pe.store.GetConnection(t.Context(), tt.ID)
	if err != nil {
		t.Fatal(err)
	}
	oldTok, _ := pe.connect.Tokens(ttBefore)
	for _, f := range []sandbox.Fault{
		{Platform: sandbox.YouTube, Kind: sandbox.FaultRevoke},
		{Platform: sandbox.TikTok, Kind: sandbox.FaultExpireToken},
	} {
		if err := pe.sb.Inject(f); err != nil {
			t.Fatal(err)
		}
	}
	prj := pe.readyClip()
	d := pe.createExport(pe.key, map[string]any{"project_id": prj,
		"targets": []any{map[string]any{"preset": "mp4-720p", "quality": "web"}},
		"destinations": []any{
			map[string]any{"connection_id": yt.ID, "title": "Launch", "privacy": "public"},
			map[string]any{"connection_id": tt.ID, "caption": "Launch", "privacy": "public"},
		}})
	got := pe.waitPublications(d.ID, final)
	ps := byPlatform(got)
	if p := ps["youtube"]; p.State != store.PublicationFailed || p.Error == nil || p.Error.Code != "connection_expired" {
		t.Fatalf("youtube %+v", p)
	}
	if !got.Renditions[0].Pinned {
		t.Error("the file of a publication waiting for a reconnect is not pinned")
	}
	if p := ps["tiktok"]; p.State != store.PublicationPublished {
		t.Errorf("tiktok after an expired token %+v", p)
	}
	ttAfter, _ := pe.store.GetConnection(t.Context(), tt.ID)
	newTok, _ := pe.connect.Tokens(ttAfter)
	if newTok.Refresh == "" || newTok.Refresh == oldTok.Refresh || newTok.Access == oldTok.Access {
		t.Error("tiktok's rotated tokens were not stored")
	}
	r := pe.get("/api/v1/connections/" + yt.ID)
	var c outpost.Connection
	r.json(t, &c)
	if c.Status != store.ConnectionExpired {
		t.Fatalf("youtube connection %s after a revoked grant", c.Status)
	}
	if n := len(pe.sb.Posts("youtube")); n != 0 {
		t.Fatalf("%d youtube posts before the reconnect", n)
	}

	// Reconnecting queues the publication again.
	if again := pe.connectAccount("youtube"); again.ID != yt.ID || again.Status != store.ConnectionActive {
		t.Fatalf("reconnect %+v", again)
	}
	got = pe.waitPublications(d.ID, func(p outpost.Publication) bool { return p.State == store.PublicationPublished })
	if n := len(pe.sb.Posts("youtube")); n != 1 {
		t.Errorf("%d youtube posts after the reconnect, want 1", n)
	}
	if got.Renditions[0].Pinned {
		t.Error("rendition still pinned after every publication went out")
	}
}

// TestPublish_schedule: a publication scheduled a few seconds ahead waits
// (its file pinned) and then goes out; another is rescheduled and then
// canceled.
func TestPublish_schedule(t *testing.T) {
	if testing.Short() {
		t.Skip("renders with ffmpeg")
	}
	t.Parallel()
	pe := newPubEnv(t, sandbox.Options{})
	yt, tt := pe.connectAccount("youtube"), pe.connectAccount("tiktok")
	prj := pe.readyClip()
	// Far enough ahead to still be ahead when a loaded machine accepts it.
	at := time.Now().Add(10 * time.Second).UTC().Truncate(time.Second)
	later := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	d := pe.createExport(pe.key, map[string]any{"project_id": prj,
		"targets": []any{map[string]any{"preset": "mp4-720p", "quality": "web"}},
		"destinations": []any{
			map[string]any{"connection_id": yt.ID, "title": "Launch", "privacy": "public", "schedule_at": at},
			map[string]any{"connection_id": tt.ID, "caption": "Launch", "privacy": "public", "schedule_at": later},
		}})
	for _, p := range d.Publications {
		if p.State != store.PublicationScheduled || p.ScheduleAt == nil {
			t.Fatalf("publication %+v", p)
		}
	}
	// Rendered, the file is pinned while the publications wait.
	waiting := pe.waitExport(d.ID, func(d outpost.ExportDetail) bool { return d.Status.Final() }, "rendered")
	if waiting.Status != store.ExportSucceeded || !waiting.Renditions[0].Pinned {
		t.Fatalf("export %s, pinned %v", waiting.Status, waiting.Renditions[0].Pinned)
	}
	// YouTube schedules natively: the video is there before its time,
	// private and scheduled, never public.
	for _, post := range pe.sb.Posts("youtube") {
		if time.Now().Before(at) && (post.Status != "scheduled" || post.ScheduledAt == nil || !post.ScheduledAt.Equal(at)) {
			t.Fatalf("youtube post before its time: %+v", post)
		}
	}
	ttPub := byPlatform(waiting)["tiktok"]
	r := pe.do(request{method: "PATCH", path: "/api/v1/publications/" + ttPub.ID, key: pe.key,
		json: map[string]any{"schedule_at": later.Add(time.Hour)}})
	want(t, r, http.StatusOK)
	var moved outpost.Publication
	r.json(t, &moved)
	if moved.State != store.PublicationScheduled || !moved.ScheduleAt.Equal(later.Add(time.Hour)) {
		t.Errorf("rescheduled %s", r.body)
	}
	r = pe.post("/api/v1/publications/"+ttPub.ID+"/cancel", nil)
	want(t, r, http.StatusOK)

	got := pe.waitPublications(d.ID, final)
	ps := byPlatform(got)
	if p := ps["youtube"]; p.State != store.PublicationPublished || p.PublishedAt == nil || p.PublishedAt.Before(at) {
		t.Errorf("youtube %+v (due %s)", p, at)
	}
	if p := ps["tiktok"]; p.State != store.PublicationCanceled {
		t.Errorf("tiktok %+v", p)
	}
	if got.Renditions[0].Pinned {
		t.Error("rendition still pinned after every publication finished")
	}
	if n := len(pe.sb.Posts("tiktok")); n != 0 {
		t.Errorf("%d tiktok posts after the cancel", n)
	}
	wantError(t, pe.post("/api/v1/publications/"+ttPub.ID+"/cancel", nil), http.StatusConflict, "conflict")
}

// TestConnect_browser starts a connection from a signed-in browser: the
// flow is bound to that browser by a cookie, so the callback in another
// browser is refused. Without credentials a platform is not_configured.
func TestConnect_browser(t *testing.T) {
	t.Parallel()
	pe := newPubEnvLite(t)
	ctx := t.Context()
	u, err := pe.store.CreateUser(ctx, store.User{WorkspaceID: pe.ws.ID, Email: "a@example.com", PasswordHash: "x", Role: "owner"})
	if err != nil {
		t.Fatal(err)
	}
	_, token, err := pe.store.CreateSession(ctx, u.ID, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(url string, cookies ...*http.Cookie) *http.Response {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
		for _, c := range cookies {
			req.AddCookie(c)
		}
		res, err := noFollow.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res
	}
	if res := get(pe.ts.URL + "/connect/youtube"); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("without a session: %d", res.StatusCode)
	}
	session := &http.Cookie{Name: "outpost_session", Value: token}
	if res := get(pe.ts.URL+"/connect/myspace", session); res.StatusCode != http.StatusNotFound {
		t.Errorf("unknown platform: %d", res.StatusCode)
	}
	start := func() (callback string, binding *http.Cookie) {
		res := get(pe.ts.URL+"/connect/linkedin?return_to=/connections", session)
		if res.StatusCode != http.StatusFound {
			t.Fatalf("connect: %d", res.StatusCode)
		}
		for _, c := range res.Cookies() {
			if c.Name == "outpost_oauth" {
				binding = c
			}
		}
		if binding == nil || !binding.HttpOnly {
			t.Fatalf("no binding cookie: %v", res.Cookies())
		}
		res = get(res.Header.Get("Location")) // the sandbox approves at once
		return res.Header.Get("Location"), binding
	}
	cb, _ := start()
	if res := get(cb); res.StatusCode != http.StatusBadRequest {
		t.Errorf("callback in another browser: %d", res.StatusCode)
	}
	cb, binding := start()
	res := get(cb, binding)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/connections?connected=linkedin" {
		t.Fatalf("callback: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	if res := get(cb, binding); res.StatusCode != http.StatusBadRequest {
		t.Errorf("callback replayed: %d", res.StatusCode)
	}
	r := pe.get("/api/v1/connections")
	var list outpost.ConnectionList
	r.json(t, &list)
	if len(list.Data) != 1 || list.Data[0].Platform != "linkedin" || list.Data[0].AccountName != sandbox.LinkedInName {
		t.Errorf("connections %s", r.body)
	}

	// A server without platform credentials.
	bare := newEnv(t)
	r = bare.get("/api/v1/connections")
	var none outpost.ConnectionList
	r.json(t, &none)
	for _, p := range none.Platforms {
		if p.Status != "not_configured" {
			t.Errorf("%+v", p)
		}
	}
	wantError(t, bare.post("/api/v1/connections/youtube/authorize", nil), http.StatusUnprocessableEntity, "platform_not_configured")
}

// TestConnect_tokenKeyRotation: with a newer token key configured, tokens
// sealed under the old one still open; a refresh, and the reseal of the
// periodic job, seal them under the new key id, after which the old key is
// no longer needed.
func TestConnect_tokenKeyRotation(t *testing.T) {
	t.Parallel()
	pe := newPubEnvLite(t)
	ctx := t.Context()
	tt, yt := pe.connectAccount("tiktok"), pe.connectAccount("youtube")
	get := func(id string) store.Connection {
		t.Helper()
		c, err := pe.store.GetConnection(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	keyID := func(c store.Connection) (access, refresh byte) {
		a, _ := oauth.KeyID(c.AccessToken)
		r, _ := oauth.KeyID(c.RefreshToken)
		return a, r
	}
	ttOld, ytOld := get(tt.ID), get(yt.ID)
	if a, r := keyID(ytOld); a != connect.SecretKeyID || r != connect.SecretKeyID {
		t.Fatalf("key ids before the rotation: %d %d", a, r)
	}
	ytTok, err := pe.connect.Tokens(ytOld)
	if err != nil {
		t.Fatal(err)
	}

	newKey := make([]byte, 32)
	_, _ = rand.Read(newKey)
	newService := func(secret []byte, keys map[byte][]byte) *connect.Service {
		t.Helper()
		s, err := connect.New(connect.Options{Store: pe.store, Key: secret, TokenKeys: keys, Platforms: pe.platforms,
			PublicURL: pe.cfg.PublicURL, TuneFunc: tunePublisher})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	rotated := newService(pe.secretKey, map[byte][]byte{7: newKey})
	if rotated.SealKeyID() != 7 {
		t.Errorf("SealKeyID = %d, want the highest, 7", rotated.SealKeyID())
	}
	// Old seals open.
	if got, err := rotated.Tokens(ytOld); err != nil || got != ytTok {
		t.Fatalf("tokens sealed under the old key after the rotation: %+v, %v", got, err)
	}
	if !rotated.Stale(ytOld) || !rotated.Stale(ttOld) {
		t.Error("connections sealed under the old key are not stale")
	}
	// A refresh seals under the new key.
	ttNew, err := rotated.Refresh(ctx, ttOld)
	if err != nil {
		t.Fatal(err)
	}
	if a, r := keyID(ttNew); a != 7 || r != 7 {
		t.Errorf("key ids after a refresh: %d %d, want 7", a, r)
	}
	// The reseal seals the same tokens under the new key, once.
	if ok, err := rotated.ResealTokens(ctx, ytOld); err != nil || !ok {
		t.Fatalf("ResealTokens = %v, %v", ok, err)
	}
	ytNew := get(yt.ID)
	if a, r := keyID(ytNew); a != 7 || r != 7 {
		t.Errorf("key ids after the reseal: %d %d, want 7", a, r)
	}
	if ytNew.Status != store.ConnectionActive || !ytNew.UpdatedAt.Equal(ytOld.UpdatedAt) {
		t.Errorf("the reseal changed more than the tokens: %+v", ytNew)
	}
	if ok, err := rotated.ResealTokens(ctx, ytNew); err != nil || ok {
		t.Errorf("ResealTokens of a current connection = %v, %v; want false", ok, err)
	}
	// A reseal from a stale read (refreshed meanwhile) writes nothing.
	if ok, err := rotated.ResealTokens(ctx, ttOld); err != nil || ok {
		t.Errorf("ResealTokens from a stale read = %v, %v; want false", ok, err)
	}

	// The old key can go: a server with another secret key and the new
	// token key opens everything.
	other := make([]byte, 32)
	_, _ = rand.Read(other)
	retired := newService(other, map[byte][]byte{7: newKey})
	for _, c := range []store.Connection{get(tt.ID), get(yt.ID)} {
		if got, err := retired.Tokens(c); err != nil || got.Access == "" {
			t.Errorf("%s after the old key was removed: %+v, %v", c.Platform, got, err)
		}
	}
	if got, _ := retired.Tokens(get(yt.ID)); got != ytTok {
		t.Errorf("resealed tokens differ: %+v, want %+v", got, ytTok)
	}
	// And the server without the new key cannot open them.
	if _, err := pe.connect.Tokens(get(yt.ID)); !errors.Is(err, oauth.ErrUnknownKey) {
		t.Errorf("tokens under an unconfigured key: %v, want ErrUnknownKey", err)
	}
	if _, err := connect.New(connect.Options{Store: pe.store, Key: pe.secretKey, TokenKeys: map[byte][]byte{1: newKey}}); err == nil {
		t.Error("a token key with id 1 (the secret key's) was accepted")
	}
}

// TestPublish_youtubeQuota: the ledger books what each YouTube publication
// spends of the project's daily units; a 403 quotaExceeded from the
// platform marks the day used up and snoozes the publication until
// midnight Pacific; then another publication waits for the reset without
// calling the platform at all.
func TestPublish_youtubeQuota(t *testing.T) {
	if testing.Short() {
		t.Skip("renders with ffmpeg")
	}
	t.Parallel()
	const limit = 5000
	pe := newPubEnvTuned(t, sandbox.Options{}, true, func(o *jobs.Options) { o.YouTubeQuotaPerDay = limit })
	ctx := t.Context()
	yt := pe.connectAccount("youtube")
	project := sandbox.DefaultClient("youtube").ID
	day, reset := (&youtube.Client{}).QuotaDay(time.Now())
	resetAt := time.Now().Add(reset) // an instant: the test may run long
	quota := store.Quota{Platform: "youtube", Project: project, Day: day}
	ledger := func() int64 {
		t.Helper()
		n, err := pe.store.QuotaUsed(ctx, quota)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	// One publication: booked at what it cost, not at the reservation.
	d := pe.createExport(pe.key, map[string]any{"project_id": pe.readyClip(),
		"targets":      []any{map[string]any{"preset": "mp4-720p", "quality": "web"}},
		"destinations": []any{map[string]any{"connection_id": yt.ID, "title": "Launch", "privacy": "public"}}})
	pe.waitPublications(d.ID, func(p outpost.Publication) bool { return p.State == store.PublicationPublished })
	spent := ledger()
	if spent < youtube.CostInsert || spent > int64(pe.sb.QuotaUsed(project)) {
		t.Errorf("ledger %d units after one upload; the platform counted %d (the insert alone is %d)",
			spent, pe.sb.QuotaUsed(project), youtube.CostInsert)
	}

	// share adds a YouTube publication to the export and returns its River
	// job once it is snoozed.
	share := func() (store.Publication, *rivertype.JobRow) {
		t.Helper()
		r := pe.post("/api/v1/exports/"+d.ID+"/publications", map[string]any{
			"destinations": []any{map[string]any{"connection_id": yt.ID, "title": "Again", "privacy": "public"}}})
		want(t, r, http.StatusAccepted)
		var list publicationList
		r.json(t, &list)
		var p store.Publication
		j := waitfor.Value(t, 60*time.Second, func() (*rivertype.JobRow, error) {
			var err error
			if p, err = pe.store.GetPublication(ctx, list.Publications[0].ID); err != nil {
				return nil, err
			}
			j, err := pe.jobs.Client().JobGet(ctx, p.JobID)
			if err == nil && j.State != rivertype.JobStateScheduled {
				err = fmt.Errorf("publication %s, job %s", p.State, j.State)
			}
			return j, err
		}, "the publication snoozed")
		if p.State.Final() {
			t.Fatalf("publication %s, want it waiting", p.State)
		}
		return p, j
	}
	snoozedToReset := func(j *rivertype.JobRow) {
		t.Helper()
		if j.ScheduledAt.Before(resetAt.Add(-time.Minute)) || j.ScheduledAt.After(resetAt.Add(5*time.Minute)) {
			t.Errorf("snoozed until %s, want the quota reset %s", j.ScheduledAt, resetAt)
		}
	}

	// The platform says the quota is used up (another client of the
	// project spent it): the day is marked used up, nothing is posted.
	if err := pe.sb.Inject(sandbox.Fault{Platform: sandbox.YouTube, Kind: sandbox.FaultQuota, Op: "init"}); err != nil {
		t.Fatal(err)
	}
	p, j := share()
	snoozedToReset(j)
	if p.State.Final() {
		t.Errorf("publication %s after quotaExceeded, want it waiting", p.State)
	}
	if got := ledger(); got != limit {
		t.Errorf("ledger %d after quotaExceeded, want the day used up (%d)", got, limit)
	}

	// Now the ledger alone holds the next one back: no call is made.
	before := pe.sb.QuotaUsed(project)
	_, j = share()
	snoozedToReset(j)
	if after := pe.sb.QuotaUsed(project); after != before {
		t.Errorf("the platform was called (%d → %d units) while the ledger said the quota was used up", before, after)
	}
	if n := len(pe.sb.Posts("youtube")); n != 1 {
		t.Errorf("%d youtube posts, want 1", n)
	}
}

// TestPublish_nativeSchedule: YouTube and Facebook schedule posts
// themselves: the video is uploaded at once and held by the platform, the
// publication is scheduled with its post URL, the file is no longer
// pinned, and the post can no longer be moved or canceled from Outpost.
func TestPublish_nativeSchedule(t *testing.T) {
	if testing.Short() {
		t.Skip("renders with ffmpeg")
	}
	t.Parallel()
	pe := newPubEnv(t, sandbox.Options{})
	yt, fb := pe.connectAccount("youtube"), pe.connectAccount("facebook")
	at := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	d := pe.createExport(pe.key, map[string]any{"project_id": pe.readyClip(),
		"targets": []any{map[string]any{"preset": "mp4-720p", "quality": "web"}},
		"destinations": []any{
			map[string]any{"connection_id": yt.ID, "title": "Launch", "privacy": "public", "schedule_at": at},
			map[string]any{"connection_id": fb.ID, "title": "Launch", "description": "Soon", "schedule_at": at},
		}})
	got := pe.waitPublications(d.ID, func(p outpost.Publication) bool {
		return p.State == store.PublicationScheduled && p.PostURL != ""
	})
	if got.Renditions[0].Pinned {
		t.Error("the file is pinned though every post is on its platform")
	}
	for _, platform := range []string{"youtube", "facebook"} {
		posts := pe.sb.Posts(platform)
		if len(posts) != 1 || posts[0].Status != "scheduled" || posts[0].ScheduledAt == nil || !posts[0].ScheduledAt.Equal(at) {
			t.Errorf("%s posts %+v, want one scheduled at %s", platform, posts, at)
		}
	}
	if p := pe.sb.Posts("youtube"); len(p) == 1 && p[0].Privacy != "private" {
		t.Errorf("youtube scheduled video is %s, want private until its time", p[0].Privacy)
	}
	ytPub := byPlatform(got)["youtube"]
	// The job looks again at the time.
	sp, err := pe.store.GetPublication(t.Context(), ytPub.ID)
	if err != nil {
		t.Fatal(err)
	}
	// The uploaded video's id stays on record: the look at the time
	// resumes with it rather than uploading again.
	var remote publish.State
	if err := json.Unmarshal(sp.RemoteIDs, &remote); err != nil || remote.MediaID == "" {
		t.Errorf("remote ids after scheduling on the platform = %s (%v), want the video id", sp.RemoteIDs, err)
	}
	// The publication is marked scheduled just before its job snoozes
	// until the time: wait for the job to leave running.
	j := waitfor.Value(t, 30*time.Second, func() (*rivertype.JobRow, error) {
		j, err := pe.jobs.Client().JobGet(t.Context(), sp.JobID)
		if err == nil && j.State == rivertype.JobStateRunning {
			err = errors.New("the job is still running")
		}
		return j, err
	}, "the publish job to leave running")
	if j.State != rivertype.JobStateScheduled || j.ScheduledAt.Before(at) || j.ScheduledAt.After(at.Add(time.Minute)) {
		t.Errorf("job %s at %s, want scheduled at %s", j.State, j.ScheduledAt, at)
	}
	wantError(t, pe.post("/api/v1/publications/"+ytPub.ID+"/cancel", nil), http.StatusConflict, "scheduled_on_platform")
	wantError(t, pe.do(request{method: "PATCH", path: "/api/v1/publications/" + ytPub.ID, key: pe.key,
		json: map[string]any{"schedule_at": at.Add(time.Hour)}}), http.StatusConflict, "scheduled_on_platform")
	if n := len(pe.sb.Posts("youtube")); n != 1 {
		t.Errorf("%d youtube posts, want 1", n)
	}
}

// TestPublish_thumbnail: a rendition's thumbnail goes with its YouTube post
// (thumbnails.set after the upload), recorded as done in the remote state.
func TestPublish_thumbnail(t *testing.T) {
	if testing.Short() {
		t.Skip("renders with ffmpeg")
	}
	t.Parallel()
	pe := newPubEnv(t, sandbox.Options{})
	ctx := t.Context()
	yt := pe.connectAccount("youtube")
	d := pe.createExport(pe.key, map[string]any{"project_id": pe.readyClip(),
		"targets": []any{map[string]any{"preset": "mp4-720p", "quality": "web"}}})
	done := pe.waitExport(d.ID, func(d outpost.ExportDetail) bool { return d.Status.Final() }, "rendered")
	// The thumbnail as the render stores it.
	var img bytes.Buffer
	if err := jpeg.Encode(&img, image.NewRGBA(image.Rect(0, 0, 1280, 720)), nil); err != nil {
		t.Fatal(err)
	}
	rend, err := pe.store.GetRendition(ctx, done.Renditions[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	rend.ThumbnailKey = "renditions/" + d.ID + "/thumbnail.jpg"
	if _, err := pe.blob.Put(ctx, rend.ThumbnailKey, &img, "image/jpeg"); err != nil {
		t.Fatal(err)
	}
	if _, err := pe.store.UpdateRendition(ctx, rend); err != nil {
		t.Fatal(err)
	}

	r := pe.post("/api/v1/exports/"+d.ID+"/publications", map[string]any{
		"destinations": []any{map[string]any{"connection_id": yt.ID, "title": "Launch", "privacy": "public"}}})
	want(t, r, http.StatusAccepted)
	got := pe.waitPublications(d.ID, final)
	if p := got.Publications[0]; p.State != store.PublicationPublished {
		t.Fatalf("publication %+v", p)
	}
	posts := pe.sb.Posts("youtube")
	if len(posts) != 1 || !posts[0].Thumbnail {
		t.Errorf("youtube posts %+v, want one with its thumbnail", posts)
	}
	p, err := pe.store.GetPublication(ctx, got.Publications[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	var st publish.State
	if err := json.Unmarshal(p.RemoteIDs, &st); err != nil || !st.IsDone("thumbnail") {
		t.Errorf("remote state %s (%v): thumbnail not recorded as done", p.RemoteIDs, err)
	}
}

// TestPublish_retry: a publication the platform rejected is retried as it
// was (same id, same text) and goes out once; only failed ones retry.
func TestPublish_retry(t *testing.T) {
	if testing.Short() {
		t.Skip("renders with ffmpeg")
	}
	t.Parallel()
	pe := newPubEnv(t, sandbox.Options{})
	yt := pe.connectAccount("youtube")
	if err := pe.sb.Inject(sandbox.Fault{Platform: sandbox.YouTube, Kind: sandbox.FaultReject, Reason: "copyright"}); err != nil {
		t.Fatal(err)
	}
	d := pe.createExport(pe.key, map[string]any{"project_id": pe.readyClip(),
		"targets":      []any{map[string]any{"preset": "mp4-720p", "quality": "web"}},
		"destinations": []any{map[string]any{"connection_id": yt.ID, "preset": "mp4-720p", "title": "Launch", "privacy": "public"}}})
	got := pe.waitPublications(d.ID, final)
	p := got.Publications[0]
	if p.State != store.PublicationFailed {
		t.Fatalf("publication %+v, want failed by the rejection", p)
	}
	r := pe.post("/api/v1/publications/"+p.ID+"/retry", nil)
	want(t, r, http.StatusOK)
	got = pe.waitPublications(d.ID, final)
	if len(got.Publications) != 1 || got.Publications[0].ID != p.ID || got.Publications[0].State != store.PublicationPublished {
		t.Fatalf("after retry: %+v", got.Publications)
	}
	live := 0
	for _, post := range pe.sb.Posts("youtube") {
		if post.Status != "rejected" {
			live++
		}
	}
	if live != 1 {
		t.Errorf("youtube posts %+v, want one live", pe.sb.Posts("youtube"))
	}
	wantError(t, pe.post("/api/v1/publications/"+p.ID+"/retry", nil), http.StatusConflict, "conflict")
}

// TestPublish_captions: an export's caption sidecar goes up with the
// YouTube post (captions.insert) in the requested language.
func TestPublish_captions(t *testing.T) {
	if testing.Short() {
		t.Skip("renders with ffmpeg")
	}
	t.Parallel()
	pe := newPubEnv(t, sandbox.Options{})
	yt := pe.connectAccount("youtube")
	d := pe.createExport(pe.key, map[string]any{"project_id": pe.readyClip(),
		"targets":      []any{map[string]any{"preset": "mp4-720p", "quality": "web"}},
		"captions":     map[string]any{"text": "1\n00:00:00,000 --> 00:00:01,000\nHola\n", "language": "es", "mode": "sidecar"},
		"destinations": []any{map[string]any{"connection_id": yt.ID, "preset": "mp4-720p", "title": "Lanzamiento", "privacy": "public"}}})
	got := pe.waitPublications(d.ID, final)
	if p := got.Publications[0]; p.State != store.PublicationPublished {
		t.Fatalf("publication %+v", p)
	}
	posts := pe.sb.Posts("youtube")
	if len(posts) != 1 || !slices.Equal(posts[0].Captions, []string{"es"}) {
		t.Errorf("youtube posts %+v, want one with Spanish captions", posts)
	}
}

// TestPlatforms: GET /api/v1/platforms lists the platforms from their
// descriptors, in display order: post fields with kinds, limits and
// counting rules, TikTok's privacy a required choice without a default,
// scheduling, presets best first, and whether each can be connected.
func TestPlatforms(t *testing.T) {
	t.Parallel()
	pe := newPubEnvLite(t)
	r := pe.get("/api/v1/platforms")
	want(t, r, http.StatusOK)
	var out struct {
		Data []outpost.Platform `json:"data"`
	}
	r.json(t, &out)
	var ids []string
	for _, p := range out.Data {
		ids = append(ids, p.ID)
		if !p.Configured || p.Name == "" || len(p.Fields) == 0 || len(p.Presets) == 0 {
			t.Errorf("%s: %+v", p.ID, p)
		}
	}
	if !slices.Equal(ids, platforms.IDs()) {
		t.Errorf("platforms %v, want %v", ids, platforms.IDs())
	}
	byID := map[string]outpost.Platform{}
	for _, p := range out.Data {
		byID[p.ID] = p
	}
	field := func(p, name string) publish.Field {
		t.Helper()
		for _, f := range byID[p].Fields {
			if f.Name == name {
				return f
			}
		}
		t.Fatalf("%s has no field %s", p, name)
		return publish.Field{}
	}
	if f := field("tiktok", "privacy"); !f.Required || f.Default != "" || f.Kind != publish.KindSelect || len(f.Choices) != 4 {
		t.Errorf("tiktok privacy %+v", f)
	}
	if f := field("tiktok", "caption"); f.Limit != 2200 || f.Count != publish.CountUTF16 {
		t.Errorf("tiktok caption %+v", f)
	}
	if f := field("youtube", "privacy"); f.Default != "public" || f.Required {
		t.Errorf("youtube privacy %+v", f)
	}
	if f := field("youtube", "description"); f.Limit != 5000 || f.Count != publish.CountBytes {
		t.Errorf("youtube description %+v", f)
	}
	if !byID["youtube"].Schedule.Native || byID["tiktok"].Schedule.Native || byID["youtube"].Presets[0] != "youtube-1080p" {
		t.Errorf("schedule or presets: %+v %+v", byID["youtube"], byID["tiktok"])
	}
	if fb := byID["facebook"].Schedule; !fb.Native || fb.MinAheadSeconds != 600 {
		t.Errorf("facebook schedule %+v", fb)
	}
}

// TestPublish_laterPostsOnStream: posts added to a finished export ("Share
// to additional platforms") are on its event stream: a stream opened from
// the start replays the render's "done", goes on with the new
// publication's events and ends at the "done" that lists it.
func TestPublish_laterPostsOnStream(t *testing.T) {
	if testing.Short() {
		t.Skip("renders with ffmpeg")
	}
	t.Parallel()
	pe := newPubEnv(t, sandbox.Options{})
	yt := pe.connectAccount("youtube")
	d := pe.createExport(pe.key, map[string]any{"project_id": pe.readyClip(),
		"targets": []any{map[string]any{"preset": "mp4-720p", "quality": "web"}}})
	pe.waitExport(d.ID, func(d outpost.ExportDetail) bool { return d.Status.Final() }, "rendered")

	r := pe.post("/api/v1/exports/"+d.ID+"/publications", map[string]any{
		"destinations": []any{map[string]any{"connection_id": yt.ID, "title": "Later", "privacy": "public"}}})
	want(t, r, http.StatusAccepted)

	evs := pe.streamEvents(d.ID, 90*time.Second, 10000) // to the end of the stream
	firstDone, pubs := -1, 0
	for i, ev := range evs {
		switch {
		case ev.event == "done" && firstDone < 0:
			firstDone = i
		case ev.event == "publication" && firstDone >= 0:
			pubs++
		}
	}
	if firstDone < 0 || pubs == 0 {
		t.Fatalf("stream %+v: want the render's done, then the later post's publication events", evs)
	}
	last := evs[len(evs)-1]
	var done events.Done
	if err := json.Unmarshal([]byte(last.data), &done); err != nil || last.event != "done" ||
		len(done.Publications) != 1 || done.Publications[0].State != string(store.PublicationPublished) {
		t.Errorf("last event %+v (%v): want a done listing the published post", last, err)
	}
}

// TestPublish_acceptedDetail checks the 202's detail of an accepted export
// (built from the rows the accept wrote, not read back) against what the
// export's own URL serves: the same document, posts and a scheduled one
// included, and an export with a refused target.
func TestPublish_acceptedDetail(t *testing.T) {
	if testing.Short() {
		t.Skip("probes with ffmpeg")
	}
	t.Parallel()
	pe := newPubEnvLite(t)
	yt, tt := pe.connectAccount("youtube"), pe.connectAccount("tiktok")
	prj := pe.readyClip()
	for _, tc := range []struct {
		name string
		body map[string]any
	}{
		{"posts", map[string]any{"project_id": prj,
			"targets": []any{map[string]any{"preset": "mp4-720p", "quality": "web"}, map[string]any{"preset": "tiktok"}},
			"labels":  map[string]any{"client": "Acme", "campaign": "spring"},
			"destinations": []any{
				map[string]any{"connection_id": yt.ID, "preset": "mp4-720p", "title": "Launch", "privacy": "public",
					"schedule_at": time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339)},
				map[string]any{"connection_id": tt.ID, "preset": "tiktok", "caption": "Out now", "privacy": "public"},
			}}},
		// A 1-second clip is too short for a Reel.
		{"refused target", map[string]any{"project_id": prj,
			"targets": []any{map[string]any{"preset": "mp4-720p"}, map[string]any{"preset": "instagram-reel"}},
			"destinations": []any{
				map[string]any{"connection_id": yt.ID, "preset": "mp4-720p", "title": "Launch", "privacy": "public"},
			}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := pe.do(request{method: "POST", path: "/api/v1/exports", key: pe.key, json: tc.body})
			want(t, r, http.StatusAccepted)
			var d outpost.ExportDetail
			r.json(t, &d)
			if tc.name == "refused target" && (len(d.Refused) != 1 || len(d.Publications) != 1) {
				t.Fatalf("refused %+v, posts %+v: want the Reel refused and the one post", d.Refused, d.Publications)
			}
			got := pe.get("/api/v1/exports/" + d.ID)
			want(t, got, http.StatusOK)
			if !bytes.Equal(r.body, got.body) {
				t.Errorf("the 202's detail differs from the export's:\n202: %s\nGET: %s", r.body, got.body)
			}
		})
	}
}
