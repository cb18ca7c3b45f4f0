package lambdarun

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Errors an invocation can end with, besides a function error.
var (
	// ErrTimeout: the function ran past its timeout; its instance was killed.
	ErrTimeout = errors.New("function timed out")
	// ErrCrashed: the process exited during the invocation.
	ErrCrashed = errors.New("function process exited")
	// ErrCrashLoop: the function crashed several times in a row; no new
	// instance starts until its backoff has passed.
	ErrCrashLoop = errors.New("function keeps crashing")
	// ErrBuild: the handler does not compile.
	ErrBuild = errors.New("handler build failed")
	// ErrGaveUp: the caller stopped waiting (API Gateway's integration
	// timeout); the invocation runs on to the function's own timeout.
	ErrGaveUp = errors.New("no answer within the caller's wait")
	// ErrClosed: the runtime is shutting down.
	ErrClosed = errors.New("runtime closed")
)

// Spec describes a function, as read from the synthesized template.
type Spec struct {
	// Key identifies the function in the runtime. Default: FunctionName.
	Key string
	// FunctionName names the function in logs and its environment.
	FunctionName string
	// ModuleDir and Package locate the handler's main package.
	ModuleDir, Package string
	Env                map[string]string
	Timeout            time.Duration
	MemoryMB           int
	// LogFormat is "JSON" or "Text", as the function's LoggingConfig.
	LogFormat string
}

func (s Spec) equal(o Spec) bool {
	return s.Key == o.Key && s.FunctionName == o.FunctionName && s.ModuleDir == o.ModuleDir && s.Package == o.Package &&
		maps.Equal(s.Env, o.Env) && s.Timeout == o.Timeout && s.MemoryMB == o.MemoryMB && s.LogFormat == o.LogFormat
}

// Options are shared by all functions of a Runtime. Every field documents
// its default.
type Options struct {
	// MaxInstances is the per-function concurrency limit. Default: 16.
	MaxInstances int
	// Logs receives the functions' output, each line prefixed by the function.
	// Default: os.Stderr.
	Logs io.Writer
	// BuildDir holds the host builds. Required.
	BuildDir string
	// Region is reported in AWS_REGION. Default: us-east-1.
	Region string
	// Account is used in function ARNs. Default: 123456789012.
	Account string
	// IdleExtra is how long an instance beyond a function's first may stay
	// idle before it is stopped, as Lambda reclaims environments after a
	// burst. Default: 30 s.
	IdleExtra time.Duration
	// IdleLast is how long a function's last instance may stay idle.
	// Default: 10 minutes.
	IdleLast time.Duration
	// CrashBackoff is the wait before a new instance starts once a
	// function has crashed crashLoop times in a row; it doubles with each
	// further crash, up to MaxCrashBackoff. A single crash restarts at once,
	// as Lambda does. Default: 100 ms.
	CrashBackoff time.Duration
	// MaxCrashBackoff caps CrashBackoff. Default: 5 s.
	MaxCrashBackoff time.Duration
	// OnLine, if set, gets every line a function writes, with the Lambda
	// request id of the invocation the instance last received (the one the
	// line belongs to), so that a console can show a request's own lines.
	// It must not block. Default: none.
	OnLine func(function, requestID string, line []byte)

	logMu *sync.Mutex
}

// Runtime holds the functions of the local APIs.
type Runtime struct {
	opts      Options
	mu        sync.Mutex
	functions map[string]*Function
	builds    map[string]*builder // by module and package: routes sharing a package share its build
	closed    bool
	stop      chan struct{}
}

