// Package jwtauth reproduces API Gateway's managed JWT authorizer for HTTP
// APIs, for the local gateway: OIDC discovery, a JWKS cache that refetches on
// an unknown kid, RSA signatures only, exact issuer, audience then client_id,
// exp/nbf/iat, "at least one of" route scopes, and the claims handed to the
// integration stringified the way API Gateway does it.
//
// Every fact about API Gateway's behaviour that this package relies on is
// kept in one place: the error table in errors.go, the stringification rules
// in stringify.go, and the validation order in authorizer.go.
package jwtauth
