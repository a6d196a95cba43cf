// Package youtube publishes videos with the YouTube Data API v3: resumable
// videos.insert (session URI, 256 KiB-aligned chunks, 308 + Range, status
// query after a dropped connection), thumbnails.set, captions.insert and
// processing polls through videos.list.
package youtube

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // quota resets at midnight Pacific

	"outpost/internal/errcode"
	"outpost/internal/publish"
	"outpost/internal/publish/internal/wire"
)

// Default endpoints.
const (
	DefaultBaseURL = "https://www.googleapis.com"
	DefaultWebURL  = "https://www.youtube.com"
)

// Quota costs in units (platforms.md §3.7, long-standing table).
const (
	CostInsert    = 1600
	CostList      = 1
	CostThumbnail = 50
	CostCaption   = 400
)

// Limits (platforms.md §1, §3).
const (
	MaxSize               = 256 << 30
	MaxDurationUnverified = 15 * time.Minute
	MaxThumbnail          = 2 << 20
	MaxCaptions           = 100 << 20
	chunkAlign            = 256 << 10
)

var pacific = func() *time.Location {
	l, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		return time.FixedZone("PST", -8*3600)
	}
	return l
}()

// QuotaDay returns the quota day of t (YYYY-MM-DD in Pacific time, as
// Google resets the Data API quota at midnight Pacific) and the time left
// until it resets.
func (c *Client) QuotaDay(t time.Time) (string, time.Duration) {
	return t.In(pacific).Format(time.DateOnly), publish.NextMidnight(t, pacific)
}

// maxPollEstimate bounds the processing polls QuotaEstimate counts: with
// a short poll interval a call could in theory poll far more, but the
// reservation is settled with what was really spent.
const maxPollEstimate = 25

// QuotaEstimate returns what a Publish call with post p from state st is
// expected to spend at most: the insert when the video is not uploaded
// yet, the thumbnail and captions not yet set, and the processing polls of
// one call (at most maxPollEstimate).
func (c *Client) QuotaEstimate(p publish.Post, st publish.State) int {
	units := 0
	if st.MediaID == "" {
		units += CostInsert
	}
	if p.ThumbnailPath != "" && !st.IsDone("thumbnail") {
		units += CostThumbnail
	}
	if p.CaptionsPath != "" && !st.IsDone("captions") {
		units += CostCaption
	}
	polls := maxPollEstimate
	if c.PollInterval > 0 && c.PollTimeout/c.PollInterval < maxPollEstimate {
		polls = 1 + int(c.PollTimeout/c.PollInterval)
	}
	return units + polls*CostList
}

// Client publishes to one YouTube channel per Account.
type Client struct {
	BaseURL string
	WebURL  string
	HTTP    *http.Client
	// ChunkSize is the upload chunk, rounded down to a multiple of 256 KiB;
	// 8 MiB by default.
	ChunkSize int64
	// PollInterval and PollTimeout bound how long Publish waits for
	// processing before returning StatusProcessing.
	PollInterval time.Duration
	PollTimeout  time.Duration
	// CategoryID is snippet.categoryId ("22", People & Blogs, by default).
	CategoryID string
}

var _ publish.Publisher = (*Client)(nil)

// New returns a Client for baseURL ("" for the real API).
func New(baseURL string, hc *http.Client) *Client {
	return &Client{
		BaseURL:      wire.Base(baseURL, DefaultBaseURL),
		WebURL:       wire.WebURL(baseURL, DefaultBaseURL, DefaultWebURL),
		HTTP:         wire.Client(hc),
		ChunkSize:    8 << 20,
		PollInterval: 5 * time.Second,
		PollTimeout:  2 * time.Minute,
		CategoryID:   "22",
	}
}

// Platform returns "youtube".
func (c *Client) Platform() string { return ID }

// Features: publishAt scheduling, thumbnails, captions.
func (c *Client) Features() publish.Features { return Descriptor().Features }

