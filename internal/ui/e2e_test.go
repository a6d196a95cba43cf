package ui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"outpost/internal/media/mediatest"
	"outpost/internal/sandbox"
	"outpost/internal/waitfor"
)

// chromiumPath finds Debian's chromium. Without it the browser test skips,
// or fails when CI is set.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("OUTPOST_CHROMIUM"), "/usr/bin/chromium", "chromium"} {
		if p == "" {
			continue
		}
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is missing: install it (apt-get install -y chromium) — the browser tests need it in CI")
	}
	t.Skip("chromium is not installed (apt-get install -y chromium): skipping the browser test")
	return ""
}

// artifactsDir is artifacts/ui at the repository root (git-ignored); the
// test's earlier screenshots (named prefix*.png) are removed.
func artifactsDir(t *testing.T, prefix string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test")
		}
		dir = parent
	}
	out := filepath.Join(dir, "artifacts", "ui")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	old, _ := filepath.Glob(filepath.Join(out, prefix+"*.png"))
	for _, f := range old {
		_ = os.Remove(f)
	}
	return out
}

// pageState is what the test polls on the export page.
type pageState struct {
	Path    string `json:"path"`
	Percent string `json:"percent"`
	Success bool   `json:"success"`
	Stage   string `json:"stage"`
}

