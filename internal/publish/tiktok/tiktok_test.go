package tiktok_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"outpost/internal/errcode"
	"outpost/internal/publish"
	"outpost/internal/publish/internal/pubtest"
	"outpost/internal/publish/tiktok"
	"outpost/internal/sandbox"
)

func TestPlan(t *testing.T) {
	t.Parallel()
	tests := []struct{ size, chunk, count int64 }{
		{3 << 20, 3 << 20, 1},
		{64 << 20, 64 << 20, 1},
		{(64 << 20) + 1, 10 << 20, 6},
		{50_000_123, 50_000_123, 1},
		{100_000_000, 10 << 20, 9},
	}
	for _, tt := range tests {
		chunk, count := tiktok.Plan(tt.size, 64<<20, 10<<20)
		if chunk != tt.chunk || count != tt.count {
			t.Errorf("Plan(%d) = %d×%d, want %d×%d", tt.size, chunk, count, tt.chunk, tt.count)
		}
		if last := tt.size - (count-1)*chunk; last < chunk || last > 128<<20 {
			t.Errorf("Plan(%d): last chunk %d", tt.size, last)
		}
	}
}

func TestClient_Validate(t *testing.T) {
	t.Parallel()
	e := pubtest.Start(t, sandbox.Options{Limits: sandbox.Limits{TikTokMaxDurationSec: 60, TikTokUnaudited: true}})
	c := tiktok.New(e.URL, e.HTTP)
	acct := publish.Account{AccessToken: e.SB.IssueToken(sandbox.TikTok)}
	r := publish.Rendition{Size: 1 << 20, Duration: 30 * time.Second, Width: 1080, Height: 1920, FrameRate: 30}
	tests := []struct {
		name string
		r    publish.Rendition
		p    publish.Post
		code errcode.Code
		msg  string
	}{
		{"ok", r, publish.Post{Privacy: "private"}, "", ""},
		{"no privacy", r, publish.Post{}, errcode.PostInvalid, "explicit choice"},
		{"privacy not offered", r, publish.Post{Privacy: "public"}, errcode.PostInvalid, "not offered"},
		{"creator max duration", publish.Rendition{Size: 1, Duration: 61 * time.Second}, publish.Post{Privacy: "private"}, errcode.PlatformRule, "1m0s"},
		{"utf-16 title", r, publish.Post{Privacy: "private", Caption: strings.Repeat("😀", 1101)}, errcode.CaptionTooLong, "2202 UTF-16"},
		{"small side", publish.Rendition{Size: 1, Width: 320, Height: 240}, publish.Post{Privacy: "private"}, errcode.PlatformRule, "360"},
	}
	for _, tt := range tests {
		err := c.Validate(context.Background(), tt.r, tt.p, acct)
		if tt.code == "" {
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
			}
			continue
		}
		e := pubtest.Class(t, err, publish.Permanent)
		if e.ErrCode() != tt.code || !strings.Contains(e.Message, tt.msg) {
			t.Errorf("%s: %s %q", tt.name, e.ErrCode(), e.Message)
		}
	}
}

func TestClient_Publish_privateHasProfileURL(t *testing.T) {
	t.Parallel()
	e := pubtest.Start(t, sandbox.Options{})
	c := tiktok.New(e.URL, e.HTTP)
	c.PollInterval = 10 * time.Millisecond
	path, _ := pubtest.File(t, 50<<10)
	acct := publish.Account{ID: sandbox.TikTokOpenID, AccessToken: e.SB.IssueToken(sandbox.TikTok)}
	var s pubtest.Store
	res, err := c.Publish(context.Background(), s.Job(t, pubtest.Rendition(path, 50<<10), publish.Post{Caption: "me only", Privacy: "private"}, acct))
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != publish.StatusPublished || res.PostURL != e.URL+"/@"+sandbox.TikTokUsername {
		t.Errorf("result %+v", res)
	}
	if p := e.ExpectOne(t, sandbox.TikTok, ""); p.Privacy != tiktok.SelfOnly {
		t.Errorf("post %+v", p)
	}
}

func TestClient_Me(t *testing.T) {
	t.Parallel()
	e := pubtest.Start(t, sandbox.Options{})
	u, err := tiktok.New(e.URL, e.HTTP).Me(context.Background(), e.SB.IssueToken(sandbox.TikTok))
	if err != nil || u.OpenID != sandbox.TikTokOpenID || u.Username != sandbox.TikTokUsername {
		t.Fatalf("%+v, %v", u, err)
	}
}
