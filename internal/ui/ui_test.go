package ui

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"html"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"outpost/internal/config"
	"outpost/internal/errcode"
	"outpost/internal/events"
	"outpost/internal/media"
	"outpost/internal/media/mediatest"
	"outpost/internal/outpost"
	"outpost/internal/preset"
	"outpost/internal/store"
	"outpost/internal/storetest"
)

func cookieNamed(h http.Header, name string) *http.Cookie {
	for _, c := range (&http.Response{Header: h}).Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func TestHandler_setupLink(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	link := e.ui.SetupURL(e.cfg.PublicURL)
	if !strings.HasPrefix(link, e.cfg.PublicURL+"/setup?token=") {
		t.Fatalf("SetupURL = %q", link)
	}
	u, _ := url.Parse(link)
	token := u.Query().Get("token")
	b := e.browser()

	r := b.get("/")
	want(t, r, http.StatusSeeOther)
	if loc := r.header.Get("Location"); !strings.HasPrefix(loc, "/signin") {
		t.Fatalf("/ redirects to %q", loc)
	}
	if r = b.get("/signin"); !strings.Contains(r.body, "No account exists yet") {
		t.Errorf("sign-in page does not explain the first run: %s", r.body)
	}
	want(t, b.get("/setup?token=wrong"), http.StatusNotFound)

	r = b.get("/setup?token=" + token)
	want(t, r, http.StatusOK)
	form := url.Values{"token": {token}, "email": {"Owner@Example.com"}, "name": {"Owner"},
		"password": {testPassword}, "confirm": {testPassword}}

	// From another site the setup is refused and nothing is made.
	want(t, b.postForm("/setup", form, "Origin", "https://evil.example"), http.StatusForbidden)
	want(t, b.postForm("/setup", form, "Sec-Fetch-Site", "cross-site"), http.StatusForbidden)
	if ok, err := e.svc.Accounts.HasUsers(t.Context()); ok || err != nil {
		t.Fatalf("a refused setup made a user (%v)", err)
	}
	form.Set("confirm", "something else")
	r = b.postForm("/setup", form)
	want(t, r, http.StatusUnprocessableEntity)
	if !strings.Contains(r.body, "The two passwords differ") {
		t.Errorf("mismatch not explained: %s", r.body)
	}
	form.Set("confirm", testPassword)
	r = b.postForm("/setup", form)
	want(t, r, http.StatusSeeOther)
	c := cookieNamed(r.header, sessionCookie)
	if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Secure || c.Path != "/" {
		t.Fatalf("session cookie %+v", c)
	}
	if e.ui.SetupURL(e.cfg.PublicURL) != "" {
		t.Error("setup link still open after the admin was created")
	}
	u2, err := e.store.GetUserByEmail(t.Context(), "owner@example.com")
	if err != nil || u2.Role != store.RoleOwner || u2.WorkspaceID != e.ws.ID || u2.PasswordHash == testPassword {
		t.Fatalf("admin %+v, %v", u2, err)
	}
	want(t, b.get("/projects"), http.StatusOK)
	// The link is one-time.
	want(t, e.browser().postForm("/setup", form), http.StatusNotFound)
}

func TestHandler_adminFromConfig(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{configure: func(c *config.Config) {
		c.AdminEmail, c.AdminPassword = "boss@example.com", testPassword
	}})
	if l := e.ui.SetupURL(e.cfg.PublicURL); l != "" {
		t.Errorf("SetupURL = %q with a configured admin", l)
	}
	b := e.browser()
	want(t, b.signIn("boss@example.com", testPassword), http.StatusSeeOther)
	if r := b.get("/projects"); !strings.Contains(r.body, "boss@example.com") {
		t.Errorf("signed-in page does not show the user")
	}
}

func TestHandler_signIn(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{admin: "ada@example.com"})
	b := e.browser()

	r := b.get("/history?status=failed")
	want(t, r, http.StatusSeeOther)
	if loc := r.header.Get("Location"); loc != "/signin?next=%2Fhistory%3Fstatus%3Dfailed" {
		t.Errorf("Location %q", loc)
	}
	r = b.signIn("ada@example.com", "wrong password")
	want(t, r, http.StatusUnauthorized)
	if !strings.Contains(r.body, "Wrong email or password") || !strings.Contains(r.body, "What to do:") {
		t.Errorf("failure not explained: %s", r.body)
	}
	want(t, b.signIn("nobody@example.com", testPassword), http.StatusUnauthorized)

	want(t, b.get("/signin?next=/history"), http.StatusOK)
	r = b.postForm("/signin", url.Values{"email": {"ADA@example.com "},
		"password": {testPassword}, "next": {"/history"}})
	want(t, r, http.StatusSeeOther)
	if loc := r.header.Get("Location"); loc != "/history" {
		t.Errorf("after sign-in: %q", loc)
	}
	c := cookieNamed(r.header, sessionCookie)
	if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.MaxAge < 86400 {
		t.Fatalf("session cookie %+v", c)
	}
	want(t, b.get("/history"), http.StatusOK)

	// An open redirect is not followed.
	for _, next := range []string{"//evil.example", "https://evil.example/", "/\\evil"} {
		if got := safeNext(next); got != "/projects" {
			t.Errorf("safeNext(%q) = %q", next, got)
		}
	}

	// Sign out ends the session on the server, not only in the browser.
	token := c.Value
	r = b.postForm("/signout", url.Values{})
	want(t, r, http.StatusSeeOther)
	if _, err := e.store.LookupSession(t.Context(), token, time.Now()); err == nil {
		t.Error("session still valid after sign-out")
	}
	want(t, b.get("/projects"), http.StatusSeeOther)
}

