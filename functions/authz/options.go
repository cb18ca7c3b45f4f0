package authz

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Defaults of Options, chosen for Lambda: a short HTTP timeout so that a slow
// JWKS endpoint fails the request instead of hanging it, and background work
// kept small because a frozen Lambda cannot run it anyway.
const (
	DefaultAlgorithm        = "RS256"
	DefaultLeeway           = 5 * time.Second
	MaxLeeway               = 5 * time.Minute
	DefaultHTTPTimeout      = 2 * time.Second
	DefaultRefreshInterval  = time.Hour
	DefaultUnknownKIDPeriod = time.Minute
	DefaultCacheSize        = 4096
	minHMACSecret           = 32
)

// ErrConfig is wrapped by every configuration error.
var ErrConfig = errors.New("authorizer config")

// Options configure a Verifier.
type Options struct {
	// Issuer must equal the token's iss exactly. Required; https, or http on loopback.
	Issuer string
	// Audiences: the token's aud must contain one of them. Required.
	Audiences []string
	// JWKSURL is where the signing keys are. Default: the jwks_uri of the
	// issuer's OIDC discovery document.
	JWKSURL string
	// Algorithms is the allow-list. Default: RS256 only. HS256 is allowed
	// only together with HMACSecret; "none" never.
	Algorithms []string
	// HMACSecret is the shared secret for HS256 tokens (at least 32 bytes).
	// Default: none, HS256 refused.
	HMACSecret []byte
	// Leeway is the clock skew allowed on exp, nbf and iat. Default: 5 s, at most 5 min.
	Leeway time.Duration
	// HTTPTimeout bounds each discovery or JWKS request. Default: 2 s.
	HTTPTimeout time.Duration
	// RefreshInterval is how often the JWKS is refetched in the background.
	// Default: 1 hour.
	RefreshInterval time.Duration
	// UnknownKIDPeriod is the least time between two refetches caused by a
	// token with an unknown kid. Default: 1 minute.
	UnknownKIDPeriod time.Duration
	// CacheSize bounds the verified-token cache. Default: 4096.
	CacheSize int
	// HTTPClient fetches discovery and JWKS documents. Default: a client
	// with HTTPTimeout.
	HTTPClient *http.Client
	// Now is the clock. Default: time.Now.
	Now func() time.Time
}

var knownAlgorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "HS256"}

// withDefaults checks o and fills in the defaults.
func (o Options) withDefaults() (Options, error) {
	bad := func(format string, args ...any) (Options, error) {
		return o, fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(format, args...))
	}
	if err := checkURL(o.Issuer); err != nil {
		return bad("issuer %q: %v", o.Issuer, err)
	}
	if len(o.Audiences) == 0 || slices.Contains(o.Audiences, "") {
		return bad("audiences %q: give at least one, none empty", o.Audiences)
	}
	if o.JWKSURL != "" {
		if err := checkURL(o.JWKSURL); err != nil {
			return bad("JWKS URL %q: %v", o.JWKSURL, err)
		}
	}
	if len(o.Algorithms) == 0 {
		o.Algorithms = []string{DefaultAlgorithm}
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
	if o.Leeway == 0 {
		o.Leeway = DefaultLeeway
	}
	if o.Leeway < 0 || o.Leeway > MaxLeeway {
		return bad("leeway %s must be between 0 and %s", o.Leeway, MaxLeeway)
	}
	if o.HTTPTimeout == 0 {
		o.HTTPTimeout = DefaultHTTPTimeout
	}
	if o.RefreshInterval == 0 {
		o.RefreshInterval = DefaultRefreshInterval
	}
	if o.UnknownKIDPeriod == 0 {
		o.UnknownKIDPeriod = DefaultUnknownKIDPeriod
	}
	if o.CacheSize == 0 {
		o.CacheSize = DefaultCacheSize
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: o.HTTPTimeout}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o, nil
}

// checkURL accepts https URLs, and http only on loopback (local use): keys
// fetched over plain http elsewhere could be swapped in transit.
func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return errors.New("not an absolute URL")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
			return nil
		}
		return errors.New("must use https (http only on 127.0.0.1 or localhost)")
	}
	return errors.New("must use https")
}
