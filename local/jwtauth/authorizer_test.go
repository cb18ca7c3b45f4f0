package jwtauth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"github.com/jwtapi/jwtapi/internal/testutil"
	"math/big"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// testIssuer serves discovery and a JWKS from httptest, like a real issuer.
type testIssuer struct {
	srv  *httptest.Server
	mu   sync.Mutex
	keys map[string]*rsa.PrivateKey
	down bool
	hits int
}

var (
	keyOnce sync.Once
	keyA    *rsa.PrivateKey
	keyB    *rsa.PrivateKey
)

func testKeys(t testing.TB) (*rsa.PrivateKey, *rsa.PrivateKey) {
	keyOnce.Do(func() {
		keyA, _ = rsa.GenerateKey(rand.Reader, 2048)
		keyB, _ = rsa.GenerateKey(rand.Reader, 2048)
	})
	return keyA, keyB
}

func newTestIssuer(t testing.TB) *testIssuer {
	a, _ := testKeys(t)
	ti := &testIssuer{keys: map[string]*rsa.PrivateKey{"a": a}}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]string{"issuer": ti.url(), "jwks_uri": ti.srv.URL + "/.well-known/jwks.json"})
	})
	mux.HandleFunc("/.well-known/jwks.json", func(w http.ResponseWriter, r *http.Request) {
		ti.mu.Lock()
		defer ti.mu.Unlock()
		ti.hits++
		if ti.down {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		var keys []map[string]string
		for kid, k := range ti.keys {
			keys = append(keys, map[string]string{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
				"n": base64.RawURLEncoding.EncodeToString(k.N.Bytes()),
				"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.E)).Bytes())})
		}
		json.NewEncoder(w).Encode(map[string]any{"keys": keys})
	})
	ti.srv = httptest.NewServer(mux)
	t.Cleanup(ti.srv.Close)
	return ti
}

func (ti *testIssuer) url() string { return ti.srv.URL + "/" }

func (ti *testIssuer) set(f func()) {
	ti.mu.Lock()
	defer ti.mu.Unlock()
	f()
}

var t0 = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

func (ti *testIssuer) claims() jwt.MapClaims {
	return jwt.MapClaims{"iss": ti.url(), "aud": "https://api.test", "sub": "auth0|alice", "iat": t0.Unix() - 10,
		"exp": t0.Add(time.Hour).Unix(), "scope": "openid read:user", "permissions": []string{"read:user", "write:user"}}
}

func sign(t testing.TB, method jwt.SigningMethod, kid string, key any, claims jwt.MapClaims) string {
	t.Helper()
	return testutil.SignJWT(t, method, map[string]any{"kid": kid}, key, claims)
}

func newAuthorizer(ti *testIssuer, now *time.Time) *Authorizer {
	ks := NewKeySet(ti.url())
	ks.Now = func() time.Time { return *now }
	return New(Config{Issuer: ti.url(), Audiences: []string{"https://api.test", "other-api"}}, ks, func() time.Time { return *now })
}

func TestAuthorize(t *testing.T) {
	ti := newTestIssuer(t)
	a, b := testKeys(t)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: must(x509.MarshalPKIXPublicKey(&a.PublicKey))})
	with := func(f func(c jwt.MapClaims)) jwt.MapClaims { c := ti.claims(); f(c); return c }
	valid := sign(t, jwt.SigningMethodRS256, "a", a, ti.claims())
	parts := strings.Split(valid, ".")

	tests := []struct {
		name   string
		token  string
		scopes []string
		status int
		err    error
	}{
		{"valid", valid, []string{"read:user"}, 200, nil},
		{"RS384", sign(t, jwt.SigningMethodRS384, "a", a, ti.claims()), nil, 200, nil},
		{"RS512", sign(t, jwt.SigningMethodRS512, "a", a, ti.claims()), nil, 200, nil},
		{"no token", "", nil, 401, ErrNoToken},
		{"one segment", "abc", nil, 401, ErrSegments},
		{"four segments", valid + ".x", nil, 401, ErrSegments},
		{"header not base64", "!!." + parts[1] + "." + parts[2], nil, 401, ErrMalformed},
		{"claims not JSON", parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte("nope")) + "." + parts[2], nil, 401, ErrMalformed},
		{"alg none", sign(t, jwt.SigningMethodNone, "a", jwt.UnsafeAllowNoneSignatureType, ti.claims()), nil, 401, ErrAlgorithm},
		{"HS256 with the public key as secret", sign(t, jwt.SigningMethodHS256, "a", pubPEM, ti.claims()), nil, 401, ErrAlgorithm},
		{"ES256", sign(t, jwt.SigningMethodES256, "a", ec, ti.claims()), nil, 401, ErrAlgorithm},
		{"PS256", sign(t, jwt.SigningMethodPS256, "a", a, ti.claims()), nil, 401, ErrAlgorithm},
		{"no kid", sign(t, jwt.SigningMethodRS256, "", a, ti.claims()), nil, 401, ErrNoKID},
		{"unknown kid", sign(t, jwt.SigningMethodRS256, "zzz", a, ti.claims()), nil, 401, ErrUnknownKID},
		{"signed by another key", sign(t, jwt.SigningMethodRS256, "a", b, ti.claims()), nil, 401, ErrSignature},
		{"tampered claims", parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"admin"}`)) + "." + parts[2], nil, 401, ErrSignature},
		{"issuer without trailing slash", sign(t, jwt.SigningMethodRS256, "a", a, with(func(c jwt.MapClaims) { c["iss"] = strings.TrimSuffix(ti.url(), "/") })), nil, 401, ErrIssuer},
		{"wrong audience", sign(t, jwt.SigningMethodRS256, "a", a, with(func(c jwt.MapClaims) { c["aud"] = "https://else" })), nil, 401, ErrAudience},
		{"array audience", sign(t, jwt.SigningMethodRS256, "a", a, with(func(c jwt.MapClaims) { c["aud"] = []string{"x", "other-api"} })), nil, 200, nil},
		{"client_id when aud is absent", sign(t, jwt.SigningMethodRS256, "a", a, with(func(c jwt.MapClaims) { delete(c, "aud"); c["client_id"] = "other-api" })), nil, 200, nil},
		{"client_id ignored when aud is present", sign(t, jwt.SigningMethodRS256, "a", a, with(func(c jwt.MapClaims) { c["aud"] = "x"; c["client_id"] = "other-api" })), nil, 401, ErrAudience},
		{"no aud, no client_id", sign(t, jwt.SigningMethodRS256, "a", a, with(func(c jwt.MapClaims) { delete(c, "aud") })), nil, 401, ErrAudience},
		{"no exp", sign(t, jwt.SigningMethodRS256, "a", a, with(func(c jwt.MapClaims) { delete(c, "exp") })), nil, 401, ErrNoExpiry},
		{"expired", sign(t, jwt.SigningMethodRS256, "a", a, with(func(c jwt.MapClaims) { c["exp"] = t0.Unix() - 1 })), nil, 401, ErrExpired},
		{"expires now", sign(t, jwt.SigningMethodRS256, "a", a, with(func(c jwt.MapClaims) { c["exp"] = t0.Unix() })), nil, 401, ErrExpired},
		{"not yet valid", sign(t, jwt.SigningMethodRS256, "a", a, with(func(c jwt.MapClaims) { c["nbf"] = t0.Unix() + 60 })), nil, 401, ErrNotYetValid},
		{"issued in the future", sign(t, jwt.SigningMethodRS256, "a", a, with(func(c jwt.MapClaims) { c["iat"] = t0.Unix() + 60 })), nil, 401, ErrIssuedFuture},
		{"missing scope", valid, []string{"write:user", "admin"}, 403, ErrScope},
		{"scope match is exact", valid, []string{"READ:USER"}, 403, ErrScope},
		{"scp wins over scope", sign(t, jwt.SigningMethodRS256, "a", a, with(func(c jwt.MapClaims) { c["scp"] = []string{"write:user"} })), []string{"read:user"}, 403, ErrScope},
		{"scp as string", sign(t, jwt.SigningMethodRS256, "a", a, with(func(c jwt.MapClaims) { c["scp"] = "write:user x" })), []string{"write:user"}, 200, nil},
		{"no scope claim on scoped route", sign(t, jwt.SigningMethodRS256, "a", a, with(func(c jwt.MapClaims) { delete(c, "scope") })), []string{"read:user"}, 403, ErrScope},
	}
	now := t0
	az := newAuthorizer(ti, &now)
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
	ti := newTestIssuer(t)
	a, _ := testKeys(t)
	now := t0
	az := newAuthorizer(ti, &now)
	c := ti.claims()
	c["email_verified"] = true
	c["org"] = map[string]any{"id": "acme", "seats": 5, "beta": nil}
	c["nothing"] = nil
	tok := sign(t, jwt.SigningMethodRS256, "a", a, c)

	d := az.Authorize(context.Background(), tok, []string{"read:user"})
	if d.Status != 200 {
		t.Fatal(d.Err)
	}
	want := map[string]string{
		"iss": ti.url(), "aud": "https://api.test", "sub": "auth0|alice", "iat": "1795348790", "exp": "1795352400",
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
	ti := newTestIssuer(t)
	a, _ := testKeys(t)
	now := t0
	az := newAuthorizer(ti, &now)
	tok := sign(t, jwt.SigningMethodRS256, "a", a, ti.claims())
	if d := az.Authorize(context.Background(), tok, nil); d.Status != 200 || d.Cached {
		t.Fatalf("first: %d cached=%v", d.Status, d.Cached)
	}
	if d := az.Authorize(context.Background(), tok, nil); d.Status != 200 || !d.Cached {
		t.Fatalf("second: %d cached=%v, want a cache hit", d.Status, d.Cached)
	}
	now = t0.Add(2 * time.Hour)
	if d := az.Authorize(context.Background(), tok, nil); d.Status != 401 || !errors.Is(d.Err, ErrExpired) {
		t.Fatalf("after exp: %d %v, want 401 expired", d.Status, d.Err)
	}
}

func TestKeyRotationAndRevocation(t *testing.T) {
	ti := newTestIssuer(t)
	a, b := testKeys(t)
	now := t0
	az := newAuthorizer(ti, &now)
	long := ti.claims()
	long["exp"] = t0.Add(24 * time.Hour).Unix()
	old := sign(t, jwt.SigningMethodRS256, "a", a, long)
	if d := az.Authorize(context.Background(), old, nil); d.Status != 200 {
		t.Fatal(d.Err)
	}
	// Rotation: the issuer publishes b next to a; a token signed with b has
	// an unknown kid, which triggers a refetch once the rate limit allows.
	ti.set(func() { ti.keys["b"] = b })
	fresh := sign(t, jwt.SigningMethodRS256, "b", b, ti.claims())
	now = now.Add(2 * time.Second)
	for _, tok := range []string{fresh, old} {
		if d := az.Authorize(context.Background(), tok, nil); d.Status != 200 {
			t.Fatalf("during the grace period: %v", d.Err)
		}
	}
	if d := az.Authorize(context.Background(), old, nil); !d.Cached {
		t.Fatalf("old token not cached")
	}
	// Revocation: a leaves the JWKS; after the next fetch its tokens fail even
	// though one was cached.
	ti.set(func() { delete(ti.keys, "a") })
	now = now.Add(DefaultMaxAge + time.Second)
	if d := az.Authorize(context.Background(), old, nil); d.Status != 401 || !errors.Is(d.Err, ErrUnknownKID) {
		t.Fatalf("revoked key: %d %v, want 401 unknown kid", d.Status, d.Err)
	}
}

func TestJWKSOutageKeepsKnownKeys(t *testing.T) {
	ti := newTestIssuer(t)
	a, _ := testKeys(t)
	now := t0
	az := newAuthorizer(ti, &now)
	c := ti.claims()
	if d := az.Authorize(context.Background(), sign(t, jwt.SigningMethodRS256, "a", a, c), nil); d.Status != 200 {
		t.Fatal(d.Err)
	}
	ti.set(func() { ti.down = true })
	now = now.Add(DefaultMaxAge + time.Minute) // the set is stale, the refetch fails
	c["exp"] = now.Add(time.Hour).Unix()
	c["jti"] = "new token"
	if d := az.Authorize(context.Background(), sign(t, jwt.SigningMethodRS256, "a", a, c), nil); d.Status != 200 {
		t.Fatalf("JWKS down: %v, want the known key to keep verifying", d.Err)
	}
}

func TestIssuerUnreachable(t *testing.T) {
	ti := newTestIssuer(t)
	a, _ := testKeys(t)
	ti.set(func() { ti.down = true })
	now := t0
	az := newAuthorizer(ti, &now)
	d := az.Authorize(context.Background(), sign(t, jwt.SigningMethodRS256, "a", a, ti.claims()), nil)
	if d.Status != 401 || !errors.Is(d.Err, ErrKeysUnavailable) {
		t.Fatalf("got %d %v, want 401 keys unavailable", d.Status, d.Err)
	}
}

func TestUnknownKIDFloodIsRateLimited(t *testing.T) {
	ti := newTestIssuer(t)
	a, _ := testKeys(t)
	now := t0
	az := newAuthorizer(ti, &now)
	for i := 0; i < 200; i++ {
		now = now.Add(10 * time.Millisecond) // 200 requests over 2 s
		tok := sign(t, jwt.SigningMethodRS256, "made-up-"+string(rune('a'+i%26)), a, ti.claims())
		if d := az.Authorize(context.Background(), tok, nil); !errors.Is(d.Err, ErrUnknownKID) {
			t.Fatalf("got %v", d.Err)
		}
	}
	if f := az.Keys().Fetches(); f > 3 {
		t.Errorf("%d JWKS fetches for 200 unknown kids over 2 s, want at most one per second", f)
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