func TestHandler_secureCookieBehindHTTPS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{admin: "ada@example.com", configure: func(c *config.Config) {
		c.PublicURL = "https://outpost.example.com"
	}})
	b := e.browser()
	// A form sent from the public origin, which the server trusts though
	// it sees another host (a proxy's).
	r := b.do("POST", "/signin", strings.NewReader(url.Values{"email": {"ada@example.com"},
		"password": {testPassword}}.Encode()), "Content-Type", "application/x-www-form-urlencoded",
		"Origin", "https://outpost.example.com", "Sec-Fetch-Site", "same-origin")
	want(t, r, http.StatusSeeOther)
	if c := cookieNamed(r.header, sessionCookie); c == nil || !c.Secure || !c.HttpOnly {
		t.Fatalf("session cookie %+v", c)
	}
}

// TestHandler_crossOrigin: state-changing requests a browser marks as
// coming from another site are refused (http.CrossOriginProtection);
// same-origin forms and scripts need no token.
func TestHandler_crossOrigin(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{admin: "ada@example.com"})
	b := e.browser()
	want(t, b.signIn("ada@example.com", testPassword), http.StatusSeeOther)
	form := url.Values{"name": {"Shorts web"}, "base_preset_id": {"youtube-shorts"}, "quality": {"web"}}

	r := b.postForm("/presets", form, "Origin", "https://evil.example")
	want(t, r, http.StatusForbidden)
	if !strings.Contains(r.body, "Reload the page") {
		t.Errorf("cross-origin refusal not explained: %s", r.body)
	}
	want(t, b.postForm("/presets", form, "Sec-Fetch-Site", "cross-site"), http.StatusForbidden)
	want(t, b.postForm("/presets", form, "Sec-Fetch-Site", "same-site"), http.StatusForbidden)
	if ps, _ := e.store.ListPresets(t.Context(), e.ws.ID); len(ps) != 0 {
		t.Fatalf("refused requests created presets: %+v", ps)
	}

	want(t, b.postForm("/presets", form, "Origin", e.ts.URL, "Sec-Fetch-Site", "same-origin"), http.StatusSeeOther)
	// Scripts send JSON from the page: same origin, no token.
	body := `{"name":"Reel crop","base_preset_id":"instagram-reel","fit":"crop"}`
	r = b.do("POST", "/presets", strings.NewReader(body), "Content-Type", "application/json",
		"Accept", "application/json", "Sec-Fetch-Site", "same-origin")
	want(t, r, http.StatusCreated)
	// Without a session, scripts get JSON, not a sign-in page.
	r = e.browser().do("POST", "/exports", strings.NewReader(`{}`), "Content-Type", "application/json", "Accept", "application/json")
	want(t, r, http.StatusUnauthorized)
	if !strings.Contains(r.body, `"code":"unauthorized"`) {
		t.Errorf("body %s", r.body)
	}
}

func TestHandler_staticAndHeaders(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{admin: "ada@example.com"})
	b := e.browser()
	for _, p := range []string{"/static/app.js", "/static/app.css", "/static/icon.svg"} {
		r := b.get(p)
		want(t, r, http.StatusOK)
		if len(r.body) < 100 {
			t.Errorf("%s: %d bytes", p, len(r.body))
		}
	}
	r := b.get("/signin")
	if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP %q", csp)
	}
	if strings.Contains(r.body, "https://") {
		t.Error("a page links to another site (CDN?)")
	}
	want(t, b.signIn("ada@example.com", testPassword), http.StatusSeeOther)
	r = b.get("/no/such/page")
	want(t, r, http.StatusNotFound)
	if !strings.Contains(r.body, "Page not found") {
		t.Errorf("404 page: %s", r.body)
	}
	for p, s := range map[string]string{"/connections": "OUTPOST_YOUTUBE_CLIENT_ID", "/webhooks": "Add an endpoint"} {
		r := b.get(p)
		want(t, r, http.StatusOK)
		if !strings.Contains(r.body, s) {
			t.Errorf("%s lacks %q", p, s)
		}
	}
	// The API keeps its own routes: a signed-in browser may call them (its
	// role decides), a browser without a session may not.
	want(t, b.get("/healthz"), http.StatusOK)
	want(t, b.get("/api/v1/presets"), http.StatusOK)
	want(t, e.browser().get("/api/v1/presets"), http.StatusUnauthorized)
}

// upload posts a file as the page's script does.
func (b *browser) upload(path string, fields map[string]string, header ...string) resp {
	b.t.Helper()
	return b.postFile("/projects", "file", path, fields, header...)
}

// postFile posts a multipart form with fields and, unless path is "", the
// file at path as field.
func (b *browser) postFile(action, field, path string, fields map[string]string, header ...string) resp {
	b.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	if path != "" {
		fw, _ := mw.CreateFormFile(field, filepath.Base(path))
		data, err := os.ReadFile(path)
		if err != nil {
			b.t.Fatal(err)
		}
		_, _ = fw.Write(data)
	}
	_ = mw.Close()
	return b.do("POST", action, &buf, append([]string{"Content-Type", mw.FormDataContentType()}, header...)...)
}