// NewRuntime returns an empty runtime. It stops idle instances in the
// background until Close.
func NewRuntime(opts Options) *Runtime {
	if opts.MaxInstances <= 0 {
		opts.MaxInstances = 16
	}
	if opts.Logs == nil {
		opts.Logs = os.Stderr
	}
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.Account == "" {
		opts.Account = "123456789012"
	}
	if opts.IdleExtra <= 0 {
		opts.IdleExtra = 30 * time.Second
	}
	if opts.IdleLast <= 0 {
		opts.IdleLast = 10 * time.Minute
	}
	if opts.CrashBackoff <= 0 {
		opts.CrashBackoff = 100 * time.Millisecond
	}
	if opts.MaxCrashBackoff <= 0 {
		opts.MaxCrashBackoff = 5 * time.Second
	}
	opts.logMu = &sync.Mutex{}
	r := &Runtime{opts: opts, functions: map[string]*Function{}, builds: map[string]*builder{}, stop: make(chan struct{})}
	go r.reapIdle()
	return r
}

// Function is one function's pool of warm instances.
type Function struct {
	spec      Spec
	opts      *Options
	logPrefix string
	arn       string
	build     *builder

	// reported is the last build error printed, so each is printed once.
	reported string

	mu      sync.Mutex
	idle    []*instance
	all     map[*instance]bool
	live    int
	waiters []chan struct{}
	closed  bool
	// crashes counts crashes in a row; no instance starts before retryAt.
	crashes int
	retryAt time.Time

	invocations atomic.Int64
}

// crashLoop is how many crashes in a row make a crash loop.
const crashLoop = 3

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// Add registers a function, or returns the one registered under the same
// key if its spec is unchanged; a changed spec replaces it (its instances
// stop). Nothing is built or started until Warm, Build or Invoke.
func (r *Runtime) Add(spec Spec) (*Function, error) {
	if spec.Key == "" {
		spec.Key = spec.FunctionName
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, ErrClosed
	}
	if old, ok := r.functions[spec.Key]; ok {
		if old.spec.equal(spec) {
			return old, nil
		}
		go old.close()
	}
	bkey := spec.ModuleDir + "|" + spec.Package
	b, ok := r.builds[bkey]
	if !ok {
		dir := filepath.Join(r.opts.BuildDir, unsafeChars.ReplaceAllString(spec.Package, "_"))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		b = &builder{moduleDir: spec.ModuleDir, pkg: spec.Package, outDir: dir, stop: r.stop}
		r.builds[bkey] = b
	}
	f := &Function{
		spec:      spec,
		opts:      &r.opts,
		logPrefix: "[" + spec.FunctionName + "] ",
		arn:       fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", r.opts.Region, r.opts.Account, unsafeChars.ReplaceAllString(spec.FunctionName, "-")),
		build:     b,
		all:       map[*instance]bool{},
	}
	r.functions[spec.Key] = f
	return f, nil
}

// Retain stops and forgets the functions whose keys are not listed (after a
// reload dropped them).
func (r *Runtime) Retain(keys []string) {
	keep := map[string]bool{}
	for _, k := range keys {
		keep[k] = true
	}
	r.mu.Lock()
	var gone []*Function
	for k, f := range r.functions {
		if !keep[k] {
			gone = append(gone, f)
			delete(r.functions, k)
		}
	}
	r.mu.Unlock()
	for _, f := range gone {
		f.close()
	}
}

// Close stops every instance of every function.
func (r *Runtime) Close() {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.closed = true
	close(r.stop)
	fns, builds := r.functions, r.builds
	r.mu.Unlock()
	for _, f := range fns {
		f.close()
	}
	for _, b := range builds {
		b.close()
	}
}

// reapIdle stops instances idle for longer than IdleExtra (IdleLast for a
// function's last one), as Lambda reclaims idle environments.
func (r *Runtime) reapIdle() {
	tick := time.NewTicker(min(r.opts.IdleExtra, r.opts.IdleLast) / 4)
	defer tick.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-tick.C:
		}
		r.mu.Lock()
		var fns []*Function
		for _, f := range r.functions {
			fns = append(fns, f)
		}
		r.mu.Unlock()
		for _, f := range fns {
			f.reapIdle(time.Now())
		}
	}
}

