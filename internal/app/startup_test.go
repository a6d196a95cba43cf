package app_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"outpost/internal/cli"
	"outpost/internal/errcode"
	"outpost/internal/tests3"
)

// TestServe_startupErrors starts the real binary with each configuration a
// new user gets wrong and checks that it stops with one line naming the
// problem (a stable code and a remedy) and a non-zero exit status, never a
// panic: no ffmpeg on PATH, a data dir that cannot be written, the port in
// use, a database or blob storage that is not there, a bad secret key.
func TestServe_startupErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	t.Parallel()
	needFFmpeg(t)
	bin := buildOutpost(t)

	// A regular file where a folder is expected: unusable as a data dir
	// even for root, who passes every permission check.
	file := filepath.Join(t.TempDir(), "not-a-folder")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = taken.Close() }) // the parallel subtests run after this function returns
	// A port nothing listens on: bound, then closed again.
	closed := freePort(t)
	badKeyDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(badKeyDir, "secret.key"), []byte("abc\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	noTools := t.TempDir() // an empty PATH: no ffmpeg, no ffprobe

	type tc struct {
		name string
		env  []string
		code errcode.Code
		exit int
		says string // in the message
	}
	cases := []tc{
		{"no ffmpeg", []string{"PATH=" + noTools}, errcode.FFmpegMissing, cli.ExitFailed, `ffmpeg not found`},
		{"no ffprobe", []string{"OUTPOST_FFPROBE=" + filepath.Join(noTools, "ffprobe")}, errcode.FFmpegMissing, cli.ExitFailed, `ffprobe not found`},
		{"data dir not writable", []string{"OUTPOST_DATA_DIR=" + file}, errcode.ConfigInvalid, cli.ExitUsage, "OUTPOST_DATA_DIR"},
		{"port in use", []string{"OUTPOST_LISTEN=" + taken.Addr().String()}, errcode.ConfigInvalid, cli.ExitUsage, "already in use"},
		{"database not there", []string{"OUTPOST_DATABASE_URL=postgres://outpost@127.0.0.1:" + closed + "/outpost?connect_timeout=5"},
			errcode.DBUnavailable, cli.ExitFailed, "connection refused"},
		{"database scheme", []string{"OUTPOST_DATABASE_URL=mysql://outpost@127.0.0.1/outpost"}, errcode.ConfigInvalid, cli.ExitUsage, `scheme "mysql"`},
		{"sqlite file under a file", []string{"OUTPOST_DATABASE_URL=sqlite:" + filepath.Join(file, "outpost.db")},
			errcode.DBUnavailable, cli.ExitFailed, "not a directory"},
		{"blob folder under a file", []string{"OUTPOST_BLOB_URL=file://" + filepath.Join(file, "blobs")},
			errcode.ConfigInvalid, cli.ExitUsage, "OUTPOST_BLOB_URL"},
		{"blob scheme", []string{"OUTPOST_BLOB_URL=ftp://example.com/x"}, errcode.ConfigInvalid, cli.ExitUsage, "OUTPOST_BLOB_URL"},
		{"secret key too short", []string{"OUTPOST_SECRET_KEY=abc"}, errcode.ConfigInvalid, cli.ExitUsage, "OUTPOST_SECRET_KEY"},
		{"secret key file damaged", []string{"OUTPOST_DATA_DIR=" + badKeyDir}, errcode.ConfigInvalid, cli.ExitUsage, "secret key file"},
	}
	if gw, err := tests3.Find(); err == nil && gw != "" {
		s3 := tests3.Start(t)
		// A bucket name with a typo: the server answers, the bucket is not there.
		cases = append(cases, tc{"s3 bucket not there", append(s3.Env(), "OUTPOST_BLOB_URL="+s3.BucketURL("no-such-bucket")),
			errcode.ConfigInvalid, cli.ExitUsage, "bucket does not exist"})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			env := append(processEnv(os.Environ()),
				"OUTPOST_DATA_DIR="+t.TempDir(),
				"OUTPOST_LISTEN=127.0.0.1:0",
				"OUTPOST_LOG_LEVEL=warn",
			)
			// A start that does not fail keeps serving: stop it, and say so.
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, "serve")
			// Later entries win: the case's settings replace the defaults.
			cmd.Env = append(env, c.env...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			var ee *exec.ExitError
			if ctx.Err() != nil {
				t.Fatalf("outpost serve did not stop\nstdout: %s\nstderr: %s", &stdout, &stderr)
			}
			if !errors.As(err, &ee) {
				t.Fatalf("outpost serve: %v, want an exit status\nstdout: %s\nstderr: %s", err, &stdout, &stderr)
			}
			out := stderr.String()
			if strings.Contains(out, "panic") || strings.Contains(out, "goroutine ") {
				t.Fatalf("outpost serve panicked:\n%s", out)
			}
			if ee.ExitCode() != c.exit {
				t.Errorf("exit status %d, want %d\n%s", ee.ExitCode(), c.exit, out)
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if len(lines) != 1 {
				t.Errorf("stderr has %d lines, want one:\n%s", len(lines), out)
			}
			line := lines[len(lines)-1]
			prefix := "outpost: " + string(c.code) + ": "
			if !strings.HasPrefix(line, prefix) || !strings.Contains(line, c.says) || !strings.Contains(line, " — remedy: ") {
				t.Errorf("error line = %q, want %q…%q… — remedy: …", line, prefix, c.says)
			}
		})
	}
}