// testPNG writes a w×h PNG (a two-colour logo with transparency) and
// returns its path.
func testPNG(t *testing.T, w, h int) string {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			if (x/8+y/8)%2 == 0 {
				img.Set(x, y, color.NRGBA{0xe0, 0x20, 0x40, 0xff})
			}
		}
	}
	path := filepath.Join(t.TempDir(), "logo.png")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(png.Encode(f, img), f.Close()); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestHandler_projectsExportsHistory(t *testing.T) {
	if testing.Short() {
		t.Skip("runs ffmpeg")
	}
	t.Parallel()
	e := newEnv(t, envOptions{admin: "ada@example.com"})
	b := e.browser()
	want(t, b.signIn("ada@example.com", testPassword), http.StatusSeeOther)
	clip := mediatest.Generate(t, mediatest.Spec{Width: 360, Height: 640, Duration: 2.5, Audio: true})

	// An upload from another site is refused before the file is read.
	want(t, b.upload(clip, map[string]string{"name": "Vertical"}, "Accept", "application/json", "Sec-Fetch-Site", "cross-site"), http.StatusForbidden)
	// Not a video: refused plainly, nothing kept.
	txt := filepath.Join(t.TempDir(), "notes.mp4")
	_ = os.WriteFile(txt, []byte("just some text, not a video"), 0o600)
	r := b.upload(txt, nil, "Accept", "application/json")
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, `"remedy"`) {
		t.Fatalf("non-video upload: %d %s", r.status, r.body)
	}

	r = b.upload(clip, map[string]string{"name": "Vertical teaser", "client": "Acme", "campaign": "Spring"},
		"Accept", "application/json")
	want(t, r, http.StatusCreated)
	var created struct{ ID, URL string }
	_ = json.Unmarshal([]byte(r.body), &created)
	p, err := e.store.GetProject(t.Context(), created.ID)
	if err != nil || p.ThumbnailKey == "" || p.Client != "Acme" || p.Status != store.ProjectReady {
		t.Fatalf("project %+v, %v", p, err)
	}
	// The no-JS form: a plain multipart post.
	r = b.upload(clip, nil)
	want(t, r, http.StatusSeeOther)

	r = b.get("/projects")
	want(t, r, http.StatusOK)
	for _, s := range []string{"Vertical teaser", "Acme", "Spring", "2.5 s", "vertical", `/projects/` + p.ID + `/poster`} {
		if !strings.Contains(r.body, s) {
			t.Errorf("projects page lacks %q", s)
		}
	}
	r = b.get("/projects/" + p.ID + "/poster")
	want(t, r, http.StatusOK)
	if r.header.Get("Content-Type") != "image/jpeg" || !strings.HasPrefix(r.body, "\xff\xd8") {
		t.Errorf("poster: %s, %d bytes", r.header.Get("Content-Type"), len(r.body))
	}

	// The modal's options: vertical source, vertical formats suggested.
	r = b.get("/projects/" + p.ID + "/export-options")
	want(t, r, http.StatusOK)
	var opts exportOptionsJSON
	if err := json.Unmarshal([]byte(r.body), &opts); err != nil {
		t.Fatal(err)
	}
	var defaults []string
	for _, f := range opts.Formats {
		if f.Default {
			defaults = append(defaults, f.ID)
		}
	}
	// Instagram needs 3 s: not suggested for this 2.5 s clip.
	if strings.Join(defaults, ",") != "youtube-shorts,tiktok" || opts.Project.Shape != "vertical" {
		t.Errorf("defaults %v, shape %s", defaults, opts.Project.Shape)
	}

	// Measured sizes: a sample encode per target, rule breaks reported.
	r = b.do("POST", "/projects/"+p.ID+"/estimate", strings.NewReader(`{"targets":[{"preset":"tiktok","quality":"web"},`+
		`{"preset":"gif-480p"},{"preset":"facebook-reel"}]}`), "Content-Type", "application/json", "Accept", "application/json")
	want(t, r, http.StatusOK)
	var est estimateResponse
	if err := json.Unmarshal([]byte(r.body), &est); err != nil || len(est.Estimates) != 3 {
		t.Fatalf("estimate: %s", r.body)
	}
	if e0 := est.Estimates[0]; e0.Preset != "tiktok" || e0.Bytes <= 0 || (e0.Method != "sample" && e0.Method != "cap") {
		t.Errorf("tiktok estimate %+v", e0)
	}
	if e1 := est.Estimates[1]; e1.Bytes <= 0 {
		t.Errorf("gif estimate %+v", e1)
	}
	if e2 := est.Estimates[2]; e2.Error == nil || e2.Bytes != 0 {
		t.Errorf("facebook-reel of a 2.5 s clip: %+v", e2)
	}
	// An unknown format is a bad request (unknown_preset: 400, as in the API).
	r = b.do("POST", "/projects/"+p.ID+"/estimate", strings.NewReader(`{"targets":[{"preset":"nope"}]}`),
		"Content-Type", "application/json", "Accept", "application/json")
	want(t, r, http.StatusBadRequest)

	// Export: a share is refused plainly on a server without publishing;
	// a download-only export is queued.
	exp := func(body string) resp {
		return b.do("POST", "/exports", strings.NewReader(body), "Content-Type", "application/json",
			"Accept", "application/json")
	}
	r = exp(`{"project_id":"` + p.ID + `","targets":[{"preset":"tiktok"}],"distribution":"share"}`)
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "Publishing is not available on this server") {
		t.Errorf("share: %d %s", r.status, r.body)
	}
	r = exp(`{"project_id":"` + p.ID + `","targets":[{"preset":"facebook-reel","quality":"web"}]}`)
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "Facebook Reel: Facebook Reel needs at least 3 s") ||
		strings.Contains(r.body, "targets[0]") {
		t.Errorf("platform rule: %d %s", r.status, r.body)
	}
	body := `{"project_id":"` + p.ID + `","targets":[{"preset":"tiktok","quality":"web","fit":"crop"},{"preset":"gif-480p"}],` +
		`"client":"Acme","campaign":"Spring","idempotency_key":"k1","distribution":"download"}`
	r = exp(body)
	want(t, r, http.StatusCreated)
	var ex struct{ ID, URL string }
	_ = json.Unmarshal([]byte(r.body), &ex)
	r = exp(body) // a double submit is the same export
	if !strings.Contains(r.body, ex.ID) {
		t.Errorf("idempotency: %s", r.body)
	}

	// The Advanced section's captions, loudness and thumbnail time.
	srt := `1\n00:00:00,000 --> 00:00:01,000\nHello\n\n2\n00:00:01,000 --> 00:00:02,000\nBye\n`
	r = exp(`{"project_id":"` + p.ID + `","targets":[{"preset":"tiktok","quality":"web"}],"captions":{"text":"1\n00:00:00,000 --> 00:00:01\nx\n"}}`)
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "line 2") {
		t.Errorf("malformed captions: %d %s", r.status, r.body)
	}
	r = exp(`{"project_id":"` + p.ID + `","targets":[{"preset":"tiktok","quality":"web"}],"captions":{"text":"` + srt +
		`","mode":"burn"},"loudness":"platform","thumbnail_at":1.5}`)
	want(t, r, http.StatusCreated)
	var fx struct{ ID, URL string }
	_ = json.Unmarshal([]byte(r.body), &fx)
	r = b.get(fx.URL)
	// Its loudness is measured first: the progress shows that step.
	for _, s := range []string{"captions burned in", "platform loudness", "SRT file, 2 cues", "At 1.5 s", "Processing Audio"} {
		if !strings.Contains(r.body, s) {
			t.Errorf("export page lacks %q", s)
		}
	}

	r = b.get(ex.URL)
	want(t, r, http.StatusOK)
	for _, s := range []string{"Rendering Video", "Checking", "Storing", "Uploading to Platforms",
		"Not needed: download only", "TikTok", "GIF 480p", "Web quality · Crop fit", "Cancel export", ex.ID + "/events"} {
		if !strings.Contains(r.body, s) {
			t.Errorf("export page lacks %q", s)
		}
	}
	// No loudness is measured: no audio step is shown.
	if strings.Contains(r.body, "Processing Audio") {
		t.Error("the export page shows Processing Audio for an export without loudness")
	}

	// A finished file: the success screen links it, history finds it.
	rs, _ := e.store.ListRenditions(t.Context(), ex.ID)
	key := "exports/" + ex.ID + "/tiktok.mp4"
	if _, err := e.blob.PutFile(t.Context(), key, clip, "video/mp4"); err != nil {
		t.Fatal(err)
	}
	exp48 := time.Now().Add(48 * time.Hour)
	rs[0].Status, rs[0].BlobKey, rs[0].SizeBytes, rs[0].Width, rs[0].Height, rs[0].ExpiresAt =
		store.RenditionSucceeded, key, 1234, 1080, 1920, &exp48
	if _, err := e.store.UpdateRendition(t.Context(), rs[0]); err != nil {
		t.Fatal(err)
	}
	rs[1].Status, rs[1].ErrorCode, rs[1].ErrorMessage = store.RenditionFailed, "platform_rule_violated", "file is 5 GB; GIF allows 4 GB"
	if _, err := e.store.UpdateRendition(t.Context(), rs[1]); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.UpdateExportStatus(t.Context(), ex.ID, store.StatusChange{Status: store.ExportRunning}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.UpdateExportStatus(t.Context(), ex.ID, store.StatusChange{Status: store.ExportPartiallyFailed,
		ErrorCode: "platform_rule_violated", ErrorMessage: "1 of 2 targets failed"}); err != nil {
		t.Fatal(err)
	}
	if err := e.store.SetExportWarnings(t.Context(), ex.ID, json.RawMessage(`[{"code":"source_damaged",
		"message":"the source is damaged: 12 decode error(s) around 3.5–4.8 s","remedy":"Export the master again.","ranges":[{"start":3.5,"end":4.8}]}]`)); err != nil {
		t.Fatal(err)
	}
	// worker-7 rendered the first, failed the second's check, and stored
	// the first.
	storetest.RecordSteps(t, e.store, ex.ID, "worker-7-3fa2", "worker-7",
		storetest.Step{RenditionID: rs[0].ID, Kind: outpost.StepRender, Outcome: outpost.StepSucceeded},
		storetest.Step{RenditionID: rs[1].ID, Kind: outpost.StepCheck, Outcome: outpost.StepFailed, Code: errcode.PlatformRule},
		storetest.Step{RenditionID: rs[0].ID, Kind: outpost.StepStore, Outcome: outpost.StepSucceeded})
	r = b.get(ex.URL)
	for _, s := range []string{"Ready — 1 of 2 files failed", `<span class="status status-warn">`, "1 of 2 files failed</span>",
		"/dl/", "Export another version", "Sharing is not set up on this server",
		"Retry failed files", "What to do:", "Details: error code <code>platform_rule_violated</code>",
		"Keep this file", "unless kept", "/renditions/" + rs[0].ID + "/thumbnail",
		"Which node did what", `data-step="render" data-node="worker-7-3fa2" data-outcome="succeeded"`,
		`data-step="check" data-node="worker-7-3fa2" data-outcome="failed"`, "Failed (platform_rule_violated)",
		"<dt>Nodes</dt><dd>worker-7-3fa2</dd>", "Made from a damaged source", "around 3.5–4.8 s", "Export the master again."} {
		if !strings.Contains(r.body, s) {
			t.Errorf("success page lacks %q", s)
		}
	}

	// "Keep this file" removes the expiry it shows; a new thumbnail
	// replaces the render's.
	r = b.postForm("/renditions/"+rs[0].ID+"/keep", url.Values{"keep": {"1"}})
	want(t, r, http.StatusSeeOther)
	if r = b.get(ex.URL); !strings.Contains(r.body, "Kept until you delete it") || !strings.Contains(r.body, `aria-checked="true"`) {
		t.Error("the kept file does not say it is kept")
	}
	if got, _ := e.store.GetRendition(t.Context(), rs[0].ID); !got.Saved {
		t.Error("keep did not save the rendition")
	}
	want(t, b.postForm("/renditions/"+rs[0].ID+"/keep", url.Values{"keep": {"0"}}), http.StatusSeeOther)
	if got, _ := e.store.GetRendition(t.Context(), rs[0].ID); got.Saved {
		t.Error("turning keep off left the rendition saved")
	}
	r = b.postFile("/renditions/"+rs[0].ID+"/thumbnail", "thumbnail", testPNG(t, 64, 64), nil)
	want(t, r, http.StatusSeeOther)
	if got, _ := e.store.GetRendition(t.Context(), rs[0].ID); !strings.HasSuffix(got.ThumbnailKey, ".thumbnail.jpg") {
		t.Errorf("thumbnail key %q", got.ThumbnailKey)
	}
	if r = b.get(ex.URL); !strings.Contains(r.body, `class="rthumb-img" src="`) || !strings.Contains(r.body, "thumbnail.jpg") {
		t.Error("the export page does not show the uploaded thumbnail")
	}
	r = b.postFile("/renditions/"+rs[0].ID+"/thumbnail", "thumbnail", txt, nil, "Accept", "application/json")
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, `"code":"invalid_option"`) {
		t.Errorf("a text file as thumbnail: %d %s", r.status, r.body)
	}

	r = b.get("/history?q=vertical+teaser")
	want(t, r, http.StatusOK)
	if !strings.Contains(r.body, ex.ID) || !strings.Contains(r.body, "/renditions/"+rs[0].ID+"/download") {
		t.Errorf("history search misses the export: %s", r.body)
	}
	if !strings.Contains(r.body, "On worker-7-3fa2") {
		t.Error("history does not say which node ran the export")
	}
	for _, q := range []string{"q=nothing-like-this", "status=succeeded", "platform=youtube", "client=Other", "from=2001-01-01&to=2001-01-02"} {
		if r := b.get("/history?partial=1&" + q); strings.Contains(r.body, ex.ID) {
			t.Errorf("history %s finds the export", q)
		}
	}
	for _, q := range []string{"platform=tiktok", "status=partially_failed", "client=Acme&campaign=Spring", "project=" + p.ID} {
		if r := b.get("/history?partial=1&" + q); !strings.Contains(r.body, ex.ID) || strings.Contains(r.body, "<html") {
			t.Errorf("history %s misses the export", q)
		}
	}
	want(t, b.get("/history?status=bogus"), http.StatusBadRequest) // invalid_option, as in the API

	// Re-download goes through a fresh signed link.
	r = b.get("/renditions/" + rs[0].ID + "/download")
	want(t, r, http.StatusFound)
	dl, err := http.Get(r.header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, dl.Body)
	dl.Body.Close()
	if fi, _ := os.Stat(clip); dl.StatusCode != http.StatusOK || n != fi.Size() {
		t.Errorf("download: %d, %d bytes", dl.StatusCode, n)
	}
	// Expired: said plainly, with a re-render.
	past := time.Now().Add(-time.Hour)
	rs[0].ExpiresAt = &past
	_, _ = e.store.UpdateRendition(t.Context(), rs[0])
	r = b.get("/renditions/" + rs[0].ID + "/download")
	if r.status != http.StatusNotFound || !strings.Contains(r.body, "Re-render") {
		t.Errorf("expired download: %d %s", r.status, r.body)
	}
	if r = b.get("/history"); !strings.Contains(r.body, "expired") || !strings.Contains(r.body, "/rerender") {
		t.Errorf("history does not offer a re-render of the expired file")
	}
	r = b.postForm("/exports/"+ex.ID+"/rerender", url.Values{})
	want(t, r, http.StatusSeeOther)
	if loc := r.header.Get("Location"); loc == "/exports/"+ex.ID || !strings.HasPrefix(loc, "/exports/exp_") {
		t.Errorf("re-render went to %q", loc)
	}
	// Retry of the partly failed one.
	r = b.postForm("/exports/"+ex.ID+"/retry", url.Values{})
	want(t, r, http.StatusSeeOther)
	if e2, _ := e.store.GetExport(t.Context(), ex.ID); e2.Status != store.ExportQueued {
		t.Errorf("after retry: %s", e2.Status)
	}
	// Cancel, then cancelling again says why it cannot.
	want(t, b.postForm("/exports/"+ex.ID+"/cancel", url.Values{}), http.StatusSeeOther)
	r = b.postForm("/exports/"+ex.ID+"/cancel", url.Values{})
	if r.status != http.StatusConflict || !strings.Contains(r.body, "already canceled") {
		t.Errorf("second cancel: %d", r.status)
	}

	// Another workspace's user sees none of it.
	other, _ := e.store.CreateWorkspace(t.Context(), store.Workspace{Slug: "other", Name: "Other"})
	hash := mustHash(t)
	_, _ = e.store.CreateUser(t.Context(), store.User{WorkspaceID: other.ID, Email: "eve@example.com", PasswordHash: hash})
	eve := e.browser()
	want(t, eve.signIn("eve@example.com", testPassword), http.StatusSeeOther)
	for _, path := range []string{ex.URL, "/projects/" + p.ID + "/poster", "/renditions/" + rs[0].ID + "/download", "/projects/" + p.ID + "/export-options"} {
		want(t, eve.get(path), http.StatusNotFound)
	}
	if r := eve.get("/history"); strings.Contains(r.body, ex.ID) {
		t.Error("another workspace's history shows the export")
	}
}

