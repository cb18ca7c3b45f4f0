package lambdarun

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jwtapi/jwtapi/internal/proc"
	"github.com/jwtapi/jwtapi/internal/testutil"
)

func moduleDir(t *testing.T) string {
	t.Helper()
	d, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func newFaulty(t *testing.T, timeout time.Duration, max int, tune ...func(o *Options)) (*Function, *testutil.SyncBuffer) {
	t.Helper()
	logs := &testutil.SyncBuffer{}
	o := Options{MaxInstances: max, Logs: logs, BuildDir: t.TempDir()}
	for _, f := range tune {
		f(&o)
	}
	rt := NewRuntime(o)
	t.Cleanup(rt.Close)
	f, err := rt.Add(Spec{FunctionName: "GET /faulty", ModuleDir: moduleDir(t), Package: "local/testdata/handlers/faulty",
		Env: map[string]string{"GREETING": "hi"}, Timeout: timeout, MemoryMB: 256})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Warm(context.Background()); err != nil {
		t.Fatal(err)
	}
	return f, logs
}

type echoed struct {
	Event     json.RawMessage   `json:"event"`
	RequestID string            `json:"requestId"`
	ARN       string            `json:"arn"`
	Deadline  int64             `json:"deadline"`
	Env       map[string]string `json:"env"`
	PID       int               `json:"pid"`
}

func invoke(t *testing.T, f *Function, query string) (Result, error) {
	t.Helper()
	return f.Invoke(context.Background(), NewRequestID(), []byte(`{"rawQueryString":"`+query+`"}`))
}

func decodeEcho(t *testing.T, r Result) echoed {
	t.Helper()
	var resp struct {
		Body string `json:"body"`
	}
	if err := json.Unmarshal(r.Payload, &resp); err != nil {
		t.Fatalf("payload %s: %v (error %s %s)", r.Payload, err, r.ErrorType, r.ErrorBody)
	}
	var e echoed
	if err := json.Unmarshal([]byte(resp.Body), &e); err != nil {
		t.Fatalf("body %s: %v", resp.Body, err)
	}
	return e
}

func TestInvokeKeepsInstancesWarm(t *testing.T) {
	f, _ := newFaulty(t, 5*time.Second, 4)
	id := NewRequestID()
	r, err := f.Invoke(context.Background(), id, []byte(`{"rawQueryString":"a=1"}`))
	if err != nil {
		t.Fatal(err)
	}
	first := decodeEcho(t, r)
	if first.RequestID != id || !strings.Contains(first.ARN, "function:GET-faulty") || string(first.Event) != `{"rawQueryString":"a=1"}` {
		t.Errorf("handler saw %+v", first)
	}
	if first.Env["GREETING"] != "hi" || first.Env["AWS_LAMBDA_FUNCTION_NAME"] != "GET /faulty" || first.Env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] != "256" {
		t.Errorf("environment %v", first.Env)
	}
	if d := time.UnixMilli(first.Deadline); time.Until(d) > 5*time.Second || time.Until(d) < 4*time.Second {
		t.Errorf("deadline %v is not the function timeout away", d)
	}
	r, err = invoke(t, f, "")
	if err != nil {
		t.Fatal(err)
	}
	if second := decodeEcho(t, r); second.PID != first.PID {
		t.Errorf("second invocation ran in pid %d, want the warm instance %d", second.PID, first.PID)
	}
	f.StopInstances()
	if f.Instances() != 0 {
		t.Errorf("%d instances after StopInstances", f.Instances())
	}
	r, err = invoke(t, f, "")
	if err != nil {
		t.Fatal(err)
	}
	if cold := decodeEcho(t, r); cold.PID == first.PID {
		t.Error("after StopInstances the invocation reused the stopped process")
	}
}

func TestConcurrentInvocationsUseSeveralInstancesUpToTheLimit(t *testing.T) {
	f, _ := newFaulty(t, 5*time.Second, 3)
	var wg sync.WaitGroup
	pids := sync.Map{}
	peak := 0
	var mu sync.Mutex
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := invoke(t, f, "do=sleep&ms=150")
			if err != nil {
				t.Error(err)
				return
			}
			pids.Store(decodeEcho(t, r).PID, true)
			mu.Lock()
			peak = max(peak, f.Instances())
			mu.Unlock()
		}()
	}
	wg.Wait()
	n := 0
	pids.Range(func(_, _ any) bool { n++; return true })
	if n < 2 || n > 3 || peak > 3 {
		t.Errorf("8 concurrent invocations ran on %d instances (peak %d), want 2-3 with a limit of 3", n, peak)
	}
}

