package blob

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestStore_S3 runs the store suite and the presigned-link checks against a
// real S3-compatible server: versitygw with its posix backend, started on a
// free 127.0.0.1 port. Install it with scripts/versitygw.sh.
func TestStore_S3(t *testing.T) {
	t.Parallel()
	gw := startVersityGW(t)
	ctx := t.Context()

	const bucket = "outpost-test"
	blobURL := gw.bucketURL(t, bucket)
	st, err := Open(ctx, blobURL, Options{S3AccessKeyID: gw.accessKey, S3SecretAccessKey: gw.secretKey})
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
		bad, err := Open(ctx, blobURL, Options{S3AccessKeyID: gw.accessKey, S3SecretAccessKey: "wrong"})
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
		if !strings.HasPrefix(link, gw.endpoint+"/"+bucket+"/") || !strings.Contains(link, "X-Amz-Signature=") {
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
		link, exp, err := st.SignedURL(ctx, key, time.Second, "")
		if err != nil {
			t.Fatal(err)
		}
		if resp, body := plainGet(t, link, nil); resp.StatusCode != http.StatusOK || string(body) != "short-lived" {
			t.Fatalf("fresh presigned GET: status %d, body %q", resp.StatusCode, body)
		}
		time.Sleep(time.Until(exp.Add(1100 * time.Millisecond)))
		resp, body := plainGet(t, link, nil)
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
	gw := startVersityGW(t)
	t.Setenv("AWS_ACCESS_KEY_ID", gw.accessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", gw.secretKey)
	t.Setenv("AWS_SESSION_TOKEN", "")
	blobURL := gw.bucketURL(t, "outpost-env")
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

// versityGW is a running versitygw process.
type versityGW struct {
	endpoint  string // http://127.0.0.1:PORT
	root      string // posix backend root; buckets are its subdirectories
	accessKey string
	secretKey string
}

// bucketURL creates bucket (a directory of the posix root) and returns
// its s3:// URL.
func (gw *versityGW) bucketURL(t *testing.T, bucket string) string {
	t.Helper()
	if err := os.Mkdir(filepath.Join(gw.root, bucket), 0o750); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("s3://%s?endpoint=%s&region=us-east-1&use_path_style=true", bucket, gw.endpoint)
}

// startVersityGW starts versitygw for the test and stops it at cleanup.
// Without the binary the test is skipped, or fails when CI is set.
func startVersityGW(t *testing.T) *versityGW {
	t.Helper()
	bin, err := findVersityGW()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("versitygw is required in CI: %v (run scripts/versitygw.sh)", err)
		}
		t.Skipf("skipping S3 test: %v; run scripts/versitygw.sh to install it into .bin", err)
	}

	gw := &versityGW{
		root:      t.TempDir(),
		accessKey: "outpost-test-key",
		secretKey: "outpost-test-secret-0123456789",
	}
	// A free port can be taken between probing and binding: retry.
	for attempt := range 3 {
		port, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		logs := &syncBuffer{}
		cmd := exec.Command(bin, "--port", addr, "posix", gw.root)
		cmd.Env = []string{
			"PATH=" + os.Getenv("PATH"),
			"HOME=" + os.Getenv("HOME"),
			"ROOT_ACCESS_KEY=" + gw.accessKey,
			"ROOT_SECRET_KEY=" + gw.secretKey,
		}
		cmd.Stdout, cmd.Stderr = logs, logs
		if err := cmd.Start(); err != nil {
			t.Fatalf("start %s: %v", bin, err)
		}
		exited := make(chan struct{})
		var waitErr error
		go func() { waitErr = cmd.Wait(); close(exited) }()
		if err := waitListening(addr, exited, &waitErr, 30*time.Second); err != nil {
			stopProcess(cmd, exited)
			if attempt < 2 {
				t.Logf("versitygw on %s did not come up (%v), retrying; log:\n%s", addr, err, logs.String())
				continue
			}
			t.Fatalf("versitygw on %s: %v; log:\n%s", addr, err, logs.String())
		}
		gw.endpoint = "http://" + addr
		t.Cleanup(func() {
			stopProcess(cmd, exited)
			if t.Failed() {
				t.Logf("versitygw log:\n%s", logs.String())
			}
		})
		t.Logf("versitygw %s serving %s on %s", bin, gw.root, gw.endpoint)
		return gw
	}
	panic("unreachable")
}

// findVersityGW looks on PATH, then in <repo>/.bin.
func findVersityGW() (string, error) {
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			p := filepath.Join(dir, ".bin", "versitygw")
			if _, err := os.Stat(p); err != nil {
				return "", fmt.Errorf("versitygw not on PATH nor at %s", p)
			}
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("versitygw not on PATH and no repository root found")
		}
		dir = parent
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitListening waits until addr accepts TCP connections, the process exits,
// or timeout passes.
func waitListening(addr string, exited <-chan struct{}, waitErr *error, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("exited early: %w", *waitErr)
		default:
		}
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			_ = c.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("not listening after %s", timeout)
}

// stopProcess sends SIGTERM, then SIGKILL after 5 s, and waits for exit.
func stopProcess(cmd *exec.Cmd, exited <-chan struct{}) {
	if cmd.Process == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
	}
}

// syncBuffer collects a child's output; Write and String may race.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
