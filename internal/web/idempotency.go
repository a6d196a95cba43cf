package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"

	"outpost/internal/errcode"
	"outpost/internal/outpost"
)

// maxIdempotencyKey is the longest Idempotency-Key accepted.
const maxIdempotencyKey = 255

// maxStoredResponse caps the response body kept for a replay; POST
// responses are small JSON documents.
const maxStoredResponse = 1 << 20

// idempotent makes a POST safe to retry with an Idempotency-Key header. The
// first request with a key runs; its successful (2xx) response is stored
// with a digest of the request body, per workspace. A later request with
// the same key, method, path and body gets that response again, marked
// Idempotent-Replayed: true, without running; the same key with another
// body or route is refused with idempotency_key_reused. Failed requests
// are not stored (they changed nothing), so a client may fix the request
// and retry with the same key. While a request with a key runs, another
// with the same key is refused with conflict.
func (s *Server) idempotent(next handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		key := r.Header.Get("Idempotency-Key")
		if key == "" {
			return next(w, r)
		}
		if len(key) > maxIdempotencyKey || !isPrintableASCII(key) {
			return errcode.New(errcode.InvalidOption, "Idempotency-Key: at most %d printable ASCII characters", maxIdempotencyKey)
		}
		ctx := r.Context()
		ws := workspaceOf(r)
		unlock, ok := s.inFlight.tryLock(ws + "\x00" + key)
		if !ok {
			return errcode.New(errcode.Conflict, "a request with this Idempotency-Key is still running: retry when it has finished")
		}
		defer unlock()

		rec, err := s.svc.Idempotency.Get(ctx, ws, key)
		switch {
		case err == nil:
			return s.replay(w, r, rec)
		case errcode.Of(err) != errcode.NotFound:
			return err
		}

		body := newBodyDigest(r.Header.Get("Content-Type"), r.Body)
		r.Body = body
		rw := &recordingWriter{ResponseWriter: w}
		err = next(rw, r)
		if err != nil || rw.status < 200 || rw.status > 299 || rw.overflow {
			body.abort()
			return err
		}
		digest, err := body.finish()
		if err != nil {
			s.logger.WarnContext(ctx, "idempotency: digest request body", slog.Any("error", err))
			return nil
		}
		err = s.svc.Idempotency.Put(ctx, outpost.IdempotencyRecord{
			WorkspaceID: ws, Key: key, Method: r.Method, Path: r.URL.Path,
			RequestHash: digest, ResponseStatus: rw.status, ResponseBody: rw.body.Bytes(),
		})
		if err != nil {
			// Another process ran the same key at the same time (ErrConflict), or
			// the database failed: the response is sent, only its replay is lost.
			s.logger.WarnContext(ctx, "idempotency: store response", slog.Any("error", err))
		}
		return nil
	}
}

// replay answers a repeated request from its record.
func (s *Server) replay(w http.ResponseWriter, r *http.Request, rec outpost.IdempotencyRecord) error {
	if rec.Method != r.Method || rec.Path != r.URL.Path {
		return errcode.New(errcode.IdempotencyKeyReused, "this Idempotency-Key was used for %s %s: use a new key for a new request", rec.Method, rec.Path)
	}
	digest, err := digestBody(r.Header.Get("Content-Type"), r.Body)
	if err != nil {
		return multipartError(err)
	}
	if digest != rec.RequestHash {
		return errcode.New(errcode.IdempotencyKeyReused, "this Idempotency-Key was used with a different request body: use a new key for a new request")
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Idempotent-Replayed", "true")
	w.WriteHeader(rec.ResponseStatus)
	_, _ = w.Write(rec.ResponseBody)
	return nil
}

// recordingWriter keeps a copy of the response for storing.
type recordingWriter struct {
	http.ResponseWriter
	status   int
	body     bytes.Buffer
	overflow bool
}

func (w *recordingWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recordingWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if w.body.Len()+len(b) > maxStoredResponse {
		w.overflow = true
	} else {
		w.body.Write(b)
	}
	return w.ResponseWriter.Write(b)
}

func (w *recordingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// digestBody identifies a request body. A multipart form is digested by
// its fields (names, file names, contents), not its bytes: a client
// retrying an upload sends a new random boundary. Other bodies are
// digested as bytes.
func digestBody(contentType string, body io.Reader) (string, error) {
	h := sha256.New()
	mt, params, _ := mime.ParseMediaType(contentType)
	if mt == "multipart/form-data" && params["boundary"] != "" {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			part, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return "", err
			}
			writeField(h, part.FormName())
			writeField(h, part.FileName())
			n, err := io.Copy(h, part)
			if err != nil {
				return "", err
			}
			_ = binary.Write(h, binary.BigEndian, n)
		}
	} else if _, err := io.Copy(h, body); err != nil {
		return "", err
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// writeField writes a length-prefixed string, so that fields cannot run
// into each other.
func writeField(h hash.Hash, s string) {
	h.Write([]byte(strconv.Itoa(len(s)) + ":" + s))
}

// bodyDigest digests a request body while the handler reads it: the bytes
// are teed through a pipe to a goroutine running digestBody, so an upload
// is never held in memory.
type bodyDigest struct {
	body   io.ReadCloser
	pw     *io.PipeWriter
	done   chan struct{}
	digest string
	err    error
}

func newBodyDigest(contentType string, body io.ReadCloser) *bodyDigest {
	pr, pw := io.Pipe()
	d := &bodyDigest{body: body, pw: pw, done: make(chan struct{})}
	go func() {
		defer close(d.done)
		d.digest, d.err = digestBody(contentType, pr)
		// Keep reading so that the handler never blocks on the pipe.
		_, _ = io.Copy(io.Discard, pr)
	}()
	return d
}

func (d *bodyDigest) Read(p []byte) (int, error) {
	n, err := d.body.Read(p)
	if n > 0 {
		_, _ = d.pw.Write(p[:n])
	}
	return n, err
}

func (d *bodyDigest) Close() error { return d.body.Close() }

// finish reads what the handler left of the body and returns the digest.
func (d *bodyDigest) finish() (string, error) {
	_, err := io.Copy(io.Discard, d)
	_ = d.pw.Close()
	<-d.done
	if err != nil {
		return "", err
	}
	return d.digest, d.err
}

// abort stops the digest; it is not needed.
func (d *bodyDigest) abort() {
	_ = d.pw.CloseWithError(errors.New("aborted"))
	<-d.done
}
