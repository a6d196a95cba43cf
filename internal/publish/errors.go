package publish

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"outpost/internal/errcode"
)

// Class says what the job layer does with a failure.
type Class int

// The error classes.
const (
	// Transient: network errors, 5xx, "try again" codes. Retry with backoff.
	Transient Class = iota
	// RateLimited: throttles and quotas. Snooze until RetryAfter.
	RateLimited
	// AuthExpired: the token is dead. Refresh once, else the connection is
	// expired and the publication waits for a reconnect.
	AuthExpired
	// Permanent: rejected media, policy, invalid post. Fail this
	// publication only.
	Permanent
)

func (c Class) String() string {
	switch c {
	case Transient:
		return "transient"
	case RateLimited:
		return "rate_limited"
	case AuthExpired:
		return "auth_expired"
	case Permanent:
		return "permanent"
	}
	return "class(" + strconv.Itoa(int(c)) + ")"
}

// Code returns the class's default user-facing code.
func (c Class) Code() errcode.Code {
	switch c {
	case RateLimited:
		return errcode.PlatformRateLimited
	case AuthExpired:
		return errcode.ConnectionExpired
	case Permanent:
		return errcode.PlatformRejected
	}
	return errcode.PlatformUnavailable
}

// Error is a classified platform failure.
type Error struct {
	Platform string
	Class    Class
	// Code is the stable user-facing code; Class.Code() when empty.
	Code    errcode.Code
	Message string
	// RetryAfter is how long to wait before retrying (RateLimited, and
	// Transient when the platform said).
	RetryAfter time.Duration
	// Status is the HTTP status, 0 for network errors and validation.
	Status int
	// Raw is the platform's own error code: "quotaExceeded", "190/463",
	// "spam_risk_too_many_posts", "PROCESSING_FAILED".
	Raw string
	Err error
}

func (e *Error) Error() string {
	s := e.Platform + ": " + e.Class.String()
	if e.Raw != "" {
		s += " (" + e.Raw + ")"
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// ErrCode returns Code, or the class's default.
func (e *Error) ErrCode() errcode.Code {
	if e.Code != "" {
		return e.Code
	}
	return e.Class.Code()
}

// Unwrap exposes the cause and an *errcode.Error, so errcode.As finds the
// user-facing code and remedy.
func (e *Error) Unwrap() []error {
	msg := e.Message
	if msg == "" && e.Err != nil {
		msg = e.Err.Error()
	}
	ce := &errcode.Error{Code: e.ErrCode(), Message: e.Platform + ": " + msg}
	if e.Err == nil {
		return []error{ce}
	}
	return []error{ce, e.Err}
}

// AsError returns the *Error in err's chain.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// ClassOf classifies any error: an *Error by its class; context
// cancellation, network errors and anything unknown as Transient (the job
// layer's attempt limit bounds them).
func ClassOf(err error) Class {
	if e, ok := AsError(err); ok {
		return e.Class
	}
	return Transient
}

// RetryAfterOf returns the wait an error asks for, or 0.
func RetryAfterOf(err error) time.Duration {
	if e, ok := AsError(err); ok {
		return e.RetryAfter
	}
	return 0
}

// Invalid returns a Permanent validation error with code (PostInvalid,
// CaptionTooLong, PlatformRule).
func Invalid(platform string, code errcode.Code, format string, args ...any) *Error {
	return &Error{Platform: platform, Class: Permanent, Code: code, Message: fmt.Sprintf(format, args...)}
}

// NetError classifies a failed round trip (no HTTP response) as Transient;
// a cancelled context is returned as is.
func NetError(platform, op string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %s: %w", platform, op, err)
	}
	e := &Error{Platform: platform, Class: Transient, Message: op, Err: err}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		e.Message = op + " timed out"
	}
	return e
}

// HTTPError returns the default classification of an HTTP failure with no
// recognised platform code: 401 AuthExpired; 429 RateLimited; 408, 5xx
// Transient; others Permanent. RetryAfter comes from the Retry-After header.
func HTTPError(platform string, resp *http.Response, raw, message string) *Error {
	e := &Error{Platform: platform, Status: resp.StatusCode, Raw: raw, Message: message}
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		e.Class = AuthExpired
	case resp.StatusCode == http.StatusTooManyRequests:
		e.Class = RateLimited
	case resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode >= 500:
		e.Class = Transient
	default:
		e.Class = Permanent
	}
	e.RetryAfter = RetryAfter(resp.Header, time.Now())
	if e.Message == "" {
		e.Message = resp.Status
	}
	return e
}

// RetryAfter parses a Retry-After header (seconds or HTTP date); 0 when
// absent or unparsable.
func RetryAfter(h http.Header, now time.Time) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// NextMidnight returns the time until the next midnight in loc: daily
// quotas reset then (YouTube: Pacific time; LinkedIn: UTC).
func NextMidnight(now time.Time, loc *time.Location) time.Duration {
	t := now.In(loc)
	next := time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, loc)
	return next.Sub(t)
}
