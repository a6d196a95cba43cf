package publish_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"outpost/internal/errcode"
	"outpost/internal/publish"
	"outpost/internal/publish/facebook"
	"outpost/internal/publish/instagram"
	"outpost/internal/publish/internal/pubtest"
	"outpost/internal/publish/linkedin"
	"outpost/internal/publish/tiktok"
	"outpost/internal/publish/youtube"
	"outpost/internal/sandbox"
)

// Every client runs the same suite against the sandbox over real HTTP:
// one post per publish, resumption after a dropped connection, exactly one
// post whatever save a crash interrupts, and the error classes.

const (
	size  = 700 << 10
	chunk = 256 << 10
	poll  = 10 * time.Millisecond
)

type platformCase struct {
	name     string
	platform string
	post     publish.Post
	// resetAfter is how many upload requests pass before the reset, so it
	// hits a later chunk where there is one.
	resetAfter int
	// maxChunk bounds what a resumption may send twice.
	maxChunk int64
	client   func(e *pubtest.Env) publish.Publisher
	account  func(e *pubtest.Env) publish.Account
}

var limits = sandbox.Limits{FacebookChunkSize: chunk, LinkedInPartSize: chunk, TikTokMinChunk: 100 << 10}

func cases() []platformCase {
	text := "Launch day! https://example.com/launch #launch"
	return []platformCase{
		{name: "youtube", platform: sandbox.YouTube, resetAfter: 1, maxChunk: chunk,
			post: publish.Post{Title: "Launch", Description: text, Privacy: "public"},
			client: func(e *pubtest.Env) publish.Publisher {
				c := youtube.New(e.URL, e.HTTP)
				c.ChunkSize, c.PollInterval = chunk, poll
				return c
			},
			account: func(e *pubtest.Env) publish.Account {
				return publish.Account{ID: sandbox.YouTubeChannelID, AccessToken: e.SB.IssueToken(sandbox.YouTube)}
			}},
		{name: "facebook_video", platform: sandbox.Facebook, resetAfter: 1, maxChunk: chunk,
			post: publish.Post{Title: "Launch", Description: text},
			client: func(e *pubtest.Env) publish.Publisher {
				c := facebook.New(e.URL, e.HTTP)
				c.PollInterval = poll
				return c
			},
			account: func(e *pubtest.Env) publish.Account {
				return publish.Account{ID: sandbox.FacebookPageID, AccessToken: e.SB.IssueToken(sandbox.Facebook)}
			}},
		{name: "facebook_reel", platform: sandbox.Facebook, maxChunk: size,
			post: publish.Post{Description: text, Format: facebook.FormatReel},
			client: func(e *pubtest.Env) publish.Publisher {
				c := facebook.New(e.URL, e.HTTP)
				c.PollInterval = poll
				return c
			},
			account: func(e *pubtest.Env) publish.Account {
				return publish.Account{ID: sandbox.FacebookPageID, AccessToken: e.SB.IssueToken(sandbox.Facebook)}
			}},
		{name: "instagram", platform: sandbox.Instagram, maxChunk: size,
			post: publish.Post{Caption: text},
			client: func(e *pubtest.Env) publish.Publisher {
				c := instagram.New(e.URL, e.HTTP)
				c.PollInterval = poll
				return c
			},
			account: func(e *pubtest.Env) publish.Account {
				return publish.Account{ID: sandbox.InstagramUserID, AccessToken: e.SB.IssueToken(sandbox.Instagram)}
			}},
		{name: "linkedin", platform: sandbox.LinkedIn, resetAfter: 1, maxChunk: chunk,
			post: publish.Post{Title: "Launch", Caption: text},
			client: func(e *pubtest.Env) publish.Publisher {
				c := linkedin.New(e.URL, e.HTTP)
				c.PollInterval = poll
				return c
			},
			account: func(e *pubtest.Env) publish.Account {
				// r_member_social lets a retry find a post an interrupted
				// attempt created.
				return publish.Account{ID: sandbox.LinkedInPersonURN,
					AccessToken: e.SB.IssueToken(sandbox.LinkedIn, "openid", "profile", "w_member_social", "r_member_social")}
			}},
		{name: "tiktok", platform: sandbox.TikTok, resetAfter: 1, maxChunk: size - chunk,
			post: publish.Post{Caption: text, Privacy: "public"},
			client: func(e *pubtest.Env) publish.Publisher {
				c := tiktok.New(e.URL, e.HTTP)
				c.SingleMax, c.ChunkSize, c.PollInterval = 200<<10, chunk, poll
				return c
			},
			account: func(e *pubtest.Env) publish.Account {
				return publish.Account{ID: sandbox.TikTokOpenID, AccessToken: e.SB.IssueToken(sandbox.TikTok)}
			}},
	}
}

func env(t *testing.T) *pubtest.Env { return pubtest.Start(t, sandbox.Options{Limits: limits}) }

