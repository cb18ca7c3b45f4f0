package lambdarun

import (
	"fmt"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jwtapi/jwtapi/internal/proc"
)

// instance is one warm process of a function and its Runtime API.
type instance struct {
	fn         *Function
	api        *runtimeAPI
	cmd        *exec.Cmd
	generation int
	// dead is closed when the process has exited.
	dead    chan struct{}
	exitErr error
	stdout  *prefixWriter
	stderr  *prefixWriter
	once    sync.Once
	// killed is set when the gateway stopped the process (timeout, idle,
	// reload, shutdown): such an exit is not a crash.
	killed atomic.Bool
	// lastUsed is when the instance last finished an invocation (guarded by
	// its function's mutex).
	lastUsed time.Time
}

func (f *Function) startInstance(bin string, generation int) (*instance, error) {
	api, err := newRuntimeAPI()
	if err != nil {
		return nil, err
	}
	inst := &instance{fn: f, api: api, generation: generation, dead: make(chan struct{})}
	cmd := exec.Command(bin)
	cmd.Dir = f.spec.ModuleDir
	cmd.Env = f.environment(api.Addr())
	inst.stdout = &prefixWriter{prefix: f.logPrefix, out: f.opts.Logs, mu: f.opts.logMu}
	inst.stderr = &prefixWriter{prefix: f.logPrefix, out: f.opts.Logs, mu: f.opts.logMu}
	if on := f.opts.OnLine; on != nil {
		line := func(b []byte) { on(f.spec.FunctionName, api.lastRequestID(), b) }
		inst.stdout.line, inst.stderr.line = line, line
	}
	cmd.Stdout, cmd.Stderr = inst.stdout, inst.stderr
	proc.Group(cmd) // Ctrl-C reaches jwtapi alone, which stops every instance
	if err := cmd.Start(); err != nil {
		api.close()
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	inst.cmd = cmd
	go func() {
		inst.exitErr = cmd.Wait()
		inst.stdout.flush()
		inst.stderr.flush()
		api.close()
		// Counted out before dead is closed, so that whoever waits on dead
		// (StopInstances, close) sees the count without this instance.
		f.instanceExited(inst, !inst.killed.Load())
		close(inst.dead)
	}()
	return inst, nil
}

func (i *instance) alive() bool {
	select {
	case <-i.dead:
		return false
	default:
		return true
	}
}

// kill stops the process; Lambda does the same to an environment whose
// invocation timed out.
func (i *instance) kill() {
	i.once.Do(func() {
		i.killed.Store(true)
		if i.cmd.Process != nil {
			proc.KillGroup(i.cmd)
		}
		i.api.close()
	})
}

func (f *Function) environment(runtimeAPI string) []string {
	env := []string{
		"AWS_LAMBDA_RUNTIME_API=" + runtimeAPI,
		"AWS_LAMBDA_FUNCTION_NAME=" + f.spec.FunctionName,
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		fmt.Sprintf("AWS_LAMBDA_FUNCTION_MEMORY_SIZE=%d", f.spec.MemoryMB),
		"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/" + f.spec.FunctionName,
		"AWS_LAMBDA_LOG_STREAM_NAME=local",
		"AWS_REGION=" + f.opts.Region,
		"AWS_DEFAULT_REGION=" + f.opts.Region,
		"_HANDLER=bootstrap",
		"LAMBDA_TASK_ROOT=" + f.spec.ModuleDir,
		"TZ=UTC",
		"LANG=en_US.UTF-8",
		"GOMAXPROCS=1",
		"PATH=" + os.Getenv("PATH"),
	}
	if f.spec.LogFormat != "" {
		env = append(env, "AWS_LAMBDA_LOG_FORMAT="+f.spec.LogFormat)
	}
	// The caller's AWS credentials, if any, so a handler can reach real AWS
	// services from the laptop as its role would in Lambda.
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "HOME"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	for k, v := range f.spec.Env {
		env = append(env, k+"="+v)
	}
	return env
}
