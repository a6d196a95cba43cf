// Package errcode defines Outpost's stable, user-facing error codes. Every
// failure a person or a script can see carries one code from this list and a
// one-line remedy. The list is the single source for docs/errors.md (a test
// keeps them in step) and for the HTTP status mapping.
//
// It is a leaf package: it imports only the standard library, so every layer
// (media included) can use it.
package errcode

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Code is a stable error code. Codes are never renamed once published.
type Code string

// The codes. Keep this list, Remedies and docs/errors.md in step.
const (
	SourceNotFound    Code = "source_not_found"
	SourceEmpty       Code = "source_empty"
	SourceUnreadable  Code = "source_unreadable"
	SourceTruncated   Code = "source_truncated"
	SourceNoVideo     Code = "source_no_video"
	UnknownPreset     Code = "unknown_preset"
	InvalidOption     Code = "invalid_option"
	PlatformRule      Code = "platform_rule_violated"
	FFmpegMissing     Code = "ffmpeg_missing"
	EncoderMissing    Code = "encoder_missing"
	RenderFailed      Code = "render_failed"
	OutputWriteFailed Code = "output_write_failed"
	DiskFull          Code = "disk_full"
	Canceled          Code = "canceled"
	CheckFailed       Code = "check_failed"
	ConfigInvalid     Code = "config_invalid"
	DBUnavailable     Code = "database_unavailable"
	MigrationFailed   Code = "migration_failed"
	LinkExpired       Code = "link_expired"
	LinkInvalid       Code = "link_invalid"
	FileNotFound      Code = "file_not_found"
	CaptionInvalid    Code = "caption_invalid"
	WatermarkInvalid  Code = "watermark_invalid"
	// SVGUnsupported: the installed ffmpeg cannot rasterise SVG (it has no
	// librsvg decoder).
	SVGUnsupported Code = "svg_unsupported"
	// TimelineInvalid: a timeline's clips, points or audio bed are wrong.
	TimelineInvalid Code = "timeline_invalid"
	// BrandKitInvalid: a brand kit's files or settings are wrong.
	BrandKitInvalid Code = "brand_kit_invalid"
	// SecretKeyMismatch: this node's secret key (or a token key) is not the
	// one the cluster's other nodes recorded in the database.
	SecretKeyMismatch Code = "secret_key_mismatch"
	// SecretKeyRequired: a node of a cluster would generate a key of its
	// own; a cluster needs one key that the operator sets.
	SecretKeyRequired Code = "secret_key_required"
	// SourceDamaged is a warning, not a failure: the source's decoders met
	// damaged data (at the times given) and the render went on.
	SourceDamaged Code = "source_damaged"
	// TimedOut: work the request waits for (a size estimate) passed its
	// time limit.
	TimedOut Code = "timed_out"
	Internal Code = "internal"
)

// Codes of the HTTP API's request handling.
const (
	Unauthorized         Code = "unauthorized"
	NotFound             Code = "not_found"
	MethodNotAllowed     Code = "method_not_allowed"
	Conflict             Code = "conflict"
	IdempotencyKeyReused Code = "idempotency_key_reused"
	InvalidJSON          Code = "invalid_json"
	PayloadTooLarge      Code = "payload_too_large"
	UnsupportedMediaType Code = "unsupported_media_type"
	URLNotAllowed        Code = "url_not_allowed"
	SourceFetchFailed    Code = "source_fetch_failed"
	RateLimited          Code = "rate_limited"
	// Forbidden: the member's role or the API key's scopes do not allow
	// the action.
	Forbidden Code = "forbidden"
	// InviteInvalid: an invite link that is unknown, expired, used,
	// revoked, or meant for another email address.
	InviteInvalid Code = "invite_invalid"
	// PlanLimit: the workspace's plan does not allow the request (the
	// message names the limit).
	PlanLimit Code = "plan_limit"
	// EmailNotConfigured: the server has no SMTP settings, so it sends no
	// email.
	EmailNotConfigured Code = "email_not_configured"
)

// Codes of publishing to a platform.
const (
	ConnectionExpired   Code = "connection_expired"
	PlatformRejected    Code = "platform_rejected"
	PlatformRateLimited Code = "platform_rate_limited"
	PlatformUnavailable Code = "platform_unavailable"
	CaptionTooLong      Code = "caption_too_long"
	PostInvalid         Code = "post_invalid"
	// PlatformNotConfigured: the server has no OAuth app for the platform.
	PlatformNotConfigured Code = "platform_not_configured"
	// ScheduledOnPlatform: the post is uploaded and scheduled by the
	// platform itself; Outpost cannot move or cancel it there.
	ScheduledOnPlatform Code = "scheduled_on_platform"
	// PublicationAbandoned: the publication's job ended (retries used up,
	// or lost) without finishing it.
	PublicationAbandoned Code = "publication_abandoned"
	// OAuthFailed: connecting an account did not complete (denied, expired
	// link, refused code, no account to post as).
	OAuthFailed Code = "oauth_failed"
	// ConnectionUnreadable: the connection's stored token cannot be opened
	// with this server's keys (sealed under a key it does not hold, or
	// damaged). Unlike ConnectionExpired the platform never saw the token:
	// no retry and no refresh can change it.
	ConnectionUnreadable Code = "connection_unreadable"
	// PublicationStuck: a publication stayed in one state longer than its
	// step's limit while its job still existed; the sweep failed it.
	PublicationStuck Code = "publication_stuck"
)

