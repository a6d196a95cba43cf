// Package publish defines what every platform client provides: the Publisher
// interface, the facts a client is given (Rendition, Post, Account), the
// remote ids it saves between steps (State), and the error classes the job
// layer acts on (Error). One sub-package per platform implements it against
// the platform's real protocol; base URL and *http.Client are injected, so
// the same client talks to the real platform or to the sandbox emulators.
//
// Clients retry nothing themselves, with one exception: an interrupted chunk
// upload is resumed within one Publish call by asking the platform how many
// bytes it holds. Everything else is left to the job layer, which retries
// Transient errors with backoff, snoozes RateLimited ones until RetryAfter,
// refreshes the token once on AuthExpired and gives up on Permanent ones.
package publish

import (
	"context"
	"strings"
	"time"

	"outpost/internal/media"
)

// Publisher is one platform's client.
type Publisher interface {
	// Platform returns the platform's id (its Descriptor's ID).
	Platform() string
	// Features says what the platform does natively.
	Features() Features
	// Validate checks the rendition and the post text against the platform's
	// rules and the account's limits before any byte is sent. Failures are
	// Permanent *Error values with a message naming the rule. It may call
	// the platform (TikTok's creator_info decides duration and privacy).
	Validate(ctx context.Context, r Rendition, p Post, acct Account) error
	// Publish runs the upload and post creation from wherever j.State says
	// the last attempt stopped, saving the state through j.SaveFunc after
	// every step. It returns StatusPublished or StatusScheduled when the post
	// exists, or StatusProcessing when the platform is still processing
	// after the client's poll budget: call Publish again later with the same
	// state to finish. A retry never creates a second post.
	Publish(ctx context.Context, j *Job) (Result, error)
	// Status reports the remote state of a publication from its saved state
	// without changing anything.
	Status(ctx context.Context, acct Account, st State) (Result, error)
	// Accounts returns who the access token of a fresh grant may post as:
	// the user's channel or profile, or a Facebook user's Pages.
	Accounts(ctx context.Context, accessToken string) ([]RemoteAccount, error)
}

// Features are the platform's native capabilities. Where NativeSchedule is
// false the job layer holds the publication until Post.ScheduleAt itself.
type Features struct {
	NativeSchedule bool
	// MinScheduleAhead is how far ahead a native schedule must be
	// (Facebook: 10 minutes; its client asks the job layer for a minute
	// more); closer, the job layer waits and posts then.
	MinScheduleAhead time.Duration
	// MaxScheduleAhead, when set, is how far ahead it may be at most;
	// further, the job layer waits for the time and posts then.
	MaxScheduleAhead time.Duration
	Thumbnail        bool
	Captions         bool
}

// Rendition is the local file to upload and what ffprobe says about it.
type Rendition struct {
	Path        string
	Size        int64
	Duration    time.Duration
	Width       int
	Height      int
	FrameRate   float64
	VideoCodec  string
	AudioCodec  string
	ContentType string // "video/mp4" when empty
}

// RenditionFrom builds a Rendition from a probed file.
func RenditionFrom(path string, info *media.Info) Rendition {
	r := Rendition{
		Path:     path,
		Size:     info.SizeBytes,
		Duration: time.Duration(info.Duration * float64(time.Second)),
	}
	if v := info.Video; v != nil {
		r.Width, r.Height, r.FrameRate, r.VideoCodec = v.Width, v.Height, v.FrameRate, v.Codec
	}
	if a := info.Audio; a != nil {
		r.AudioCodec = a.Codec
	}
	if info.FormatName != "" && !strings.Contains(info.FormatName, "mp4") && strings.Contains(info.FormatName, "webm") {
		r.ContentType = "video/webm"
	}
	return r
}

// Type returns the rendition's MIME type.
func (r Rendition) Type() string {
	if r.ContentType == "" {
		return "video/mp4"
	}
	return r.ContentType
}

// Aspect returns width/height, or 0 when unknown.
func (r Rendition) Aspect() float64 {
	if r.Height == 0 {
		return 0
	}
	return float64(r.Width) / float64(r.Height)
}

// Post is what the user wrote for one destination.
type Post struct {
	// Title: YouTube title, Facebook video title, LinkedIn media title.
	Title string
	// Description: YouTube description, Facebook description.
	Description string
	// Caption: Instagram caption, LinkedIn commentary, TikTok title; when
	// empty those platforms use Description.
	Caption string
	Tags    []string
	// Privacy: public, unlisted, private; TikTok also takes friends,
	// followers or its own PRIVACY_LEVEL values; LinkedIn connections.
	Privacy string
	// ScheduleAt, when set and in the future, asks for native scheduling
	// (YouTube publishAt, Facebook scheduled_publish_time). Platforms
	// without it reject a future time in Validate; the job layer waits.
	ScheduleAt time.Time
	// Format selects Facebook's flow: "reel" for Reels, else a Page video.
	Format string
	// ThumbnailPath is a JPEG or PNG; CaptionsPath a subtitle file for
	// CaptionsLanguage (BCP 47, "en" when empty).
	ThumbnailPath    string
	CaptionsPath     string
	CaptionsLanguage string
	// TikTok interaction settings (off by default: the UX rules require the
	// user to turn them on).
	AllowComments bool
	AllowDuet     bool
	AllowStitch   bool
	// AIGenerated marks synthetic media (YouTube containsSyntheticMedia,
	// TikTok is_aigc, Instagram is_ai_generated).
	AIGenerated bool
}

