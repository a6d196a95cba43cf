// Package tiktok publishes videos with TikTok's Content Posting API:
// creator_info → video/init (FILE_UPLOAD with a chunk plan) → PUT chunks in
// order with Content-Range → status/fetch until PUBLISH_COMPLETE
// (platforms.md §7.3).
package tiktok

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"outpost/internal/errcode"
	"outpost/internal/publish"
	"outpost/internal/publish/internal/wire"
)

// Default endpoints.
const (
	DefaultBaseURL = "https://open.tiktokapis.com"
	DefaultWebURL  = "https://www.tiktok.com"
)

// Limits (platforms.md §1, §7).
const (
	MaxSize        = 4 << 30
	MaxAPIDuration = 10 * time.Minute
	MaxTitle       = 2200 // UTF-16 code units
	MinSide        = 360
	MaxSide        = 4096
)

// Privacy levels.
const (
	PublicToEveryone    = "PUBLIC_TO_EVERYONE"
	MutualFollowFriends = "MUTUAL_FOLLOW_FRIENDS"
	FollowerOfCreator   = "FOLLOWER_OF_CREATOR"
	SelfOnly            = "SELF_ONLY"
)

// Client publishes to the creator whose token is in Account (ID = open_id).
type Client struct {
	BaseURL string
	WebURL  string
	HTTP    *http.Client
	// Files up to SingleMax go in one chunk; larger ones in ChunkSize
	// chunks, the remainder in the last (the production plan clients use).
	SingleMax int64
	ChunkSize int64
	// PollInterval keeps status/fetch under its 30 requests/min.
	PollInterval time.Duration
	PollTimeout  time.Duration
}

var _ publish.Publisher = (*Client)(nil)

// New returns a Client for baseURL ("" for the real API).
func New(baseURL string, hc *http.Client) *Client {
	return &Client{
		BaseURL:      wire.Base(baseURL, DefaultBaseURL),
		WebURL:       wire.WebURL(baseURL, DefaultBaseURL, DefaultWebURL),
		HTTP:         wire.Client(hc),
		SingleMax:    64 << 20,
		ChunkSize:    10 << 20,
		PollInterval: 5 * time.Second,
		PollTimeout:  3 * time.Minute,
	}
}

// Platform returns "tiktok".
func (c *Client) Platform() string { return ID }

// Features: none native.
func (c *Client) Features() publish.Features { return Descriptor().Features }

// Plan returns the chunk size and count for a file: whole when it fits
// single, else chunk-sized chunks with the remainder in the last
// (count = floor(size / chunk)).
func Plan(size, single, chunk int64) (chunkSize, count int64) {
	if size <= single || size < chunk {
		return size, 1
	}
	return chunk, size / chunk
}

// Privacy maps a post's privacy (a choice of the privacy field, or one of
// TikTok's own privacy_level values) to TikTok's privacy_level.
func Privacy(p string) string {
	if c, ok := privacy.Choice(p); ok {
		return c.Remote
	}
	return p
}

// CreatorInfo is what creator_info/query returns.
type CreatorInfo struct {
	AvatarURL           string   `json:"creator_avatar_url"`
	Username            string   `json:"creator_username"`
	Nickname            string   `json:"creator_nickname"`
	PrivacyLevelOptions []string `json:"privacy_level_options"`
	CommentDisabled     bool     `json:"comment_disabled"`
	DuetDisabled        bool     `json:"duet_disabled"`
	StitchDisabled      bool     `json:"stitch_disabled"`
	MaxVideoPostSec     int      `json:"max_video_post_duration_sec"`
}

// CreatorInfo queries the creator (mandatory before each post).
func (c *Client) CreatorInfo(ctx context.Context, token string) (CreatorInfo, error) {
	var ci CreatorInfo
	err := c.call(ctx, token, "/v2/post/publish/creator_info/query/", nil, &ci)
	return ci, err
}

