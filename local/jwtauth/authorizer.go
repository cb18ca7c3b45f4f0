package jwtauth

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jwtapi/jwtapi/internal/bounded"
)

// Config is one JWT authorizer of the API, as synthesized.
type Config struct {
	// Issuer must equal the token's iss exactly, trailing slash included.
	Issuer string
	// Audiences: the token's aud (or, when aud is absent, client_id) must be one of them.
	Audiences []string
}

// Decision is the outcome of authorizing one request.
type Decision struct {
	// Status is 200 when allowed, 401 for a missing or invalid token, 403
	// when the token lacks every route scope.
	Status int
	// Err is the reason for a denial (one of the sentinel errors, wrapped).
	Err error
	// Claims are the token's claims as API Gateway hands them on.
	Claims map[string]string
	// Scopes are all the token's scopes when the route has scopes, and nil
	// when it has none: API Gateway sends null then.
	Scopes []string
	// Cached is true when the signature check was skipped for a token
	// verified before.
	Cached bool
}

// Authorizer verifies tokens for one JWT authorizer.
type Authorizer struct {
	cfg   Config
	keys  *KeySet
	now   func() time.Time
	cache *bounded.Map[string, *verified]
}

// New returns an authorizer verifying tokens of cfg.Issuer with keys from ks.
// now is the clock (nil for time.Now).
func New(cfg Config, ks *KeySet, now func() time.Time) *Authorizer {
	if now == nil {
		now = time.Now
	}
	return &Authorizer{cfg: cfg, keys: ks, now: now, cache: bounded.New[string, *verified](DefaultCacheSize)}
}

// Keys returns the authorizer's key set.
func (a *Authorizer) Keys() *KeySet { return a.keys }

// Authorize decides on token for a route requiring routeScopes (at least one).
func (a *Authorizer) Authorize(ctx context.Context, token string, routeScopes []string) Decision {
	if token == "" {
		return Decision{Status: 401, Err: ErrNoToken}
	}
	a.keys.RefreshIfStale(ctx)
	// Entries verified with an older key set are ignored, so a rotation or
	// revocation takes effect at once.
	v, cached := a.cache.Get(token)
	if cached = cached && v.keyVersion == a.keys.Version(); !cached {
		var err error
		if v, err = a.verify(ctx, token); err != nil {
			return Decision{Status: 401, Err: err}
		}
		a.cache.Put(token, v)
	}
	// Time claims are checked on every request, cached or not.
	if err := v.checkTime(a.now()); err != nil {
		return Decision{Status: 401, Err: err, Cached: cached}
	}
	d := Decision{Status: 200, Claims: v.claims, Cached: cached}
	if len(routeScopes) > 0 {
		d.Scopes = v.scopes
		if !slices.ContainsFunc(routeScopes, func(s string) bool { return slices.Contains(v.scopes, s) }) {
			d.Status, d.Err = 403, fmt.Errorf("%w: needs one of %s, has %q", ErrScope, strings.Join(routeScopes, ", "), v.scopes)
		}
	}
	return d
}

// verified is what a token's verification leaves for later requests.
type verified struct {
	claims     map[string]string
	scopes     []string
	exp        float64
	nbf, iat   *float64
	keyVersion uint64
}

func (v *verified) checkTime(now time.Time) error {
	// Seconds, as NumericDate; no clock skew allowance (API Gateway documents none).
	t := float64(now.UnixNano()) / 1e9
	switch {
	case t >= v.exp:
		return fmt.Errorf("%w (exp %s)", ErrExpired, time.Unix(int64(v.exp), 0).UTC().Format(time.RFC3339))
	case v.nbf != nil && t < *v.nbf:
		return fmt.Errorf("%w (nbf %s)", ErrNotYetValid, time.Unix(int64(*v.nbf), 0).UTC().Format(time.RFC3339))
	case v.iat != nil && t < *v.iat:
		return fmt.Errorf("%w (iat %s)", ErrIssuedFuture, time.Unix(int64(*v.iat), 0).UTC().Format(time.RFC3339))
	}
	return nil
}

var hashes = map[string]crypto.Hash{"RS256": crypto.SHA256, "RS384": crypto.SHA384, "RS512": crypto.SHA512}

// verify checks a token in API Gateway's order: shape, algorithm, key,
// signature, issuer, audience; time claims are checked by the caller.
func (a *Authorizer) verify(ctx context.Context, token string) (*verified, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, ErrSegments
	}
	var header struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	if err := decodeSegment(parts[0], &header); err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrMalformed, err)
	}
	var claims map[string]any
	if err := decodeSegment(parts[1], &claims); err != nil {
		return nil, fmt.Errorf("%w: claims: %v", ErrMalformed, err)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, fmt.Errorf("%w: signature: %v", ErrMalformed, err)
	}
	// Only RSA: this rejects alg none, and HS256 signed with the public key
	// as an HMAC secret (algorithm confusion), before any key is used.
	hash, ok := hashes[header.Alg]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrAlgorithm, header.Alg)
	}
	if header.Kid == "" {
		return nil, ErrNoKID
	}
	key, version, err := a.keys.Key(ctx, header.Kid)
	if err != nil {
		return nil, err
	}
	h := hash.New()
	h.Write([]byte(token[:len(parts[0])+1+len(parts[1])]))
	if err := rsa.VerifyPKCS1v15(key, hash, h.Sum(nil), sig); err != nil {
		return nil, ErrSignature
	}
	if iss, _ := claims["iss"].(string); iss != a.cfg.Issuer {
		return nil, fmt.Errorf("%w: %q, want %q", ErrIssuer, iss, a.cfg.Issuer)
	}
	if err := a.checkAudience(claims); err != nil {
		return nil, err
	}
	v := &verified{claims: Stringify(claims), scopes: tokenScopes(claims), keyVersion: version}
	exp, ok := number(claims["exp"])
	if !ok {
		return nil, ErrNoExpiry
	}
	v.exp = exp
	if n, ok := number(claims["nbf"]); ok {
		v.nbf = &n
	}
	if n, ok := number(claims["iat"]); ok {
		v.iat = &n
	}
	return v, nil
}

// checkAudience accepts aud (string or array) matching a configured
// audience; only when aud is absent is client_id checked instead.
func (a *Authorizer) checkAudience(claims map[string]any) error {
	var got []string
	switch aud := claims["aud"].(type) {
	case string:
		got = []string{aud}
	case []any:
		for _, x := range aud {
			if s, ok := x.(string); ok {
				got = append(got, s)
			}
		}
	case nil:
		if cid, ok := claims["client_id"].(string); ok {
			got = []string{cid}
		}
	}
	for _, g := range got {
		if slices.Contains(a.cfg.Audiences, g) {
			return nil
		}
	}
	return fmt.Errorf("%w: %q, want one of %q", ErrAudience, got, a.cfg.Audiences)
}

// tokenScopes reads scp (array or space-delimited string) before scope.
func tokenScopes(claims map[string]any) []string {
	raw, ok := claims["scp"]
	if !ok {
		raw = claims["scope"]
	}
	switch s := raw.(type) {
	case string:
		return strings.Fields(s)
	case []any:
		var out []string
		for _, x := range s {
			if str, ok := x.(string); ok {
				out = append(out, strings.Fields(str)...)
			}
		}
		return out
	}
	return nil
}

func number(v any) (float64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	f, err := n.Float64()
	return f, err == nil
}

func decodeSegment(seg string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return errors.New("not base64url")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return errors.New("not a JSON object")
	}
	return nil
}
