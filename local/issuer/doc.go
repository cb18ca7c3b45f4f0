// Package issuer is an embedded, Auth0-compatible token issuer for local use:
// OIDC discovery, a JWKS at Auth0's path, and POST /oauth/token with the
// client_credentials and password grants, answering with Auth0-shaped tokens
// and Auth0-shaped errors. Users, clients and APIs come from a JSON config;
// RSA signing keys are kept in a state folder, survive restarts, and rotate
// with a grace period during which the old key stays published.
//
// It is for laptops and tests only: passwords and secrets sit in plain text
// in the config, and it serves plain http on loopback.
package issuer