// TestE2E_browser drives the real UI in Chromium against the real service
// (SQLite, file blobs, River with one worker, ffmpeg, the platform
// emulators over HTTP), on a desktop window and then at tablet width
// (768 px), and asserts what a person sees at each step:
//   - the first-run tour points at what it names, without hiding the empty
//     list's text; accounts connect through OAuth and show their real
//     (sandbox) avatars;
//   - an upload is filed under its client and campaign in the folders
//     sidebar, which filters projects and history;
//   - the export modal: Format → Quality (a Web / HD / Ultra slider with
//     each level's size) → Distribution; nothing is ticked, each account
//     gets the format that suits its platform, and one that has none says
//     so and adds it in one click; submit errors show next to the button
//     with the focus on the field to fix;
//   - "Export & Share" turns the modal into the progress view (stages true
//     to what runs), then the success screen; with the sandbox refusing the
//     TikTok post (fault injection), the export reads "Ready — 1 of 2 posts
//     failed", the failed post first with its reason in plain words, its
//     code in a details line, Retry and Edit and retry; an edit posts it;
//   - "Keep this file", a thumbnail from an image, history's table and
//     timeline with the same filters, presets in words, brand kits with a
//     PNG watermark, A/B versions and a batch in grouped views;
//   - at tablet width: the modal keeps the selection and its sizes in view,
//     a failed share is shown as such, and the pages still work.
//
// Screenshots of each step go to artifacts/ui/.
func TestE2E_browser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium and renders with ffmpeg")
	}
	shots := artifactsDir(t, "[0-9]")
	e := newEnv(t, envOptions{workers: true, admin: "ada@example.com", publish: true})
	src := mediatest.Generate(t, mediatest.Spec{Width: 640, Height: 360, Duration: 3, FPS: 25, Audio: true})
	dir := t.TempDir()
	clip := filepath.Join(dir, "Launch teaser.mp4")
	clip2 := filepath.Join(dir, "Autumn cut.mp4")
	for _, c := range []string{clip, clip2} {
		if data, err := os.ReadFile(src); err != nil || os.WriteFile(c, data, 0o600) != nil {
			t.Fatalf("copy clip: %v", err)
		}
	}
	logo := testPNG(t, 96, 48)
	fault := func(platform, kind, reason string) {
		t.Helper()
		body := fmt.Sprintf(`{"platform":%q,"kind":%q,"reason":%q}`, platform, kind, reason)
		res, err := http.Post(e.sbURL+"/_sandbox/faults", "application/json", strings.NewReader(body))
		if err != nil || res.StatusCode >= 300 {
			t.Fatalf("inject a fault: %v %v", res, err)
		}
		res.Body.Close()
	}
	sandboxState := func() string {
		t.Helper()
		res, err := http.Get(e.sbURL + "/_sandbox/state")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return string(body)
	}

	b := startBrowser(t, shots, "")
	b.otherOrigin = e.sbURL
	ctx, shot, do, click, eval, waitFor := b.ctx, b.shot, b.do, b.click, b.eval, b.waitFor
	// text is what a person reads in sel (its rendered text, spaces
	// collapsed); all is every word in it, shown or folded away.
	text := func(sel string) string {
		return eval(fmt.Sprintf(`(document.querySelector(%q) || {innerText: ''}).innerText.replace(/\s+/g, ' ').trim()`, sel))
	}
	all := func(sel string) string {
		return eval(fmt.Sprintf(`(document.querySelector(%q) || {textContent: ''}).textContent.replace(/\s+/g, ' ').trim()`, sel))
	}
	has := func(what, got string, want ...string) {
		t.Helper()
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("%s lacks %q: %q", what, w, got)
			}
		}
	}

	// 1. Sign in.
	do("open the UI", chromedp.Navigate(e.ts.URL+"/"), chromedp.WaitVisible(chromedp.CSS(`input[name=email]`)))
	shot("signin", false)
	do("sign in",
		chromedp.SendKeys(chromedp.CSS(`input[name=email]`), "ada@example.com"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), testPassword),
		chromedp.Click(chromedp.CSS(`form[action="/signin"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("upload-form")),
	)

	// 2. The first-run tour points at what it names: the upload form, then
	// the (empty) list of uploads, then the Connections page, covering
	// neither what it points at nor the empty list's text.
	do("tour", chromedp.WaitVisible(chromedp.CSS(`.tour`)))
	walkTour(b, "projects-empty-tour", []tourStep{{"#upload-form", "Upload your master here"},
		{".empty", "Your uploads are listed here"}, {`[data-tour="sharing"]`, "Connect your accounts here"}})
	if v := eval(`localStorage.getItem('outpost.tour.v1') ? 'yes' : 'no'`); v != "yes" {
		t.Error("the tour is not remembered")
	}

	// 3. Connect sandbox YouTube and TikTok accounts through the OAuth flow;
	// their avatars are their own pictures.
	do("connections", chromedp.Navigate(e.ts.URL+"/connections"), chromedp.WaitVisible(chromedp.CSS(`a.connect-btn[data-platform=youtube]`)))
	do("connect youtube", click(`a.connect-btn[data-platform=youtube]`), chromedp.WaitVisible(chromedp.ID("approve")))
	if !strings.HasPrefix(eval(`location.href`), e.sbURL) {
		t.Errorf("the connect button did not lead to the platform's consent page: %s", eval(`location.href`))
	}
	shot("sandbox-consent", false)
	do("approve", chromedp.Click(chromedp.ID("approve")), chromedp.WaitVisible(chromedp.CSS(`.flash-success`)))
	has("the connections page", eval(`location.pathname + ' | ' + document.querySelector('.flash-success').innerText + ' | ' + document.querySelector('#platform-youtube').innerText`),
		"/connections |", "Connected to YouTube", sandbox.YouTubeChannelName, "Active")
	do("connect tiktok", click(`a.connect-btn[data-platform=tiktok]`), chromedp.WaitVisible(chromedp.ID("approve")))
	do("approve tiktok", chromedp.Click(chromedp.ID("approve")), chromedp.WaitVisible(chromedp.CSS(`.flash-success`)))
	has("TikTok after connecting", text(`#platform-tiktok`), "Active")
	waitFor("the avatars", `[...document.querySelectorAll('.conn-grid img.avatar')].length === 2 && [...document.querySelectorAll('.conn-grid img.avatar')].every(i => i.complete && i.naturalWidth === 120) ? 'yes' : 'no'`, 15*time.Second)
	if v := eval(`document.querySelector('#platform-youtube img.avatar').src !== document.querySelector('#platform-tiktok img.avatar').src ? 'yes' : 'no'`); v != "yes" {
		t.Error("the two accounts show the same picture")
	}
	shot("connections-connected", true)

	// 4. Upload, slowed down so that the progress bar shows; the project is
	// filed under its client and campaign.
	do("back to projects", chromedp.Navigate(e.ts.URL+"/projects"), chromedp.WaitVisible(chromedp.ID("upload-form")))
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatalf("network enable: %v", err)
	}
	fi, _ := os.Stat(clip)
	throttle := func(bytesPerSec float64) {
		_, err := chromedp.Call(ctx, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
			MatchedNetworkConditions: []*network.Conditions{{UploadThroughput: bytesPerSec, DownloadThroughput: -1}}})
		if err != nil {
			t.Logf("network throttling not available: %v", err)
		}
	}
	throttle(float64(fi.Size()) / 2.5)
	upload := func(path, client, campaign string) {
		t.Helper()
		do("fill the upload form",
			chromedp.SetUploadFiles(chromedp.ID("upload-file"), []string{path}),
			chromedp.SendKeys(chromedp.CSS(`#upload-form input[name=client]`), client),
			chromedp.SendKeys(chromedp.CSS(`#upload-form input[name=campaign]`), campaign),
			chromedp.Click(chromedp.CSS(`#upload-form button[type=submit]`)),
		)
	}
	upload(clip, "Acme", "Spring launch")
	sawProgress := false
	_ = waitfor.Until(20*time.Second, func() error {
		// The page navigates when the upload ends: an evaluation may fail.
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => { const p = document.querySelector('.upload-progress progress');
			return p && !p.closest('[hidden]') && p.value > 5 && p.value < 95 ? 'yes' : (location.search.includes('uploaded') ? 'done' : 'no'); })()`))
		if err != nil {
			return err
		}
		switch v {
		case "yes":
			sawProgress = true
			shot("upload-progress", false)
			return nil
		case "done":
			return nil
		}
		return errors.New("uploading")
	})
	if !sawProgress {
		t.Log("the upload finished before its progress could be photographed")
	}
	throttle(-1)
	waitFor("the uploaded project", `location.search.includes('uploaded') && document.querySelector('.card .poster.loaded') ? 'yes' : 'no'`, 30*time.Second)
	has("the project card", text(`.card`), "Launch teaser", "Acme")
	has("the folders", text(`.folders`), "Acme 1", "Spring launch 1")
	shot("project-list", true)

	// 5. Ctrl+E opens the export modal, with the landscape defaults and the
	// size each quality level gives.
	do("ctrl+e", chromedp.Click(chromedp.CSS(`h1`)), chromedp.KeyEvent("e", chromedp.KeyModifiers(chromedp.ModifierCtrl)),
		chromedp.WaitVisible(chromedp.CSS(`#export-modal .tile[data-id="mp4-720p"]`)))
	if v := eval(`[...document.querySelectorAll('#export-modal .tile[aria-pressed=true]')].map(b => b.dataset.id).join(',')`); v != "youtube-1080p,linkedin-landscape" {
		t.Errorf("pre-selected formats: %q", v)
	}
	if v := eval(`document.activeElement.closest('#export-modal') ? 'yes' : 'no'`); v != "yes" {
		t.Error("focus is not in the modal")
	}
	if v := eval(`[...document.querySelectorAll('#export-modal .qmarks li')].map(li => li.querySelector('.qname').textContent + ' ' + li.querySelector('.qsize').textContent).join(' | ')`); !regexp.MustCompile(`^Web [≤≈] [\d.]+ [kM]B \| HD [≤≈] [\d.]+ [kM]B \| Ultra [≤≈] [\d.]+ [kM]B$`).MatchString(v) {
		t.Errorf("quality levels with their sizes: %q", v)
	}
	shot("modal-defaults", false)

	// 6. Three formats at Web quality; the framing follows the fit mode.
	do("pick formats",
		click(`.tile[data-id="linkedin-landscape"]`),
		click(`.tile[data-id="mp4-720p"]`),
		click(`.tile[data-id="linkedin-square"]`),
		click(`#export-modal .qmarks li[data-level="web"]`),
		click(`#export-modal .advanced summary`),
		click(`#export-modal input[name=fit][value=pad]`),
	)
	if v := eval(`[...document.querySelectorAll('#export-modal .targets .target')].map(li => li.dataset.id).join(',') + ' ' + document.querySelector('#export-modal [name=quality]').value`); v != "youtube-1080p,mp4-720p,linkedin-square web" {
		t.Errorf("selected targets and quality: %q", v)
	}
	if v := eval(`document.querySelector('.target[data-id="linkedin-square"] .frame').className`); v != "frame fit-pad" {
		t.Errorf("square preview after choosing pad: %q", v)
	}
	// Sharing: nothing is ticked; YouTube gets its own format, TikTok has
	// none among the selected and says so.
	do("share to platforms", click(`#export-modal input[name=distribution][value=share]`),
		chromedp.WaitVisible(chromedp.CSS(`#export-modal .share-box .acct-list li[data-platform=youtube]`)))
	if v := eval(`String(document.querySelectorAll('#export-modal .acct-list input:checked').length)`); v != "0" {
		t.Errorf("%s accounts ticked before the person ticked any", v)
	}
	has("the accounts", text(`#export-modal .acct-list`), sandbox.YouTubeChannelName, "None of the selected formats suits TikTok.", "Add TikTok")
	if v := eval(`document.querySelector('#export-modal .acct-list li[data-platform=youtube] select').value`); v != "youtube-1080p" {
		t.Errorf("file offered to YouTube: %q", v)
	}
	do("tick the accounts", click(`#export-modal .acct-list li[data-platform=youtube] input`), click(`#export-modal .acct-list li[data-platform=tiktok] input`))
	// "Remember these accounts": the next exports start with them ticked.
	do("remember the accounts", click(`#export-modal .remember-go`))
	waitFor("the saved default", `document.querySelector('#export-modal .remember-note').textContent === 'Saved: these 2 accounts are ticked next time.' ? 'yes' : 'no'`, 10*time.Second)
	// The fields come from the platforms' descriptors.
	if v := eval(`[...document.querySelectorAll('#export-modal .pf')].map(f => f.dataset.platform + ':' +
		[...f.querySelectorAll('[data-field]')].map(i => i.dataset.field + '=' + i.value).join(',')).join(' ')`); v != "youtube:title=,description=,tags=,privacy=public tiktok:caption=,privacy=" {
		t.Errorf("post fields: %q", v)
	}
	do("a title too long", click(`[name="pf-youtube-title"]`), chromedp.SendKeys(chromedp.CSS(`[name="pf-youtube-title"]`), strings.Repeat("x", 120)))
	if v := text(`[name="pf-youtube-title"] + .counter`); v != "120 / 100 · 20 over the limit" {
		t.Errorf("YouTube title counter over: %q", v)
	}
	// A refused submit shows next to the button, the focus on the field.
	do("export refuses it", click(`#export-modal .export-go`), chromedp.WaitVisible(chromedp.CSS(`#export-modal .modal-foot .modal-error`)))
	has("the over-limit message", text(`#export-modal .modal-error`), "YouTube title is 120 characters; YouTube allows 100", "What to do:")
	if v := eval(`document.activeElement.name`); v != "pf-youtube-title" {
		t.Errorf("focus after the refusal: %q", v)
	}
	shot("modal-title-too-long", false)
	eval(`(() => { const f = document.querySelector('[name="pf-youtube-title"]'); f.value = ''; f.dispatchEvent(new Event('input')); return ''; })()`)
	do("fix the title",
		chromedp.SendKeys(chromedp.CSS(`[name="pf-youtube-title"]`), "Launch teaser"),
		chromedp.SendKeys(chromedp.CSS(`[name="pf-youtube-description"]`), "Spring is here: https://example.com/launch"),
		chromedp.SendKeys(chromedp.CSS(`[name="pf-youtube-tags"]`), "launch, teaser"),
		chromedp.SendKeys(chromedp.CSS(`[name="pf-tiktok-caption"]`), "Spring is here #launch"))
	eval(`(() => { document.querySelector('[name="pf-youtube-privacy"]').value = 'unlisted'; return ''; })()`)
	// TikTok has no format yet: the modal says so and offers the one.
	do("export without a TikTok format", click(`#export-modal .export-go`))
	waitFor("the missing format", `(document.querySelector('#export-modal .modal-error') || {}).innerText.includes('None of the selected formats suits TikTok') && document.activeElement.matches('.acct-add') ? 'yes' : 'no'`, 10*time.Second)
	shot("modal-no-format-for-tiktok", false)
	do("add the TikTok format", chromedp.Click(chromedp.CSS(`#export-modal .acct-add[data-add=tiktok]`)))
	if v := eval(`document.querySelector('.tile[data-id=tiktok]').getAttribute('aria-pressed') + ' ' + document.querySelector('#export-modal .acct-list li[data-platform=tiktok] select').value`); v != "true tiktok" {
		t.Errorf("after adding TikTok's format: %q", v)
	}
	// TikTok wants its privacy chosen: said before anything is sent.
	do("export without a privacy", click(`#export-modal .export-go`))
	waitFor("the privacy refusal", `(document.querySelector('#export-modal .modal-error') || {}).innerText.includes('TikTok requires an explicit choice of who can watch') && document.activeElement.name === 'pf-tiktok-privacy' ? 'yes' : 'no'`, 10*time.Second)
	shot("modal-tiktok-privacy", false)
	eval(`(() => { document.querySelector('[name="pf-tiktok-privacy"]').value = 'followers'; return ''; })()`)
	// Sizes are measured by a sample encode and replace the bounds.
	waitFor("measured sizes", `[...document.querySelectorAll('#export-modal .targets .target-est')].every(e => e.textContent.startsWith('≈')) &&
		document.querySelector('#export-modal .total').textContent.startsWith('Total ≈') ? 'yes' : 'no'`, 150*time.Second)
	do("save as preset", click(`#export-modal .save-toggle`),
		chromedp.WaitVisible(chromedp.ID("preset-name")),
		chromedp.SendKeys(chromedp.ID("preset-name"), "Web, padded"+kb.Enter))
	// The toast of adding TikTok's format may still be up: wait for this one.
	waitFor("the preset toast", `(document.querySelector('#toast') || {}).innerText?.includes('Saved preset “Web, padded”') ? 'yes' : 'no'`, 10*time.Second)
	do("scroll to distribution", chromedp.ScrollIntoView(chromedp.CSS(`#export-modal .share-box .pf`)))
	shot("modal-distribution", false)
	if v := text(`#export-modal .export-label`); v != "Export 4 files & Share" {
		t.Errorf("export button: %q", v)
	}
	// Finishing: a thumbnail time and each platform's loudness (YouTube's
	// and TikTok's −14 LUFS: the render measures the sound first).
	eval(`(() => { const f = document.querySelector('#export-modal [name=thumbnail_at]'); f.value = '1';
		document.querySelector('#export-modal [name=loudness]').value = 'platform'; return ''; })()`)
	// The platform will refuse the TikTok post.
	fault("tiktok", "reject", "the video looks like spam")

	// 7. Enter confirms: the modal turns into the progress view, then the
	// success screen, which says that one post of two failed.
	// Its first view is held on its way: skeleton rows show meanwhile.
	b.whileHeld("*/exports/*/live*", "modal-progress-loading", `document.querySelector('#export-modal .modal-live[aria-busy=true] .sk-live .skeleton') &&
		document.querySelector('#export-form').hidden && !document.querySelector('#export-modal #export-live') ? 'yes' : 'no'`,
		chromedp.Focus(chromedp.CSS(`#export-modal input[name=fit][value=pad]`)), chromedp.KeyEvent(kb.Enter))
	waitFor("the progress view", `document.querySelector('#export-modal .modal-live #export-live') && document.querySelector('#export-form').hidden ? 'yes' : 'no'`, 20*time.Second)
	exportID := strings.TrimSuffix(strings.TrimPrefix(eval(`document.querySelector('#export-modal #export-live').dataset.fragment`), "/exports/"), "/live")
	eval(`(() => { window.maxPct = 0; const seen = () => { const p = document.querySelector('#export-modal #percent');
		const n = p ? parseInt(p.textContent, 10) : 0; if (n > window.maxPct) window.maxPct = n; };
		seen(); new MutationObserver(seen).observe(document.getElementById('export-modal'), { subtree: true, childList: true, characterData: true }); return ''; })()`)
	has("the progress stages", text(`#export-modal #stages`), "Processing Audio", "Rendering Video", "Checking", "Storing", "Uploading to Platforms")
	midShot := false
	if err := waitfor.Until(180*time.Second, func() error {
		st, err := chromedp.Run(ctx, chromedp.Evaluate[pageState](`({path: location.pathname,
			percent: (document.querySelector('#export-modal #percent') || {}).textContent || '',
			stage: (document.querySelector('#export-modal .stage-active .stage-label') || {}).textContent || '',
			success: !!document.querySelector('#export-modal #success')})`))
		if err != nil {
			return err
		}
		if !midShot && st.Stage == "Rendering Video" {
			midShot = true
			shot("modal-progress", false)
		}
		if !st.Success {
			return errors.New("not finished")
		}
		return nil
	}); err != nil {
		shot("timeout-progress", true)
		t.Fatalf("the export did not finish in the modal: %v", err)
	}
	if n, _ := strconv.Atoi(eval(`String(window.maxPct)`)); n < 100 {
		t.Errorf("progress seen up to %d %%, not 100 %%", n)
	}
	waitFor("the posts' outcome", `document.querySelector('#export-modal #success[data-outcome=attention]') ? 'yes' : 'no'`, 90*time.Second)
	has("the modal's success screen", text(`#export-modal #success`), "Ready — 1 of 2 posts failed", "1 post failed: what happened and what to do",
		"The platform refused the post — TikTok", "the video looks like spam", "Details: error code platform_rejected", "Retry", "Edit and retry",
		"Export another version", "Share to additional platforms", "View post")
	has("the export's chip", text(`#export-modal #export-status`), "1 of 2 posts failed")
	shot("modal-success-one-post-failed", false)
	// Closing leaves the export with its page.
	do("close the modal", chromedp.KeyEvent(kb.Escape), chromedp.WaitNotVisible(chromedp.ID("export-modal")))

	// 8. The export's page: the failed post first; Edit and retry posts it.
	do("the export page", chromedp.Navigate(e.ts.URL+"/exports/"+exportID), chromedp.WaitVisible(chromedp.ID("success")))
	has("the export page", text(`#success`), "Ready — 1 of 2 posts failed")
	if v := eval(`document.querySelector('#pubs tbody tr').dataset.state`); v != "failed" {
		t.Errorf("first post in the table: %q, want the failed one", v)
	}
	if v := all(`details.details`); !strings.Contains(v, "At 1 s") {
		t.Errorf("export details lack the thumbnail time: %q", v)
	}
	shot("export-one-post-failed", true)
	do("edit and retry", click(`#attention .edit-post summary`), chromedp.WaitVisible(chromedp.CSS(`#attention .edit-form textarea[name="tiktok.caption"]`)))
	if v := eval(`document.querySelector('#attention .edit-form textarea[name="tiktok.caption"]').value + ' | ' + document.querySelector('#attention .edit-form select[name="tiktok.privacy"]').value`); v != "Spring is here #launch | FOLLOWER_OF_CREATOR" && v != "Spring is here #launch | followers" {
		t.Errorf("the edit form's values: %q", v)
	}
	eval(`(() => { const c = document.querySelector('#attention .edit-form textarea[name="tiktok.caption"]'); c.value = 'Spring, for real this time #launch'; return ''; })()`)
	do("send again", click(`#attention .edit-form button[type=submit]`))
	waitFor("both posts published", `document.querySelector('#success[data-outcome=ready]') && document.querySelectorAll('#pubs tr[data-state=published]').length === 2 ? 'yes' : 'no'`, 90*time.Second)
	has("the export page after the edit", text(`#success`), "Your files are ready")
	has("the sandbox's posts", sandboxState(), "Launch teaser", "utm_source=youtube", "utm_campaign=Spring", "Spring, for real this time #launch", "FOLLOWER_OF_CREATOR")
	links := eval(`[...document.querySelectorAll('#success a.btn-download')].map(a => a.href).join('\n')`)
	if n := len(strings.Fields(links)); n != 4 {
		t.Fatalf("success screen has %d download links: %q", n, links)
	}
	for _, l := range strings.Fields(links) {
		res, err := http.Get(l)
		if err != nil {
			t.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || n == 0 {
			t.Errorf("download %s: %d, %d bytes", l, res.StatusCode, n)
		}
	}
	// "Keep this file" removes the expiry it shows.
	row := `#r-` + eval(`document.querySelector('.targets-table tr[data-rendition]').dataset.rendition`)
	has("the keep toggle", text(row+` .rkeep`), "Keep this file", "unless kept")
	do("keep the file", click(row+` .switch`))
	waitFor("the kept file", fmt.Sprintf(`document.querySelector('%s .switch[aria-checked=true]') ? 'yes' : 'no'`, row), 15*time.Second)
	has("the kept file", text(row+` .rkeep`), "Kept until you delete it")
	// A thumbnail from an image replaces the render's.
	before := eval(`document.querySelector('` + row + ` .rthumb-img').getAttribute('src') || ''`)
	// The live part may be fetched again (the keep's event) between
	// finding the input and setting its file: then find it again.
	if err := waitfor.Until(20*time.Second, func() error {
		return chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.CSS(row+` .thumb-form input[type=file]`), []string{logo}))
	}); err != nil {
		shot("failed-a-thumbnail-image", false)
		t.Fatalf("a thumbnail image: %v", err)
	}
	waitFor("the new thumbnail", fmt.Sprintf(`(() => { const i = document.querySelector('%s img.rthumb-img'); return i && i.getAttribute('src').includes('thumbnail.jpg') && i.getAttribute('src') !== %q && i.complete && i.naturalWidth > 0 ? 'yes' : 'no'; })()`, row, before), 20*time.Second)
	// Every picture on the page shows: posters, thumbnails, avatars (the
	// closed export dialog's are not shown).
	waitFor("the page's images", `[...document.images].filter(i => i.getClientRects().length).every(i => i.complete && i.naturalWidth > 0) ? 'yes' : 'no'`, 20*time.Second)
	shot("export-ready-kept-thumbnail", true)

	// 9. History: live search finds it; its links download again; the
	// timeline shows the same exports by day, with the same filters.
	// The answer to the search is held: skeleton rows show meanwhile.
	b.whileHeld("*/history?*partial=1*", "history-loading", `document.querySelectorAll('#history-rows tr.sk-row .skeleton').length === 21 &&
		document.getElementById('history-rows').getAttribute('aria-busy') === 'true' && !document.querySelector('#history-rows tr.hrow') ? 'yes' : 'no'`,
		chromedp.Navigate(e.ts.URL+"/history"), chromedp.WaitVisible(chromedp.ID("hq")), chromedp.SendKeys(chromedp.ID("hq"), "launch"))
	waitFor("the search result", fmt.Sprintf(`location.search === '?q=launch' && document.querySelectorAll('#history-rows tr.hrow').length === 1 &&
		document.querySelector('#history-rows tr.hrow[data-row=%q]') ? 'yes' : 'no'`, exportID), 10*time.Second)
	shot("history-search", true)
	statuses, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](fmt.Sprintf(`Promise.all([...document.querySelectorAll('tr[data-row=%q] .files a.dl')]
		.map(a => fetch(a.href).then(r => r.blob().then(() => r.status))))`, exportID), chromedp.EvalAwaitPromise))
	if err != nil || len(statuses) != 4 {
		t.Fatalf("re-download: %v %v", statuses, err)
	}
	for _, s := range statuses {
		if s != http.StatusOK {
			t.Errorf("re-download status %d", s)
		}
	}
	do("timeline", click(`.view-switch a[data-view=timeline]`), chromedp.WaitVisible(chromedp.CSS(`.timeline .tl-day`)))
	if v := eval(`location.search`); v != "?q=launch&view=timeline" {
		t.Errorf("the timeline lost the filters: %q", v)
	}
	has("the timeline", all(`.timeline`), "Today", "Launch teaser", "Done", "YouTube 1080p")
	waitFor("the timeline's thumbnail", fmt.Sprintf(`(() => { const i = document.querySelector('.tl-item[data-row=%q] .tl-thumb img'); return i && i.complete && i.naturalWidth > 0 ? 'yes' : 'no'; })()`, exportID), 10*time.Second)
	shot("history-timeline", true)
	do("timeline search", chromedp.SendKeys(chromedp.ID("hq"), "zzz"))
	waitFor("the empty timeline", `location.search.includes('view=timeline') && document.querySelector('#history-rows .empty') ? 'yes' : 'no'`, 10*time.Second)
	// The platform filter finds exports by where they were posted; the
	// folders filter by client.
	do("platform filter", chromedp.Navigate(e.ts.URL+"/history?platform=youtube"), chromedp.WaitVisible(chromedp.ID("hq")))
	if v := eval(fmt.Sprintf(`document.querySelector('#history-rows tr.hrow[data-row=%q]') ? 'yes' : 'no'`, exportID)); v != "yes" {
		t.Error("the YouTube filter does not find the export posted to YouTube")
	}
	do("folder filter", click(`.folders a.folder[href*="campaign=Spring"]`), chromedp.WaitVisible(chromedp.CSS(`.folders a.folder[aria-current=true]`)))
	if v := eval(`location.search + ' | ' + document.querySelectorAll('#history-rows tr.hrow').length`); !strings.Contains(v, "client=Acme") || !strings.Contains(v, "campaign=Spring+launch") || !strings.HasSuffix(v, "| 1") {
		t.Errorf("the folder filter: %q", v)
	}

	// 10. Presets in words; brand kits with a PNG watermark.
	do("presets", chromedp.Navigate(e.ts.URL+"/presets"), chromedp.WaitVisible(chromedp.CSS(`.preset-item`)))
	has("the presets page", text(`.preset-item`), "Web, padded", "YouTube 1080p · Web, Pad (bars)")
	has("the built-in formats", text(`table`), "MP4 · H.264 + AAC")
	do("brand kits", chromedp.Navigate(e.ts.URL+"/brand-kits"), chromedp.WaitVisible(chromedp.CSS(`#new-kit[open] input[name=name]`)))
	do("new kit",
		chromedp.SendKeys(chromedp.CSS(`#new-kit input[name=name]`), "Acme"),
		chromedp.SendKeys(chromedp.CSS(`#new-kit input[name=client]`), "Acme"),
		chromedp.SetUploadFiles(chromedp.CSS(`#new-kit input[name=watermark]`), []string{logo}),
		chromedp.SetValue(chromedp.CSS(`#new-kit select[name=position]`), "tr"),
		chromedp.SetValue(chromedp.CSS(`#new-kit input[name=opacity]`), "80"),
		click(`#new-kit button[type=submit]`),
		chromedp.WaitVisible(chromedp.CSS(`#kit-acme`)))
	has("the brand kit", text(`#kit-acme`), "Acme", "PNG · Top right · 15 % of the width · 80 % opaque")
	waitFor("the watermark preview", `(() => { const i = document.querySelector('#kit-acme .kit-preview img'); return i && i.complete && i.naturalWidth === 96 ? 'yes' : 'no'; })()`, 10*time.Second)
	shot("brand-kits", true)

	// 11. A/B: two versions of the project, with and without the kit
	// (suggested for the project's client), compared side by side.
	do("projects again", chromedp.Navigate(e.ts.URL+"/projects"), chromedp.WaitVisible(chromedp.CSS(`.card [data-export]`)))
	do("open the modal", click(`.card [data-export]`), chromedp.WaitVisible(chromedp.CSS(`#export-modal .tile[data-id="mp4-720p"]`)))
	if v := eval(`[...document.querySelectorAll('#export-modal .acct-list input:checked')].map(c => c.dataset.platform).sort().join(',') + ' | ' + document.querySelector('#export-modal .remember-note').textContent`); v != "tiktok,youtube | Ticked: your saved default." {
		t.Errorf("the saved share-to default in a new export: %q", v)
	}
	if v := eval(`document.querySelector('#export-modal [name=brand_kit]').value + ' | ' + document.querySelector('#export-modal .kit-note').textContent`); v != "acme | Suggested: Acme's kit" {
		t.Errorf("the brand kit choice: %q", v)
	}
	eval(`(() => { document.querySelectorAll('#export-modal .tile[aria-pressed=true]').forEach(b => b.click()); return ''; })()`)
	do("one format, two versions", click(`#export-modal .tile[data-id="mp4-720p"]`), click(`#export-modal .versions summary`),
		click(`#export-modal input[name=versions_on]`), chromedp.WaitVisible(chromedp.CSS(`#export-modal .version-list li`)))
	if v := eval(`[...document.querySelectorAll('#export-modal .version-list li')].map(li => li.querySelector('.v-name').value + ':' + li.querySelector('.v-kit').value).join(',') + ' | ' + document.querySelector('#export-modal .export-label').textContent`); v != "A:acme,B:none | Export 2 versions" {
		t.Errorf("the versions: %q", v)
	}
	if v := eval(`document.querySelector('#export-modal input[name=distribution][value=share]').closest('label').hidden + ' ' + document.querySelector('#export-modal .dist-off').hidden`); v != "true false" {
		t.Errorf("sharing with versions: %q", v)
	}
	shot("modal-versions", false)
	do("export the versions", click(`#export-modal .export-go`))
	waitFor("the group page", `location.pathname.startsWith('/groups/') && document.querySelectorAll('.group-card').length === 2 ? 'yes' : 'no'`, 20*time.Second)
	waitFor("both versions ready", `document.querySelectorAll('.group-card[data-outcome=ready]').length === 2 ? 'yes' : 'no'`, 120*time.Second)
	has("the versions", text(`#group-live`), "2 versions of Launch teaser", "2 of 2 ready", "Version A", "Version B", "Brand kit Acme", "Brand kit None", "MP4 720p")
	shot("group-versions", true)
	do("version A's page", click(`.group-card a[href^="/exports/"]`), chromedp.WaitVisible(chromedp.ID("success")))
	do("version A's details", click(`details.details summary`))
	if v := text(`details.details`); !strings.Contains(v, "Version A") || !strings.Contains(v, "Brand kit Acme") {
		t.Errorf("version A's details: %q", v)
	}

	// 12. A batch: two projects, the same format, one group.
	do("projects for a batch", chromedp.Navigate(e.ts.URL+"/projects"), chromedp.WaitVisible(chromedp.ID("upload-form")))
	upload(clip2, "Acme", "Autumn")
	waitFor("the second project", `location.search.includes('uploaded') && document.querySelectorAll('.card').length === 2 ? 'yes' : 'no'`, 30*time.Second)
	do("select both", click(`.card:nth-child(1) input.pick`), click(`.card:nth-child(2) input.pick`), chromedp.WaitVisible(chromedp.ID("batch-bar")))
	has("the batch bar", text(`#batch-bar`), "2 projects selected")
	do("export selected", click(`#batch-bar .batch-go`), chromedp.WaitVisible(chromedp.CSS(`#export-modal .tile[data-id="mp4-720p"]`)))
	has("the batch modal", text(`#export-title`)+" "+text(`#export-modal .batch-note`)+" "+text(`#export-modal .dist-off`), "Export 2 projects", "for each of the 2 projects", "A batch makes downloads")
	eval(`(() => { document.querySelectorAll('#export-modal .tile[aria-pressed=true]').forEach(b => b.click()); return ''; })()`)
	do("pick the batch's format", click(`#export-modal .tile[data-id="mp4-720p"]`), click(`#export-modal .export-go`))
	waitFor("the batch's group", `location.pathname.startsWith('/groups/') && document.querySelectorAll('.group-card[data-outcome=ready]').length === 2 ? 'yes' : 'no'`, 120*time.Second)
	has("the batch", text(`#group-live`), "Batch of 2 exports", "Launch teaser", "Autumn cut")
	shot("group-batch", true)

	// The projects' live search: skeleton cards while its answer is held,
	// then the project found.
	b.whileHeld("*/projects?*partial=1*", "projects-loading", `document.querySelectorAll('#project-rows .sk-card .skeleton').length === 12 &&
		document.getElementById('project-rows').getAttribute('aria-busy') === 'true' && !document.querySelector('#project-rows .card:not(.sk-card)') ? 'yes' : 'no'`,
		chromedp.Navigate(e.ts.URL+"/projects"), chromedp.WaitVisible(chromedp.ID("project-q")), chromedp.SendKeys(chromedp.ID("project-q"), "autumn"))
	waitFor("the project found", `location.search === '?q=autumn' && !document.querySelector('#project-rows[aria-busy]') &&
		[...document.querySelectorAll('#project-rows .card')].map(c => c.querySelector('.card-title').textContent).join(',') === 'Autumn cut' ? 'yes' : 'no'`, 10*time.Second)

	// 13. Tablet width.
	do("tablet", chromedp.EmulateViewport(768, 1024), chromedp.Navigate(e.ts.URL+"/history"),
		chromedp.WaitVisible(chromedp.CSS(`tr.hrow`)))
	shot("tablet-history", true)
	do("tablet timeline", chromedp.Navigate(e.ts.URL+"/history?view=timeline"), chromedp.WaitVisible(chromedp.CSS(`.tl-item`)))
	shot("tablet-history-timeline", true)
	do("tablet projects", chromedp.Navigate(e.ts.URL+"/projects"), chromedp.WaitVisible(chromedp.CSS(`.folders`)))
	// Every card's buttons stay inside the card (Export, History,
	// Select, Delete wrap rather than run off its edge).
	if v := eval(`[...document.querySelectorAll('.card')].flatMap(c => { const r = c.getBoundingClientRect();
		return [...c.querySelectorAll('.card-actions > *')].filter(b => b.getBoundingClientRect().right > r.right + 0.5).map(b => b.textContent.trim()); }).join(', ')`); v != "" {
		t.Errorf("card buttons cut off at tablet width: %s", v)
	}
	shot("tablet-projects", true)
	// The tour again, at tablet width with a project: the upload form, a
	// card's Export button, the Connections page.
	do("tablet tour", chromedp.Evaluate[chromedp.Void](`localStorage.removeItem('outpost.tour.v1')`), chromedp.Reload(),
		chromedp.WaitVisible(chromedp.CSS(`.tour`)))
	walkTour(b, "tablet-tour", []tourStep{{"#upload-form", "Upload your master here"},
		{"[data-tour-export]", "Press Export"}, {`[data-tour="sharing"]`, "Connect your accounts here"}})
	do("tablet export page", chromedp.Navigate(e.ts.URL+"/exports/"+exportID), chromedp.WaitVisible(chromedp.ID("success")))
	do("tablet modal", chromedp.Click(chromedp.CSS(`#success a[data-export]`)),
		chromedp.WaitVisible(chromedp.CSS(`#export-modal .tile[data-id="tiktok"]`)))
	if v := eval(`[...document.querySelectorAll('#export-modal .tile[aria-pressed=true]')].map(b => b.dataset.id).join(',')`); v != "youtube-1080p,linkedin-square,mp4-720p" {
		t.Errorf("the next export does not suggest the most used formats that suit the source: %q", v)
	}
	// The selection, its sizes and previews stay in view at the top of the
	// modal, while the formats are picked.
	waitFor("the summary in view", `(() => { const s = document.querySelector('#export-modal .modal-side .total').getBoundingClientRect();
		const f = document.querySelector('#export-modal .target .frame').getBoundingClientRect();
		return s.height > 0 && s.bottom <= innerHeight && s.top >= 0 && f.bottom <= innerHeight && f.top >= 0 ? 'yes' : 'no'; })()`, 10*time.Second)
	shot("tablet-modal", false)
	do("captions select", click(`#export-modal .advanced summary`), chromedp.ScrollIntoView(chromedp.CSS(`#export-modal select[name=captions_mode]`)))
	// Every choice's words fit the select (its padding and arrow aside).
	if v := eval(`(() => { const s = document.querySelector('#export-modal select[name=captions_mode]'); const c = document.createElement('canvas').getContext('2d');
		c.font = getComputedStyle(s).font; const w = Math.max(...[...s.options].map(o => c.measureText(o.text).width));
		return w + 36 <= s.clientWidth ? 'fits' : 'cut: ' + Math.ceil(w) + ' + 36 > ' + s.clientWidth; })()`); v != "fits" {
		t.Errorf("the captions choice is cut off: %s", v)
	}
	shot("tablet-modal-advanced", false)
	do("escape closes", chromedp.KeyEvent(kb.Escape), chromedp.WaitNotVisible(chromedp.ID("export-modal")))
	if v := eval(`document.activeElement && document.activeElement.matches('a[data-export]') ? 'yes' : 'no'`); v != "yes" {
		t.Error("focus did not return to the button that opened the modal")
	}

	// 14. Share to additional platforms from the success screen (tablet);
	// the platform refuses the YouTube one: the export says so.
	fault("youtube", "reject", "")
	do("open share more", click(`#share-more summary`), chromedp.WaitVisible(chromedp.ID("share-form")))
	do("pick the accounts", click(`#share-form input[name=account][data-platform=youtube]`), click(`#share-form input[name=account][data-platform=tiktok]`),
		chromedp.WaitVisible(chromedp.CSS(`#share-form .pf[data-platform=youtube] input[name="youtube.title"]`)),
		chromedp.SendKeys(chromedp.CSS(`#share-form input[name="youtube.title"]`), "Launch teaser, again"))
	// Each account is offered the export's file that suits its platform.
	if v := eval(`['youtube', 'tiktok'].map(p => document.querySelector('#share-form input[data-platform=' + p + ']').closest('li').querySelector('select').value).join(',')`); v != "youtube-1080p,tiktok" {
		t.Errorf("the files offered to YouTube and TikTok: %q", v)
	}
	if v := text(`#share-form input[name="youtube.title"] + .counter`); v != "20 / 100" {
		t.Errorf("share form counter: %q", v)
	}
	do("tiktok caption again", chromedp.SendKeys(chromedp.CSS(`#share-form textarea[name="tiktok.caption"]`), "Again, for friends"),
		click(`#share-form button[type=submit]`))
	waitFor("the privacy refusal", `(document.querySelector('#share-form .form-error:not([hidden])') || {}).innerText?.includes('TikTok requires an explicit choice of who can watch') ? 'yes' : 'no'`, 10*time.Second)
	shot("tablet-share-more", false)
	eval(`(() => { document.querySelector('#share-form select[name="tiktok.privacy"]').value = 'friends'; return ''; })()`)
	do("share", click(`#share-form button[type=submit]`))
	waitFor("the second posts", `document.querySelectorAll('#pubs tr[data-state=published]').length === 3 && document.querySelector('#pubs tr[data-state=failed]') && document.querySelector('#success[data-outcome=attention]') ? 'yes' : 'no'`, 90*time.Second)
	has("the export after a refused share", text(`#success`), "Ready — 1 of 4 posts failed", "The platform refused the post — YouTube")
	has("the export's chip", text(`#export-status`), "1 of 4 posts failed")
	has("the sandbox's posts", sandboxState(), "MUTUAL_FOLLOW_FRIENDS")
	if v := eval(`[...document.querySelectorAll('#pubs tbody tr')].filter(tr => tr.textContent.includes('Sandbox Creator')).map(tr => tr.children[1].textContent.trim()).join(',')`); v != "TikTok,TikTok" {
		t.Errorf("the files posted to TikTok: %q", v)
	}
	shot("tablet-share-one-failed", true)
	do("tablet group", chromedp.Navigate(e.ts.URL+"/history"), chromedp.WaitVisible(chromedp.CSS(`tr.hrow`)))
	do("tablet brand kits", chromedp.Navigate(e.ts.URL+"/brand-kits"), chromedp.WaitVisible(chromedp.CSS(`#kit-acme`)))
	shot("tablet-brand-kits", true)
	do("tablet connections", chromedp.Navigate(e.ts.URL+"/connections"), chromedp.WaitVisible(chromedp.CSS(`#platform-youtube .conn`)))
	shot("tablet-connections", true)
	// A disconnected account is no longer ticked by the saved default.
	do("disconnect tiktok", chromedp.Evaluate[chromedp.Void](`window.confirm = () => true`),
		click(`#platform-tiktok form[action$="/disconnect"] button[type=submit]`), chromedp.WaitVisible(chromedp.CSS(`.flash-success`)))
	do("projects after disconnecting", chromedp.Navigate(e.ts.URL+"/projects"), chromedp.WaitVisible(chromedp.CSS(`.card [data-export]`)))
	do("the modal after disconnecting", click(`.card [data-export]`), chromedp.WaitVisible(chromedp.CSS(`#export-modal .tile[data-id="mp4-720p"]`)))
	if v := eval(`[...document.querySelectorAll('#export-modal .acct-list input:checked')].map(c => c.dataset.platform).join(',')`); v != "youtube" {
		t.Errorf("ticked after disconnecting TikTok: %q, want youtube", v)
	}
	do("close the modal again", chromedp.KeyEvent(kb.Escape), chromedp.WaitNotVisible(chromedp.ID("export-modal")))
	do("webhooks", chromedp.Navigate(e.ts.URL+"/webhooks"), chromedp.WaitVisible(chromedp.ID("webhook-form")),
		chromedp.SendKeys(chromedp.CSS(`#webhook-form input[name=url]`), e.ts.URL+"/hooks/in"),
		click(`#webhook-form input[value="publication.published"]`),
		click(`#webhook-form button[type=submit]`), chromedp.WaitVisible(chromedp.ID("webhook-secret")))
	if v := text(`#webhook-secret`); !strings.HasPrefix(v, "whsec_") {
		t.Errorf("webhook secret: %q", v)
	}
	shot("tablet-webhooks", true)

	b.finish()
}

