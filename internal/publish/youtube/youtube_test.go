package youtube_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"outpost/internal/errcode"
	"outpost/internal/publish"
	"outpost/internal/publish/internal/pubtest"
	"outpost/internal/publish/youtube"
	"outpost/internal/sandbox"
	"outpost/internal/waitfor"
)

const size = 700 << 10 // three 256 KiB chunks, the last one short

func setup(t *testing.T, opts sandbox.Options) (*pubtest.Env, *youtube.Client, publish.Account) {
	t.Helper()
	e := pubtest.Start(t, opts)
	c := youtube.New(e.URL, e.HTTP)
	c.ChunkSize = 256 << 10
	c.PollInterval, c.PollTimeout = 10*time.Millisecond, 5*time.Second
	return e, c, publish.Account{ID: sandbox.YouTubeChannelID, AccessToken: e.SB.IssueToken(sandbox.YouTube)}
}

func post() publish.Post {
	return publish.Post{Title: "Spring launch", Description: "Watch https://example.com/x", Tags: []string{"launch", "spring sale"}, Privacy: "public"}
}

func TestClient_Publish(t *testing.T) {
	t.Parallel()
	e, c, acct := setup(t, sandbox.Options{})
	path, sum := pubtest.File(t, size)
	dir := t.TempDir()
	thumb := filepath.Join(dir, "thumb.jpg")
	_ = os.WriteFile(thumb, []byte("\xff\xd8\xff\xe0fake jpeg"), 0o644)
	subs := filepath.Join(dir, "en.srt")
	_ = os.WriteFile(subs, []byte("1\n00:00:00,000 --> 00:00:01,000\nHello\n"), 0o644)
	p := post()
	p.ThumbnailPath, p.CaptionsPath = thumb, subs
	var s pubtest.Store
	var sent []int64
	j := s.Job(t, pubtest.Rendition(path, size), p, acct)
	j.ProgressFunc = func(n, total int64) { sent = append(sent, n) }
	if err := c.Validate(context.Background(), j.Rendition, p, acct); err != nil {
		t.Fatal(err)
	}
	res, err := c.Publish(context.Background(), j)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != publish.StatusPublished || !strings.HasPrefix(res.PostURL, e.URL+"/watch?v=") {
		t.Errorf("result %+v", res)
	}
	if want := youtube.CostInsert + youtube.CostThumbnail + youtube.CostCaption + youtube.CostList; res.QuotaUnits != want {
		t.Errorf("quota units %d, want %d", res.QuotaUnits, want)
	}
	if got := e.SB.QuotaUsed(sandbox.DefaultClient(sandbox.YouTube).ID); got != res.QuotaUnits {
		t.Errorf("sandbox charged %d units, client counted %d", got, res.QuotaUnits)
	}
	got := e.ExpectOne(t, sandbox.YouTube, sum)
	if got.Title != p.Title || !got.Thumbnail || len(got.Captions) != 1 || got.Status != "published" {
		t.Errorf("post %+v", got)
	}
	if len(sent) == 0 || sent[len(sent)-1] != size {
		t.Errorf("progress %v, want it to end at %d", sent, size)
	}
}

func TestClient_Publish_resetMidChunk(t *testing.T) {
	t.Parallel()
	e, c, acct := setup(t, sandbox.Options{})
	c.ChunkSize = 512 << 10 // the reset keeps 256 KiB of the first chunk
	e.Inject(t, sandbox.Fault{Platform: sandbox.YouTube, Kind: sandbox.FaultReset})
	path, sum := pubtest.File(t, size)
	var s pubtest.Store
	res, err := c.Publish(context.Background(), s.Job(t, pubtest.Rendition(path, size), post(), acct))
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != publish.StatusPublished {
		t.Errorf("status %s", res.Status)
	}
	if f := e.SB.Faults(); len(f) != 0 {
		t.Errorf("reset never happened: %+v", f)
	}
	// The 256 KiB the server kept of the cut chunk are not sent again.
	if sent, most := e.Sent(), int64(512<<10+size-256<<10+4<<10); sent > most {
		t.Errorf("sent %d bytes, want at most %d (finished bytes re-sent?)", sent, most)
	}
	e.ExpectOne(t, sandbox.YouTube, sum)
}