func TestFaultsAndRecovery(t *testing.T) {
	f, logs := newFaulty(t, 3*time.Second, 2) // roomy: a cold start on a loaded machine must not time out
	tests := []struct {
		query   string
		err     error
		errType string
		body    string
	}{
		{query: "do=error", errType: "errorString", body: "faulty handler returned an error"},
		{query: "do=panic", errType: "string", body: "faulty handler panicked on purpose"},
		{query: "do=exit", err: ErrCrashed},
		{query: "do=sleep&ms=6000", err: ErrTimeout},
	}
	for _, tt := range tests {
		r, err := invoke(t, f, tt.query)
		if !errors.Is(err, tt.err) || (tt.err == nil && err != nil) {
			t.Fatalf("%s: err = %v, want %v", tt.query, err, tt.err)
		}
		if r.ErrorType != tt.errType || !strings.Contains(string(r.ErrorBody), tt.body) {
			t.Errorf("%s: error %q %s, want %q with %q", tt.query, r.ErrorType, r.ErrorBody, tt.errType, tt.body)
		}
		// The next request works: the crashed or killed instance was replaced.
		if _, err := invoke(t, f, ""); err != nil {
			t.Fatalf("after %s: %v", tt.query, err)
		}
	}
	testutil.Eventually(t, 5*time.Second, func() bool { return strings.Contains(logs.String(), "[GET /faulty] exiting on purpose") },
		"the function's output streamed with its prefix")
}

// TestOversizeResponseKeepsTheInstance: a response over Lambda's 6,291,556
// bytes fails the invocation with Function.ResponseSizeTooLarge, as in
// Lambda; the instance is neither killed nor counted as crashed, and one
// just under the limit is delivered whole.
func TestOversizeResponseKeepsTheInstance(t *testing.T) {
	f, logs := newFaulty(t, 10*time.Second, 1)
	pid := func(r Result) string {
		var resp struct{ Headers map[string]string }
		json.Unmarshal(r.Payload, &resp)
		return resp.Headers["pid"]
	}
	small, err := invoke(t, f, "do=big&bytes=100")
	if err != nil || pid(small) == "" {
		t.Fatalf("a small answer: %v %s", err, small.ErrorBody)
	}
	for range 4 { // more than a crash loop's three
		r, err := invoke(t, f, "do=big&bytes=7000000")
		if err != nil || r.ErrorType != ErrorResponseSizeTooLarge || !strings.Contains(string(r.ErrorBody), "exceeded maximum allowed payload size (6291556 bytes)") {
			t.Fatalf("a 7 MB answer: %v, error %q %s", err, r.ErrorType, r.ErrorBody)
		}
	}
	near, err := invoke(t, f, "do=big&bytes=6200000")
	if err != nil || near.ErrorType != "" || len(near.Payload) < 6_100_000 {
		t.Fatalf("an answer just under the limit: %v %q, %d bytes", err, near.ErrorType, len(near.Payload))
	}
	if pid(near) != pid(small) || f.Instances() != 1 {
		t.Errorf("the instance changed: pid %s then %s, %d instances", pid(small), pid(near), f.Instances())
	}
	if !strings.Contains(logs.String(), "[GET /faulty] Response payload size") {
		t.Errorf("the function log does not say why the invocation failed:\n%s", logs.String())
	}
}

