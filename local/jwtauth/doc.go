// Package jwtauth reproduces API Gateway's managed JWT authorizer for HTTP
// APIs, for the local gateway, as a thin profile over jwtverify (the
// verifier the Go Lambda authorizer uses too): RSA signatures only, a kid
// required, exact issuer, audience then client_id, exp/nbf/iat without clock
// skew, "at least one of" route scopes, and the claims handed to the
// integration stringified the way API Gateway does it.
//
// The facts about API Gateway this relies on are kept in one place each:
// the profile in authorizer.go, the stringification rules in stringify.go,
// and the error texts in jwtverify's table.
package jwtauth
