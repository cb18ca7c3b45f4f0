package jwtapi

import (
	"os"

	"github.com/aws/jsii-runtime-go"
)

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
