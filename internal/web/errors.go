package web

import (
	"context"
	"errors"
	"net/http"

	"outpost/internal/errcode"
)

// apiError is an error as the API shows it.
type apiError struct {
	status     int
	code       errcode.Code
	message    string
	retryAfter string
}

// httpError classifies err: a coded error keeps its code and message, with
// its status from the one table (errcode.Status); a body over its limit is
// payload_too_large; anything else is internal, with a generic message
// (the details go to the log, not the client).
func httpError(err error) apiError {
	var (
		coded    *errcode.Error
		maxBytes *http.MaxBytesError
	)
	switch {
	case errors.As(err, &coded):
		e := apiError{code: coded.Code, message: coded.Message, status: errcode.Status(coded.Code)}
		if e.message == "" || e.status >= 500 && e.code == errcode.Internal {
			e.message = "An unexpected error occurred."
		}
		if e.retryAfter = errcode.RetryAfterHeader(err); e.retryAfter == "" && e.code == errcode.RateLimited {
			e.retryAfter = "60"
		}
		return e
	case errors.As(err, &maxBytes):
		return apiError{status: http.StatusRequestEntityTooLarge, code: errcode.PayloadTooLarge, message: "the request body is too large"}
	case errors.Is(err, context.Canceled):
		// The client went away; nobody reads this, but the log and metrics do.
		return apiError{status: 499, code: errcode.Canceled, message: "request canceled"}
	}
	return apiError{status: http.StatusInternalServerError, code: errcode.Internal, message: "An unexpected error occurred."}
}
