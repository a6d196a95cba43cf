// Package tests3 gives a test a real S3-compatible server: versitygw with
// its posix backend, on a free 127.0.0.1 port, over a temporary directory.
//
//	gw := tests3.Start(t)
//	blobURL := gw.Bucket(t, "outpost-test") // s3://outpost-test?endpoint=…
//	// credentials: gw.AccessKey, gw.SecretKey (or gw.Env() for a child process)
//
// The binary is looked up on PATH, then at <repo>/.bin/versitygw (where
// scripts/versitygw.sh installs it). When it is missing the test is
// skipped, unless the CI variable is non-empty: CI must cover S3, so there it
// fails. The server stops when the test ends.
package tests3

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"outpost/internal/waitfor"
)

// Region is the region the bucket URLs name; versitygw accepts any.
const Region = "us-east-1"

// Server is a running versitygw.
type Server struct {
	Endpoint  string // http://127.0.0.1:PORT
	Root      string // posix backend root; buckets are its subdirectories
	AccessKey string
	SecretKey string
}

// ErrNotFound reports that no versitygw binary was found.
var ErrNotFound = errors.New("versitygw not found (run scripts/versitygw.sh to install it into .bin)")

// Start starts versitygw for t and stops it at cleanup. Without the binary
// t is skipped, or fails when CI is set.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := Find()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("tests3: versitygw is required in CI: %v", err)
		}
		t.Skipf("tests3: skipping S3 test: %v", err)
	}
	s, stop, err := Launch(bin, t.TempDir(), t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if logs := stop(); t.Failed() {
			t.Logf("tests3: versitygw log:\n%s", logs)
		}
	})
	return s
}

// Launch starts the versitygw binary bin over the posix root dir (a
// benchmark's, or a test's through Start). stop stops it and returns its
// log; logf reports retries.
func Launch(bin, root string, logf func(format string, args ...any)) (_ *Server, stop func() string, _ error) {
	s := &Server{
		Root:      root,
		AccessKey: "outpost-test-key",
		SecretKey: "outpost-test-secret-0123456789",
	}
	// A free port can be taken between probing and binding: retry.
	for attempt := range 3 {
		port, err := freePort()
		if err != nil {
			return nil, nil, err
		}
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		logs := &syncBuffer{}
		cmd := exec.Command(bin, "--port", addr, "posix", s.Root)
		cmd.Env = []string{
			"PATH=" + os.Getenv("PATH"),
			"HOME=" + os.Getenv("HOME"),
			"ROOT_ACCESS_KEY=" + s.AccessKey,
			"ROOT_SECRET_KEY=" + s.SecretKey,
		}
		cmd.Stdout, cmd.Stderr = logs, logs
		// Its own process group, so that a SIGINT to the test's terminal
		// reaches the test first; Pdeathsig so that a killed test binary
		// does not leave it running.
		cmd.SysProcAttr = sysProcAttr()
		if err := cmd.Start(); err != nil {
			return nil, nil, fmt.Errorf("tests3: start %s: %w", bin, err)
		}
		exited := make(chan struct{})
		var waitErr error
		go func() { waitErr = cmd.Wait(); close(exited) }()
		if err := waitListening(addr, exited, &waitErr, 30*time.Second); err != nil {
			stopCmd(cmd, exited)
			if attempt < 2 {
				logf("tests3: versitygw on %s did not come up (%v), retrying; log:\n%s", addr, err, logs.String())
				continue
			}
			return nil, nil, fmt.Errorf("tests3: versitygw on %s: %w; log:\n%s", addr, err, logs.String())
		}
		s.Endpoint = "http://" + addr
		return s, func() string { stopCmd(cmd, exited); return logs.String() }, nil
	}
	panic("unreachable")
}

// Bucket creates bucket (a directory of the posix root) and returns its
// s3:// blob URL, path-style, on this server.
func (s *Server) Bucket(t testing.TB, bucket string) string {
	t.Helper()
	if err := os.Mkdir(filepath.Join(s.Root, bucket), 0o750); err != nil {
		t.Fatalf("tests3: create bucket: %v", err)
	}
	return s.BucketURL(bucket)
}

// BucketURL is the s3:// blob URL of an existing bucket.
func (s *Server) BucketURL(bucket string) string {
	return fmt.Sprintf("s3://%s?endpoint=%s&region=%s&use_path_style=true", bucket, s.Endpoint, Region)
}

// ObjectPath is where the posix backend keeps an object's bytes: tests can
// stat it without an S3 client.
func (s *Server) ObjectPath(bucket, key string) string {
	return filepath.Join(s.Root, bucket, filepath.FromSlash(key))
}

// Env returns the standard AWS variables that give a child process the
// server's credentials.
func (s *Server) Env() []string {
	return []string{
		"AWS_ACCESS_KEY_ID=" + s.AccessKey,
		"AWS_SECRET_ACCESS_KEY=" + s.SecretKey,
		"AWS_REGION=" + Region,
		"AWS_SESSION_TOKEN=",
	}
}

// Find returns the versitygw binary: on PATH, else <repo>/.bin/versitygw,
// the repository root being the nearest directory above the working
// directory with a go.mod.
func Find() (string, error) {
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find versitygw: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			p := filepath.Join(dir, ".bin", "versitygw")
			if _, err := os.Stat(p); err != nil {
				return "", fmt.Errorf("%w: not on PATH nor at %s", ErrNotFound, p)
			}
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("%w: not on PATH and no repository root above the working directory", ErrNotFound)
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

// waitListening waits until addr accepts TCP connections, the process
// exits, or timeout passes.
func waitListening(addr string, exited <-chan struct{}, waitErr *error, timeout time.Duration) error {
	err := waitfor.Until(timeout, func() error {
		select {
		case <-exited:
			return waitfor.Stop(fmt.Errorf("exited early: %w", *waitErr))
		default:
		}
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			return err
		}
		_ = c.Close()
		return nil
	})
	if err != nil {
		return fmt.Errorf("not listening after %s: %w", timeout, err)
	}
	return nil
}

// stopCmd sends SIGTERM, then SIGKILL after 5 s, and waits for the exit.
func stopCmd(cmd *exec.Cmd, exited <-chan struct{}) {
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
