// Package linkedin publishes video posts with LinkedIn's Videos and Posts
// APIs: initializeUpload → PUT each part, keeping its ETag → finalizeUpload
// → wait for AVAILABLE → POST /rest/posts (platforms.md §6.3).
package linkedin

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"outpost/internal/errcode"
	"outpost/internal/publish"
	"outpost/internal/publish/internal/wire"
)

// Default endpoints and API version.
const (
	DefaultBaseURL = "https://api.linkedin.com"
	DefaultWebURL  = "https://www.linkedin.com"
	DefaultVersion = "202601"
)

// Limits: third-party figures (platforms.md §6.4); LinkedIn publishes none.
const (
	MaxSize       = 500 << 20
	MinDuration   = 3 * time.Second
	MaxDuration   = 30 * time.Minute
	MaxCommentary = 3000
)

// Client publishes as the member or organization in Account (ID = its
// URN).
type Client struct {
	BaseURL      string
	WebURL       string
	Version      string // LinkedIn-Version, YYYYMM
	HTTP         *http.Client
	PollInterval time.Duration
	PollTimeout  time.Duration
}

var _ publish.Publisher = (*Client)(nil)

// New returns a Client for baseURL ("" for the real API).
func New(baseURL string, hc *http.Client) *Client {
	return &Client{
		BaseURL:      wire.Base(baseURL, DefaultBaseURL),
		WebURL:       wire.WebURL(baseURL, DefaultBaseURL, DefaultWebURL),
		Version:      DefaultVersion,
		HTTP:         wire.Client(hc),
		PollInterval: 5 * time.Second,
		PollTimeout:  5 * time.Minute,
	}
}

// Platform returns "linkedin".
func (c *Client) Platform() string { return ID }

// Features: none native.
func (c *Client) Features() publish.Features { return Descriptor().Features }

// Validate checks the file and the commentary.
func (c *Client) Validate(ctx context.Context, r publish.Rendition, p publish.Post, acct publish.Account) error {
	pr := publish.Problems{Platform: ID}
	switch {
	case r.Size <= 0:
		pr.Add(errcode.PlatformRule, "max_size: the file is empty")
	case r.Size > MaxSize:
		pr.Add(errcode.PlatformRule, "max_size: %d bytes is over LinkedIn's 500 MB", r.Size)
	}
	if r.Duration < MinDuration || r.Duration > MaxDuration {
		pr.Add(errcode.PlatformRule, "duration: LinkedIn takes 3 s to 30 min, this video lasts %s", r.Duration)
	}
	if a := r.Aspect(); a != 0 && (a < 1/2.4-0.001 || a > 2.4+0.001) {
		pr.Add(errcode.PlatformRule, "aspect_ratio: %dx%d is outside 1:2.4 to 2.4:1", r.Width, r.Height)
	}
	Descriptor().CheckPost(&pr, p, time.Now())
	if !strings.HasPrefix(acct.ID, "urn:li:") && acct.ID != "" {
		pr.Add(errcode.PostInvalid, "account: %q is not a LinkedIn URN", acct.ID)
	}
	return pr.Err()
}

