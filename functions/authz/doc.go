// Package authz verifies JWTs and applies per-route rules for the Go Lambda
// authorizer (functions/authorizer), for what API Gateway's managed JWT
// authorizer cannot do: Auth0 RBAC permissions, claim rules (a verified
// email, a role, a tenant), HS256 shared-secret tokens, and REST APIs.
//
// Verification always pins the algorithm allow-list, the issuer, the
// audience and a required expiry; keys come from the issuer's JWKS (found
// through OIDC discovery unless given) and are cached. Every denial carries a
// stable code in the style of JOSE errors (ERR_JWT_EXPIRED, ...) and a human
// message; the raw token is never logged.
package authz