// tourStep is a step of the first-run tour: what it points at and how its
// text starts.
type tourStep struct{ sel, text string }

// walkTour goes through the first-run tour shown on the page, checking at
// each step that it points at what it names (its target matches, its
// arrow is over it, its text is the step's), that the popover sits just
// below its target and covers neither it (the whole upload form, in the
// first step) nor what the page says there (data-tour-keep: the empty
// list's text, the import form); the last step's "Got it" ends it.
func walkTour(b *browserSession, name string, steps []tourStep) {
	b.t.Helper()
	for i, st := range steps {
		b.waitFor(fmt.Sprintf("tour step %d", i+1), fmt.Sprintf(`document.querySelector('.tour[data-step="%d"]') ? 'yes' : 'no'`, i+1), 10*time.Second)
		b.shot(fmt.Sprintf("%s-%d", name, i+1), false)
		problems := b.eval(fmt.Sprintf(`(() => {
			const box = document.querySelector('.tour'), t = document.querySelector('.tour-target');
			if (!box || !t) return 'no tour or no target';
			const a = box.getBoundingClientRect(), r = t.getBoundingClientRect();
			const hit = (o) => o.width > 0 && o.height > 0 && a.left < o.right && o.left < a.right && a.top < o.bottom && o.top < a.bottom;
			const out = [];
			if (!t.matches(%q)) out.push('it points at ' + t.tagName.toLowerCase() + '.' + t.className);
			if (!document.getElementById('tour-text').textContent.startsWith(%q)) out.push('its text is ' + JSON.stringify(document.getElementById('tour-text').textContent));
			if (hit(r)) out.push('it covers its target');
			if (a.top < r.bottom || a.top - r.bottom > 30) out.push('it is not just below its target (' + Math.round(a.top - r.bottom) + ' px)');
			const arrow = a.left + parseFloat(box.style.getPropertyValue('--arrow-left')) + 8;
			if (arrow < r.left || arrow > r.right) out.push('its arrow (' + Math.round(arrow) + ') is not over the target (' + Math.round(r.left) + '–' + Math.round(r.right) + ')');
			for (const k of document.querySelectorAll('[data-tour-keep]')) {
				if (!k.contains(t) && !t.contains(k) && hit(k.getBoundingClientRect())) out.push('it covers ' + k.tagName.toLowerCase() + (k.id ? '#' + k.id : '') + '.' + k.className);
			}
			return out.join('; ');
		})()`, st.sel, st.text))
		if problems != "" {
			b.t.Errorf("%s, step %d (%s): %s", name, i+1, st.sel, problems)
		}
		b.do("tour next", chromedp.Click(chromedp.CSS(`.tour .tour-next`)))
	}
	b.do("tour ended", chromedp.WaitNotPresent(chromedp.CSS(`.tour`)))
}

