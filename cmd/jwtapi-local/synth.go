package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/jwtapi/jwtapi/internal/gobuild"
)

// project is the CDK app jwtapi-local serves: its Go module, the folder
// holding cdk.json (where `cdk synth` runs), and its cloud assembly.
type project struct {
	moduleDir string
	appDir    string // "" when there is no cdk.json: synth is then up to the user
	cdkOut    string
	stateDir  string
	// context is passed to cdk synth as -c key=value, in order.
	context []string
	// hasMake tells whether hints may name this repository's make targets.
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

// stamp records the synth jwtapi-local ran last: with what context, from
// which inputs (the app's Go sources, cdk.json) as they were then, producing
// which assembly. When nothing changed since, the assembly is fresh and no
// synth is needed.
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

// fresh reports whether the assembly was synthesized by jwtapi-local from
// the current inputs and context; why says what changed otherwise.
func (p *project) fresh() (ok bool, why string) {
	if _, err := os.Stat(p.manifestPath()); err != nil {
		return false, "there is no synthesized app in " + p.cdkOut
	}
	s, ok := p.readStamp()
	switch {
	case !ok:
		return false, "this app was not synthesized by jwtapi-local yet"
	case !slices.Equal(s.Context, p.context):
		return false, fmt.Sprintf("the synth context changed (%s)", strings.Join(p.context, " "))
	case gobuild.Signature(p.manifestPath()) != s.Manifest:
		return false, p.cdkOut + " was written by another synth"
	}
	if f := s.changed(); f != "" {
		return false, f + " changed since the last synth"
	}
	return true, ""
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
	if err := os.MkdirAll(p.stateDir, 0o755); err != nil {
		return err
	}
	start := time.Now()
	fmt.Fprintf(log, "jwtapi-local: synthesizing the app: %s %s\n", filepath.Base(cli), strings.Join(args, " "))
	cmd := exec.CommandContext(ctx, cli, args...)
	cmd.Dir = p.appDir
	cmd.Env = append(os.Environ(), "CDK_DISABLE_CLI_TELEMETRY=true")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("cdk synth failed (%v):\n%s", err, cleanSynthOutput(out.String()))
	}
	fmt.Fprintf(log, "jwtapi-local: synthesized in %.1fs\n", time.Since(start).Seconds())
	s := stamp{Context: p.context, Inputs: inputs, Manifest: gobuild.Signature(p.manifestPath())}
	for _, f := range inputs {
		s.Signatures = append(s.Signatures, gobuild.Signature(f))
	}
	data, _ := json.MarshalIndent(s, "", "  ")
	return os.WriteFile(p.stampPath(), data, 0o644)
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
// Handler packages are not among them: jwtapi-local rebuilds handlers itself.
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
