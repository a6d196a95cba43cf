package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"outpost/internal/errcode"
	"outpost/internal/outpost"
)

// handlerFunc is an API handler: it writes its success response itself and
// returns an error for the one error path, writeError.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// writeJSON writes v as the JSON response with status.
func (s *Server) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		s.logger.ErrorContext(r.Context(), "encode response", slog.Any("error", err))
		s.writeError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// errorJSON is the body of every error response.
type errorJSON struct {
	Error errorDetailJSON `json:"error"`
}

// errorDetailJSON is one error: a stable code, what happened and what to do.
type errorDetailJSON struct {
	Code    errcode.Code `json:"code"`
	Message string       `json:"message"`
	Remedy  string       `json:"remedy,omitempty"`
}

// writeError writes err as the JSON error envelope with the status httpError
// maps it to. Unexpected errors are logged and shown as internal, without
// their details.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	he := httpError(err)
	if he.status >= 500 {
		s.logger.ErrorContext(r.Context(), "request failed", slog.Any("error", err),
			slog.Any("route", routeOf(r)), slog.Any("error_code", string(he.code)))
	}
	if he.status == http.StatusMethodNotAllowed && w.Header().Get("Allow") == "" {
		w.Header().Set("Allow", "GET, HEAD")
	}
	if he.retryAfter != "" && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", he.retryAfter)
	}
	body := errorJSON{Error: errorDetailJSON{Code: he.code, Message: he.message, Remedy: errcode.Remedies[he.code]}}
	if e := (*errcode.Error)(nil); errors.As(err, &e) && e.Remedy != "" {
		body.Error.Remedy = e.Remedy
	}
	h := w.Header()
	h.Del("Content-Disposition")
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(he.status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(body)
}

// decodeJSON reads the request's JSON body into dst: Content-Type
// application/json, at most maxJSONBody bytes, no unknown fields, one value.
func decodeJSON(r *http.Request, dst any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return errcode.New(errcode.UnsupportedMediaType, "Content-Type %q is not accepted here: send application/json", ct)
		}
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err != nil {
			return jsonError(err)
		}
		return errcode.New(errcode.InvalidJSON, "the body holds more than one JSON value")
	}
	return nil
}

// jsonError turns a decoding error into a coded one.
func jsonError(err error) error {
	var (
		syntax    *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
		maxBytes  *http.MaxBytesError
		coded     *errcode.Error
		unknownAt = "json: unknown field "
	)
	switch {
	case errors.As(err, &maxBytes):
		return errcode.New(errcode.PayloadTooLarge, "the JSON body is larger than %d bytes", maxBytes.Limit)
	case errors.As(err, &coded):
		return coded
	case errors.Is(err, io.EOF):
		return errcode.New(errcode.InvalidJSON, "the body is empty: send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errcode.New(errcode.InvalidJSON, "the JSON body ends too early")
	case errors.As(err, &syntax):
		return errcode.New(errcode.InvalidJSON, "the body is not valid JSON at byte %d: %v", syntax.Offset, err)
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return errcode.New(errcode.InvalidJSON, "the body must be a JSON %s, not %s", "object", typeErr.Value)
		}
		return errcode.New(errcode.InvalidOption, "%s: want %s, got %s", field, jsonKind(typeErr.Type.Kind().String()), typeErr.Value)
	case strings.HasPrefix(err.Error(), unknownAt):
		return errcode.New(errcode.InvalidOption, "unknown field %s", strings.TrimPrefix(err.Error(), unknownAt))
	}
	return errcode.Wrap(errcode.InvalidJSON, err, "the body is not valid JSON")
}

func jsonKind(goKind string) string {
	switch {
	case strings.HasPrefix(goKind, "int"), strings.HasPrefix(goKind, "uint"), strings.HasPrefix(goKind, "float"):
		return "a number"
	case goKind == "string":
		return "a string"
	case goKind == "bool":
		return "true or false"
	case goKind == "slice" || goKind == "array":
		return "an array"
	case goKind == "map" || goKind == "struct":
		return "an object"
	}
	return fmt.Sprintf("a %s", goKind)
}

// multipartError classifies a failure to read a multipart body: over the
// body's limit, or malformed or cut short.
func multipartError(err error) error {
	var maxBytes *http.MaxBytesError
	if errors.As(err, &maxBytes) {
		return errcode.New(errcode.PayloadTooLarge, "the upload is larger than the limit of %d bytes", maxBytes.Limit)
	}
	var coded *errcode.Error
	if errors.As(err, &coded) {
		return coded
	}
	return errcode.Wrap(errcode.InvalidOption, err, "the multipart body is malformed or was cut short")
}

// formValue reads a small text field of a multipart form: one line of at
// most outpost.MaxLabelLen characters.
func formValue(part io.Reader, field string) (string, error) {
	b, err := io.ReadAll(io.LimitReader(part, outpost.MaxLabelLen*4+1))
	if err != nil {
		return "", multipartError(err)
	}
	v := strings.TrimSpace(string(b))
	if utf8.RuneCount(b) > outpost.MaxLabelLen || !utf8.ValidString(v) || strings.ContainsAny(v, "\x00\r\n") {
		return "", errcode.New(errcode.InvalidOption, "%s: at most %d characters of one-line text", field, outpost.MaxLabelLen)
	}
	return v, nil
}
