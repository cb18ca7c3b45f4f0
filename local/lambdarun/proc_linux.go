package lambdarun

import (
	"os/exec"
	"syscall"
)

// setProcessAttributes puts the handler in its own process group, so that
// Ctrl-C reaches only the gateway, which then stops every instance, and asks
// the kernel to kill it if the gateway dies without cleaning up.
func setProcessAttributes(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

func killProcess(cmd *exec.Cmd) {
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
}
