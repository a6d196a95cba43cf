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
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

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
// emulators over HTTP): sign in, connect a sandbox YouTube account through
// the OAuth flow, upload a clip, open the export modal with Ctrl+E, pick
// three formats at Web quality, share to the account with a title,
// description and tags, watch the progress reach 100 % and the post go
// live, download from the success screen, find the export in history by
// search and by platform, and download again. Screenshots of each step go
// to artifacts/ui/.
func TestE2E_browser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium and renders with ffmpeg")
	}
	shots := artifactsDir(t, "[0-9]")
	e := newEnv(t, envOptions{workers: true, admin: "ada@example.com", publish: true})
	src := mediatest.Generate(t, mediatest.Spec{Width: 640, Height: 360, Duration: 3, FPS: 25, Audio: true})
	clip := filepath.Join(t.TempDir(), "Launch teaser.mp4")
	if data, err := os.ReadFile(src); err != nil || os.WriteFile(clip, data, 0o600) != nil {
		t.Fatalf("copy clip: %v", err)
	}

	b := startBrowser(t, shots, "")
	b.otherOrigin = e.sbURL
	ctx, shot, do, click, eval, waitFor := b.ctx, b.shot, b.do, b.click, b.eval, b.waitFor

	// 1. Sign in.
	do("open the UI", chromedp.Navigate(e.ts.URL+"/"), chromedp.WaitVisible(chromedp.CSS(`input[name=email]`)))
	shot("signin", false)
	do("sign in",
		chromedp.SendKeys(chromedp.CSS(`input[name=email]`), "ada@example.com"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), testPassword),
		chromedp.Click(chromedp.CSS(`form[action="/signin"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("upload-form")),
	)

	// 2. The first-run tour, once.
	do("tour", chromedp.WaitVisible(chromedp.CSS(`.tour`)))
	shot("projects-empty-tour", false)
	do("tour next", chromedp.Click(chromedp.CSS(`.tour .tour-next`)), chromedp.WaitVisible(chromedp.CSS(`.tour`)))
	do("skip tour", chromedp.Click(chromedp.CSS(`.tour .tour-skip`)), chromedp.WaitNotPresent(chromedp.CSS(`.tour`)))
	if v := eval(`localStorage.getItem('outpost.tour.v1') ? 'yes' : 'no'`); v != "yes" {
		t.Error("the tour is not remembered")
	}

	// 2b. Connect a sandbox YouTube account through the browser flow.
	do("connections", chromedp.Navigate(e.ts.URL+"/connections"), chromedp.WaitVisible(chromedp.CSS(`a.connect-btn[data-platform=youtube]`)))
	shot("connections-empty", true)
	do("connect youtube", click(`a.connect-btn[data-platform=youtube]`), chromedp.WaitVisible(chromedp.ID("approve")))
	if !strings.HasPrefix(eval(`location.href`), e.sbURL) {
		t.Errorf("the connect button did not lead to the platform's consent page: %s", eval(`location.href`))
	}
	shot("sandbox-consent", false)
	do("approve", chromedp.Click(chromedp.ID("approve")), chromedp.WaitVisible(chromedp.CSS(`.flash-success`)))
	if v := eval(`location.pathname + ' | ' + document.querySelector('.flash-success').innerText + ' | ' + document.querySelector('#platform-youtube').innerText`); !strings.Contains(v, "/connections |") ||
		!strings.Contains(v, "Connected to YouTube") || !strings.Contains(v, sandbox.YouTubeChannelName) || !strings.Contains(v, "Active") {
		t.Errorf("after connecting: %q", v)
	}
	// The avatar loads from the sandbox after the page: wait for it.
	if err := waitfor.Until(15*time.Second, func() error {
		if eval(`(() => { const i = document.querySelector('#platform-youtube img.avatar'); return i && i.complete && i.naturalWidth > 0 ? 'yes' : 'no'; })()`) != "yes" {
			return errors.New("not loaded")
		}
		return nil
	}); err != nil {
		t.Error("the account's avatar does not show")
	}
	// And a TikTok account, the same way.
	do("connect tiktok", click(`a.connect-btn[data-platform=tiktok]`), chromedp.WaitVisible(chromedp.ID("approve")))
	do("approve tiktok", chromedp.Click(chromedp.ID("approve")), chromedp.WaitVisible(chromedp.CSS(`.flash-success`)))
	if v := eval(`document.querySelector('#platform-tiktok').innerText`); !strings.Contains(v, "Active") {
		t.Errorf("TikTok after connecting: %q", v)
	}
	shot("connections-connected", true)
	do("back to projects", chromedp.Navigate(e.ts.URL+"/projects"), chromedp.WaitVisible(chromedp.ID("upload-form")))

	// 3. Upload, slowed down so that the progress bar shows.
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
	do("fill the upload form",
		chromedp.SetUploadFiles(chromedp.ID("upload-file"), []string{clip}),
		chromedp.SendKeys(chromedp.CSS(`#upload-form input[name=client]`), "Acme"),
		chromedp.SendKeys(chromedp.CSS(`#upload-form input[name=campaign]`), "Spring launch"),
		chromedp.Click(chromedp.CSS(`#upload-form button[type=submit]`)),
	)
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
	shot("project-list", true)
	if v := eval(`document.querySelector('.card').innerText`); !strings.Contains(v, "Launch teaser") ||
		!strings.Contains(v, "Acme") || !strings.Contains(v, "0:03") && !strings.Contains(v, "3 s") {
		t.Errorf("project card: %q", v)
	}

	// 4. Ctrl+E opens the export modal, with the landscape defaults.
	do("ctrl+e", chromedp.Click(chromedp.CSS(`h1`)), chromedp.KeyEvent("e", chromedp.KeyModifiers(chromedp.ModifierCtrl)),
		chromedp.WaitVisible(chromedp.CSS(`#export-modal .tile[data-id="mp4-720p"]`)))
	if v := eval(`[...document.querySelectorAll('#export-modal .tile[aria-pressed=true]')].map(b => b.dataset.id).join(',')`); v != "youtube-1080p,linkedin-landscape" {
		t.Errorf("pre-selected formats: %q", v)
	}
	if v := eval(`document.activeElement.closest('#export-modal') ? 'yes' : 'no'`); v != "yes" {
		t.Error("focus is not in the modal")
	}
	shot("modal-defaults", false)

	// 5. Three formats at Web quality; the framing follows the fit mode.
	do("pick formats",
		click(`.tile[data-id="youtube-1080p"]`),
		click(`.tile[data-id="linkedin-landscape"]`),
		click(`.tile[data-id="mp4-720p"]`),
		click(`.tile[data-id="gif-480p"]`),
		click(`.tile[data-id="linkedin-square"]`),
		click(`#export-modal input[name=quality][value=web]`),
		click(`#export-modal .advanced summary`),
		click(`#export-modal input[name=fit][value=pad]`),
	)
	if v := eval(`[...document.querySelectorAll('#export-modal .targets .target')].map(li => li.dataset.id).join(',')`); v != "mp4-720p,gif-480p,linkedin-square" {
		t.Errorf("selected targets: %q", v)
	}
	if v := eval(`document.querySelector('.target[data-id="linkedin-square"] .frame').className`); v != "frame fit-pad" {
		t.Errorf("square preview after choosing pad: %q", v)
	}
	if v := eval(`document.querySelector('#export-modal .total').textContent`); !strings.HasPrefix(v, "Total ") {
		t.Errorf("size estimate: %q", v)
	}
	// Share to the connected account: its fields count at YouTube's limits.
	do("share to platforms", click(`#export-modal input[name=distribution][value=share]`),
		chromedp.WaitVisible(chromedp.CSS(`#export-modal .share-box .acct-list li[data-platform=youtube]`)))
	if v := eval(`document.querySelector('#export-modal .acct-list').innerText`); !strings.Contains(v, sandbox.YouTubeChannelName) {
		t.Errorf("accounts listed: %q", v)
	}
	if v := eval(`document.querySelector('#export-modal .acct-list li[data-platform=youtube] select').value`); v != "mp4-720p" {
		t.Errorf("file offered to YouTube: %q", v)
	}
	// The fields come from the platforms' descriptors: TikTok's privacy is
	// a choice without a default, YouTube's defaults to public.
	if v := eval(`[...document.querySelectorAll('#export-modal .pf')].map(f => f.dataset.platform + ':' +
		[...f.querySelectorAll('[data-field]')].map(i => i.dataset.field + '=' + i.value).join(',')).join(' ')`); v != "youtube:title=,description=,tags=,privacy=public tiktok:caption=,privacy=" {
		t.Errorf("post fields: %q", v)
	}
	if v := eval(`document.querySelector('[name="pf-youtube-title"]').parentElement.querySelector('.counter').textContent`); v != "0 / 100" {
		t.Errorf("YouTube title counter: %q", v)
	}
	do("a title too long", click(`[name="pf-youtube-title"]`), chromedp.SendKeys(chromedp.CSS(`[name="pf-youtube-title"]`), strings.Repeat("x", 120)))
	if v := eval(`document.querySelector('[name="pf-youtube-title"]').parentElement.querySelector('.counter').textContent`); v != "120 / 100 · 20 over the limit" {
		t.Errorf("YouTube title counter over: %q", v)
	}
	do("export refuses it", click(`#export-modal .export-go`), chromedp.WaitVisible(chromedp.CSS(`#export-modal .modal-error`)))
	if v := eval(`document.querySelector('#export-modal .modal-error').innerText`); !strings.Contains(v, "YouTube title is 120 characters; YouTube allows 100") ||
		!strings.Contains(v, "What to do:") {
		t.Errorf("over-limit message: %q", v)
	}
	shot("modal-title-too-long", false)
	eval(`(() => { const f = document.querySelector('[name="pf-youtube-title"]'); f.value = ''; f.dispatchEvent(new Event('input')); return ''; })()`)
	do("fix the title",
		chromedp.SendKeys(chromedp.CSS(`[name="pf-youtube-title"]`), "Launch teaser"),
		chromedp.SendKeys(chromedp.CSS(`[name="pf-youtube-description"]`), "Spring is here: https://example.com/launch"),
		chromedp.SendKeys(chromedp.CSS(`[name="pf-youtube-tags"]`), "launch, teaser"))
	eval(`(() => { document.querySelector('[name="pf-youtube-privacy"]').value = 'unlisted'; return ''; })()`)
	// TikTok wants its privacy chosen: the modal says so before anything
	// is sent.
	do("tiktok caption", chromedp.SendKeys(chromedp.CSS(`[name="pf-tiktok-caption"]`), "Spring is here #launch"),
		click(`#export-modal .export-go`))
	waitFor("the privacy refusal", `(document.querySelector('#export-modal .modal-error') || {}).innerText.includes('TikTok requires an explicit choice of who can watch') ? 'yes' : 'no'`, 10*time.Second)
	shot("modal-tiktok-privacy", false)
	eval(`(() => { document.querySelector('[name="pf-tiktok-privacy"]').value = 'followers'; return ''; })()`)
	// Sizes are measured by a sample encode (engine.Estimate) and replace
	// the upper bounds.
	waitFor("measured sizes", `[...document.querySelectorAll('#export-modal .targets .target-est')].every(e => e.textContent.startsWith('≈')) &&
		document.querySelector('#export-modal .total').textContent.startsWith('Total ≈') ? 'yes' : 'no'`, 150*time.Second)
	shot("modal-three-formats", false)
	do("save as preset", click(`#export-modal .save-toggle`),
		chromedp.WaitVisible(chromedp.ID("preset-name")),
		chromedp.SendKeys(chromedp.ID("preset-name"), "Web, padded"+kb.Enter),
		chromedp.WaitVisible(chromedp.ID("toast")))
	if v := eval(`document.getElementById('toast').textContent`); !strings.Contains(v, "Saved preset “Web, padded”") {
		t.Errorf("save preset: %q", v)
	}
	do("scroll to distribution", chromedp.ScrollIntoView(chromedp.CSS(`#export-modal .share-box .pf`)))
	shot("modal-distribution", false)
	if v := eval(`document.querySelector('#export-modal .export-label').textContent`); v != "Export 3 files & Share" {
		t.Errorf("export button: %q", v)
	}

	// Finishing: a thumbnail time and each platform's loudness (none of
	// these formats has a level, so the render stays the same).
	eval(`(() => { const f = document.querySelector('#export-modal [name=thumbnail_at]'); f.value = '1';
		document.querySelector('#export-modal [name=loudness]').value = 'platform'; return ''; })()`)

	// 6. Enter confirms; the progress page follows the render live.
	do("enter", chromedp.Focus(chromedp.CSS(`#export-modal input[name=fit][value=pad]`)), chromedp.KeyEvent(kb.Enter))
	waitFor("the progress page", `location.pathname.startsWith('/exports/') ? 'yes' : 'no'`, 15*time.Second)
	exportID := strings.TrimPrefix(eval(`location.pathname`), "/exports/")
	// The page records the highest percent it shows: the live parts are
	// swapped in on each event, faster than a poll may look.
	eval(`(() => { window.maxPct = 0; const seen = () => { const p = document.querySelector('#percent');
		const n = p ? parseInt(p.textContent, 10) : 0; if (n > window.maxPct) window.maxPct = n; };
		seen(); new MutationObserver(seen).observe(document.body, { subtree: true, childList: true, characterData: true }); return ''; })()`)
	maxPct, midShot, pubShot := 0, false, false
	if err := waitfor.Until(180*time.Second, func() error {
		st, err := chromedp.Run(ctx, chromedp.Evaluate[pageState](`({path: location.pathname,
			percent: (document.querySelector('#percent') || {}).textContent || '',
			stage: (document.querySelector('.stage-active .stage-label') || {}).textContent || '',
			success: !!document.querySelector('#success')})`))
		if err != nil {
			return err // the page is changing
		}
		var p int
		if _, err := fmt.Sscanf(st.Percent, "%d", &p); err == nil && p > maxPct {
			maxPct = p
		}
		if !midShot && st.Stage == "Rendering Video" && p >= 5 && p < 90 {
			midShot = true
			shot("progress", false)
		}
		if !pubShot && st.Stage == "Uploading to Platforms" {
			pubShot = true
			shot("progress-publishing", true)
		}
		if !st.Success {
			return errors.New("not finished")
		}
		return nil
	}); err != nil {
		shot("timeout-progress", true)
		t.Fatalf("the export did not finish (max %d %%): %v", maxPct, err)
	}
	if n, err := strconv.Atoi(eval(`String(window.maxPct)`)); err == nil && n > maxPct {
		maxPct = n
	}
	if maxPct < 100 {
		t.Errorf("progress seen up to %d %%, not 100 %%", maxPct)
	}
	if !midShot {
		t.Log("the render finished before a mid-way screenshot")
	}

	// 7. The success screen links every file and the post; the links
	// download.
	shot("success", true)
	if v := eval(`document.querySelector('details.details').textContent`); !strings.Contains(v, "At 1 s") {
		t.Errorf("export details lack the thumbnail time: %q", v)
	}
	waitFor("both posts", `document.querySelectorAll('#pubs tr[data-state=published]').length === 2 ? 'yes' : 'no'`, 60*time.Second)
	if v := eval(`document.querySelector('#pubs').innerText`); !strings.Contains(v, "Published") || !strings.Contains(v, sandbox.YouTubeChannelName) ||
		!strings.Contains(v, "TikTok") {
		t.Errorf("posts table: %q", v)
	}
	postURL := eval(`(document.querySelector('#success .posted a.post-link') || {}).href || ''`)
	if !strings.HasPrefix(postURL, e.sbURL) {
		t.Errorf("post link %q is not on the platform (%s)", postURL, e.sbURL)
	}
	if res, err := http.Get(e.sbURL + "/_sandbox/state"); err != nil {
		t.Error(err)
	} else {
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		for _, want := range []string{"Launch teaser", "utm_source=youtube", "utm_campaign=Spring", "launch", "Spring is here #launch", "FOLLOWER_OF_CREATOR"} {
			if !strings.Contains(string(body), want) {
				t.Errorf("the sandbox's post lacks %q: %s", want, body)
			}
		}
	}
	links := eval(`[...document.querySelectorAll('#success a.btn-download')].map(a => a.href).join('\n')`)
	if n := len(strings.Fields(links)); n != 3 {
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

	// 8. History: live search finds it; its links download again.
	do("history", chromedp.Navigate(e.ts.URL+"/history"), chromedp.WaitVisible(chromedp.ID("hq")),
		chromedp.SendKeys(chromedp.ID("hq"), "launch"))
	waitFor("the search result", fmt.Sprintf(`location.search === '?q=launch' && document.querySelectorAll('#history-rows tr.hrow').length === 1 &&
		document.querySelector('#history-rows tr.hrow[data-row=%q]') ? 'yes' : 'no'`, exportID), 10*time.Second)
	shot("history-search", true)
	statuses, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](fmt.Sprintf(`Promise.all([...document.querySelectorAll('tr[data-row=%q] .files a.dl')]
		.map(a => fetch(a.href).then(r => r.blob().then(() => r.status))))`, exportID), chromedp.EvalAwaitPromise))
	if err != nil || len(statuses) != 3 {
		t.Fatalf("re-download: %v %v", statuses, err)
	}
	for _, s := range statuses {
		if s != http.StatusOK {
			t.Errorf("re-download status %d", s)
		}
	}
	// The platform filter finds exports by where they were posted.
	do("platform filter", chromedp.Navigate(e.ts.URL+"/history?platform=youtube"), chromedp.WaitVisible(chromedp.ID("hq")))
	if v := eval(fmt.Sprintf(`document.querySelector('#history-rows tr.hrow[data-row=%q]') ? 'yes' : 'no'`, exportID)); v != "yes" {
		t.Error("the YouTube filter does not find the export posted to YouTube")
	}
	shot("history-platform", true)
	do("history search again", chromedp.Navigate(e.ts.URL+"/history?q=launch"), chromedp.WaitVisible(chromedp.ID("hq")))
	do("a search with no match", chromedp.SendKeys(chromedp.ID("hq"), "zzz"))
	waitFor("the empty result", `document.querySelector('#history-rows .empty-row') ? 'yes' : 'no'`, 10*time.Second)

	// The preset saved from the modal is listed, with its settings.
	do("presets", chromedp.Navigate(e.ts.URL+"/presets"), chromedp.WaitVisible(chromedp.CSS(`.preset-item`)))
	if v := eval(`document.querySelector('.preset-item').innerText`); !strings.Contains(v, "Web, padded") ||
		!strings.Contains(v, "MP4 720p") || !strings.Contains(v, "Web, pad") {
		t.Errorf("presets page: %q", v)
	}
	shot("presets", true)

	// 9. Tablet width: history, the export page and the modal still work.
	do("tablet", chromedp.EmulateViewport(768, 1024), chromedp.Navigate(e.ts.URL+"/history"),
		chromedp.WaitVisible(chromedp.CSS(`tr.hrow`)))
	shot("tablet-history", true)
	do("tablet export page", chromedp.Navigate(e.ts.URL+"/exports/"+exportID), chromedp.WaitVisible(chromedp.ID("success")))
	do("tablet modal", chromedp.Click(chromedp.CSS(`#success a[data-export]`)),
		chromedp.WaitVisible(chromedp.CSS(`#export-modal .tile[data-id="tiktok"]`)))
	if v := eval(`[...document.querySelectorAll('#export-modal .tile[aria-pressed=true]')].map(b => b.dataset.id).join(',')`); v != "linkedin-square,mp4-720p,gif-480p" {
		t.Errorf("the second export does not suggest the most used formats: %q", v)
	}
	shot("tablet-modal", false)
	do("escape closes", chromedp.KeyEvent(kb.Escape), chromedp.WaitNotVisible(chromedp.ID("export-modal")))
	if v := eval(`document.activeElement && document.activeElement.matches('a[data-export]') ? 'yes' : 'no'`); v != "yes" {
		t.Error("focus did not return to the button that opened the modal")
	}

	// 10. Share to additional platforms from the success screen (tablet).
	shot("tablet-success", true)
	do("open share more", click(`#share-more summary`), chromedp.WaitVisible(chromedp.ID("share-form")))
	do("pick the accounts", click(`#share-form input[name=account][data-platform=youtube]`), click(`#share-form input[name=account][data-platform=tiktok]`),
		chromedp.WaitVisible(chromedp.CSS(`#share-form .pf[data-platform=youtube] input[name="youtube.title"]`)),
		chromedp.SendKeys(chromedp.CSS(`#share-form input[name="youtube.title"]`), "Launch teaser, again"))
	if v := eval(`document.querySelector('#share-form input[name="youtube.title"]').parentElement.querySelector('.counter').textContent`); v != "20 / 100" {
		t.Errorf("share form counter: %q", v)
	}
	do("tiktok caption again", chromedp.SendKeys(chromedp.CSS(`#share-form textarea[name="tiktok.caption"]`), "Again, for friends"),
		click(`#share-form button[type=submit]`))
	waitFor("the privacy refusal", `(document.querySelector('#share-form .form-error:not([hidden])') || {}).innerText?.includes('TikTok requires an explicit choice of who can watch') ? 'yes' : 'no'`, 10*time.Second)
	shot("tablet-share-more", false)
	eval(`(() => { document.querySelector('#share-form select[name="tiktok.privacy"]').value = 'friends'; return ''; })()`)
	do("share", click(`#share-form button[type=submit]`))
	waitFor("the second posts", `document.querySelectorAll('#pubs tr[data-state=published]').length === 4 && document.querySelector('#success') ? 'yes' : 'no'`, 60*time.Second)
	if res, err := http.Get(e.sbURL + "/_sandbox/state"); err != nil {
		t.Error(err)
	} else {
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if !strings.Contains(string(body), "MUTUAL_FOLLOW_FRIENDS") {
			t.Errorf("the sandbox lacks the TikTok post for friends: %s", body)
		}
	}
	shot("tablet-shared", true)
	do("tablet connections", chromedp.Navigate(e.ts.URL+"/connections"), chromedp.WaitVisible(chromedp.CSS(`#platform-youtube .conn`)))
	shot("tablet-connections", true)
	do("webhooks", chromedp.Navigate(e.ts.URL+"/webhooks"), chromedp.WaitVisible(chromedp.ID("webhook-form")),
		chromedp.SendKeys(chromedp.CSS(`#webhook-form input[name=url]`), e.ts.URL+"/hooks/in"),
		click(`#webhook-form input[value="publication.published"]`),
		click(`#webhook-form button[type=submit]`), chromedp.WaitVisible(chromedp.ID("webhook-secret")))
	if v := eval(`document.getElementById('webhook-secret').textContent`); !strings.HasPrefix(v, "whsec_") {
		t.Errorf("webhook secret: %q", v)
	}
	shot("tablet-webhooks", true)

	b.finish()
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
	ctx, cancel := context.WithTimeout(bctx, 360*time.Second)
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