func TestClient_Publish_crashBetweenSteps(t *testing.T) {
	t.Parallel()
	path, _ := pubtest.File(t, size)
	newEnv := func(t *testing.T) *pubtest.Env { e, _, _ := setup(t, sandbox.Options{}); return e }
	pubtest.CrashEverywhere(t, newEnv, sandbox.YouTube, func(t *testing.T, e *pubtest.Env, s *pubtest.Store) (publish.Result, error) {
		c := youtube.New(e.URL, e.HTTP)
		c.ChunkSize, c.PollInterval = 256<<10, 10*time.Millisecond
		acct := publish.Account{AccessToken: e.SB.IssueToken(sandbox.YouTube)}
		return c.Publish(context.Background(), s.Job(t, pubtest.Rendition(path, size), post(), acct))
	})
}

func TestClient_Publish_faults(t *testing.T) {
	t.Parallel()
	path, _ := pubtest.File(t, 300<<10)
	tests := []struct {
		name  string
		fault sandbox.Fault
		class publish.Class
		check func(t *testing.T, e *publish.Error)
	}{
		{"429", sandbox.Fault{Platform: sandbox.YouTube, Kind: sandbox.FaultRateLimit, RetryAfter: 42}, publish.RateLimited,
			func(t *testing.T, e *publish.Error) {
				if e.RetryAfter != 42*time.Second {
					t.Errorf("RetryAfter %s", e.RetryAfter)
				}
			}},
		{"quota", sandbox.Fault{Platform: sandbox.YouTube, Kind: sandbox.FaultQuota}, publish.RateLimited,
			func(t *testing.T, e *publish.Error) {
				if e.Raw != "quotaExceeded" || e.RetryAfter <= 0 || e.RetryAfter > 25*time.Hour {
					t.Errorf("raw %q RetryAfter %s", e.Raw, e.RetryAfter)
				}
			}},
		{"5xx", sandbox.Fault{Platform: sandbox.YouTube, Kind: sandbox.FaultServerError, Op: "init"}, publish.Transient, nil},
		{"expired", sandbox.Fault{Platform: sandbox.YouTube, Kind: sandbox.FaultExpireToken}, publish.AuthExpired,
			func(t *testing.T, e *publish.Error) {
				if errcode.Of(e) != errcode.ConnectionExpired {
					t.Errorf("code %s", errcode.Of(e))
				}
			}},
		{"rejected", sandbox.Fault{Platform: sandbox.YouTube, Kind: sandbox.FaultReject, Reason: "duplicate"}, publish.Permanent,
			func(t *testing.T, e *publish.Error) {
				if e.Raw != "rejected/duplicate" || errcode.Of(e) != errcode.PlatformRejected {
					t.Errorf("raw %q code %s", e.Raw, errcode.Of(e))
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e, c, acct := setup(t, sandbox.Options{})
			e.Inject(t, tt.fault)
			var s pubtest.Store
			_, err := c.Publish(context.Background(), s.Job(t, pubtest.Rendition(path, 300<<10), post(), acct))
			pe := pubtest.Class(t, err, tt.class)
			if tt.check != nil {
				tt.check(t, pe)
			}
		})
	}
}

func TestClient_Publish_scheduledAndSlow(t *testing.T) {
	t.Parallel()
	e, c, acct := setup(t, sandbox.Options{})
	c.PollTimeout = 50 * time.Millisecond
	e.Inject(t, sandbox.Fault{Platform: sandbox.YouTube, Kind: sandbox.FaultSlowProcessing, DelayMS: 400})
	path, _ := pubtest.File(t, 300<<10)
	p := post()
	p.ScheduleAt = time.Now().Add(48 * time.Hour)
	var s pubtest.Store
	res, err := c.Publish(context.Background(), s.Job(t, pubtest.Rendition(path, 300<<10), p, acct))
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != publish.StatusProcessing || res.PollAfter == 0 {
		t.Fatalf("status %s, want processing with PollAfter", res.Status)
	}
	waitfor.True(t, 10*time.Second, func() bool {
		p := e.SB.Posts(sandbox.YouTube)
		return len(p) == 1 && p[0].Status != "processing"
	}, "YouTube finishes processing the video")
	res, err = c.Publish(context.Background(), s.Job(t, pubtest.Rendition(path, 300<<10), p, acct))
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != publish.StatusScheduled {
		t.Errorf("status %s, want scheduled", res.Status)
	}
	got := e.ExpectOne(t, sandbox.YouTube, "")
	if got.Privacy != "private" || got.ScheduledAt == nil || got.Status != "scheduled" {
		t.Errorf("post %+v", got)
	}
}

func TestClient_Validate(t *testing.T) {
	t.Parallel()
	c := youtube.New("", nil)
	r := publish.Rendition{Size: 1 << 20, Duration: time.Minute}
	tests := []struct {
		name string
		p    publish.Post
		r    publish.Rendition
		code errcode.Code
		msg  string
	}{
		{"ok", post(), r, "", ""},
		{"no title", publish.Post{}, r, errcode.PostInvalid, "requires a title"},
		{"long title", publish.Post{Title: strings.Repeat("é", 101)}, r, errcode.CaptionTooLong, "101 characters"},
		{"angle", publish.Post{Title: "a <b>"}, r, errcode.PostInvalid, "< or >"},
		{"description bytes", publish.Post{Title: "t", Description: strings.Repeat("é", 2501)}, r, errcode.CaptionTooLong, "5002 bytes"},
		{"tags", publish.Post{Title: "t", Tags: []string{strings.Repeat("a b", 167)}}, r, errcode.CaptionTooLong, "tags"},
		{"too long", post(), publish.Rendition{Size: 1, Duration: 16 * time.Minute}, errcode.PlatformRule, "max_duration"},
		{"privacy", publish.Post{Title: "t", Privacy: "friends"}, r, errcode.PostInvalid, "privacy"},
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
				t.Errorf("got %s %q, want %s containing %q", e.ErrCode(), e.Message, tt.code, tt.msg)
			}
		})
	}
}

