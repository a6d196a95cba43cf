package blob

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"outpost/internal/waitfor"
)

// newLinkServer returns a file store whose links point at an httptest
// server that mounts the store's Handler at /dl/, as the app does.
func newLinkServer(t *testing.T) (*Store, *httptest.Server) {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	st, _ := newFileStore(t, srv.URL)
	mux.Handle("GET /dl/", st.Handler())
	mux.Handle("/dl/", st.Handler()) // other methods reach the handler's 405
	return st, srv
}

func do(t *testing.T, method, link string, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, link, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, link, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func wantErrorCode(t *testing.T, resp *http.Response, body []byte, status int, code string) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status = %d, want %d (body %s)", resp.StatusCode, status, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	var env struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatalf("error body %q: %v", body, err)
	}
	if env.Error.Code != code || env.Error.Message == "" {
		t.Fatalf("error = %+v, want code %q with a message", env.Error, code)
	}
}

func TestHandler_ServeSignedLink(t *testing.T) {
	t.Parallel()
	st, srv := newLinkServer(t)
	ctx := t.Context()

	payload := make([]byte, 100_000)
	for i := range payload {
		payload[i] = byte(i * 7)
	}
	key := "renditions/exp_h/youtube-1080p.mp4"
	if _, err := st.Put(ctx, key, bytes.NewReader(payload), "video/mp4"); err != nil {
		t.Fatal(err)
	}
	link, exp, err := st.SignedURL(ctx, key, time.Hour, "My Clip (final).mp4")
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Until(exp); d < 59*time.Minute || d > time.Hour+time.Second {
		t.Errorf("expiry in %s, want about 1h", d)
	}
	u, _ := url.Parse(link)
	if !strings.HasPrefix(link, srv.URL+"/dl/") || u.Path != "/dl/My Clip (final).mp4" {
		t.Fatalf("link = %s, want %s/dl/My%%20Clip%%20(final).mp4?…", link, srv.URL)
	}

	t.Run("Full", func(t *testing.T) {
		t.Parallel()
		resp, body := do(t, http.MethodGet, link, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status = %d (%s)", resp.StatusCode, body)
		}
		if !bytes.Equal(body, payload) {
			t.Fatalf("body differs (%d bytes)", len(body))
		}
		h := resp.Header
		for name, want := range map[string]string{
			"Content-Type":        "video/mp4",
			"Content-Length":      strconv.Itoa(len(payload)),
			"Accept-Ranges":       "bytes",
			"Content-Disposition": `attachment; filename="My Clip (final).mp4"`,
		} {
			if got := h.Get(name); got != want {
				t.Errorf("%s = %q, want %q", name, got, want)
			}
		}
		if h.Get("ETag") == "" || h.Get("Last-Modified") == "" {
			t.Errorf("ETag = %q, Last-Modified = %q; want both", h.Get("ETag"), h.Get("Last-Modified"))
		}
	})

	t.Run("Range", func(t *testing.T) {
		t.Parallel()
		resp, body := do(t, http.MethodGet, link, map[string]string{"Range": "bytes=1000-1999"})
		if resp.StatusCode != http.StatusPartialContent {
			t.Fatalf("status = %d, want 206", resp.StatusCode)
		}
		if got, want := resp.Header.Get("Content-Range"), fmt.Sprintf("bytes 1000-1999/%d", len(payload)); got != want {
			t.Errorf("Content-Range = %q, want %q", got, want)
		}
		if !bytes.Equal(body, payload[1000:2000]) || resp.Header.Get("Content-Length") != "1000" {
			t.Errorf("range body = %d bytes, wrong content or length", len(body))
		}
	})

	t.Run("SuffixRange", func(t *testing.T) {
		t.Parallel()
		resp, body := do(t, http.MethodGet, link, map[string]string{"Range": "bytes=-10"})
		if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, payload[len(payload)-10:]) {
			t.Fatalf("status = %d, body = %v", resp.StatusCode, body)
		}
	})

	t.Run("MultiRange", func(t *testing.T) {
		t.Parallel()
		resp, body := do(t, http.MethodGet, link, map[string]string{"Range": "bytes=0-9,50000-50009"})
		if resp.StatusCode != http.StatusPartialContent ||
			!strings.HasPrefix(resp.Header.Get("Content-Type"), "multipart/byteranges") {
			t.Fatalf("status = %d, Content-Type = %q", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if !bytes.Contains(body, payload[0:10]) || !bytes.Contains(body, payload[50000:50010]) {
			t.Error("multipart body lacks one of the ranges")
		}
	})

	t.Run("Unsatisfiable", func(t *testing.T) {
		t.Parallel()
		resp, _ := do(t, http.MethodGet, link, map[string]string{"Range": fmt.Sprintf("bytes=%d-", len(payload))})
		if resp.StatusCode != http.StatusRequestedRangeNotSatisfiable {
			t.Fatalf("status = %d, want 416", resp.StatusCode)
		}
		if got, want := resp.Header.Get("Content-Range"), fmt.Sprintf("bytes */%d", len(payload)); got != want {
			t.Errorf("Content-Range = %q, want %q", got, want)
		}
	})

	t.Run("Head", func(t *testing.T) {
		t.Parallel()
		resp, body := do(t, http.MethodHead, link, nil)
		if resp.StatusCode != http.StatusOK || len(body) != 0 {
			t.Fatalf("status = %d, body %d bytes", resp.StatusCode, len(body))
		}
		if resp.Header.Get("Content-Length") != strconv.Itoa(len(payload)) || resp.Header.Get("Content-Type") != "video/mp4" {
			t.Errorf("HEAD headers = %v", resp.Header)
		}
	})

	t.Run("NotModified", func(t *testing.T) {
		t.Parallel()
		first, _ := do(t, http.MethodGet, link, map[string]string{"Range": "bytes=0-0"})
		resp, body := do(t, http.MethodGet, link, map[string]string{"If-None-Match": first.Header.Get("ETag")})
		if resp.StatusCode != http.StatusNotModified || len(body) != 0 {
			t.Fatalf("status = %d, want 304", resp.StatusCode)
		}
	})

	t.Run("Tampered", func(t *testing.T) {
		t.Parallel()
		tamper := func(f func(u *url.URL, q url.Values)) string {
			u, _ := url.Parse(link)
			q := u.Query()
			f(u, q)
			u.RawQuery = q.Encode()
			return u.String()
		}
		flip := func(s string) string {
			if s[0] == 'A' {
				return "B" + s[1:]
			}
			return "A" + s[1:]
		}
		cases := map[string]string{
			"signature":    tamper(func(_ *url.URL, q url.Values) { q.Set("signature", flip(q.Get("signature"))) }),
			"no signature": tamper(func(_ *url.URL, q url.Values) { q.Del("signature") }),
			"other key":    tamper(func(_ *url.URL, q url.Values) { q.Set("obj", "renditions/exp_h/other.mp4") }),
			"later expiry": tamper(func(_ *url.URL, q url.Values) {
				q.Set("expiry", strconv.FormatInt(time.Now().Add(48*time.Hour).Unix(), 10))
			}),
			"method":    tamper(func(_ *url.URL, q url.Values) { q.Set("method", "PUT") }),
			"file name": tamper(func(u *url.URL, _ url.Values) { u.Path = "/dl/invoice.pdf.exe" }),
			"file sig":  tamper(func(_ *url.URL, q url.Values) { q.Set("fsig", flip(q.Get("fsig"))) }),
			"bare":      srv.URL + "/dl/x.mp4",
		}
		for name, bad := range cases {
			resp, body := do(t, http.MethodGet, bad, nil)
			t.Run(name, func(t *testing.T) {
				wantErrorCode(t, resp, body, http.StatusForbidden, CodeLinkInvalid)
				if resp.Header.Get("Content-Disposition") != "" {
					t.Error("error response carries Content-Disposition")
				}
			})
		}
	})

	t.Run("MethodNotAllowed", func(t *testing.T) {
		t.Parallel()
		resp, body := do(t, http.MethodPost, link, nil)
		wantErrorCode(t, resp, body, http.StatusMethodNotAllowed, "method_not_allowed")
	})
}

func TestHandler_ExpiredLink(t *testing.T) {
	t.Parallel()
	st, _ := newLinkServer(t)
	ctx := t.Context()
	key := "renditions/exp_e/clip.mp4"
	if _, err := st.Put(ctx, key, strings.NewReader("soon gone"), "video/mp4"); err != nil {
		t.Fatal(err)
	}
	link, _, err := st.SignedURL(ctx, key, time.Second, "")
	if err != nil {
		t.Fatal(err)
	}
	if resp, body := do(t, http.MethodGet, link, nil); resp.StatusCode != http.StatusOK || string(body) != "soon gone" {
		t.Fatalf("fresh link: status %d, body %q", resp.StatusCode, body)
	}
	// fileblob's signer has one-second resolution and its own clock: the
	// link is refused once the wall clock passes the expiry second.
	var resp *http.Response
	var body []byte
	waitfor.Check(t, 10*time.Second, func() error {
		if resp, body = do(t, http.MethodGet, link, nil); resp.StatusCode == http.StatusOK {
			return errors.New("the link still works")
		}
		return nil
	}, "the link expires")
	wantErrorCode(t, resp, body, http.StatusForbidden, CodeLinkExpired)
}

func TestHandler_MissingBlob(t *testing.T) {
	t.Parallel()
	st, _ := newLinkServer(t)
	ctx := t.Context()
	key := "renditions/exp_m/clip.mp4"
	if _, err := st.Put(ctx, key, strings.NewReader("x"), "video/mp4"); err != nil {
		t.Fatal(err)
	}
	link, _, err := st.SignedURL(ctx, key, time.Hour, "")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(link, "/dl/clip.mp4?") {
		t.Errorf("link %s should default the file name to the key's base", link)
	}
	if err := st.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	resp, body := do(t, http.MethodGet, link, nil)
	wantErrorCode(t, resp, body, http.StatusNotFound, CodeFileNotFound)
}

func TestHandler_NonASCIIFilename(t *testing.T) {
	t.Parallel()
	st, _ := newLinkServer(t)
	ctx := t.Context()
	key := "renditions/exp_u/clip.mp4"
	if _, err := st.Put(ctx, key, strings.NewReader("x"), "video/mp4"); err != nil {
		t.Fatal(err)
	}
	link, _, err := st.SignedURL(ctx, key, time.Hour, "Été/final.mp4")
	if err != nil {
		t.Fatal(err)
	}
	resp, _ := do(t, http.MethodGet, link, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d", resp.StatusCode)
	}
	if got, want := resp.Header.Get("Content-Disposition"), "attachment; filename*=utf-8''%C3%89t%C3%A9_final.mp4"; got != want {
		t.Errorf("Content-Disposition = %q, want %q", got, want)
	}
}
