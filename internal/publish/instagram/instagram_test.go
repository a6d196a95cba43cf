package instagram_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"outpost/internal/errcode"
	"outpost/internal/publish"
	"outpost/internal/publish/instagram"
	"outpost/internal/publish/internal/pubtest"
	"outpost/internal/sandbox"
	"outpost/internal/waitfor"
)

func TestClient_Validate(t *testing.T) {
	t.Parallel()
	c := instagram.New("", nil)
	r := publish.Rendition{Size: 10 << 20, Duration: 30 * time.Second, Width: 1080, Height: 1920, FrameRate: 30}
	tags := func(n int) string {
		var b strings.Builder
		for i := range n {
			b.WriteString(" #tag")
			b.WriteByte(byte('a' + i%26))
			b.WriteByte(byte('a' + i/26))
		}
		return b.String()
	}
	tests := []struct {
		name string
		r    publish.Rendition
		p    publish.Post
		code errcode.Code
	}{
		{"ok", r, publish.Post{Caption: "hi" + tags(30)}, ""},
		{"31 hashtags", r, publish.Post{Caption: "hi" + tags(31)}, errcode.PostInvalid},
		{"caption runes", r, publish.Post{Caption: strings.Repeat("é", 2201)}, errcode.CaptionTooLong},
		{"too big", publish.Rendition{Size: 301_000_000, Duration: 30 * time.Second}, publish.Post{}, errcode.PlatformRule},
		{"too short", publish.Rendition{Size: 1, Duration: 2 * time.Second}, publish.Post{}, errcode.PlatformRule},
		{"too wide", publish.Rendition{Size: 1, Duration: 5 * time.Second, Width: 3840, Height: 2160}, publish.Post{}, errcode.PlatformRule},
		{"scheduled", r, publish.Post{ScheduleAt: time.Now().Add(time.Hour)}, errcode.PostInvalid},
	}
	for _, tt := range tests {
		err := c.Validate(context.Background(), tt.r, tt.p, publish.Account{})
		if tt.code == "" {
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
			}
			continue
		}
		if e := pubtest.Class(t, err, publish.Permanent); e.ErrCode() != tt.code {
			t.Errorf("%s: code %s: %v", tt.name, e.ErrCode(), err)
		}
	}
}

// A slow container is reported as processing; the next call publishes it.
func TestClient_Publish_slowProcessing(t *testing.T) {
	t.Parallel()
	e := pubtest.Start(t, sandbox.Options{})
	e.Inject(t, sandbox.Fault{Platform: sandbox.Instagram, Kind: sandbox.FaultSlowProcessing, DelayMS: 300})
	c := instagram.New(e.URL, e.HTTP)
	c.PollInterval, c.PollTimeout = 10*time.Millisecond, 50*time.Millisecond
	path, _ := pubtest.File(t, 100<<10)
	acct := publish.Account{ID: sandbox.InstagramUserID, AccessToken: e.SB.IssueToken(sandbox.Instagram)}
	var s pubtest.Store
	res, err := c.Publish(context.Background(), s.Job(t, pubtest.Rendition(path, 100<<10), publish.Post{Caption: "slow"}, acct))
	if err != nil || res.Status != publish.StatusProcessing || res.Remote != "IN_PROGRESS" {
		t.Fatalf("first call: %+v, %v", res, err)
	}
	if len(e.Published(sandbox.Instagram)) != 0 {
		t.Fatal("published while processing")
	}
	// Each call while the container processes says so; the first after it
	// is ready publishes.
	res = waitfor.Value(t, 10*time.Second, func() (publish.Result, error) {
		res, err := c.Publish(context.Background(), s.Job(t, pubtest.Rendition(path, 100<<10), publish.Post{Caption: "slow"}, acct))
		if err != nil {
			t.Fatalf("later call: %v", err)
		}
		if res.Status == publish.StatusProcessing {
			return res, errors.New("still processing")
		}
		return res, nil
	}, "the container is published once it is ready")
	if res.Status != publish.StatusPublished || !strings.Contains(res.PostURL, "/reel/") {
		t.Fatalf("published: %+v", res)
	}
	e.ExpectOne(t, sandbox.Instagram, "")
}
