package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/jwtapi/jwtapi/local/assembly"
	"github.com/jwtapi/jwtapi/local/gateway"
	"github.com/jwtapi/jwtapi/local/logsink"
)

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// devFlags are dev's flags.
type devFlags struct {
	issuerFlags
	stacks       listFlag
	stage        string
	gatewayAddr  string
	cdkOut       string
	synth        string
	context      listFlag
	watch        bool
	maxInstances int
	refetch      time.Duration
	console      string
	pprof        string
}

func runDev(args []string, stdout, stderr io.Writer) error {
	started := time.Now()
	fs := newFlagSet("dev", `jwtapi dev: serve every API Gateway HTTP API and REST API of your CDK app locally.

It synthesizes the app first when its code or cdk.json changed since the
last synth (cdk synth, with the -c values given here; without any, with
those the assembly was synthesized with), and again while it runs when you
edit the app's stacks. Each API gets its own port, from --addr on, in the
order of stack name then logical id; the URLs are printed and written to
<state>/endpoints.json. The embedded issuer runs when an API trusts its
address; any other issuer is verified through its discovery document.
While it runs, "jwtapi token" mints tokens for it and "jwtapi smoke --local"
checks it.

Which stacks: --stack NAME (repeatable), else --stage NAME (the stacks marked
with jwtapi.MarkStage, else those with the stage in their name, such as
orders-local or OrdersLocal), else every stack.`, stdout, stderr, args)
	var f devFlags
	f.register(fs)
	fs.Var(&f.stacks, "stack", "serve this stack (exact name; repeatable)")
	fs.StringVar(&f.stage, "stage", "", "serve the stacks of this stage; also passed to cdk synth as -c stage=NAME")
	fs.StringVar(&f.gatewayAddr, "addr", envOr("ADDR", "127.0.0.1:3000"), "address of the first API; the next ones take the following ports (env ADDR)")
	fs.StringVar(&f.cdkOut, "cdk-out", "cdk.out", "cloud assembly directory, relative to the folder of cdk.json")
	fs.StringVar(&f.synth, "synth", "auto", "auto: synthesize when the app changed; always; never (serve cdk.out as it is)")
	fs.Var(&f.context, "c", "context key=value for cdk synth (repeatable), as cdk synth -c")
	fs.BoolVar(&f.watch, "watch", true, "synthesize again and serve the new routes when the app's stack code changes")
	fs.IntVar(&f.maxInstances, "max-instances", 16, "most instances per function under concurrent load")
	fs.DurationVar(&f.refetch, "jwks-refetch", time.Second, "least time between two JWKS fetches for unknown kids")
	fs.StringVar(&f.console, "console", envOr("CONSOLE_ADDR", "127.0.0.1:3999"), "the console's loopback address (another free port when taken), or off (env CONSOLE_ADDR)")
	fs.StringVar(&f.pprof, "pprof", "", "serve Go's profiler (net/http/pprof) on this loopback address, for profiling under load")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("dev takes flags only, not %q (jwtapi dev --help)", fs.Arg(0))
	}
	if f.synth != "auto" && f.synth != "always" && f.synth != "never" {
		return fmt.Errorf("--synth %q: want auto, always or never", f.synth)
	}
	p, err := f.project()
	if err != nil {
		return err
	}
	logs := logsink.New(stdout, 50*time.Millisecond)
	defer logs.Close()
	if f.pprof != "" {
		stopProfiler, err := serveProfiler(f.pprof, logs)
		if err != nil {
			return err
		}
		defer stopProfiler()
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	if err := p.synthIfNeeded(ctx, f.synth, logs); err != nil {
		return err
	}
	apis, err := loadAPIs(p, f.stacks, f.stage)
	if err != nil {
		return err
	}
	s := newServer(p, &f, logs)
	defer s.close()
	if err := s.start(apis); err != nil {
		return err
	}
	if err := writeDevState(p.stateDir, s.state()); err != nil {
		return err
	}
	defer removeDevState(p.stateDir)
	s.printBanner(time.Since(started))
	go s.warm(ctx)
	if f.watch && f.synth != "never" && p.appDir != "" {
		go s.watchApp(ctx)
	}
	<-ctx.Done()
	fmt.Fprintln(logs, "\njwtapi: stopping (handlers, gateways, issuer)...")
	return nil
}

