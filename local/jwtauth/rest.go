package jwtauth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/jwtapi/jwtapi/jwtverify"
)

// RESTConfig is a REST API's native JWT authorizer, as synthesized
// (AWS::ApiGateway::Authorizer of type JWT, its JwtConfiguration).
type RESTConfig struct {
	// Algorithms are DefaultAlgorithms: what every issuer's tokens may be
	// signed with (RS256/384/512, ES256/384/512).
	Algorithms []string
	// Issuers are the trusted issuers; a token is checked against the one
	// its iss names.
	Issuers []RESTIssuer
}

// RESTIssuer is one issuer of a REST JWT authorizer.
type RESTIssuer struct {
	// Issuer must equal the token's iss exactly.
	Issuer string
	// Audiences: the token's aud must hold one of them.
	Audiences []string
	// Claims are the issuer's AdditionalClaims.
	Claims []AdditionalClaim
}

// AdditionalClaim is one required claim (Format SINGLE_STRING).
type AdditionalClaim struct {
	Name string
	// Values: the claim must be a string equal to one of them, exactly
	// and case-sensitively; none: any value.
	Values []string
	// Required: the token must have the claim.
	Required bool
}

// RESTDecision is the outcome of authorizing one request.
type RESTDecision struct {
	// Status is 200 when allowed, 401 for a missing or invalid token, 403
	// when a valid token has none of the method's scopes.
	Status int
	// Err is the reason of a denial, wrapping one of jwtverify's sentinels.
	Err error
	// Issuer is the issuer whose rules the token was checked against.
	Issuer string
	// Claims are the token's claims with their JSON types, as API Gateway
	// hands them to a Lambda proxy integration (numbers keep their text).
	Claims map[string]any
	// Scopes are the token's scopes (scp, else scope).
	Scopes []string
	// Cached is true when the token was verified before.
	Cached bool
}

// RESTAuthorizer verifies tokens for a REST API's native JWT authorizer.
//
// Facts and the open questions it decides conservatively are in
// docs/aws-behaviour.md: iss picks the issuer and must match it exactly;
// aud must hold one of that issuer's audiences, with no client_id stand-in
// (undocumented for REST: refused); the algorithm must be one of
// DefaultAlgorithms; a kid is required and keys come from the issuer's
// discovery document; exp, nbf and iat without skew; the additional claims
// exact and case-sensitive; the method's scopes any-of, from scp or scope.
type RESTAuthorizer struct {
	issuers map[string]*restIssuer
	names   []string
}

type restIssuer struct {
	cfg RESTIssuer
	v   *jwtverify.Verifier
}

// RESTProfile is the verifier options of one issuer of a REST JWT authorizer.
func RESTProfile(algorithms []string, iss RESTIssuer, o Options) jwtverify.Options {
	p := Profile(Config{Issuer: iss.Issuer, Audiences: iss.Audiences}, o)
	p.Algorithms = algorithms
	// Whether a REST JWT authorizer takes client_id when aud is absent is
	// not documented: the conservative answer is no.
	p.ClientIDAudience = false
	// Claims keep their JSON types: no stringified copy is needed.
	p.Derive = nil
	return p
}

// NewREST returns the authorizer cfg describes; nothing is fetched until a
// token needs a key.
func NewREST(cfg RESTConfig, o Options) (*RESTAuthorizer, error) {
	if len(cfg.Issuers) == 0 {
		return nil, fmt.Errorf("%w: a REST JWT authorizer needs at least one issuer", jwtverify.ErrConfig)
	}
	a := &RESTAuthorizer{issuers: map[string]*restIssuer{}}
	for _, iss := range cfg.Issuers {
		if _, dup := a.issuers[iss.Issuer]; dup {
			return nil, fmt.Errorf("%w: issuer %s is listed twice", jwtverify.ErrConfig, iss.Issuer)
		}
		v, err := jwtverify.New(RESTProfile(cfg.Algorithms, iss, o))
		if err != nil {
			return nil, err
		}
		a.issuers[iss.Issuer] = &restIssuer{cfg: iss, v: v}
		a.names = append(a.names, iss.Issuer)
	}
	return a, nil
}