// TestIdleInstancesAreStopped: after a burst, the extra instances stop
// after IdleExtra and the last one after IdleLast; the next call starts one.
func TestIdleInstancesAreStopped(t *testing.T) {
	f, _ := newFaulty(t, 5*time.Second, 4, func(o *Options) { o.IdleExtra, o.IdleLast = 300*time.Millisecond, 1500*time.Millisecond })
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := invoke(t, f, "do=sleep&ms=200"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := f.Instances(); n < 2 {
		t.Fatalf("%d instances after a burst of 4, want several", n)
	}
	testutil.Eventually(t, 5*time.Second, func() bool { return f.Instances() == 1 }, "the extra instances stopped, one kept warm")
	testutil.Eventually(t, 5*time.Second, func() bool { return f.Instances() == 0 }, "the last instance stopped after IdleLast")
	if _, err := invoke(t, f, ""); err != nil {
		t.Fatalf("after the idle stop: %v", err)
	}
}

// TestCrashLoopBacksOff: a handler crashing on every call stops being
// restarted for each request after three crashes in a row; a success
// ends the backoff.
func TestCrashLoopBacksOff(t *testing.T) {
	f, _ := newFaulty(t, 5*time.Second, 2, func(o *Options) { o.CrashBackoff = 400 * time.Millisecond })
	for i := range 3 {
		if _, err := invoke(t, f, "do=exit"); !errors.Is(err, ErrCrashed) {
			t.Fatalf("crash %d: %v", i+1, err)
		}
	}
	start := time.Now()
	if _, err := invoke(t, f, ""); !errors.Is(err, ErrCrashLoop) {
		t.Fatalf("after 3 crashes in a row: %v, want %v", err, ErrCrashLoop)
	}
	if took := time.Since(start); took > 100*time.Millisecond {
		t.Errorf("a request during the backoff took %s, want an answer at once", took)
	}
	if n := f.Instances(); n != 0 {
		t.Errorf("%d instances started during the backoff", n)
	}
	testutil.Eventually(t, 5*time.Second, func() bool { _, err := invoke(t, f, ""); return err == nil }, "a healthy call once the backoff passed")
	if _, err := invoke(t, f, "do=exit"); !errors.Is(err, ErrCrashed) {
		t.Fatalf("a crash after a success: %v, want it restarted at once next time", err)
	}
	if _, err := invoke(t, f, ""); err != nil {
		t.Errorf("one crash after a success started a backoff: %v", err)
	}
}

func TestCloseLeavesNoProcess(t *testing.T) {
	logs := &testutil.SyncBuffer{}
	rt := NewRuntime(Options{Logs: logs, BuildDir: t.TempDir()})
	f, err := rt.Add(Spec{FunctionName: "f", ModuleDir: moduleDir(t), Package: "local/testdata/handlers/faulty", Timeout: 5 * time.Second, MemoryMB: 128})
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := invoke(t, f, "do=sleep&ms=100")
			if err == nil {
				mu.Lock()
				pids = append(pids, decodeEcho(t, r).PID)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	rt.Close()
	for _, pid := range pids {
		if err := syscall.Kill(pid, 0); err == nil {
			t.Errorf("process %d still running after Close", pid)
		}
	}
	if _, err := invoke(t, f, ""); !errors.Is(err, ErrClosed) {
		t.Errorf("invoke after Close: %v, want ErrClosed", err)
	}
}

// waitForCompiler returns once a build started by this test process runs
// the compiler or linker (a process of the go command's).
func waitForCompiler(t *testing.T) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		for _, pid := range proc.Descendants(os.Getpid()) {
			if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); len(comm) > 0 && strings.TrimSpace(string(comm)) != "go" {
				return
			}
		}
	}
	t.Fatal("the build started no compiler within 30 s")
}

// TestCallerGoneDuringTheBuild: a client that disconnects while its
// handler is being built cuts the build short, and the next request builds
// again instead of being answered with a build error that never was.
func TestCallerGoneDuringTheBuild(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	warmCache, err := exec.Command("go", "env", "GOCACHE").Output()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("GOCACHE", t.TempDir()) // cold: the build is caught mid-way
	logs := &testutil.SyncBuffer{}
	rt := NewRuntime(Options{Logs: logs, BuildDir: t.TempDir()})
	t.Cleanup(rt.Close)
	f, err := rt.Add(Spec{FunctionName: "f", ModuleDir: moduleDir(t), Package: "local/testdata/handlers/faulty", Timeout: 5 * time.Second, MemoryMB: 128})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	gone := make(chan error, 1)
	go func() { _, err := f.Invoke(ctx, NewRequestID(), []byte(`{}`)); gone <- err }()
	waitForCompiler(t)
	cancel()
	if err := <-gone; !errors.Is(err, context.Canceled) {
		t.Errorf("the abandoned invocation: %v, want context.Canceled", err)
	}
	os.Setenv("GOCACHE", strings.TrimSpace(string(warmCache))) // the next build is quick
	if _, err := invoke(t, f, ""); err != nil {
		t.Fatalf("the next invocation: %v (logs: %s)", err, logs.String())
	}
	if strings.Contains(logs.String(), "fix the handler") {
		t.Errorf("a cut-short build was reported as the handler's fault:\n%s", logs.String())
	}
}