// EscapeCommentary applies the "little text" escapes to plain text.
func EscapeCommentary(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`\|{}@[]()<>#*_~`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (c *Client) request(ctx context.Context, method, path string, token string, body any) (*http.Request, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, r)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("LinkedIn-Version", c.Version)
	req.Header.Set("X-Restli-Protocol-Version", "2.0.0")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

// call sends a REST request and decodes a 2xx body into v (when not nil).
func (c *Client) call(ctx context.Context, method, path, token string, body, v any) (*http.Response, error) {
	req, err := c.request(ctx, method, path, token, body)
	if err != nil {
		return nil, err
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, publish.NetError(ID, method+" "+path, err)
	}
	if resp.StatusCode/100 != 2 {
		return resp, apiError(resp)
	}
	if v == nil {
		wire.Discard(resp)
		return resp, nil
	}
	return resp, wire.DecodeJSON(ID, resp, v)
}

// Publish uploads the video parts, finalizes, waits for AVAILABLE and posts.
func (c *Client) Publish(ctx context.Context, j *publish.Job) (publish.Result, error) {
	st, token := j.State, j.Account.AccessToken
	f, size, err := wire.Open(ID, j.Rendition.Path)
	if err != nil {
		return publish.Result{}, err
	}
	defer f.Close()
	if st.MediaID == "" {
		var out struct {
			Value struct {
				Video        string `json:"video"`
				UploadToken  string `json:"uploadToken"`
				Instructions []struct {
					UploadURL string `json:"uploadUrl"`
					FirstByte int64  `json:"firstByte"`
					LastByte  int64  `json:"lastByte"`
				} `json:"uploadInstructions"`
			} `json:"value"`
		}
		in := map[string]any{"initializeUploadRequest": map[string]any{"owner": j.Account.ID, "fileSizeBytes": size,
			"uploadCaptions": false, "uploadThumbnail": false}}
		if _, err := c.call(ctx, http.MethodPost, "/rest/videos?action=initializeUpload", token, in, &out); err != nil {
			return publish.Result{}, err
		}
		st.MediaID, st.UploadID, st.StartedAt = out.Value.Video, out.Value.UploadToken, time.Now()
		st.Parts = nil
		for _, in := range out.Value.Instructions {
			st.Parts = append(st.Parts, publish.Part{URL: in.UploadURL, First: in.FirstByte, Last: in.LastByte})
		}
		// Instructions may come out of order; ETags go back in byte order.
		slices.SortFunc(st.Parts, func(a, b publish.Part) int { return int(a.First - b.First) })
		if err := j.Save(ctx); err != nil {
			return publish.Result{}, err
		}
	}
	prog := wire.NewProgress(j, size)
	for i := range st.Parts {
		if st.Parts[i].ETag != "" {
			prog.Report(st.Parts[i].Last + 1)
			continue
		}
		etag, err := c.putPart(ctx, token, f, st.Parts[i], prog)
		if err != nil {
			return publish.Result{}, err
		}
		st.Parts[i].ETag = etag
		if err := j.Save(ctx); err != nil {
			return publish.Result{}, err
		}
	}
	if !st.IsDone("finalize") {
		ids := make([]string, len(st.Parts))
		for i, p := range st.Parts {
			ids[i] = p.ETag
		}
		in := map[string]any{"finalizeUploadRequest": map[string]any{"video": st.MediaID, "uploadToken": st.UploadID, "uploadedPartIds": ids}}
		if _, err := c.call(ctx, http.MethodPost, "/rest/videos?action=finalizeUpload", token, in, nil); err != nil {
			return publish.Result{}, err
		}
		st.MarkDone("finalize")
		if err := j.Save(ctx); err != nil {
			return publish.Result{}, err
		}
	}
	if st.PostID == "" {
		var state string
		ready, err := wire.Poll(ctx, c.PollInterval, c.PollTimeout, func() (bool, error) {
			var err error
			state, err = c.videoState(ctx, token, st.MediaID)
			return state == "AVAILABLE", err
		})
		if err != nil {
			return publish.Result{Status: publish.StatusFailed, Remote: state}, err
		}
		if !ready {
			return publish.Result{Status: publish.StatusProcessing, Remote: state, PollAfter: c.PollInterval}, nil
		}
		if err := c.post(ctx, j); err != nil {
			return publish.Result{}, err
		}
	}
	return publish.Result{Status: publish.StatusPublished, PostID: st.PostID, PostURL: st.PostURL, Remote: "PUBLISHED"}, nil
}

// putPart uploads one part, retrying it within the call when the
// connection drops or the server fails: parts are independent, so the
// ETags already saved are never sent again.
func (c *Client) putPart(ctx context.Context, token string, f io.ReaderAt, p publish.Part, prog *wire.Progress) (string, error) {
	resume := wire.Resume{Max: 5}
	n := p.Last - p.First + 1
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodPut, p.URL, prog.Reader(io.NewSectionReader(f, p.First, n), p.First))
		if err != nil {
			return "", err
		}
		req.ContentLength = n
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/octet-stream")
		resp, err := c.HTTP.Do(req)
		if wire.Resumable(resp, err) && ctx.Err() == nil && resume.Again(ctx) {
			if resp != nil {
				wire.Discard(resp)
			}
			continue
		}
		if err != nil {
			return "", publish.NetError(ID, "upload part", err)
		}
		if resp.StatusCode/100 != 2 {
			return "", apiError(resp)
		}
		wire.Discard(resp)
		etag := strings.Trim(resp.Header.Get("ETag"), `"`)
		if etag == "" {
			return "", &publish.Error{Platform: ID, Class: publish.Transient, Message: "part upload returned no ETag"}
		}
		return etag, nil
	}
}

