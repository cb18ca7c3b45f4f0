package testutil

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestKeys are keys generated once per test binary: RSA keys take a while.
type TestKeys struct {
	A, B, Attacker *rsa.PrivateKey
	// Short is a 1024-bit RSA key, too short to be trusted.
	Short *rsa.PrivateKey
	EC    *ecdsa.PrivateKey
}

var (
	keysOnce sync.Once
	keys     TestKeys
)

// Keys returns the shared test keys.
func Keys() TestKeys {
	keysOnce.Do(func() {
		keys.A, _ = rsa.GenerateKey(rand.Reader, 2048)
		keys.B, _ = rsa.GenerateKey(rand.Reader, 2048)
		keys.Attacker, _ = rsa.GenerateKey(rand.Reader, 2048)
		keys.Short, _ = rsa.GenerateKey(rand.Reader, 1024)
		keys.EC, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	})
	return keys
}

// RSAJWK is the public JWK of k, published for signatures.
func RSAJWK(kid string, k *rsa.PrivateKey) map[string]any {
	return map[string]any{"kty": "RSA", "use": "sig", "kid": kid,
		"n": base64.RawURLEncoding.EncodeToString(k.N.Bytes()), "e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.E)).Bytes())}
}

// ECJWK is the public P-256 JWK of k, published for signatures.
func ECJWK(kid string, k *ecdsa.PrivateKey) map[string]any {
	return map[string]any{"kty": "EC", "use": "sig", "kid": kid, "crv": "P-256",
		"x": base64.RawURLEncoding.EncodeToString(k.X.FillBytes(make([]byte, 32))),
		"y": base64.RawURLEncoding.EncodeToString(k.Y.FillBytes(make([]byte, 32)))}
}

// With returns a copy of jwk with the given members set (nil deletes one).
func With(jwk map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range jwk {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
		} else {
			out[kv[i].(string)] = kv[i+1]
		}
	}
	return out
}

// Issuer is an OIDC issuer for tests: a discovery document and a JWKS
// served by httptest, with knobs for faults. Its zero knobs serve the keys
// it was made with, at once.
type Issuer struct {
	srv *httptest.Server

	mu sync.Mutex
	// Keys are the published JWKs.
	keys []map[string]any
	// down answers 503 to everything; delay holds every answer back.
	down  bool
	delay time.Duration
	// discovery replaces members of the discovery document.
	discovery map[string]any
	// pad is added to the JWKS as an extra member of this many bytes.
	pad int

	// JWKSHits and DiscoveryHits count requests, answered or not.
	JWKSHits, DiscoveryHits atomic.Int32
}

// NewIssuer starts an issuer publishing keys; it stops with the test.
func NewIssuer(t testing.TB, keys ...map[string]any) *Issuer {
	i := &Issuer{keys: keys}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		i.DiscoveryHits.Add(1)
		if !i.hold(w, r) {
			return
		}
		doc := map[string]any{"issuer": i.URL(), "jwks_uri": i.srv.URL + "/.well-known/jwks.json"}
		i.mu.Lock()
		for k, v := range i.discovery {
			doc[k] = v
		}
		i.mu.Unlock()
		json.NewEncoder(w).Encode(doc)
	})
	mux.HandleFunc("/.well-known/jwks.json", func(w http.ResponseWriter, r *http.Request) {
		i.JWKSHits.Add(1)
		if !i.hold(w, r) {
			return
		}
		i.mu.Lock()
		doc := map[string]any{"keys": i.keys}
		if i.pad > 0 {
			doc["padding"] = make([]byte, i.pad*3/4) // base64 in JSON
		}
		i.mu.Unlock()
		json.NewEncoder(w).Encode(doc)
	})
	i.srv = httptest.NewServer(mux)
	t.Cleanup(i.srv.Close)
	return i
}

// hold applies the delay and outage knobs; it reports whether to answer.
func (i *Issuer) hold(w http.ResponseWriter, r *http.Request) bool {
	i.mu.Lock()
	down, delay := i.down, i.delay
	i.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return false
		}
	}
	if down {
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return false
	}
	return true
}

// URL is the issuer identifier, with the trailing slash Auth0 uses.
func (i *Issuer) URL() string { return i.srv.URL + "/" }

// Base is the server's address without a trailing slash.
func (i *Issuer) Base() string { return i.srv.URL }

// SetKeys replaces the published keys.
func (i *Issuer) SetKeys(keys ...map[string]any) { i.mu.Lock(); i.keys = keys; i.mu.Unlock() }

// SetDown makes every answer a 503 (true) or not.
func (i *Issuer) SetDown(down bool) { i.mu.Lock(); i.down = down; i.mu.Unlock() }

// SetDelay holds every answer back by d.
func (i *Issuer) SetDelay(d time.Duration) { i.mu.Lock(); i.delay = d; i.mu.Unlock() }

// SetDiscovery replaces members of the discovery document.
func (i *Issuer) SetDiscovery(kv map[string]any) { i.mu.Lock(); i.discovery = kv; i.mu.Unlock() }

// SetPadding makes the JWKS about n bytes larger.
func (i *Issuer) SetPadding(n int) { i.mu.Lock(); i.pad = n; i.mu.Unlock() }
