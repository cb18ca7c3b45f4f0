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
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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
// -trimpath, -buildvcs=false and an empty build id make the output depend only
// on the source and the toolchain. The embedded build information (the list
// of modules) is left out too: it records the folder of every module replaced
// by a local path, so the same code would build differently, and deploy
// again, from another checkout.
func Args(pkg, out string) []string {
	return []string{"build", "-tags", "lambda.norpc", "-trimpath", "-buildvcs=false",
		"-ldflags", "-s -w -buildid= -X runtime.modinfo=", "-o", out, target(pkg)}
}

// Build compiles the main package pkg of the module in moduleDir into out.
// The error carries the compiler's output.
func Build(ctx context.Context, moduleDir, pkg string, t Target, out string) error {
	cmd := exec.CommandContext(ctx, "go", Args(pkg, out)...)
	cmd.Dir = moduleDir
	// CGO off gives a static binary that runs on Amazon Linux without glibc
	// version surprises, and keeps the build reproducible.
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+t.GOOS, "GOARCH="+t.GOARCH)
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
	cmd := exec.CommandContext(ctx, "go", args...)
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

// ContentHash is the hash of a built binary: the same source gives the
// same binary (Args), so it changes exactly when the deployed code would.
func ContentHash(bin string) (string, error) {
	data, err := os.ReadFile(bin)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}