// browserSession is a headless Chromium tab with the test's helpers.
type browserSession struct {
	t        *testing.T
	ctx      context.Context
	mu       sync.Mutex
	problems []string
	start    time.Time
	step     int
	dir      string
	prefix   string
	// pagesMayFail ignores the browser's log of error statuses (a page
	// that is meant to answer 404 or 422).
	pagesMayFail bool
	// ended: the console's end marker came through (finish).
	ended bool
	// otherOrigin is a site the test visits that is not Outpost (the
	// sandbox).
	otherOrigin string
}

// startBrowser starts Debian's chromium with the flags the project uses, a
// fresh profile, and a listener that records console errors, uncaught
// exceptions and CSP refusals (finish fails the test on any).
func startBrowser(t *testing.T, dir, prefix string) *browserSession {
	t.Helper()
	chromium := chromiumPath(t)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromium),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelBrowser)
	// The browser lives as long as the context of its first run: start it
	// on one without a deadline, then bound the scenario.
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	ctx, cancel := context.WithTimeout(bctx, 600*time.Second)
	t.Cleanup(cancel)
	b := &browserSession{t: t, ctx: ctx, start: time.Now(), dir: dir, prefix: prefix}
	go func() {
		for m, err := range chromedp.Console(bctx) {
			if err != nil {
				return
			}
			b.mu.Lock()
			if m.Type == chromedp.ConsoleError || m.IsException() {
				b.problems = append(b.problems, m.String()+" @ "+m.URL)
			}
			if strings.Contains(m.String(), consoleEnd) {
				b.ended = true
			}
			b.mu.Unlock()
		}
	}()
	return b
}

