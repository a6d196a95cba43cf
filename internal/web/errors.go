package web

import (
	"context"
	"errors"
	"net/http"

	"outpost/internal/blob"
	"outpost/internal/errcode"
	"outpost/internal/store"
)

// statusOf maps every error code to its HTTP status. This is the one place
// where codes meet HTTP; a code missing here is a 500.
var statusOf = map[errcode.Code]int{
	errcode.InvalidOption:        http.StatusBadRequest,
	errcode.InvalidJSON:          http.StatusBadRequest,
	errcode.UnknownPreset:        http.StatusBadRequest,
	errcode.URLNotAllowed:        http.StatusBadRequest,
	errcode.Unauthorized:         http.StatusUnauthorized,
	errcode.LinkExpired:          http.StatusForbidden,
	errcode.LinkInvalid:          http.StatusForbidden,
	errcode.NotFound:             http.StatusNotFound,
	errcode.FileNotFound:         http.StatusNotFound,
	errcode.MethodNotAllowed:     http.StatusMethodNotAllowed,
	errcode.Conflict:             http.StatusConflict,
	errcode.ScheduledOnPlatform:  http.StatusConflict,
	errcode.IdempotencyKeyReused: http.StatusConflict,
	errcode.Canceled:             http.StatusConflict,
	errcode.PayloadTooLarge:      http.StatusRequestEntityTooLarge,
	errcode.UnsupportedMediaType: http.StatusUnsupportedMediaType,
	errcode.SourceNotFound:       http.StatusUnprocessableEntity,
	errcode.SourceEmpty:          http.StatusUnprocessableEntity,
	errcode.SourceUnreadable:     http.StatusUnprocessableEntity,
	errcode.SourceTruncated:      http.StatusUnprocessableEntity,
	errcode.SourceNoVideo:        http.StatusUnprocessableEntity,
	errcode.SourceDamaged:        http.StatusUnprocessableEntity, // a warning on a finished export, never a response
	errcode.SourceFetchFailed:    http.StatusUnprocessableEntity,
	errcode.PlatformRule:         http.StatusUnprocessableEntity,
	errcode.RateLimited:          http.StatusTooManyRequests,
	errcode.DBUnavailable:        http.StatusServiceUnavailable,
	errcode.FFmpegMissing:        http.StatusServiceUnavailable,
	errcode.EncoderMissing:       http.StatusServiceUnavailable,
	errcode.DiskFull:             http.StatusInsufficientStorage,
	errcode.CaptionInvalid:       http.StatusUnprocessableEntity,
	errcode.WatermarkInvalid:     http.StatusUnprocessableEntity,
	errcode.SVGUnsupported:       http.StatusUnprocessableEntity,
	errcode.TimelineInvalid:      http.StatusUnprocessableEntity,
	errcode.BrandKitInvalid:      http.StatusUnprocessableEntity,
	errcode.PostInvalid:          http.StatusBadRequest,
	errcode.CaptionTooLong:       http.StatusUnprocessableEntity,
	errcode.ConnectionExpired:    http.StatusUnprocessableEntity,
	errcode.PlatformRejected:     http.StatusUnprocessableEntity,
	errcode.PlatformRateLimited:  http.StatusTooManyRequests,
	errcode.PlatformUnavailable:  http.StatusBadGateway,
	errcode.PublicationAbandoned: http.StatusBadGateway,
	// The server has no OAuth app for the platform: nothing the request
	// can change, but nothing wrong with it either.
	errcode.PlatformNotConfigured: http.StatusUnprocessableEntity,
	errcode.OAuthFailed:           http.StatusBadRequest,
}

// apiError is an error as the API shows it.
type apiError struct {
	status     int
	code       errcode.Code
	message    string
	retryAfter string
}

// httpError classifies err: a coded error keeps its code and message; the
// store's and blob's sentinels become not_found and conflict; a body over
// its limit is payload_too_large; anything else is internal, with a generic
// message (the details go to the log, not the client).
func httpError(err error) apiError {
	var (
		coded    *errcode.Error
		maxBytes *http.MaxBytesError
	)
	switch {
	case errors.As(err, &coded):
		e := apiError{code: coded.Code, message: coded.Message, status: http.StatusInternalServerError}
		if st, ok := statusOf[coded.Code]; ok {
			e.status = st
		}
		if e.message == "" || e.status >= 500 && e.code == errcode.Internal {
			e.message = "An unexpected error occurred."
		}
		if e.code == errcode.RateLimited {
			e.retryAfter = "60"
		}
		return e
	case errors.Is(err, store.ErrNotFound), errors.Is(err, blob.ErrNotFound):
		return apiError{status: http.StatusNotFound, code: errcode.NotFound, message: "not found"}
	case errors.Is(err, store.ErrConflict):
		return apiError{status: http.StatusConflict, code: errcode.Conflict, message: "the request conflicts with the current state"}
	case errors.Is(err, store.ErrInvalidCursor):
		return apiError{status: http.StatusBadRequest, code: errcode.InvalidOption, message: "cursor: not a cursor this server issued"}
	case errors.As(err, &maxBytes):
		return apiError{status: http.StatusRequestEntityTooLarge, code: errcode.PayloadTooLarge, message: "the request body is too large"}
	case errors.Is(err, context.Canceled):
		// The client went away; nobody reads this, but the log and metrics do.
		return apiError{status: 499, code: errcode.Canceled, message: "request canceled"}
	}
	return apiError{status: http.StatusInternalServerError, code: errcode.Internal, message: "An unexpected error occurred."}
}

// notFound is the error for a resource that does not exist in the caller's
// workspace (or in another: the two look the same).
func notFound(kind, id string) error {
	return errcode.New(errcode.NotFound, "%s %s not found", kind, id)
}
