package linkedin_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"outpost/internal/errcode"
	"outpost/internal/publish"
	"outpost/internal/publish/internal/pubtest"
	"outpost/internal/publish/linkedin"
	"outpost/internal/sandbox"
)

func TestEscapeCommentary(t *testing.T) {
	t.Parallel()
	if got := linkedin.EscapeCommentary(`Hi #launch (50% off) @team_a \o/`); got != `Hi \#launch \(50% off\) \@team\_a \\o/` {
		t.Errorf("got %q", got)
	}
}

func TestClient_Validate(t *testing.T) {
	t.Parallel()
	c := linkedin.New("", nil)
	r := publish.Rendition{Size: 1 << 20, Duration: time.Minute, Width: 1920, Height: 1080}
	tests := []struct {
		name string
		r    publish.Rendition
		p    publish.Post
		code errcode.Code
	}{
		{"ok", r, publish.Post{Caption: "hi"}, ""},
		{"commentary", r, publish.Post{Caption: strings.Repeat("x", 3001)}, errcode.CaptionTooLong},
		{"aspect", publish.Rendition{Size: 1, Duration: time.Minute, Width: 3000, Height: 1000}, publish.Post{}, errcode.PlatformRule},
		{"short", publish.Rendition{Size: 1, Duration: time.Second}, publish.Post{}, errcode.PlatformRule},
		{"privacy", r, publish.Post{Privacy: "unlisted"}, errcode.PostInvalid},
	}
	for _, tt := range tests {
		err := c.Validate(context.Background(), tt.r, tt.p, publish.Account{ID: sandbox.LinkedInPersonURN})
		if tt.code == "" {
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
			}
			continue
		}
		if e := pubtest.Class(t, err, publish.Permanent); e.ErrCode() != tt.code {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
}

// Without r_member_social a retry cannot tell whether an interrupted
// attempt created the post, so it stops instead of risking a second one.
func TestClient_Publish_unknownPostStops(t *testing.T) {
	t.Parallel()
	e := pubtest.Start(t, sandbox.Options{})
	c := linkedin.New(e.URL, e.HTTP)
	c.PollInterval = 10 * time.Millisecond
	path, _ := pubtest.File(t, 100<<10)
	acct := publish.Account{ID: sandbox.LinkedInPersonURN, AccessToken: e.SB.IssueToken(sandbox.LinkedIn)}
	p := publish.Post{Caption: "once"}
	clean := &pubtest.Store{}
	if _, err := c.Publish(context.Background(), clean.Job(t, pubtest.Rendition(path, 100<<10), p, acct)); err != nil {
		t.Fatal(err)
	}
	e = pubtest.Start(t, sandbox.Options{})
	c = linkedin.New(e.URL, e.HTTP)
	c.PollInterval = 10 * time.Millisecond
	acct.AccessToken = e.SB.IssueToken(sandbox.LinkedIn)
	s := &pubtest.Store{FailAt: clean.Saves()} // the save of the post URN
	if _, err := c.Publish(context.Background(), s.Job(t, pubtest.Rendition(path, 100<<10), p, acct)); !errors.Is(err, pubtest.ErrCrash) {
		t.Fatalf("crash run: %v", err)
	}
	_, err := c.Publish(context.Background(), s.Job(t, pubtest.Rendition(path, 100<<10), p, acct))
	pe := pubtest.Class(t, err, publish.Permanent)
	if !strings.Contains(pe.Message, "check the profile") {
		t.Errorf("message %q", pe.Message)
	}
	e.ExpectOne(t, sandbox.LinkedIn, "")
}

func TestClient_Me(t *testing.T) {
	t.Parallel()
	e := pubtest.Start(t, sandbox.Options{})
	m, err := linkedin.New(e.URL, e.HTTP).Me(context.Background(), e.SB.IssueToken(sandbox.LinkedIn))
	if err != nil || m.URN != sandbox.LinkedInPersonURN {
		t.Fatalf("%+v, %v", m, err)
	}
}
