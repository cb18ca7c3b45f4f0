// Package authz is the Go Lambda authorizer's handler logic
// (functions/authorizer), for what API Gateway's managed JWT authorizer
// cannot do: Auth0 RBAC permissions, claim rules (a verified email, a role,
// a tenant), HS256 shared-secret tokens, and REST APIs.
//
// Tokens are verified by jwtverify (golang-jwt, keys through keyfunc);
// rules come from authzspec. Every denial carries a stable code in the style
// of JOSE errors (ERR_JWT_EXPIRED, ...) and a human message; the raw token
// is never logged.
package authz
