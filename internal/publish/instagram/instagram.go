// Package instagram publishes Reels with the Instagram Graph API (Facebook
// Login): a resumable REELS container, the bytes through rupload, status_code
// polling until FINISHED, then media_publish (platforms.md §5.2).
package instagram

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"outpost/internal/errcode"
	"outpost/internal/publish"
	"outpost/internal/publish/facebook"
	"outpost/internal/publish/internal/meta"
	"outpost/internal/publish/internal/wire"
)

// Default endpoints.
const (
	DefaultBaseURL = "https://graph.facebook.com"
	DefaultWebURL  = "https://www.instagram.com"
)

// Limits (platforms.md §1, §5).
const (
	MaxSize     = 300_000_000
	MinDuration = 3 * time.Second
	MaxDuration = 15 * time.Minute
	MaxWidth    = 1920
	MaxCaption  = 2200
	MaxHashtags = 30
	MaxMentions = 20
)

// Client publishes to the Instagram professional account in Account (ID =
// Instagram user id, AccessToken = the Facebook user or Page token).
type Client struct {
	BaseURL      string
	WebURL       string
	Version      string
	HTTP         *http.Client
	PollInterval time.Duration
	PollTimeout  time.Duration
}

var _ publish.Publisher = (*Client)(nil)

// New returns a Client for baseURL ("" for the real Graph API).
func New(baseURL string, hc *http.Client) *Client {
	return &Client{
		BaseURL:      wire.Base(baseURL, DefaultBaseURL),
		WebURL:       wire.WebURL(baseURL, DefaultBaseURL, DefaultWebURL),
		Version:      meta.DefaultVersion,
		HTTP:         wire.Client(hc),
		PollInterval: 5 * time.Second,
		PollTimeout:  5 * time.Minute,
	}
}

func (c *Client) graph() *meta.Graph {
	return &meta.Graph{Platform: ID, BaseURL: c.BaseURL, Version: c.Version, HTTP: c.HTTP}
}

// Platform returns "instagram".
func (c *Client) Platform() string { return ID }

// Features: none native; scheduling is the job layer's.
func (c *Client) Features() publish.Features { return Descriptor().Features }

var (
	hashtagRE = regexp.MustCompile(`(?:^|\s)#[\p{L}\p{N}_]+`)
	mentionRE = regexp.MustCompile(`(?:^|\s)@[\p{L}\p{N}_.]+`)
)

// Validate checks the Reel's file and caption.
func (c *Client) Validate(ctx context.Context, r publish.Rendition, p publish.Post, acct publish.Account) error {
	pr := publish.Problems{Platform: ID}
	switch {
	case r.Size <= 0:
		pr.Add(errcode.PlatformRule, "max_size: the file is empty")
	case r.Size > MaxSize:
		pr.Add(errcode.PlatformRule, "max_size: %d bytes is over Instagram's 300 MB", r.Size)
	}
	if r.Duration < MinDuration || r.Duration > MaxDuration {
		pr.Add(errcode.PlatformRule, "duration: a Reel lasts 3 s to 15 min, this one lasts %s", r.Duration)
	}
	if r.Width > MaxWidth {
		pr.Add(errcode.PlatformRule, "max_width: %d px is over Instagram's 1920", r.Width)
	}
	if a := r.Aspect(); a != 0 && (a < 0.01 || a > 10) {
		pr.Add(errcode.PlatformRule, "aspect_ratio: %dx%d is outside 0.01:1 to 10:1", r.Width, r.Height)
	}
	if r.FrameRate != 0 && (r.FrameRate < 22.9 || r.FrameRate > 60.01) {
		pr.Add(errcode.PlatformRule, "frame_rate: Instagram takes 23 to 60 fps, this one is %.2f", r.FrameRate)
	}
	Descriptor().CheckPost(&pr, p, time.Now())
	text := p.Text()
	if n := len(hashtagRE.FindAllString(text, -1)); n > MaxHashtags {
		pr.Add(errcode.PostInvalid, "caption: %d hashtags, Instagram allows %d", n, MaxHashtags)
	}
	if n := len(mentionRE.FindAllString(text, -1)); n > MaxMentions {
		pr.Add(errcode.PostInvalid, "caption: %d @mentions, Instagram allows %d", n, MaxMentions)
	}
	return pr.Err()
}

