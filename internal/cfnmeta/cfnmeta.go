// Package cfnmeta names the metadata the jwtapi construct writes on each
// function in the synthesized template, so that tools reading the template
// (the local gateway) find the handler's source without linking the CDK.
package cfnmeta

const (
	// Handler is the handler's main package directory, relative to the Go module.
	Handler = "jwtapi:handler"
	// RouteKey is the route the function serves.
	RouteKey = "jwtapi:route"
)

// Stage is the template-level metadata naming the stage a stack belongs to,
// which `jwtapi dev --stage` selects stacks by.
const Stage = "jwtapi:stage"

// ContextFile is the file jwtapi.Synth writes in the cloud assembly with
// the CDK context the app was synthesized with, so that `jwtapi dev` can
// synthesize it again with the same -c values.
const ContextFile = "jwtapi-context.json"
