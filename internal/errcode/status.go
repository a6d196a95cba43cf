package errcode

import "net/http"

// statuses maps every code a request can meet to its HTTP status: the one
// table the API and the web UI answer with. A code missing here is a
// server failure (500).
var statuses = map[Code]int{
	InvalidOption:        http.StatusBadRequest,
	InvalidJSON:          http.StatusBadRequest,
	UnknownPreset:        http.StatusBadRequest,
	URLNotAllowed:        http.StatusBadRequest,
	PostInvalid:          http.StatusBadRequest,
	OAuthFailed:          http.StatusBadRequest,
	Unauthorized:         http.StatusUnauthorized,
	LinkExpired:          http.StatusForbidden,
	LinkInvalid:          http.StatusForbidden,
	NotFound:             http.StatusNotFound,
	FileNotFound:         http.StatusNotFound,
	MethodNotAllowed:     http.StatusMethodNotAllowed,
	Conflict:             http.StatusConflict,
	ScheduledOnPlatform:  http.StatusConflict,
	IdempotencyKeyReused: http.StatusConflict,
	Canceled:             http.StatusConflict,
	PayloadTooLarge:      http.StatusRequestEntityTooLarge,
	UnsupportedMediaType: http.StatusUnsupportedMediaType,
	SourceNotFound:       http.StatusUnprocessableEntity,
	SourceEmpty:          http.StatusUnprocessableEntity,
	SourceUnreadable:     http.StatusUnprocessableEntity,
	SourceTruncated:      http.StatusUnprocessableEntity,
	SourceNoVideo:        http.StatusUnprocessableEntity,
	SourceFetchFailed:    http.StatusUnprocessableEntity,
	PlatformRule:         http.StatusUnprocessableEntity,
	CaptionInvalid:       http.StatusUnprocessableEntity,
	WatermarkInvalid:     http.StatusUnprocessableEntity,
	SVGUnsupported:       http.StatusUnprocessableEntity,
	TimelineInvalid:      http.StatusUnprocessableEntity,
	BrandKitInvalid:      http.StatusUnprocessableEntity,
	CaptionTooLong:       http.StatusUnprocessableEntity,
	SourceDamaged:        http.StatusUnprocessableEntity,
	ConnectionExpired:    http.StatusUnprocessableEntity,
	ConnectionUnreadable: http.StatusUnprocessableEntity,
	PlatformRejected:     http.StatusUnprocessableEntity,
	// The server has no OAuth app for the platform: nothing the request
	// can change, but nothing wrong with it either.
	PlatformNotConfigured: http.StatusUnprocessableEntity,
	Forbidden:             http.StatusForbidden,
	PlanLimit:             http.StatusForbidden,
	InviteInvalid:         http.StatusGone,
	EmailNotConfigured:    http.StatusUnprocessableEntity,
	RateLimited:           http.StatusTooManyRequests,
	PlatformRateLimited:   http.StatusTooManyRequests,
	DBUnavailable:         http.StatusServiceUnavailable,
	TimedOut:              http.StatusServiceUnavailable,
	FFmpegMissing:         http.StatusServiceUnavailable,
	EncoderMissing:        http.StatusServiceUnavailable,
	DiskFull:              http.StatusInsufficientStorage,
	PlatformUnavailable:   http.StatusBadGateway,
	PublicationAbandoned:  http.StatusBadGateway,
	PublicationStuck:      http.StatusBadGateway,
}

// Status is the HTTP status of a request that failed with code: 500 for
// the server's own failures.
func Status(c Code) int {
	if st, ok := statuses[c]; ok {
		return st
	}
	return http.StatusInternalServerError
}
