package jwtverify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/jwtapi/jwtapi/internal/testutil"
)

func TestKeysUnavailable(t *testing.T) {
	k := testutil.Keys()
	tests := []struct {
		name  string
		setup func(iss *testutil.Issuer)
		want  string
	}{
		{"issuer down", func(iss *testutil.Issuer) { iss.SetDown(true) }, "503"},
		{"JWKS not a key set", func(iss *testutil.Issuer) {
			iss.SetDiscovery(map[string]any{"jwks_uri": iss.Base() + "/.well-known/openid-configuration"})
		}, "not a JWK Set"},
		{"discovery for another issuer", func(iss *testutil.Issuer) { iss.SetDiscovery(map[string]any{"issuer": "https://other.example/"}) }, "not \""},
		{"no jwks_uri", func(iss *testutil.Issuer) { iss.SetDiscovery(map[string]any{"jwks_uri": ""}) }, "no jwks_uri"},
		{"jwks_uri over http elsewhere", func(iss *testutil.Issuer) {
			iss.SetDiscovery(map[string]any{"jwks_uri": "http://keys.example.com/jwks"})
		}, "must use https"},
		{"JWKS over the size limit", func(iss *testutil.Issuer) { iss.SetPadding(DefaultMaxJWKSBytes + 1000) }, "larger than 150000 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			iss := testutil.NewIssuer(t, testutil.RSAJWK("a", k.A))
			tt.setup(iss)
			now := now0
			v := newVerifier(t, iss, &now, nil)
			_, err := v.Verify(context.Background(), sign(t, jwt.SigningMethodRS256, "a", k.A, claimsFor(iss)))
			if !errors.Is(err, ErrKeysUnavailable) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want keys unavailable mentioning %q", err, tt.want)
			}
		})
	}
	t.Run("JWKS just under the size limit", func(t *testing.T) {
		iss := testutil.NewIssuer(t, testutil.RSAJWK("a", k.A))
		iss.SetPadding(DefaultMaxJWKSBytes - 5000)
		now := now0
		if _, err := newVerifier(t, iss, &now, nil).Verify(context.Background(), sign(t, jwt.SigningMethodRS256, "a", k.A, claimsFor(iss))); err != nil {
			t.Fatal(err)
		}
	})
}

// TestJWKSURIElsewhereIsNeverUsed: even when the host of a plain-http
// jwks_uri would answer with a key that verifies the token, it is refused.
func TestJWKSURIElsewhereIsNeverUsed(t *testing.T) {
	k := testutil.Keys()
	iss := testutil.NewIssuer(t, testutil.RSAJWK("a", k.A))
	evil := testutil.NewIssuer(t, testutil.RSAJWK("x", k.Attacker))
	iss.SetDiscovery(map[string]any{"jwks_uri": "http://keys.evil.example/.well-known/jwks.json"})
	// Every host resolves to the attacker's server, as a poisoned network would.
	client := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, strings.TrimPrefix(iss.Base(), "http://"))
	}}}
	_ = evil
	now := now0
	v := newVerifier(t, iss, &now, func(o *Options) { o.HTTPClient = client })
	_, err := v.Verify(context.Background(), sign(t, jwt.SigningMethodRS256, "x", k.Attacker, claimsFor(iss)))
	if !errors.Is(err, ErrKeysUnavailable) {
		t.Fatalf("err = %v, want the http jwks_uri refused", err)
	}
}