func (f *Function) reapIdle(now time.Time) {
	f.mu.Lock()
	var stop []*instance
	kept := f.idle[:0]
	// idle is ordered from the least to the most recently used.
	for i, inst := range f.idle {
		last := f.live-len(stop) == 1 && i == len(f.idle)-1
		limit := f.opts.IdleExtra
		if last {
			limit = f.opts.IdleLast
		}
		if now.Sub(inst.lastUsed) > limit {
			stop = append(stop, inst)
		} else {
			kept = append(kept, inst)
		}
	}
	f.idle = kept
	f.mu.Unlock()
	for _, inst := range stop {
		inst.kill()
	}
}

// Spec returns the function's description.
func (f *Function) Spec() Spec { return f.spec }

// Build compiles the handler (or finds its build from an earlier run still
// current) without starting it.
func (f *Function) Build(ctx context.Context) error {
	_, _, err := f.current(ctx)
	return err
}

// Warm builds the handler and starts one instance, so the first request
// does not pay for either.
func (f *Function) Warm(ctx context.Context) error {
	bin, gen, err := f.current(ctx)
	if err != nil {
		return err
	}
	inst, err := f.acquire(ctx, bin, gen, time.Time{})
	if err != nil {
		return err
	}
	f.release(inst)
	return nil
}

// Result is a completed invocation.
type Result struct {
	// Payload is the handler's response (nil when it returned an error).
	Payload []byte
	// ErrorType and ErrorBody are set when the handler returned an error or panicked.
	ErrorType string
	ErrorBody []byte
	// Duration is the time from delivery to answer.
	Duration time.Duration
}

// Invoke runs one event on a warm (or new) instance and waits for the
// answer, at most the function's timeout.
func (f *Function) Invoke(ctx context.Context, requestID string, payload []byte) (Result, error) {
	return f.InvokeWait(ctx, requestID, payload, 0)
}

// InvokeWait is Invoke for a caller that waits at most wait (0: as long as
// the function's timeout), as API Gateway waits for its integration. The
// wait starts once the handler's build is current: a local build is not
// something AWS makes a request wait for; a cold start is, and counts.
// When the wait is over first, InvokeWait returns ErrGaveUp and the
// invocation runs on to the function's timeout, as in Lambda.
func (f *Function) InvokeWait(ctx context.Context, requestID string, payload []byte, wait time.Duration) (Result, error) {
	f.invocations.Add(1)
	bin, gen, err := f.current(ctx)
	if err != nil {
		return Result{}, err
	}
	var giveUp time.Time
	if wait > 0 {
		giveUp = time.Now().Add(wait)
	}
	for attempt := 0; ; attempt++ {
		inst, err := f.acquire(ctx, bin, gen, giveUp)
		if err != nil {
			return Result{}, err
		}
		res, delivered, err := f.invokeOn(ctx, inst, requestID, payload, giveUp)
		if err == nil || delivered || attempt >= 2 {
			return res, err
		}
		// The instance died before taking the event (it had just panicked,
		// say): the handler never saw it, so another instance may run it.
	}
}

// current returns the binary to run, printing a new build failure once with
// the compiler's output.
func (f *Function) current(ctx context.Context) (string, int, error) {
	bin, gen, err := f.build.current(ctx)
	if err == nil || errors.Is(err, ErrClosed) || ctx.Err() != nil {
		return bin, gen, err // not the handler's fault: nothing to report
	}
	f.opts.logMu.Lock()
	if msg := err.Error(); msg != f.reported {
		f.reported = msg
		fmt.Fprintf(f.opts.Logs, "%s%v\n%sfix the handler and send the request again: it is rebuilt on the next request\n", f.logPrefix, err, f.logPrefix)
	}
	f.opts.logMu.Unlock()
	return "", gen, fmt.Errorf("%w: %v", ErrBuild, err)
}

