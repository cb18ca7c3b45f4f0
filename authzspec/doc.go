// Package authzspec is the contract between the jwtapi construct and the Go
// Lambda authorizer: what a route requires of a token (Rule), how rules are
// validated, and the authorizer's configuration with the environment
// variables that carry it, written by the construct (Config.Env) and read by
// the authorizer (FromEnv). It depends on no AWS runtime, so the construct,
// the app's stacks and the local gateway can all import it.
package authzspec