// Validate checks size, duration, title, description, tags, privacy and
// the side files.
func (c *Client) Validate(ctx context.Context, r publish.Rendition, p publish.Post, acct publish.Account) error {
	pr := publish.Problems{Platform: ID}
	maxSize := int64(MaxSize)
	if acct.Limits.MaxSize > 0 {
		maxSize = acct.Limits.MaxSize
	}
	maxDur := MaxDurationUnverified
	if acct.Limits.MaxDuration > 0 {
		maxDur = acct.Limits.MaxDuration
	}
	switch {
	case r.Size <= 0:
		pr.Add(errcode.PlatformRule, "max_size: the file is empty")
	case r.Size > maxSize:
		pr.Add(errcode.PlatformRule, "max_size: %d bytes is over YouTube's %d", r.Size, maxSize)
	}
	if r.Duration > maxDur {
		pr.Add(errcode.PlatformRule, "max_duration: %s is over the channel's %s (verify the channel for up to 12 h)", r.Duration, maxDur)
	}
	now := time.Now()
	Descriptor().CheckPost(&pr, p, now)
	if p.Privacy == "unlisted" && p.ScheduleAt.After(now) {
		// publishAt turns a private video public; there is no scheduled unlisted.
		pr.Add(errcode.PostInvalid, "schedule_at: YouTube publishes scheduled videos as public; choose public")
	}
	if p.ThumbnailPath != "" {
		switch n := wire.FileSize(p.ThumbnailPath); {
		case n < 0:
			pr.Add(errcode.PostInvalid, "thumbnail: %s cannot be read", p.ThumbnailPath)
		case n > MaxThumbnail:
			pr.Add(errcode.PostInvalid, "thumbnail: %d bytes, YouTube allows 2 MiB", n)
		}
		if ext := strings.ToLower(filepath.Ext(p.ThumbnailPath)); ext != ".jpg" && ext != ".jpeg" && ext != ".png" {
			pr.Add(errcode.PostInvalid, "thumbnail: must be JPEG or PNG")
		}
	}
	if p.CaptionsPath != "" {
		switch n := wire.FileSize(p.CaptionsPath); {
		case n <= 0:
			pr.Add(errcode.PostInvalid, "captions: %s cannot be read or is empty", p.CaptionsPath)
		case n > MaxCaptions:
			pr.Add(errcode.PostInvalid, "captions: %d bytes, YouTube allows 100 MiB", n)
		}
	}
	return pr.Err()
}

// Publish uploads (or resumes) the video, sets the thumbnail and captions,
// and waits for processing within PollTimeout.
func (c *Client) Publish(ctx context.Context, j *publish.Job) (publish.Result, error) {
	st := j.State
	var res publish.Result
	if st.MediaID == "" {
		id, units, err := c.upload(ctx, j)
		res.QuotaUnits += units
		if err != nil {
			return res, err
		}
		st.MediaID, st.PostID, st.PostURL = id, id, c.WebURL+"/watch?v="+id
		if err := j.Save(ctx); err != nil {
			return res, err
		}
	}
	if j.Post.ThumbnailPath != "" && !st.IsDone("thumbnail") {
		res.QuotaUnits += CostThumbnail
		if err := c.setThumbnail(ctx, j); err != nil {
			if publish.ClassOf(err) != publish.Permanent {
				return res, err
			}
			res.Warnings = append(res.Warnings, "thumbnail not set: "+err.Error())
		}
		st.MarkDone("thumbnail")
		if err := j.Save(ctx); err != nil {
			return res, err
		}
	}
	if j.Post.CaptionsPath != "" && !st.IsDone("captions") {
		res.QuotaUnits += CostCaption
		if err := c.insertCaptions(ctx, j); err != nil {
			if publish.ClassOf(err) != publish.Permanent && publish.ClassOf(err) != publish.AuthExpired {
				return res, err
			}
			res.Warnings = append(res.Warnings, "captions not added: "+err.Error())
		}
		st.MarkDone("captions")
		if err := j.Save(ctx); err != nil {
			return res, err
		}
	}
	var out publish.Result
	_, err := wire.Poll(ctx, c.PollInterval, c.PollTimeout, func() (bool, error) {
		var err error
		out, err = c.Status(ctx, j.Account, *st)
		res.QuotaUnits += CostList
		return out.Status != publish.StatusProcessing, err
	})
	out.QuotaUnits, out.Warnings = res.QuotaUnits, res.Warnings
	if out.Status == publish.StatusProcessing {
		out.PollAfter = c.PollInterval
	}
	return out, err
}

