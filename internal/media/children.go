package media

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Children records the processes (ffmpeg, ffprobe) that a node starts, one
// file per process in Dir holding its pid and start time, removed when the
// process has been waited for. A node killed mid-render leaves its files
// behind; when it starts again, KillLeftovers stops the processes they name
// before the node takes its jobs again, so a retried render never runs
// beside its predecessor. A pid reused since by another program has another
// start time and is left alone.
//
// On Linux every child also dies with its parent (a parent-death signal),
// so leftovers are rare there; the records cover what that cannot: a
// platform without it, or a child that outlived its parent some other way.
//
// Dir must belong to one process at a time (a data dir's node slot). A nil
// *Children records nothing.
type Children struct {
	Dir string
}

// leftoverGone bounds how long KillLeftovers waits for a killed process
// to be gone.
const leftoverGone = 5 * time.Second

// run starts cmd and waits for it, returning the error of Start (the
// process never ran) or of Wait.
//
// The child gets a parent-death signal (Linux). The kernel sends it when
// the *thread* that started the child exits, not the process, and the Go
// runtime ends a thread whose goroutine exits while locked to it
// (golang/go#27505). So the child is started and waited for from a
// goroutine locked to its thread for the child's whole life: no other
// goroutine can run there, lock it and end it.
func (c *Children) run(cmd *exec.Cmd) (startErr, waitErr error) {
	type result struct{ start, wait error }
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		setParentDeathSignal(cmd)
		if err := cmd.Start(); err != nil {
			done <- result{start: err}
			return
		}
		forget := c.record(cmd.Process.Pid)
		err := cmd.Wait()
		forget()
		done <- result{wait: err}
	}()
	r := <-done
	return r.start, r.wait
}

// record writes pid's file and returns the function that removes it. A
// failure to record is not the child's failure: the child runs unrecorded.
func (c *Children) record(pid int) (forget func()) {
	if c == nil || c.Dir == "" {
		return func() {}
	}
	start, err := processStart(pid)
	if err != nil {
		return func() {}
	}
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return func() {}
	}
	path := filepath.Join(c.Dir, strconv.Itoa(pid))
	if err := os.WriteFile(path, []byte(start+"\n"), 0o600); err != nil {
		return func() {}
	}
	return func() { _ = os.Remove(path) }
}

// KillLeftovers kills (SIGKILL) the recorded processes that are still the
// ones recorded (same pid, same start time), waits until they are gone, and
// clears the records. It returns how many it killed. Call it before the
// node starts any process of its own.
func (c *Children) KillLeftovers(ctx context.Context) (int, error) {
	if c == nil || c.Dir == "" {
		return 0, nil
	}
	entries, err := os.ReadDir(c.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read child records: %w", err)
	}
	killed := map[int]string{} // pid → start
	var errs []error
	for _, e := range entries {
		path := filepath.Join(c.Dir, e.Name())
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid <= 1 {
			_ = os.Remove(path)
			continue
		}
		b, err := os.ReadFile(path)
		if err != nil {
			errs = append(errs, fmt.Errorf("read child record: %w", err))
			continue
		}
		if start, err := processStart(pid); err == nil && start == strings.TrimSpace(string(b)) {
			if err := killProcess(pid); err != nil {
				errs = append(errs, fmt.Errorf("kill leftover process %d: %w", pid, err))
				continue
			}
			killed[pid] = start
		}
		_ = os.Remove(path)
	}
	// SIGKILL is not refused, but the process goes only when its last
	// thread has exited: wait for it, so that its files are closed too.
	deadline := time.Now().Add(leftoverGone)
	for pid, start := range killed {
		for processRunning(pid, start) && time.Now().Before(deadline) && ctx.Err() == nil {
			time.Sleep(10 * time.Millisecond)
		}
	}
	return len(killed), errors.Join(errs...)
}