// TestOutageAfterWarmUp: keys fetched before keep verifying, both a cached
// token and a new one, while the issuer is down; a new kid fails closed.
func TestOutageAfterWarmUp(t *testing.T) {
	k := testutil.Keys()
	iss := testutil.NewIssuer(t, testutil.RSAJWK("a", k.A))
	now := now0
	v := newVerifier(t, iss, &now, func(o *Options) { o.UnknownKIDPeriod = time.Nanosecond })
	first := sign(t, jwt.SigningMethodRS256, "a", k.A, claimsFor(iss))
	if _, err := v.Verify(context.Background(), first); err != nil {
		t.Fatal(err)
	}
	iss.SetDown(true)
	now = now0.Add(2 * time.Hour) // past RefreshInterval: a refresh is attempted and fails
	c := claimsFor(iss)
	c["exp"] = now.Add(time.Hour).Unix()
	c["jti"] = "another"
	// The request that notices the stale keys starts the refresh and is
	// served by the keys it has; wait for that refresh to have failed.
	if _, err := v.Verify(context.Background(), sign(t, jwt.SigningMethodRS256, "a", k.A, c)); err != nil {
		t.Errorf("issuer down after warm-up: %v, want the known key to keep verifying", err)
	}
	waitFor(t, func() bool { return v.Fetches() == 2 && !v.keys.fetching() })
	if v.keys.lastFailure() == nil {
		t.Fatal("the refresh during the outage did not fail: the test tests nothing")
	}
	c["jti"] = "after the failed refresh"
	for _, tok := range []string{sign(t, jwt.SigningMethodRS256, "a", k.A, c), first} {
		if _, err := v.Verify(context.Background(), tok); err != nil && !errors.Is(err, ErrExpired) {
			t.Errorf("after a failed refresh: %v, want the keys fetched before to keep verifying", err)
		}
	}
	if _, err := v.Verify(context.Background(), sign(t, jwt.SigningMethodRS256, "new", k.B, c)); !errors.Is(err, ErrNoKey) {
		t.Errorf("new kid during the outage: %v, want %v", err, ErrNoKey)
	}
}

// TestCachedTokenStillRefreshesStaleKeys: when every request is a cache
// hit, the key set is still refreshed once it is older than
// RefreshInterval, and a token signed by a key the issuer stopped
// publishing then stops verifying.
func TestCachedTokenStillRefreshesStaleKeys(t *testing.T) {
	k := testutil.Keys()
	iss := testutil.NewIssuer(t, testutil.RSAJWK("a", k.A))
	now := now0
	v := newVerifier(t, iss, &now, nil)
	c := claimsFor(iss)
	c["exp"] = now0.Add(5 * time.Hour).Unix()
	tok := sign(t, jwt.SigningMethodRS256, "a", k.A, c)
	for range 2 {
		if _, err := v.Verify(context.Background(), tok); err != nil {
			t.Fatal(err)
		}
	}
	iss.SetKeys(testutil.RSAJWK("b", k.B)) // key a is revoked
	now = now0.Add(DefaultRefreshInterval + time.Minute)
	if _, cached, err := v.Check(context.Background(), tok); err != nil || !cached {
		t.Fatalf("the cached token before the refresh ended: cached=%v err=%v", cached, err)
	}
	waitFor(t, func() bool { return v.Fetches() == 2 && !v.keys.fetching() })
	if _, err := v.Verify(context.Background(), tok); !errors.Is(err, ErrNoKey) {
		t.Errorf("a cached token of a revoked key after the refresh: %v, want %v", err, ErrNoKey)
	}
}

