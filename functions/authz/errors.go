package authz

import (
	"errors"
	"fmt"
)

// Code is a stable denial code, in the style of JOSE library errors.
type Code string

// Denial codes. Clients and dashboards may match on them.
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

// Denial is a refused request: a code, a message safe to show the caller,
// and the detail for the logs.
type Denial struct {
	Code Code
	// Message is short and says nothing an attacker could use.
	Message string
	// Forbidden is true when the token is valid but the route's rule refuses
	// it (403), false when the token itself is not acceptable (401).
	Forbidden bool
	// Rule is the route key of the rule that refused, if any.
	Rule string
	err  error
}

func (d *Denial) Error() string {
	if d.err != nil {
		return fmt.Sprintf("%s: %s (%v)", d.Code, d.Message, d.err)
	}
	return fmt.Sprintf("%s: %s", d.Code, d.Message)
}

// Unwrap returns the underlying error, for errors.Is.
func (d *Denial) Unwrap() error { return d.err }

// Detail is the underlying reason, for logs only.
func (d *Denial) Detail() string {
	if d.err == nil {
		return ""
	}
	return d.err.Error()
}

func deny(code Code, message string, err error) *Denial {
	return &Denial{Code: code, Message: message, err: err}
}

// AsDenial returns err's Denial, or an AUTH_ERROR denial for any other error.
func AsDenial(err error) *Denial {
	var d *Denial
	if errors.As(err, &d) {
		return d
	}
	return deny(CodeAuthError, "Authorization failed.", err)
}

// Sentinel errors wrapped in denials, for errors.Is in tests and callers.
var (
	ErrMalformed    = errors.New("malformed token")
	ErrCritical     = errors.New("token has a crit header, no extension is supported")
	ErrAlgorithm    = errors.New("algorithm not allowed")
	ErrNoKey        = errors.New("no matching key in the JWKS")
	ErrMultipleKeys = errors.New("several keys match a token without kid")
	ErrJWKS         = errors.New("the JWKS cannot be fetched or read")
)