// consoleEnd marks the end of a scenario in the browser's console.
const consoleEnd = "outpost-e2e: end of scenario"

// finish fails the test on any console error seen.
func (b *browserSession) finish() {
	b.t.Helper()
	// The messages arrive in order: once the end marker logged now has
	// come through, every earlier one has.
	b.ended = false
	_ = chromedp.Do(b.ctx, chromedp.Evaluate[chromedp.Void](`console.info(`+strconv.Quote(consoleEnd)+`)`))
	waitfor.True(b.t, 10*time.Second, func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		return b.ended
	}, "the browser's console messages")
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, p := range b.problems {
		if b.pagesMayFail && strings.Contains(p, "Failed to load resource: the server responded with a status of") {
			continue
		}
		if b.otherOrigin != "" && strings.HasSuffix(p, " @ "+b.otherOrigin+"/favicon.ico") {
			continue // the sandbox's consent page has no icon
		}
		b.t.Errorf("browser console: %s", p)
	}
}

// shot saves a screenshot: the viewport, or the whole page from its top.
func (b *browserSession) shot(name string, full bool) {
	b.t.Helper()
	b.step++
	var buf []byte
	var err error
	if full {
		_ = chromedp.Do(b.ctx, chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
		buf, err = chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	} else {
		buf, err = chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	}
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(b.dir, fmt.Sprintf("%s%02d-%s.png", b.prefix, b.step, name))
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("%5.1fs %s", time.Since(b.start).Seconds(), filepath.Base(path))
}

func (b *browserSession) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.shot("failed-"+strings.ReplaceAll(what, " ", "-"), false)
		b.t.Fatalf("%s: %v", what, err)
	}
}