// TestKeyAlgAndUseOnEveryPath: a JWK published for another algorithm, or
// for encryption, never verifies, whether the token names it by kid (also
// after the key was handed out for its own algorithm, from the memo) or
// has no kid.
func TestKeyAlgAndUseOnEveryPath(t *testing.T) {
	k := testutil.Keys()
	both := func(o *Options) { o.Algorithms = []string{"RS256", "RS384"} }
	iss := testutil.NewIssuer(t, testutil.With(testutil.RSAJWK("k384", k.A), "alg", "RS384"), testutil.With(testutil.RSAJWK("k256", k.B), "alg", "RS256"))
	now := now0
	v := newVerifier(t, iss, &now, both)
	c := claimsFor(iss)
	if _, err := v.Verify(context.Background(), sign(t, jwt.SigningMethodRS384, "k384", k.A, c)); err != nil {
		t.Fatalf("RS384 token, RS384 key: %v", err)
	}
	c["jti"] = "2"
	if _, err := v.Verify(context.Background(), sign(t, jwt.SigningMethodRS256, "k384", k.A, c)); !errors.Is(err, ErrNoKey) {
		t.Errorf("RS256 token naming the RS384 key, after that key verified an RS384 token: %v, want %v", err, ErrNoKey)
	}
	c["jti"] = "3"
	if _, err := v.Verify(context.Background(), sign(t, jwt.SigningMethodRS256, "k256", k.B, c)); err != nil {
		t.Errorf("RS256 token, RS256 key: %v", err)
	}
	c["jti"] = "4"
	if _, err := v.Verify(context.Background(), sign(t, jwt.SigningMethodRS384, "k256", k.B, c)); !errors.Is(err, ErrNoKey) {
		t.Errorf("RS384 token naming the RS256 key, after that key verified an RS256 token: %v, want %v", err, ErrNoKey)
	}

	// Without kid: the one key that fits, never one for another alg or use.
	for _, tt := range []struct {
		name string
		keys []map[string]any
		want error
	}{
		{"a signing key beside an encryption key", []map[string]any{testutil.RSAJWK("s", k.A), testutil.With(testutil.RSAJWK("e", k.B), "use", "enc")}, nil},
		{"only an encryption key", []map[string]any{testutil.With(testutil.RSAJWK("e", k.A), "use", "enc")}, ErrNoKey},
		{"only a key for RS384", []map[string]any{testutil.With(testutil.RSAJWK("x", k.A), "alg", "RS384")}, ErrNoKey},
		{"an RS256 key beside an RS384 one", []map[string]any{testutil.With(testutil.RSAJWK("x", k.B), "alg", "RS384"), testutil.With(testutil.RSAJWK("y", k.A), "alg", "RS256")}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			iss := testutil.NewIssuer(t, tt.keys...)
			v := newVerifier(t, iss, &now, both)
			_, err := v.Verify(context.Background(), testutil.SignJWT(t, jwt.SigningMethodRS256, nil, k.A, claimsFor(iss)))
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("RS256 token without kid: %v, want %v", err, tt.want)
			}
		})
	}
}

// TestRecoversWhenTheIssuerComesBack: a cold start during an outage fails
// closed, and heals by itself once the issuer answers again.
func TestRecoversWhenTheIssuerComesBack(t *testing.T) {
	k := testutil.Keys()
	iss := testutil.NewIssuer(t, testutil.RSAJWK("a", k.A))
	iss.SetDown(true)
	now := now0
	v := newVerifier(t, iss, &now, nil)
	tok := sign(t, jwt.SigningMethodRS256, "a", k.A, claimsFor(iss))
	for range 3 {
		if _, err := v.Verify(context.Background(), tok); !errors.Is(err, ErrKeysUnavailable) {
			t.Fatalf("issuer down: %v", err)
		}
	}
	if f := v.Fetches(); f != 1 {
		t.Errorf("%d fetches within RetryAfterError of a failure, want 1", f)
	}
	iss.SetDown(false)
	now = now.Add(DefaultRetryAfterError)
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Fatalf("issuer back: %v", err)
	}
}

// TestSlowIssuer: with an issuer that answers after 10 s, concurrent first
// requests share one fetch and all give up within the fetch timeout.
func TestSlowIssuer(t *testing.T) {
	k := testutil.Keys()
	iss := testutil.NewIssuer(t, testutil.RSAJWK("a", k.A))
	iss.SetDelay(10 * time.Second)
	now := now0
	v := newVerifier(t, iss, &now, func(o *Options) { o.FetchTimeout = 300 * time.Millisecond })
	start := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := claimsFor(iss)
			c["jti"] = fmt.Sprint(i)
			_, errs[i] = v.Verify(context.Background(), sign(t, jwt.SigningMethodRS256, "a", k.A, c))
		}()
	}
	wg.Wait()
	if took := time.Since(start); took > 1500*time.Millisecond {
		t.Errorf("six concurrent first requests took %s, want each to give up within the 300 ms timeout", took)
	}
	for _, err := range errs {
		if !errors.Is(err, ErrKeysUnavailable) {
			t.Errorf("err = %v, want keys unavailable", err)
		}
	}
	if hits := iss.DiscoveryHits.Load(); hits != 1 {
		t.Errorf("%d discovery requests, want the six requests to share one fetch", hits)
	}
}

