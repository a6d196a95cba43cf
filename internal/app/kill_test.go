package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"outpost/internal/media/mediatest"
	"outpost/internal/store"
	"outpost/internal/waitfor"
)

// TestServe_killed kills `outpost serve` with SIGKILL in the middle of a
// render, then checks that the export completes with exactly one rendition
// and one file per target, at once rather than after River's stuck-job
// rescue: when the same node restarts on its data dir, and when another
// node (`outpost worker`, sharing the database and storage) notices that the
// dead one stopped sending heartbeats.
func TestServe_killed(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and renders for a while")
	}
	t.Parallel()
	needFFmpeg(t)
	bin := buildOutpost(t)
	// Sequential: each renders on every core.
	t.Run("same node restarts", func(t *testing.T) { killAndRecover(t, bin, false) })
	t.Run("another node takes over", func(t *testing.T) { killAndRecover(t, bin, true) })
}

func killAndRecover(t *testing.T, bin string, otherNode bool) {
	data := t.TempDir()
	port := freePort(t)
	base := "http://127.0.0.1:" + port
	env := append(processEnv(os.Environ()),
		"OUTPOST_DATA_DIR="+data,
		"OUTPOST_LISTEN=127.0.0.1:"+port,
		"OUTPOST_BOOTSTRAP_API_KEY="+testAPIKey,
		"OUTPOST_LOG_LEVEL=info",
		"OUTPOST_NODE_TIMEOUT=4s",
	)
	logs := filepath.Join(t.TempDir(), "outpost.log")
	first := startOutpost(t, bin, "serve", env, logs, base)

	// A source long enough to be killed mid-render, uploaded over the API.
	src := mediatest.Generate(t, mediatest.Spec{Width: 320, Height: 180, Duration: 16, Audio: true})
	var prj struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	upload(t, base+"/api/v1/projects", src, &prj)
	if prj.ID == "" || prj.Status != "ready" {
		t.Fatalf("project = %+v", prj)
	}
	targets := []string{"mp4-720p", "mp4-1080p", "linkedin-square"}
	var body struct {
		ProjectID string           `json:"project_id"`
		Targets   []map[string]any `json:"targets"`
	}
	body.ProjectID = prj.ID
	for _, p := range targets {
		body.Targets = append(body.Targets, map[string]any{"preset": p, "quality": "web"})
	}
	var exp struct {
		ID string `json:"id"`
	}
	postJSON(t, base+"/api/v1/exports", body, http.StatusAccepted, &exp)

	// The test reads the same SQLite file.
	s, err := store.Open(t.Context(), "sqlite:"+filepath.Join(data, "outpost.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	x := waitExport(t, s, exp.ID, 120*time.Second, "progress over 10 %", func(x store.Export) bool {
		return x.Progress.Percent > 10 || x.Status.Final()
	})
	if x.Status.Final() {
		t.Fatalf("the export finished before it could be killed (%s): make the source longer", x.Status)
	}
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()
	killedAt := time.Now()
	t.Logf("killed at %.1f %% (%s)", x.Progress.Percent, x.Progress.Stage)
	// Its ffmpeg dies with it (the parent-death signal), rather than
	// rendering on beside the retry.
	waitfor.True(t, 2*time.Second, func() bool { return len(ffmpegOf(t, exp.ID)) == 0 },
		"no ffmpeg of export %s runs 2 s after outpost was killed", exp.ID)
	if x, err := s.GetExport(t.Context(), exp.ID); err != nil || x.Status != store.ExportRunning {
		t.Fatalf("after the kill: %s, %v", x.Status, err)
	}

	var second *exec.Cmd
	if otherNode {
		// Another host's worker: its own data dir, the same database,
		// storage and secret key (the one serve generated).
		env2 := append(processEnv(env),
			"OUTPOST_DATA_DIR="+t.TempDir(),
			"OUTPOST_SECRET_KEY_FILE="+filepath.Join(data, "secret.key"),
			"OUTPOST_DATABASE_URL=sqlite:"+filepath.Join(data, "outpost.db"),
			"OUTPOST_BLOB_URL=file://"+filepath.Join(data, "blobs"),
			"OUTPOST_LOG_LEVEL=info",
			"OUTPOST_NODE_TIMEOUT=4s",
		)
		second = startOutpost(t, bin, "worker", env2, logs, "")
	} else {
		second = startOutpost(t, bin, "serve", env, logs, base)
	}
	// While the retry renders, its ffmpeg is the export's only one.
	var seen int
	x = waitExport(t, s, exp.ID, 6*time.Minute, "a final status", func(x store.Export) bool {
		procs := ffmpegOf(t, exp.ID)
		for _, p := range procs {
			if p.ppid != second.Process.Pid {
				t.Errorf("ffmpeg %d of the export runs under %d, not the running outpost %d", p.pid, p.ppid, second.Process.Pid)
			}
		}
		if len(procs) > 1 {
			t.Errorf("%d ffmpeg processes render export %s at once", len(procs), exp.ID)
		}
		seen = max(seen, len(procs))
		return x.Status.Final()
	})
	if seen == 0 {
		t.Log("the retried render was not seen running (it finished between two looks)")
	}
	t.Logf("finished %s after the kill", time.Since(killedAt).Round(time.Second))
	if x.Status != store.ExportSucceeded {
		t.Fatalf("export = %s %s %s\n%s", x.Status, x.ErrorCode, x.ErrorMessage, tail(logs))
	}
	rends, err := s.ListRenditions(t.Context(), exp.ID)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for i, r := range rends {
		if r.Status != store.RenditionSucceeded || r.PresetID != targets[i] || r.TargetIndex != i || r.BlobKey == "" {
			t.Errorf("rendition %d = %+v", i, r)
		}
		keys = append(keys, r.BlobKey)
		if r.ThumbnailKey != "" {
			keys = append(keys, r.ThumbnailKey)
		}
	}
	if len(rends) != len(targets) {
		t.Errorf("%d renditions, want %d", len(rends), len(targets))
	}
	// Exactly the renditions' files and thumbnails, nothing half-written.
	var files []string
	root := filepath.Join(data, "blobs", "renditions")
	_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.HasSuffix(p, ".attrs") {
			rel, _ := filepath.Rel(filepath.Join(data, "blobs"), p)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	slices.Sort(files)
	slices.Sort(keys)
	if !slices.Equal(files, keys) {
		t.Errorf("files in storage = %v, want %v", files, keys)
	}
	// One job, worked twice: killed, then retried.
	client, err := river.NewClient(s.RiverDriver(), &river.Config{})
	if err != nil {
		t.Fatal(err)
	}
	var jl *river.JobListResult
	// River records the completion just after the job returns; the checks
	// below say what is wrong when it never does.
	_ = waitfor.Until(20*time.Second, func() error {
		jl, err = client.JobList(t.Context(), river.NewJobListParams().Kinds("export.render").States(
			rivertype.JobStateCompleted, rivertype.JobStateRunning, rivertype.JobStateAvailable, rivertype.JobStateRetryable))
		if err != nil {
			t.Fatal(err)
		}
		if len(jl.Jobs) == 1 && jl.Jobs[0].State == rivertype.JobStateRunning {
			return errors.New("the job is still running")
		}
		return nil
	})
	if len(jl.Jobs) != 1 || jl.Jobs[0].State != rivertype.JobStateCompleted || jl.Jobs[0].Attempt != 2 ||
		len(jl.Jobs[0].AttemptedBy) != 2 || (jl.Jobs[0].AttemptedBy[0] != jl.Jobs[0].AttemptedBy[1]) != otherNode {
		for _, j := range jl.Jobs {
			t.Logf("job %d: %s, attempt %d by %v, errors %+v", j.ID, j.State, j.Attempt, j.AttemptedBy, j.Errors)
		}
		t.Errorf("want one completed job, attempted twice (by another node: %v)", otherNode)
	} else if at := jl.Jobs[0].AttemptedAt; at != nil {
		t.Logf("retried %s after the kill", at.Sub(killedAt).Round(time.Millisecond))
	}

	// A clean stop on SIGTERM.
	if err := second.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- second.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("outpost after SIGTERM: %v\n%s", err, tail(logs))
		}
	case <-time.After(30 * time.Second):
		t.Errorf("outpost still running 30 s after SIGTERM")
	}
}