func TestHandler_presets(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{admin: "ada@example.com"})
	b := e.browser()
	want(t, b.signIn("ada@example.com", testPassword), http.StatusSeeOther)
	r := b.get("/presets")
	for _, id := range preset.IDs() {
		if !strings.Contains(r.body, "<code>"+id+"</code>") {
			t.Errorf("presets page lacks %s", id)
		}
	}
	form := url.Values{"name": {"Reel, light"}, "base_preset_id": {"instagram-reel"},
		"quality": {"web"}, "fit": {"crop"}, "fps": {"30"}, "video_kbps": {""}}
	want(t, b.postForm("/presets", form), http.StatusSeeOther)
	r = b.postForm("/presets", form)
	if r.status != http.StatusConflict || !strings.Contains(r.body, "already exists") {
		t.Errorf("duplicate name: %d", r.status)
	}
	bad := url.Values{"name": {"x"}, "base_preset_id": {"nope"}}
	want(t, b.postForm("/presets", bad), http.StatusBadRequest) // unknown_preset, as in the API
	ps, _ := e.store.ListPresets(t.Context(), e.ws.ID)
	if len(ps) != 1 || string(ps[0].Settings) != `{"quality":"web","fit":"crop","fps":30}` {
		t.Fatalf("presets %+v", ps)
	}
	id := ps[0].ID
	r = b.get("/presets?edit=" + id)
	if !strings.Contains(r.body, `action="/presets/`+id+`"`) || !strings.Contains(r.body, "Web, Crop, 30 fps") {
		t.Errorf("edit form missing: %s", r.body)
	}
	// Stored values show as words.
	for _, s := range []string{`<option value="hd" >HD</option>`, `<option value="burn" >Burned into the picture</option>`,
		"MP4 · H.264 &#43; AAC", "MOV · ProRes &#43; PCM 24-bit"} {
		if !strings.Contains(r.body, s) {
			t.Errorf("presets page lacks %q", s)
		}
	}
	form.Set("name", "Reel, sharp")
	form.Set("quality", "ultra")
	want(t, b.postForm("/presets/"+id, form), http.StatusSeeOther)
	if p, _ := e.store.GetPreset(t.Context(), id); p.Name != "Reel, sharp" || !strings.Contains(string(p.Settings), "ultra") {
		t.Errorf("after edit: %+v", p)
	}
	r = b.postForm("/presets/youtube-1080p", form)
	if r.status != http.StatusConflict || !strings.Contains(r.body, "Built-in formats cannot be changed") {
		t.Errorf("editing a built-in: %d", r.status)
	}
	want(t, b.postForm("/presets/"+id+"/delete", url.Values{}), http.StatusSeeOther)
	if ps, _ := e.store.ListPresets(t.Context(), e.ws.ID); len(ps) != 0 {
		t.Errorf("after delete: %+v", ps)
	}
}