func TestClient_QuotaEstimate(t *testing.T) {
	t.Parallel()
	c := youtube.New("", nil) // 2 min of 5 s polls: 25
	done := publish.State{MediaID: "v1"}
	done.MarkDone("thumbnail")
	for _, tc := range []struct {
		name string
		p    publish.Post
		st   publish.State
		want int
	}{
		{"fresh upload", publish.Post{}, publish.State{}, youtube.CostInsert + 25*youtube.CostList},
		{"with thumbnail and captions", publish.Post{ThumbnailPath: "t.jpg", CaptionsPath: "c.srt"}, publish.State{},
			youtube.CostInsert + youtube.CostThumbnail + youtube.CostCaption + 25*youtube.CostList},
		{"uploaded, thumbnail set", publish.Post{ThumbnailPath: "t.jpg", CaptionsPath: "c.srt"}, done, youtube.CostCaption + 25*youtube.CostList},
	} {
		if got := c.QuotaEstimate(tc.p, tc.st); got != tc.want {
			t.Errorf("%s: QuotaEstimate = %d, want %d", tc.name, got, tc.want)
		}
	}
	c.PollInterval = time.Millisecond // polls counted at most 25
	if got := c.QuotaEstimate(publish.Post{}, done); got != 25*youtube.CostList {
		t.Errorf("fast polls: QuotaEstimate = %d, want %d", got, 25*youtube.CostList)
	}
	// The quota day is the Pacific day: 07:59 UTC is still the day before.
	day, reset := c.QuotaDay(time.Date(2026, 11, 25, 7, 59, 0, 0, time.UTC))
	if day != "2026-11-24" || reset != time.Minute {
		t.Errorf("QuotaDay = %s, %s; want 2026-11-24, 1m", day, reset)
	}
}
