package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/jwtapi/jwtapi/internal/cfnmeta"
	"github.com/jwtapi/jwtapi/internal/gobuild"
	"github.com/jwtapi/jwtapi/internal/proc"
)

// project is the CDK app jwtapi serves: its Go module, the folder holding
// cdk.json (where `cdk synth` runs), and its cloud assembly.
type project struct {
	moduleDir string
	appDir    string // "" when there is no cdk.json: synth is then up to the user
	cdkOut    string
	stateDir  string
	// context is passed to cdk synth as -c key=value, in order.
	context []string
	// givenContext is true when -c or --stage were given: they decide the
	// synth context, whatever the assembly was made with.
	givenContext bool
	// hasMake tells whether hints may name make targets (the module's
	// Makefile runs jwtapi).
	hasMake bool
}

// findAppDir looks for cdk.json from dir up to the module root.
func findAppDir(dir, moduleDir string) string {
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "cdk.json")); err == nil {
			return d
		}
		if d == moduleDir || filepath.Dir(d) == d {
			return ""
		}
	}
}

// synthCommand is what a hint tells the user to run to synthesize.
func (p *project) synthCommand() string {
	if p.hasMake {
		for _, c := range p.context {
			if stage, ok := strings.CutPrefix(c, "stage="); ok {
				return "make synth STAGE=" + stage
			}
		}
		return "make synth"
	}
	cmd := "cdk synth"
	for _, c := range p.context {
		cmd += " -c " + c
	}
	return cmd
}

// stamp records the synth jwtapi ran (or adopted) last: with what context,
// from which inputs (the app's Go sources, cdk.json) as they were then,
// producing which assembly. When nothing changed since, the assembly is
// fresh and no synth is needed.
type stamp struct {
	Context    []string `json:"context"`
	Inputs     []string `json:"inputs"`
	Signatures []string `json:"signatures"`
	Manifest   string   `json:"manifest"`
}

func (p *project) stampPath() string { return filepath.Join(p.stateDir, "synth.json") }

func (p *project) manifestPath() string { return filepath.Join(p.cdkOut, "manifest.json") }

func (p *project) readStamp() (stamp, bool) {
	var s stamp
	data, err := os.ReadFile(p.stampPath())
	return s, err == nil && json.Unmarshal(data, &s) == nil && len(s.Inputs) == len(s.Signatures)
}

// changed names the first input that is not as the stamp recorded it.
func (s stamp) changed() string {
	for i, f := range s.Inputs {
		if gobuild.Signature(f) != s.Signatures[i] {
			return f
		}
	}
	return ""
}

// freshness is what prepare decided about the assembly.
type freshness struct {
	synth bool   // synthesize (again)
	why   string // what to tell the user, "" when nothing is worth saying
}

// prepare decides whether the assembly can be served as it is, and with
// which context a synth runs. An assembly jwtapi did not make (the user ran
// cdk synth, or make synth) keeps the context it was made with: its -c
// values are read back from what jwtapi.Synth recorded, unless -c or
// --stage were given to dev. It is served as it is when no input of the app
// is newer; else synthesized again with that context, saying so.
func (p *project) prepare(ctx context.Context) (freshness, error) {
	if _, err := os.Stat(p.manifestPath()); err != nil {
		return freshness{true, "there is no synthesized app in " + p.rel(p.cdkOut)}, nil
	}
	s, ok := p.readStamp()
	if ok && gobuild.Signature(p.manifestPath()) == s.Manifest {
		switch {
		case !slices.Equal(s.Context, p.context) && p.givenContext:
			return freshness{true, fmt.Sprintf("the synth context changed (%s)", contextFlags(p.context))}, nil
		case !p.givenContext:
			p.context = s.Context
		}
		if f := s.changed(); f != "" {
			return freshness{true, p.rel(f) + " changed since the last synth"}, nil
		}
		return freshness{}, nil
	}
	// Made by another synth.
	recorded, known := p.recordedContext()
	switch {
	case p.givenContext && known && !slices.Equal(recorded, p.context):
		return freshness{true, fmt.Sprintf("%s was synthesized with %s; synthesizing again with %s, as given to jwtapi dev",
			p.rel(p.cdkOut), contextFlags(recorded), contextFlags(p.context))}, nil
	case p.givenContext && !known:
		return freshness{true, fmt.Sprintf("%s was written by another synth whose context jwtapi cannot read (the app does not call jwtapi.Synth); synthesizing again with %s",
			p.rel(p.cdkOut), contextFlags(p.context))}, nil
	case !p.givenContext:
		p.context = recorded
	}
	inputs, err := appInputs(ctx, p.appDir, p.moduleDir)
	if err != nil {
		return freshness{}, err
	}
	manifest, _ := os.Stat(p.manifestPath())
	for _, f := range inputs {
		if st, err := os.Stat(f); err == nil && st.ModTime().After(manifest.ModTime()) {
			return freshness{true, fmt.Sprintf("%s changed since %s was synthesized; synthesizing again with the same context (%s)",
				p.rel(f), p.rel(p.cdkOut), contextFlags(p.context))}, nil
		}
	}
	if !known && !p.givenContext {
		// Nothing says with what it was made: serve it, and a later edit
		// synthesizes without -c values, which the user is told of then.
		return freshness{why: fmt.Sprintf("serving %s as it was synthesized (its -c values are unknown: the app does not call jwtapi.Synth; pass them to jwtapi dev with -c)", p.rel(p.cdkOut))}, p.writeStamp(inputs)
	}
	return freshness{why: fmt.Sprintf("serving %s as it was synthesized (%s); an edit of the app synthesizes it again with the same context", p.rel(p.cdkOut), contextFlags(p.context))}, p.writeStamp(inputs)
}