// Accounts returns the Instagram professional accounts linked to the
// Facebook user's Pages; posts use the user token.
func (c *Client) Accounts(ctx context.Context, userToken string) ([]publish.RemoteAccount, error) {
	pages, err := facebook.New(c.BaseURL, c.HTTP).Pages(ctx, userToken)
	if err != nil {
		return nil, err
	}
	var out []publish.RemoteAccount
	for _, p := range pages {
		if p.InstagramID != "" {
			out = append(out, publish.RemoteAccount{ID: p.InstagramID, Name: p.Name + " (Instagram)"})
		}
	}
	if len(out) == 0 {
		return nil, publish.NoAccount("the authorized user has no Instagram professional account linked to a Facebook Page",
			"Create or link one (Meta Business Suite), grant Outpost access to it, and connect again.")
	}
	return out, nil
}

// Publish creates the container, uploads, waits for FINISHED and publishes.
func (c *Client) Publish(ctx context.Context, j *publish.Job) (publish.Result, error) {
	st, g, token := j.State, c.graph(), j.Account.AccessToken
	fresh := st.MediaID == ""
	if fresh {
		form := url.Values{"media_type": {"REELS"}, "upload_type": {"resumable"}, "caption": {j.Post.Text()},
			"share_to_feed": {"true"}}
		if j.Post.AIGenerated {
			form.Set("is_ai_generated", "true")
		}
		var out struct {
			ID  string `json:"id"`
			URI string `json:"uri"`
		}
		if err := g.PostForm(ctx, token, j.Account.ID+"/media", form, &out); err != nil {
			return publish.Result{}, err
		}
		if err := meta.CheckUploadHost(ID, out.URI, c.BaseURL); err != nil {
			return publish.Result{}, err
		}
		st.MediaID, st.SessionURL, st.StartedAt = out.ID, out.URI, time.Now()
		if err := j.Save(ctx); err != nil {
			return publish.Result{}, err
		}
	}
	if !st.IsDone("upload") {
		if err := c.upload(ctx, j, fresh); err != nil {
			return publish.Result{}, err
		}
	}
	if st.PostID == "" {
		res, err := c.waitAndPublish(ctx, j)
		if err != nil || res.Status == publish.StatusProcessing {
			return res, err
		}
	}
	if st.PostURL == "" {
		var m struct {
			Permalink string `json:"permalink"`
		}
		if err := g.Get(ctx, token, st.PostID, url.Values{"fields": {"permalink"}}, &m); err != nil {
			return publish.Result{}, err
		}
		st.PostURL = m.Permalink
		if err := j.Save(ctx); err != nil {
			return publish.Result{}, err
		}
	}
	return publish.Result{Status: publish.StatusPublished, PostID: st.PostID, PostURL: st.PostURL, Remote: "PUBLISHED"}, nil
}