// Remedies is the one-line remedy shown with each code.
var Remedies = map[Code]string{
	SourceNotFound:    "Check the path or URL of the source file.",
	SourceEmpty:       "The file is empty (0 bytes): upload or export the master again.",
	SourceUnreadable:  "The file is not a video ffmpeg can read: export the master again as MP4 or MOV.",
	SourceTruncated:   "The file is cut short (an unfinished upload or copy): copy or upload it again in full.",
	SourceNoVideo:     "The file has no video stream (audio only?): pick the video master, not the audio.",
	UnknownPreset:     "Run `outpost presets list` for the valid preset ids.",
	InvalidOption:     "Fix the option named in the message; `outpost help` lists the valid values.",
	PlatformRule:      "Change the source or the settings so the file meets the platform's rule named in the message.",
	FFmpegMissing:     "Install ffmpeg 5.1 or newer (Debian: apt-get install ffmpeg) and make sure it is on PATH.",
	EncoderMissing:    "Install an ffmpeg build with the encoder named in the message (Debian's ffmpeg package has them all).",
	RenderFailed:      "ffmpeg failed; the message holds the end of its log. Retry, and report it with the log if it persists.",
	OutputWriteFailed: "Check that the output folder exists and is writable.",
	DiskFull:          "Free disk space in the output folder, or choose a smaller quality.",
	Canceled:          "The export was canceled; run it again to produce the files.",
	CheckFailed:       "The rendered file could not be checked; retry the export.",
	ConfigInvalid:     "Fix the OUTPOST_* variable or flag named in the message; `outpost help` lists them with their defaults.",
	DBUnavailable:     "Check OUTPOST_DATABASE_URL and that the database server (or the data dir, for SQLite) is reachable and writable.",
	MigrationFailed:   "The database schema could not be upgraded: check the log, restore a backup if needed, and report it.",
	LinkExpired:       "The download link has expired: open the export again for a fresh link.",
	LinkInvalid:       "The download link is damaged or altered: copy the whole link again.",
	FileNotFound:      "The file is gone (past retention and deleted): render the export again.",
	CaptionInvalid:    "Fix the caption file at the line named in the message; SRT and WebVTT (with its WEBVTT header) are accepted.",
	WatermarkInvalid:  "Use a PNG image (with transparency for a logo) or an SVG that ffmpeg can read, at the path given.",
	SVGUnsupported:    "This ffmpeg cannot rasterise SVG: install a build with librsvg (Debian's ffmpeg package has it), or use a PNG watermark.",
	TimelineInvalid:   "Fix the clip or setting named in the message: each clip needs a source, and 0 <= in < out <= the source's duration.",
	BrandKitInvalid:   "Fix the brand kit named in the message: its kit.json settings and its watermark (PNG or SVG) or intro/outro files.",
	SecretKeyMismatch: "Give every node the same OUTPOST_SECRET_KEY (or OUTPOST_SECRET_KEY_FILE) and OUTPOST_TOKEN_KEYS as the nodes already running, then start this one again.",
	SecretKeyRequired: "Set OUTPOST_SECRET_KEY (or OUTPOST_SECRET_KEY_FILE) to the cluster's key, the same on every node (make one with `openssl rand -hex 32`).",
	SourceDamaged:     "The files were made, but the source is damaged at the times given and those parts may show glitches or freezes: export or copy the master again and render it anew.",
	TimedOut:          "The server did not finish in time (it may be busy rendering): retry in a moment.",
	Internal:          "An unexpected error: retry, and report it with the log if it persists.",

	Unauthorized:         "Send a live API key as `Authorization: Bearer <key>` (OUTPOST_BOOTSTRAP_API_KEY, or a key created in the UI).",
	NotFound:             "Check the id or path: it does not exist in this workspace.",
	MethodNotAllowed:     "Use one of the methods listed in the Allow header; /api/v1/openapi.json lists every route.",
	Conflict:             "The request clashes with the current state (a taken name, a finished export, a read-only preset): reload it and decide again.",
	IdempotencyKeyReused: "An Idempotency-Key was sent again with a different request: use a new key for a new request.",
	InvalidJSON:          "Send a valid JSON body with Content-Type: application/json.",
	PayloadTooLarge:      "Send a smaller body: uploads are capped by OUTPOST_MAX_UPLOAD_BYTES, JSON bodies at 1 MiB.",
	UnsupportedMediaType: "Send the Content-Type the route expects: application/json, or multipart/form-data for uploads.",
	URLNotAllowed:        "Use a public http(s) URL: private, loopback and link-local addresses are refused.",
	SourceFetchFailed:    "The source URL could not be downloaded: check that it is public and returns the file, then retry.",
	RateLimited:          "Too many requests: wait for the time in Retry-After, then retry.",
	Forbidden:            "Your role or the API key's scopes do not allow this (the message says what it needs): ask a workspace owner or admin for that role, or use a key with that scope.",
	InviteInvalid:        "The invite link is unknown, expired, already used, revoked or meant for another email address: ask a workspace admin for a new invite.",
	PlanLimit:            "The workspace's plan does not allow this (the message names the limit): stay within it, or ask the instance admin to raise the workspace's limits.",
	EmailNotConfigured:   "This server sends no email: set OUTPOST_SMTP_URL and OUTPOST_SMTP_FROM and restart it, or share the link yourself.",

	ConnectionExpired:     "The platform no longer accepts this connection's token (expired or revoked): reconnect the account; waiting publications resume once it is connected again.",
	PlatformRejected:      "The platform refused the post for the reason in the message (media, policy or account): fix that and publish again; other destinations are unaffected.",
	PublicationAbandoned:  "The publishing job ended without finishing (its retries ran out, or it was lost): share the export to the account again (POST /api/v1/exports/{id}/publications).",
	ScheduledOnPlatform:   "The post is already uploaded and scheduled by the platform itself: change its time or delete it there (the post URL is in the publication).",
	PlatformRateLimited:   "The platform's rate limit or daily quota is used up: the publication retries by itself after the reset time in the message.",
	PlatformUnavailable:   "The platform failed or could not be reached: the publication retries by itself with backoff; check the platform's status page if it keeps failing.",
	CaptionTooLong:        "Shorten the text named in the message to the platform's limit (the message gives the limit and its unit).",
	PostInvalid:           "Fix the post setting named in the message (title, privacy, hashtags, schedule time, thumbnail or caption file) and publish again.",
	PlatformNotConfigured: "Set OUTPOST_<PLATFORM>_CLIENT_ID and OUTPOST_<PLATFORM>_CLIENT_SECRET to the platform app's credentials and restart, or run `outpost serve --sandbox` to use the emulators.",
	ConnectionUnreadable:  "This server cannot open the account's stored token (sealed under a key it does not hold, or damaged): give every node the same OUTPOST_SECRET_KEY and OUTPOST_TOKEN_KEYS; if the key that sealed it is gone, reconnect the account. Then retry the publication.",
	PublicationStuck:      "The publication stopped moving (the message names the node that last worked on it and the last error): check that node's log and that workers are running, then retry the publication (POST /api/v1/publications/{id}/retry); a post already made is found, never made twice.",
	OAuthFailed:           "Connecting the account did not complete for the reason in the message: start again from GET /connect/{platform} (or POST /api/v1/connections/{platform}/authorize) and approve the request.",
}