// Validate checks the file and title, and asks creator_info for the
// creator's duration limit and privacy options.
func (c *Client) Validate(ctx context.Context, r publish.Rendition, p publish.Post, acct publish.Account) error {
	pr := publish.Problems{Platform: ID}
	switch {
	case r.Size <= 0:
		pr.Add(errcode.PlatformRule, "max_size: the file is empty")
	case r.Size > MaxSize:
		pr.Add(errcode.PlatformRule, "max_size: %d bytes is over TikTok's 4 GB", r.Size)
	}
	if r.Width != 0 && (min(r.Width, r.Height) < MinSide || max(r.Width, r.Height) > MaxSide) {
		pr.Add(errcode.PlatformRule, "resolution: TikTok takes 360 to 4096 px a side, this video is %dx%d", r.Width, r.Height)
	}
	if r.FrameRate != 0 && (r.FrameRate < 22.9 || r.FrameRate > 60.01) {
		pr.Add(errcode.PlatformRule, "frame_rate: TikTok takes 23 to 60 fps, this video is %.2f", r.FrameRate)
	}
	Descriptor().CheckPost(&pr, p, time.Now())
	if err := pr.Err(); err != nil {
		return err
	}
	ci, err := c.CreatorInfo(ctx, acct.AccessToken)
	if err != nil {
		return err
	}
	maxDur := MaxAPIDuration
	if ci.MaxVideoPostSec > 0 {
		maxDur = min(maxDur, time.Duration(ci.MaxVideoPostSec)*time.Second)
	}
	if r.Duration > maxDur {
		pr.Add(errcode.PlatformRule, "max_duration: %s is over this creator's %s", r.Duration, maxDur)
	}
	if lvl := Privacy(p.Privacy); !slices.Contains(ci.PrivacyLevelOptions, lvl) {
		pr.Add(errcode.PostInvalid, "privacy: %s is not offered to this creator (options: %s)", lvl, strings.Join(ci.PrivacyLevelOptions, ", "))
	}
	return pr.Err()
}

// envelope is every v2 response: {"data":…,"error":{"code","message","log_id"}}.
type envelope struct {
	Data  json.RawMessage `json:"data"`
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		LogID   string `json:"log_id"`
	} `json:"error"`
}

// call POSTs a JSON body and decodes data into v.
func (c *Client) call(ctx context.Context, token, path string, body, v any) error {
	var r io.Reader = http.NoBody
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.BaseURL+path, r)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json; charset=UTF-8")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return publish.NetError(ID, path, err)
	}
	raw := wire.ReadBody(resp)
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil || env.Error.Code == "" {
		e := publish.HTTPError(ID, resp, "", fmt.Sprintf("%s: %.200q", resp.Status, raw))
		if resp.StatusCode/100 == 2 {
			e.Class = publish.Transient
		}
		return e
	}
	if env.Error.Code != "ok" {
		return classify(resp, env.Error.Code, env.Error.Message+" (log_id "+env.Error.LogID+")")
	}
	if v != nil && len(env.Data) > 0 {
		if err := json.Unmarshal(env.Data, v); err != nil {
			return &publish.Error{Platform: ID, Class: publish.Transient, Message: "decode data: " + err.Error()}
		}
	}
	return nil
}

// classify maps TikTok error codes (platforms.md §7.2); spam_risk_* and
// posting-policy codes are never retried.
func classify(resp *http.Response, code, msg string) *publish.Error {
	e := publish.HTTPError(ID, resp, code, msg)
	switch code {
	case "access_token_invalid", "scope_not_authorized", "scope_permission_missed":
		e.Class = publish.AuthExpired
	case "rate_limit_exceeded":
		e.Class = publish.RateLimited
		if e.RetryAfter == 0 {
			e.RetryAfter = time.Minute
		}
	case "internal_error":
		e.Class = publish.Transient
	case "privacy_level_option_mismatch", "invalid_params", "invalid_param":
		e.Class, e.Code = publish.Permanent, errcode.PostInvalid
	default:
		if resp.StatusCode/100 == 4 && resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusUnauthorized {
			e.Class = publish.Permanent
		}
	}
	return e
}

type status struct {
	Status        string  `json:"status"`
	FailReason    string  `json:"fail_reason"`
	PublicIDs     []int64 `json:"publicaly_available_post_id"`
	UploadedBytes int64   `json:"uploaded_bytes"`
}

func (c *Client) fetch(ctx context.Context, token, publishID string) (status, error) {
	var s status
	err := c.call(ctx, token, "/v2/post/publish/status/fetch/", map[string]string{"publish_id": publishID}, &s)
	return s, err
}

