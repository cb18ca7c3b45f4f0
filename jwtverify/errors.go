package jwtverify

import (
	"errors"
	"net/http"
)

// Sentinel errors of a refused token, matched with errors.Is. Verify wraps
// one of them with the detail for the developer's log. Their texts are
// jwt-go-style phrases: API Gateway's managed JWT authorizer puts such
// texts in www-authenticate ("token contains an invalid number of segments"
// is confirmed by captures; the others are unconfirmed).
var (
	ErrNoToken         = errors.New("token not provided")
	ErrSegments        = errors.New("token contains an invalid number of segments")
	ErrMalformed       = errors.New("token is malformed")
	ErrMalformedClaims = errors.New("token claims are not a JSON object")
	ErrCritical        = errors.New("token has a crit header and no extension is supported")
	ErrAlgorithm       = errors.New("signing method is invalid")
	ErrNoKID           = errors.New("the token has no kid")
	ErrNoKey           = errors.New("the token's kid matches no key of the issuer")
	ErrMultipleKeys    = errors.New("several keys fit a token without kid")
	ErrKeysUnavailable = errors.New("the issuer's signing keys cannot be fetched")
	ErrSignature       = errors.New("token signature is invalid")
	ErrIssuer          = errors.New("the token does not have a valid issuer")
	ErrAudience        = errors.New("the token does not have a valid audience")
	ErrNoExpiry        = errors.New("the token has no exp claim")
	ErrExpired         = errors.New("the token has expired")
	ErrNotYetValid     = errors.New("the token is not valid yet")
	ErrIssuedFuture    = errors.New("the token was issued in the future")
	// ErrRequiredClaim: a claim an authorizer requires (a REST JWT
	// authorizer's additional claims) is missing or has another value.
	ErrRequiredClaim = errors.New("the token does not have a required claim value")
	// ErrScope and ErrRule refuse a valid token: the route asks for more.
	ErrScope = errors.New("the token has none of the route's scopes")
	ErrRule  = errors.New("the token does not meet the route's rule")
)

// Code is a stable denial code in the style of JOSE libraries' errors.
// Clients and dashboards may match on it.
type Code string

// Denial codes.
const (
	CodeExpired              Code = "ERR_JWT_EXPIRED"
	CodeSignature            Code = "ERR_JWS_SIGNATURE_VERIFICATION_FAILED"
	CodeNoMatchingKey        Code = "ERR_JWKS_NO_MATCHING_KEY"
	CodeAlgNotAllowed        Code = "ERR_JOSE_ALG_NOT_ALLOWED"
	CodeClaimValidation      Code = "ERR_JWT_CLAIM_VALIDATION_FAILED"
	CodeJWTInvalid           Code = "ERR_JWT_INVALID"
	CodeJWSInvalid           Code = "ERR_JWS_INVALID"
	CodeMultipleMatchingKeys Code = "ERR_JWKS_MULTIPLE_MATCHING_KEYS"
	CodeJWKSInvalid          Code = "ERR_JWKS_INVALID"
	CodeAuthError            Code = "AUTH_ERROR"
)

// Explanation is what a refusal means to each audience: the stable code,
// the HTTP status, the www-authenticate error_description (the sentinel's
// text) and a short message safe to show the caller.
type Explanation struct {
	Sentinel    error
	Code        Code
	Status      int
	Description string
	Message     string
}

// explanations is the one table from sentinel errors to codes, statuses,
// descriptions and messages; the first match wins.
var explanations = []Explanation{
	{ErrNoToken, CodeJWTInvalid, http.StatusUnauthorized, "", "Missing token."},
	{ErrSegments, CodeJWSInvalid, http.StatusUnauthorized, "", "Malformed token."},
	{ErrMalformed, CodeJWSInvalid, http.StatusUnauthorized, "", "Malformed token."},
	{ErrMalformedClaims, CodeJWTInvalid, http.StatusUnauthorized, "", "Malformed token."},
	{ErrCritical, CodeJWSInvalid, http.StatusUnauthorized, "", "Token uses an unsupported critical header."},
	{ErrAlgorithm, CodeAlgNotAllowed, http.StatusUnauthorized, "", "Token algorithm is not allowed."},
	{ErrNoKID, CodeNoMatchingKey, http.StatusUnauthorized, "", "No key matches the token."},
	{ErrNoKey, CodeNoMatchingKey, http.StatusUnauthorized, "", "No key matches the token."},
	{ErrMultipleKeys, CodeMultipleMatchingKeys, http.StatusUnauthorized, "", "Several keys match the token."},
	{ErrKeysUnavailable, CodeJWKSInvalid, http.StatusUnauthorized, "", "Signing keys are unavailable."},
	{ErrSignature, CodeSignature, http.StatusUnauthorized, "", "Signature verification failed."},
	{ErrIssuer, CodeClaimValidation, http.StatusUnauthorized, "", "Token issuer is not accepted."},
	{ErrAudience, CodeClaimValidation, http.StatusUnauthorized, "", "Token audience is not accepted."},
	{ErrNoExpiry, CodeClaimValidation, http.StatusUnauthorized, "", "Token lacks a required claim."},
	{ErrExpired, CodeExpired, http.StatusUnauthorized, "", "Token has expired."},
	{ErrNotYetValid, CodeClaimValidation, http.StatusUnauthorized, "", "Token is not valid yet."},
	{ErrIssuedFuture, CodeClaimValidation, http.StatusUnauthorized, "", "Token was issued in the future."},
	{ErrRequiredClaim, CodeClaimValidation, http.StatusUnauthorized, "", "Token lacks a required claim value."},
	{ErrScope, CodeClaimValidation, http.StatusForbidden, "", "Token has none of the route's scopes."},
	{ErrRule, CodeClaimValidation, http.StatusForbidden, "", "Token does not meet the route's requirement."},
}

// unknown explains an error that is none of the sentinels.
var unknown = Explanation{Code: CodeAuthError, Status: http.StatusUnauthorized, Description: "the token is invalid", Message: "Authorization failed."}

func init() {
	for i := range explanations {
		explanations[i].Description = explanations[i].Sentinel.Error()
	}
}

// Explain maps an error returned by Verify (or wrapping ErrScope or
// ErrRule) to its row of the table.
func Explain(err error) Explanation {
	for _, e := range explanations {
		if errors.Is(err, e.Sentinel) {
			return e
		}
	}
	return unknown
}