// post creates the post once. A previous attempt that may have created it
// without saving the URN is looked up first (that needs r_member_social or
// r_organization_social); without that permission the attempt stops rather
// than risk a second post.
func (c *Client) post(ctx context.Context, j *publish.Job) error {
	st, token := j.State, j.Account.AccessToken
	if st.IsDone("post_attempted") {
		urn, err := c.findPost(ctx, j)
		if err != nil {
			return err
		}
		if urn != "" {
			return c.posted(ctx, j, urn)
		}
	}
	st.MarkDone("post_attempted")
	if err := j.Save(ctx); err != nil {
		return err
	}
	vis, ok := visibility.Choice(j.Post.Privacy)
	if !ok {
		return publish.Invalid(ID, errcode.PostInvalid, "privacy: %q is not a LinkedIn visibility", j.Post.Privacy)
	}
	media := map[string]any{"id": st.MediaID}
	if j.Post.Title != "" {
		media["title"] = j.Post.Title
	}
	body := map[string]any{"author": j.Account.ID, "commentary": EscapeCommentary(j.Post.Text()), "visibility": vis.Remote,
		"distribution":   map[string]any{"feedDistribution": "MAIN_FEED", "targetEntities": []any{}, "thirdPartyDistributionChannels": []any{}},
		"content":        map[string]any{"media": media},
		"lifecycleState": "PUBLISHED", "isReshareDisabledByAuthor": false}
	resp, err := c.call(ctx, http.MethodPost, "/rest/posts", token, body, nil)
	if err != nil {
		return err
	}
	urn := resp.Header.Get("x-restli-id")
	if urn == "" {
		return &publish.Error{Platform: ID, Class: publish.Permanent, Message: "post created without an x-restli-id; check the profile before publishing again"}
	}
	return c.posted(ctx, j, urn)
}

func (c *Client) posted(ctx context.Context, j *publish.Job, urn string) error {
	j.State.PostID, j.State.PostURL = urn, c.WebURL+"/feed/update/"+urn+"/"
	return j.Save(ctx)
}

func (c *Client) findPost(ctx context.Context, j *publish.Job) (string, error) {
	var out struct {
		Elements []struct {
			ID      string `json:"id"`
			Content struct {
				Media struct {
					ID string `json:"id"`
				} `json:"media"`
			} `json:"content"`
		} `json:"elements"`
	}
	q := url.Values{"q": {"author"}, "author": {j.Account.ID}, "count": {"20"}, "sortBy": {"CREATED"}}
	_, err := c.call(ctx, http.MethodGet, "/rest/posts?"+q.Encode(), j.Account.AccessToken, nil, &out)
	if e, ok := publish.AsError(err); ok && e.Status == http.StatusForbidden {
		return "", &publish.Error{Platform: ID, Class: publish.Permanent, Raw: e.Raw, Status: e.Status,
			Message: "an earlier attempt may have created the post and it cannot be looked up without r_member_social; check the profile before publishing again"}
	}
	if err != nil {
		return "", err
	}
	for _, el := range out.Elements {
		if el.Content.Media.ID == j.State.MediaID {
			return el.ID, nil
		}
	}
	return "", nil
}