// Error is an error with a stable code. Message says what happened; Remedy
// (defaulting to the code's) says what to do.
type Error struct {
	Code    Code
	Message string
	Remedy  string
	Err     error
	// RetryAfter, when positive, is how long the caller should wait before
	// trying again (rate_limited): the HTTP interfaces send it as
	// Retry-After.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	if e.Err != nil && e.Message == "" {
		return fmt.Sprintf("%s: %v", e.Code, e.Err)
	}
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// RemedyText returns the error's remedy, or its code's default.
func (e *Error) RemedyText() string {
	if e.Remedy != "" {
		return e.Remedy
	}
	return Remedies[e.Code]
}

// Line formats err as one line for a terminal: "CODE: MESSAGE — remedy:
// REMEDY". withCause appends the wrapped error to the message (start-up
// errors, where the cause — "connection refused", "permission denied" — is
// the clue); without it, a message hides its cause (an ffmpeg failure's
// stderr tail belongs in the log). Line breaks and runs of spaces inside (a
// database driver's multi-line error) become single spaces.
func Line(err error, withCause bool) string {
	e := As(err)
	msg := e.Message
	if e.Err != nil && (msg == "" || withCause) {
		if msg != "" {
			msg += ": "
		}
		msg += e.Err.Error()
	}
	line := string(e.Code) + ": " + strings.Join(strings.Fields(msg), " ")
	if r := e.RemedyText(); r != "" {
		line += " — remedy: " + r
	}
	return line
}

// RetryAfterHeader is the Retry-After header value of err: RetryAfter in
// whole seconds rounded up (at least 1), or "" when err has none.
func RetryAfterHeader(err error) string {
	var e *Error
	if !errors.As(err, &e) || e.RetryAfter <= 0 {
		return ""
	}
	return strconv.Itoa(max(1, int(math.Ceil(e.RetryAfter.Seconds()))))
}

// New returns an Error with a formatted message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an Error with code and message wrapping err.
func Wrap(code Code, err error, message string) *Error {
	return &Error{Code: code, Message: message, Err: err}
}

// Of returns the code of the first *Error in err's chain, or Internal.
func Of(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// As returns the first *Error in err's chain, wrapping any other error as Internal.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: Internal, Err: err}
}
