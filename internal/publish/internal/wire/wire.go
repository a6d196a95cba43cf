// Package wire holds the HTTP plumbing the platform clients share: bodies,
// progress, bounded in-call upload resumption and validation messages.
package wire

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"outpost/internal/errcode"
	"outpost/internal/publish"
)

// MaxBody caps the response bodies read into memory.
const MaxBody = 4 << 20

// ReadBody reads and closes a response body.
func ReadBody(resp *http.Response) []byte {
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, MaxBody))
	return b
}

// DecodeJSON decodes a response body into v and closes it.
func DecodeJSON(platform string, resp *http.Response, v any) error {
	b := ReadBody(resp)
	if err := json.Unmarshal(b, v); err != nil {
		return &publish.Error{Platform: platform, Class: publish.Transient, Status: resp.StatusCode,
			Message: fmt.Sprintf("decode %s response: %v (body %.200q)", resp.Request.URL.Path, err, b)}
	}
	return nil
}

// Discard drains and closes a body so the connection can be reused.
func Discard(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, MaxBody))
	resp.Body.Close()
}

// NoRedirect returns a copy of hc that never follows redirects: upload
// protocols use 308 for "resume incomplete".
func NoRedirect(hc *http.Client) *http.Client {
	c := *hc
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

// Client returns hc, or http.DefaultClient when nil.
func Client(hc *http.Client) *http.Client {
	if hc == nil {
		return http.DefaultClient
	}
	return hc
}

// WebURL returns the base for post links: the platform's site when the
// API base is the real one, else the API base itself (the sandbox serves
// look-alike post pages at the same origin).
func WebURL(apiBase, realAPI, realWeb string) string {
	if apiBase == "" || strings.TrimRight(apiBase, "/") == realAPI {
		return realWeb
	}
	return strings.TrimRight(apiBase, "/")
}

// Base trims a base URL, defaulting to def.
func Base(base, def string) string {
	if base == "" {
		return def
	}
	return strings.TrimRight(base, "/")
}

// Open opens the rendition file and returns it with its size.
func Open(platform, path string) (*os.File, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, &publish.Error{Platform: platform, Class: publish.Permanent, Code: errcode.FileNotFound,
			Message: "open rendition", Err: err}
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, &publish.Error{Platform: platform, Class: publish.Permanent, Code: errcode.FileNotFound,
			Message: "stat rendition", Err: err}
	}
	return f, fi.Size(), nil
}

// Progress reports bytes sent, never going backwards.
type Progress struct {
	mu    sync.Mutex
	fn    func(sent, total int64)
	total int64
	max   int64
}

// NewProgress returns a Progress for a Job.
func NewProgress(j *publish.Job, total int64) *Progress {
	return &Progress{fn: j.ProgressFunc, total: total}
}

// Report records that sent bytes are out.
func (p *Progress) Report(sent int64) {
	if p == nil || p.fn == nil {
		return
	}
	p.mu.Lock()
	if sent <= p.max {
		p.mu.Unlock()
		return
	}
	p.max = sent
	p.mu.Unlock()
	p.fn(sent, p.total)
}

// Reader wraps r, reporting base plus the bytes read so far.
func (p *Progress) Reader(r io.Reader, base int64) io.Reader {
	return &progressReader{r: r, p: p, n: base}
}

type progressReader struct {
	r io.Reader
	p *Progress
	n int64
}

func (pr *progressReader) Read(b []byte) (int, error) {
	n, err := pr.r.Read(b)
	pr.n += int64(n)
	pr.p.Report(pr.n)
	return n, err
}

// Resume bounds how often one Publish call resumes an interrupted upload:
// after Max failures in a row without progress it gives up and the job
// layer's retry takes over.
type Resume struct {
	Max   int
	fails int
	Wait  time.Duration // first pause; doubles; 200 ms when zero
}

// Again records a failure, pauses and reports whether to try again.
func (r *Resume) Again(ctx context.Context) bool {
	r.fails++
	if r.fails > r.Max {
		return false
	}
	d := r.Wait
	if d == 0 {
		d = 200 * time.Millisecond
	}
	d <<= r.fails - 1
	return Sleep(ctx, d) == nil
}

// Progressed resets the failure count after bytes were confirmed.
func (r *Resume) Progressed() { r.fails = 0 }

// Sleep waits d or until ctx ends.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Resumable reports whether an upload request's outcome calls for asking
// the platform what it holds and continuing: no response at all, or 5xx.
func Resumable(resp *http.Response, err error) bool {
	return err != nil || resp.StatusCode >= 500
}

// FileSize returns a local file's size, or -1 when it cannot be read.
func FileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return -1
	}
	return fi.Size()
}

// Poll calls check until it reports done, the budget runs out (it then
// returns false) or it fails.
func Poll(ctx context.Context, interval, budget time.Duration, check func() (bool, error)) (bool, error) {
	deadline := time.Now().Add(budget)
	for {
		done, err := check()
		if err != nil || done {
			return done, err
		}
		if time.Now().Add(interval).After(deadline) {
			return false, nil
		}
		if err := Sleep(ctx, interval); err != nil {
			return false, err
		}
	}
}