// Text returns Caption, or Description when Caption is empty.
func (p Post) Text() string {
	if p.Caption != "" {
		return p.Caption
	}
	return p.Description
}

// Account is the connected account a post goes to.
type Account struct {
	// ID is the YouTube channel id, Facebook Page id, Instagram user id,
	// LinkedIn member or organization URN, or TikTok open_id.
	ID   string
	Name string
	// AccessToken is the bearer token (the Page token for Facebook).
	AccessToken string
	Limits      Limits
}

// Limits are per-account overrides of the platform's defaults; zero keeps
// the default.
type Limits struct {
	MaxDuration time.Duration // e.g. 12 h for a verified YouTube channel
	MaxSize     int64
}

// Job is one Publish attempt.
type Job struct {
	Rendition Rendition
	Post      Post
	Account   Account
	// State is what earlier attempts saved (zero for the first); Publish
	// updates it in place.
	State *State
	// SaveFunc persists the state; it is called after every step, before
	// the next request that depends on it. An error stops the attempt.
	SaveFunc func(ctx context.Context, st State) error
	// ProgressFunc, when set, receives bytes sent of total.
	ProgressFunc func(sent, total int64)
}

// Save persists j.State through SaveFunc.
func (j *Job) Save(ctx context.Context) error {
	if j.SaveFunc == nil {
		return nil
	}
	return j.SaveFunc(ctx, *j.State)
}

// Progress reports bytes sent.
func (j *Job) Progress(sent, total int64) {
	if j.ProgressFunc != nil {
		j.ProgressFunc(sent, total)
	}
}

// State holds the remote ids of a publication, saved after each step. It
// is plain data, stored as JSON by the job layer.
type State struct {
	// SessionURL: YouTube upload session URI, TikTok upload_url, the
	// rupload URI of a Facebook Reel or Instagram container.
	SessionURL string `json:"session_url,omitempty"`
	// UploadID: Facebook upload_session_id, LinkedIn uploadToken.
	UploadID string `json:"upload_id,omitempty"`
	// MediaID: YouTube video id, Facebook video id, Instagram container id,
	// LinkedIn video URN, TikTok publish_id.
	MediaID string `json:"media_id,omitempty"`
	// Offset is how many bytes the platform has confirmed.
	Offset int64 `json:"offset,omitempty"`
	// Parts are LinkedIn's upload instructions with the ETags received.
	Parts []Part `json:"parts,omitempty"`
	// Done records finished side steps ("thumbnail", "finish", …).
	Done map[string]bool `json:"done,omitempty"`
	// Extra keeps small platform-specific values.
	Extra map[string]string `json:"extra,omitempty"`
	// PostID and PostURL are set once the post exists.
	PostID  string `json:"post_id,omitempty"`
	PostURL string `json:"post_url,omitempty"`
	// StartedAt is when the first remote object was created.
	StartedAt time.Time `json:"started_at,omitzero"`
}

// Part is one byte range of a multi-part upload.
type Part struct {
	URL   string `json:"url"`
	First int64  `json:"first"`
	Last  int64  `json:"last"`
	ETag  string `json:"etag,omitempty"`
}

// IsDone reports whether step was recorded.
func (s *State) IsDone(step string) bool { return s.Done[step] }

// MarkDone records step.
func (s *State) MarkDone(step string) {
	if s.Done == nil {
		s.Done = map[string]bool{}
	}
	s.Done[step] = true
}

// Get returns an Extra value.
func (s *State) Get(k string) string { return s.Extra[k] }

// Set stores an Extra value.
func (s *State) Set(k, v string) {
	if s.Extra == nil {
		s.Extra = map[string]string{}
	}
	s.Extra[k] = v
}

// Status is where a publication stands remotely.
type Status string

// The statuses a Result reports.
const (
	StatusUploading  Status = "uploading"
	StatusProcessing Status = "processing"
	StatusPublished  Status = "published"
	StatusScheduled  Status = "scheduled"
	StatusFailed     Status = "failed"
)

// Result is the outcome of Publish or Status.
type Result struct {
	Status  Status
	PostID  string
	PostURL string
	// PollAfter suggests when to call Publish again while processing.
	PollAfter time.Duration
	// Remote is the platform's own status word (processing, FINISHED, …).
	Remote string
	// Warnings are non-fatal failures (a thumbnail the channel may not set).
	Warnings []string
	// QuotaUnits is what this call spent of a unit quota (YouTube).
	QuotaUnits int
}
