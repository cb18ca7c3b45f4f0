// Command cdk is the CDK app: `cdk synth -c stage=dev` runs it. It reads CDK
// context and environment variables, and nothing below it does.
package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/jwtapi/jwtapi/stacks"
)

func main() {
	err := run()
	if err != nil {
		// Printed before jsii.Close, which may add a line of its own.
		fmt.Fprintln(os.Stderr, "error:", err)
	}
	jsii.Close()
	if err != nil {
		os.Exit(1)
	}
}

func run() error {
	app := awscdk.NewApp(nil)
	stage, err := stacks.SelectStage(app.Node().TryGetContext(jsii.String("stages")), contextString(app, "stage"), overrides(app))
	if err != nil {
		return err
	}
	stack, err := stacks.NewApiStack(app, stage)
	if err != nil {
		return err
	}
	stacks.AddNagChecks(stack.Stack)
	app.Synth(nil)
	return nil
}

// overrides reads issuer and audience overrides: -c issuer=... / -c
// auth0Domain=... / -c audience=a,b first, then AUTH0_DOMAIN and
// AUTH0_AUDIENCE. The environment is ignored for the local stage, whose
// issuer is the embedded one whatever the shell exports.
func overrides(app awscdk.App) stacks.Overrides {
	o := stacks.Overrides{
		Issuer:      contextString(app, "issuer"),
		Auth0Domain: contextString(app, "auth0Domain"),
		Audiences:   splitList(contextString(app, "audience")),
	}
	if contextString(app, "stage") == "local" {
		return o
	}
	if o.Issuer == "" && o.Auth0Domain == "" {
		o.Auth0Domain = os.Getenv("AUTH0_DOMAIN")
	}
	if len(o.Audiences) == 0 {
		o.Audiences = splitList(os.Getenv("AUTH0_AUDIENCE"))
	}
	return o
}

func contextString(app awscdk.App, key string) string {
	v := app.Node().TryGetContext(jsii.String(key))
	if v == nil {
		return ""
	}
	if s, ok := v.(string); ok {
		return s
	}
	return fmt.Sprint(v)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}


