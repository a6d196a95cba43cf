package blob

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"outpost/internal/tests3"
	"outpost/internal/waitfor"
)

// TestStore_S3 runs the store suite and the presigned-link checks against a
// real S3-compatible server: versitygw with its posix backend, started on a
// free 127.0.0.1 port. Install it with scripts/versitygw.sh.
func TestStore_S3(t *testing.T) {
	t.Parallel()
	gw := tests3.Start(t)
	ctx := t.Context()

	const bucket = "outpost-test"
	blobURL := gw.Bucket(t, bucket)
	st, err := Open(ctx, blobURL, Options{S3AccessKeyID: gw.AccessKey, S3SecretAccessKey: gw.SecretKey})
	if err != nil {
		t.Fatalf("Open(%s): %v", blobURL, err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})

	t.Run("Suite", func(t *testing.T) { runStoreSuite(t, st) })

	t.Run("WrongCredentials", func(t *testing.T) {
		t.Parallel()
		bad, err := Open(ctx, blobURL, Options{S3AccessKeyID: gw.AccessKey, S3SecretAccessKey: "wrong"})
		if err != nil {
			t.Fatal(err)
		}
		defer bad.Close()
		_, err = bad.Put(t.Context(), "renditions/x/y.mp4", strings.NewReader("x"), "video/mp4")
		if err == nil || !strings.Contains(err.Error(), "SignatureDoesNotMatch") {
			t.Fatalf("Put with a wrong secret = %v, want SignatureDoesNotMatch", err)
		}
	})

	t.Run("PresignedGet", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		key := "renditions/exp_s3/tiktok.mp4"
		payload := bytes.Repeat([]byte("presigned "), 1000)
		if _, err := st.Put(ctx, key, bytes.NewReader(payload), "video/mp4"); err != nil {
			t.Fatal(err)
		}
		link, exp, err := st.SignedURL(ctx, key, time.Hour, "TikTok cut.mp4")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(link, gw.Endpoint+"/"+bucket+"/") || !strings.Contains(link, "X-Amz-Signature=") {
			t.Fatalf("presigned link = %s", link)
		}
		if d := time.Until(exp); d < 59*time.Minute || d > time.Hour+time.Second {
			t.Errorf("expiry in %s, want about 1h", d)
		}
		resp, body := plainGet(t, link, nil)
		if resp.StatusCode != http.StatusOK || !bytes.Equal(body, payload) {
			t.Fatalf("GET presigned: status %d, %d bytes (%.200s)", resp.StatusCode, len(body), body)
		}
		if got, want := resp.Header.Get("Content-Disposition"), `attachment; filename="TikTok cut.mp4"`; got != want {
			t.Errorf("Content-Disposition = %q, want %q", got, want)
		}
		resp, body = plainGet(t, link, map[string]string{"Range": "bytes=10-19"})
		if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, payload[10:20]) {
			t.Errorf("ranged GET presigned: status %d, body %q", resp.StatusCode, body)
		}
		if _, _, err := st.SignedURL(ctx, key, 8*24*time.Hour, ""); err == nil {
			t.Error("SignedURL accepted a TTL over 7 days")
		}
	})

	t.Run("PresignedGetExpires", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		key := "renditions/exp_s3/short.mp4"
		if _, err := st.Put(ctx, key, strings.NewReader("short-lived"), "video/mp4"); err != nil {
			t.Fatal(err)
		}
		link, _, err := st.SignedURL(ctx, key, time.Second, "")
		if err != nil {
			t.Fatal(err)
		}
		if resp, body := plainGet(t, link, nil); resp.StatusCode != http.StatusOK || string(body) != "short-lived" {
			t.Fatalf("fresh presigned GET: status %d, body %q", resp.StatusCode, body)
		}
		var resp *http.Response
		var body []byte
		waitfor.Check(t, 10*time.Second, func() error {
			if resp, body = plainGet(t, link, nil); resp.StatusCode == http.StatusOK {
				return errors.New("the presigned link still works")
			}
			return nil
		}, "the presigned link expires")
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("expired presigned GET: status %d, want 403 (%.300s)", resp.StatusCode, body)
		}
	})

	t.Run("NoLocalLinks", func(t *testing.T) {
		t.Parallel()
		req := httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/dl/x.mp4?obj=a&expiry=99999999999&method=GET&signature=x", nil)
		rec := httptest.NewRecorder()
		st.Handler().ServeHTTP(rec, req)
		if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), CodeLinkInvalid) {
			t.Fatalf("S3 store handler: status %d body %s", rec.Code, rec.Body.String())
		}
	})
}

// TestOpen_S3EnvCredentials covers the production default: no credentials
// in Options, the standard AWS environment variables instead. It cannot
// run in parallel because it sets the process environment.
func TestOpen_S3EnvCredentials(t *testing.T) {
	gw := tests3.Start(t)
	t.Setenv("AWS_ACCESS_KEY_ID", gw.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", gw.SecretKey)
	t.Setenv("AWS_SESSION_TOKEN", "")
	blobURL := gw.Bucket(t, "outpost-env")
	st, err := Open(t.Context(), blobURL, Options{})
	if err != nil {
		t.Fatalf("Open(%s): %v", blobURL, err)
	}
	defer st.Close()
	key := "renditions/exp_env/clip.mp4"
	if _, err := st.Put(t.Context(), key, strings.NewReader("from env"), "video/mp4"); err != nil {
		t.Fatalf("Put with env credentials: %v", err)
	}
	if got := readAll(t, st, key, 0, -1); string(got) != "from env" {
		t.Fatalf("read %q", got)
	}
}

func plainGet(t *testing.T, link string, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, link, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", link, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}