func TestHandler_exportEvents(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{admin: "ada@example.com"})
	b := e.browser()
	want(t, b.signIn("ada@example.com", testPassword), http.StatusSeeOther)
	ctx := t.Context()
	p, err := e.store.CreateProject(ctx, store.Project{WorkspaceID: e.ws.ID, Name: "P", Kind: store.ProjectUpload,
		SourceKey: "projects/x/source.mp4", Status: store.ProjectReady, Probe: json.RawMessage(`{"duration_seconds":5,"video":{"width":1920,"height":1080}}`)})
	if err != nil {
		t.Fatal(err)
	}
	// Finished: its "done" commits with its final status.
	ex, err := e.store.CreateExport(ctx, store.Export{WorkspaceID: e.ws.ID, ProjectID: p.ID, PresetIDs: []string{"mp4-720p"},
		Status: store.ExportSucceeded})
	if err != nil {
		t.Fatal(err)
	}
	ev1, _ := e.broker.Publish(ctx, ex.ID, events.TypeProgress, events.Progress{Stage: "render", Percent: 40, ETASeconds: 12})
	_, _ = e.broker.Publish(ctx, ex.ID, events.TypeProgress, events.Progress{Stage: "store", Percent: 97})
	_, _ = e.broker.Publish(ctx, ex.ID, events.TypeDone, events.Done{Status: "succeeded"})

	read := func(lastID string) []string {
		req, _ := http.NewRequestWithContext(ctx, "GET", e.ts.URL+"/exports/"+ex.ID+"/events", nil)
		if lastID != "" {
			req.Header.Set("Last-Event-ID", lastID)
		}
		res, err := b.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
			t.Fatalf("events: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
		}
		var lines []string
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			if l := sc.Text(); strings.HasPrefix(l, "event: ") || strings.HasPrefix(l, "data: ") {
				lines = append(lines, l)
			}
		}
		return lines
	}
	got := strings.Join(read(""), "\n")
	if !strings.Contains(got, `data: {"stage":"render","percent":40,`) || !strings.HasSuffix(got, "event: done\ndata: {\"status\":\"succeeded\"}") {
		t.Errorf("stream:\n%s", got)
	}
	got = strings.Join(read(strings.TrimSpace(fmtInt(ev1.Seq))), "\n")
	if strings.Contains(got, `"percent":40`) || !strings.Contains(got, `"stage":"store"`) {
		t.Errorf("resumed stream:\n%s", got)
	}
	// Without a session there is no stream.
	r := e.browser().get("/exports/" + ex.ID + "/events")
	want(t, r, http.StatusSeeOther)
}