func (f *Function) invokeOn(ctx context.Context, inst *instance, requestID string, payload []byte, giveUp time.Time) (Result, bool, error) {
	start := time.Now()
	inv := &invocation{
		id: requestID, payload: payload, deadline: start.Add(f.spec.Timeout), arn: f.arn,
		pickedUp: make(chan struct{}), result: make(chan result, 1),
	}
	inst.api.next <- inv // buffered: the instance is ours alone
	// One timer: the caller's wait when it ends first, else the function's timeout.
	first := f.spec.Timeout
	callerFirst := !giveUp.IsZero() && giveUp.Before(inv.deadline)
	if callerFirst {
		first = max(time.Until(giveUp), 0)
	}
	timer := time.NewTimer(first)
	defer timer.Stop()
	select {
	case r := <-inv.result:
		return f.finished(inst, r, start), true, nil
	case <-inst.dead:
		return f.died(inst, inv, start)
	case <-timer.C:
		if callerFirst {
			go f.runOn(inst, inv, start)
			return Result{Duration: time.Since(start)}, true, ErrGaveUp
		}
		inst.kill()
		return Result{Duration: time.Since(start)}, true, fmt.Errorf("%w after %s", ErrTimeout, f.spec.Timeout)
	case <-ctx.Done():
		// The client went away; the instance may be mid-invocation, so it
		// cannot be reused safely.
		inst.kill()
		return Result{}, isClosed(inv.pickedUp), ctx.Err()
	}
}

// runOn lets an invocation whose caller stopped waiting finish, or time
// out, and then frees or stops its instance.
func (f *Function) runOn(inst *instance, inv *invocation, start time.Time) {
	timer := time.NewTimer(time.Until(inv.deadline))
	defer timer.Stop()
	select {
	case r := <-inv.result:
		f.finished(inst, r, start)
	case <-inst.dead:
	case <-timer.C:
		inst.kill()
		f.opts.logMu.Lock()
		fmt.Fprintf(f.opts.Logs, "%sTask timed out after %s (nobody was waiting any more)\n", f.logPrefix, f.spec.Timeout)
		f.opts.logMu.Unlock()
	}
}

// finished frees the instance of a completed invocation.
func (f *Function) finished(inst *instance, r result, start time.Time) Result {
	f.release(inst)
	if r.errType == ErrorResponseSizeTooLarge {
		f.opts.logMu.Lock()
		fmt.Fprintf(f.opts.Logs, "%s%s (in AWS, aws-lambda-go then exits: the next request is a cold start)\n", f.logPrefix, errorMessageOf(r.errBody))
		f.opts.logMu.Unlock()
	}
	return Result{Payload: r.payload, ErrorType: r.errType, ErrorBody: r.errBody, Duration: time.Since(start)}
}

// died reports an instance that exited during the invocation.
func (f *Function) died(inst *instance, inv *invocation, start time.Time) (Result, bool, error) {
	picked := isClosed(inv.pickedUp)
	inst.api.mu.Lock()
	initErr := inst.api.initError
	inst.api.mu.Unlock()
	if len(initErr) > 0 {
		// The handler reported an init error (lambda.Start's own checks) before exiting.
		return Result{Duration: time.Since(start)}, true, fmt.Errorf("%w during init: %s", ErrCrashed, errorMessageOf(initErr))
	}
	return Result{Duration: time.Since(start)}, picked, fmt.Errorf("%w: %v", ErrCrashed, inst.exitErr)
}