// TestKnownKeyNeverWaits: while requests with unknown kids wait for a slow
// refetch, a token whose key is known is verified at once.
func TestKnownKeyNeverWaits(t *testing.T) {
	k := testutil.Keys()
	iss := testutil.NewIssuer(t, testutil.RSAJWK("a", k.A))
	now := now0
	v := newVerifier(t, iss, &now, func(o *Options) { o.FetchTimeout = time.Second; o.UnknownKIDPeriod = time.Nanosecond })
	if _, err := v.Verify(context.Background(), sign(t, jwt.SigningMethodRS256, "a", k.A, claimsFor(iss))); err != nil {
		t.Fatal(err)
	}
	iss.SetDelay(10 * time.Second)
	var wg sync.WaitGroup
	for i := range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v.Verify(context.Background(), sign(t, jwt.SigningMethodRS256, fmt.Sprint("unknown-", i), k.A, claimsFor(iss)))
		}()
	}
	time.Sleep(50 * time.Millisecond) // the unknown kids are waiting now
	c := claimsFor(iss)
	c["jti"] = "fresh"
	start := time.Now()
	if _, err := v.Verify(context.Background(), sign(t, jwt.SigningMethodRS256, "a", k.A, c)); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 200*time.Millisecond {
		t.Errorf("a fresh token with a known kid took %s behind unknown-kid fetches", took)
	}
	wg.Wait()
	if hits := iss.JWKSHits.Load(); hits > 2 {
		t.Errorf("%d JWKS requests, want one fetch at a time (the first and one refetch)", hits)
	}
}

func TestUnknownKIDFloodFetchesOncePerPeriod(t *testing.T) {
	k := testutil.Keys()
	iss := testutil.NewIssuer(t, testutil.RSAJWK("a", k.A))
	now := now0
	v := newVerifier(t, iss, &now, nil)
	if _, err := v.Verify(context.Background(), sign(t, jwt.SigningMethodRS256, "a", k.A, claimsFor(iss))); err != nil {
		t.Fatal(err)
	}
	before := iss.JWKSHits.Load()
	for i := range 200 {
		now = now0.Add(time.Duration(i) * 100 * time.Millisecond) // 200 requests over 20 s
		if _, err := v.Verify(context.Background(), sign(t, jwt.SigningMethodRS256, fmt.Sprint("made-up-", i), k.A, claimsFor(iss))); !errors.Is(err, ErrNoKey) {
			t.Fatalf("unknown kid: %v", err)
		}
	}
	if extra := iss.JWKSHits.Load() - before; extra != 1 {
		t.Errorf("200 unknown kids within one period caused %d JWKS fetches, want exactly 1", extra)
	}
}

