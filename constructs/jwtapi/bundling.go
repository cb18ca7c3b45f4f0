package jwtapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3assets"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/jwtapi/jwtapi/internal/gobuild"
)

// builds runs each handler build once per synth, as soon as the routes are
// known and up to one per CPU at a time, while jsii builds the rest of the
// app; CDK then bundles asset after asset from the finished binaries. Two
// routes served by the same package share one build.
var builds = &buildQueue{m: map[string]*build{}, slots: make(chan struct{}, max(2, runtime.NumCPU()))}

type buildQueue struct {
	mu    sync.Mutex
	m     map[string]*build
	slots chan struct{}
}

type build struct {
	done chan struct{}
	bin  string
	err  error
}

// start begins (or joins) the build of pkg for target, into a folder of dir.
func (q *buildQueue) start(dir, moduleDir, pkg string, t gobuild.Target) *build {
	key := moduleDir + "|" + pkg + "|" + t.GOOS + "/" + t.GOARCH
	q.mu.Lock()
	defer q.mu.Unlock()
	if b, ok := q.m[key]; ok {
		return b
	}
	b := &build{done: make(chan struct{})}
	q.m[key] = b
	go func() {
		defer close(b.done)
		q.slots <- struct{}{}
		defer func() { <-q.slots }()
		fmt.Fprintf(os.Stderr, "jwtapi: building %s for %s/%s\n", pkg, t.GOOS, t.GOARCH)
		sum := sha256.Sum256([]byte(key))
		b.bin = filepath.Join(dir, ".jwtapi-build", hex.EncodeToString(sum[:8]), "bootstrap")
		b.err = gobuild.Build(context.Background(), moduleDir, pkg, t, b.bin)
	}()
	return b
}

// buildDir is where builds go: under the app's output folder (cdk.out),
// which is build output already, else a temporary folder.
func buildDir(scope constructs.Construct) string {
	if st := awscdk.Stage_Of(scope); st != nil && st.Outdir() != nil {
		return *st.Outdir()
	}
	dir, err := os.MkdirTemp("", "jwtapi-build-")
	if err != nil {
		return os.TempDir()
	}
	return dir
}

// goBundler copies a handler's build into the asset during synth. It is
// passed to jsii as a pointer: jsii cannot take the address of a value.
type goBundler struct {
	dir       string
	moduleDir string
	pkg       string
	target    gobuild.Target
}

// TryBundle implements awscdk.ILocalBundling.
func (b *goBundler) TryBundle(outputDir *string, _ *awscdk.BundlingOptions) *bool {
	bl := builds.start(b.dir, b.moduleDir, b.pkg, b.target)
	<-bl.done
	err := bl.err
	if err == nil {
		err = copyFile(bl.bin, filepath.Join(*outputDir, "bootstrap"))
	}
	if err != nil {
		// A compile error is the user's to fix; stop here with the compiler's
		// words rather than let CDK fall back to Docker or print a jsii trace.
		fmt.Fprintf(os.Stderr, "jwtapi: %v\njwtapi: fix the handler above and run the command again\n", err)
		os.Exit(1)
	}
	return jsii.Bool(true)
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// packageDir is the directory of an import path's package, found when it
// was checked (the default authorizer is checked here, on first use); CDK
// needs a source directory for the asset.
func packageDir(moduleDir, pkg string) string {
	if _, ok := importDirs.Load(moduleDir + "|" + pkg); !ok {
		checkImportPath(moduleDir, pkg)
	}
	if dir, ok := importDirs.Load(moduleDir + "|" + pkg); ok {
		return dir.(string)
	}
	return moduleDir
}

// goCode returns the Lambda code of the handler package pkg, built during synth.
//
// The asset hash is the hash of the built binary: the build is reproducible,
// so the hash changes exactly when the deployed code would.
func goCode(dir, moduleDir, pkg string, target gobuild.Target) awslambda.Code {
	source := filepath.Join(moduleDir, pkg)
	if gobuild.IsImportPath(pkg) {
		source = packageDir(moduleDir, pkg)
	}
	return awslambda.Code_FromAsset(jsii.String(source), &awss3assets.AssetOptions{
		AssetHashType: awscdk.AssetHashType_OUTPUT,
		Bundling: &awscdk.BundlingOptions{
			// Never pulled: the local bundler always succeeds or stops the synth.
			Image: awscdk.DockerImage_FromRegistry(jsii.String("scratch")),
			Local: &goBundler{dir: dir, moduleDir: moduleDir, pkg: pkg, target: target},
		},
	})
}