// hold pauses the page's requests whose URL matches pattern (Chromium's
// wildcards: * any, ? one character) until release lets them go, so that
// what the page shows while an answer is on its way can be checked
// without waiting for time to pass. held reports how many are paused.
func (b *browserSession) hold(pattern string) (held func() int, release func()) {
	b.t.Helper()
	ctx, cancel := context.WithCancel(b.ctx)
	var mu sync.Mutex
	var ids []fetch.RequestID
	paused := chromedp.Events(ctx, fetch.RequestPaused)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev, err := range paused {
			if err != nil {
				return
			}
			mu.Lock()
			ids = append(ids, ev.RequestID)
			mu.Unlock()
		}
	}()
	if _, err := chromedp.Call(b.ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: pattern}}}); err != nil {
		cancel()
		b.t.Fatalf("hold %s: %v", pattern, err)
	}
	held = func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(ids)
	}
	release = func() {
		b.t.Helper()
		mu.Lock()
		first := len(ids)
		for _, id := range ids {
			if _, err := chromedp.Call(b.ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: id}); err != nil {
				b.t.Errorf("release %s: %v", pattern, err)
			}
		}
		mu.Unlock()
		if _, err := chromedp.Call(b.ctx, fetch.Disable, cdp.Empty{}); err != nil {
			b.t.Errorf("stop holding %s: %v", pattern, err)
		}
		cancel()
		<-done
		// One paused between the two: it goes on too.
		for _, id := range ids[first:] {
			_, _ = chromedp.Call(b.ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: id})
		}
	}
	return held, release
}