// TestRotationAndRevocation: a new kid is fetched when first seen; a key
// the issuer stops publishing stops verifying, cached tokens included.
func TestRotationAndRevocation(t *testing.T) {
	k := testutil.Keys()
	iss := testutil.NewIssuer(t, testutil.RSAJWK("a", k.A))
	now := now0
	v := newVerifier(t, iss, &now, func(o *Options) { o.UnknownKIDPeriod = time.Second })
	old := sign(t, jwt.SigningMethodRS256, "a", k.A, claimsFor(iss))
	if _, err := v.Verify(context.Background(), old); err != nil {
		t.Fatal(err)
	}
	iss.SetKeys(testutil.RSAJWK("a", k.A), testutil.RSAJWK("b", k.B))
	long := claimsFor(iss)
	long["exp"] = now0.Add(24 * time.Hour).Unix()
	fresh := sign(t, jwt.SigningMethodRS256, "b", k.B, long)
	for _, tok := range []string{fresh, old} {
		if _, err := v.Verify(context.Background(), tok); err != nil {
			t.Fatalf("during the grace period: %v", err)
		}
	}
	if _, cached, _ := v.Check(context.Background(), old); !cached {
		t.Error("the old token was not served from the cache after the key set changed only by addition")
	}
	iss.SetKeys(testutil.RSAJWK("b", k.B))
	now = now.Add(DefaultRefreshInterval + time.Minute) // the set is stale: a background refresh starts
	v.Verify(context.Background(), fresh)
	waitFor(t, func() bool { return iss.JWKSHits.Load() >= 3 })
	waitFor(t, func() bool { _, err := v.Verify(context.Background(), old); return errors.Is(err, ErrNoKey) })
	if _, err := v.Verify(context.Background(), fresh); err != nil {
		t.Errorf("the new key after the revocation of the old one: %v", err)
	}
	// A token of the revoked key never seen before fails too, even once the
	// other key was looked up again.
	c := claimsFor(iss)
	c["exp"], c["jti"] = now.Add(time.Hour).Unix(), "never seen"
	if _, err := v.Verify(context.Background(), sign(t, jwt.SigningMethodRS256, "a", k.A, c)); !errors.Is(err, ErrNoKey) {
		t.Errorf("a new token of the revoked key: %v, want %v", err, ErrNoKey)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestCachedTokens: the time claims of a cached token are checked on every
// use; a token carrying nbf (Entra, Cognito) keeps working on its second use.
func TestCachedTokens(t *testing.T) {
	k := testutil.Keys()
	iss := testutil.NewIssuer(t, testutil.RSAJWK("a", k.A))
	now := now0
	v := newVerifier(t, iss, &now, nil)
	c := claimsFor(iss)
	c["nbf"] = now0.Unix() - 60
	tok := sign(t, jwt.SigningMethodRS256, "a", k.A, c)
	for i, wantCached := range []bool{false, true, true} {
		_, cached, err := v.Check(context.Background(), tok)
		if err != nil || cached != wantCached {
			t.Fatalf("use %d: cached=%v err=%v, want cached=%v and no error", i+1, cached, err, wantCached)
		}
	}
	now = now0.Add(time.Hour)
	if _, cached, err := v.Check(context.Background(), tok); !errors.Is(err, ErrExpired) || !cached {
		t.Errorf("cached token after exp: cached=%v err=%v, want expired", cached, err)
	}
	future := with(c, func(c jwt.MapClaims) { c["nbf"] = now0.Unix() + 30; c["jti"] = "later" })
	now = now0
	later := sign(t, jwt.SigningMethodRS256, "a", k.A, future)
	if _, err := v.Verify(context.Background(), later); !errors.Is(err, ErrNotYetValid) {
		t.Fatalf("nbf in the future: %v", err)
	}
	now = now0.Add(31 * time.Second)
	if _, err := v.Verify(context.Background(), later); err != nil {
		t.Errorf("after nbf: %v", err)
	}
}

// TestUnknownKIDRefetchAfterThePeriod: once the unknown-kid period has
// passed, a kid the issuer has just published is fetched again.
func TestUnknownKIDRefetchAfterThePeriod(t *testing.T) {
	k := testutil.Keys()
	iss := testutil.NewIssuer(t, testutil.RSAJWK("a", k.A))
	now := now0
	v := newVerifier(t, iss, &now, nil)
	if _, err := v.Verify(context.Background(), sign(t, jwt.SigningMethodRS256, "a", k.A, claimsFor(iss))); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), sign(t, jwt.SigningMethodRS256, "b", k.B, claimsFor(iss))); !errors.Is(err, ErrNoKey) {
		t.Fatalf("unpublished kid: %v", err)
	}
	iss.SetKeys(testutil.RSAJWK("a", k.A), testutil.RSAJWK("b", k.B))
	now = now.Add(DefaultUnknownKIDPeriod + time.Second)
	if _, err := v.Verify(context.Background(), sign(t, jwt.SigningMethodRS256, "b", k.B, claimsFor(iss))); err != nil {
		t.Errorf("a kid published after the period: %v", err)
	}
}

