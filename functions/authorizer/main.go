// Command authorizer is the Go Lambda authorizer: it verifies the caller's
// JWT (golang-jwt, JWKS through keyfunc) and applies per-route rules, for
// HTTP API REQUEST authorizers (simple responses) and REST API TOKEN
// authorizers (IAM policies). It is configured by the environment variables
// of package authzspec, which the jwtapi construct sets; its logic is
// package authz.
package main

import "github.com/jwtapi/jwtapi/functions/authz"

func main() { authz.Main() }