// contextFlags writes a context as the -c flags that give it.
func contextFlags(c []string) string {
	if len(c) == 0 {
		return "no -c values"
	}
	return "-c " + strings.Join(c, " -c ")
}

// rel is path relative to the module, for messages.
func (p *project) rel(path string) string {
	if r, err := filepath.Rel(p.moduleDir, path); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return path
}

// recordedContext reads back the -c values the assembly was synthesized
// with: the context jwtapi.Synth recorded (ContextFile), less what cdk.json,
// cdk.context.json and the CDK CLI itself put there. known is false when
// the app recorded nothing.
func (p *project) recordedContext() (out []string, known bool) {
	var rec struct {
		Context map[string]any `json:"context"`
	}
	data, err := os.ReadFile(filepath.Join(p.cdkOut, cfnmeta.ContextFile))
	if err != nil || json.Unmarshal(data, &rec) != nil || rec.Context == nil {
		return nil, false
	}
	defaults := map[string]any{}
	for _, f := range []string{"cdk.json", "cdk.context.json"} {
		var c struct {
			Context map[string]any `json:"context"`
		}
		raw, _ := os.ReadFile(filepath.Join(p.appDir, f))
		if f == "cdk.context.json" {
			json.Unmarshal(raw, &c.Context)
		} else {
			json.Unmarshal(raw, &c)
		}
		maps.Copy(defaults, c.Context)
	}
	for _, k := range slices.Sorted(maps.Keys(rec.Context)) {
		v := rec.Context[k]
		if cliContext(k) || reflect.DeepEqual(defaults[k], v) {
			continue
		}
		text, ok := v.(string)
		if !ok {
			b, _ := json.Marshal(v)
			text = string(b)
		}
		out = append(out, k+"="+text)
	}
	return out, true
}

// cliContext tells the keys the CDK CLI adds to every synth's context.
func cliContext(key string) bool {
	for _, prefix := range []string{"aws:cdk:", "@aws-cdk/", "aws-cdk:", "cdk-"} {
		if strings.HasPrefix(key, prefix) {
			return true
		}
	}
	return key == "cli-telemetry"
}

// writeStamp records that the assembly as it is now was made from inputs
// with p.context.
func (p *project) writeStamp(inputs []string) error {
	if err := os.MkdirAll(p.stateDir, 0o755); err != nil {
		return err
	}
	s := stamp{Context: p.context, Inputs: inputs, Manifest: gobuild.Signature(p.manifestPath())}
	for _, f := range inputs {
		s.Signatures = append(s.Signatures, gobuild.Signature(f))
	}
	data, _ := json.MarshalIndent(s, "", "  ")
	return os.WriteFile(p.stampPath(), data, 0o644)
}