func fmtInt(n int64) string { b, _ := json.Marshal(n); return string(b) }

func mustHash(t *testing.T) string {
	t.Helper()
	h, err := hashForTest(testPassword)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestHumanBytes(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		n    int64
		want string
	}{{999, "999 B"}, {1500, "1.5 kB"}, {4_000_000_000, "4 GB"}, {4_200_000_000, "4.2 GB"}, {25_300_000, "25 MB"}} {
		if got := humanBytes(c.n); got != c.want {
			t.Errorf("humanBytes(%d) = %q, want %q", c.n, got, c.want)
		}
	}
}

func info(w, h int, dur float64, audio bool) *media.Info {
	i := &media.Info{Duration: dur, Video: &media.Video{Width: w, Height: h, FrameRate: 30}}
	if audio {
		i.Audio = &media.Audio{Codec: "aac"}
	}
	return i
}

func TestEstimateRate(t *testing.T) {
	t.Parallel()
	lookup := func(id string) preset.Preset {
		p, err := preset.Lookup(id)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	src := info(1920, 1080, 60, true)
	for _, c := range []struct {
		preset string
		level  preset.Level
		want   rate
	}{
		{"youtube-1080p", preset.HD, rate{8000, 128}},
		{"youtube-1080p", preset.Web, rate{4000, 96}},
		{"tiktok", preset.Ultra, rate{18000, 192}},
		{"webm-1080p", preset.Web, rate{2000, 96}},
		{"mov-prores-1080p", preset.HD, rate{220_000 * 30 / 29.97, 2304}},
		{"gif-480p", preset.HD, rate{854 * 480 * 15 * 0.25 * 8 / 1000, 0}},
	} {
		got := estimateRate(lookup(c.preset), c.level, src)
		if diff := got.VideoKbps - c.want.VideoKbps; diff > 1 || diff < -1 || got.AudioKbps != c.want.AudioKbps {
			t.Errorf("%s %s: %+v, want %+v", c.preset, c.level, got, c.want)
		}
	}
	// A silent source still gets the audio track platforms require.
	if r := estimateRate(lookup("tiktok"), preset.HD, info(1080, 1920, 10, false)); r.AudioKbps == 0 {
		t.Error("tiktok of a silent source: no audio estimate")
	}
	if r := estimateRate(lookup("mp4-720p"), preset.HD, info(1080, 1920, 10, false)); r.AudioKbps != 0 {
		t.Error("mp4 of a silent source: audio estimated")
	}
	// 60 s at 8128 kb/s is about 61 MB.
	if n := estimateBytes(rate{8000, 128}, 60); n < 61_000_000 || n > 62_000_000 {
		t.Errorf("estimateBytes = %d", n)
	}
}

func TestFormatOptions(t *testing.T) {
	t.Parallel()
	defaults := func(opts []formatOption) (ids []string) {
		for _, o := range opts {
			if o.Default {
				ids = append(ids, o.ID+"("+o.Why+")")
			}
		}
		return ids
	}
	for _, c := range []struct {
		name string
		src  *media.Info
		used []string
		want string
	}{
		{"vertical", info(1080, 1920, 30, true), nil,
			"youtube-shorts(suits vertical video),instagram-reel(suits vertical video),tiktok(suits vertical video)"},
		{"landscape", info(1920, 1080, 30, true), nil,
			"youtube-1080p(suits landscape video),linkedin-landscape(suits landscape video)"},
		{"square", info(1080, 1080, 30, true), nil,
			"instagram-feed(suits square video),linkedin-square(suits square video)"},
		{"habits win where they suit the shape", info(1920, 1080, 30, true), []string{"tiktok", "mp4-720p", "gif-480p", "facebook-feed", "webm-1080p"},
			"facebook-feed(most used),mp4-720p(most used),gif-480p(most used)"},
		{"too long for Shorts", info(1080, 1920, 200, true), nil,
			"instagram-reel(suits vertical video),tiktok(suits vertical video)"},
	} {
		opts := formatOptions(c.src, nil, c.used)
		if got := strings.Join(defaults(opts), ","); got != c.want {
			t.Errorf("%s: defaults %s, want %s", c.name, got, c.want)
		}
	}
	opts := formatOptions(info(1080, 1920, 200, true), []outpost.Preset{{ID: "pst_1", Name: "Mine", BasePresetID: "tiktok",
		Settings: &outpost.PresetSettings{Quality: "web"}}}, nil)
	var shorts, mine formatOption
	for _, o := range opts {
		switch o.ID {
		case "youtube-shorts":
			shorts = o
		case "pst_1":
			mine = o
		}
	}
	if !strings.Contains(shorts.Disabled, "at most") || shorts.Remedy == "" {
		t.Errorf("shorts of a 200 s source: %+v", shorts)
	}
	if mine.Group != "yours" || mine.Base != "tiktok" || mine.Settings.Quality != "web" || mine.Width != 1080 {
		t.Errorf("user preset option %+v", mine)
	}
}

// formValues reads the values a browser would send for the form whose
// action is action: its inputs' values and its selects' selected options.
func formValues(t *testing.T, page, action string) url.Values {
	t.Helper()
	start := strings.Index(page, `action="`+action+`"`)
	if start < 0 {
		t.Fatalf("no form for %s: %s", action, page)
	}
	form := page[start:]
	form = form[:strings.Index(form, "</form>")]
	v := url.Values{}
	for _, m := range regexp.MustCompile(`<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"`).FindAllStringSubmatch(form, -1) {
		v.Set(m[1], html.UnescapeString(m[2]))
	}
	for _, m := range regexp.MustCompile(`(?s)<select name="([^"]+)">(.*?)</select>`).FindAllStringSubmatch(form, -1) {
		if o := regexp.MustCompile(`<option value="([^"]*)" selected`).FindStringSubmatch(m[2]); o != nil {
			v.Set(m[1], html.UnescapeString(o[1]))
		} else {
			v.Set(m[1], "")
		}
	}
	return v
}

// TestHandler_presetEditKeepsFinishing: a preset made through the API with
// a brand kit, a captions mode and a loudness keeps them after an edit in
// the UI (one settings type, which the UI's form shows whole).
func TestHandler_presetEditKeepsFinishing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{admin: "ada@example.com"})
	ctx := t.Context()
	_, key, err := e.store.CreateAPIKey(ctx, e.ws.ID, "test")
	if err != nil {
		t.Fatal(err)
	}
	api := func(method, path, body string) resp {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, method, e.ts.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return resp{status: res.StatusCode, header: res.Header, body: string(b)}
	}
	r := api("POST", "/api/v1/brand-kits", `{"slug":"acme","name":"Acme"}`)
	want(t, r, http.StatusCreated)
	r = api("POST", "/api/v1/presets", `{"name":"Acme reel","base_preset_id":"instagram-reel",`+
		`"settings":{"quality":"web","brand_kit":"acme","captions_mode":"burn","loudness":"-16"}}`)
	want(t, r, http.StatusCreated)
	var p outpost.Preset
	if err := json.Unmarshal([]byte(r.body), &p); err != nil {
		t.Fatal(err)
	}

	b := e.browser()
	want(t, b.signIn("ada@example.com", testPassword), http.StatusSeeOther)
	r = b.get("/presets?edit=" + p.ID)
	want(t, r, http.StatusOK)
	form := formValues(t, r.body, "/presets/"+p.ID)
	form.Set("name", "Acme reel, sharp")
	form.Set("quality", "ultra")
	want(t, b.postForm("/presets/"+p.ID, form), http.StatusSeeOther)

	r = api("GET", "/api/v1/presets/"+p.ID, "")
	want(t, r, http.StatusOK)
	var got outpost.Preset
	if err := json.Unmarshal([]byte(r.body), &got); err != nil {
		t.Fatal(err)
	}
	kept := outpost.PresetSettings{Quality: "ultra", BrandKit: "acme", CaptionsMode: "burn", Loudness: "-16"}
	if got.Name != "Acme reel, sharp" || got.Settings == nil || *got.Settings != kept {
		t.Errorf("after the UI edit: %s, settings %+v; want %+v", got.Name, got.Settings, kept)
	}
}