func errorMessageOf(body []byte) string {
	var e struct {
		ErrorMessage string `json:"errorMessage"`
	}
	if json.Unmarshal(body, &e) == nil && e.ErrorMessage != "" {
		return e.ErrorMessage
	}
	return string(body)
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// acquire returns an idle instance of the current build, starting one if
// under the limit, or waits for one to come free.
func (f *Function) acquire(ctx context.Context, bin string, gen int, giveUp time.Time) (*instance, error) {
	for {
		f.mu.Lock()
		if f.closed {
			f.mu.Unlock()
			return nil, ErrClosed
		}
		for len(f.idle) > 0 {
			inst := f.idle[len(f.idle)-1]
			f.idle = f.idle[:len(f.idle)-1]
			if inst.alive() && inst.generation == gen {
				f.mu.Unlock()
				return inst, nil
			}
			inst.kill() // an older build, or dead: replaced below
		}
		if wait := time.Until(f.retryAt); wait > 0 {
			n := f.crashes
			f.mu.Unlock()
			// A handler crashing on every request would otherwise start a
			// process per request and starve the healthy routes.
			return nil, fmt.Errorf("%w: %d crashes in a row; the next instance starts in %s", ErrCrashLoop, n, wait.Round(time.Millisecond))
		}
		if f.live < f.opts.MaxInstances {
			f.live++
			f.mu.Unlock()
			inst, err := f.startInstance(bin, gen)
			f.mu.Lock()
			if err != nil {
				f.live--
				f.mu.Unlock()
				return nil, err
			}
			if f.closed {
				// close ran while the process started: it did not see it.
				f.mu.Unlock()
				inst.kill()
				<-inst.dead
				return nil, ErrClosed
			}
			f.all[inst] = true
			f.mu.Unlock()
			return inst, nil
		}
		wait := make(chan struct{})
		f.waiters = append(f.waiters, wait)
		f.mu.Unlock()
		var expired <-chan time.Time
		if !giveUp.IsZero() {
			t := time.NewTimer(max(time.Until(giveUp), 0))
			expired = t.C
			defer t.Stop()
		}
		select {
		case <-wait:
		case <-expired:
			f.forget(wait)
			return nil, fmt.Errorf("%w: every instance (%d) stayed busy", ErrGaveUp, f.opts.MaxInstances)
		case <-ctx.Done():
			f.forget(wait)
			return nil, ctx.Err()
		}
	}
}

// release returns an instance to the pool after a completed invocation and
// wakes one waiter.
func (f *Function) release(inst *instance) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.crashes, f.retryAt = 0, time.Time{}
	if f.closed || !inst.alive() {
		inst.kill()
	} else {
		inst.lastUsed = time.Now()
		f.idle = append(f.idle, inst)
	}
	f.wakeOne()
}

// instanceExited is called once per instance when its process is gone; an
// exit nobody asked for is a crash and delays the next start.
func (f *Function) instanceExited(inst *instance, crashed bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.live--
	delete(f.all, inst)
	if crashed && !f.closed {
		if f.crashes++; f.crashes >= crashLoop {
			backoff := f.opts.CrashBackoff << min(f.crashes-crashLoop, 16)
			f.retryAt = time.Now().Add(min(backoff, f.opts.MaxCrashBackoff))
		}
	}
	f.wakeOne()
}

// forget drops a waiter that stopped waiting; if it was woken meanwhile,
// the wake-up goes to the next one.
func (f *Function) forget(wait chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if i := slices.Index(f.waiters, wait); i >= 0 {
		f.waiters = slices.Delete(f.waiters, i, i+1)
	} else if isClosed(wait) {
		f.wakeOne()
	}
}

func (f *Function) wakeOne() {
	if len(f.waiters) > 0 {
		close(f.waiters[0])
		f.waiters = f.waiters[1:]
	}
}

// Invocations counts the calls of Invoke so far.
func (f *Function) Invocations() int64 { return f.invocations.Load() }

// Instances reports how many processes the function runs now.
func (f *Function) Instances() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.live
}

// StopInstances stops every instance, as Lambda does to an idle function:
// the next invocation is a cold start.
func (f *Function) StopInstances() {
	f.mu.Lock()
	var all []*instance
	for inst := range f.all {
		all = append(all, inst)
	}
	f.idle = nil
	f.mu.Unlock()
	for _, inst := range all {
		inst.kill()
		<-inst.dead
	}
}

func (f *Function) close() {
	f.mu.Lock()
	f.closed = true
	f.idle = nil
	for _, w := range f.waiters {
		close(w)
	}
	f.waiters = nil
	var all []*instance
	for inst := range f.all {
		all = append(all, inst)
	}
	f.mu.Unlock()
	for _, inst := range all {
		inst.kill()
		<-inst.dead
	}
}

// NewRequestID returns a Lambda-style request id (a UUID).
func NewRequestID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
