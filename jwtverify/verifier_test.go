package jwtverify

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/jwtapi/jwtapi/internal/testutil"
)

var now0 = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

const api = "https://api.test"

func claimsFor(iss *testutil.Issuer) jwt.MapClaims {
	return jwt.MapClaims{"iss": iss.URL(), "aud": api, "sub": "auth0|alice", "iat": now0.Unix() - 60,
		"exp": now0.Add(time.Hour).Unix(), "scope": "openid read:user", "permissions": []string{"read:user", "delete:user"}}
}

func with(c jwt.MapClaims, edit func(c jwt.MapClaims)) jwt.MapClaims {
	out := jwt.MapClaims{}
	for k, v := range c {
		out[k] = v
	}
	edit(out)
	return out
}

func sign(t testing.TB, m jwt.SigningMethod, kid string, key any, c jwt.MapClaims) string {
	t.Helper()
	return testutil.SignJWT(t, m, map[string]any{"kid": kid}, key, c)
}

func newVerifier(t testing.TB, iss *testutil.Issuer, now *time.Time, edit func(o *Options)) *Verifier {
	t.Helper()
	o := Options{Issuer: iss.URL(), Audiences: []string{api, "other-api"}, Now: func() time.Time { return *now },
		FetchTimeout: 500 * time.Millisecond}
	if edit != nil {
		edit(&o)
	}
	v, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func segment(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

func TestVerify(t *testing.T) {
	k := testutil.Keys()
	iss := testutil.NewIssuer(t, testutil.RSAJWK("a", k.A), testutil.RSAJWK("b", k.B), testutil.ECJWK("ec", k.EC),
		testutil.With(testutil.RSAJWK("rs384-only", k.A), "alg", "RS384"),
		testutil.With(testutil.RSAJWK("enc", k.A), "use", "enc"),
		testutil.RSAJWK("short", k.Short))
	single := testutil.NewIssuer(t, testutil.RSAJWK("only", k.A))
	evil := testutil.NewIssuer(t, testutil.RSAJWK("evil", k.Attacker)) // must never be contacted
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: must(x509.MarshalPKIXPublicKey(&k.A.PublicKey))})
	secret := bytes.Repeat([]byte("k"), 32)
	base := claimsFor(iss)
	edit := func(f func(c jwt.MapClaims)) jwt.MapClaims { return with(base, f) }
	valid := sign(t, jwt.SigningMethodRS256, "a", k.A, base)
	parts := strings.Split(valid, ".")
	rs := func(kid string, c jwt.MapClaims) string { return sign(t, jwt.SigningMethodRS256, kid, k.A, c) }

	tests := []struct {
		name   string
		token  string
		opts   func(o *Options)
		issuer *testutil.Issuer
		want   error // nil: accepted
	}{
		{name: "valid RS256", token: valid},
		{name: "second key of the set", token: sign(t, jwt.SigningMethodRS256, "b", k.B, base)},
		{name: "RS384 and RS512 when allowed", token: sign(t, jwt.SigningMethodRS512, "a", k.A, base), opts: func(o *Options) { o.Algorithms = []string{"RS256", "RS512"} }},
		{name: "empty token", token: "", want: ErrNoToken},
		{name: "one segment", token: "abc", want: ErrSegments},
		{name: "four segments", token: valid + ".x", want: ErrSegments},
		{name: "header not base64", token: "%%." + parts[1] + "." + parts[2], want: ErrMalformed},
		{name: "header not JSON", token: base64.RawURLEncoding.EncodeToString([]byte("nope")) + "." + parts[1] + "." + parts[2], want: ErrMalformed},
		{name: "claims not JSON", token: parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte("nope")) + "." + parts[2], want: ErrMalformedClaims},
		{name: "signature not base64", token: parts[0] + "." + parts[1] + ".%%", want: ErrMalformed},
		{name: "crit header", token: testutil.SignJWT(t, jwt.SigningMethodRS256, map[string]any{"kid": "a", "crit": []string{"exp"}}, k.A, base), want: ErrCritical},
		{name: "alg none", token: sign(t, jwt.SigningMethodNone, "a", jwt.UnsafeAllowNoneSignatureType, base), want: ErrAlgorithm},
		{name: "alg unknown to golang-jwt", token: segment(map[string]string{"alg": "XX1", "kid": "a"}) + "." + parts[1] + "." + parts[2], want: ErrAlgorithm},
		{name: "no alg", token: segment(map[string]string{"kid": "a"}) + "." + parts[1] + "." + parts[2], want: ErrAlgorithm},
		{name: "HS256 signed with the public key, HS256 not allowed", token: sign(t, jwt.SigningMethodHS256, "a", pubPEM, base), want: ErrAlgorithm},
		{name: "HS256 signed with the public key, HS256 allowed with a secret", token: sign(t, jwt.SigningMethodHS256, "a", pubPEM, base),
			opts: func(o *Options) { o.Algorithms, o.HMACSecret = []string{"RS256", "HS256"}, secret }, want: ErrSignature},
		{name: "HS256 with the shared secret", token: testutil.SignJWT(t, jwt.SigningMethodHS256, nil, secret, base),
			opts: func(o *Options) { o.Algorithms, o.HMACSecret = []string{"HS256"}, secret }},
		{name: "HS256 signed with an empty key, HS256 not allowed", token: sign(t, jwt.SigningMethodHS256, "a", []byte{}, base), want: ErrAlgorithm},
		{name: "HS256 signed with an empty key, HS256 allowed with a secret", token: sign(t, jwt.SigningMethodHS256, "a", []byte{}, base),
			opts: func(o *Options) { o.Algorithms, o.HMACSecret = []string{"RS256", "HS256"}, secret }, want: ErrSignature},
		{name: "kid that is a number", token: testutil.SignJWT(t, jwt.SigningMethodRS256, map[string]any{"kid": 12}, k.A, with(base, func(c jwt.MapClaims) { c["iss"] = single.URL() })),
			issuer: single, want: ErrMalformed},
		{name: "kid that is null", token: segment(map[string]any{"alg": "RS256", "kid": nil}) + "." + parts[1] + "." + parts[2], want: ErrMalformed},
		{name: "kid that is an object", token: testutil.SignJWT(t, jwt.SigningMethodRS256, map[string]any{"kid": map[string]any{"a": 1}}, k.A, base), want: ErrMalformed},
		{name: "RS384 when only RS256 is allowed", token: sign(t, jwt.SigningMethodRS384, "a", k.A, base), want: ErrAlgorithm},
		{name: "PS256 when only RS256 is allowed", token: sign(t, jwt.SigningMethodPS256, "a", k.A, base), want: ErrAlgorithm},
		{name: "ES256 allowed", token: sign(t, jwt.SigningMethodES256, "ec", k.EC, base), opts: func(o *Options) { o.Algorithms = []string{"RS256", "ES256"} }},
		{name: "ES256 token naming an RSA kid", token: sign(t, jwt.SigningMethodES256, "a", k.EC, base), opts: func(o *Options) { o.Algorithms = []string{"RS256", "ES256"} }, want: ErrNoKey},
		{name: "RS256 token naming an EC kid", token: rs("ec", base), want: ErrNoKey},
		{name: "JWK alg differs from the token's", token: rs("rs384-only", base), want: ErrNoKey},
		{name: "JWK published for encryption", token: rs("enc", base), want: ErrNoKey},
		{name: "RSA key under 2048 bits", token: sign(t, jwt.SigningMethodRS256, "short", k.Short, base), want: ErrNoKey},
		{name: "unknown kid", token: rs("zzz", base), want: ErrNoKey},
		{name: "no kid, several RSA keys", token: testutil.SignJWT(t, jwt.SigningMethodRS256, nil, k.A, base), want: ErrMultipleKeys},
		{name: "no kid, one key", token: testutil.SignJWT(t, jwt.SigningMethodRS256, nil, k.A, with(base, func(c jwt.MapClaims) { c["iss"] = single.URL() })), issuer: single},
		{name: "no kid when kid is required", token: testutil.SignJWT(t, jwt.SigningMethodRS256, nil, k.A, with(base, func(c jwt.MapClaims) { c["iss"] = single.URL() })),
			issuer: single, opts: func(o *Options) { o.RequireKID = true }, want: ErrNoKID},
		{name: "tampered claims", token: parts[0] + "." + segment(map[string]any{"sub": "admin"}) + "." + parts[2], want: ErrSignature},
		{name: "right kid, wrong key", token: sign(t, jwt.SigningMethodRS256, "a", k.B, base), want: ErrSignature},
		{name: "jku header is ignored", token: testutil.SignJWT(t, jwt.SigningMethodRS256, map[string]any{"kid": "evil", "jku": evil.Base() + "/.well-known/jwks.json"}, k.Attacker, base), want: ErrNoKey},
		{name: "x5u header is ignored", token: testutil.SignJWT(t, jwt.SigningMethodRS256, map[string]any{"kid": "evil", "x5u": evil.Base() + "/cert.pem"}, k.Attacker, base), want: ErrNoKey},
		{name: "embedded jwk header is ignored", token: testutil.SignJWT(t, jwt.SigningMethodRS256, map[string]any{"kid": "a", "jwk": testutil.RSAJWK("a", k.Attacker)}, k.Attacker, base), want: ErrSignature},
		{name: "expired", token: rs("a", edit(func(c jwt.MapClaims) { c["exp"] = now0.Unix() - 60 })), want: ErrExpired},
		{name: "expires now", token: rs("a", edit(func(c jwt.MapClaims) { c["exp"] = now0.Unix() })), want: ErrExpired},
		{name: "expired within the leeway", token: rs("a", edit(func(c jwt.MapClaims) { c["exp"] = now0.Unix() - 3 })), opts: func(o *Options) { o.Leeway = 5 * time.Second }},
		{name: "expired just past the leeway", token: rs("a", edit(func(c jwt.MapClaims) { c["exp"] = now0.Unix() - 6 })), opts: func(o *Options) { o.Leeway = 5 * time.Second }, want: ErrExpired},
		{name: "no exp", token: rs("a", edit(func(c jwt.MapClaims) { delete(c, "exp") })), want: ErrNoExpiry},
		{name: "exp as a string", token: rs("a", edit(func(c jwt.MapClaims) { c["exp"] = "tomorrow" })), want: ErrMalformedClaims},
		{name: "nbf in the future", token: rs("a", edit(func(c jwt.MapClaims) { c["nbf"] = now0.Unix() + 60 })), want: ErrNotYetValid},
		{name: "nbf now", token: rs("a", edit(func(c jwt.MapClaims) { c["nbf"] = now0.Unix() }))},
		{name: "nbf within the leeway", token: rs("a", edit(func(c jwt.MapClaims) { c["nbf"] = now0.Unix() + 3 })), opts: func(o *Options) { o.Leeway = 5 * time.Second }},
		{name: "iat in the future", token: rs("a", edit(func(c jwt.MapClaims) { c["iat"] = now0.Unix() + 60 })), want: ErrIssuedFuture},
		{name: "wrong issuer", token: rs("a", edit(func(c jwt.MapClaims) { c["iss"] = "https://evil.example/" })), want: ErrIssuer},
		{name: "issuer without its trailing slash", token: rs("a", edit(func(c jwt.MapClaims) { c["iss"] = iss.Base() })), want: ErrIssuer},
		{name: "issuer with more after it", token: rs("a", edit(func(c jwt.MapClaims) { c["iss"] = iss.URL() + "evil/" })), want: ErrIssuer},
		{name: "no issuer", token: rs("a", edit(func(c jwt.MapClaims) { delete(c, "iss") })), want: ErrIssuer},
		{name: "wrong audience", token: rs("a", edit(func(c jwt.MapClaims) { c["aud"] = "https://else" })), want: ErrAudience},
		{name: "audience that starts like ours", token: rs("a", edit(func(c jwt.MapClaims) { c["aud"] = api + ".evil" })), want: ErrAudience},
		{name: "audience array", token: rs("a", edit(func(c jwt.MapClaims) { c["aud"] = []string{"x", "other-api"} }))},
		{name: "no audience", token: rs("a", edit(func(c jwt.MapClaims) { delete(c, "aud") })), want: ErrAudience},
		{name: "client_id is not an audience by default", token: rs("a", edit(func(c jwt.MapClaims) { delete(c, "aud"); c["client_id"] = api })), want: ErrAudience},
		{name: "client_id when aud is absent, if asked", token: rs("a", edit(func(c jwt.MapClaims) { delete(c, "aud"); c["client_id"] = "other-api" })),
			opts: func(o *Options) { o.ClientIDAudience = true }},
		{name: "client_id ignored when aud is present", token: rs("a", edit(func(c jwt.MapClaims) { c["aud"] = "x"; c["client_id"] = api })),
			opts: func(o *Options) { o.ClientIDAudience = true }, want: ErrAudience},
		{name: "neither aud nor client_id", token: rs("a", edit(func(c jwt.MapClaims) { delete(c, "aud") })),
			opts: func(o *Options) { o.ClientIDAudience = true }, want: ErrAudience},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := now0
			srv := iss
			if tt.issuer != nil {
				srv = tt.issuer
			}
			v := newVerifier(t, srv, &now, tt.opts)
			tok, err := v.Verify(context.Background(), tt.token)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if tok.Subject() != "auth0|alice" {
					t.Errorf("subject %q", tok.Subject())
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if e := Explain(err); e.Code == CodeAuthError || e.Message == "" {
				t.Errorf("Explain(%v) = %+v, want a row of the table", err, e)
			}
			if strings.HasPrefix(tt.name, "kid that is") && Explain(err).Code != CodeJWSInvalid {
				t.Errorf("a kid that is not a string: code %s, want %s (an invalid header, not a key-set problem)", Explain(err).Code, CodeJWSInvalid)
			}
			if tt.name == "expired" && !strings.Contains(err.Error(), "(exp 2026-11-22T11:59:00Z)") {
				t.Errorf("the expiry error %q does not say when", err)
			}
		})
	}
	if evil.JWKSHits.Load()+evil.DiscoveryHits.Load() != 0 {
		t.Errorf("the attacker's JWKS named in a header was fetched")
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestTokenFields(t *testing.T) {
	k := testutil.Keys()
	iss := testutil.NewIssuer(t, testutil.RSAJWK("a", k.A))
	now := now0
	v := newVerifier(t, iss, &now, func(o *Options) { o.Derive = func(t *Token) any { return len(t.Claims) } })
	c := claimsFor(iss)
	tok, err := v.Verify(context.Background(), sign(t, jwt.SigningMethodRS256, "a", k.A, c))
	if err != nil {
		t.Fatal(err)
	}
	if tok.KID != "a" || tok.Alg != "RS256" || !tok.ExpiresAt().Equal(now0.Add(time.Hour)) || tok.Derived != len(c) {
		t.Errorf("token = %+v", tok)
	}
	if strings.Join(tok.Scopes(), " ") != "openid read:user" || strings.Join(tok.Permissions(), " ") != "read:user delete:user" {
		t.Errorf("scopes %q permissions %q", tok.Scopes(), tok.Permissions())
	}
	if n, ok := tok.Claims["exp"].(json.Number); !ok || n.String() != "1795352400" {
		t.Errorf("exp claim = %#v, want its JSON text", tok.Claims["exp"])
	}
	for _, tt := range []struct {
		name  string
		edit  func(c jwt.MapClaims)
		wants string
	}{
		{"scp array wins over scope", func(c jwt.MapClaims) { c["scp"] = []string{"a", "b"} }, "a b"},
		{"scp string", func(c jwt.MapClaims) { c["scp"] = "x  y" }, "x y"},
		{"scope array", func(c jwt.MapClaims) { c["scope"] = []string{"p", "q"} }, "p q"},
		{"no scope", func(c jwt.MapClaims) { delete(c, "scope") }, ""},
	} {
		tok, err := v.Verify(context.Background(), sign(t, jwt.SigningMethodRS256, "a", k.A, with(c, tt.edit)))
		if err != nil || strings.Join(tok.Scopes(), " ") != tt.wants {
			t.Errorf("%s: scopes %q, err %v; want %q", tt.name, tok.Scopes(), err, tt.wants)
		}
	}
}

func TestDefaults(t *testing.T) {
	v, err := New(Options{Issuer: "https://a.example/", Audiences: []string{api}})
	if err != nil {
		t.Fatal(err)
	}
	o := v.Options()
	if o.FetchTimeout != 1500*time.Millisecond || o.MaxJWKSBytes != 150_000 || o.RefreshInterval != time.Hour || o.UnknownKIDPeriod != time.Minute ||
		o.RetryAfterError != time.Second || o.CacheSize != 4096 || strings.Join(o.Algorithms, ",") != "RS256" || o.Leeway != 0 ||
		o.HTTPClient == nil || o.HTTPClient.Timeout != 1500*time.Millisecond || o.Now == nil {
		t.Errorf("defaults %+v", o)
	}
	if _, err := New(Options{Issuer: "https://a.example/", Audiences: []string{api}, Leeway: MaxLeeway}); err != nil {
		t.Errorf("the largest leeway refused: %v", err)
	}
	if !(&Token{Claims: jwt.MapClaims{}}).ExpiresAt().IsZero() {
		t.Error("a token without exp expires at a time")
	}
}

func TestBearerToken(t *testing.T) {
	for in, want := range map[string]string{
		"Bearer abc": "abc", "bearer abc": "abc", "BEARER abc": "abc", "Bearer   abc ": "abc",
		"abc": "abc", " abc": "abc", "Basic abc": "Basic abc", "Bearer": "Bearer", "Bearer ": "Bearer", "Bearer x": "x", "": "",
	} {
		if got := BearerToken(in); got != want {
			t.Errorf("BearerToken(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestOptionsErrors(t *testing.T) {
	tests := []struct {
		o    Options
		want string
	}{
		{Options{Audiences: []string{api}}, "issuer"},
		{Options{Issuer: "http://auth.example.com/", Audiences: []string{api}}, "must use https"},
		{Options{Issuer: "http://localhost.evil.com/", Audiences: []string{api}}, "must use https"},
		{Options{Issuer: "https://a.example/"}, "audiences"},
		{Options{Issuer: "https://a.example/", Audiences: []string{api, ""}}, "audiences"},
		{Options{Issuer: "https://a.example/", Audiences: []string{api}, Algorithms: []string{"none"}}, `algorithm "none"`},
		{Options{Issuer: "https://a.example/", Audiences: []string{api}, Algorithms: []string{"HS256"}}, "no shared secret"},
		{Options{Issuer: "https://a.example/", Audiences: []string{api}, HMACSecret: []byte("x")}, "HS256 is not among"},
		{Options{Issuer: "https://a.example/", Audiences: []string{api}, Algorithms: []string{"HS256"}, HMACSecret: []byte("short")}, "at least 32"},
		{Options{Issuer: "https://a.example/", Audiences: []string{api}, Leeway: time.Hour}, "leeway"},
		{Options{Issuer: "https://a.example/", Audiences: []string{api}, Leeway: -time.Second}, "leeway"},
		{Options{Issuer: "https://a.example/", Audiences: []string{api}, JWKSURL: "http://keys.example/jwks"}, "JWKS URL"},
	}
	for _, tt := range tests {
		if _, err := New(tt.o); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("New(%+v) = %v, want an error about %q", tt.o, err, tt.want)
		}
	}
	if _, err := New(Options{Issuer: "http://127.0.0.1:4000/", Audiences: []string{api}}); err != nil {
		t.Errorf("loopback http issuer refused: %v", err)
	}
}

func TestExplain(t *testing.T) {
	tests := []struct {
		err    error
		code   Code
		status int
		desc   string
	}{
		{ErrSegments, CodeJWSInvalid, 401, "token contains an invalid number of segments"},
		{errors.Join(errors.New("x"), ErrExpired), CodeExpired, 401, "the token has expired"},
		{ErrAudience, CodeClaimValidation, 401, "the token does not have a valid audience"},
		{ErrKeysUnavailable, CodeJWKSInvalid, 401, "the issuer's signing keys cannot be fetched"},
		{ErrAlgorithm, CodeAlgNotAllowed, 401, "signing method is invalid"},
		{ErrMultipleKeys, CodeMultipleMatchingKeys, 401, "several keys fit a token without kid"},
		{ErrSignature, CodeSignature, 401, "token signature is invalid"},
		{ErrScope, CodeClaimValidation, 403, "the token has none of the route's scopes"},
		{ErrRule, CodeClaimValidation, 403, "the token does not meet the route's rule"},
		{fmt.Errorf("%w: claim org is missing", ErrRequiredClaim), CodeClaimValidation, 401, "the token does not have a required claim value"},
		{errors.New("boom"), CodeAuthError, 401, "the token is invalid"},
	}
	for _, tt := range tests {
		e := Explain(tt.err)
		if e.Code != tt.code || e.Status != tt.status || e.Description != tt.desc || e.Message == "" {
			t.Errorf("Explain(%v) = %+v, want %s %d %q", tt.err, e, tt.code, tt.status, tt.desc)
		}
	}
}
