package jwtapi

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3assets"
	"github.com/aws/jsii-runtime-go"

	"github.com/jwtapi/jwtapi/internal/gobuild"
)

// goBundler builds a handler with the local Go toolchain during synth. It is
// passed to jsii as a pointer: jsii cannot take the address of a value.
type goBundler struct {
	moduleDir string
	pkg       string
	target    gobuild.Target
}

// TryBundle implements awscdk.ILocalBundling.
func (b *goBundler) TryBundle(outputDir *string, _ *awscdk.BundlingOptions) *bool {
	fmt.Fprintf(os.Stderr, "jwtapi: building %s for %s/%s\n", b.pkg, b.target.GOOS, b.target.GOARCH)
	err := gobuild.Build(context.Background(), b.moduleDir, b.pkg, b.target, filepath.Join(*outputDir, "bootstrap"))
	if err != nil {
		// A compile error is the user's to fix; stop here with the compiler's
		// words rather than let CDK fall back to Docker or print a jsii trace.
		fmt.Fprintf(os.Stderr, "jwtapi: %v\njwtapi: fix the handler above and run the command again\n", err)
		os.Exit(1)
	}
	return jsii.Bool(true)
}

// packageDir is the directory of an import path's package (validated
// before, so it exists); CDK needs a source directory for the asset.
func packageDir(moduleDir, pkg string) string {
	cmd := exec.Command("go", "list", "-f", "{{.Dir}}", pkg)
	cmd.Dir = moduleDir
	out, err := cmd.Output()
	if err != nil {
		return moduleDir
	}
	return strings.TrimSpace(string(out))
}

// goCode returns the Lambda code of the handler package pkg, built during synth.
//
// The asset hash is the hash of the built binary: the build is reproducible,
// so the hash changes exactly when the deployed code would.
func goCode(moduleDir, pkg string, target gobuild.Target) awslambda.Code {
	source := filepath.Join(moduleDir, pkg)
	if gobuild.IsImportPath(pkg) {
		source = packageDir(moduleDir, pkg)
	}
	return awslambda.Code_FromAsset(jsii.String(source), &awss3assets.AssetOptions{
		AssetHashType: awscdk.AssetHashType_OUTPUT,
		Bundling: &awscdk.BundlingOptions{
			// Never pulled: the local bundler always succeeds or stops the synth.
			Image: awscdk.DockerImage_FromRegistry(jsii.String("scratch")),
			Local: &goBundler{moduleDir: moduleDir, pkg: pkg, target: target},
		},
	})
}
