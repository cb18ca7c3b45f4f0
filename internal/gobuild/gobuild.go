// Package gobuild builds Go Lambda handlers the way AWS expects them: a static
// binary named bootstrap, reproducible so that the same source always gives the
// same bytes (and so the same CDK asset hash) on every machine with the same Go
// toolchain.
package gobuild

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/jwtapi/jwtapi/internal/proc"
)

// Target is a platform to build for.
type Target struct {
	GOOS   string
	GOARCH string
}

// Lambda returns the Lambda target for an architecture ("arm64" or "amd64").
func Lambda(arch string) Target { return Target{GOOS: "linux", GOARCH: arch} }

// Host is the machine running this process; the local gateway builds for it.
func Host() Target { return Target{GOOS: goEnv("GOHOSTOS"), GOARCH: goEnv("GOHOSTARCH")} }

func goEnv(name string) string {
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// IsImportPath reports whether pkg names a package by import path
// ("github.com/org/mod/cmd/x") rather than by a directory of the module.
func IsImportPath(pkg string) bool {
	first, _, _ := strings.Cut(filepath.ToSlash(pkg), "/")
	return !strings.HasPrefix(first, ".") && strings.Contains(first, ".")
}

// target is what go build is given: ./dir for a directory of the module, the
// import path as is for a package of a dependency.
func target(pkg string) string {
	if IsImportPath(pkg) {
		return filepath.ToSlash(pkg)
	}
	return "./" + filepath.ToSlash(filepath.Clean(pkg))
}

// Args returns the go build arguments for pkg (a directory of the module
// such as "functions/hello", or an import path) written to out.
//
// lambda.norpc drops the legacy RPC mode that provided.al2023 never uses;
// -trimpath, -buildvcs=false and an empty build id make the output depend
// only on the source, the toolchain and where replaced modules are checked
// out. The module build information stays in the binary, so that `go
// version -m` and `govulncheck -mode=binary` can audit what is deployed;
// since it records the folder of every module replaced by a local path,
// asset hashes come from the build's inputs (InputHash), not the binary.
func Args(pkg, out string) []string {
	return append(buildFlags(), "-o", out, target(pkg))
}

func buildFlags() []string {
	return []string{"build", "-tags", "lambda.norpc", "-trimpath", "-buildvcs=false", "-ldflags", "-s -w -buildid="}
}

// env is the build environment for t: CGO off gives a static binary that
// runs on Amazon Linux without glibc version surprises, and keeps the build
// reproducible.
func env(t Target) []string {
	return append(os.Environ(), "CGO_ENABLED=0", "GOOS="+t.GOOS, "GOARCH="+t.GOARCH)
}

// Build compiles the main package pkg of the module in moduleDir into out.
// The error carries the compiler's output.
func Build(ctx context.Context, moduleDir, pkg string, t Target, out string) error {
	cmd := proc.CommandContext(ctx, "go", Args(pkg, out)...)
	cmd.Dir = moduleDir
	cmd.Env = env(t)
	var output bytes.Buffer
	cmd.Stdout = &output
	cmd.Stderr = &output
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build %s for %s/%s failed: %v\n%s", target(pkg), t.GOOS, t.GOARCH, err, strings.TrimSpace(output.String()))
	}
	return nil
}

// ModuleDir returns the nearest directory at or above dir holding go.mod.
func ModuleDir(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod found in %s or above", dir)
		}
	}
}

// Sources lists what a build of pkgs (run from dir) depends on that can
// change without go.mod changing: go.mod, go.sum, and the Go and embedded
// files of every package they import from the main module or from a module
// replaced by a local folder, with those packages' folders (a file added or
// removed changes them). Packages that fail to load are still listed.
func Sources(ctx context.Context, dir string, pkgs ...string) ([]string, error) {
	args := append([]string{"list", "-e", "-deps", "-f",
		`{{with .Module}}{{if or .Main (and .Replace (not .Replace.Version))}}{{$.Dir}}|{{join $.GoFiles ","}},{{join $.EmbedFiles ","}}{{end}}{{end}}`}, pkgs...)
	cmd := proc.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list %s: %v: %s", strings.Join(pkgs, " "), err, strings.TrimSpace(stderr.String()))
	}
	moduleDir, err := ModuleDir(dir)
	if err != nil {
		return nil, err
	}
	files := []string{filepath.Join(moduleDir, "go.mod"), filepath.Join(moduleDir, "go.sum")}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkgDir, names, ok := strings.Cut(line, "|")
		if !ok {
			continue
		}
		files = append(files, pkgDir)
		for _, n := range strings.Split(names, ",") {
			if n != "" {
				files = append(files, filepath.Join(pkgDir, n))
			}
		}
	}
	return files, nil
}