// TestStatusViews: every export and rendition status has its own view (an
// icon and a word), and publications' states too.
func TestStatusViews(t *testing.T) {
	t.Parallel()
	for _, s := range outpost.ExportStatuses {
		if _, ok := exportStatuses[s]; !ok {
			t.Errorf("export status %s has no view", s)
		}
	}
	for _, s := range outpost.RenditionStatuses {
		if _, ok := renditionStatuses[s]; !ok {
			t.Errorf("rendition status %s has no view", s)
		}
	}
	for _, s := range outpost.OutcomeStates {
		if _, ok := outcomeStatuses[s]; !ok {
			t.Errorf("outcome %s has no view", s)
		}
	}
	if len(pubStatuses) != 7 {
		t.Errorf("%d publication state views, want 7", len(pubStatuses))
	}
	if v := exportStatus("new"); v.Text != "new" || v.Icon != "clock" {
		t.Errorf("unknown status: %+v", v)
	}
}

func TestTickShareDefaults(t *testing.T) {
	t.Parallel()
	file := []shareFile{{PresetID: "mp4-720p", Label: "MP4 720p"}}
	accts := []accountJSON{
		{ID: "con_saved", Files: file},
		{ID: "con_posted", Files: file},
		{ID: "con_nofile"},
		{ID: "con_other", Files: file},
	}
	tickShareDefaults(accts, []string{"con_saved", "con_posted", "con_nofile"},
		[]outpost.Publication{{ConnectionID: "con_posted"}})
	for _, tc := range []struct {
		id   string
		want bool
	}{
		{"con_saved", true},   // saved, a file to post, no post yet
		{"con_posted", false}, // the export has a post there already
		{"con_nofile", false}, // none of the files suits the platform
		{"con_other", false},  // not saved
	} {
		i := slices.IndexFunc(accts, func(a accountJSON) bool { return a.ID == tc.id })
		if accts[i].Ticked != tc.want {
			t.Errorf("%s ticked %v, want %v", tc.id, accts[i].Ticked, tc.want)
		}
	}
}

