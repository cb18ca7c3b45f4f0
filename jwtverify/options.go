package jwtverify

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/jwtapi/jwtapi/internal/issuerurl"
)

// Defaults of Options. The timeouts and the size limit are API Gateway's own
// for JWT authorizers (its quotas page): a slow or huge key endpoint fails the
// request instead of hanging it.
const (
	DefaultFetchTimeout     = 1500 * time.Millisecond
	DefaultMaxJWKSBytes     = 150_000
	DefaultRefreshInterval  = time.Hour
	DefaultUnknownKIDPeriod = time.Minute
	DefaultRetryAfterError  = time.Second
	DefaultCacheSize        = 4096
	MaxLeeway               = 5 * time.Minute
	minHMACSecret           = 32
	minRSABits              = 2048
)

// ErrConfig is wrapped by every configuration error.
var ErrConfig = errors.New("verifier config")

// Algorithms that Options.Algorithms may list; "none" is never one of them.
var knownAlgorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "HS256"}

// Options configure a Verifier. Issuer and Audiences are required; every
// other field documents its default.
type Options struct {
	// Issuer must equal the token's iss exactly, trailing slash included.
	// https, or http on loopback. Required.
	Issuer string
	// Audiences: the token's aud must hold one of them. Required.
	Audiences []string
	// ClientIDAudience accepts client_id in place of aud when the token has
	// no aud at all, as API Gateway's JWT authorizer does (Cognito access
	// tokens carry client_id only). Default: false, aud is required.
	ClientIDAudience bool
	// JWKSURL is where the signing keys are. Default: the jwks_uri of the
	// issuer's OIDC discovery document.
	JWKSURL string
	// Algorithms is the allow-list, checked before any key is looked up.
	// Default: RS256 only. HS256 needs HMACSecret.
	Algorithms []string
	// HMACSecret is the HS256 shared secret, at least 32 bytes. Default: none.
	HMACSecret []byte
	// RequireKID refuses tokens without kid. Default: false, a token without
	// kid is verified with the only key of the set that fits its alg.
	RequireKID bool
	// Leeway is the clock skew allowed on exp, nbf and iat, at most 5 min.
	// Default: 0, none.
	Leeway time.Duration
	// FetchTimeout bounds each discovery or JWKS request, and how long a
	// request waits for keys being fetched. Default: 1.5 s.
	FetchTimeout time.Duration
	// MaxJWKSBytes bounds discovery and JWKS documents. Default: 150,000.
	MaxJWKSBytes int64
	// RefreshInterval is the age at which the key set is refetched, in the
	// background of a request. Default: 1 hour.
	RefreshInterval time.Duration
	// UnknownKIDPeriod is the least time between two fetches caused by a
	// token whose kid is unknown; in between such tokens are refused at once.
	// Default: 1 minute.
	UnknownKIDPeriod time.Duration
	// RetryAfterError is the least time between a failed fetch and the next
	// attempt. Default: 1 s.
	RetryAfterError time.Duration
	// CacheSize bounds the verified-token cache. Default: 4096.
	CacheSize int
	// HTTPClient fetches discovery and JWKS documents. Default: a client
	// with FetchTimeout.
	HTTPClient *http.Client
	// Derive, if set, computes once per verified token what its callers need
	// on every request (API Gateway's stringified claims, say); the result is
	// kept with the cached token as Token.Derived. Default: none.
	Derive func(*Token) any
	// Now is the clock. Default: time.Now.
	Now func() time.Time
}

// withDefaults checks o and fills in the defaults.
func (o Options) withDefaults() (Options, error) {
	bad := func(format string, args ...any) (Options, error) {
		return o, fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(format, args...))
	}
	if err := issuerurl.Check(o.Issuer); err != nil {
		return bad("issuer %q: %v", o.Issuer, err)
	}
	if len(o.Audiences) == 0 || slices.Contains(o.Audiences, "") {
		return bad("audiences %q: give at least one, none empty", o.Audiences)
	}
	if o.JWKSURL != "" {
		if err := issuerurl.Check(o.JWKSURL); err != nil {
			return bad("JWKS URL %q: %v", o.JWKSURL, err)
		}
	}
	if len(o.Algorithms) == 0 {
		o.Algorithms = []string{"RS256"}
	}
	for _, a := range o.Algorithms {
		if !slices.Contains(knownAlgorithms, a) {
			return bad("algorithm %q is not one of %s", a, strings.Join(knownAlgorithms, ", "))
		}
	}
	hs := slices.Contains(o.Algorithms, "HS256")
	switch {
	case hs && len(o.HMACSecret) == 0:
		return bad("HS256 is allowed but no shared secret is configured")
	case !hs && len(o.HMACSecret) > 0:
		return bad("a shared secret is configured but HS256 is not among the algorithms %q", o.Algorithms)
	case hs && len(o.HMACSecret) < minHMACSecret:
		return bad("the HS256 secret is %d bytes; use at least %d random bytes", len(o.HMACSecret), minHMACSecret)
	}
	if o.Leeway < 0 || o.Leeway > MaxLeeway {
		return bad("leeway %s must be between 0 and %s", o.Leeway, MaxLeeway)
	}
	setDefault(&o.FetchTimeout, DefaultFetchTimeout)
	setDefault(&o.MaxJWKSBytes, DefaultMaxJWKSBytes)
	setDefault(&o.RefreshInterval, DefaultRefreshInterval)
	setDefault(&o.UnknownKIDPeriod, DefaultUnknownKIDPeriod)
	setDefault(&o.RetryAfterError, DefaultRetryAfterError)
	setDefault(&o.CacheSize, DefaultCacheSize)
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: o.FetchTimeout}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o, nil
}

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}
