package proc

import (
	"context"
	"os/exec"
	"time"
)

// CommandContext is exec.CommandContext for a command that leads its own
// process group, so that everything it starts (go build's compiler and
// linker, cdk synth's Node and app processes) stops with it: the context
// done kills the whole group, not only its leader (on Linux; elsewhere
// the process alone). See Group.
func CommandContext(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	Group(cmd)
	cmd.Cancel = func() error { return KillGroup(cmd) }
	return cmd
}

// Group makes cmd (not yet started) the leader of its own process group
// on Linux: Ctrl-C then reaches only jwtapi, which stops the group itself
// (KillGroup), and the kernel kills the leader if jwtapi dies without
// cleaning up.
func Group(cmd *exec.Cmd) {
	setGroup(cmd)
	cmd.WaitDelay = 5 * time.Second // a grandchild holding the output pipes cannot hang Wait
}