// videoState returns the video's status; PROCESSING_FAILED is a Permanent
// error.
func (c *Client) videoState(ctx context.Context, token, urn string) (string, error) {
	var v struct {
		Status                  string `json:"status"`
		ProcessingFailureReason string `json:"processingFailureReason"`
	}
	if _, err := c.call(ctx, http.MethodGet, "/rest/videos/"+url.PathEscape(urn), token, nil, &v); err != nil {
		return "", err
	}
	if v.Status == "PROCESSING_FAILED" {
		return v.Status, &publish.Error{Platform: ID, Class: publish.Permanent, Raw: "PROCESSING_FAILED/" + v.ProcessingFailureReason,
			Message: "LinkedIn could not process the video: " + v.ProcessingFailureReason}
	}
	return v.Status, nil
}

// Status reports the post, or the video's processing while there is none
// (an AVAILABLE video is still processing from the user's view: Publish
// creates the post next).
func (c *Client) Status(ctx context.Context, acct publish.Account, st publish.State) (publish.Result, error) {
	res := publish.Result{PostID: st.PostID, PostURL: st.PostURL}
	switch {
	case st.PostID != "":
		res.Status, res.Remote = publish.StatusPublished, "PUBLISHED"
		return res, nil
	case st.MediaID == "" || !st.IsDone("finalize"):
		res.Status = publish.StatusUploading
		return res, nil
	}
	state, err := c.videoState(ctx, acct.AccessToken, st.MediaID)
	res.Remote, res.Status = state, publish.StatusProcessing
	if err != nil && state == "PROCESSING_FAILED" {
		res.Status = publish.StatusFailed
	}
	return res, err
}

// Accounts returns the token's member.
func (c *Client) Accounts(ctx context.Context, token string) ([]publish.RemoteAccount, error) {
	m, err := c.Me(ctx, token)
	if err != nil {
		return nil, err
	}
	return []publish.RemoteAccount{{ID: m.URN, Name: m.Name, AvatarURL: m.PictureURL}}, nil
}

// Member is the connected member.
type Member struct {
	URN, Name, PictureURL string
}

// Me returns the token's member (GET /v2/userinfo).
func (c *Client) Me(ctx context.Context, token string) (Member, error) {
	var u struct {
		Sub     string `json:"sub"`
		Name    string `json:"name"`
		Picture string `json:"picture"`
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.BaseURL+"/v2/userinfo", nil)
	if err != nil {
		return Member{}, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return Member{}, publish.NetError(ID, "get userinfo", err)
	}
	if resp.StatusCode != http.StatusOK {
		return Member{}, apiError(resp)
	}
	if err := wire.DecodeJSON(ID, resp, &u); err != nil {
		return Member{}, err
	}
	return Member{URN: "urn:li:person:" + u.Sub, Name: u.Name, PictureURL: u.Picture}, nil
}

// apiError classifies a LinkedIn REST error (platforms.md §2, §6.4).
func apiError(resp *http.Response) *publish.Error {
	body := wire.ReadBody(resp)
	var env struct {
		Status           int    `json:"status"`
		ServiceErrorCode int    `json:"serviceErrorCode"`
		Code             string `json:"code"`
		Message          string `json:"message"`
	}
	_ = json.Unmarshal(body, &env)
	raw := env.Code
	if raw == "" && env.ServiceErrorCode != 0 {
		raw = fmt.Sprint(env.ServiceErrorCode)
	}
	e := publish.HTTPError(ID, resp, raw, env.Message)
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		// No Retry-After: daily limits reset at midnight UTC.
		if e.RetryAfter == 0 {
			e.RetryAfter = time.Minute
			if strings.Contains(env.Message, "DAY") {
				e.RetryAfter = publish.NextMidnight(time.Now(), time.UTC)
			}
		}
	case resp.StatusCode == http.StatusUnprocessableEntity && strings.Contains(env.Message, "commentary"):
		e.Code = errcode.CaptionTooLong
	}
	return e
}