// videoResource is the part of a video resource the client reads.
type videoResource struct {
	ID     string `json:"id"`
	Status struct {
		UploadStatus    string `json:"uploadStatus"`
		PrivacyStatus   string `json:"privacyStatus"`
		PublishAt       string `json:"publishAt"`
		FailureReason   string `json:"failureReason"`
		RejectionReason string `json:"rejectionReason"`
	} `json:"status"`
	ProcessingDetails struct {
		ProcessingStatus        string `json:"processingStatus"`
		ProcessingFailureReason string `json:"processingFailureReason"`
	} `json:"processingDetails"`
}

// metadata builds the video resource sent at initiation.
func (c *Client) metadata(p publish.Post) map[string]any {
	privacy := cmp(p.Privacy, defaultPrivacy)
	status := map[string]any{"privacyStatus": privacy, "selfDeclaredMadeForKids": false}
	if !p.ScheduleAt.IsZero() && p.ScheduleAt.After(time.Now()) {
		// Scheduling is private + publishAt; YouTube makes it public then.
		status["privacyStatus"] = "private"
		status["publishAt"] = p.ScheduleAt.UTC().Format(time.RFC3339)
	}
	if p.AIGenerated {
		status["containsSyntheticMedia"] = true
	}
	snippet := map[string]any{"title": p.Title, "description": p.Description, "categoryId": c.CategoryID}
	if len(p.Tags) > 0 {
		snippet["tags"] = p.Tags
	}
	return map[string]any{"snippet": snippet, "status": status}
}

// upload runs videos.insert with the resumable protocol and returns the
// video id.
func (c *Client) upload(ctx context.Context, j *publish.Job) (string, int, error) {
	f, size, err := wire.Open(ID, j.Rendition.Path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	st := j.State
	prog := wire.NewProgress(j, size)
	units := 0
	var offset int64
	if st.SessionURL == "" {
		loc, err := c.initiate(ctx, j, size)
		units += CostInsert
		if err != nil {
			return "", units, err
		}
		st.SessionURL, st.Offset = loc, 0
		if st.StartedAt.IsZero() {
			st.StartedAt = time.Now()
		}
		if err := j.Save(ctx); err != nil {
			return "", units, err
		}
	} else {
		// A later attempt: ask the session what it holds.
		id, off, err := c.query(ctx, st, size)
		if st.SessionURL == "" {
			if serr := j.Save(ctx); serr != nil {
				return "", units, serr
			}
		}
		if err != nil || id != "" {
			return id, units, err
		}
		offset = off
	}
	chunk := max(c.ChunkSize/chunkAlign*chunkAlign, chunkAlign)
	resume := wire.Resume{Max: 5}
	for {
		n := min(chunk, size-offset)
		prog.Report(offset)
		resp, err := c.sendChunk(ctx, st.SessionURL, f, offset, n, size, j.Rendition.Type(), prog)
		if wire.Resumable(resp, err) {
			if ctx.Err() != nil {
				return "", units, ctx.Err()
			}
			if resp != nil {
				wire.Discard(resp)
			}
			if !resume.Again(ctx) {
				if err != nil {
					return "", units, publish.NetError(ID, "upload chunk", err)
				}
				return "", units, c.apiError(resp)
			}
			id, off, qerr := c.query(ctx, st, size)
			if st.SessionURL == "" {
				if serr := j.Save(ctx); serr != nil {
					return "", units, serr
				}
				return "", units, qerr
			}
			if qerr != nil {
				if publish.ClassOf(qerr) == publish.Transient {
					continue // the next chunk attempt queries again on failure
				}
				return "", units, qerr
			}
			if id != "" {
				return id, units, nil
			}
			offset = off
			continue
		}
		switch resp.StatusCode {
		case http.StatusOK, http.StatusCreated:
			var v videoResource
			if err := wire.DecodeJSON(ID, resp, &v); err != nil {
				return "", units, err
			}
			prog.Report(size)
			return v.ID, units, nil
		case http.StatusPermanentRedirect:
			wire.Discard(resp)
			off := rangeEnd(resp.Header.Get("Range"))
			if loc := resp.Header.Get("Location"); loc != "" {
				st.SessionURL = loc
			}
			if off > offset {
				resume.Progressed()
			}
			offset, st.Offset = off, off
			if err := j.Save(ctx); err != nil {
				return "", units, err
			}
		case http.StatusNotFound, http.StatusGone:
			return "", units, c.sessionGone(ctx, j, resp)
		default:
			return "", units, c.apiError(resp)
		}
	}
}

// sessionGone forgets an expired or unknown session so the next attempt
// starts a new one.
func (c *Client) sessionGone(ctx context.Context, j *publish.Job, resp *http.Response) error {
	wire.Discard(resp)
	j.State.SessionURL, j.State.Offset = "", 0
	if err := j.Save(ctx); err != nil {
		return err
	}
	return &publish.Error{Platform: ID, Class: publish.Transient, Status: resp.StatusCode,
		Message: "upload session expired; the next attempt starts a new one"}
}

func (c *Client) initiate(ctx context.Context, j *publish.Job, size int64) (string, error) {
	body, _ := json.Marshal(c.metadata(j.Post))
	u := c.BaseURL + "/upload/youtube/v3/videos?" + url.Values{
		"uploadType": {"resumable"}, "part": {"snippet,status"}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+j.Account.AccessToken)
	req.Header.Set("Content-Type", "application/json; charset=UTF-8")
	req.Header.Set("X-Upload-Content-Length", strconv.FormatInt(size, 10))
	req.Header.Set("X-Upload-Content-Type", j.Rendition.Type())
	resp, err := wire.NoRedirect(c.HTTP).Do(req)
	if err != nil {
		return "", publish.NetError(ID, "start upload", err)
	}
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
		return "", c.apiError(resp)
	}
	wire.Discard(resp)
	loc := resp.Header.Get("Location")
	if loc == "" {
		return "", &publish.Error{Platform: ID, Class: publish.Transient, Message: "upload start returned no Location"}
	}
	return loc, nil
}