// proc is a process of the machine.
type proc struct{ pid, ppid int }

// ffmpegOf lists the running ffmpeg processes whose command line names the
// export (its work folder), zombies excluded.
func ffmpegOf(t *testing.T, exportID string) []proc {
	t.Helper()
	dirs, err := filepath.Glob("/proc/[0-9]*")
	if err != nil {
		t.Fatal(err)
	}
	var out []proc
	for _, d := range dirs {
		cmdline, err := os.ReadFile(filepath.Join(d, "cmdline"))
		if err != nil {
			continue // gone meanwhile
		}
		argv := strings.Split(string(cmdline), "\x00")
		if filepath.Base(argv[0]) != "ffmpeg" || !strings.Contains(string(cmdline), exportID) {
			continue
		}
		stat, err := os.ReadFile(filepath.Join(d, "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid …; comm may hold spaces.
		f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if len(f) < 2 || f[0] == "Z" {
			continue
		}
		pid, _ := strconv.Atoi(filepath.Base(d))
		ppid, _ := strconv.Atoi(f[1])
		out = append(out, proc{pid, ppid})
	}
	return out
}

func buildOutpost(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "outpost")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/outpost")
	cmd.Dir = filepath.Join("..", "..")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
}

// processEnv is environ without the caller's OUTPOST_ settings, for an
// outpost process a test starts. Its renders run at normal priority: at
// the default OUTPOST_RENDER_NICE a loaded machine (make test beside a
// bench) gives them a tenth of a core and the test's waits run out.
func processEnv(environ []string) []string {
	env := slices.DeleteFunc(slices.Clone(environ), func(kv string) bool { return strings.HasPrefix(kv, "OUTPOST_") })
	return append(env, "OUTPOST_RENDER_NICE=0")
}

// startOutpost starts `outpost CMD` in its own process group (so that the
// ffmpeg it leaves behind when killed is cleaned up after the test) and,
// startProcess starts bin with args in a process group of its own, its
// output appended to logPath; the group is killed at cleanup.
func startProcess(t *testing.T, bin string, args, env []string, logPath string) *exec.Cmd {
	t.Helper()
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = logf.Close() })
	cmd := exec.Command(bin, args...)
	cmd.Env, cmd.Stdout, cmd.Stderr = env, logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pgid := cmd.Process.Pid
	t.Cleanup(func() {
		// Only while the process is not reaped: once a test has waited
		// for it, its group's number may be another process's (pid_max
		// is 32768 on the test machines, and the suite starts thousands
		// of processes), and a kill by number would hit that one, an
		// ffmpeg of another package's test, say. Its own children die
		// with it (ffmpeg's parent-death signal).
		if cmd.ProcessState == nil {
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			_ = cmd.Wait()
		}
	})
	return cmd
}

