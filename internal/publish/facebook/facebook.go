// Package facebook publishes Page videos and Reels with the Graph API.
// Page videos use the three-phase start/transfer/finish upload on the Page
// edge and Reels the /video_reels start → rupload → finish flow: both hand
// out the video id before anything is published, so a retry finishes that
// same video and can never create a second one (platforms.md §4.2 B, D).
package facebook

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"outpost/internal/errcode"
	"outpost/internal/publish"
	"outpost/internal/publish/internal/meta"
	"outpost/internal/publish/internal/wire"
)

// Default endpoints.
const (
	DefaultBaseURL = "https://graph.facebook.com"
	DefaultWebURL  = "https://www.facebook.com"
)

// Limits (platforms.md §1, §4).
const (
	MaxVideoSize     = 10_000_000_000
	MaxVideoDuration = 4 * time.Hour
	MinReel          = 3 * time.Second
	MaxReel          = 90 * time.Second
	MaxText          = 63206
	MaxThumbnail     = 10 << 20
)

// FormatReel selects the Reels flow in Post.Format.
const FormatReel = "reel"

// Client publishes to the Page in Account (ID = Page id, AccessToken =
// Page token).
type Client struct {
	BaseURL      string
	WebURL       string
	Version      string
	HTTP         *http.Client
	PollInterval time.Duration
	PollTimeout  time.Duration
	// MaxSchedule is how far ahead scheduled_publish_time may be; sources
	// say 30 days or 6 months, so the stricter is the default.
	MaxSchedule time.Duration
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
		PollTimeout:  2 * time.Minute,
		MaxSchedule:  Descriptor().Features.MaxScheduleAhead,
	}
}

func (c *Client) graph() *meta.Graph {
	return &meta.Graph{Platform: ID, BaseURL: c.BaseURL, Version: c.Version, HTTP: c.HTTP}
}

// Platform returns "facebook".
func (c *Client) Platform() string { return ID }

// Features: scheduled_publish_time, thumb on Page videos.
func (c *Client) Features() publish.Features {
	f := c.descriptor().Features
	// A minute more than the platform's 10: the upload takes a while.
	f.MinScheduleAhead += time.Minute
	return f
}

// descriptor is Facebook's, with this client's schedule window.
func (c *Client) descriptor() publish.Descriptor {
	d := Descriptor()
	d.Features.MaxScheduleAhead = c.MaxSchedule
	return d
}

// Validate checks the file and text against Page video or Reels rules.
func (c *Client) Validate(ctx context.Context, r publish.Rendition, p publish.Post, acct publish.Account) error {
	pr := publish.Problems{Platform: ID}
	if r.Size <= 0 {
		pr.Add(errcode.PlatformRule, "max_size: the file is empty")
	}
	if p.Format == FormatReel {
		if r.Duration < MinReel || r.Duration > MaxReel {
			pr.Add(errcode.PlatformRule, "duration: a Reel must last 3 to 90 seconds, this one lasts %s", r.Duration)
		}
		if a := r.Aspect(); a != 0 && (a < 9.0/16*0.98 || a > 9.0/16*1.02) {
			pr.Add(errcode.PlatformRule, "aspect_ratio: a Reel must be 9:16, this one is %dx%d", r.Width, r.Height)
		}
		if r.Width != 0 && (r.Width < 540 || r.Height < 960) {
			pr.Add(errcode.PlatformRule, "min_resolution: a Reel must be at least 540x960, this one is %dx%d", r.Width, r.Height)
		}
		if r.FrameRate != 0 && (r.FrameRate < 23.9 || r.FrameRate > 60.01) {
			pr.Add(errcode.PlatformRule, "frame_rate: a Reel must be 24 to 60 fps, this one is %.2f", r.FrameRate)
		}
	} else {
		if r.Size > MaxVideoSize {
			pr.Add(errcode.PlatformRule, "max_size: %d bytes is over Facebook's 10 GB", r.Size)
		}
		if r.Duration > MaxVideoDuration {
			pr.Add(errcode.PlatformRule, "max_duration: %s is over Facebook's 4 h", r.Duration)
		}
		if r.FrameRate > 30.01 {
			pr.Add(errcode.PlatformRule, "frame_rate: Page videos play at up to 30 fps, this one is %.2f", r.FrameRate)
		}
	}
	c.descriptor().CheckPost(&pr, p, time.Now())
	if p.ThumbnailPath != "" && p.Format != FormatReel {
		if n := wire.FileSize(p.ThumbnailPath); n < 0 || n > MaxThumbnail {
			pr.Add(errcode.PostInvalid, "thumbnail: %s is missing or over 10 MB", p.ThumbnailPath)
		}
	}
	return pr.Err()
}

