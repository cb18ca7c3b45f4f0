package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
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
// which inputs (the app's Go sources, cdk.json), producing which assembly.
// When neither changed since, the assembly is fresh and no synth is needed.
type stamp struct {
	Context  []string `json:"context"`
	Inputs   []string `json:"inputs"`
	Inputs0  string   `json:"inputsFingerprint"`
	Manifest string   `json:"manifestFingerprint"`
}

func (p *project) stampPath() string { return filepath.Join(p.stateDir, "synth.json") }

func (p *project) manifestPath() string { return filepath.Join(p.cdkOut, "manifest.json") }

// fresh reports whether the assembly was synthesized by jwtapi-local from
// the current inputs and context; why says what changed otherwise.
func (p *project) fresh() (ok bool, why string) {
	if _, err := os.Stat(p.manifestPath()); err != nil {
		return false, "there is no synthesized app in " + p.cdkOut
	}
	var s stamp
	data, err := os.ReadFile(p.stampPath())
	if err != nil || json.Unmarshal(data, &s) != nil {
		return false, "this app was not synthesized by jwtapi-local yet"
	}
	switch {
	case !slices.Equal(s.Context, p.context):
		return false, fmt.Sprintf("the synth context changed (%s)", strings.Join(p.context, " "))
	case fingerprint([]string{p.manifestPath()}) != s.Manifest:
		return false, p.cdkOut + " was written by another synth"
	case fingerprint(s.Inputs) != s.Inputs0:
		return false, "the app's code or cdk.json changed: " + changed(s.Inputs)
	}
	return true, ""
}

// changed names an input newer than the stamp, for the message.
func changed(inputs []string) string {
	var newest string
	var at time.Time
	for _, f := range inputs {
		if st, err := os.Stat(f); err != nil {
			return f + " is gone"
		} else if st.ModTime().After(at) {
			newest, at = f, st.ModTime()
		}
	}
	return newest
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
	inputs, err := appInputs(p.appDir, p.moduleDir)
	if err != nil {
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
	s := stamp{Context: p.context, Inputs: inputs, Inputs0: fingerprint(inputs), Manifest: fingerprint([]string{p.manifestPath()})}
	data, _ := json.MarshalIndent(s, "", "  ")
	if err := os.MkdirAll(p.stateDir, 0o755); err != nil {
		return err
	}
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
// cdk.context.json, and the Go files (and their folders) of the module
// packages the app's main package imports. Handler packages are not among
// them: jwtapi-local rebuilds handlers itself.
func appInputs(appDir, moduleDir string) ([]string, error) {
	inputs := []string{filepath.Join(appDir, "cdk.json"), filepath.Join(appDir, "cdk.context.json"),
		filepath.Join(moduleDir, "go.mod"), filepath.Join(moduleDir, "go.sum")}
	pkgs := appPackages(appDir)
	if pkgs == nil {
		// Not a "go run" app: every Go file of the module counts.
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
	args := append([]string{"list", "-e", "-deps", "-f", `{{if and .Module .Module.Main}}{{.Dir}}|{{join .GoFiles ","}},{{join .EmbedFiles ","}}{{end}}`}, pkgs...)
	cmd := exec.Command("go", args...)
	cmd.Dir = appDir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list %s: %v: %s", strings.Join(pkgs, " "), err, strings.TrimSpace(stderr.String()))
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		dir, names, ok := strings.Cut(line, "|")
		if !ok {
			continue
		}
		inputs = append(inputs, dir)
		for _, n := range strings.Split(names, ",") {
			if n != "" {
				inputs = append(inputs, filepath.Join(dir, n))
			}
		}
	}
	return inputs, nil
}

// appPackages returns the packages of a cdk.json app "go run <pkgs>", or nil.
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

// fingerprint hashes the size and time of each file (a missing file too).
func fingerprint(files []string) string {
	h := sha256.New()
	for _, f := range files {
		if st, err := os.Stat(f); err != nil {
			fmt.Fprintf(h, "%s missing\n", f)
		} else {
			fmt.Fprintf(h, "%s %d %d\n", f, st.Size(), st.ModTime().UnixNano())
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}