// Publish queries the creator, inits the upload, sends the chunks and waits
// for PUBLISH_COMPLETE.
func (c *Client) Publish(ctx context.Context, j *publish.Job) (publish.Result, error) {
	st, token := j.State, j.Account.AccessToken
	f, size, err := wire.Open(ID, j.Rendition.Path)
	if err != nil {
		return publish.Result{}, err
	}
	defer f.Close()
	fresh := st.MediaID == ""
	if fresh {
		ci, err := c.CreatorInfo(ctx, token)
		if err != nil {
			return publish.Result{}, err
		}
		chunk, count := Plan(size, c.SingleMax, c.ChunkSize)
		p := j.Post
		in := map[string]any{
			"post_info": map[string]any{"title": p.Text(), "privacy_level": Privacy(p.Privacy),
				"disable_comment": !p.AllowComments || ci.CommentDisabled, "disable_duet": !p.AllowDuet || ci.DuetDisabled,
				"disable_stitch": !p.AllowStitch || ci.StitchDisabled, "video_cover_timestamp_ms": 1000,
				"brand_content_toggle": false, "brand_organic_toggle": false, "is_aigc": p.AIGenerated},
			"source_info": map[string]any{"source": "FILE_UPLOAD", "video_size": size, "chunk_size": chunk, "total_chunk_count": count},
		}
		var out struct {
			PublishID string `json:"publish_id"`
			UploadURL string `json:"upload_url"`
		}
		if err := c.call(ctx, token, "/v2/post/publish/video/init/", in, &out); err != nil {
			return publish.Result{}, err
		}
		st.MediaID, st.SessionURL, st.StartedAt, st.Offset = out.PublishID, out.UploadURL, time.Now(), 0
		st.Set("chunk_size", strconv.FormatInt(chunk, 10))
		st.Set("username", ci.Username)
		if err := j.Save(ctx); err != nil {
			return publish.Result{}, err
		}
	}
	if !st.IsDone("upload") {
		if err := c.upload(ctx, j, f, size, fresh); err != nil {
			return publish.Result{}, err
		}
	}
	var res publish.Result
	_, err = wire.Poll(ctx, c.PollInterval, c.PollTimeout, func() (bool, error) {
		var err error
		res, err = c.Status(ctx, j.Account, *st)
		return res.Status != publish.StatusProcessing, err
	})
	if err == nil && res.PostURL != st.PostURL {
		st.PostID, st.PostURL = res.PostID, res.PostURL
		err = j.Save(ctx)
	}
	if res.Status == publish.StatusProcessing {
		res.PollAfter = c.PollInterval
	}
	return res, err
}

// upload sends the chunks in order from what the server holds.
func (c *Client) upload(ctx context.Context, j *publish.Job, f io.ReaderAt, size int64, fresh bool) error {
	st, token := j.State, j.Account.AccessToken
	chunk, _ := strconv.ParseInt(st.Get("chunk_size"), 10, 64)
	if chunk <= 0 {
		chunk = size
	}
	count := max(size/chunk, 1)
	prog := wire.NewProgress(j, size)
	resume := wire.Resume{Max: 5}
	offset, synced := int64(0), fresh
	for {
		if !synced {
			s, err := c.fetch(ctx, token, st.MediaID)
			if err != nil {
				if publish.ClassOf(err) == publish.Transient && resume.Again(ctx) {
					continue
				}
				return err
			}
			offset, synced = min(s.UploadedBytes/chunk*chunk, (count-1)*chunk), true
			if s.UploadedBytes >= size {
				offset = size
			}
		}
		if offset >= size {
			break
		}
		n := chunk
		if offset/chunk >= count-1 {
			n = size - offset
		}
		prog.Report(offset)
		req, err := http.NewRequestWithContext(ctx, http.MethodPut, st.SessionURL, prog.Reader(io.NewSectionReader(f, offset, n), offset))
		if err != nil {
			return err
		}
		req.ContentLength = n
		req.Header.Set("Content-Type", typ(j.Rendition.Type()))
		req.Header.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", offset, offset+n-1, size))
		resp, err := c.HTTP.Do(req)
		if wire.Resumable(resp, err) && ctx.Err() == nil && resume.Again(ctx) {
			if resp != nil {
				wire.Discard(resp)
			}
			synced = false
			continue
		}
		if err != nil {
			return publish.NetError(ID, "upload chunk", err)
		}
		switch resp.StatusCode {
		case http.StatusOK, http.StatusCreated, http.StatusPartialContent:
			wire.Discard(resp)
		case http.StatusNotFound, http.StatusForbidden:
			// The upload URL expired (it lives an hour): start again with
			// a new init; the unfinished publish never posts.
			e := apiErrorBody(resp)
			*st = publish.State{}
			if err := j.Save(ctx); err != nil {
				return err
			}
			e.Class, e.Message = publish.Transient, "upload URL expired; the next attempt starts a new upload: "+e.Message
			return e
		default:
			return apiErrorBody(resp)
		}
		resume.Progressed()
		offset += n
		st.Offset = offset
		if err := j.Save(ctx); err != nil {
			return err
		}
	}
	prog.Report(size)
	st.MarkDone("upload")
	return j.Save(ctx)
}

