package jwtauth

import "errors"

// Sentinel errors of a failed verification. Their text is the
// error_description API Gateway puts in the www-authenticate header; only the
// audience and segment texts are confirmed by AWS documentation or captures,
// the others are short jwt-go-style phrases (unconfirmed).
var (
	ErrNoToken         = errors.New("no token in the identity source")
	ErrSegments        = errors.New("token contains an invalid number of segments")
	ErrMalformed       = errors.New("token is malformed")
	ErrAlgorithm       = errors.New("signing method is invalid")
	ErrNoKID           = errors.New("the token has no kid")
	ErrUnknownKID      = errors.New("the token's kid matches no key of the issuer")
	ErrSignature       = errors.New("token signature is invalid")
	ErrIssuer          = errors.New("the token does not have a valid issuer")
	ErrAudience        = errors.New("the token does not have a valid audience")
	ErrNoExpiry        = errors.New("the token has no exp claim")
	ErrExpired         = errors.New("the token has expired")
	ErrNotYetValid     = errors.New("the token is not valid yet")
	ErrIssuedFuture    = errors.New("the token was issued in the future")
	ErrKeysUnavailable = errors.New("the issuer's signing keys cannot be fetched")
	ErrScope           = errors.New("the token has none of the route's scopes")
)
