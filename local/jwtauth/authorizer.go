package jwtauth

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/jwtapi/jwtapi/jwtverify"
)

// Config is one JWT authorizer of the API, as synthesized.
type Config struct {
	// Issuer must equal the token's iss exactly, trailing slash included.
	Issuer string
	// Audiences: the token's aud (or, when aud is absent, client_id) must be one of them.
	Audiences []string
}

// Options tune the emulation for tests and the command line.
type Options struct {
	// UnknownKIDPeriod is the least time between two key fetches caused by
	// unknown kids. Default: 1 s (API Gateway's own is unconfirmed).
	UnknownKIDPeriod time.Duration
	// FetchTimeout bounds discovery and JWKS requests. Default: 1.5 s, API Gateway's.
	FetchTimeout time.Duration
	// HTTPClient fetches discovery and JWKS documents. Default: jwtverify's.
	HTTPClient *http.Client
	// Now is the clock. Default: time.Now.
	Now func() time.Time
}

// Profile is API Gateway's managed JWT authorizer as verifier options:
// only RSA algorithms (its docs: "currently only RSA-based algorithms"), a
// kid required to pick the key, no clock skew (none documented), aud then
// client_id, keys cached for up to two hours (its docs), and the claims
// stringified once per token for the integration.
func Profile(cfg Config, o Options) jwtverify.Options {
	if o.UnknownKIDPeriod == 0 {
		o.UnknownKIDPeriod = time.Second
	}
	return jwtverify.Options{
		Issuer: cfg.Issuer, Audiences: cfg.Audiences,
		Algorithms:       []string{"RS256", "RS384", "RS512"},
		RequireKID:       true,
		ClientIDAudience: true,
		RefreshInterval:  2 * time.Hour,
		UnknownKIDPeriod: o.UnknownKIDPeriod,
		FetchTimeout:     o.FetchTimeout,
		HTTPClient:       o.HTTPClient,
		Now:              o.Now,
		Derive:           func(t *jwtverify.Token) any { return Stringify(t.Claims) },
	}
}

// Decision is the outcome of authorizing one request.
type Decision struct {
	// Status is 200 when allowed, 401 for a missing or invalid token, 403
	// when the token lacks every route scope.
	Status int
	// Err is the reason for a denial, wrapping one of jwtverify's sentinels.
	Err error
	// Claims are the token's claims as API Gateway hands them on.
	Claims map[string]string
	// Scopes are all the token's scopes when the route has scopes, and nil
	// when it has none: API Gateway sends null then.
	Scopes []string
	// Cached is true when the token was verified before.
	Cached bool
}

// Authorizer verifies tokens for one JWT authorizer.
type Authorizer struct {
	v *jwtverify.Verifier
}

// New returns an authorizer for cfg; nothing is fetched until a token needs a key.
func New(cfg Config, o Options) (*Authorizer, error) {
	v, err := jwtverify.New(Profile(cfg, o))
	if err != nil {
		return nil, err
	}
	return &Authorizer{v: v}, nil
}

// KeysFetchedAt is when the issuer's keys were last fetched; zero before.
func (a *Authorizer) KeysFetchedAt() time.Time { return a.v.KeysFetchedAt() }

// Fetches counts the key fetches started so far.
func (a *Authorizer) Fetches() int { return a.v.Fetches() }

// Authorize decides on token for a route requiring routeScopes (at least
// one of them, as API Gateway's docs say).
func (a *Authorizer) Authorize(ctx context.Context, token string, routeScopes []string) Decision {
	t, cached, err := a.v.Check(ctx, token)
	if err != nil {
		return Decision{Status: http.StatusUnauthorized, Err: err, Cached: cached}
	}
	d := Decision{Status: http.StatusOK, Claims: t.Derived.(map[string]string), Cached: cached}
	if len(routeScopes) > 0 {
		d.Scopes = t.Scopes()
		if !slices.ContainsFunc(routeScopes, func(s string) bool { return slices.Contains(d.Scopes, s) }) {
			d.Status, d.Err = http.StatusForbidden, fmt.Errorf("%w: needs one of %s, has %q", jwtverify.ErrScope, strings.Join(routeScopes, ", "), d.Scopes)
		}
	}
	return d
}
