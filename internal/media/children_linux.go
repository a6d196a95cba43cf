package media

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
)

// setParentDeathSignal has the kernel kill the child when the thread that
// started it exits (see Children.run for why that is the process).
func setParentDeathSignal(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}

// processStart identifies a process beyond its pid: the boot it runs in and
// its start time in clock ticks since boot (/proc/PID/stat field 22), which
// a pid reused later does not share.
func processStart(pid int) (string, error) {
	f, err := procStat(pid)
	if err != nil {
		return "", err
	}
	boot, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return "", fmt.Errorf("read boot id: %w", err)
	}
	return strings.TrimSpace(string(boot)) + " " + f[22-3], nil
}

// processRunning reports whether pid is still the process started at start
// and not yet a zombie (dead, waiting to be reaped).
func processRunning(pid int, start string) bool {
	f, err := procStat(pid)
	if err != nil || f[0] == "Z" || f[0] == "X" {
		return false
	}
	now, err := processStart(pid)
	return err == nil && now == start
}

// procStat returns the fields of /proc/PID/stat after the command name,
// from field 3 (state) on: the name is in parentheses and may hold spaces.
func procStat(pid int) ([]string, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil, fmt.Errorf("parse /proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 22-3+1 {
		return nil, fmt.Errorf("parse /proc/%d/stat: %d fields", pid, len(f)+2)
	}
	return f, nil
}

func killProcess(pid int) error { return syscall.Kill(pid, syscall.SIGKILL) }
