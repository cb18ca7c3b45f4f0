// Command cdk is the CDK app: `cdk synth -c stage=dev` runs it. It reads CDK
// context and environment variables, and nothing below it does.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/jwtapi/jwtapi/constructs/jwtapi"
	"github.com/jwtapi/jwtapi/stacks"
)

func main() {
	// This app reads only its context, the environment and the handlers'
	// sources, all of which the cache watches: an unchanged synth is skipped.
	cache := jwtapi.OpenSynthCache()
	if cache.Fresh() {
		fmt.Fprintf(os.Stderr, "jwtapi: nothing changed since the last synth into %s: kept it (JWTAPI_SYNTH_CACHE=off synthesizes anyway)\n", os.Getenv("CDK_OUTDIR"))
		return
	}
	err := run()
	if err == nil {
		err = cache.Save()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
	}
	jwtapi.Close()
	if err != nil {
		os.Exit(1)
	}
}

func run() error {
	app := awscdk.NewApp(nil)
	context := func(key string) string {
		switch v := app.Node().TryGetContext(jsii.String(key)).(type) {
		case nil:
			return ""
		case string:
			return v
		default:
			return fmt.Sprint(v)
		}
	}
	name := context("stage")
	stage, err := stacks.SelectStage(app.Node().TryGetContext(jsii.String("stages")), name,
		stacks.EdgeOverrides(name, context, os.Getenv))
	if err != nil {
		return err
	}
	if _, err := stacks.NewStageApp(app, stage); err != nil {
		return err
	}
	return jwtapi.Synth(app)
}
