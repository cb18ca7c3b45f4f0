package jwtverify

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/jwtapi/jwtapi/internal/bounded"
)

// Token is a verified token.
type Token struct {
	// Claims are every claim of the token; numbers are json.Number, so that
	// they keep their JSON text.
	Claims jwt.MapClaims
	// Alg and KID come from the header (KID is empty when the token has none).
	Alg, KID string
	// Derived is what Options.Derive computed for this token, if anything.
	Derived any

	keyVersion atomic.Uint64
}

// Subject is the sub claim.
func (t *Token) Subject() string {
	s, _ := t.Claims["sub"].(string)
	return s
}

// Scopes come from scp (an array or a space-delimited string) when the
// token has it, else from scope.
func (t *Token) Scopes() []string {
	if scp, ok := t.Claims["scp"]; ok {
		return stringList(scp)
	}
	return stringList(t.Claims["scope"])
}

// Permissions is Auth0's RBAC permissions claim.
func (t *Token) Permissions() []string { return stringList(t.Claims["permissions"]) }

// ExpiresAt is the exp claim.
func (t *Token) ExpiresAt() time.Time {
	if exp, err := t.Claims.GetExpirationTime(); err == nil && exp != nil {
		return exp.Time
	}
	return time.Time{}
}

// Verifier verifies tokens of one issuer with golang-jwt, keys from the
// issuer's JWKS through keyfunc. It is safe for concurrent use.
type Verifier struct {
	o         Options
	keys      *keySet
	parser    *jwt.Parser
	validator *jwt.Validator
	cache     *bounded.Map[string, *Token]
}

// New checks o and returns a verifier; nothing is fetched until a token
// needs a key.
func New(o Options) (*Verifier, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	v := &Verifier{o: o, cache: bounded.New[string, *Token](o.CacheSize)}
	v.keys = newKeySet(&v.o)
	opts := []jwt.ParserOption{
		// The allow-list is checked before any key is looked up: alg none,
		// and HS256 signed with a public key as its secret, never get further.
		jwt.WithValidMethods(o.Algorithms),
		jwt.WithIssuer(o.Issuer),
		// A token without exp would be valid forever.
		jwt.WithExpirationRequired(),
		// A token issued in the future means a broken or hostile issuer clock.
		jwt.WithIssuedAt(),
		jwt.WithLeeway(o.Leeway),
		jwt.WithTimeFunc(o.Now),
		// Numbers keep their JSON text ("exp": "1718722804" downstream).
		jwt.WithJSONNumber(),
	}
	if !o.ClientIDAudience {
		// One of the configured audiences must be in aud.
		opts = append(opts, jwt.WithAudience(o.Audiences...))
	}
	v.parser = jwt.NewParser(opts...)
	v.validator = jwt.NewValidator(opts...)
	return v, nil
}

// Options returns the verifier's options with their defaults applied.
func (v *Verifier) Options() Options { return v.o }

// KeysFetchedAt is when the issuer's keys were last fetched; zero before.
func (v *Verifier) KeysFetchedAt() time.Time {
	if ns := v.keys.fetchedAt.Load(); ns != 0 {
		return time.Unix(0, ns)
	}
	return time.Time{}
}

// Fetches counts the key fetches (discovery and JWKS) started so far.
func (v *Verifier) Fetches() int { return int(v.keys.fetches.Load()) }

// Verify checks raw and returns the verified token, or an error wrapping
// one of the sentinel errors (see Explain).
func (v *Verifier) Verify(ctx context.Context, raw string) (*Token, error) {
	t, _, err := v.Check(ctx, raw)
	return t, err
}

// Check is Verify, also reporting whether the token was verified before and
// taken from the cache. A cached token costs a map lookup and the time
// checks; it is verified afresh once the issuer's key set has changed, so a
// rotation or revocation takes effect at once.
func (v *Verifier) Check(ctx context.Context, raw string) (*Token, bool, error) {
	if raw == "" {
		return nil, false, ErrNoToken
	}
	if t, ok := v.cache.Get(raw); ok {
		if t.Alg == "HS256" || t.keyVersion.Load() == v.keys.version.Load() {
			v.keys.refreshIfStale()
			if err := v.validator.Validate(t.Claims); err != nil {
				return nil, true, classifyClaims(t.Claims, err)
			}
			return t, true, nil
		}
		v.cache.Delete(raw)
	}
	t, err := v.verify(ctx, raw)
	if err != nil {
		return nil, false, err
	}
	v.cache.Put(raw, t)
	return t, false, nil
}

