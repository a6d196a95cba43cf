package tests3

import "syscall"

// sysProcAttr ties versitygw to the test binary: it gets SIGKILL when the
// thread that started it dies.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
