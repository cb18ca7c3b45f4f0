package claims

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/jwtapi/jwtapi/functions/apigw"
)

// ErrForbidden is wrapped by every failed requirement.
var ErrForbidden = errors.New("forbidden")

// Denied is a failed requirement: what was required and what is missing.
type Denied struct {
	// Code is an OAuth-style error code: "insufficient_scope" or "invalid_claims".
	Code string
	// Reason says what is missing, for the caller and the logs.
	Reason string
}

func (d *Denied) Error() string { return "forbidden: " + d.Reason }

// Unwrap makes errors.Is(err, ErrForbidden) true.
func (d *Denied) Unwrap() error { return ErrForbidden }

// RequireAnyScope succeeds when the token carries at least one of scopes,
// the rule API Gateway applies to route scopes.
func (c *Claims) RequireAnyScope(scopes ...string) error {
	for _, s := range scopes {
		if c.HasScope(s) {
			return nil
		}
	}
	return &Denied{Code: "insufficient_scope", Reason: fmt.Sprintf("requires one of the scopes %s", strings.Join(scopes, ", "))}
}

// RequireAllScopes succeeds when the token carries every one of scopes.
func (c *Claims) RequireAllScopes(scopes ...string) error {
	if missing := missing(scopes, c.Scopes); len(missing) > 0 {
		return &Denied{Code: "insufficient_scope", Reason: "missing the scopes " + strings.Join(missing, ", ")}
	}
	return nil
}

// RequirePermissions succeeds when Auth0's `permissions` claim holds every one
// of perms.
func (c *Claims) RequirePermissions(perms ...string) error {
	if missing := missing(perms, c.Permissions); len(missing) > 0 {
		return &Denied{Code: "insufficient_scope", Reason: "missing the permissions " + strings.Join(missing, ", ")}
	}
	return nil
}

// RequireClaim succeeds when claim name equals want in API Gateway's text
// form ("true" for a boolean true), or, for an array claim, contains want.
func (c *Claims) RequireClaim(name, want string) error {
	v, ok := c.raw[name]
	switch {
	case !ok:
		return &Denied{Code: "invalid_claims", Reason: fmt.Sprintf("claim %s is missing; it must be %q", name, want)}
	case v == want:
		return nil
	case strings.HasPrefix(v, "[") && slices.Contains(c.List(name), want):
		return nil
	}
	return &Denied{Code: "invalid_claims", Reason: fmt.Sprintf("claim %s must be %q", name, want)}
}

func missing(want, have []string) []string {
	var out []string
	for _, w := range want {
		if !slices.Contains(have, w) {
			out = append(out, w)
		}
	}
	return out
}

// Response turns an error from this package into the JSON response a
// payload 2.0 handler (HTTP API) can return: 403 for a failed requirement,
// 401 for missing claims (the route is not behind the authorizer), 500
// otherwise.
func Response(err error) events.APIGatewayV2HTTPResponse {
	status, body := errorBody(err)
	return apigw.JSON(status, body)
}

// ResponseV1 is Response for payload 1.0 handlers (REST APIs).
func ResponseV1(err error) events.APIGatewayProxyResponse {
	status, body := errorBody(err)
	return apigw.JSONV1(status, body)
}

// errorBody is the status and JSON body Response and ResponseV1 answer.
func errorBody(err error) (int, map[string]string) {
	var d *Denied
	switch {
	case errors.As(err, &d):
		return 403, map[string]string{"message": "Forbidden", "error": d.Code, "error_description": d.Reason}
	case errors.Is(err, ErrNoClaims):
		return 401, map[string]string{"message": "Unauthorized", "error": "invalid_token", "error_description": "no verified token reached the function"}
	}
	return 500, apigw.Message("Internal Server Error")
}
