package authz

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/jwtapi/jwtapi/internal/bounded"
)

// Token is a verified token.
type Token struct {
	Subject string
	// Scopes come from scp (array or string) when present, else from scope.
	Scopes []string
	// Permissions is Auth0's RBAC permissions claim.
	Permissions []string
	ExpiresAt   time.Time

	registered jwt.RegisteredClaims
	payload    string // base64url claims, decoded again only for claim rules
	allClaims  map[string]any
	once       sync.Once
}

// Claims returns every claim of the token, decoded on first use: most
// routes never need more than the fields above.
func (t *Token) Claims() map[string]any {
	t.once.Do(func() {
		t.allClaims = map[string]any{}
		if b, err := base64.RawURLEncoding.DecodeString(t.payload); err == nil {
			json.Unmarshal(b, &t.allClaims)
		}
	})
	return t.allClaims
}

// wellKnown are the claims decoded during verification. A struct decodes
// several times faster than a map, which matters next to one RSA verification.
type wellKnown struct {
	jwt.RegisteredClaims
	Scope       any `json:"scope"`
	Scp         any `json:"scp"`
	Permissions any `json:"permissions"`
}

// Verifier verifies tokens of one issuer. It is safe for concurrent use.
type Verifier struct {
	opts      Options
	keys      *keySource
	validator *jwt.Validator
	cache     *bounded.Map[string, *cached]
}

// NewVerifier checks o and returns a verifier; no network call is made
// until the first token needs a key.
func NewVerifier(o Options, log *slog.Logger) (*Verifier, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	v := &Verifier{opts: o, cache: bounded.New[string, *cached](o.CacheSize)}
	v.keys = &keySource{opts: &v.opts, log: log, retryGap: 5 * time.Second}
	v.validator = jwt.NewValidator(
		jwt.WithIssuer(o.Issuer),
		// One of the configured audiences must be in aud.
		jwt.WithAudience(o.Audiences...),
		// A token without exp would be valid forever.
		jwt.WithExpirationRequired(),
		// A token issued in the future means a broken or hostile issuer clock.
		jwt.WithIssuedAt(),
		jwt.WithLeeway(o.Leeway),
		jwt.WithTimeFunc(o.Now),
	)
	return v, nil
}

// header is the part of the JOSE header that is used. jku, x5u, jwk and
// x5c are deliberately absent: keys come from the configured JWKS only.
type header struct {
	Alg  string          `json:"alg"`
	Kid  string          `json:"kid"`
	Crit json.RawMessage `json:"crit"`
}

// Verify checks raw and returns the verified token or a *Denial.
func (v *Verifier) Verify(ctx context.Context, raw string) (*Token, error) {
	if raw == "" {
		return nil, deny(CodeJWTInvalid, "Missing token.", ErrMalformed)
	}
	if e, ok := v.cache.Get(raw); ok {
		if d := v.recheck(ctx, raw, e); d != nil {
			return nil, d
		}
		return e.token, nil
	}
	tok, h, err := v.verify(ctx, raw)
	if err != nil {
		return nil, err
	}
	v.cache.Put(raw, &cached{token: tok, kid: h.Kid, alg: h.Alg})
	return tok, nil
}

