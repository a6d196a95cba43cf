package media

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"outpost/internal/errcode"
	"outpost/internal/waitfor"
)

// realtimeArgs is an ffmpeg run that lasts about seconds of wall time
// whatever the machine's speed (-re), writing nothing.
func realtimeArgs(seconds int) []string {
	return []string{"-hide_banner", "-nostdin", "-loglevel", "error", "-re",
		"-f", "lavfi", "-i", "testsrc2=size=64x36:rate=10:duration=" + strconv.Itoa(seconds), "-f", "null", "-"}
}

// startFFmpeg starts a long ffmpeg the plain way (no parent-death signal,
// no record), as a process left over from a killed node would be, and
// stops it when the test ends.
func startFFmpeg(t *testing.T) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("ffmpeg", realtimeArgs(60)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	return cmd
}

func TestChildren_KillLeftovers(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("process start times are read from /proc")
	}
	t.Parallel()
	c := &Children{Dir: t.TempDir()}
	leftover := startFFmpeg(t)
	c.record(leftover.Process.Pid)
	// A pid reused by another program since it was recorded: the record's
	// start time is not the running process's.
	reused := startFFmpeg(t)
	start, err := processStart(reused.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(start)
	ticks, _ := strconv.Atoi(f[1])
	if err := os.WriteFile(filepath.Join(c.Dir, strconv.Itoa(reused.Process.Pid)),
		fmt.Appendf(nil, "%s %d\n", f[0], ticks-1), 0o600); err != nil {
		t.Fatal(err)
	}
	// A process that ended on its own, and a stray file.
	if err := os.WriteFile(filepath.Join(c.Dir, "999999999"), []byte(start+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(c.Dir, "notes.txt"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}

	n, err := c.KillLeftovers(t.Context())
	if err != nil || n != 1 {
		t.Fatalf("KillLeftovers = %d, %v; want 1 killed", n, err)
	}
	lstart, _ := processStart(leftover.Process.Pid)
	if processRunning(leftover.Process.Pid, lstart) {
		t.Error("the recorded ffmpeg still runs")
	}
	if !processRunning(reused.Process.Pid, start) {
		t.Error("the process with a reused pid was killed")
	}
	if left, _ := os.ReadDir(c.Dir); len(left) != 0 {
		t.Errorf("records left: %v", left)
	}
	// Nothing recorded: nothing to do.
	if n, err := (&Children{Dir: filepath.Join(t.TempDir(), "none")}).KillLeftovers(t.Context()); n != 0 || err != nil {
		t.Errorf("KillLeftovers of no records = %d, %v", n, err)
	}
}

// TestRunner_recordsChildren: a run's ffmpeg is recorded while it runs and
// forgotten once it has exited.
func TestRunner_recordsChildren(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("process start times are read from /proc")
	}
	t.Parallel()
	c := &Children{Dir: t.TempDir()}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- (&Runner{Children: c}).Run(ctx, realtimeArgs(30), 30, nil)
	}()
	waitfor.True(t, 30*time.Second, func() bool {
		e, _ := os.ReadDir(c.Dir)
		return len(e) == 1
	}, "the running ffmpeg is recorded")
	cancel()
	if err := <-done; errcode.Of(err) != errcode.Canceled {
		t.Fatalf("Run = %v, want canceled", err)
	}
	if e, _ := os.ReadDir(c.Dir); len(e) != 0 {
		t.Errorf("records left after the run: %v", e)
	}
}

// helperEnv makes the test binary act as a process that renders with
// Runner (see TestMain).
const helperEnv = "OUTPOST_MEDIA_TEST_HELPER"

func TestMain(m *testing.M) {
	if dir := os.Getenv(helperEnv); dir != "" {
		os.Exit(renderHelper(dir))
	}
	os.Exit(m.Run())
}

// renderHelper runs a long ffmpeg through Runner, recorded in dir, while
// other goroutines end their OS threads (a goroutine that exits locked to
// its thread ends it): the thread that started ffmpeg must not be one of
// them, or the parent-death signal would kill ffmpeg early. It prints
// "churned" once the threads are gone, then waits for the render.
func renderHelper(dir string) int {
	done := make(chan error, 1)
	go func() {
		done <- (&Runner{Children: &Children{Dir: dir}}).Run(context.Background(), realtimeArgs(60), 60, nil)
	}()
	if err := waitfor.Until(time.Minute, func() error {
		if e, _ := os.ReadDir(dir); len(e) == 0 {
			return errors.New("ffmpeg not recorded yet")
		}
		return nil
	}); err != nil {
		fmt.Println(err)
		return 1
	}
	var wg sync.WaitGroup
	for range 4 * runtime.NumCPU() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		}()
		wg.Wait()
	}
	fmt.Println("churned")
	if err := <-done; err != nil {
		fmt.Println(err)
		return 1
	}
	return 0
}

// TestRunner_ffmpegDiesWithParent kills (SIGKILL) a process in the middle
// of a Runner render: its ffmpeg must go with it, at once, rather than be
// reparented and go on rendering. Before that, threads of the parent come
// and go, which must not kill ffmpeg early (golang/go#27505).
func TestRunner_ffmpegDiesWithParent(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the parent-death signal is Linux's")
	}
	t.Parallel()
	dir := t.TempDir()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	parent := exec.Command(exe, "-test.run=^$")
	parent.Env = append(os.Environ(), helperEnv+"="+dir)
	out, err := parent.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := parent.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = parent.Process.Kill(); _ = parent.Wait() })
	line := make([]byte, 64)
	n, _ := out.Read(line)
	if got := strings.TrimSpace(string(line[:n])); got != "churned" {
		t.Fatalf("helper said %q, want churned", got)
	}
	e, err := os.ReadDir(dir)
	if err != nil || len(e) != 1 {
		t.Fatalf("records: %v, %v", e, err)
	}
	pid, _ := strconv.Atoi(e[0].Name())
	b, _ := os.ReadFile(filepath.Join(dir, e[0].Name()))
	start := strings.TrimSpace(string(b))
	if !processRunning(pid, start) {
		t.Fatal("ffmpeg died while its parent's other threads ended")
	}

	if err := parent.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	var ee *exec.ExitError
	if err := parent.Wait(); !errors.As(err, &ee) {
		t.Fatalf("parent: %v", err)
	}
	waitfor.True(t, 2*time.Second, func() bool { return !processRunning(pid, start) },
		"ffmpeg (pid %d) stops within 2 s of its parent's SIGKILL", pid)
}
