package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"outpost/internal/media"
	"outpost/internal/media/mediatest"
	"outpost/internal/store"
)

// TestE2E_brandKitSharedFile drives a brand kit from the brand kits page to
// the file, and "Keep this file" on a file two formats share, in Chromium
// against the real service (SQLite, file blobs, River, ffmpeg):
//   - an SVG watermark with a script is refused with a plain reason;
//   - a kit with an SVG watermark at the top right and intro and outro
//     clips; the modal suggests it for the project's client, and two
//     versions (with the kit, without) of Instagram Reel + TikTok are
//     exported from it;
//   - the kit's file is intro + main + outro long (ffprobe), starts with the
//     intro's picture and ends with the outro's, and its top right corner
//     differs from the file without the kit where the rest is the same;
//   - the Reel and the TikTok share one file: keeping the Reel's says
//     "Kept until you delete it" there while the TikTok keeps its expiry;
//     when the TikTok's expires, the page says so and the kept file still
//     downloads, whole.
func TestE2E_brandKitSharedFile(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium and renders with ffmpeg")
	}
	shots := artifactsDir(t, "kit-")
	e := newEnv(t, envOptions{workers: true, admin: "ada@example.com"})
	// One colour each, so that a frame says which part it is from; 9:16
	// like the formats, so nothing is padded.
	clip := func(name, colour string, secs float64) string {
		src := mediatest.Generate(t, mediatest.Spec{Width: 180, Height: 320, Duration: secs, FPS: 25, Audio: true,
			VideoSource: "color=c=" + colour})
		dst := filepath.Join(t.TempDir(), name+".mp4")
		if data, err := os.ReadFile(src); err != nil || os.WriteFile(dst, data, 0o600) != nil {
			t.Fatalf("copy clip: %v", err)
		}
		return dst
	}
	hb := e.browser()
	want(t, hb.signIn("ada@example.com", testPassword), http.StatusSeeOther)
	project := func(path, client string) string {
		t.Helper()
		r := hb.upload(path, map[string]string{"client": client}, "Accept", "application/json")
		want(t, r, http.StatusCreated)
		var p struct{ ID string }
		if err := json.Unmarshal([]byte(r.body), &p); err != nil {
			t.Fatal(err)
		}
		return p.ID
	}
	intro := project(clip("Acme intro", "0xd01010", 1), "")
	outro := project(clip("Acme outro", "0x10c010", 1), "")
	main := project(clip("Spring reel", "0x2040a0", 3), "Acme") // Reels are 3 s at least
	dir := t.TempDir()
	writeSVG := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(`<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100">`+body+`</svg>`), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	badSVG := writeSVG("bad.svg", `<script>alert(document.cookie)</script><circle cx="50" cy="50" r="40" fill="#fff"/>`)
	logoSVG := writeSVG("logo.svg", `<rect width="100" height="100" fill="#ffffff"/><circle cx="50" cy="50" r="30" fill="#ffd000"/>`)

	b := startBrowser(t, shots, "kit-")
	b.pagesMayFail = true // the refused watermark answers 422
	ctx := b.ctx
	b.do("sign in", chromedp.Navigate(e.ts.URL+"/signin"),
		chromedp.SendKeys(chromedp.CSS(`input[name=email]`), "ada@example.com"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), testPassword),
		chromedp.Click(chromedp.CSS(`form[action="/signin"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("upload-form")),
		chromedp.Evaluate[chromedp.Void](`localStorage.setItem('outpost.tour.v1', 'seen')`))

	// A watermark with a script is refused, saying why.
	newKit := func(name, svg string) {
		b.do("new kit "+name, chromedp.Navigate(e.ts.URL+"/brand-kits"), chromedp.WaitVisible(chromedp.CSS(`#new-kit[open] input[name=name]`)),
			chromedp.SendKeys(chromedp.CSS(`#new-kit input[name=name]`), name),
			chromedp.SendKeys(chromedp.CSS(`#new-kit input[name=client]`), "Acme"),
			chromedp.SetUploadFiles(chromedp.CSS(`#new-kit input[name=watermark]`), []string{svg}),
			chromedp.SetValue(chromedp.CSS(`#new-kit select[name=position]`), "tr"),
			chromedp.SetValue(chromedp.CSS(`#new-kit input[name=width]`), "30"),
			chromedp.SetValue(chromedp.CSS(`#new-kit input[name=opacity]`), "100"),
			chromedp.SetValue(chromedp.CSS(`#new-kit select[name=intro_project_id]`), intro),
			chromedp.SetValue(chromedp.CSS(`#new-kit select[name=outro_project_id]`), outro),
			b.click(`#new-kit button[type=submit]`))
	}
	newKit("Sneaky", badSVG)
	b.waitFor("the refusal", `(document.querySelector('.flash-error') || {}).innerText?.includes('has a script') ? 'yes' : 'no'`, 20*time.Second)
	if v := b.eval(`document.querySelector('.flash-error').innerText`); !strings.Contains(v, "The SVG watermark was refused: it has a script") ||
		!strings.Contains(v, "plain SVG") || !strings.Contains(v, "watermark_invalid") {
		t.Errorf("the refusal: %q", v)
	}
	b.shot("svg-refused", true)

	// The kit: an SVG logo at the top right, intro and outro.
	newKit("Acme", logoSVG)
	b.waitFor("the kit", `document.querySelector('#kit-acme') ? 'yes' : 'no'`, 20*time.Second)
	if v := b.eval(`document.querySelector('#kit-acme').innerText.replace(/\s+/g, ' ')`); !strings.Contains(v, "SVG · Top right · 30 % of the width · 100 % opaque") ||
		!strings.Contains(v, "Intro Acme intro") || !strings.Contains(v, "Outro Acme outro") {
		t.Errorf("the kit card: %q", v)
	}
	b.waitFor("the SVG preview", `(() => { const i = document.querySelector('#kit-acme .kit-preview img'); return i && i.complete && i.naturalWidth > 0 ? 'yes' : 'no'; })()`, 10*time.Second)
	b.shot("kit", true)

	// Two versions from the modal: with the kit (suggested for Acme), and
	// without; Instagram Reel and TikTok each.
	b.do("projects", chromedp.Navigate(e.ts.URL+"/projects"), chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`.card [data-export=%q]`, main))))
	b.do("the modal", b.click(fmt.Sprintf(`.card [data-export=%q]`, main)), chromedp.WaitVisible(chromedp.CSS(`#export-modal .tile[data-id="tiktok"]`)))
	if v := b.eval(`document.querySelector('#export-modal [name=brand_kit]').value`); v != "acme" {
		t.Errorf("the suggested kit: %q", v)
	}
	b.eval(`(() => { document.querySelectorAll('#export-modal .tile[aria-pressed=true]').forEach(b => b.click()); return ''; })()`)
	b.do("two formats, two versions", b.click(`#export-modal .tile[data-id="instagram-reel"]`), b.click(`#export-modal .tile[data-id="tiktok"]`),
		b.click(`#export-modal .qmarks li[data-level="web"]`), b.click(`#export-modal .versions summary`),
		b.click(`#export-modal input[name=versions_on]`), chromedp.WaitVisible(chromedp.CSS(`#export-modal .version-list li`)))
	if v := b.eval(`[...document.querySelectorAll('#export-modal .targets .target')].map(li => li.dataset.id).join(',')`); v != "instagram-reel,tiktok" {
		t.Fatalf("the selected formats: %q", v)
	}
	if v := b.eval(`[...document.querySelectorAll('#export-modal .version-list li')].map(li => li.querySelector('.v-name').value + ':' + li.querySelector('.v-kit').value).join(',')`); v != "A:acme,B:none" {
		t.Errorf("the versions: %q", v)
	}
	b.do("export", b.click(`#export-modal .export-go`))
	b.waitFor("both versions ready", `location.pathname.startsWith('/groups/') && document.querySelectorAll('.group-card[data-outcome=ready]').length === 2 ? 'yes' : 'no'`, 240*time.Second)
	b.shot("versions", true)
	exportOf := func(version string) string {
		return b.eval(fmt.Sprintf(`[...document.querySelectorAll('.group-card')].find(c => c.querySelector('h2').textContent.includes('Version %s')).dataset.exportId`, version))
	}
	withKit, without := exportOf("A"), exportOf("B")

	// The files: each export's Reel and TikTok are one file.
	rends := func(exportID string) map[string]store.Rendition {
		t.Helper()
		rs, err := e.store.ListRenditions(ctx, exportID)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]store.Rendition{}
		for _, r := range rs {
			out[r.PresetID] = r
		}
		if len(out) != 2 || out["tiktok"].BlobKey == "" || out["tiktok"].BlobKey != out["instagram-reel"].BlobKey {
			t.Fatalf("export %s's renditions do not share one file: %+v", exportID, out)
		}
		return out
	}
	kitRends, plainRends := rends(withKit), rends(without)
	download := func(exportID, renditionID string) string {
		t.Helper()
		b.do("export page", chromedp.Navigate(e.ts.URL+"/exports/"+exportID), chromedp.WaitVisible(chromedp.ID("success")))
		href := b.eval(fmt.Sprintf(`document.querySelector('#r-%s .rdl a').href`, renditionID))
		res, err := http.Get(href)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		path := filepath.Join(t.TempDir(), renditionID+".mp4")
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		n, err := io.Copy(f, res.Body)
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		if err != nil || res.StatusCode != http.StatusOK || n == 0 {
			t.Fatalf("download %s: %d, %d bytes, %v", href, res.StatusCode, n, err)
		}
		return path
	}
	plain := download(without, plainRends["tiktok"].ID)
	kit := download(withKit, kitRends["instagram-reel"].ID)
	duration := func(path string) float64 {
		t.Helper()
		info, err := (&media.Prober{}).Probe(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		return info.Duration
	}
	if d := duration(kit); math.Abs(d-5) > 0.15 {
		t.Errorf("the kit's file lasts %.2f s, want intro 1 + main 3 + outro 1 = 5 s", d)
	}
	if d := duration(plain); math.Abs(d-3) > 0.15 {
		t.Errorf("the file without the kit lasts %.2f s, want 3 s", d)
	}
	// Frames as 9×16 grey pixels (each one a 120×120 block of the frame).
	frame := func(path string, at float64) []byte {
		t.Helper()
		out, err := exec.CommandContext(ctx, "ffmpeg", "-v", "error", "-ss", fmt.Sprint(at), "-i", path, "-frames:v", "1",
			"-vf", "scale=9:16:flags=area", "-f", "rawvideo", "-pix_fmt", "gray", "-").Output()
		if err != nil || len(out) != 9*16 {
			t.Fatalf("frame of %s at %v s: %d bytes, %v", path, at, len(out), err)
		}
		return out
	}
	mean := func(px []byte) float64 {
		s := 0.0
		for _, p := range px {
			s += float64(p)
		}
		return s / float64(len(px))
	}
	grey := func(c [3]float64) float64 { return 0.299*c[0] + 0.587*c[1] + 0.114*c[2] }
	red, green, blue := grey([3]float64{0xd0, 0x10, 0x10}), grey([3]float64{0x10, 0xc0, 0x10}), grey([3]float64{0x20, 0x40, 0xa0})
	near := func(what string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 25 {
			t.Errorf("%s: grey %.0f, want about %.0f", what, got, want)
		}
	}
	// Bottom left, away from the watermark: intro, main, outro.
	bottomLeft := func(f []byte) []byte { return []byte{f[14*9], f[14*9+1], f[15*9], f[15*9+1]} }
	near("the kit's first second (the intro)", mean(bottomLeft(frame(kit, 0.5))), red)
	near("the kit's last second (the outro)", mean(bottomLeft(frame(kit, 4.5))), green)
	mid, ref := frame(kit, 2.5), frame(plain, 1.5)
	near("the kit's middle (the main clip)", mean(bottomLeft(mid)), blue)
	near("the file without the kit", mean(bottomLeft(ref)), blue)
	// The logo: the blocks that differ from the plain file are in the top
	// right quarter (inside the platform's safe area, so not at the very
	// edge), and much brighter.
	maxDiff, at := 0.0, 0
	for i := range mid {
		if d := float64(mid[i]) - float64(ref[i]); d > maxDiff {
			maxDiff, at = d, i
		}
	}
	if col, row := at%9, at/9; maxDiff < 60 || col < 5 || row > 5 {
		t.Errorf("no watermark at the top right: the brightest change is %.0f, at block (%d, %d) of 9×16", maxDiff, col, row)
	}
	for i := range mid {
		if col, row := i%9, i/9; (col < 4 || row > 7) && math.Abs(float64(mid[i])-float64(ref[i])) > 25 {
			t.Errorf("block (%d, %d), away from the watermark, differs: %d with the kit, %d without", col, row, mid[i], ref[i])
		}
	}

	// "Keep this file" on the shared file: the Reel is kept, the TikTok
	// keeps its expiry.
	reel, tiktok := "#r-"+kitRends["instagram-reel"].ID, "#r-"+kitRends["tiktok"].ID
	b.do("the kit's export", chromedp.Navigate(e.ts.URL+"/exports/"+withKit), chromedp.WaitVisible(chromedp.CSS(reel+` .switch`)))
	// One of the two rows says it is the other's file.
	if v := b.eval(fmt.Sprintf(`[...document.querySelectorAll('%s .rfile, %s .rfile')].filter(c => c.innerText.includes('the same file as')).length.toString()`, reel, tiktok)); v != "1" {
		t.Errorf("rows saying they share the file: %s, want 1", v)
	}
	b.do("keep the reel", b.click(reel+` .switch`))
	b.waitFor("the kept reel", fmt.Sprintf(`document.querySelector('%s .switch[aria-checked=true]') ? 'yes' : 'no'`, reel), 15*time.Second)
	keepNotes := func() string {
		return b.eval(fmt.Sprintf(`document.querySelector('%s .rkeep').innerText.replace(/\s+/g, ' ').trim() + ' | ' + document.querySelector('%s .rkeep').innerText.replace(/\s+/g, ' ').trim()`, reel, tiktok))
	}
	if v := keepNotes(); !strings.HasPrefix(v, "Keep this file Kept until you delete it | Keep this file Deleted ") || !strings.HasSuffix(v, " unless kept") {
		t.Errorf("the keep notes: %q", v)
	}
	b.shot("reel-kept", true)
	// The TikTok's retention ends: its rendition goes, the file stays for
	// the kept Reel.
	if err := e.store.UnsaveRendition(ctx, kitRends["tiktok"].ID, time.Now().Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if res, err := e.jobs.Cleanup(cctx, time.Now()); err != nil || res.RenditionsDeleted != 1 {
		t.Fatalf("cleanup: %+v, %v; want the TikTok's rendition deleted", res, err)
	}
	b.do("after the expiry", chromedp.Navigate(e.ts.URL+"/exports/"+withKit), chromedp.WaitVisible(chromedp.CSS(reel+` .switch`)))
	if v := keepNotes(); v != "Keep this file Kept until you delete it | —" {
		t.Errorf("after the TikTok's expiry: %q", v)
	}
	if v := b.eval(fmt.Sprintf(`document.querySelector('%s .rstatus').innerText.trim() + ' | ' + document.querySelector('%s .rstatus').innerText.trim()`, reel, tiktok)); v != "Ready | Expired" {
		t.Errorf("the files' states after the TikTok's expiry: %q", v)
	}
	if v := b.eval(fmt.Sprintf(`document.querySelector('%s .rdl a') ? 'link' : 'none'`, tiktok)); v != "none" {
		t.Error("the expired TikTok still offers a download")
	}
	b.shot("tiktok-expired", true)
	again := download(withKit, kitRends["instagram-reel"].ID)
	if d := duration(again); math.Abs(d-5) > 0.15 {
		t.Errorf("the kept file after the other's expiry lasts %.2f s, want 5 s", d)
	}
	b.finish()
}