// whileHeld holds the answers to the requests matching pattern, runs
// actions (which make them), waits until the page shows what skeleton
// checks (JS answering "yes"), photographs it as name, and lets the
// answers go.
func (b *browserSession) whileHeld(pattern, name, skeleton string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	held, release := b.hold(pattern)
	b.do(name, actions...)
	b.waitFor(name, skeleton, 20*time.Second)
	waitfor.True(b.t, 10*time.Second, func() bool { return held() > 0 }, "the held answer of %s", name)
	b.shot(name, false)
	release()
}

// click scrolls the element to the middle first, as a person scrolls
// before clicking: the modal's footer sticks to the bottom.
func (b *browserSession) click(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%q).scrollIntoView({block: 'center'})`, sel)),
		chromedp.Click(chromedp.CSS(sel)))
}

func (b *browserSession) eval(js string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](js))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// waitFor polls js until it returns "yes". A page navigating between two
// polls makes one evaluation fail: that is "not yet", not a failure.
func (b *browserSession) waitFor(what, js string, d time.Duration) {
	b.t.Helper()
	if err := waitfor.Until(d, func() error {
		v, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](js))
		if err != nil {
			return err
		}
		if v != "yes" {
			return errors.New("not yet")
		}
		return nil
	}); err != nil {
		b.shot("timeout-"+strings.ReplaceAll(what, " ", "-"), true)
		b.t.Fatalf("timed out waiting for %s (last: %v)", what, err)
	}
}

// TestE2E_firstRun creates the admin through the one-time setup link in
// the browser, then visits the pages of features still to come and a
// missing page.
func TestE2E_firstRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	shots := artifactsDir(t, "first-run-")
	e := newEnv(t, envOptions{})
	b := startBrowser(t, shots, "first-run-")
	b.pagesMayFail = true
	b.do("sign-in page", chromedp.Navigate(e.ts.URL+"/signin"), chromedp.WaitVisible(chromedp.CSS(`.flash-info`)))
	b.shot("signin-no-account", false)
	b.do("setup page", chromedp.Navigate(e.ui.SetupURL(e.ts.URL)), chromedp.WaitVisible(chromedp.CSS(`input[name=confirm]`)))
	b.do("fill setup",
		chromedp.SendKeys(chromedp.CSS(`input[name=name]`), "Grace"),
		chromedp.SendKeys(chromedp.CSS(`input[name=email]`), "grace@example.com"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), testPassword),
		chromedp.SendKeys(chromedp.CSS(`input[name=confirm]`), testPassword+"!"))
	b.shot("setup", false)
	b.do("mismatch", chromedp.Click(chromedp.CSS(`form[action="/setup"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`.flash-error`)))
	if v := b.eval(`document.querySelector('.flash-error').innerText`); !strings.Contains(v, "The two passwords differ") {
		t.Errorf("mismatch message: %q", v)
	}
	b.shot("setup-error", false)
	b.do("retry setup",
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), testPassword),
		chromedp.SendKeys(chromedp.CSS(`input[name=confirm]`), testPassword),
		chromedp.Click(chromedp.CSS(`form[action="/setup"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("upload-form")))
	if v := b.eval(`document.querySelector('.account .who').textContent`); v != "Grace" {
		t.Errorf("signed in as %q", v)
	}
	b.do("connections", chromedp.Navigate(e.ts.URL+"/connections"), chromedp.WaitVisible(chromedp.CSS(`#platform-youtube`)))
	b.shot("connections", true)
	b.do("missing page", chromedp.Navigate(e.ts.URL+"/no/such/page"), chromedp.WaitVisible(chromedp.CSS(`.flash-error`)))
	b.shot("not-found", true)
	// Ctrl+E with no project says what to do.
	b.do("ctrl+e without projects", chromedp.Navigate(e.ts.URL+"/projects"), chromedp.WaitVisible(chromedp.ID("upload-form")),
		chromedp.KeyEvent(kb.Escape), chromedp.KeyEvent("e", chromedp.KeyModifiers(chromedp.ModifierCtrl)),
		chromedp.WaitVisible(chromedp.ID("toast")))
	if v := b.eval(`document.getElementById('toast').textContent`); !strings.Contains(v, "Upload a video first") {
		t.Errorf("ctrl+e without projects: %q", v)
	}
	b.finish()
}

// TestE2E_team drives the team features in Chromium: the admin creates a
// workspace and invites by link; a second person, in a browser of their
// own, opens the link, makes an account and lands in that workspace, and
// sees its members (not its keys); the admin creates an API key (shown
// once), the key works against the API, and once revoked in the page it
// gets 401; the admin switches workspaces from the header.
func TestE2E_team(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	shots := artifactsDir(t, "team-")
	e := newEnv(t, envOptions{admin: "ada@example.com"})
	a := startBrowser(t, shots, "team-")
	a.do("sign in", chromedp.Navigate(e.ts.URL+"/signin"),
		chromedp.SendKeys(chromedp.CSS(`input[name=email]`), "ada@example.com"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), testPassword),
		chromedp.Click(chromedp.CSS(`form[action="/signin"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("upload-form")))

	// A workspace for a client, then an invite to it.
	a.do("workspace settings", chromedp.Navigate(e.ts.URL+"/settings"), chromedp.WaitVisible(chromedp.ID("workspace-form")))
	a.shot("workspace-settings", true)
	a.do("create workspace", chromedp.SendKeys(chromedp.CSS(`#workspace-form input[name=name]`), "Acme Corp"),
		a.click(`#workspace-form button[type=submit]`), chromedp.WaitVisible(chromedp.CSS(`.flash-success`)))
	if v := a.eval(`document.getElementById('ws-title').textContent + ' | ' + document.getElementById('my-role').textContent`); v != "Acme Corp | owner" {
		t.Errorf("after creating the workspace: %q", v)
	}
	a.do("members", chromedp.Navigate(e.ts.URL+"/settings/members"), chromedp.WaitVisible(chromedp.ID("invite-form")))
	a.do("invite", a.click(`#invite-form button[type=submit]`), chromedp.WaitVisible(chromedp.ID("invite-link")))
	link := a.eval(`document.getElementById('invite-link').textContent`)
	if !strings.HasPrefix(link, e.ts.URL+"/invite/") {
		t.Fatalf("invite link %q", link)
	}
	a.shot("invite-link", true)

	// Zoe, in her own browser, joins through the link.
	z := startBrowser(t, shots, "team-zoe-")
	z.pagesMayFail = true // she opens a page her role does not allow
	z.do("open the invite", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.ID("join-form")))
	if v := z.eval(`document.querySelector('h1').textContent`); v != "Join Acme Corp" {
		t.Errorf("invite page title %q", v)
	}
	z.shot("invite-page", true)
	z.do("join", chromedp.SendKeys(chromedp.CSS(`#join-form input[name=email]`), "zoe@example.com"),
		chromedp.SendKeys(chromedp.CSS(`#join-form input[name=name]`), "Zoe"),
		chromedp.SendKeys(chromedp.CSS(`#join-form input[name=password]`), testPassword),
		chromedp.SendKeys(chromedp.CSS(`#join-form input[name=confirm]`), testPassword),
		z.click(`#join-form button[type=submit]`), chromedp.WaitVisible(chromedp.ID("upload-form")))
	if v := z.eval(`document.querySelector('.ws-name').textContent`); v != "Acme Corp" {
		t.Errorf("Zoe's workspace in the header: %q", v)
	}
	z.do("members as zoe", chromedp.Navigate(e.ts.URL+"/settings/members"), chromedp.WaitVisible(chromedp.ID("members-title")))
	if v := z.eval(`[...document.querySelectorAll('table.members tr[data-email]')].map(r => r.dataset.email).sort().join(',') +
		' | ' + (document.getElementById('invite-form') ? 'can invite' : 'cannot invite')`); v != "ada@example.com,zoe@example.com | cannot invite" {
		t.Errorf("Zoe's members page: %q", v)
	}
	z.shot("members-as-member", true)
	z.do("keys as zoe", chromedp.Navigate(e.ts.URL+"/settings/api-keys"), chromedp.WaitVisible(chromedp.CSS(`.flash-error`)))
	if v := z.eval(`document.querySelector('.flash-error').innerText`); !strings.Contains(v, "Not allowed") || !strings.Contains(v, "manage_keys") {
		t.Errorf("a member on the API keys page: %q", v)
	}

	// An API key: created, used, revoked.
	a.do("keys", chromedp.Navigate(e.ts.URL+"/settings/api-keys"), chromedp.WaitVisible(chromedp.ID("key-form")))
	a.do("create key", chromedp.SendKeys(chromedp.CSS(`#key-form input[name=name]`), "ci"),
		a.click(`#key-form input[value=export]`), a.click(`#key-form button[type=submit]`), chromedp.WaitVisible(chromedp.ID("key-secret")))
	secret := a.eval(`document.getElementById('key-secret').textContent`)
	a.shot("key-created", true)
	apiStatus := func() int {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), "GET", e.ts.URL+"/api/v1/exports", nil)
		req.Header.Set("Authorization", "Bearer "+secret)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if st := apiStatus(); st != http.StatusOK {
		t.Fatalf("the new key: %d", st)
	}
	a.do("reload keys", chromedp.Navigate(e.ts.URL+"/settings/api-keys"), chromedp.WaitVisible(chromedp.CSS(`tr[data-name=ci]`)))
	if v := a.eval(`document.querySelector('tr[data-name=ci]').innerText`); strings.Contains(v, secret) || !strings.Contains(v, secret[:8]) ||
		!strings.Contains(v, "read, export") || strings.Contains(v, "never") {
		t.Errorf("the key's row after one use: %q", v)
	}
	a.do("revoke", chromedp.Evaluate[chromedp.Void](`window.confirm = () => true`),
		a.click(`tr[data-name=ci] button.revoke`), chromedp.WaitVisible(chromedp.CSS(`.flash-success`)))
	if v := a.eval(`document.querySelector('tr[data-name=ci]').dataset.state`); v != "revoked" {
		t.Errorf("key state after revoking: %q", v)
	}
	a.shot("key-revoked", true)
	if st := apiStatus(); st != http.StatusUnauthorized {
		t.Errorf("the revoked key: %d, want 401", st)
	}

	// Back to the default workspace from the header.
	a.do("switch", chromedp.SetValue(chromedp.ID("ws-select"), e.ws.ID), a.click(`#ws-switch button[type=submit]`),
		chromedp.WaitVisible(chromedp.ID("upload-form")))
	if v := a.eval(`document.getElementById('ws-select').selectedOptions[0].textContent`); v != "Default" {
		t.Errorf("after switching: %q", v)
	}
	a.shot("switched", false)
	a.do("audit", chromedp.Navigate(e.ts.URL+"/settings/audit"), chromedp.WaitVisible(chromedp.ID("audit-title")))
	a.shot("audit-default", true)
	a.finish()
	z.finish()
}
