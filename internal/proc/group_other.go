//go:build !linux

package proc

import "os/exec"

// setGroup: elsewhere than Linux, a command's children may outlive it.
func setGroup(cmd *exec.Cmd) {}

// KillGroup kills cmd's process.
func KillGroup(cmd *exec.Cmd) error {
	if cmd.Process == nil {
		return nil
	}
	return cmd.Process.Kill()
}
