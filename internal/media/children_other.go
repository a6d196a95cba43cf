//go:build !linux

package media

import (
	"errors"
	"os/exec"
)

// Other systems have no parent-death signal; the records only work where
// a process's start time can be read (Linux).
func setParentDeathSignal(*exec.Cmd) {}

var errNoProcessStart = errors.New("process start times are read on Linux only")

func processStart(int) (string, error) { return "", errNoProcessStart }

func processRunning(int, string) bool { return false }

func killProcess(int) error { return errNoProcessStart }
