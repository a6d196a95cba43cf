package ui

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"outpost/internal/errcode"
	"outpost/internal/media/mediatest"
	"outpost/internal/outpost"
	"outpost/internal/sandbox"
	"outpost/internal/store"
	"outpost/internal/waitfor"
)

// connectThroughUI connects a sandbox account as the Connect button does:
// /connect/{platform} → the platform (auto-approving) → our callback → back
// to /connections with a flash.
func (b *browser) connectThroughUI(platform string) resp {
	b.t.Helper()
	r := b.get("/connect/" + platform + "?return_to=" + url.QueryEscape("/connections"))
	want(b.t, r, http.StatusFound)
	res, err := b.c.Get(r.header.Get("Location")) // the sandbox answers with a redirect to our callback
	if err != nil {
		b.t.Fatal(err)
	}
	res.Body.Close()
	cb, err := url.Parse(res.Header.Get("Location"))
	if err != nil || cb.Path != "/oauth/"+platform+"/callback" {
		b.t.Fatalf("sandbox authorize: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	r = b.get(cb.RequestURI())
	want(b.t, r, http.StatusSeeOther)
	if loc := r.header.Get("Location"); loc != "/connections?connected="+platform {
		b.t.Fatalf("callback sent the browser to %q", loc)
	}
	return b.get(r.header.Get("Location"))
}

func (b *browser) postJSON(path, body string) resp {
	return b.do("POST", path, strings.NewReader(body), "Content-Type", "application/json",
		"Accept", "application/json")
}

// waitPublications polls until every publication of the export is in a
// state of states.
func waitPublications(t *testing.T, e *env, exportID string, states ...store.PublicationState) []store.Publication {
	t.Helper()
	// A render and its posts, on a loaded machine.
	return waitfor.Value(t, 3*time.Minute, func() ([]store.Publication, error) {
		ps, err := e.store.ListPublications(t.Context(), exportID)
		if err == nil && (len(ps) == 0 || slices.ContainsFunc(ps, func(p store.Publication) bool { return !slices.Contains(states, p.State) })) {
			err = fmt.Errorf("%+v", ps)
		}
		return ps, err
	}, "publications of %s in %v", exportID, states)
}

// waitPublication polls a publication until ok holds.
func waitPublication(t *testing.T, e *env, id string, ok func(store.Publication) bool, what string) store.Publication {
	t.Helper()
	return waitfor.Value(t, 60*time.Second, func() (store.Publication, error) {
		p, err := e.store.GetPublication(t.Context(), id)
		if err == nil && !ok(p) {
			err = fmt.Errorf("%+v", p)
		}
		return p, err
	}, "publication %s %s", id, what)
}

// TestHandler_publishing covers the publishing pages over HTTP against
// the sandbox: connect, plain refusals of posts the platform would refuse,
// share, the export page's posts, retry, schedule, reschedule, cancel,
// disconnect; and webhooks: add (secret once), deliveries, redeliver,
// delete.
func TestHandler_publishing(t *testing.T) {
	if testing.Short() {
		t.Skip("renders with ffmpeg")
	}
	t.Parallel()
	e := newEnv(t, envOptions{admin: "ada@example.com", workers: true, publish: true, autoApprove: true})
	b := e.browser()
	want(t, b.signIn("ada@example.com", testPassword), http.StatusSeeOther)

	r := b.get("/connections")
	want(t, r, http.StatusOK)
	for _, s := range []string{"Connect YouTube account", "Connect TikTok account", "No YouTube account connected yet"} {
		if !strings.Contains(r.body, s) {
			t.Errorf("connections page lacks %q", s)
		}
	}
	r = b.connectThroughUI("youtube")
	for _, s := range []string{"Connected to YouTube", sandbox.YouTubeChannelName, "Active", "Disconnect", e.sbURL + "/_sandbox/avatar/" + sandbox.YouTubeChannelID + ".png"} {
		if !strings.Contains(r.body, s) {
			t.Errorf("connections page after connecting lacks %q", s)
		}
	}
	cs, err := e.store.ListConnections(t.Context(), e.ws.ID)
	if err != nil || len(cs) != 1 {
		t.Fatalf("connections: %v %v", cs, err)
	}
	conn := cs[0]
	// Avatars from the platform's origin are allowed by the page's CSP.
	if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "img-src 'self' data: blob: https: "+e.sbURL) {
		t.Errorf("CSP: %s", csp)
	}

	clip := mediatest.Generate(t, mediatest.Spec{Width: 320, Height: 180, Duration: 2, Audio: true})
	r = b.upload(clip, map[string]string{"name": "Share test", "campaign": "Autumn"}, "Accept", "application/json")
	want(t, r, http.StatusCreated)
	var prj struct{ ID string }
	_ = json.Unmarshal([]byte(r.body), &prj)

	// The modal lists the account with its platform's fields and limits.
	r = b.get("/projects/" + prj.ID + "/export-options")
	want(t, r, http.StatusOK)
	var opts exportOptionsJSON
	if err := json.Unmarshal([]byte(r.body), &opts); err != nil {
		t.Fatal(err)
	}
	if len(opts.Connections) != 1 || opts.Connections[0].ID != conn.ID || opts.Connections[0].Name != sandbox.YouTubeChannelName ||
		len(opts.Platforms) != 1 || opts.Platforms[0].Fields[0].Limit != 100 {
		t.Fatalf("share options: %+v %+v", opts.Connections, opts.Platforms)
	}
	// Nothing is ticked until the person saves a "share to" default.
	if len(opts.ShareDefaults) != 0 {
		t.Errorf("share defaults before any was saved: %v", opts.ShareDefaults)
	}
	want(t, b.postJSON("/share-defaults", `{"connection_ids":["`+conn.ID+`"]}`), http.StatusOK)
	r = b.postJSON("/share-defaults", `{"connection_ids":["con_missing"]}`)
	if r.status != http.StatusNotFound || !strings.Contains(r.body, "not_found") {
		t.Errorf("a default of a missing account: %d %s", r.status, r.body)
	}
	r = b.get("/projects/" + prj.ID + "/export-options")
	want(t, r, http.StatusOK)
	if err := json.Unmarshal([]byte(r.body), &opts); err != nil || len(opts.ShareDefaults) != 1 || opts.ShareDefaults[0] != conn.ID {
		t.Errorf("share defaults after saving: %v, %v", opts.ShareDefaults, err)
	}

	// The Connections page shows the default ticked; saving it with
	// nothing ticked clears it, and ticking the account saves it again.
	savedBox := `name="account" value="` + conn.ID + `" checked>`
	if r = b.get("/connections"); !strings.Contains(r.body, "Share to, by default") || !strings.Contains(r.body, savedBox) {
		t.Error("the Connections page does not show the saved share-to default ticked")
	}
	savedDefaults := func() []string {
		r := b.get("/projects/" + prj.ID + "/export-options")
		var opts exportOptionsJSON
		if err := json.Unmarshal([]byte(r.body), &opts); err != nil {
			t.Fatal(err)
		}
		return opts.ShareDefaults
	}
	r = b.postForm("/connections/share-default", url.Values{})
	want(t, r, http.StatusSeeOther)
	if got := savedDefaults(); len(got) != 0 {
		t.Errorf("after saving none ticked: %v", got)
	}
	if r = b.get(r.header.Get("Location")); !strings.Contains(r.body, "Shares start with nothing ticked.") || strings.Contains(r.body, savedBox) {
		t.Error("the Connections page after clearing the default")
	}
	want(t, b.postForm("/connections/share-default", url.Values{"account": {conn.ID}}), http.StatusSeeOther)
	if got := savedDefaults(); len(got) != 1 || got[0] != conn.ID {
		t.Errorf("after saving the account ticked: %v", got)
	}

	// An export made for download only offers the saved account ticked
	// under "Share to additional platforms" once its file is ready.
	r = b.postJSON("/exports", `{"project_id":"`+prj.ID+`","targets":[{"preset":"youtube-1080p","quality":"web"}],"distribution":"download"}`)
	want(t, r, http.StatusCreated)
	var dl struct{ ID, URL string }
	_ = json.Unmarshal([]byte(r.body), &dl)
	waitfor.Check(t, 3*time.Minute, func() error {
		d, err := e.store.GetExport(t.Context(), dl.ID)
		if err == nil && !d.Status.Final() {
			err = fmt.Errorf("status %s", d.Status)
		}
		return err
	}, "the download-only export never finished")
	tickedBox := `value="` + conn.ID + `" data-platform="youtube" checked>`
	if r = b.get(dl.URL); !strings.Contains(r.body, tickedBox) {
		t.Error("the saved account is not ticked under Share to additional platforms")
	}

	// A title over YouTube's limit is refused before anything renders,
	// plainly, naming the account.
	long := strings.Repeat("x", 120)
	r = b.postJSON("/exports", `{"project_id":"`+prj.ID+`","targets":[{"preset":"mp4-720p","quality":"web"}],"distribution":"share",
		"destinations":[{"connection_id":"`+conn.ID+`","preset":"mp4-720p","title":"`+long+`"}]}`)
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "YouTube (Sandbox Channel): Title is 120 characters; YouTube allows 100") {
		t.Errorf("long title: %d %s", r.status, r.body)
	}
	r = b.postJSON("/exports", `{"project_id":"`+prj.ID+`","targets":[{"preset":"mp4-720p","quality":"web"}],"distribution":"share","destinations":[]}`)
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, "no account is ticked") { // invalid_option, as in the API
		t.Errorf("share without accounts: %d %s", r.status, r.body)
	}

	// The first post is rejected by the platform twice: the export says
	// so (not "done"), the failed post comes first with its reason, Retry
	// and Edit and retry; a retry is rejected again, and an edit posts it.
	if err := e.sb.Inject(sandbox.Fault{Platform: sandbox.YouTube, Kind: sandbox.FaultReject, Reason: "copyright", Count: 2}); err != nil {
		t.Fatal(err)
	}
	r = b.postJSON("/exports", `{"project_id":"`+prj.ID+`","targets":[{"preset":"mp4-720p","quality":"web"},{"preset":"youtube-1080p","quality":"web"}],"distribution":"share",
		"destinations":[{"connection_id":"`+conn.ID+`","preset":"youtube-1080p","title":"Share test","description":"More: https://example.com/x","tags":["a","b"],"privacy":"unlisted"}]}`)
	want(t, r, http.StatusCreated)
	var ex struct{ ID, URL string }
	_ = json.Unmarshal([]byte(r.body), &ex)
	ps := waitPublications(t, e, ex.ID, store.PublicationFailed)
	r = b.get(ex.URL)
	want(t, r, http.StatusOK)
	for _, s := range []string{`id="p-` + ps[0].ID + `"`, "Ready — 1 of 1 post failed", `<span class="status status-warn">`,
		`id="att-` + ps[0].ID + `"`, "The platform refused the post — YouTube", "copyright", "Details: error code <code>platform_rejected</code>",
		"/publications/" + ps[0].ID + "/retry", "Edit and retry", `action="/publications/` + ps[0].ID + `/edit"`,
		`name="youtube.title" value="Share test"`, "What to do:", "Share to additional platforms"} {
		if !strings.Contains(r.body, s) {
			t.Errorf("export page with a failed post lacks %q", s)
		}
	}
	if strings.Contains(r.body, "Your files are ready") {
		t.Error("the export page says the files are ready as if nothing failed")
	}
	if strings.Contains(r.body, tickedBox) {
		t.Error("the saved account is ticked to share to again though the export has a post there")
	}
	// The API answers the same overall state: both read the service's.
	if d, err := e.svc.Exports.Get(t.Context(), e.ws.ID, ex.ID); err != nil || d.Outcome.State != outpost.OutcomeAttention ||
		d.Outcome.Summary != "Ready — 1 of 1 post failed" || d.Publications[0].Action != outpost.PostRetry {
		t.Errorf("the service's outcome: %+v, %v", d.Outcome, err)
	}
	want(t, b.postForm("/publications/"+ps[0].ID+"/retry", url.Values{}), http.StatusSeeOther)
	waitPublication(t, e, ps[0].ID, func(p store.Publication) bool {
		return p.State == store.PublicationFailed && p.Attempts > 0 && p.UpdatedAt.After(ps[0].UpdatedAt)
	}, "failed again")
	// An edit is checked against the platform's rules first.
	r = b.postForm("/publications/"+ps[0].ID+"/edit", url.Values{"youtube.title": {strings.Repeat("y", 120)}, "youtube.privacy": {"unlisted"}}, "Accept", "application/json")
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "caption_too_long") {
		t.Errorf("an edit over YouTube's limit: %d %s", r.status, r.body)
	}
	want(t, b.postForm("/publications/"+ps[0].ID+"/edit", url.Values{"youtube.title": {"Share test, edited"},
		"youtube.description": {"More: https://example.com/x"}, "youtube.tags": {"a, b"}, "youtube.privacy": {"unlisted"}}), http.StatusSeeOther)
	ps = waitPublications(t, e, ex.ID, store.PublicationPublished)
	if len(ps) != 1 || ps[0].State != store.PublicationPublished || ps[0].PostURL == "" {
		t.Fatalf("after the edit: %+v", ps)
	}
	live := 0
	for _, p := range e.sb.Posts(sandbox.YouTube) {
		if p.Status != "rejected" {
			live++
			if p.Title != "Share test, edited" {
				t.Errorf("the post went out as %q, not as edited", p.Title)
			}
		}
	}
	if live != 1 {
		t.Errorf("sandbox posts: %+v", e.sb.Posts(sandbox.YouTube))
	}
	r = b.get(ex.URL)
	for _, s := range []string{"Published", ps[0].PostURL, "View post", "Your files are ready"} {
		if !strings.Contains(r.body, s) {
			t.Errorf("export page after the edit lacks %q", s)
		}
	}
	// History: the platform filter finds it by its post.
	r = b.get("/history?platform=youtube")
	if !strings.Contains(r.body, `data-row="`+ex.ID+`"`) {
		t.Error("the YouTube filter does not list the export posted to YouTube")
	}

	// A revoked grant: the post fails with connection_expired and says
	// to reconnect; reconnecting sends it.
	if err := e.sb.Inject(sandbox.Fault{Platform: sandbox.YouTube, Kind: sandbox.FaultRevoke}); err != nil {
		t.Fatal(err)
	}
	r = b.postJSON("/exports/"+ex.ID+"/publications", `{"destinations":[{"connection_id":"`+conn.ID+`","preset":"mp4-720p","title":"Expired"}]}`)
	want(t, r, http.StatusOK)
	ps, _ = e.store.ListPublications(t.Context(), ex.ID)
	expired := waitPublication(t, e, ps[len(ps)-1].ID, func(p store.Publication) bool { return p.State == store.PublicationFailed }, "failed")
	r = b.get(ex.URL)
	for _, s := range []string{"Platform authentication expired — reconnect YouTube", "Reconnect YouTube",
		`/connect/youtube?return_to=/exports/` + ex.ID} {
		if !strings.Contains(r.body, s) {
			t.Errorf("export page with an expired account lacks %q", s)
		}
	}
	r = b.get("/connections")
	if !strings.Contains(r.body, "Expired") || !strings.Contains(r.body, "Reconnect to post to this account again.") {
		t.Error("connections page does not show the account expired")
	}
	b.connectThroughUI("youtube")
	waitPublication(t, e, expired.ID, func(p store.Publication) bool { return p.State == store.PublicationPublished }, "published after the reconnect")

	// Share more, scheduled: the form of the success screen. YouTube
	// schedules natively: the video is uploaded now and the platform
	// publishes it at the time, so the page offers no cancel.
	at := time.Now().Add(2 * time.Hour).UTC()
	r = b.postForm("/exports/"+ex.ID+"/publications", url.Values{"account": {conn.ID}, "preset": {"mp4-720p"},
		"youtube.title": {"Again"}, "youtube.tags": {"x, y"}, "youtube.privacy": {"private"},
		"schedule_at": {at.Format("2006-01-02T15:04")}, "tz_offset": {"0"}})
	want(t, r, http.StatusSeeOther)
	ps, _ = e.store.ListPublications(t.Context(), ex.ID)
	native := waitPublication(t, e, ps[len(ps)-1].ID, func(p store.Publication) bool {
		return p.State == store.PublicationScheduled && p.PostURL != ""
	}, "scheduled on the platform")
	r = b.get(ex.URL)
	if !strings.Contains(r.body, "Scheduled on YouTube") || strings.Contains(r.body, "/publications/"+native.ID+"/cancel") {
		t.Errorf("export page with a post scheduled on YouTube: want its status and no cancel")
	}

	// TikTok has no scheduling of its own: the post waits here and can
	// be moved or canceled.
	b.connectThroughUI("tiktok")
	cs, _ = e.store.ListConnections(t.Context(), e.ws.ID)
	var tt store.Connection
	for _, c := range cs {
		if c.Platform == "tiktok" {
			tt = c
		}
	}
	// Its fields on the share form come from its descriptor: the caption
	// counted in UTF-16 units, and privacy a choice the user must make
	// (no default); a share without one is refused, saying so.
	r = b.get(ex.URL)
	for _, s := range []string{`<fieldset class="pf" data-platform="tiktok">`,
		`name="tiktok.caption" rows="2" data-field="caption" data-kind="textarea" data-label="Caption" data-limit="2200" data-count="utf16"`,
		`name="tiktok.privacy" data-field="privacy" data-kind="select" data-label="Who can watch" data-required="1"><option value="">Choose…</option><option value="public">Everyone</option>`,
		`<option value="public" selected>Public</option>`} {
		if !strings.Contains(r.body, s) {
			t.Errorf("share form lacks %s", s)
		}
	}
	r = b.postForm("/exports/"+ex.ID+"/publications", url.Values{"account": {tt.ID}, "preset": {"mp4-720p"},
		"tiktok.caption": {"No choice"}, "tiktok.privacy": {""}})
	want(t, r, http.StatusBadRequest)
	if !strings.Contains(r.body, "TikTok requires an explicit choice") {
		t.Errorf("share without a TikTok privacy choice: %s", r.body)
	}
	r = b.postForm("/exports/"+ex.ID+"/publications", url.Values{"account": {tt.ID}, "preset": {"mp4-720p"},
		"tiktok.caption": {"Again, later"}, "tiktok.privacy": {"private"}, "schedule_at": {at.Format("2006-01-02T15:04")}, "tz_offset": {"0"}})
	want(t, r, http.StatusSeeOther)
	ps, _ = e.store.ListPublications(t.Context(), ex.ID)
	sched := ps[len(ps)-1]
	if sched.State != store.PublicationScheduled || sched.ScheduleAt == nil || !sched.ScheduleAt.Truncate(time.Minute).Equal(at.Truncate(time.Minute)) {
		t.Fatalf("scheduled share: %+v", sched)
	}
	// A live post whose last attempt failed says so while it waits.
	if err := e.store.NotePublicationError(t.Context(), sched.ID, errcode.PlatformUnavailable, "tiktok: 503 try again"); err != nil {
		t.Fatal(err)
	}
	r = b.get(ex.URL)
	for _, s := range []string{"Scheduled", "/publications/" + sched.ID + "/reschedule", "/publications/" + sched.ID + "/cancel",
		"Retrying after an error", "503 try again"} {
		if !strings.Contains(r.body, s) {
			t.Errorf("export page with a scheduled post lacks %q", s)
		}
	}
	later := at.Add(24 * time.Hour)
	want(t, b.postForm("/publications/"+sched.ID+"/reschedule", url.Values{
		"schedule_at": {later.Format("2006-01-02T15:04")}, "tz_offset": {"0"}}), http.StatusSeeOther)
	if p, _ := e.store.GetPublication(t.Context(), sched.ID); p.ScheduleAt == nil || !p.ScheduleAt.Truncate(time.Minute).Equal(later.Truncate(time.Minute)) {
		t.Errorf("rescheduled: %+v", p)
	}
	want(t, b.postForm("/publications/"+sched.ID+"/cancel", url.Values{}), http.StatusSeeOther)
	if p, _ := e.store.GetPublication(t.Context(), sched.ID); p.State != store.PublicationCanceled {
		t.Errorf("canceled: %+v", p)
	}
	// The live view shows how much of an uploading post's file went out,
	// as its last event said (the database does not keep it).
	if r := b.get("/exports/" + ex.ID + "/live?up=" + sched.ID + ":42"); strings.Contains(r.body, "42 % sent") {
		t.Error("a canceled post shows an upload in progress")
	}
	up, _ := e.store.GetPublication(t.Context(), sched.ID)
	up.State = store.PublicationUploading
	if _, err := e.store.UpdatePublication(t.Context(), up); err != nil {
		t.Fatal(err)
	}
	if r := b.get("/exports/" + ex.ID + "/live?up=" + sched.ID + ":42.7&up=bogus"); !strings.Contains(r.body, "42 % sent") {
		t.Error("the live view does not show the upload's progress")
	}
	up.State = store.PublicationCanceled
	if _, err := e.store.UpdatePublication(t.Context(), up); err != nil {
		t.Fatal(err)
	}

	// Webhooks: add (the secret shows once), deliveries, redeliver, delete.
	var hits atomic.Int32
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		hits.Add(1)
	}))
	defer hook.Close()
	r = b.get("/webhooks")
	want(t, r, http.StatusOK)
	r = b.postForm("/webhooks", url.Values{"url": {hook.URL + "/in"}, "events": {"export.succeeded", "publication.published"}})
	want(t, r, http.StatusCreated)
	if !strings.Contains(r.body, "whsec_") || !strings.Contains(r.body, "shown this once") {
		t.Errorf("new endpoint page: %s", r.body)
	}
	r = b.get("/webhooks")
	if strings.Contains(r.body, "whsec_") || !strings.Contains(r.body, hook.URL+"/in") {
		t.Errorf("webhooks page shows the secret again, or not the endpoint")
	}
	eps, _ := e.store.ListWebhookEndpoints(t.Context(), e.ws.ID)
	if len(eps) != 1 {
		t.Fatalf("endpoints: %+v", eps)
	}
	// A post fires publication.published.
	r = b.postJSON("/exports/"+ex.ID+"/publications", `{"destinations":[{"connection_id":"`+conn.ID+`","preset":"mp4-720p","title":"Third"}]}`)
	want(t, r, http.StatusOK)
	ds := waitfor.Value(t, 60*time.Second, func() ([]store.WebhookDelivery, error) {
		ds, err := e.store.ListWebhookDeliveries(t.Context(), eps[0].ID, 10)
		if err == nil && (len(ds) == 0 || ds[0].Status != store.DeliverySucceeded) {
			err = fmt.Errorf("%+v", ds)
		}
		return ds, err
	}, "a delivery succeeded")
	r = b.get("/webhooks")
	for _, s := range []string{"publication.published", "Delivered", "HTTP 200", "/webhook-deliveries/" + ds[0].ID + "/redeliver"} {
		if !strings.Contains(r.body, s) {
			t.Errorf("delivery log lacks %q", s)
		}
	}
	before := hits.Load()
	want(t, b.postForm("/webhook-deliveries/"+ds[0].ID+"/redeliver", url.Values{}), http.StatusSeeOther)
	waitfor.True(t, 30*time.Second, func() bool { return hits.Load() != before }, "the redelivery sent")
	want(t, b.postForm("/webhooks/"+eps[0].ID+"/delete", url.Values{}), http.StatusSeeOther)
	if eps, _ := e.store.ListWebhookEndpoints(t.Context(), e.ws.ID); len(eps) != 0 {
		t.Errorf("after delete: %+v", eps)
	}

	// Disconnect: the account goes; its scheduled posts would be canceled.
	want(t, b.postForm("/connections/"+conn.ID+"/disconnect", url.Values{}, "Sec-Fetch-Site", "cross-site"), http.StatusForbidden)
	r = b.postForm("/connections/"+conn.ID+"/disconnect", url.Values{})
	want(t, r, http.StatusSeeOther)
	r = b.get(r.header.Get("Location"))
	if !strings.Contains(r.body, "Disconnected YouTube "+sandbox.YouTubeChannelName) || !strings.Contains(r.body, "No YouTube account connected yet") {
		t.Errorf("after disconnect: %s", r.body)
	}
	r = b.get("/projects/" + prj.ID + "/export-options")
	if strings.Contains(r.body, conn.ID) || !strings.Contains(r.body, tt.ID) {
		t.Errorf("the modal still offers the disconnected account: %s", r.body)
	}
}
