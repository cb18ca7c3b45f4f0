package jwtapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3assets"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/jwtapi/jwtapi/internal/gobuild"
)

// builds are the handler builds of one app (one output folder), kept by a
// construct at the root of the app: each package is built once per synth,
// as soon as its route is known, up to one per CPU at a time, while jsii
// creates the rest of the app. A build whose sources are unchanged since
// the last synth into the same folder is reused as it is.
type builds struct {
	constructs.Construct
	dir   string // where builds go: the app's output folder (cdk.out)
	slots chan struct{}

	mu         sync.Mutex
	m          map[string]*build
	importDirs map[string]string // moduleDir|import path -> package folder
	goVersion  string
}

// ToString makes builds an override of Construct, as jsii requires of a Go
// construct; it answers what Construct.toString does.
func (b *builds) ToString() *string { return b.Node().Path() }

// buildsID is the id of the builds construct under the app's root.
const buildsID = "JwtApiHandlerBuilds"

// buildsOf returns the builds of the app (or CDK Stage) holding scope.
func buildsOf(scope constructs.IConstruct) *builds {
	root, _ := scope.Node().Root().(constructs.Construct)
	dir := ""
	if st := awscdk.Stage_Of(scope); st != nil {
		root = st
		if st.Outdir() != nil {
			dir = *st.Outdir()
		}
	}
	if b, ok := root.Node().TryFindChild(jsii.String(buildsID)).(*builds); ok {
		return b
	}
	if dir == "" {
		dir, _ = os.MkdirTemp("", "jwtapi-build-")
	}
	b := &builds{dir: dir, slots: make(chan struct{}, max(2, runtime.NumCPU())), m: map[string]*build{}, importDirs: map[string]string{}}
	constructs.NewConstruct_Override(b, root, jsii.String(buildsID))
	return b
}

// build is one handler package built for one target.
type build struct {
	done chan struct{}
	bin  string
	hash string // the hash of the build's inputs, the same from any checkout
	err  error
}

// record is what a build leaves next to its binary, so that the next
// synth into the same folder can reuse it.
type record struct {
	Files      []string `json:"files"`
	Signatures []string `json:"signatures"`
	Hash       string   `json:"hash"`
}

// start begins (or joins) the build of pkg for t.
func (b *builds) start(moduleDir, pkg string, t gobuild.Target) *build {
	key := moduleDir + "|" + pkg + "|" + t.GOOS + "/" + t.GOARCH
	b.mu.Lock()
	defer b.mu.Unlock()
	if bl, ok := b.m[key]; ok {
		return bl
	}
	bl := &build{done: make(chan struct{})}
	b.m[key] = bl
	go func() {
		defer close(bl.done)
		b.slots <- struct{}{}
		defer func() { <-b.slots }()
		sum := sha256.Sum256([]byte(key + "|" + b.version()))
		folder := filepath.Join(b.dir, ".jwtapi-build", hex.EncodeToString(sum[:8]))
		bl.bin = filepath.Join(folder, "bootstrap")
		if bl.hash = reusable(folder, bl.bin); bl.hash != "" {
			return
		}
		fmt.Fprintf(os.Stderr, "jwtapi: building %s for %s/%s\n", pkg, t.GOOS, t.GOARCH)
		target := pkg
		if !gobuild.IsImportPath(pkg) {
			target = "./" + filepath.ToSlash(filepath.Clean(pkg))
		}
		files, err := gobuild.Sources(context.Background(), moduleDir, target)
		if err == nil {
			err = gobuild.Build(context.Background(), moduleDir, pkg, t, bl.bin)
		}
		if err == nil {
			bl.hash, err = gobuild.InputHash(context.Background(), moduleDir, pkg, t)
		}
		if bl.err = err; err == nil {
			keep(folder, files, bl.hash)
		}
	}()
	return bl
}

// version is the Go toolchain's, part of every build's key.
func (b *builds) version() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.goVersion == "" {
		out, _ := exec.Command("go", "env", "GOVERSION").Output()
		b.goVersion = strings.TrimSpace(string(out))
	}
	return b.goVersion
}

// reusable returns the hash of the build in folder if its sources are as
// they were when it was made, else "".
func reusable(folder, bin string) string {
	data, err := os.ReadFile(filepath.Join(folder, "build.json"))
	if err != nil {
		return ""
	}
	var r record
	if json.Unmarshal(data, &r) != nil || len(r.Files) == 0 || len(r.Files) != len(r.Signatures) {
		return ""
	}
	for i, f := range r.Files {
		if gobuild.Signature(f) != r.Signatures[i] {
			return ""
		}
	}
	if _, err := os.Stat(bin); err != nil {
		return ""
	}
	return r.Hash
}

func keep(folder string, files []string, hash string) {
	r := record{Files: files, Hash: hash}
	for _, f := range files {
		r.Signatures = append(r.Signatures, gobuild.Signature(f))
	}
	data, _ := json.Marshal(r)
	os.WriteFile(filepath.Join(folder, "build.json"), data, 0o644)
}

// wait returns the finished build.
func (bl *build) wait() (*build, error) {
	<-bl.done
	return bl, bl.err
}

// goBundler copies a finished build into the asset during synth. It is
// passed to jsii as a pointer: jsii cannot take the address of a value.
type goBundler struct {
	bin string
}

// TryBundle implements awscdk.ILocalBundling.
func (g *goBundler) TryBundle(outputDir *string, _ *awscdk.BundlingOptions) *bool {
	return jsii.Bool(copyFile(g.bin, filepath.Join(*outputDir, "bootstrap")) == nil)
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

// code returns the Lambda code of the handler package pkg, waiting for its
// build: a compile error comes back as an error, before any asset exists.
//
// The asset hash is the hash of the build's inputs (gobuild.InputHash), not
// of the binary: the binary records where replaced modules are checked out,
// the inputs do not.
func (b *builds) code(moduleDir, pkg string, t gobuild.Target) (awslambda.Code, error) {
	bl, err := b.start(moduleDir, pkg, t).wait()
	if err != nil {
		return nil, err
	}
	source := filepath.Join(moduleDir, pkg)
	if gobuild.IsImportPath(pkg) {
		source = b.packageDir(moduleDir, pkg)
	}
	return awslambda.Code_FromAsset(jsii.String(source), &awss3assets.AssetOptions{
		AssetHashType: awscdk.AssetHashType_CUSTOM,
		AssetHash:     jsii.String(bl.hash),
		Bundling: &awscdk.BundlingOptions{
			// Never pulled: the local bundler copies a build that succeeded.
			Image: awscdk.DockerImage_FromRegistry(jsii.String("scratch")),
			Local: &goBundler{bin: bl.bin},
		},
	}), nil
}

// packageDir is the folder of an import path's package (CDK needs a
// source folder for the asset), asked of the go command once.
func (b *builds) packageDir(moduleDir, pkg string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if dir, ok := b.importDirs[moduleDir+"|"+pkg]; ok {
		return dir
	}
	cmd := exec.Command("go", "list", "-f", "{{.Dir}}", pkg)
	cmd.Dir = moduleDir
	out, err := cmd.Output()
	dir := strings.TrimSpace(string(out))
	if err != nil || dir == "" {
		dir = moduleDir
	}
	b.importDirs[moduleDir+"|"+pkg] = dir
	return dir
}