// scheduled returns the post's future schedule time, or zero.
func scheduled(p publish.Post) time.Time {
	if !p.ScheduleAt.IsZero() && p.ScheduleAt.After(time.Now()) {
		return p.ScheduleAt
	}
	return time.Time{}
}

// Publish uploads and publishes the Page video or Reel, resuming from
// j.State.
func (c *Client) Publish(ctx context.Context, j *publish.Job) (publish.Result, error) {
	var err error
	if j.Post.Format == FormatReel {
		err = c.reel(ctx, j)
	} else {
		err = c.video(ctx, j)
	}
	if err != nil {
		return publish.Result{}, err
	}
	var res publish.Result
	_, err = wire.Poll(ctx, c.PollInterval, c.PollTimeout, func() (bool, error) {
		var err error
		res, err = c.Status(ctx, j.Account, *j.State)
		return res.Status != publish.StatusProcessing, err
	})
	if res.Status == publish.StatusProcessing {
		res.PollAfter = c.PollInterval
	}
	return res, err
}

// video runs start/transfer/finish on /{page}/videos.
func (c *Client) video(ctx context.Context, j *publish.Job) error {
	f, size, err := wire.Open(ID, j.Rendition.Path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, g, token := j.State, c.graph(), j.Account.AccessToken
	page := j.Account.ID
	fresh := st.MediaID == ""
	if fresh {
		var out struct {
			VideoID   string `json:"video_id"`
			SessionID string `json:"upload_session_id"`
			Start     string `json:"start_offset"`
			End       string `json:"end_offset"`
		}
		if err := g.PostForm(ctx, token, page+"/videos", url.Values{"upload_phase": {"start"},
			"file_size": {strconv.FormatInt(size, 10)}}, &out); err != nil {
			return err
		}
		st.MediaID, st.UploadID, st.StartedAt = out.VideoID, out.SessionID, time.Now()
		st.Offset, _ = strconv.ParseInt(out.Start, 10, 64)
		st.Set("end_offset", out.End)
		if err := j.Save(ctx); err != nil {
			return err
		}
	}
	if !st.IsDone("upload") {
		if err := c.transfer(ctx, j, f, size, fresh); err != nil {
			return err
		}
	}
	if !st.IsDone("finish") {
		// Finishing twice is harmless: the video id is fixed since start.
		if err := c.finish(ctx, j); err != nil {
			return err
		}
		st.MarkDone("finish")
		st.PostID, st.PostURL = st.MediaID, c.WebURL+"/"+page+"/videos/"+st.MediaID+"/"
		if err := j.Save(ctx); err != nil {
			return err
		}
	}
	return nil
}

// transfer sends the chunks the server asks for; a resumed attempt (not
// fresh) first asks how many bytes arrived.
func (c *Client) transfer(ctx context.Context, j *publish.Job, f *os.File, size int64, fresh bool) error {
	st, g := j.State, c.graph()
	prog := wire.NewProgress(j, size)
	start := st.Offset
	end, _ := strconv.ParseInt(st.Get("end_offset"), 10, 64)
	resume := wire.Resume{Max: 5}
	synced := fresh
	for {
		if !synced {
			// Ask how much arrived (a later attempt, or after a failure).
			vs, err := c.videoStatus(ctx, j.Account.AccessToken, st.MediaID)
			if err != nil {
				if publish.ClassOf(err) == publish.Transient && resume.Again(ctx) {
					continue
				}
				return err
			}
			chunk := max(end-start, 1<<20)
			start = vs.Status.UploadingPhase.BytesTransferred
			end = min(start+chunk, size)
			synced = true
		}
		if start >= size || start >= end {
			break
		}
		prog.Report(start)
		next, nextEnd, err := c.sendChunk(ctx, g, j, f, start, end, prog)
		if err != nil {
			if publish.ClassOf(err) == publish.Transient && ctx.Err() == nil && resume.Again(ctx) {
				synced = false
				continue
			}
			return err
		}
		if next > start {
			resume.Progressed()
		}
		start, end = next, nextEnd
		st.Offset = start
		st.Set("end_offset", strconv.FormatInt(end, 10))
		if err := j.Save(ctx); err != nil {
			return err
		}
	}
	prog.Report(size)
	st.MarkDone("upload")
	return j.Save(ctx)
}

func (c *Client) sendChunk(ctx context.Context, g *meta.Graph, j *publish.Job, f *os.File, start, end int64, prog *wire.Progress) (int64, int64, error) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("access_token", j.Account.AccessToken)
	_ = mw.WriteField("upload_phase", "transfer")
	_ = mw.WriteField("upload_session_id", j.State.UploadID)
	_ = mw.WriteField("start_offset", strconv.FormatInt(start, 10))
	_, _ = mw.CreateFormFile("video_file_chunk", filepath.Base(j.Rendition.Path))
	// Stream the chunk between the form's head and tail, so progress counts
	// file bytes only.
	head := bytes.Clone(body.Bytes())
	body.Reset()
	_ = mw.Close()
	tail := body.Bytes()
	n := end - start
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.URL(j.Account.ID+"/videos"),
		io.MultiReader(bytes.NewReader(head), prog.Reader(io.NewSectionReader(f, start, n), start), bytes.NewReader(tail)))
	if err != nil {
		return 0, 0, err
	}
	req.ContentLength = int64(len(head)) + n + int64(len(tail))
	req.Header.Set("Content-Type", mw.FormDataContentType())
	var out struct {
		Start string `json:"start_offset"`
		End   string `json:"end_offset"`
	}
	if err := g.Do(req, "transfer chunk", &out); err != nil {
		return 0, 0, err
	}
	s, err1 := strconv.ParseInt(out.Start, 10, 64)
	e, err2 := strconv.ParseInt(out.End, 10, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, &publish.Error{Platform: ID, Class: publish.Transient, Message: "transfer returned no offsets"}
	}
	return s, e, nil
}