func TestPublish_onePost(t *testing.T) {
	t.Parallel()
	path, sum := pubtest.File(t, size)
	for _, tc := range cases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := env(t)
			c, acct := tc.client(e), tc.account(e)
			r := pubtest.Rendition(path, size)
			if err := c.Validate(context.Background(), r, tc.post, acct); err != nil {
				t.Fatalf("validate: %v", err)
			}
			var s pubtest.Store
			j := s.Job(t, r, tc.post, acct)
			var last int64
			j.ProgressFunc = func(sent, total int64) {
				if sent < last || total != size {
					t.Errorf("progress went from %d to %d of %d", last, sent, total)
				}
				last = sent
			}
			res, err := c.Publish(context.Background(), j)
			if err != nil {
				t.Fatalf("publish: %v", err)
			}
			if res.Status != publish.StatusPublished || !strings.HasPrefix(res.PostURL, e.URL+"/") {
				t.Fatalf("result %+v", res)
			}
			if last != size {
				t.Errorf("progress ended at %d, want %d", last, size)
			}
			got := e.ExpectOne(t, tc.platform, sum)
			if got.Status != "published" || got.URL != res.PostURL {
				t.Errorf("sandbox post %+v, result %+v", got, res)
			}
			if !strings.Contains(got.Text, "https://example.com/launch") {
				t.Errorf("post text %q", got.Text)
			}
			st, err := c.Status(context.Background(), acct, *s.Load(t))
			if err != nil || st.Status != publish.StatusPublished {
				t.Errorf("Status after publish: %+v, %v", st, err)
			}
			resp, err := e.HTTP.Get(res.PostURL)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("GET %s: %s", res.PostURL, resp.Status)
			}
		})
	}
}

func TestPublish_resetMidUpload(t *testing.T) {
	t.Parallel()
	path, sum := pubtest.File(t, size)
	for _, tc := range cases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := env(t)
			e.Inject(t, sandbox.Fault{Platform: tc.platform, Kind: sandbox.FaultReset, After: tc.resetAfter})
			c, acct := tc.client(e), tc.account(e)
			var s pubtest.Store
			res, err := c.Publish(context.Background(), s.Job(t, pubtest.Rendition(path, size), tc.post, acct))
			if err != nil {
				t.Fatalf("publish: %v", err)
			}
			if res.Status != publish.StatusPublished {
				t.Fatalf("status %s", res.Status)
			}
			if f := e.SB.Faults(); len(f) != 0 {
				t.Fatalf("the reset never happened: %+v", f)
			}
			if sent, most := e.Sent(), int64(size)+tc.maxChunk+32<<10; sent > most {
				t.Errorf("sent %d bytes, want at most %d: finished chunks sent again", sent, most)
			}
			e.ExpectOne(t, tc.platform, sum)
		})
	}
}

func TestPublish_crashBetweenSteps(t *testing.T) {
	t.Parallel()
	path, _ := pubtest.File(t, size)
	for _, tc := range cases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pubtest.CrashEverywhere(t, env, tc.platform, func(t *testing.T, e *pubtest.Env, s *pubtest.Store) (publish.Result, error) {
				return tc.client(e).Publish(context.Background(), s.Job(t, pubtest.Rendition(path, size), tc.post, tc.account(e)))
			})
		})
	}
}

func TestPublish_errorClasses(t *testing.T) {
	t.Parallel()
	path, _ := pubtest.File(t, size)
	kinds := []struct {
		kind  string
		op    string
		class publish.Class
		code  errcode.Code
	}{
		{sandbox.FaultRateLimit, "", publish.RateLimited, errcode.PlatformRateLimited},
		{sandbox.FaultServerError, "init", publish.Transient, errcode.PlatformUnavailable},
		{sandbox.FaultExpireToken, "", publish.AuthExpired, errcode.ConnectionExpired},
		{sandbox.FaultReject, "", publish.Permanent, errcode.PlatformRejected},
	}
	for _, tc := range cases() {
		for _, k := range kinds {
			t.Run(tc.name+"/"+k.kind, func(t *testing.T) {
				t.Parallel()
				e := env(t)
				c, acct := tc.client(e), tc.account(e)
				e.Inject(t, sandbox.Fault{Platform: tc.platform, Kind: k.kind, Op: k.op, RetryAfter: 90})
				var s pubtest.Store
				_, err := c.Publish(context.Background(), s.Job(t, pubtest.Rendition(path, size), tc.post, acct))
				pe := pubtest.Class(t, err, k.class)
				if errcode.Of(err) != k.code {
					t.Errorf("code %s, want %s (%v)", errcode.Of(err), k.code, err)
				}
				if k.class == publish.RateLimited && pe.RetryAfter <= 0 {
					t.Errorf("RetryAfter %s, want > 0", pe.RetryAfter)
				}
				if k.class != publish.Permanent {
					for _, p := range e.Published(tc.platform) {
						t.Errorf("post created despite %s: %+v", k.kind, p)
					}
				}
			})
		}
	}
}

// A publication that fails on one platform leaves the others alone: the
// sandbox keeps platforms apart and each client reports only its own.
func TestPublish_isolation(t *testing.T) {
	t.Parallel()
	path, _ := pubtest.File(t, size)
	e := env(t)
	e.Inject(t, sandbox.Fault{Platform: sandbox.Instagram, Kind: sandbox.FaultReject})
	for _, tc := range cases() {
		c, acct := tc.client(e), tc.account(e)
		var s pubtest.Store
		_, err := c.Publish(context.Background(), s.Job(t, pubtest.Rendition(path, size), tc.post, acct))
		if (tc.platform == sandbox.Instagram) != (err != nil) {
			t.Errorf("%s: err %v", tc.name, err)
		}
	}
	for _, p := range []string{sandbox.YouTube, sandbox.LinkedIn, sandbox.TikTok} {
		if n := len(e.Published(p)); n != 1 {
			t.Errorf("%s: %d posts", p, n)
		}
	}
	if n := len(e.Published(sandbox.Facebook)); n != 2 {
		t.Errorf("facebook: %d posts, want video and reel", n)
	}
}