func (c *Client) sendChunk(ctx context.Context, session string, f *os.File, off, n, size int64, typ string, prog *wire.Progress) (*http.Response, error) {
	body := prog.Reader(io.NewSectionReader(f, off, n), off)
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, session, body)
	if err != nil {
		return nil, err
	}
	req.ContentLength = n
	req.Header.Set("Content-Type", typ)
	req.Header.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", off, off+n-1, size))
	return wire.NoRedirect(c.HTTP).Do(req)
}

// query asks the session what it holds: the video id when complete, else
// the offset to resume at.
func (c *Client) query(ctx context.Context, st *publish.State, size int64) (string, int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, st.SessionURL, http.NoBody)
	if err != nil {
		return "", 0, err
	}
	req.ContentLength = 0
	req.Header.Set("Content-Range", fmt.Sprintf("bytes */%d", size))
	resp, err := wire.NoRedirect(c.HTTP).Do(req)
	if err != nil {
		return "", 0, publish.NetError(ID, "query upload", err)
	}
	switch resp.StatusCode {
	case http.StatusOK, http.StatusCreated:
		var v videoResource
		if err := wire.DecodeJSON(ID, resp, &v); err != nil {
			return "", 0, err
		}
		return v.ID, size, nil
	case http.StatusPermanentRedirect:
		wire.Discard(resp)
		if loc := resp.Header.Get("Location"); loc != "" {
			st.SessionURL = loc
		}
		return "", rangeEnd(resp.Header.Get("Range")), nil
	case http.StatusNotFound, http.StatusGone:
		wire.Discard(resp)
		st.SessionURL, st.Offset = "", 0
		return "", 0, &publish.Error{Platform: ID, Class: publish.Transient, Status: resp.StatusCode,
			Message: "upload session expired; the next attempt starts a new one"}
	}
	return "", 0, c.apiError(resp)
}

// rangeEnd turns "bytes=0-N" into N+1; no header means nothing is stored.
func rangeEnd(h string) int64 {
	_, last, ok := strings.Cut(strings.TrimPrefix(h, "bytes="), "-")
	if !ok {
		return 0
	}
	n, err := strconv.ParseInt(last, 10, 64)
	if err != nil {
		return 0
	}
	return n + 1
}

