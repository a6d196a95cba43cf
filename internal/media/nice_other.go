//go:build !linux

package media

import "os/exec"

// startLowered and renice lower ffmpeg's CPU priority on Linux only.
func startLowered(*exec.Cmd, int) {}

func renice(int, int) error { return nil }
