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
// which `jwtapi-local serve --stage` selects stacks by.
const Stage = "jwtapi:stage"
