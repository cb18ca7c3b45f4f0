//go:build !linux

package proc

import (
	"context"
	"os/exec"
	"time"
)

// CommandContext is exec.CommandContext; elsewhere than Linux, the
// context done kills the process alone.
func CommandContext(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	Group(cmd)
	return cmd
}

// Group: elsewhere than Linux, a cancelled context kills the process
// alone; its children may outlive it.
func Group(cmd *exec.Cmd) {
	cmd.WaitDelay = 5 * time.Second
}

// KillGroup kills cmd's process.
func KillGroup(cmd *exec.Cmd) error {
	if cmd.Process == nil {
		return nil
	}
	return cmd.Process.Kill()
}
