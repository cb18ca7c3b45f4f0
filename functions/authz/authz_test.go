package authz

import (
	"bytes"
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
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

var (
	keysOnce             sync.Once
	rsaA, rsaB, attacker *rsa.PrivateKey
	ecKey                *ecdsa.PrivateKey
)

func testKeys() {
	keysOnce.Do(func() {
		rsaA, _ = rsa.GenerateKey(rand.Reader, 2048)
		rsaB, _ = rsa.GenerateKey(rand.Reader, 2048)
		attacker, _ = rsa.GenerateKey(rand.Reader, 2048)
		ecKey, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	})
}

// jwksServer is an issuer: discovery plus a JWKS, with knobs for faults.
type jwksServer struct {
	*httptest.Server
	mu    sync.Mutex
	keys  []map[string]string
	down  bool
	delay time.Duration
	hits  atomic.Int32
}

func rsaJWK(kid string, k *rsa.PrivateKey) map[string]string {
	return map[string]string{"kty": "RSA", "use": "sig", "kid": kid,
		"n": base64.RawURLEncoding.EncodeToString(k.N.Bytes()), "e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.E)).Bytes())}
}

func ecJWK(kid string, k *ecdsa.PrivateKey) map[string]string {
	return map[string]string{"kty": "EC", "use": "sig", "kid": kid, "crv": "P-256",
		"x": base64.RawURLEncoding.EncodeToString(k.X.FillBytes(make([]byte, 32))),
		"y": base64.RawURLEncoding.EncodeToString(k.Y.FillBytes(make([]byte, 32)))}
}

func newJWKSServer(t testing.TB, keys ...map[string]string) *jwksServer {
	s := &jwksServer{keys: keys}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]string{"issuer": s.URL + "/", "jwks_uri": s.URL + "/.well-known/jwks.json"})
	})
	mux.HandleFunc("/.well-known/jwks.json", func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		s.mu.Lock()
		down, delay, keys := s.down, s.delay, s.keys
		s.mu.Unlock()
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return
			}
		}
		if down {
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"keys": keys})
	})
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) set(f func(s *jwksServer)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

var now0 = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

const api = "https://api.test"

func (s *jwksServer) issuer() string { return s.URL + "/" }

func (s *jwksServer) claims() jwt.MapClaims {
	return jwt.MapClaims{"iss": s.issuer(), "aud": api, "sub": "auth0|alice", "iat": now0.Unix() - 60,
		"exp": now0.Add(time.Hour).Unix(), "scope": "openid read:user", "permissions": []string{"read:user", "delete:user"},
		"email_verified": true, "https://example.com/roles": []string{"admin", "ops"},
		"st-ev": map[string]any{"v": true, "t": now0.Unix() - 3600}}
}

func sign(t testing.TB, m jwt.SigningMethod, header map[string]any, key any, c jwt.MapClaims) string {
	t.Helper()
	return testutil.SignJWT(t, m, header, key, c)
}

func kid(k string) map[string]any { return map[string]any{"kid": k} }

func newVerifier(t testing.TB, s *jwksServer, now *time.Time, edit func(o *Options)) *Verifier {
	t.Helper()
	o := Options{Issuer: s.issuer(), Audiences: []string{api, "other-api"}, Now: func() time.Time { return *now },
		HTTPTimeout: 500 * time.Millisecond}
	if edit != nil {
		edit(&o)
	}
	v, err := NewVerifier(o, nil)
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
	testKeys()
	s := newJWKSServer(t, rsaJWK("a", rsaA), rsaJWK("b", rsaB), ecJWK("ec", ecKey))
	single := newJWKSServer(t, rsaJWK("only", rsaA))
	evil := newJWKSServer(t, rsaJWK("evil", attacker)) // must never be contacted
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: mustDER(x509.MarshalPKIXPublicKey(&rsaA.PublicKey))})
	secret := bytes.Repeat([]byte("k"), 32)
	with := func(edit func(c jwt.MapClaims)) jwt.MapClaims { c := s.claims(); edit(c); return c }
	valid := sign(t, jwt.SigningMethodRS256, kid("a"), rsaA, s.claims())
	parts := strings.Split(valid, ".")

	tests := []struct {
		name   string
		token  string
		edit   func(o *Options) // verifier options
		server *jwksServer
		code   Code // empty: accepted
	}{
		{name: "valid RS256", token: valid},
		{name: "second key of the set", token: sign(t, jwt.SigningMethodRS256, kid("b"), rsaB, s.claims())},
		{name: "empty token", token: "", code: CodeJWTInvalid},
		{name: "one segment", token: "abc", code: CodeJWSInvalid},
		{name: "four segments", token: valid + ".x", code: CodeJWSInvalid},
		{name: "header not base64", token: "%%." + parts[1] + "." + parts[2], code: CodeJWSInvalid},
		{name: "header not JSON", token: base64.RawURLEncoding.EncodeToString([]byte("nope")) + "." + parts[1] + "." + parts[2], code: CodeJWSInvalid},
		{name: "claims not JSON", token: parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte("nope")) + "." + parts[2], code: CodeJWTInvalid},
		{name: "crit header", token: sign(t, jwt.SigningMethodRS256, map[string]any{"kid": "a", "crit": []string{"exp"}}, rsaA, s.claims()), code: CodeJWSInvalid},
		{name: "alg none", token: sign(t, jwt.SigningMethodNone, kid("a"), jwt.UnsafeAllowNoneSignatureType, s.claims()), code: CodeAlgNotAllowed},
		{name: "HS256 signed with the public key, HS256 not allowed", token: sign(t, jwt.SigningMethodHS256, kid("a"), pubPEM, s.claims()), code: CodeAlgNotAllowed},
		{name: "HS256 signed with the public key, HS256 allowed with a secret", token: sign(t, jwt.SigningMethodHS256, kid("a"), pubPEM, s.claims()),
			edit: func(o *Options) { o.Algorithms, o.HMACSecret = []string{"RS256", "HS256"}, secret }, code: CodeSignature},
		{name: "HS256 with the shared secret", token: sign(t, jwt.SigningMethodHS256, nil, secret, s.claims()),
			edit: func(o *Options) { o.Algorithms, o.HMACSecret = []string{"HS256"}, secret }},
		{name: "RS384 when only RS256 is allowed", token: sign(t, jwt.SigningMethodRS384, kid("a"), rsaA, s.claims()), code: CodeAlgNotAllowed},
		{name: "ES256 allowed", token: sign(t, jwt.SigningMethodES256, kid("ec"), ecKey, s.claims()), edit: func(o *Options) { o.Algorithms = []string{"RS256", "ES256"} }},
		{name: "ES256 token naming an RSA kid", token: sign(t, jwt.SigningMethodES256, kid("a"), ecKey, s.claims()), edit: func(o *Options) { o.Algorithms = []string{"RS256", "ES256"} }, code: CodeNoMatchingKey},
		{name: "unknown kid", token: sign(t, jwt.SigningMethodRS256, kid("zzz"), rsaA, s.claims()), code: CodeNoMatchingKey},
		{name: "no kid, several RSA keys", token: sign(t, jwt.SigningMethodRS256, nil, rsaA, s.claims()), code: CodeMultipleMatchingKeys},
		{name: "no kid, one key", token: sign(t, jwt.SigningMethodRS256, nil, rsaA, with(func(c jwt.MapClaims) { c["iss"] = single.issuer() })), server: single},
		{name: "tampered claims", token: parts[0] + "." + segment(map[string]any{"sub": "admin"}) + "." + parts[2], code: CodeSignature},
		{name: "right kid, wrong key", token: sign(t, jwt.SigningMethodRS256, kid("a"), rsaB, s.claims()), code: CodeSignature},
		{name: "jku header is ignored", token: sign(t, jwt.SigningMethodRS256, map[string]any{"kid": "evil", "jku": evil.URL + "/.well-known/jwks.json"}, attacker, s.claims()), code: CodeNoMatchingKey},
		{name: "x5u header is ignored", token: sign(t, jwt.SigningMethodRS256, map[string]any{"kid": "evil", "x5u": evil.URL + "/cert.pem"}, attacker, s.claims()), code: CodeNoMatchingKey},
		{name: "embedded jwk header is ignored", token: sign(t, jwt.SigningMethodRS256, map[string]any{"kid": "a", "jwk": rsaJWK("a", attacker)}, attacker, s.claims()), code: CodeSignature},
		{name: "expired", token: sign(t, jwt.SigningMethodRS256, kid("a"), rsaA, with(func(c jwt.MapClaims) { c["exp"] = now0.Unix() - 60 })), code: CodeExpired},
		{name: "expired within the leeway", token: sign(t, jwt.SigningMethodRS256, kid("a"), rsaA, with(func(c jwt.MapClaims) { c["exp"] = now0.Unix() - 3 }))},
		{name: "expired just past the leeway", token: sign(t, jwt.SigningMethodRS256, kid("a"), rsaA, with(func(c jwt.MapClaims) { c["exp"] = now0.Unix() - 6 })), code: CodeExpired},
		{name: "zero leeway is honoured", token: sign(t, jwt.SigningMethodRS256, kid("a"), rsaA, with(func(c jwt.MapClaims) { c["exp"] = now0.Unix() - 1 })),
			edit: func(o *Options) { o.Leeway = time.Nanosecond }, code: CodeExpired},
		{name: "no exp", token: sign(t, jwt.SigningMethodRS256, kid("a"), rsaA, with(func(c jwt.MapClaims) { delete(c, "exp") })), code: CodeClaimValidation},
		{name: "nbf in the future", token: sign(t, jwt.SigningMethodRS256, kid("a"), rsaA, with(func(c jwt.MapClaims) { c["nbf"] = now0.Unix() + 60 })), code: CodeClaimValidation},
		{name: "nbf within the leeway", token: sign(t, jwt.SigningMethodRS256, kid("a"), rsaA, with(func(c jwt.MapClaims) { c["nbf"] = now0.Unix() + 3 }))},
		{name: "iat in the future", token: sign(t, jwt.SigningMethodRS256, kid("a"), rsaA, with(func(c jwt.MapClaims) { c["iat"] = now0.Unix() + 60 })), code: CodeClaimValidation},
		{name: "wrong issuer", token: sign(t, jwt.SigningMethodRS256, kid("a"), rsaA, with(func(c jwt.MapClaims) { c["iss"] = "https://evil.example/" })), code: CodeClaimValidation},
		{name: "issuer without its trailing slash", token: sign(t, jwt.SigningMethodRS256, kid("a"), rsaA, with(func(c jwt.MapClaims) { c["iss"] = s.URL })), code: CodeClaimValidation},
		{name: "wrong audience", token: sign(t, jwt.SigningMethodRS256, kid("a"), rsaA, with(func(c jwt.MapClaims) { c["aud"] = "https://else" })), code: CodeClaimValidation},
		{name: "audience array", token: sign(t, jwt.SigningMethodRS256, kid("a"), rsaA, with(func(c jwt.MapClaims) { c["aud"] = []string{"x", "other-api"} }))},
		{name: "no audience", token: sign(t, jwt.SigningMethodRS256, kid("a"), rsaA, with(func(c jwt.MapClaims) { delete(c, "aud") })), code: CodeClaimValidation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := now0
			srv := s
			if tt.server != nil {
				srv = tt.server
			}
			v := newVerifier(t, srv, &now, tt.edit)
			tok, err := v.Verify(context.Background(), tt.token)
			if tt.code == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if tok.Subject != "auth0|alice" {
					t.Errorf("subject %q", tok.Subject)
				}
				return
			}
			var d *Denial
			if !errors.As(err, &d) || d.Code != tt.code {
				t.Fatalf("err = %v, want code %s", err, tt.code)
			}
			if d.Forbidden || d.Message == "" || strings.Contains(d.Message, tt.token) && tt.token != "" {
				t.Errorf("denial %+v", d)
			}
		})
	}
	if evil.hits.Load() != 0 {
		t.Errorf("the attacker's JWKS named in a header was fetched %d times", evil.hits.Load())
	}
}

