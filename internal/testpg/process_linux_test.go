//go:build linux

package testpg

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"outpost/internal/waitfor"
)

// TestServer_diesWithParent kills a test binary that started a server and
// checks that the server does not outlive it.
func TestServer_diesWithParent(t *testing.T) {
	if os.Getenv("OUTPOST_TESTPG_CHILD") != "" {
		pg.URL(t)
		fmt.Printf("POSTMASTER %d %s\n", pg.proc.cmd.Process.Pid, pg.proc.dir)
		time.Sleep(time.Minute)
		return
	}
	t.Parallel()
	if os.Getenv(EnvURL) != "" {
		t.Skip("uses " + EnvURL + ": no server is started")
	}
	if _, err := findBinDir(); err != nil {
		pg.URL(t) // skips or fails as configured
	}

	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	child := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestServer_diesWithParent$", "-test.v")
	child.Env = append(os.Environ(), "OUTPOST_TESTPG_CHILD=1")
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	var pid int
	var dir string
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if _, err := fmt.Sscanf(sc.Text(), "POSTMASTER %d %s", &pid, &dir); err == nil {
			break
		}
	}
	if pid == 0 {
		_ = child.Process.Kill()
		t.Fatalf("child printed no postmaster pid (%v)", child.Wait())
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if !alive(pid) {
		t.Fatalf("postmaster %d not running", pid)
	}
	_ = child.Process.Kill() // SIGKILL: no cleanup code runs
	_ = child.Wait()

	if waitfor.Until(20*time.Second, func() error {
		if alive(pid) && !isZombie(pid) {
			return errors.New("running")
		}
		return nil
	}) != nil {
		_ = syscall.Kill(pid, syscall.SIGKILL)
		t.Fatalf("postmaster %d still running 20s after its test binary was killed", pid)
	}
	// The next start sweeps the directory away.
	if !strings.HasPrefix(dir, baseDir()) {
		t.Errorf("server dir %s is not under %s", dir, baseDir())
	}
	sweepStale()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("stale dir %s not swept: %v", dir, err)
	}
}

// isZombie reports whether pid has exited but not been reaped (its parent,
// the killed binary, is gone; init reaps it shortly).
func isZombie(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	_, rest, _ := strings.Cut(string(b), ") ")
	return strings.HasPrefix(rest, "Z")
}