// TestCloseDuringTheBuild: Ctrl-C while handlers are still being built
// (jwtapi dev warms every function in the background) cancels the build,
// compiler and linker included, and returns at once.
func TestCloseDuringTheBuild(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	t.Setenv("GOCACHE", t.TempDir()) // a cold cache: the build takes long enough to be caught mid-way
	rt := NewRuntime(Options{Logs: &testutil.SyncBuffer{}, BuildDir: t.TempDir()})
	f, err := rt.Add(Spec{FunctionName: "f", ModuleDir: moduleDir(t), Package: "local/testdata/handlers/faulty", Timeout: 5 * time.Second, MemoryMB: 128})
	if err != nil {
		t.Fatal(err)
	}
	warmed := make(chan error, 1)
	go func() { warmed <- f.Warm(context.Background()) }()
	waitForCompiler(t)
	closed := make(chan struct{})
	go func() { rt.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close waited for the build to finish instead of cancelling it")
	}
	if err := <-warmed; err == nil {
		t.Error("Warm succeeded although the runtime closed during its build")
	}
	testutil.Eventually(t, 2*time.Second, func() bool { return !slices.ContainsFunc(proc.Descendants(os.Getpid()), proc.Alive) },
		"no process of the build outlives Close")
	if f.Instances() != 0 {
		t.Errorf("%d instances after Close", f.Instances())
	}
}

