package facebook_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"outpost/internal/errcode"
	"outpost/internal/publish"
	"outpost/internal/publish/facebook"
	"outpost/internal/publish/internal/pubtest"
	"outpost/internal/sandbox"
)

func TestClient_Validate(t *testing.T) {
	t.Parallel()
	c := facebook.New("", nil)
	reel := publish.Rendition{Size: 1 << 20, Duration: 30 * time.Second, Width: 1080, Height: 1920, FrameRate: 30}
	wide := publish.Rendition{Size: 1 << 20, Duration: 30 * time.Second, Width: 1920, Height: 1080, FrameRate: 30}
	tests := []struct {
		name string
		r    publish.Rendition
		p    publish.Post
		code errcode.Code
		msg  string
	}{
		{"reel ok", reel, publish.Post{Format: facebook.FormatReel}, "", ""},
		{"video ok", wide, publish.Post{}, "", ""},
		{"reel too long", publish.Rendition{Size: 1, Duration: 91 * time.Second, Width: 1080, Height: 1920}, publish.Post{Format: facebook.FormatReel}, errcode.PlatformRule, "3 to 90 seconds"},
		{"reel not vertical", wide, publish.Post{Format: facebook.FormatReel}, errcode.PlatformRule, "9:16"},
		{"reel too small", publish.Rendition{Size: 1, Duration: 10 * time.Second, Width: 360, Height: 640}, publish.Post{Format: facebook.FormatReel}, errcode.PlatformRule, "540x960"},
		{"60 fps page video", publish.Rendition{Size: 1, Duration: time.Minute, FrameRate: 60}, publish.Post{}, errcode.PlatformRule, "30 fps"},
		{"schedule too soon", wide, publish.Post{ScheduleAt: time.Now().Add(5 * time.Minute)}, errcode.PostInvalid, "10 minutes"},
		{"schedule too far", wide, publish.Post{ScheduleAt: time.Now().Add(40 * 24 * time.Hour)}, errcode.PostInvalid, "30 days"},
		{"private", wide, publish.Post{Privacy: "private"}, errcode.PostInvalid, "public"},
		{"long text", wide, publish.Post{Description: strings.Repeat("a", facebook.MaxText+1)}, errcode.CaptionTooLong, "63206"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := c.Validate(context.Background(), tt.r, tt.p, publish.Account{})
			if tt.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			e := pubtest.Class(t, err, publish.Permanent)
			if e.ErrCode() != tt.code || !strings.Contains(e.Message, tt.msg) {
				t.Errorf("got %s %q", e.ErrCode(), e.Message)
			}
		})
	}
}

func TestClient_Publish_scheduledWithThumbnail(t *testing.T) {
	t.Parallel()
	e := pubtest.Start(t, sandbox.Options{Limits: sandbox.Limits{FacebookChunkSize: 128 << 10}})
	c := facebook.New(e.URL, e.HTTP)
	c.PollInterval = 10 * time.Millisecond
	path, sum := pubtest.File(t, 300<<10)
	thumb := filepath.Join(t.TempDir(), "t.jpg")
	_ = os.WriteFile(thumb, []byte("\xff\xd8\xffjpeg"), 0o644)
	p := publish.Post{Title: "Later", Description: "soon", ScheduleAt: time.Now().Add(2 * time.Hour), ThumbnailPath: thumb}
	acct := publish.Account{ID: sandbox.FacebookPageID, AccessToken: e.SB.IssueToken(sandbox.Facebook)}
	var s pubtest.Store
	res, err := c.Publish(context.Background(), s.Job(t, pubtest.Rendition(path, 300<<10), p, acct))
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != publish.StatusScheduled {
		t.Errorf("status %s", res.Status)
	}
	got := e.ExpectOne(t, sandbox.Facebook, sum)
	if got.Status != "scheduled" || !got.Thumbnail || got.Title != "Later" {
		t.Errorf("post %+v", got)
	}
}