func (c *Client) upload(ctx context.Context, j *publish.Job, fresh bool) error {
	f, size, err := wire.Open(ID, j.Rendition.Path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, g, token := j.State, c.graph(), j.Account.AccessToken
	prog := wire.NewProgress(j, size)
	resume := wire.Resume{Max: 5}
	offset, synced := int64(0), fresh
	for {
		if !synced {
			n, err := meta.RuploadOffset(ctx, g, st.SessionURL, token)
			if err != nil {
				if publish.ClassOf(err) == publish.Transient && resume.Again(ctx) {
					continue
				}
				return err
			}
			offset, synced = n, true
		}
		if offset >= size {
			break
		}
		err := meta.Rupload(ctx, g, st.SessionURL, token, f, offset, size, prog)
		if err == nil {
			break
		}
		if publish.ClassOf(err) != publish.Transient || ctx.Err() != nil || !resume.Again(ctx) {
			return err
		}
		synced = false
	}
	st.Offset = size
	st.MarkDone("upload")
	return j.Save(ctx)
}

type container struct {
	StatusCode string `json:"status_code"`
	Status     string `json:"status"`
}

var subcodeRE = regexp.MustCompile(`\((\d{7})\)`)

// waitAndPublish polls the container and publishes it once FINISHED.
func (c *Client) waitAndPublish(ctx context.Context, j *publish.Job) (publish.Result, error) {
	st, g, token := j.State, c.graph(), j.Account.AccessToken
	res := publish.Result{Status: publish.StatusProcessing, PollAfter: c.PollInterval}
	done, err := wire.Poll(ctx, c.PollInterval, c.PollTimeout, func() (bool, error) {
		var ct container
		if err := g.Get(ctx, token, st.MediaID, url.Values{"fields": {"status_code,status"}}, &ct); err != nil {
			return false, err
		}
		res.Remote = ct.StatusCode
		switch ct.StatusCode {
		case "FINISHED":
			var out struct {
				ID string `json:"id"`
			}
			err := g.PostForm(ctx, token, j.Account.ID+"/media_publish", url.Values{"creation_id": {st.MediaID}}, &out)
			if e, ok := publish.AsError(err); ok && e.Raw == "9007/2207027" {
				return false, nil // not ready after all: keep polling
			}
			if err != nil {
				return false, err
			}
			st.PostID = out.ID
			return true, j.Save(ctx)
		case "PUBLISHED":
			// Published by an attempt that stopped before saving the id.
			id, err := c.findMedia(ctx, j)
			if err != nil {
				return false, err
			}
			st.PostID = id
			return true, j.Save(ctx)
		case "ERROR":
			raw := "ERROR"
			if m := subcodeRE.FindStringSubmatch(ct.Status); m != nil {
				raw += "/" + m[1]
			}
			return false, &publish.Error{Platform: ID, Class: publish.Permanent, Raw: raw,
				Message: "Instagram could not process the video: " + ct.Status}
		case "EXPIRED":
			// Not published within 24 h: start over with a new container.
			*st = publish.State{}
			if err := j.Save(ctx); err != nil {
				return false, err
			}
			return false, &publish.Error{Platform: ID, Class: publish.Transient, Raw: "EXPIRED",
				Message: "the container expired before publishing; the next attempt creates a new one"}
		}
		return false, nil
	})
	if done {
		res.Status, res.PollAfter = publish.StatusPublished, 0
	}
	return res, err
}

// findMedia finds the media a container became: the newest media with the
// post's caption created since the container.
func (c *Client) findMedia(ctx context.Context, j *publish.Job) (string, error) {
	var out struct {
		Data []struct {
			ID        string `json:"id"`
			Caption   string `json:"caption"`
			Timestamp string `json:"timestamp"`
		} `json:"data"`
	}
	if err := c.graph().Get(ctx, j.Account.AccessToken, j.Account.ID+"/media",
		url.Values{"fields": {"id,caption,timestamp,permalink"}, "limit": {"25"}}, &out); err != nil {
		return "", err
	}
	since := j.State.StartedAt.Add(-time.Minute)
	for _, m := range out.Data {
		ts, err := time.Parse("2006-01-02T15:04:05-0700", m.Timestamp)
		if strings.TrimSpace(m.Caption) == strings.TrimSpace(j.Post.Text()) && (err != nil || !ts.Before(since)) {
			return m.ID, nil
		}
	}
	return "", &publish.Error{Platform: ID, Class: publish.Permanent, Raw: "PUBLISHED",
		Message: "the container was published but its media was not found; check the account before publishing again"}
}

// Status reads the container (or the published media) state.
func (c *Client) Status(ctx context.Context, acct publish.Account, st publish.State) (publish.Result, error) {
	res := publish.Result{PostID: st.PostID, PostURL: st.PostURL}
	switch {
	case st.PostID != "":
		res.Status, res.Remote = publish.StatusPublished, "PUBLISHED"
		return res, nil
	case st.MediaID == "" || !st.IsDone("upload"):
		res.Status = publish.StatusUploading
		return res, nil
	}
	var ct container
	if err := c.graph().Get(ctx, acct.AccessToken, st.MediaID, url.Values{"fields": {"status_code,status"}}, &ct); err != nil {
		return res, err
	}
	res.Remote = ct.StatusCode
	switch ct.StatusCode {
	case "ERROR", "EXPIRED":
		res.Status = publish.StatusFailed
	case "PUBLISHED":
		res.Status = publish.StatusPublished
	default:
		res.Status = publish.StatusProcessing
	}
	return res, nil
}