// TestRebuildOnSourceChange edits a handler in a scratch module and expects
// the next invocation to run the new code, and a compile error to be reported.
func TestRebuildOnSourceChange(t *testing.T) {
	dir := t.TempDir()
	goMod, err := os.ReadFile(filepath.Join(moduleDir(t), "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	goSum, _ := os.ReadFile(filepath.Join(moduleDir(t), "go.sum"))
	var require string
	for _, line := range strings.Split(string(goMod), "\n") {
		if strings.Contains(line, "github.com/aws/aws-lambda-go ") {
			require = strings.TrimSpace(strings.TrimSuffix(line, "// indirect"))
		}
	}
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module scratch\n\ngo 1.26\n\nrequire "+require+"\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "go.sum"), goSum, 0o644)
	os.MkdirAll(filepath.Join(dir, "hello"), 0o755)
	write := func(src string) {
		if err := os.WriteFile(filepath.Join(dir, "hello", "main.go"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	handler := func(answer string) string {
		return "package main\nimport \"github.com/aws/aws-lambda-go/lambda\"\nfunc main() { lambda.Start(func() (string, error) { return \"" + answer + "\", nil }) }\n"
	}
	write(handler("v1"))
	rt := NewRuntime(Options{Logs: &testutil.SyncBuffer{}, BuildDir: t.TempDir()})
	t.Cleanup(rt.Close)
	f, err := rt.Add(Spec{FunctionName: "hello", ModuleDir: dir, Package: "hello", Timeout: 5 * time.Second, MemoryMB: 128})
	if err != nil {
		t.Fatal(err)
	}
	answer := func() (string, error) {
		r, err := f.Invoke(context.Background(), NewRequestID(), []byte(`{}`))
		return string(r.Payload), err
	}
	if got, err := answer(); got != `"v1"` || err != nil {
		t.Fatalf("first answer %s %v", got, err)
	}
	// Each request is sent right after the save, as a developer does: it
	// must be served by the new build. v2, v3 and v4 have the same size and
	// are saved within the same clock tick as the request before, which
	// found nothing changed.
	for _, v := range []string{"v2", "v3", "v4"} {
		answer() // the sources were just looked at
		write(handler(v))
		if got, err := answer(); got != `"`+v+`"` || err != nil {
			t.Fatalf("right after saving %s: %s %v, want the rebuilt handler's %q", v, got, err, v)
		}
	}
	write("package main\nfunc main() { undefined() }\n")
	if _, err := answer(); !errors.Is(err, ErrBuild) || !strings.Contains(err.Error(), "undefined") {
		t.Fatalf("broken handler: %v, want ErrBuild with the compiler's message", err)
	}
	write(handler("v5"))
	if got, err := answer(); got != `"v5"` || err != nil {
		t.Fatalf("after fixing: %s %v", got, err)
	}
	// A file added to the package (its folder is watched) is built in.
	os.WriteFile(filepath.Join(dir, "hello", "answer.go"), []byte("package main\nconst answer = \"v6\"\n"), 0o644)
	write("package main\nimport \"github.com/aws/aws-lambda-go/lambda\"\nfunc main() { lambda.Start(func() (string, error) { return answer, nil }) }\n")
	if got, err := answer(); got != `"v6"` || err != nil {
		t.Fatalf("after adding a file: %s %v", got, err)
	}
}

func moduleDirB() (string, error) { return filepath.Abs("../..") }

// TestCallerWaitStartsAfterTheBuild: API Gateway's integration timeout
// (InvokeWait's wait) does not count a local build, which AWS never makes a
// request wait for; when the handler itself is slower than the wait, the
// caller gets ErrGaveUp while the invocation runs on, as in Lambda, and its
// instance serves the next request once it is done.
func TestCallerWaitStartsAfterTheBuild(t *testing.T) {
	logs := &testutil.SyncBuffer{}
	rt := NewRuntime(Options{MaxInstances: 1, Logs: logs, BuildDir: t.TempDir()})
	t.Cleanup(rt.Close)
	f, err := rt.Add(Spec{FunctionName: "GET /faulty", ModuleDir: moduleDir(t), Package: "local/testdata/handlers/faulty", Timeout: 3 * time.Second, MemoryMB: 128})
	if err != nil {
		t.Fatal(err)
	}
	// Room for a cold start on a loaded machine, but less than any go build
	// (go list, then a link: well over a second here), so the first request
	// only passes if the build is not counted.
	const wait = 250 * time.Millisecond
	started := time.Now()
	r, err := f.InvokeWait(context.Background(), NewRequestID(), []byte(`{"rawQueryString":""}`), wait)
	took := time.Since(started)
	if err != nil {
		t.Fatalf("first request, handler not built yet: %v, want an answer (the build took %s and is not part of the wait)", err, took)
	}
	if took < wait {
		t.Fatalf("the build and cold start took %s, under the %s wait: this test needs a fresh build", took, wait)
	}
	decodeEcho(t, r)

	started = time.Now()
	_, err = f.InvokeWait(context.Background(), NewRequestID(), []byte(`{"rawQueryString":"do=sleep&ms=800"}`), wait)
	if !errors.Is(err, ErrGaveUp) || time.Since(started) > 700*time.Millisecond {
		t.Fatalf("a 400 ms handler with a %s wait: %v after %s, want ErrGaveUp at once", wait, err, time.Since(started))
	}
	// The only instance is still busy; the next request waits for it and
	// is served by it: it was neither killed nor counted as crashed.
	_, err = f.InvokeWait(context.Background(), NewRequestID(), []byte(`{"rawQueryString":""}`), 2*time.Second)
	if err != nil {
		t.Fatalf("after a caller gave up: %v", err)
	}
	if f.Instances() != 1 {
		t.Errorf("%d instances, want the one that ran on", f.Instances())
	}
	// With the instance busy past the wait, a queued request gives up too.
	go f.Invoke(context.Background(), NewRequestID(), []byte(`{"rawQueryString":"do=sleep&ms=800"}`))
	time.Sleep(50 * time.Millisecond)
	if _, err := f.InvokeWait(context.Background(), NewRequestID(), []byte(`{"rawQueryString":""}`), wait); !errors.Is(err, ErrGaveUp) {
		t.Errorf("waiting for a busy instance past the wait: %v, want ErrGaveUp", err)
	}
	if _, err := f.InvokeWait(context.Background(), NewRequestID(), []byte(`{"rawQueryString":""}`), 3*time.Second); err != nil {
		t.Errorf("after a waiter gave up, the instance still serves: %v", err)
	}
}