// TestBuildExportView_sharedFile: two targets of one shape share one
// stored file; the export page names it once in its size and says so on
// the second row.
func TestBuildExportView_sharedFile(t *testing.T) {
	t.Parallel()
	h := newEnv(t, envOptions{}).ui
	url := "https://example.com/dl"
	d := outpost.ExportDetail{Export: outpost.Export{ID: "exp_x", Status: outpost.ExportSucceeded},
		Renditions: []outpost.Rendition{
			{ID: "rnd_a", Preset: "youtube-shorts", Status: outpost.RenditionSucceeded, SizeBytes: 1000, DownloadURL: &url},
			{ID: "rnd_b", Preset: "tiktok", Status: outpost.RenditionSucceeded, SizeBytes: 1000, DownloadURL: &url, SameFileAs: "rnd_a"},
			{ID: "rnd_c", Preset: "mp4-720p", Status: outpost.RenditionSucceeded, SizeBytes: 500, DownloadURL: &url},
		}}
	v := h.buildExportView(d, catalog{})
	if v.FilesReady != 3 || v.FilesTotal != 1500 {
		t.Errorf("%d files, %d bytes; want 3 files of 1500 bytes (the shared one counted once)", v.FilesReady, v.FilesTotal)
	}
	if v.Targets[0].SameFileAs != "" || v.Targets[1].SameFileAs != presetName("youtube-shorts", nil) || v.Targets[2].SameFileAs != "" {
		t.Errorf("same file as: %q, %q, %q", v.Targets[0].SameFileAs, v.Targets[1].SameFileAs, v.Targets[2].SameFileAs)
	}
}
