package proc

import (
	"context"
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

// TestGroupStopsGrandchildren: cancelling a grouped command stops what it
// started too (go build's compiler, cdk synth's Node), not only itself.
func TestGroupStopsGrandchildren(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("process groups and /proc")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := CommandContext(ctx, "sh", "-c", "sleep 60 & sleep 60 & wait")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var kids []int
	for deadline := time.Now().Add(5 * time.Second); len(kids) < 2 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
		kids = Descendants(cmd.Process.Pid)
	}
	if len(kids) < 2 {
		t.Fatalf("the shell started %d sleeps, want 2", len(kids))
	}
	cancel()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Wait did not return within 10 s of the cancel")
	}
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if !slices.ContainsFunc(kids, Alive) {
			return
		}
	}
	t.Errorf("a grandchild outlived its cancelled group: %v", slices.DeleteFunc(kids, func(p int) bool { return !Alive(p) }))
}