// Status reads the video's upload and processing state.
func (c *Client) Status(ctx context.Context, acct publish.Account, st publish.State) (publish.Result, error) {
	res := publish.Result{PostID: st.MediaID, PostURL: st.PostURL}
	if st.MediaID == "" {
		res.Status = publish.StatusUploading
		return res, nil
	}
	u := c.BaseURL + "/youtube/v3/videos?" + url.Values{"part": {"status,processingDetails"}, "id": {st.MediaID}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return res, err
	}
	req.Header.Set("Authorization", "Bearer "+acct.AccessToken)
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return res, publish.NetError(ID, "get video", err)
	}
	if resp.StatusCode != http.StatusOK {
		return res, c.apiError(resp)
	}
	var list struct {
		Items []videoResource `json:"items"`
	}
	if err := wire.DecodeJSON(ID, resp, &list); err != nil {
		return res, err
	}
	if len(list.Items) == 0 {
		res.Status = publish.StatusFailed
		return res, &publish.Error{Platform: ID, Class: publish.Permanent, Raw: "videoNotFound",
			Message: "the video " + st.MediaID + " no longer exists (deleted on YouTube?)"}
	}
	v := list.Items[0]
	res.Remote = v.Status.UploadStatus + "/" + v.ProcessingDetails.ProcessingStatus
	switch {
	case v.Status.UploadStatus == "rejected":
		res.Status = publish.StatusFailed
		return res, &publish.Error{Platform: ID, Class: publish.Permanent, Raw: "rejected/" + v.Status.RejectionReason,
			Message: "YouTube rejected the video: " + v.Status.RejectionReason}
	case v.Status.UploadStatus == "failed":
		res.Status = publish.StatusFailed
		return res, &publish.Error{Platform: ID, Class: publish.Permanent, Raw: "failed/" + v.Status.FailureReason,
			Message: "YouTube could not process the upload: " + v.Status.FailureReason}
	case v.ProcessingDetails.ProcessingStatus == "failed" || v.ProcessingDetails.ProcessingStatus == "terminated":
		res.Status = publish.StatusFailed
		return res, &publish.Error{Platform: ID, Class: publish.Permanent, Raw: "processing/" + v.ProcessingDetails.ProcessingFailureReason,
			Message: "YouTube processing failed: " + cmp(v.ProcessingDetails.ProcessingFailureReason, v.ProcessingDetails.ProcessingStatus)}
	case v.ProcessingDetails.ProcessingStatus == "processing":
		res.Status = publish.StatusProcessing
	default:
		res.Status = publish.StatusPublished
		if at, err := time.Parse(time.RFC3339, v.Status.PublishAt); err == nil && at.After(time.Now()) {
			res.Status = publish.StatusScheduled
		}
	}
	return res, nil
}

func cmp(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// upload of a small file in one multipart/related request (thumbnails,
// captions): meta may be nil.
func (c *Client) multipartUpload(ctx context.Context, token, u string, meta any, path, typ string, op string) (*http.Response, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &publish.Error{Platform: ID, Class: publish.Permanent, Code: errcode.PostInvalid, Message: "read " + op + " file", Err: err}
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mj, _ := json.Marshal(meta)
	if meta == nil {
		mj = []byte("{}")
	}
	pw, _ := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {"application/json; charset=UTF-8"}})
	_, _ = pw.Write(mj)
	pw, _ = mw.CreatePart(textproto.MIMEHeader{"Content-Type": {typ}})
	_, _ = pw.Write(data)
	_ = mw.Close()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, &body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "multipart/related; boundary="+mw.Boundary())
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, publish.NetError(ID, op, err)
	}
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
		return nil, c.apiError(resp)
	}
	return resp, nil
}

func (c *Client) setThumbnail(ctx context.Context, j *publish.Job) error {
	typ := "image/jpeg"
	if strings.EqualFold(filepath.Ext(j.Post.ThumbnailPath), ".png") {
		typ = "image/png"
	}
	u := c.BaseURL + "/upload/youtube/v3/thumbnails/set?" + url.Values{"videoId": {j.State.MediaID}, "uploadType": {"multipart"}}.Encode()
	resp, err := c.multipartUpload(ctx, j.Account.AccessToken, u, nil, j.Post.ThumbnailPath, typ, "set thumbnail")
	if err != nil {
		return err
	}
	wire.Discard(resp)
	return nil
}