func mustDER(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

func TestJWKSFailures(t *testing.T) {
	testKeys()
	now := now0
	down := newJWKSServer(t, rsaJWK("a", rsaA))
	down.set(func(s *jwksServer) { s.down = true })
	tok := sign(t, jwt.SigningMethodRS256, kid("a"), rsaA, down.claims())
	if _, err := newVerifier(t, down, &now, nil).Verify(context.Background(), tok); AsDenial(err).Code != CodeJWKSInvalid {
		t.Errorf("JWKS down at cold start: %v, want %s", err, CodeJWKSInvalid)
	}

	garbage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "openid-configuration") {
			w.Write([]byte(`{"jwks_uri":"` + "http://" + r.Host + `/jwks"}`))
			return
		}
		w.Write([]byte(`{"keys": "not a list"}`))
	}))
	defer garbage.Close()
	v, _ := NewVerifier(Options{Issuer: garbage.URL + "/", Audiences: []string{api}, Now: func() time.Time { return now }}, nil)
	if _, err := v.Verify(context.Background(), sign(t, jwt.SigningMethodRS256, kid("a"), rsaA, down.claims())); AsDenial(err).Code != CodeJWKSInvalid {
		t.Errorf("unreadable JWKS: %v, want %s", err, CodeJWKSInvalid)
	}
}

