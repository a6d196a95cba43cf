package publish

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"outpost/internal/errcode"
)

func TestError_classesAndCodes(t *testing.T) {
	t.Parallel()
	cause := errors.New("boom")
	e := &Error{Platform: "tiktok", Class: RateLimited, RetryAfter: time.Minute, Raw: "rate_limit_exceeded", Message: "slow down", Err: cause}
	wrapped := fmt.Errorf("publish: %w", e)
	if ClassOf(wrapped) != RateLimited || RetryAfterOf(wrapped) != time.Minute {
		t.Errorf("class %v retry %v", ClassOf(wrapped), RetryAfterOf(wrapped))
	}
	if errcode.Of(wrapped) != errcode.PlatformRateLimited || !errors.Is(wrapped, cause) {
		t.Errorf("code %s, is cause %v", errcode.Of(wrapped), errors.Is(wrapped, cause))
	}
	if got := e.Error(); got != "tiktok: rate_limited (rate_limit_exceeded): slow down: boom" {
		t.Errorf("Error() = %q", got)
	}
	for c, code := range map[Class]errcode.Code{Transient: errcode.PlatformUnavailable, AuthExpired: errcode.ConnectionExpired, Permanent: errcode.PlatformRejected} {
		if got := errcode.Of(&Error{Platform: "youtube", Class: c}); got != code {
			t.Errorf("%v: code %s, want %s", c, got, code)
		}
	}
	if got := errcode.Of(Invalid("linkedin", errcode.CaptionTooLong, "x")); got != errcode.CaptionTooLong {
		t.Errorf("Invalid code %s", got)
	}
	if ClassOf(errors.New("unknown")) != Transient {
		t.Error("unknown errors should be transient")
	}
}

func TestNetError(t *testing.T) {
	t.Parallel()
	if err := NetError("youtube", "op", context.Canceled); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: %v", err)
	}
	err := NetError("youtube", "upload", &net.OpError{Op: "read", Err: errors.New("connection reset by peer")})
	if ClassOf(err) != Transient {
		t.Errorf("net error class %v", ClassOf(err))
	}
}

func TestHTTPError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status int
		header string
		class  Class
		retry  time.Duration
	}{
		{401, "", AuthExpired, 0},
		{429, "17", RateLimited, 17 * time.Second},
		{503, "", Transient, 0},
		{408, "", Transient, 0},
		{400, "", Permanent, 0},
		{403, "", Permanent, 0},
	}
	for _, tt := range tests {
		resp := &http.Response{StatusCode: tt.status, Status: http.StatusText(tt.status), Header: http.Header{}}
		if tt.header != "" {
			resp.Header.Set("Retry-After", tt.header)
		}
		e := HTTPError("youtube", resp, "", "")
		if e.Class != tt.class || e.RetryAfter != tt.retry {
			t.Errorf("%d: %v %v", tt.status, e.Class, e.RetryAfter)
		}
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	h := http.Header{"Retry-After": {now.Add(90 * time.Second).Format(http.TimeFormat)}}
	if d := RetryAfter(h, now); d != 90*time.Second {
		t.Errorf("HTTP-date Retry-After: %v", d)
	}
}

func TestNextMidnight(t *testing.T) {
	t.Parallel()
	la, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		t.Skip(err)
	}
	now := time.Date(2026, 7, 1, 6, 30, 0, 0, time.UTC) // 23:30 PDT
	if d := NextMidnight(now, la); d != 30*time.Minute {
		t.Errorf("got %v", d)
	}
}

func TestState_JSONShape(t *testing.T) {
	t.Parallel()
	var s State
	s.MarkDone("finish")
	s.Set("k", "v")
	if !s.IsDone("finish") || s.Get("k") != "v" || s.IsDone("other") {
		t.Errorf("state %+v", s)
	}
}
