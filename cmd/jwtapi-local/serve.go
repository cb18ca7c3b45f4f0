package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/jwtapi/jwtapi/internal/gobuild"
	"github.com/jwtapi/jwtapi/local/gateway"
	"github.com/jwtapi/jwtapi/local/issuer"
	"github.com/jwtapi/jwtapi/local/logsink"
)

func runServe(args []string, stdout, stderr io.Writer) error {
	started := time.Now()
	fs := newFlagSet("serve", `jwtapi-local serve: serve a synthesized stage locally.

For the local stage, the embedded issuer runs too and the banner prints a fresh
token. For another stage (dev, prod), tokens are verified against that stage's
real issuer and its JWKS. Synthesize first: make dev does both.`, stderr)
	var f issuerFlags
	f.register(fs)
	stage := fs.String("stage", "local", "stage to serve (its template must be in --cdk-out)")
	addr := fs.String("addr", envOr("ADDR", "127.0.0.1:3000"), "gateway address (env ADDR)")
	cdkOut := fs.String("cdk-out", "cdk.out", "cloud assembly directory written by cdk synth")
	maxInstances := fs.Int("max-instances", 16, "most instances per function under concurrent load")
	refetch := fs.Duration("jwks-refetch", time.Second, "least time between two JWKS fetches for unknown kids")
	if err := fs.Parse(args); err != nil {
		return err
	}
	moduleDir, err := gobuild.ModuleDir(".")
	if err != nil {
		return fmt.Errorf("%v: run jwtapi-local inside your Go module", err)
	}
	if !filepath.IsAbs(*cdkOut) {
		*cdkOut = filepath.Join(moduleDir, *cdkOut)
	}
	templatePath, err := findTemplate(*cdkOut, *stage)
	if err != nil {
		return err
	}
	if err := checkFresh(moduleDir, templatePath, *stage); err != nil {
		return err
	}
	api, err := gateway.LoadTemplate(templatePath)
	if err != nil {
		return err
	}
	if err := f.resolve(); err != nil {
		return err
	}

	// The embedded issuer runs when the stage trusts a loopback issuer.
	var iss *issuer.Issuer
	if embedded := embeddedIssuer(api); embedded != "" {
		if embedded != f.url() {
			return fmt.Errorf("stage %s trusts the issuer %s but the embedded issuer would run at %s: synthesize with -c issuer=%s (make dev ISSUER_ADDR=%s does) or set ISSUER_ADDR=%s",
				*stage, embedded, f.url(), f.url(), f.addr, strings.TrimSuffix(strings.TrimPrefix(embedded, "http://"), "/"))
		}
		if iss, err = f.open(); err != nil {
			return err
		}
	}
	var servers []*http.Server
	if iss != nil {
		l, err := listen(f.addr, "the embedded issuer", "ISSUER_ADDR")
		if err != nil {
			return err
		}
		servers = append(servers, serveHTTP(l, iss.Handler()))
	}

	gl, err := listen(*addr, "the local gateway", "ADDR")
	if err != nil {
		return err
	}
	// Request and handler logs share one buffered sink: whole lines, in
	// order, without a system call per line under load.
	logs := logsink.New(stdout, 50*time.Millisecond)
	defer logs.Close()
	gw, err := gateway.New(api, gateway.Options{
		ModuleDir: moduleDir, BuildDir: filepath.Join(f.state, "build"),
		Logs: logs, FunctionLogs: logs, MaxInstances: *maxInstances, JWKSRefetchEvery: *refetch,
	})
	if err != nil {
		return err
	}
	defer gw.Close()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	fmt.Fprintf(logs, "jwtapi-local: building %d handlers for this machine and starting them (first time: about a minute)...\n", len(api.Functions))
	if err := gw.Warm(ctx); err != nil {
		return fmt.Errorf("some handlers do not build; fix them and run again:\n%w", err)
	}
	servers = append(servers, serveHTTP(gl, gw))
	printBanner(logs, *stage, templatePath, api, iss, "http://"+*addr, time.Since(started))

	<-ctx.Done()
	fmt.Fprintln(logs, "\njwtapi-local: stopping (handlers, gateway, issuer)...")
	shutdown, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	for _, s := range servers {
		s.Shutdown(shutdown)
	}
	return nil
}

// findTemplate locates the stage's template through the cloud assembly
// manifest, with a message telling what to run when it is not there.
func findTemplate(cdkOut, stage string) (string, error) {
	var manifest struct {
		Artifacts map[string]struct {
			Type       string `json:"type"`
			Properties struct {
				TemplateFile string `json:"templateFile"`
			} `json:"properties"`
		} `json:"artifacts"`
	}
	hint := fmt.Sprintf("run `make dev STAGE=%s` (or `make synth STAGE=%s`) first", stage, stage)
	b, err := os.ReadFile(filepath.Join(cdkOut, "manifest.json"))
	if err != nil {
		return "", fmt.Errorf("no synthesized app in %s (%v): %s", cdkOut, err, hint)
	}
	if err := json.Unmarshal(b, &manifest); err != nil {
		return "", fmt.Errorf("%s/manifest.json is unreadable (%v): %s", cdkOut, err, hint)
	}
	var found []string
	for name, a := range manifest.Artifacts {
		if a.Type != "aws:cloudformation:stack" {
			continue
		}
		found = append(found, name)
		if strings.HasSuffix(name, "-"+stage) {
			return filepath.Join(cdkOut, a.Properties.TemplateFile), nil
		}
	}
	slices.Sort(found)
	return "", fmt.Errorf("%s holds no stack for stage %s (it holds %s): %s", cdkOut, stage, strings.Join(found, ", "), hint)
}

// checkFresh refuses a template older than the app code that produced it:
// cdk.json and the module packages the CDK app (the module's root package)
// imports. Handler changes do not count: the gateway rebuilds handlers itself.
func checkFresh(moduleDir, templatePath, stage string) error {
	st, err := os.Stat(templatePath)
	if err != nil {
		return err
	}
	files := []string{filepath.Join(moduleDir, "cdk.json")}
	if deps, err := appSources(moduleDir); err == nil {
		files = append(files, deps...)
	}
	for _, f := range files {
		if fst, err := os.Stat(f); err == nil && fst.ModTime().After(st.ModTime()) {
			rel, _ := filepath.Rel(moduleDir, f)
			return fmt.Errorf("%s is older than %s (changed since the last synth): run `make dev STAGE=%s` to synthesize again", templatePath, rel, stage)
		}
	}
	return nil
}

func appSources(moduleDir string) ([]string, error) {
	out, err := runGo(moduleDir, "list", "-deps", "-f", `{{if and .Module .Module.Main}}{{range .GoFiles}}{{$.Dir}}/{{.}}
{{end}}{{end}}`, ".")
	if err != nil {
		return nil, err
	}
	return strings.Fields(out), nil
}

// embeddedIssuer returns the loopback issuer the API trusts, if any.
func embeddedIssuer(api *gateway.API) string {
	for _, a := range api.Authorizers {
		u, err := url.Parse(a.Issuer)
		if err == nil && u.Scheme == "http" && (u.Hostname() == "127.0.0.1" || u.Hostname() == "localhost") {
			return a.Issuer
		}
	}
	return ""
}