// synth runs `cdk synth` in the app folder and records its stamp.
func (p *project) synth(ctx context.Context, log io.Writer) error {
	if p.appDir == "" {
		return fmt.Errorf("no cdk.json between %s and the module root: synthesize the app yourself and pass its assembly with --cdk-out", p.moduleDir)
	}
	cli, args, err := cdkCLI(p.appDir)
	if err != nil {
		return err
	}
	args = append(args, "synth", "--quiet", "--no-notices", "-o", p.cdkOut)
	for _, c := range p.context {
		args = append(args, "-c", c)
	}
	inputs, err := appInputs(ctx, p.appDir, p.moduleDir)
	if err != nil {
		return err
	}
	start := time.Now()
	fmt.Fprintf(log, "jwtapi: synthesizing the app: %s %s\n", filepath.Base(cli), strings.Join(args, " "))
	cmd := proc.CommandContext(ctx, cli, args...) // Ctrl-C stops the CLI's Node and the app it runs too
	cmd.Dir = p.appDir
	cmd.Env = append(os.Environ(), "CDK_DISABLE_CLI_TELEMETRY=true")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("cdk synth failed (%v):\n%s", err, cleanSynthOutput(out.String()))
	}
	fmt.Fprintf(log, "jwtapi: synthesized in %.1fs\n", time.Since(start).Seconds())
	return p.writeStamp(inputs)
}

// cleanSynthOutput drops the noise of a failed synth (Node's end-of-life
// banner, jsii's exit race) and keeps the lines that say what is wrong.
func cleanSynthOutput(s string) string {
	var keep []string
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		if strings.Contains(l, "waitid: no child processes") || strings.HasPrefix(strings.TrimSpace(l), "!!") {
			continue
		}
		keep = append(keep, l)
	}
	if len(keep) > 40 {
		keep = append(keep[:20], append([]string{"..."}, keep[len(keep)-20:]...)...)
	}
	return strings.Join(keep, "\n")
}

// cdkCLI finds the CDK CLI: the app's own node_modules first, then PATH.
func cdkCLI(appDir string) (string, []string, error) {
	for d := appDir; ; d = filepath.Dir(d) {
		bin := filepath.Join(d, "node_modules", ".bin", "cdk")
		if _, err := os.Stat(bin); err == nil {
			return bin, nil, nil
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	if bin, err := exec.LookPath("cdk"); err == nil {
		return bin, nil, nil
	}
	return "", nil, errors.New("the AWS CDK CLI (cdk) is not installed here: install it (npm install -g aws-cdk@2, or as a dev dependency of the app) or synthesize the app yourself and run with --synth never")
}

// appInputs lists what the synthesized assembly depends on: cdk.json,
// cdk.context.json, and the sources of the app's main package (for a
// cdk.json app "go run <package>"; else every Go file of the module).
// Handler packages are not among them: jwtapi rebuilds handlers itself.
func appInputs(ctx context.Context, appDir, moduleDir string) ([]string, error) {
	inputs := []string{filepath.Join(appDir, "cdk.json"), filepath.Join(appDir, "cdk.context.json")}
	if pkgs := appPackages(appDir); pkgs != nil {
		sources, err := gobuild.Sources(ctx, appDir, pkgs...)
		return append(inputs, sources...), err
	}
	inputs = append(inputs, filepath.Join(moduleDir, "go.mod"), filepath.Join(moduleDir, "go.sum"))
	err := filepath.WalkDir(moduleDir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() && path != moduleDir && (strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules" || d.Name() == "testdata" || d.Name() == "cdk.out") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go") {
			inputs = append(inputs, path)
		}
		return nil
	})
	return inputs, err
}

// appPackages returns the package of a cdk.json app "go run <package>"
// (or its .go files), or nil.
func appPackages(appDir string) []string {
	data, err := os.ReadFile(filepath.Join(appDir, "cdk.json"))
	if err != nil {
		return nil
	}
	var c struct {
		App string `json:"app"`
	}
	if json.Unmarshal(data, &c) != nil {
		return nil
	}
	f := strings.Fields(c.App)
	if len(f) < 3 || f[0] != "go" || f[1] != "run" {
		return nil
	}
	// go run [build flags] package [arguments...], or a list of .go files.
	var pkgs []string
	for _, a := range f[2:] {
		switch {
		case len(pkgs) == 0 && strings.HasPrefix(a, "-"):
		case len(pkgs) == 0 || strings.HasSuffix(a, ".go") && strings.HasSuffix(pkgs[0], ".go"):
			pkgs = append(pkgs, a)
		}
	}
	return pkgs
}
