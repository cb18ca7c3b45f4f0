package lambdarun

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/jwtapi/jwtapi/internal/gobuild"
)

// checkEvery bounds how often a function's sources are looked at where
// there is no inotify watch (another OS, or no watches left): a change saved
// less than this before a request may be served by the previous build.
const checkEvery = 100 * time.Millisecond

// builder builds a handler package for the host and notices source changes.
// The last build's record (buildRecord) stays next to the binary, so the
// next start of jwtapi-local runs it at once when nothing changed since.
type builder struct {
	moduleDir, pkg, outDir string
	stop                   <-chan struct{} // the runtime's: closed, a build in progress is cancelled

	mu          sync.Mutex
	closed      bool
	files       []string     // source files and directories the build depends on
	fingerprint string       // gobuild.ContentFingerprint of files
	watch       *sourceWatch // nil: look at the files every checkEvery
	checkedAt   time.Time
	bin         string // current binary
	generation  int
	lastErr     error
}

// buildRecord is what a successful build leaves in its folder.
type buildRecord struct {
	Files       []string `json:"files"`
	Fingerprint string   `json:"fingerprint"`
	Binary      string   `json:"binary"`
	Generation  int      `json:"generation"`
}

const recordFile = "build.json"

// current returns the binary to run, rebuilding first if a source changed
// since the last build. It reports the build generation, which changes on
// every successful rebuild. With a watch, a change saved before the call
// is always seen; the files are read only after the watch saw something.
func (b *builder) current(ctx context.Context) (string, int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return "", b.generation, ErrClosed // no build may start once jwtapi is stopping: it would outlive it
	}
	built := b.fingerprint != ""
	if built && b.watch != nil && !b.watch.changed() {
		return b.bin, b.generation, b.lastErr
	}
	if (!built || b.watch == nil) && !b.checkedAt.IsZero() && time.Since(b.checkedAt) < checkEvery {
		return b.bin, b.generation, b.lastErr
	}
	b.checkedAt = time.Now()
	if built && gobuild.ContentFingerprint(b.files) == b.fingerprint {
		return b.bin, b.generation, b.lastErr // unchanged: same binary, or same compile error
	}
	if !built && b.adopt() {
		return b.bin, b.generation, nil
	}
	return b.build(ctx)
}

// adopt takes over the build an earlier run left, if its sources are unchanged.
func (b *builder) adopt() bool {
	data, err := os.ReadFile(filepath.Join(b.outDir, recordFile))
	if err != nil {
		return false
	}
	var r buildRecord
	if json.Unmarshal(data, &r) != nil || len(r.Files) == 0 {
		return false
	}
	if st, err := os.Stat(r.Binary); err != nil || !st.Mode().IsRegular() {
		return false
	}
	b.rewatch(r.Files) // before reading the files: a change from now on is seen
	if gobuild.ContentFingerprint(r.Files) != r.Fingerprint {
		return false
	}
	b.files, b.fingerprint, b.bin, b.generation = r.Files, r.Fingerprint, r.Binary, r.Generation
	return true
}

// rewatch watches the folders of files instead of the previous ones.
func (b *builder) rewatch(files []string) {
	if b.watch != nil {
		b.watch.close()
	}
	b.watch = nil
	if len(files) > 0 {
		b.watch = newSourceWatch(files)
	}
}

// close stops watching the sources. The runtime's stop channel is closed
// first, so a build in progress is cancelled, and close returns once it is.
func (b *builder) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	if b.watch != nil {
		b.watch.close()
		b.watch = nil
	}
}

func (b *builder) build(ctx context.Context) (string, int, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-b.stop: // jwtapi is stopping: the go commands must not outlive it
			cancel()
		case <-ctx.Done():
		}
	}()
	files, err := sourceFiles(ctx, b.moduleDir, b.pkg)
	if err == nil {
		b.files = files
	}
	b.rewatch(b.files) // before reading the files: a change during the build is seen next time
	b.fingerprint = ""
	if len(b.files) > 0 {
		b.fingerprint = gobuild.ContentFingerprint(b.files)
	}
	out := filepath.Join(b.outDir, fmt.Sprintf("bootstrap.%d", b.generation+1))
	if err == nil {
		err = gobuild.Build(ctx, b.moduleDir, b.pkg, gobuild.Host(), out)
	}
	if err != nil && ctx.Err() != nil {
		// Cut short, not a compile error: nothing is remembered, so the next
		// call builds again rather than repeating this failure.
		b.fingerprint, b.checkedAt = "", time.Time{}
		select {
		case <-b.stop:
			return "", b.generation, ErrClosed
		default:
			return "", b.generation, fmt.Errorf("build of %s cut short: %w", b.pkg, ctx.Err())
		}
	}
	b.lastErr = err
	if err != nil {
		return "", b.generation, err
	}
	// Drop the build before the previous one: instances being started may
	// still use the previous binary, running ones keep theirs open.
	os.Remove(filepath.Join(b.outDir, fmt.Sprintf("bootstrap.%d", b.generation-1)))
	b.generation++
	b.bin = out
	if data, err := json.Marshal(buildRecord{Files: b.files, Fingerprint: b.fingerprint, Binary: out, Generation: b.generation}); err == nil {
		os.WriteFile(filepath.Join(b.outDir, recordFile), data, 0o644)
	}
	return out, b.generation, nil
}

// sourceFiles lists what a build of pkg depends on inside the module.
func sourceFiles(ctx context.Context, moduleDir, pkg string) ([]string, error) {
	target := "./" + pkg
	if gobuild.IsImportPath(pkg) {
		target = pkg
	}
	return gobuild.Sources(ctx, moduleDir, target)
}
