package blob

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
)

// Error codes in the JSON body of Handler's failures.
const (
	CodeLinkExpired  = "link_expired"
	CodeLinkInvalid  = "link_invalid"
	CodeFileNotFound = "file_not_found"
)

// Handler serves the signed download links of file:// storage. Mount it
// at Options.DownloadPath, e.g. mux.Handle("GET /dl/", store.Handler()).
// It checks signature and expiry, then streams the blob with Range,
// conditional requests and HEAD handled by http.ServeContent. A store on
// S3 has no local links: every request is refused as link_invalid.
type Handler struct {
	store  *Store
	logger *slog.Logger
}

var _ http.Handler = (*Handler)(nil)

// Handler returns the download handler for s's links.
func (s *Store) Handler() *Handler {
	return &Handler{store: s, logger: s.logger}
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "Download links accept GET and HEAD only.")
		return
	}
	ctx := r.Context()
	key, name, err := h.store.keyFromLink(ctx, r.URL)
	switch {
	case errors.Is(err, ErrLinkExpired):
		writeError(w, http.StatusForbidden, CodeLinkExpired, "This download link has expired; ask for a new one.")
		return
	case err != nil:
		h.logger.DebugContext(ctx, "refused download link", slog.Any("error", err))
		writeError(w, http.StatusForbidden, CodeLinkInvalid, "This download link is not valid.")
		return
	}
	attrs, err := h.store.Attributes(ctx, key)
	switch {
	case errors.Is(err, ErrNotFound):
		writeError(w, http.StatusNotFound, CodeFileNotFound, "The file behind this link no longer exists.")
		return
	case err != nil:
		h.logger.ErrorContext(ctx, "stat blob for download", slog.String("blob_key", key), slog.Any("error", err))
		writeError(w, http.StatusInternalServerError, "internal", "The file could not be read; try again.")
		return
	}

	hdr := w.Header()
	if attrs.ContentType != "" {
		hdr.Set("Content-Type", attrs.ContentType)
	}
	if attrs.ETag != "" {
		hdr.Set("ETag", attrs.ETag)
	}
	hdr.Set("Content-Disposition", contentDisposition(name))
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Cache-Control", "private")

	content := &rangeReadSeeker{ctx: ctx, store: h.store, key: key, size: attrs.Size}
	defer func() {
		if err := content.Close(); err != nil {
			h.logger.WarnContext(ctx, "close blob after download", slog.String("blob_key", key), slog.Any("error", err))
		}
	}()
	http.ServeContent(w, r, name, attrs.ModTime, content)
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// writeError writes the API's JSON error envelope. It stays local until
// the web package's respond helpers exist to take over.
func writeError(w http.ResponseWriter, status int, code, message string) {
	hdr := w.Header()
	hdr.Del("Content-Disposition")
	hdr.Del("ETag")
	hdr.Set("Content-Type", "application/json; charset=utf-8")
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(errorBody{Error: errorDetail{Code: code, Message: message}})
}

// rangeReadSeeker is the io.ReadSeeker http.ServeContent needs, built on
// NewRangeReader: Seek only moves an offset, and the first Read after a
// move opens a reader from there. Nothing is buffered beyond Read's p.
type rangeReadSeeker struct {
	ctx   context.Context
	store *Store
	key   string
	size  int64
	off   int64
	r     io.ReadCloser // positioned at off, or nil
}

func (s *rangeReadSeeker) Read(p []byte) (int, error) {
	if s.off >= s.size {
		return 0, io.EOF
	}
	if s.r == nil {
		r, err := s.store.NewRangeReader(s.ctx, s.key, s.off, -1)
		if err != nil {
			return 0, err
		}
		s.r = r
	}
	n, err := s.r.Read(p)
	s.off += int64(n)
	return n, err
}

func (s *rangeReadSeeker) Seek(offset int64, whence int) (int64, error) {
	var abs int64
	switch whence {
	case io.SeekStart:
		abs = offset
	case io.SeekCurrent:
		abs = s.off + offset
	case io.SeekEnd:
		abs = s.size + offset
	default:
		return s.off, fmt.Errorf("seek blob %q: invalid whence %d", s.key, whence)
	}
	if abs < 0 {
		return s.off, fmt.Errorf("seek blob %q: negative offset %d", s.key, abs)
	}
	if abs != s.off && s.r != nil {
		err := s.r.Close()
		s.r = nil
		if err != nil {
			return s.off, fmt.Errorf("seek blob %q: %w", s.key, err)
		}
	}
	s.off = abs
	return abs, nil
}

func (s *rangeReadSeeker) Close() error {
	if s.r == nil {
		return nil
	}
	err := s.r.Close()
	s.r = nil
	return err
}