// Signature says what a source looks like now: a file's size and time, a
// folder's Go file names (not its time, which changes whenever anything is
// written next to the sources), or that it is missing.
func Signature(path string) string {
	st, err := os.Stat(path)
	switch {
	case err != nil:
		return "missing"
	case st.IsDir():
		names, _ := filepath.Glob(filepath.Join(path, "*.go"))
		for i, n := range names {
			names[i] = filepath.Base(n)
		}
		return "dir " + strings.Join(names, ",")
	}
	return fmt.Sprintf("%d %d", st.Size(), st.ModTime().UnixNano())
}

// Fingerprint hashes the signatures of files.
func Fingerprint(files []string) string {
	h := sha256.New()
	for _, f := range files {
		fmt.Fprintf(h, "%s %s\n", f, Signature(f))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// ContentFingerprint hashes what files hold: a file's bytes (two saves in
// the same clock tick with the same size differ here, not in their
// Signature), a folder's Go file names, or that it is missing.
func ContentFingerprint(files []string) string {
	h := sha256.New()
	for _, f := range files {
		fmt.Fprintf(h, "%s ", f)
		st, err := os.Stat(f)
		switch {
		case err != nil:
			fmt.Fprintln(h, "missing")
		case st.IsDir():
			fmt.Fprintln(h, Signature(f))
		default:
			data, err := os.ReadFile(f)
			if err != nil {
				fmt.Fprintln(h, "unreadable")
				continue
			}
			fmt.Fprintf(h, "%d ", len(data))
			h.Write(data)
			fmt.Fprintln(h)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// ContentHash is the hash of a file's bytes.
func ContentHash(file string) (string, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}

// listed is one package of `go list -deps -json`.
type listed struct {
	ImportPath string
	Dir        string
	Standard   bool
	GoFiles    []string
	EmbedFiles []string
	Module     *struct {
		Path      string
		Version   string
		Main      bool
		GoVersion string
		Replace   *struct {
			Path    string
			Version string
		}
	}
	Error *struct{ Err string }
}

// local tells whether the package's source is in a folder of the user's:
// the main module, or a module replaced by a local path.
func (p listed) local() bool {
	return p.Module == nil || p.Module.Main || p.Module.Replace != nil && p.Module.Replace.Version == ""
}

// InputHash is the asset hash of building pkg for t: a hash of what the
// binary is made from, the same on every machine and from every checkout
// folder. It covers the Go toolchain, the target and build flags, every
// package linked in: the contents of the Go and embedded files of packages
// in the main module or in modules replaced by a local folder (by name
// within their package, never by folder), and the module path and version
// of every other package (go.sum pins their contents). It changes whenever
// a source does (an edited comment too: a redeploy of identical code is the
// safe mistake), and never with the folder the modules are in.
func InputHash(ctx context.Context, moduleDir, pkg string, t Target) (string, error) {
	cmd := proc.CommandContext(ctx, "go", "list", "-deps", "-tags", "lambda.norpc",
		"-json=ImportPath,Dir,Standard,GoFiles,EmbedFiles,Module,Error", target(pkg))
	cmd.Dir = moduleDir
	cmd.Env = env(t)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go list %s: %v: %s", target(pkg), err, strings.TrimSpace(stderr.String()))
	}
	version, err := exec.CommandContext(ctx, "go", "env", "GOVERSION").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOVERSION: %v", err)
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s %s/%s %s\n", strings.TrimSpace(string(version)), t.GOOS, t.GOARCH, strings.Join(buildFlags(), " "))
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p listed
		if err := dec.Decode(&p); err != nil {
			return "", fmt.Errorf("go list %s: %v", target(pkg), err)
		}
		switch {
		case p.Error != nil:
			return "", fmt.Errorf("go list %s: %s", target(pkg), p.Error.Err)
		case p.Standard:
			continue // the toolchain's version covers it
		case !p.local():
			m := p.Module
			fmt.Fprintf(h, "%s %s@%s", p.ImportPath, m.Path, m.Version)
			if m.Replace != nil {
				fmt.Fprintf(h, " => %s@%s", m.Replace.Path, m.Replace.Version)
			}
			fmt.Fprintln(h)
			continue
		}
		fmt.Fprintf(h, "%s local", p.ImportPath)
		if p.Module != nil {
			fmt.Fprintf(h, " %s go%s", p.Module.Path, p.Module.GoVersion)
		}
		fmt.Fprintln(h)
		for _, name := range append(append([]string{}, p.GoFiles...), p.EmbedFiles...) {
			sum, err := ContentHash(filepath.Join(p.Dir, name))
			if err != nil {
				return "", err
			}
			fmt.Fprintf(h, "  %s %s\n", filepath.ToSlash(name), sum)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
