package media

import (
	"os/exec"
	"syscall"
)

// startLowered prepares cmd to run at nice value nice (0: as the caller):
// in a process group of its own, which renice then lowers as a whole.
func startLowered(cmd *exec.Cmd, nice int) {
	if nice <= 0 {
		return
	}
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
}

// renice sets the nice value of the process group started by
// startLowered. Linux keeps the value per thread: PRIO_PGRP reaches every
// thread the process has started so far, and the threads it starts later
// inherit it. A value at or below the caller's own is left alone (raising
// a priority needs privileges).
func renice(pid, nice int) error {
	if nice <= 0 {
		return nil
	}
	// The raw syscall answers 20 - nice.
	prio, err := syscall.Getpriority(syscall.PRIO_PROCESS, 0)
	if err == nil && 20-prio >= nice {
		return nil
	}
	return syscall.Setpriority(syscall.PRIO_PGRP, pid, nice)
}