// TestConfiguredJWKSURL: with JWKSURL set, no discovery document is read,
// and after an outage the configured URL is fetched again.
func TestConfiguredJWKSURL(t *testing.T) {
	k := testutil.Keys()
	keys := testutil.NewIssuer(t, testutil.RSAJWK("a", k.A)) // serves the JWKS; its discovery names another issuer
	keys.SetDiscovery(map[string]any{"issuer": "https://not-this-one.example/"})
	keys.SetDown(true)
	now := now0
	v := newVerifier(t, keys, &now, func(o *Options) { o.JWKSURL = keys.Base() + "/.well-known/jwks.json" })
	tok := sign(t, jwt.SigningMethodRS256, "a", k.A, claimsFor(keys))
	if _, err := v.Verify(context.Background(), tok); !errors.Is(err, ErrKeysUnavailable) {
		t.Fatalf("JWKS down: %v", err)
	}
	keys.SetDown(false)
	now = now.Add(DefaultRetryAfterError)
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Errorf("JWKS back: %v", err)
	}
	if keys.DiscoveryHits.Load() != 0 {
		t.Errorf("the discovery document was read %d times although the JWKS URL is configured", keys.DiscoveryHits.Load())
	}
}

// TestJWKSSizeLimitIsExact: a document of exactly MaxJWKSBytes is read, one
// byte more is refused.
func TestJWKSSizeLimitIsExact(t *testing.T) {
	k := testutil.Keys()
	iss := testutil.NewIssuer(t, testutil.RSAJWK("a", k.A))
	res, err := http.Get(iss.Base() + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := io.ReadAll(res.Body)
	res.Body.Close()
	disc, err := http.Get(iss.Base() + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	discovery, _ := io.ReadAll(disc.Body)
	disc.Body.Close()
	limit := int64(max(len(doc), len(discovery)))
	for _, tt := range []struct {
		max int64
		ok  bool
	}{{limit, true}, {limit - 1, false}} {
		now := now0
		v := newVerifier(t, iss, &now, func(o *Options) { o.MaxJWKSBytes = tt.max })
		_, err := v.Verify(context.Background(), sign(t, jwt.SigningMethodRS256, "a", k.A, claimsFor(iss)))
		if (err == nil) != tt.ok {
			t.Errorf("documents of up to %d bytes, limit %d: err %v", limit, tt.max, err)
		}
	}
}

// TestTokenWithoutKIDPicksTheOnlySigningKey: a token without kid is
// verified with the one key that may sign with its algorithm.
func TestTokenWithoutKIDPicksTheOnlySigningKey(t *testing.T) {
	k := testutil.Keys()
	for _, tt := range []struct {
		name string
		keys []map[string]any
		want error
	}{
		{"a key without use", []map[string]any{testutil.With(testutil.RSAJWK("a", k.A), "use", nil)}, nil},
		{"a key whose alg is the token's", []map[string]any{testutil.With(testutil.RSAJWK("a", k.A), "alg", "RS256")}, nil},
		{"an encryption key is no candidate", []map[string]any{testutil.With(testutil.RSAJWK("e", k.B), "use", "enc"), testutil.RSAJWK("a", k.A)}, nil},
		{"a key of another alg is no candidate", []map[string]any{testutil.With(testutil.RSAJWK("x", k.B), "alg", "RS512"), testutil.RSAJWK("a", k.A)}, nil},
		{"an EC key is no candidate", []map[string]any{testutil.ECJWK("ec", k.EC), testutil.RSAJWK("a", k.A)}, nil},
		{"only an encryption key", []map[string]any{testutil.With(testutil.RSAJWK("a", k.A), "use", "enc")}, ErrNoKey},
		{"two signing keys", []map[string]any{testutil.RSAJWK("a", k.A), testutil.RSAJWK("b", k.B)}, ErrMultipleKeys},
	} {
		t.Run(tt.name, func(t *testing.T) {
			iss := testutil.NewIssuer(t, tt.keys...)
			now := now0
			_, err := newVerifier(t, iss, &now, nil).Verify(context.Background(), testutil.SignJWT(t, jwt.SigningMethodRS256, nil, k.A, claimsFor(iss)))
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}
