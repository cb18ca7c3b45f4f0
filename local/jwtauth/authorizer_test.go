package jwtauth

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/jwtapi/jwtapi/internal/testutil"
	"github.com/jwtapi/jwtapi/jwtverify"
)

var t0 = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

func claimsFor(iss *testutil.Issuer) jwt.MapClaims {
	return jwt.MapClaims{"iss": iss.URL(), "aud": "https://api.test", "sub": "auth0|alice", "iat": t0.Unix() - 10,
		"exp": t0.Add(time.Hour).Unix(), "scope": "openid read:user", "permissions": []string{"read:user", "write:user"}}
}

func sign(t testing.TB, method jwt.SigningMethod, kid string, key any, claims jwt.MapClaims) string {
	t.Helper()
	return testutil.SignJWT(t, method, map[string]any{"kid": kid}, key, claims)
}

func newAuthorizer(t testing.TB, iss *testutil.Issuer, now *time.Time) *Authorizer {
	t.Helper()
	a, err := New(Config{Issuer: iss.URL(), Audiences: []string{"https://api.test", "other-api"}}, Options{Now: func() time.Time { return *now }})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestAuthorize(t *testing.T) {
	k := testutil.Keys()
	ti := testutil.NewIssuer(t, testutil.RSAJWK("a", k.A))
	a, b, ec := k.A, k.B, k.EC
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: must(x509.MarshalPKIXPublicKey(&a.PublicKey))})
	with := func(f func(c jwt.MapClaims)) jwt.MapClaims { c := claimsFor(ti); f(c); return c }
	valid := sign(t, jwt.SigningMethodRS256, "a", a, claimsFor(ti))
	parts := strings.Split(valid, ".")

	tests := []struct {
		name   string
		token  string
		scopes []string
		status int
		err    error
	}{
		{"valid", valid, []string{"read:user"}, 200, nil},
		{"RS384", sign(t, jwt.SigningMethodRS384, "a", a, claimsFor(ti)), nil, 200, nil},
		{"RS512", sign(t, jwt.SigningMethodRS512, "a", a, claimsFor(ti)), nil, 200, nil},
		{"no token", "", nil, 401, jwtverify.ErrNoToken},
		{"one segment", "abc", nil, 401, jwtverify.ErrSegments},
		{"four segments", valid + ".x", nil, 401, jwtverify.ErrSegments},
		{"header not base64", "!!." + parts[1] + "." + parts[2], nil, 401, jwtverify.ErrMalformed},
		{"claims not JSON", parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte("nope")) + "." + parts[2], nil, 401, jwtverify.ErrMalformedClaims},
		{"alg none", sign(t, jwt.SigningMethodNone, "a", jwt.UnsafeAllowNoneSignatureType, claimsFor(ti)), nil, 401, jwtverify.ErrAlgorithm},
		{"HS256 with the public key as secret", sign(t, jwt.SigningMethodHS256, "a", pubPEM, claimsFor(ti)), nil, 401, jwtverify.ErrAlgorithm},
		{"HS256 with an empty key", sign(t, jwt.SigningMethodHS256, "a", []byte{}, claimsFor(ti)), nil, 401, jwtverify.ErrAlgorithm},
		{"kid that is a number", testutil.SignJWT(t, jwt.SigningMethodRS256, map[string]any{"kid": 7}, a, claimsFor(ti)), nil, 401, jwtverify.ErrMalformed},
		{"ES256", sign(t, jwt.SigningMethodES256, "a", ec, claimsFor(ti)), nil, 401, jwtverify.ErrAlgorithm},
		{"PS256", sign(t, jwt.SigningMethodPS256, "a", a, claimsFor(ti)), nil, 401, jwtverify.ErrAlgorithm},
		{"no kid", sign(t, jwt.SigningMethodRS256, "", a, claimsFor(ti)), nil, 401, jwtverify.ErrNoKID},
		{"unknown kid", sign(t, jwt.SigningMethodRS256, "zzz", a, claimsFor(ti)), nil, 401, jwtverify.ErrNoKey},
		{"signed by another key", sign(t, jwt.SigningMethodRS256, "a", b, claimsFor(ti)), nil, 401, jwtverify.ErrSignature},
		{"tampered claims", parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"admin"}`)) + "." + parts[2], nil, 401, jwtverify.ErrSignature},
		{"issuer without trailing slash", sign(t, jwt.SigningMethodRS256, "a", a, with(func(c jwt.MapClaims) { c["iss"] = strings.TrimSuffix(ti.URL(), "/") })), nil, 401, jwtverify.ErrIssuer},
		{"wrong audience", sign(t, jwt.SigningMethodRS256, "a", a, with(func(c jwt.MapClaims) { c["aud"] = "https://else" })), nil, 401, jwtverify.ErrAudience},
		{"array audience", sign(t, jwt.SigningMethodRS256, "a", a, with(func(c jwt.MapClaims) { c["aud"] = []string{"x", "other-api"} })), nil, 200, nil},
		{"client_id when aud is absent", sign(t, jwt.SigningMethodRS256, "a", a, with(func(c jwt.MapClaims) { delete(c, "aud"); c["client_id"] = "other-api" })), nil, 200, nil},
		{"client_id ignored when aud is present", sign(t, jwt.SigningMethodRS256, "a", a, with(func(c jwt.MapClaims) { c["aud"] = "x"; c["client_id"] = "other-api" })), nil, 401, jwtverify.ErrAudience},
		{"no aud, no client_id", sign(t, jwt.SigningMethodRS256, "a", a, with(func(c jwt.MapClaims) { delete(c, "aud") })), nil, 401, jwtverify.ErrAudience},
		{"no exp", sign(t, jwt.SigningMethodRS256, "a", a, with(func(c jwt.MapClaims) { delete(c, "exp") })), nil, 401, jwtverify.ErrNoExpiry},
		{"expired", sign(t, jwt.SigningMethodRS256, "a", a, with(func(c jwt.MapClaims) { c["exp"] = t0.Unix() - 1 })), nil, 401, jwtverify.ErrExpired},
		{"expires now", sign(t, jwt.SigningMethodRS256, "a", a, with(func(c jwt.MapClaims) { c["exp"] = t0.Unix() })), nil, 401, jwtverify.ErrExpired},
		{"not yet valid", sign(t, jwt.SigningMethodRS256, "a", a, with(func(c jwt.MapClaims) { c["nbf"] = t0.Unix() + 60 })), nil, 401, jwtverify.ErrNotYetValid},
		{"issued in the future", sign(t, jwt.SigningMethodRS256, "a", a, with(func(c jwt.MapClaims) { c["iat"] = t0.Unix() + 60 })), nil, 401, jwtverify.ErrIssuedFuture},
		{"missing scope", valid, []string{"write:user", "admin"}, 403, jwtverify.ErrScope},
		{"scope match is exact", valid, []string{"READ:USER"}, 403, jwtverify.ErrScope},
		{"scp wins over scope", sign(t, jwt.SigningMethodRS256, "a", a, with(func(c jwt.MapClaims) { c["scp"] = []string{"write:user"} })), []string{"read:user"}, 403, jwtverify.ErrScope},
		{"scp as string", sign(t, jwt.SigningMethodRS256, "a", a, with(func(c jwt.MapClaims) { c["scp"] = "write:user x" })), []string{"write:user"}, 200, nil},
		{"one of two route scopes is enough", valid, []string{"admin", "read:user"}, 200, nil},
		{"the other of two route scopes is enough", sign(t, jwt.SigningMethodRS256, "a", a, with(func(c jwt.MapClaims) { c["scope"] = "admin" })), []string{"admin", "read:user"}, 200, nil},
		{"a scope that contains a route scope is not it", sign(t, jwt.SigningMethodRS256, "a", a, with(func(c jwt.MapClaims) { c["scope"] = "read:users read:user-x" })), []string{"read:user"}, 403, jwtverify.ErrScope},
		{"issuer with more after it", sign(t, jwt.SigningMethodRS256, "a", a, with(func(c jwt.MapClaims) { c["iss"] = ti.URL() + "evil/" })), nil, 401, jwtverify.ErrIssuer},
		{"no scope claim on scoped route", sign(t, jwt.SigningMethodRS256, "a", a, with(func(c jwt.MapClaims) { delete(c, "scope") })), []string{"read:user"}, 403, jwtverify.ErrScope},
	}
	now := t0
	az := newAuthorizer(t, ti, &now)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := az.Authorize(context.Background(), tt.token, tt.scopes)
			if d.Status != tt.status || !errors.Is(d.Err, tt.err) || (tt.err == nil && d.Err != nil) {
				t.Fatalf("Authorize = %d %v, want %d %v", d.Status, d.Err, tt.status, tt.err)
			}
		})
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestClaimsAndScopesHandedOn(t *testing.T) {
	a := testutil.Keys().A
	ti := testutil.NewIssuer(t, testutil.RSAJWK("a", a))
	now := t0
	az := newAuthorizer(t, ti, &now)
	c := claimsFor(ti)
	c["email_verified"] = true
	c["org"] = map[string]any{"id": "acme", "seats": 5, "beta": nil}
	c["nothing"] = nil
	tok := sign(t, jwt.SigningMethodRS256, "a", a, c)

	d := az.Authorize(context.Background(), tok, []string{"read:user"})
	if d.Status != 200 {
		t.Fatal(d.Err)
	}
	want := map[string]string{
		"iss": ti.URL(), "aud": "https://api.test", "sub": "auth0|alice", "iat": "1795348790", "exp": "1795352400",
		"scope": "openid read:user", "permissions": "[read:user write:user]", "email_verified": "true",
		"org": "map[beta:<nil> id:acme seats:5]",
	}
	if !reflect.DeepEqual(d.Claims, want) {
		t.Errorf("claims = %v\nwant    %v", d.Claims, want)
	}
	if !reflect.DeepEqual(d.Scopes, []string{"openid", "read:user"}) {
		t.Errorf("scopes on a scoped route = %q, want all the token's scopes in order", d.Scopes)
	}
	if d := az.Authorize(context.Background(), tok, nil); d.Scopes != nil || d.Status != 200 {
		t.Errorf("scopes on an unscoped route = %q, want nil (null in the event)", d.Scopes)
	}
}

func TestCachedTokenStillExpires(t *testing.T) {
	a := testutil.Keys().A
	ti := testutil.NewIssuer(t, testutil.RSAJWK("a", a))
	now := t0
	az := newAuthorizer(t, ti, &now)
	tok := sign(t, jwt.SigningMethodRS256, "a", a, claimsFor(ti))
	if d := az.Authorize(context.Background(), tok, nil); d.Status != 200 || d.Cached {
		t.Fatalf("first: %d cached=%v", d.Status, d.Cached)
	}
	if d := az.Authorize(context.Background(), tok, nil); d.Status != 200 || !d.Cached {
		t.Fatalf("second: %d cached=%v, want a cache hit", d.Status, d.Cached)
	}
	now = t0.Add(2 * time.Hour)
	if d := az.Authorize(context.Background(), tok, nil); d.Status != 401 || !errors.Is(d.Err, jwtverify.ErrExpired) {
		t.Fatalf("after exp: %d %v, want 401 expired", d.Status, d.Err)
	}
}

func TestIssuerUnreachable(t *testing.T) {
	a := testutil.Keys().A
	ti := testutil.NewIssuer(t, testutil.RSAJWK("a", a))
	ti.SetDown(true)
	now := t0
	az := newAuthorizer(t, ti, &now)
	d := az.Authorize(context.Background(), sign(t, jwt.SigningMethodRS256, "a", a, claimsFor(ti)), nil)
	if d.Status != 401 || !errors.Is(d.Err, jwtverify.ErrKeysUnavailable) {
		t.Fatalf("got %d %v, want 401 keys unavailable", d.Status, d.Err)
	}
}

func TestStringify(t *testing.T) {
	var claims map[string]any
	dec := json.NewDecoder(strings.NewReader(`{"n":1718722804,"f":1.5,"b":false,"s":"x y","a":["admin","poweruser"],
		"nested":{"t":1700000000,"v":true,"l":[1,"two"]},"null":null,"empty":[]}`))
	dec.UseNumber()
	if err := dec.Decode(&claims); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"n": "1718722804", "f": "1.5", "b": "false", "s": "x y", "a": "[admin poweruser]",
		"nested": "map[l:[1 two] t:1700000000 v:true]", "empty": "[]"}
	if got := Stringify(claims); !reflect.DeepEqual(got, want) {
		t.Errorf("Stringify = %v\nwant %v", got, want)
	}
}

// TestProfile pins the managed authorizer's documented behaviour: RSA only,
// a kid required, client_id when aud is absent, keys refreshed every two
// hours, and an unknown kid refetched at most once a second unless told.
func TestProfile(t *testing.T) {
	cfg := Config{Issuer: "https://issuer.test/", Audiences: []string{"a"}}
	o := Profile(cfg, Options{})
	if o.RefreshInterval != 2*time.Hour || o.UnknownKIDPeriod != time.Second || !o.RequireKID || !o.ClientIDAudience ||
		!reflect.DeepEqual(o.Algorithms, []string{"RS256", "RS384", "RS512"}) || o.Issuer != cfg.Issuer {
		t.Errorf("Profile = %+v", o)
	}
	if o := Profile(cfg, Options{UnknownKIDPeriod: 5 * time.Second}); o.UnknownKIDPeriod != 5*time.Second {
		t.Errorf("UnknownKIDPeriod = %s, want the 5s given", o.UnknownKIDPeriod)
	}
}