// TestJWKSOutageAfterWarmUp: keys fetched before keep verifying, both a
// cached token and a new one.
func TestJWKSOutageAfterWarmUp(t *testing.T) {
	testKeys()
	s := newJWKSServer(t, rsaJWK("a", rsaA))
	now := now0
	v := newVerifier(t, s, &now, nil)
	first := sign(t, jwt.SigningMethodRS256, kid("a"), rsaA, s.claims())
	if _, err := v.Verify(context.Background(), first); err != nil {
		t.Fatal(err)
	}
	s.set(func(s *jwksServer) { s.down = true })
	c := s.claims()
	c["jti"] = "another"
	for _, tok := range []string{first, sign(t, jwt.SigningMethodRS256, kid("a"), rsaA, c)} {
		if _, err := v.Verify(context.Background(), tok); err != nil {
			t.Errorf("JWKS down after warm-up: %v", err)
		}
	}
}

// TestSlowJWKSFailsWithinTheTimeout: a JWKS that answers in 5 s fails the
// request after the 500 ms timeout instead of hanging it.
func TestSlowJWKSFailsWithinTheTimeout(t *testing.T) {
	testKeys()
	s := newJWKSServer(t, rsaJWK("a", rsaA))
	s.set(func(s *jwksServer) { s.delay = 5 * time.Second })
	now := now0
	v := newVerifier(t, s, &now, nil)
	done := make(chan error, 1)
	go func() {
		_, err := v.Verify(context.Background(), sign(t, jwt.SigningMethodRS256, kid("a"), rsaA, s.claims()))
		done <- err
	}()
	select {
	case err := <-done:
		if AsDenial(err).Code != CodeJWKSInvalid {
			t.Errorf("slow JWKS: %v, want %s", err, CodeJWKSInvalid)
		}
	case <-time.After(4 * time.Second):
		t.Fatal("Verify waited for the slow JWKS instead of failing at its timeout")
	}
}