// project resolves the folders dev works with.
func (f *devFlags) project() (*project, error) {
	moduleDir, err := f.resolve()
	if err != nil {
		return nil, err
	}
	p := &project{moduleDir: moduleDir, stateDir: f.state, appDir: findAppDir(mustAbs("."), moduleDir)}
	p.cdkOut = f.cdkOut
	if !filepath.IsAbs(p.cdkOut) {
		base := p.appDir
		if base == "" {
			base = moduleDir
		}
		p.cdkOut = filepath.Join(base, p.cdkOut)
	}
	if f.stage != "" && !hasContextKey(f.context, "stage") {
		p.context = append(p.context, "stage="+f.stage)
	}
	for _, c := range f.context {
		if k, _, ok := strings.Cut(c, "="); !ok || k == "" {
			return nil, fmt.Errorf("-c %q: want key=value", c)
		}
		p.context = append(p.context, c)
	}
	p.givenContext = len(p.context) > 0
	p.hasMake = makeRuns(moduleDir, "jwtapi")
	return p, nil
}

// makeRuns tells whether the module's Makefile runs what (so hints may
// name its targets).
func makeRuns(moduleDir, what string) bool {
	mk, err := os.ReadFile(filepath.Join(moduleDir, "Makefile"))
	return err == nil && strings.Contains(string(mk), what)
}

func hasContextKey(list []string, key string) bool {
	for _, c := range list {
		if strings.HasPrefix(c, key+"=") {
			return true
		}
	}
	return false
}

// synthIfNeeded synthesizes the app unless the assembly is fresh (auto),
// always, or never, and says why it does.
func (p *project) synthIfNeeded(ctx context.Context, mode string, log io.Writer) error {
	switch mode {
	case "never":
		if _, err := os.Stat(p.manifestPath()); err != nil {
			return fmt.Errorf("no synthesized app in %s: run `%s` first, or drop --synth never", p.cdkOut, p.synthCommand())
		}
		return nil
	case "auto":
		if p.appDir == "" {
			if _, err := os.Stat(p.manifestPath()); err == nil {
				return nil // nothing to synthesize with: serve what is there
			}
			return fmt.Errorf("no synthesized app in %s and no cdk.json to synthesize one: run jwtapi dev in your CDK app's folder, or pass --cdk-out", p.cdkOut)
		}
		fr, err := p.prepare(ctx)
		if err != nil {
			return err
		}
		if fr.why != "" {
			fmt.Fprintf(log, "jwtapi: %s\n", fr.why)
		}
		if !fr.synth {
			return nil
		}
	}
	return p.synth(ctx, log)
}

// loadAPIs reads the assembly, selects stacks and returns their APIs in
// stack name, then logical id, order.
func loadAPIs(p *project, names []string, stage string) ([]*gateway.API, error) {
	stacks, err := assembly.Read(p.cdkOut)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s): run `%s`", err, p.cdkOut, p.synthCommand())
	}
	selected, err := assembly.Select(stacks, names, stage)
	if err != nil {
		return nil, err
	}
	var apis []*gateway.API
	var empty []string
	for _, s := range selected {
		found, err := gateway.ParseTemplate(s.Template, s.Name)
		if err != nil {
			return nil, err
		}
		if len(found) == 0 {
			empty = append(empty, s.Name)
		}
		apis = append(apis, found...)
	}
	if len(apis) == 0 {
		return nil, errors.New("the selected stacks (" + strings.Join(empty, ", ") + ") hold no API Gateway HTTP API or REST API")
	}
	return apis, nil
}

// buildDir is where handlers are built for this machine.
func (p *project) buildDir() string { return filepath.Join(p.stateDir, "build") }