// verify parses and checks a token with golang-jwt: shape, alg against the
// allow-list, crit, key (keyfunc), signature, then issuer, audience, exp,
// nbf and iat. Header parameters naming keys (jku, x5u, jwk, x5c) are never
// read: keys come from the issuer's JWKS only.
func (v *Verifier) verify(ctx context.Context, raw string) (*Token, error) {
	claims := jwt.MapClaims{}
	var version uint64
	var keyErr error
	tok, err := v.parser.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		key, err := v.key(ctx, t, &version)
		keyErr = err
		return key, err
	})
	switch {
	case keyErr != nil:
		return nil, keyErr
	case err != nil:
		return nil, v.classify(tok, claims, err)
	}
	if v.o.ClientIDAudience {
		if err := v.audienceOrClientID(claims); err != nil {
			return nil, err
		}
	}
	t := &Token{Claims: claims, Alg: tok.Method.Alg()}
	t.KID, _ = tok.Header["kid"].(string)
	t.keyVersion.Store(version)
	if v.o.Derive != nil {
		t.Derived = v.o.Derive(t)
	}
	return t, nil
}

// classify maps golang-jwt's error to this package's sentinels.
func (v *Verifier) classify(tok *jwt.Token, claims jwt.MapClaims, err error) error {
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		switch {
		case tok == nil:
			return ErrSegments
		case tok.Header == nil:
			return fmt.Errorf("%w: the header is not base64url JSON", ErrMalformed)
		case tok.Method == nil:
			return fmt.Errorf("%w: the payload is not base64url JSON", ErrMalformedClaims)
		}
		return fmt.Errorf("%w: the signature is not base64url", ErrMalformed)
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		// alg missing or unknown to golang-jwt.
		return fmt.Errorf("%w: %v", ErrAlgorithm, err)
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		if alg := tok.Method.Alg(); !slices.Contains(v.o.Algorithms, alg) {
			return fmt.Errorf("%w: signing method %s is invalid", ErrAlgorithm, alg)
		}
		return ErrSignature
	}
	return classifyClaims(claims, err)
}

// classifyClaims maps the validator's (possibly joined) errors to one
// sentinel, the most telling first.
func classifyClaims(claims jwt.MapClaims, err error) error {
	for _, m := range []struct{ jwt, ours error }{
		{jwt.ErrTokenExpired, ErrExpired},
		{jwt.ErrTokenNotValidYet, ErrNotYetValid},
		{jwt.ErrTokenUsedBeforeIssued, ErrIssuedFuture},
		{jwt.ErrTokenInvalidIssuer, ErrIssuer},
		{jwt.ErrTokenInvalidAudience, ErrAudience},
	} {
		if errors.Is(err, m.jwt) {
			return fmt.Errorf("%w%s", m.ours, timeDetail(claims, m.ours))
		}
	}
	if errors.Is(err, jwt.ErrTokenRequiredClaimMissing) {
		switch {
		case claims["exp"] == nil:
			return ErrNoExpiry
		case claims["iss"] == nil:
			return fmt.Errorf("%w: no iss claim", ErrIssuer)
		}
		return fmt.Errorf("%w: no aud claim", ErrAudience)
	}
	return fmt.Errorf("%w: %v", ErrMalformedClaims, err)
}

// timeDetail names the time claim that failed, for logs.
func timeDetail(claims jwt.MapClaims, err error) string {
	get := map[error]func() (*jwt.NumericDate, error){
		ErrExpired: claims.GetExpirationTime, ErrNotYetValid: claims.GetNotBefore, ErrIssuedFuture: claims.GetIssuedAt,
	}[err]
	if get == nil {
		return ""
	}
	if d, _ := get(); d != nil {
		name := map[error]string{ErrExpired: "exp", ErrNotYetValid: "nbf", ErrIssuedFuture: "iat"}[err]
		return fmt.Sprintf(" (%s %s)", name, d.UTC().Format(time.RFC3339))
	}
	return ""
}

// audienceOrClientID is API Gateway's audience rule: aud (a string or an
// array) must hold a configured audience; only when aud is absent is
// client_id checked instead.
func (v *Verifier) audienceOrClientID(claims jwt.MapClaims) error {
	aud, err := claims.GetAudience()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrAudience, err)
	}
	got := []string(aud)
	if _, present := claims["aud"]; !present {
		if cid, ok := claims["client_id"].(string); ok {
			got = []string{cid}
		}
	}
	for _, g := range got {
		if slices.Contains(v.o.Audiences, g) {
			return nil
		}
	}
	return fmt.Errorf("%w: %q, want one of %q", ErrAudience, got, v.o.Audiences)
}

// stringList reads a claim that is a space-delimited string or an array of strings.
func stringList(v any) []string {
	switch x := v.(type) {
	case string:
		return strings.Fields(x)
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, strings.Fields(s)...)
			}
		}
		return out
	}
	return nil
}

// BearerToken strips an optional "Bearer " (any case, extra spaces) from an
// Authorization header value; a bare token is returned as it is.
func BearerToken(v string) string {
	v = strings.TrimSpace(v)
	if len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
		return strings.TrimSpace(v[7:])
	}
	return v
}