// given a base URL, waits until it answers there.
func startOutpost(t *testing.T, bin, command string, env []string, logPath, base string) *exec.Cmd {
	t.Helper()
	cmd := startProcess(t, bin, []string{command}, env, logPath)
	if base == "" {
		return cmd
	}
	if err := waitfor.Until(60*time.Second, waitfor.OK(base+"/healthz")); err != nil {
		t.Fatalf("outpost %s did not answer on %s: %v\n%s", command, base, err, tail(logPath))
	}
	return cmd
}

func waitExport(t *testing.T, s *store.Store, id string, timeout time.Duration, what string, cond func(store.Export) bool) store.Export {
	t.Helper()
	return waitfor.Value(t, timeout, func() (store.Export, error) {
		x, err := s.GetExport(t.Context(), id)
		if err != nil {
			return x, err
		}
		if !cond(x) {
			return x, fmt.Errorf("%s at %.1f %% (%s)", x.Status, x.Progress.Percent, x.Progress.Stage)
		}
		return x, nil
	}, "export %s: %s", id, what)
}

func upload(t *testing.T, url, path string, out any) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, err := mw.CreateFormFile("file", filepath.Base(path))
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := io.Copy(fw, f); err != nil {
		t.Fatal(err)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	do(t, http.MethodPost, url, mw.FormDataContentType(), &buf, http.StatusCreated, out)
}

func postJSON(t *testing.T, url string, in any, want int, out any) {
	t.Helper()
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	do(t, http.MethodPost, url, "application/json", bytes.NewReader(b), want, out)
}

func do(t *testing.T, method, url, contentType string, body io.Reader, want int, out any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+testAPIKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s = %d %s, want %d", method, url, resp.StatusCode, b, want)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("%s %s: %v in %s", method, url, err, b)
	}
}

// tail returns the end of a log file, for failure messages.
func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 6000 {
		b = b[len(b)-6000:]
	}
	return string(b)
}
