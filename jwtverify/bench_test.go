package jwtverify

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/jwtapi/jwtapi/internal/bounded"
	"github.com/jwtapi/jwtapi/internal/testutil"
)

// BenchmarkVerify compares the verification of unseen RS256 tokens with Go's
// raw rsa.VerifyPKCS1v15 on the same key, in the same run (the target: at
// most 1.3x), and measures a repeated token served from the cache (the
// target: at most 1 µs). It also reports golang-jwt's own parse and verify
// against the same raw figure (golang-jwt-x-raw): on the reference machine
// that alone is 1.30-1.34x, and the verifier adds 2-3% to it, so the 1.3x
// target is at the library's edge; the library is kept all the same (no
// hand-written JOSE), as the parsing it does is what makes it safe.
func BenchmarkVerify(b *testing.B) {
	k := testutil.Keys()
	iss := testutil.NewIssuer(b, testutil.RSAJWK("a", k.A))
	now := now0
	const n = 4096
	toks := make([]string, n)
	for i := range toks {
		c := claimsFor(iss)
		c["jti"] = fmt.Sprint(i)
		c["email_verified"] = true
		c["https://example.com/roles"] = []string{"admin", "ops"}
		toks[i] = sign(b, jwt.SigningMethodRS256, "a", k.A, c)
	}
	warm := func(b *testing.B) *Verifier {
		v := newVerifier(b, iss, &now, func(o *Options) { o.CacheSize = n })
		if _, err := v.Verify(context.Background(), toks[0]); err != nil {
			b.Fatal(err)
		}
		return v
	}
	raw := func(tok string) error {
		dot := strings.LastIndexByte(tok, '.')
		sig, _ := base64.RawURLEncoding.DecodeString(tok[dot+1:])
		sum := sha256.Sum256([]byte(tok[:dot]))
		return rsa.VerifyPKCS1v15(&k.A.PublicKey, crypto.SHA256, sum[:], sig)
	}
	b.Run("unseen-token", func(b *testing.B) {
		v := warm(b)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if i%n == 0 {
				v.cache = bounded.New[string, *Token](n) // every token unseen
			}
			if _, err := v.Verify(context.Background(), toks[i%n]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("rsa.VerifyPKCS1v15", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := raw(toks[0]); err != nil {
				b.Fatal(err)
			}
		}
	})
	// Measured in the same loop, alternating, so that machine noise hits
	// all alike: this verifier, golang-jwt's parser alone (with a fixed key,
	// no cache: the floor of any verifier built on it) and the raw RSA
	// verification. "x-raw" is the ratio the README quotes.
	b.Run("unseen-vs-raw", func(b *testing.B) {
		v := warm(b)
		kf := func(*jwt.Token) (any, error) { return &k.A.PublicKey, nil }
		lib := jwt.NewParser(jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuer(iss.URL()), jwt.WithAudience(api),
			jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithTimeFunc(func() time.Time { return now }), jwt.WithJSONNumber())
		var verifyT, libT, rawT time.Duration
		i := 0
		for b.Loop() {
			if i%n == 0 {
				v.cache = bounded.New[string, *Token](n)
			}
			tok := toks[i%n]
			t0 := time.Now()
			if _, err := v.Verify(context.Background(), tok); err != nil {
				b.Fatal(err)
			}
			t1 := time.Now()
			if _, err := lib.ParseWithClaims(tok, jwt.MapClaims{}, kf); err != nil {
				b.Fatal(err)
			}
			t2 := time.Now()
			if err := raw(tok); err != nil {
				b.Fatal(err)
			}
			rawT += time.Since(t2)
			libT += t2.Sub(t1)
			verifyT += t1.Sub(t0)
			i++
		}
		b.ReportMetric(float64(verifyT.Nanoseconds())/float64(i), "verify-ns")
		b.ReportMetric(float64(rawT.Nanoseconds())/float64(i), "raw-ns")
		b.ReportMetric(float64(verifyT)/float64(rawT), "x-raw")
		b.ReportMetric(float64(libT)/float64(rawT), "golang-jwt-x-raw")
	})
	b.Run("repeated-token", func(b *testing.B) {
		v := warm(b)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.Verify(context.Background(), toks[0]); err != nil {
				b.Fatal(err)
			}
		}
	})
}