func typ(t string) string {
	if t == "video/quicktime" || t == "video/webm" {
		return t
	}
	return "video/mp4"
}

func apiErrorBody(resp *http.Response) *publish.Error {
	raw := wire.ReadBody(resp)
	var env envelope
	if json.Unmarshal(raw, &env) == nil && env.Error.Code != "" {
		return classify(resp, env.Error.Code, env.Error.Message)
	}
	return publish.HTTPError(ID, resp, "", resp.Status)
}

// Status fetches the publish status.
func (c *Client) Status(ctx context.Context, acct publish.Account, st publish.State) (publish.Result, error) {
	res := publish.Result{PostID: st.PostID, PostURL: st.PostURL, Status: publish.StatusUploading}
	if st.MediaID == "" {
		return res, nil
	}
	s, err := c.fetch(ctx, acct.AccessToken, st.MediaID)
	if err != nil {
		return res, err
	}
	res.Remote = s.Status
	profile := c.WebURL + "/@" + st.Get("username")
	switch s.Status {
	case "PUBLISH_COMPLETE":
		res.Status = publish.StatusPublished
		if len(s.PublicIDs) > 0 {
			res.PostID = strconv.FormatInt(s.PublicIDs[0], 10)
			res.PostURL = profile + "/video/" + res.PostID
		} else if res.PostURL == "" {
			// Private posts (and public ones before moderation) have no id.
			res.PostURL = profile
		}
	case "SEND_TO_USER_INBOX":
		res.Status = publish.StatusPublished
		if res.PostURL == "" {
			res.PostURL = profile
		}
	case "FAILED":
		res.Status = publish.StatusFailed
		return res, &publish.Error{Platform: ID, Class: publish.Permanent, Raw: s.FailReason,
			Message: "TikTok rejected the video: " + s.FailReason}
	case "PROCESSING_UPLOAD", "PROCESSING_DOWNLOAD":
		res.Status = publish.StatusProcessing
		if !st.IsDone("upload") {
			res.Status = publish.StatusUploading
		}
	default:
		res.Status = publish.StatusProcessing
	}
	return res, nil
}

// Accounts returns the token's creator.
func (c *Client) Accounts(ctx context.Context, token string) ([]publish.RemoteAccount, error) {
	u, err := c.Me(ctx, token)
	if err != nil {
		return nil, err
	}
	return []publish.RemoteAccount{{ID: u.OpenID, Name: cmp.Or(u.DisplayName, u.Username), AvatarURL: u.AvatarURL}}, nil
}

// User is the connected creator.
type User struct {
	OpenID, DisplayName, Username, AvatarURL string
}

// Me returns the token's user (GET /v2/user/info/).
func (c *Client) Me(ctx context.Context, token string) (User, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.BaseURL+"/v2/user/info/?fields=open_id,display_name,avatar_url,username", nil)
	if err != nil {
		return User{}, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return User{}, publish.NetError(ID, "get user info", err)
	}
	raw := wire.ReadBody(resp)
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil || env.Error.Code == "" {
		return User{}, publish.HTTPError(ID, resp, "", resp.Status)
	}
	if env.Error.Code != "ok" {
		return User{}, classify(resp, env.Error.Code, env.Error.Message)
	}
	var d struct {
		User struct {
			OpenID      string `json:"open_id"`
			DisplayName string `json:"display_name"`
			Username    string `json:"username"`
			AvatarURL   string `json:"avatar_url"`
		} `json:"user"`
	}
	_ = json.Unmarshal(env.Data, &d)
	return User{OpenID: d.User.OpenID, DisplayName: d.User.DisplayName, Username: d.User.Username, AvatarURL: d.User.AvatarURL}, nil
}