func TestUnknownKIDFloodFetchesOncePerPeriod(t *testing.T) {
	testKeys()
	s := newJWKSServer(t, rsaJWK("a", rsaA))
	now := now0
	v := newVerifier(t, s, &now, nil)
	if _, err := v.Verify(context.Background(), sign(t, jwt.SigningMethodRS256, kid("a"), rsaA, s.claims())); err != nil {
		t.Fatal(err)
	}
	before := s.hits.Load()
	for i := range 200 {
		tok := sign(t, jwt.SigningMethodRS256, kid("made-up-"+string(rune('a'+i%26))+strings.Repeat("x", i%7)), rsaA, s.claims())
		if _, err := v.Verify(context.Background(), tok); AsDenial(err).Code != CodeNoMatchingKey {
			t.Fatalf("unknown kid: %v", err)
		}
	}
	if extra := s.hits.Load() - before; extra > 1 {
		t.Errorf("200 unknown kids caused %d JWKS fetches within one refetch period, want at most 1", extra)
	}
}

func TestCachedTokenIsRechecked(t *testing.T) {
	testKeys()
	s := newJWKSServer(t, rsaJWK("a", rsaA), rsaJWK("b", rsaB))
	now := now0
	v := newVerifier(t, s, &now, func(o *Options) { o.UnknownKIDPeriod = time.Millisecond })
	tok := sign(t, jwt.SigningMethodRS256, kid("a"), rsaA, s.claims())
	for range 2 {
		if _, err := v.Verify(context.Background(), tok); err != nil {
			t.Fatal(err)
		}
	}
	// Revoked: the issuer drops key a; after the next fetch the cached token fails.
	s.set(func(s *jwksServer) { s.keys = s.keys[1:] })
	time.Sleep(5 * time.Millisecond)
	if _, err := v.Verify(context.Background(), sign(t, jwt.SigningMethodRS256, kid("zzz"), rsaB, s.claims())); err == nil {
		t.Fatal("unknown kid accepted")
	}
	if _, err := v.Verify(context.Background(), tok); AsDenial(err).Code != CodeNoMatchingKey {
		t.Errorf("token of a revoked key: %v, want %s", err, CodeNoMatchingKey)
	}
	// Expiry is checked on cached tokens too.
	fresh := sign(t, jwt.SigningMethodRS256, kid("b"), rsaB, s.claims())
	if _, err := v.Verify(context.Background(), fresh); err != nil {
		t.Fatal(err)
	}
	now = now0.Add(2 * time.Hour)
	if _, err := v.Verify(context.Background(), fresh); AsDenial(err).Code != CodeExpired {
		t.Errorf("cached token after exp: %v", err)
	}
}