// verify checks a token with golang-jwt's signing methods and claims
// validator, in this order: shape, alg against the allow-list (before any
// key is looked up: this refuses alg none and HS256 signed with a public
// key), crit, key, signature, then issuer, audience, exp, nbf and iat.
//
// It decodes the token itself rather than through jwt.Parser: the header
// into a small struct instead of a map and the claims with a decoder for the
// few claims it needs, which keeps a fresh token's cost close to that of its
// RSA verification (BenchmarkVerify).
func (v *Verifier) verify(ctx context.Context, raw string) (*Token, header, error) {
	var h header
	first, last := strings.IndexByte(raw, '.'), strings.LastIndexByte(raw, '.')
	if first < 0 || first == last || strings.IndexByte(raw[first+1:last], '.') >= 0 {
		return nil, h, deny(CodeJWSInvalid, "Malformed token.", ErrMalformed)
	}
	hb, err := base64.RawURLEncoding.DecodeString(raw[:first])
	if err != nil || !json.Valid(hb) || h.UnmarshalJSON(hb) != nil {
		return nil, h, deny(CodeJWSInvalid, "Malformed token.", ErrMalformed)
	}
	if !slices.Contains(v.opts.Algorithms, h.Alg) {
		return nil, h, deny(CodeAlgNotAllowed, "Token algorithm is not allowed.", ErrAlgorithm)
	}
	if len(h.Crit) > 0 {
		return nil, h, deny(CodeJWSInvalid, "Token uses an unsupported critical header.", ErrCritical)
	}
	sig, err := base64.RawURLEncoding.DecodeString(raw[last+1:])
	if err != nil {
		return nil, h, deny(CodeJWSInvalid, "Malformed token.", ErrMalformed)
	}
	pb, err := base64.RawURLEncoding.DecodeString(raw[first+1 : last])
	var c wellKnown
	if err != nil || !json.Valid(pb) || c.UnmarshalJSON(pb) != nil {
		return nil, h, deny(CodeJWTInvalid, "Malformed token.", ErrMalformed)
	}
	key, err := v.key(ctx, h.Alg, h.Kid)
	if err != nil {
		return nil, h, classify(err)
	}
	if err := jwt.GetSigningMethod(h.Alg).Verify(raw[:last], sig, key); err != nil {
		return nil, h, classify(fmt.Errorf("%w: %v", jwt.ErrTokenSignatureInvalid, err))
	}
	if err := v.validator.Validate(&c); err != nil {
		return nil, h, classify(err)
	}
	tok := &Token{Subject: c.Subject, Permissions: strings1(c.Permissions), registered: c.RegisteredClaims, payload: raw[first+1 : last]}
	if c.Scp != nil {
		tok.Scopes = strings1(c.Scp)
	} else {
		tok.Scopes = strings1(c.Scope)
	}
	if c.ExpiresAt != nil {
		tok.ExpiresAt = c.ExpiresAt.Time
	}
	return tok, h, nil
}

// recheck applies to a cached token what can change: the time claims, and
// whether its key is still published.
func (v *Verifier) recheck(ctx context.Context, raw string, e *cached) *Denial {
	now := v.opts.Now()
	c := &e.token.registered
	if exp := c.ExpiresAt; exp != nil && !now.Before(exp.Add(v.opts.Leeway)) {
		return deny(CodeExpired, "Token has expired.", jwt.ErrTokenExpired)
	}
	if nbf := c.NotBefore; nbf != nil && now.Add(v.opts.Leeway).Before(nbf.Time) {
		return deny(CodeClaimValidation, "Token is not valid yet.", jwt.ErrTokenNotValidYet)
	}
	if e.alg != "HS256" && e.kid != "" {
		kf, err := v.keys.keyfunc(ctx)
		if err != nil {
			return classify(err)
		}
		if _, err := kf.Storage().KeyRead(ctx, e.kid); err != nil {
			v.cache.Delete(raw)
			return deny(CodeNoMatchingKey, "No key matches the token.", ErrNoKey)
		}
	}
	return nil
}

// classify maps a parse error to its denial; the order decides which code
// wins when several checks failed at once.
func classify(err error) *Denial {
	var d *Denial
	switch {
	case errors.As(err, &d):
		return d
	case errors.Is(err, ErrJWKS):
		return deny(CodeJWKSInvalid, "Signing keys are unavailable.", err)
	case errors.Is(err, ErrMultipleKeys):
		return deny(CodeMultipleMatchingKeys, "Several keys match the token.", err)
	case errors.Is(err, ErrNoKey):
		return deny(CodeNoMatchingKey, "No key matches the token.", err)
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return deny(CodeSignature, "Signature verification failed.", err)
	case errors.Is(err, jwt.ErrTokenMalformed):
		return deny(CodeJWTInvalid, "Malformed token.", err)
	case errors.Is(err, jwt.ErrTokenExpired):
		return deny(CodeExpired, "Token has expired.", err)
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return deny(CodeClaimValidation, "Token is not valid yet.", err)
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return deny(CodeClaimValidation, "Token was issued in the future.", err)
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return deny(CodeClaimValidation, "Token issuer is not accepted.", err)
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return deny(CodeClaimValidation, "Token audience is not accepted.", err)
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return deny(CodeClaimValidation, "Token lacks a required claim.", err)
	case errors.Is(err, jwt.ErrTokenInvalidClaims):
		return deny(CodeClaimValidation, "Token claims are invalid.", err)
	}
	return deny(CodeAuthError, "Authorization failed.", err)
}

// strings1 reads a claim that is a space-delimited string or an array of strings.
func strings1(v any) []string {
	switch x := v.(type) {
	case string:
		return strings.Fields(x)
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// cached is a verified token remembered by its raw text: a repeated token
// costs a map lookup and the time checks instead of a signature verification.
type cached struct {
	token *Token
	kid   string
	alg   string
}
