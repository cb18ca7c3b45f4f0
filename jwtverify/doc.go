// Package jwtverify is the one JWT verifier of this project, shared by the
// Go Lambda authorizer (functions/authz) and the local gateway's emulation
// of API Gateway's JWT authorizer (local/jwtauth): golang-jwt's parser and
// validator for tokens, keyfunc and jwkset for the issuer's keys, found
// through OIDC discovery.
//
// Verification always pins the algorithms, the issuer, the audience and
// exp; time is injectable. Keys are fetched one fetch at a time, with
// API Gateway's timeouts and size limit, and refused tokens come back as
// errors wrapping the sentinels of errors.go, which Explain maps to codes,
// HTTP statuses and messages.
package jwtverify