func TestOptionsErrors(t *testing.T) {
	tests := []struct {
		o    Options
		want string
	}{
		{Options{Audiences: []string{api}}, "issuer"},
		{Options{Issuer: "http://auth.example.com/", Audiences: []string{api}}, "must use https"},
		{Options{Issuer: "https://a.example/"}, "audiences"},
		{Options{Issuer: "https://a.example/", Audiences: []string{api}, Algorithms: []string{"none"}}, `algorithm "none"`},
		{Options{Issuer: "https://a.example/", Audiences: []string{api}, Algorithms: []string{"HS256"}}, "no shared secret"},
		{Options{Issuer: "https://a.example/", Audiences: []string{api}, HMACSecret: []byte("x")}, "HS256 is not among"},
		{Options{Issuer: "https://a.example/", Audiences: []string{api}, Algorithms: []string{"HS256"}, HMACSecret: []byte("short")}, "at least 32"},
		{Options{Issuer: "https://a.example/", Audiences: []string{api}, Leeway: time.Hour}, "leeway"},
		{Options{Issuer: "https://a.example/", Audiences: []string{api}, JWKSURL: "http://keys.example/jwks"}, "JWKS URL"},
	}
	for _, tt := range tests {
		if _, err := NewVerifier(tt.o, nil); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewVerifier(%+v) = %v, want an error about %q", tt.o, err, tt.want)
		}
	}
}

func TestAsDenialOfAnUnknownError(t *testing.T) {
	d := AsDenial(errors.New("boom"))
	if d.Code != CodeAuthError || d.Message == "" || d.Detail() != "boom" {
		t.Errorf("AsDenial = %+v", d)
	}
}
