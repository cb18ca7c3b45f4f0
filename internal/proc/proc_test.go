package proc

import (
	"os"
	"os/exec"
	"runtime"
	"slices"
	"syscall"
	"testing"
	"time"
)

func TestAliveAndDescendants(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	if !Alive(os.Getpid()) {
		t.Fatal("this process is not alive")
	}
	cmd := exec.Command("sh", "-c", "sleep 30 & wait")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var kids []int
	for range 200 {
		if kids = Descendants(os.Getpid()); len(kids) >= 2 {
			break
		}
		exec.Command("true").Run()
	}
	if !slices.Contains(kids, cmd.Process.Pid) || len(kids) < 2 {
		t.Fatalf("descendants %v, want the shell %d and its sleep", kids, cmd.Process.Pid)
	}
	for _, k := range kids {
		if k != cmd.Process.Pid {
			syscall.Kill(k, syscall.SIGKILL)
		}
	}
	cmd.Process.Kill()
	// Killed but not reaped: a zombie, which is not alive.
	deadline := time.Now().Add(5 * time.Second)
	for Alive(cmd.Process.Pid) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if Alive(cmd.Process.Pid) {
		t.Error("a killed, unreaped process counts as alive")
	}
	if _, ok := stat(cmd.Process.Pid); !ok {
		t.Error("the zombie has no /proc entry: the test did not test a zombie")
	}
	cmd.Wait()
	if Alive(0) || Alive(-1) {
		t.Error("pid 0 or -1 is alive")
	}
}
