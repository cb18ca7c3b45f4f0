package jwtapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/jwtapi/jwtapi/internal/cfnmeta"
)

// Synth synthesizes app. What jsii raises during synth (a failed
// validation, a cdk-nag error) comes back as an error carrying its message,
// not as a panic with a JavaScript stack trace. It also records the CDK
// context the app was given in the assembly (jwtapi-context.json), so that
// `jwtapi dev` synthesizes it again with the same -c values.
func Synth(app awscdk.App) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errors.New(jsError(fmt.Sprint(r)))
		}
	}()
	app.Synth(nil)
	return recordContext(app)
}

// recordContext writes the app's context into its output folder.
func recordContext(app awscdk.App) error {
	data, err := json.MarshalIndent(map[string]any{"context": app.Node().GetAllContext(nil)}, "", "  ")
	if err != nil {
		return fmt.Errorf("recording the synth context: %w", err)
	}
	return os.WriteFile(filepath.Join(*app.Outdir(), cfnmeta.ContextFile), append(data, '\n'), 0o644)
}

// jsError keeps the message of a JavaScript error and drops its stack.
func jsError(s string) string {
	var keep []string
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "at ") {
			break
		}
		keep = append(keep, l)
	}
	return strings.TrimSpace(strings.Join(keep, "\n"))
}

// Close stops the jsii runtime at the end of a CDK app's main, in place of
// jsii.Close. jsii-runtime-go races two waits on its Node process and may
// print "Runtime process exited abnormally: waitid: no child processes"
// after a successful synth; nothing can be done about it, so Close keeps it
// off the terminal. Call it last: it silences standard error.
func Close() {
	if devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0); err == nil {
		os.Stderr = devNull
	}
	jsii.Close()
}