func (c *Client) insertCaptions(ctx context.Context, j *publish.Job) error {
	lang := j.Post.CaptionsLanguage
	if lang == "" {
		lang = "en"
	}
	meta := map[string]any{"snippet": map[string]any{"videoId": j.State.MediaID, "language": lang, "name": "", "isDraft": false}}
	u := c.BaseURL + "/upload/youtube/v3/captions?" + url.Values{"part": {"snippet"}, "uploadType": {"multipart"}}.Encode()
	resp, err := c.multipartUpload(ctx, j.Account.AccessToken, u, meta, j.Post.CaptionsPath, "application/octet-stream", "insert captions")
	if err != nil {
		return err
	}
	wire.Discard(resp)
	return nil
}

// Accounts returns the token's channel.
func (c *Client) Accounts(ctx context.Context, token string) ([]publish.RemoteAccount, error) {
	ch, err := c.Channel(ctx, token)
	if err != nil {
		return nil, err
	}
	return []publish.RemoteAccount{{ID: ch.ID, Name: ch.Title, AvatarURL: ch.AvatarURL}}, nil
}

// Channel is the connected channel.
type Channel struct {
	ID, Title, Handle, AvatarURL string
}

// Channel returns the token's own channel (channels.list mine=true).
func (c *Client) Channel(ctx context.Context, token string) (Channel, error) {
	u := c.BaseURL + "/youtube/v3/channels?part=snippet&mine=true"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return Channel{}, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return Channel{}, publish.NetError(ID, "get channel", err)
	}
	if resp.StatusCode != http.StatusOK {
		return Channel{}, c.apiError(resp)
	}
	var list struct {
		Items []struct {
			ID      string `json:"id"`
			Snippet struct {
				Title      string `json:"title"`
				CustomURL  string `json:"customUrl"`
				Thumbnails struct {
					Default struct {
						URL string `json:"url"`
					} `json:"default"`
				} `json:"thumbnails"`
			} `json:"snippet"`
		} `json:"items"`
	}
	if err := wire.DecodeJSON(ID, resp, &list); err != nil {
		return Channel{}, err
	}
	if len(list.Items) == 0 {
		return Channel{}, &publish.Error{Platform: ID, Class: publish.Permanent, Message: "the account has no YouTube channel"}
	}
	it := list.Items[0]
	return Channel{ID: it.ID, Title: it.Snippet.Title, Handle: it.Snippet.CustomURL, AvatarURL: it.Snippet.Thumbnails.Default.URL}, nil
}

// apiError classifies a Google error response (platforms.md §3.6).
func (c *Client) apiError(resp *http.Response) *publish.Error {
	body := wire.ReadBody(resp)
	var env struct {
		Error struct {
			Message string `json:"message"`
			Errors  []struct {
				Reason string `json:"reason"`
				Domain string `json:"domain"`
			} `json:"errors"`
		} `json:"error"`
	}
	_ = json.Unmarshal(body, &env)
	reason := ""
	if len(env.Error.Errors) > 0 {
		reason = env.Error.Errors[0].Reason
	}
	e := publish.HTTPError(ID, resp, reason, env.Error.Message)
	now := time.Now()
	switch reason {
	case "quotaExceeded":
		e.Class, e.RetryAfter = publish.RateLimited, publish.NextMidnight(now, pacific)
		e.Message = "the project's daily YouTube quota is used up; it resets at midnight Pacific time"
	case "rateLimitExceeded", "userRateLimitExceeded":
		e.Class = publish.RateLimited
	case "uploadLimitExceeded":
		e.Class, e.RetryAfter = publish.RateLimited, 24*time.Hour
		e.Message = "the channel reached its daily upload limit"
	case "insufficientPermissions", "authError":
		e.Class = publish.AuthExpired
	case "invalidTitle", "invalidDescription", "invalidTags", "invalidPublishAt", "invalidCategoryId", "invalidVideoMetadata":
		e.Code = errcode.PostInvalid
	case "backendError", "internalError":
		e.Class = publish.Transient
	}
	if e.Class == publish.RateLimited && e.RetryAfter == 0 {
		e.RetryAfter = time.Minute
	}
	return e
}