// Authorize decides on token for a method requiring methodScopes (at least
// one of them).
func (a *RESTAuthorizer) Authorize(ctx context.Context, token string, methodScopes []string) RESTDecision {
	deny := func(status int, err error) RESTDecision { return RESTDecision{Status: status, Err: err} }
	if token == "" {
		return deny(http.StatusUnauthorized, jwtverify.ErrNoToken)
	}
	iss, ok := a.issuerOf(token)
	if !ok {
		// No issuer's keys are fetched for a token that names none of them.
		if err := shapeError(token); err != nil {
			return deny(http.StatusUnauthorized, err)
		}
		return deny(http.StatusUnauthorized, fmt.Errorf("%w: iss %q is none of the authorizer's issuers %q", jwtverify.ErrIssuer, unverifiedIssuer(token), a.names))
	}
	t, cached, err := iss.v.Check(ctx, token)
	if err != nil {
		return RESTDecision{Status: http.StatusUnauthorized, Err: err, Issuer: iss.cfg.Issuer, Cached: cached}
	}
	d := RESTDecision{Status: http.StatusOK, Issuer: iss.cfg.Issuer, Claims: t.Claims, Scopes: t.Scopes(), Cached: cached}
	for _, c := range iss.cfg.Claims {
		if err := c.check(t.Claims); err != nil {
			d.Status, d.Err = http.StatusUnauthorized, err
			return d
		}
	}
	if len(methodScopes) > 0 && !slices.ContainsFunc(methodScopes, func(s string) bool { return slices.Contains(d.Scopes, s) }) {
		d.Status, d.Err = http.StatusForbidden, fmt.Errorf("%w: needs one of %s, has %q", jwtverify.ErrScope, strings.Join(methodScopes, ", "), d.Scopes)
	}
	return d
}

// check applies one additional claim: present when required, and a string
// equal to one of the values when values are given.
func (c AdditionalClaim) check(claims map[string]any) error {
	v, present := claims[c.Name]
	switch {
	case !present && c.Required:
		return fmt.Errorf("%w: claim %s is required and missing", jwtverify.ErrRequiredClaim, c.Name)
	case !present || len(c.Values) == 0:
		return nil
	}
	s, isString := v.(string)
	if !isString {
		// SINGLE_STRING: a number, boolean, array or object never matches.
		b, _ := json.Marshal(v)
		return fmt.Errorf("%w: claim %s is %s, not a single string; want one of %q", jwtverify.ErrRequiredClaim, c.Name, b, c.Values)
	}
	if !slices.Contains(c.Values, s) {
		return fmt.Errorf("%w: claim %s is %q, want one of %q (exact, case-sensitive)", jwtverify.ErrRequiredClaim, c.Name, s, c.Values)
	}
	return nil
}

// issuerOf picks the issuer the token's (unverified) iss names.
func (a *RESTAuthorizer) issuerOf(token string) (*restIssuer, bool) {
	iss, ok := a.issuers[unverifiedIssuer(token)]
	return iss, ok
}

// unverifiedIssuer reads iss without verifying anything: it only chooses
// which issuer's keys and rules the token is then verified with.
func unverifiedIssuer(token string) string {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return ""
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var c struct {
		Iss any `json:"iss"`
	}
	json.Unmarshal(payload, &c)
	s, _ := c.Iss.(string)
	return s
}

// shapeError says what is wrong with a token that cannot even be read, as
// the verifier would: segments, header, claims.
func shapeError(token string) error {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return jwtverify.ErrSegments
	}
	var header, claims map[string]any
	if b, err := base64.RawURLEncoding.DecodeString(parts[0]); err != nil || json.Unmarshal(b, &header) != nil {
		return fmt.Errorf("%w: the header is not base64url JSON", jwtverify.ErrMalformed)
	}
	if b, err := base64.RawURLEncoding.DecodeString(parts[1]); err != nil || json.Unmarshal(b, &claims) != nil {
		return fmt.Errorf("%w: the payload is not base64url JSON", jwtverify.ErrMalformedClaims)
	}
	return nil
}

// KeysFetchedAt is when any issuer's keys were last fetched; zero before.
func (a *RESTAuthorizer) KeysFetchedAt() time.Time {
	var last time.Time
	for _, iss := range a.issuers {
		if t := iss.v.KeysFetchedAt(); t.After(last) {
			last = t
		}
	}
	return last
}

// Fetches counts the key fetches of every issuer so far.
func (a *RESTAuthorizer) Fetches() int {
	n := 0
	for _, iss := range a.issuers {
		n += iss.v.Fetches()
	}
	return n
}