func (c *Client) finish(ctx context.Context, j *publish.Job) error {
	g, p := c.graph(), j.Post
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("access_token", j.Account.AccessToken)
	_ = mw.WriteField("upload_phase", "finish")
	_ = mw.WriteField("upload_session_id", j.State.UploadID)
	_ = mw.WriteField("title", p.Title)
	_ = mw.WriteField("description", p.Text())
	if at := scheduled(p); !at.IsZero() {
		_ = mw.WriteField("published", "false")
		_ = mw.WriteField("scheduled_publish_time", strconv.FormatInt(at.Unix(), 10))
	} else {
		_ = mw.WriteField("published", "true")
	}
	if p.ThumbnailPath != "" {
		data, err := os.ReadFile(p.ThumbnailPath)
		if err != nil {
			return publish.Invalid(ID, errcode.PostInvalid, "thumbnail: %v", err)
		}
		fw, _ := mw.CreateFormFile("thumb", filepath.Base(p.ThumbnailPath))
		_, _ = fw.Write(data)
	}
	_ = mw.Close()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.URL(j.Account.ID+"/videos"), &body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return g.Do(req, "finish upload", nil)
}

// reel runs /video_reels start → rupload → finish.
func (c *Client) reel(ctx context.Context, j *publish.Job) error {
	f, size, err := wire.Open(ID, j.Rendition.Path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, g, token, page := j.State, c.graph(), j.Account.AccessToken, j.Account.ID
	fresh := st.MediaID == ""
	if fresh {
		var out struct {
			VideoID   string `json:"video_id"`
			UploadURL string `json:"upload_url"`
		}
		if err := g.PostForm(ctx, token, page+"/video_reels", url.Values{"upload_phase": {"start"}}, &out); err != nil {
			return err
		}
		if err := meta.CheckUploadHost(ID, out.UploadURL, c.BaseURL); err != nil {
			return err
		}
		st.MediaID, st.SessionURL, st.StartedAt = out.VideoID, out.UploadURL, time.Now()
		if err := j.Save(ctx); err != nil {
			return err
		}
	}
	if !st.IsDone("upload") {
		prog := wire.NewProgress(j, size)
		resume := wire.Resume{Max: 5}
		offset, synced := int64(0), fresh
		for {
			if !synced {
				vs, err := c.videoStatus(ctx, token, st.MediaID)
				if err != nil {
					if publish.ClassOf(err) == publish.Transient && resume.Again(ctx) {
						continue
					}
					return err
				}
				if vs.Status.UploadingPhase.Status == "complete" {
					break
				}
				offset, synced = vs.Status.UploadingPhase.BytesTransferred, true
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
		if err := j.Save(ctx); err != nil {
			return err
		}
	}
	if !st.IsDone("finish") {
		form := url.Values{"upload_phase": {"finish"}, "video_id": {st.MediaID}, "description": {j.Post.Text()},
			"video_state": {"PUBLISHED"}}
		if at := scheduled(j.Post); !at.IsZero() {
			form.Set("video_state", "SCHEDULED")
			form.Set("scheduled_publish_time", strconv.FormatInt(at.Unix(), 10))
		}
		if j.Post.Title != "" {
			form.Set("title", j.Post.Title)
		}
		if err := g.PostForm(ctx, token, page+"/video_reels", form, nil); err != nil {
			return err
		}
		st.MarkDone("finish")
		st.PostID, st.PostURL = st.MediaID, c.WebURL+"/reel/"+st.MediaID
		if err := j.Save(ctx); err != nil {
			return err
		}
	}
	return nil
}

// videoNode is GET /{video-id}?fields=status.
type videoNode struct {
	ID     string `json:"id"`
	Status struct {
		VideoStatus    string `json:"video_status"`
		UploadingPhase struct {
			Status           string `json:"status"`
			BytesTransferred int64  `json:"bytes_transferred"`
		} `json:"uploading_phase"`
		ProcessingPhase struct {
			Status string `json:"status"`
			Error  struct {
				Message string `json:"message"`
			} `json:"error"`
		} `json:"processing_phase"`
		PublishingPhase struct {
			Status        string `json:"status"`
			PublishStatus string `json:"publish_status"`
		} `json:"publishing_phase"`
	} `json:"status"`
}

func (c *Client) videoStatus(ctx context.Context, token, id string) (videoNode, error) {
	var v videoNode
	err := c.graph().Get(ctx, token, id, url.Values{"fields": {"status"}}, &v)
	return v, err
}

// Status reads the video's upload, processing and publishing phases.
func (c *Client) Status(ctx context.Context, acct publish.Account, st publish.State) (publish.Result, error) {
	res := publish.Result{PostID: st.PostID, PostURL: st.PostURL, Status: publish.StatusUploading}
	if st.MediaID == "" {
		return res, nil
	}
	v, err := c.videoStatus(ctx, acct.AccessToken, st.MediaID)
	if err != nil {
		return res, err
	}
	s := v.Status
	res.Remote = s.VideoStatus
	switch {
	case s.VideoStatus == "error" || s.ProcessingPhase.Status == "error":
		res.Status = publish.StatusFailed
		return res, &publish.Error{Platform: ID, Class: publish.Permanent, Raw: "processing_error",
			Message: "Facebook could not process the video: " + s.ProcessingPhase.Error.Message}
	case s.VideoStatus == "expired":
		res.Status = publish.StatusFailed
		return res, &publish.Error{Platform: ID, Class: publish.Permanent, Raw: "expired", Message: "the upload expired before it was published"}
	case s.UploadingPhase.Status != "complete":
		res.Status = publish.StatusUploading
	case !st.IsDone("finish") || s.PublishingPhase.Status != "complete":
		res.Status = publish.StatusProcessing
	case s.PublishingPhase.PublishStatus == "scheduled":
		res.Status = publish.StatusScheduled
	default:
		res.Status = publish.StatusPublished
	}
	return res, nil
}

// Accounts returns the user's Pages, each with its Page token: posts go
// out with it, and the user token is kept to renew it.
func (c *Client) Accounts(ctx context.Context, userToken string) ([]publish.RemoteAccount, error) {
	pages, err := c.Pages(ctx, userToken)
	if err != nil {
		return nil, err
	}
	var out []publish.RemoteAccount
	for _, p := range pages {
		out = append(out, publish.RemoteAccount{ID: p.ID, Name: p.Name, AccessToken: p.AccessToken})
	}
	if len(out) == 0 {
		return nil, publish.NoAccount("the authorized user has no Facebook Page",
			"Create or link one (Meta Business Suite), grant Outpost access to it, and connect again.")
	}
	return out, nil
}

// Page is a Page the user manages, with its Page token.
type Page struct {
	ID          string
	Name        string
	AccessToken string
	InstagramID string // the linked Instagram professional account, if any
}

// Pages lists the user's Pages (GET /me/accounts) with their tokens and
// linked Instagram accounts.
func (c *Client) Pages(ctx context.Context, userToken string) ([]Page, error) {
	var out struct {
		Data []struct {
			ID          string `json:"id"`
			Name        string `json:"name"`
			AccessToken string `json:"access_token"`
			IG          *struct {
				ID string `json:"id"`
			} `json:"instagram_business_account"`
		} `json:"data"`
	}
	if err := c.graph().Get(ctx, userToken, "me/accounts", url.Values{"fields": {"id,name,access_token,instagram_business_account"}}, &out); err != nil {
		return nil, err
	}
	pages := make([]Page, 0, len(out.Data))
	for _, d := range out.Data {
		p := Page{ID: d.ID, Name: d.Name, AccessToken: d.AccessToken}
		if d.IG != nil {
			p.InstagramID = d.IG.ID
		}
		pages = append(pages, p)
	}
	return pages, nil
}
