package lambdarun

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/jwtapi/jwtapi/internal/gobuild"
)

// checkEvery bounds how often a function's sources are checked for changes.
// A developer saves a file and then sends a request: that takes longer.
const checkEvery = 100 * time.Millisecond

// builder builds a handler package for the host and notices source changes.
type builder struct {
	moduleDir, pkg, outDir string

	mu          sync.Mutex
	files       []string // source files and directories the build depends on
	fingerprint string
	checkedAt   time.Time
	bin         string // current binary
	generation  int
	lastErr     error
}

// current returns the binary to run, rebuilding first if a source changed
// since the last build. It reports the build generation, which changes on
// every successful rebuild.
func (b *builder) current(ctx context.Context) (string, int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	built := b.fingerprint != ""
	if built && time.Since(b.checkedAt) < checkEvery {
		return b.bin, b.generation, b.lastErr
	}
	b.checkedAt = time.Now()
	if built && fingerprint(b.files) == b.fingerprint {
		return b.bin, b.generation, b.lastErr // unchanged: same binary, or same compile error
	}
	return b.build(ctx)
}

func (b *builder) build(ctx context.Context) (string, int, error) {
	files, err := sourceFiles(ctx, b.moduleDir, b.pkg)
	if err == nil {
		b.files = files
	}
	b.fingerprint = fingerprint(b.files)
	out := filepath.Join(b.outDir, fmt.Sprintf("bootstrap.%d", b.generation+1))
	if err == nil {
		err = gobuild.Build(ctx, b.moduleDir, b.pkg, gobuild.Host(), out)
	}
	b.lastErr = err
	if err != nil {
		return "", b.generation, err
	}
	b.generation++
	b.bin = out
	return out, b.generation, nil
}

// sourceFiles lists what a build of pkg depends on inside the module: the
// Go files of every module package it imports, their directories (a file
// added or removed changes them), go.mod and go.sum.
func sourceFiles(ctx context.Context, moduleDir, pkg string) ([]string, error) {
	target := "./" + pkg
	if gobuild.IsImportPath(pkg) {
		target = pkg
	}
	cmd := exec.CommandContext(ctx, "go", "list", "-deps", "-f",
		`{{if and .Module .Module.Main}}{{.Dir}}|{{join .GoFiles ","}},{{join .EmbedFiles ","}}{{end}}`, target)
	cmd.Dir = moduleDir
	out, err := cmd.Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return nil, fmt.Errorf("go list %s: %s", target, strings.TrimSpace(string(ee.Stderr)))
		}
		return nil, err
	}
	files := []string{filepath.Join(moduleDir, "go.mod"), filepath.Join(moduleDir, "go.sum")}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		dir, names, ok := strings.Cut(line, "|")
		if !ok {
			continue
		}
		files = append(files, dir)
		for _, n := range strings.Split(names, ",") {
			if n != "" {
				files = append(files, filepath.Join(dir, n))
			}
		}
	}
	return files, nil
}

func fingerprint(files []string) string {
	h := sha256.New()
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			fmt.Fprintf(h, "%s missing\n", f)
			continue
		}
		fmt.Fprintf(h, "%s %d %d\n", f, st.Size(), st.ModTime().UnixNano())
	}
	return hex.EncodeToString(h.Sum(nil))
}
