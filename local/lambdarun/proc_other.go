//go:build !linux

package lambdarun

import "os/exec"

func setProcessAttributes(cmd *exec.Cmd) {}

func killProcess(cmd *exec.Cmd) { cmd.Process.Kill() }
