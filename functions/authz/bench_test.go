package authz

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
)

// BenchmarkVerify compares a warm decision for unseen RS256 tokens with Go's
// raw rsa.VerifyPKCS1v15 on the same key, in the same run; and measures a
// repeated token (served from the verified-token cache).
func BenchmarkVerify(b *testing.B) {
	testKeys()
	s := newJWKSServer(b, rsaJWK("a", rsaA))
	now := now0
	const n = 4096
	toks := make([]string, n)
	for i := range toks {
		c := s.claims()
		c["jti"] = fmt.Sprint(i)
		toks[i] = sign(b, jwt.SigningMethodRS256, kid("a"), rsaA, c)
	}
	b.Run("unseen-token", func(b *testing.B) {
		v := newVerifier(b, s, &now, func(o *Options) { o.CacheSize = 1 << 20 })
		if _, err := v.Verify(context.Background(), toks[0]); err != nil { // warm the JWKS
			b.Fatal(err)
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if i%n == 0 {
				v.cache = bounded.New[string, *cached](1 << 20) // every token unseen
			}
			if _, err := v.Verify(context.Background(), toks[i%n]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("rsa.VerifyPKCS1v15", func(b *testing.B) {
		dot := strings.LastIndexByte(toks[0], '.')
		sig, _ := base64.RawURLEncoding.DecodeString(toks[0][dot+1:])
		b.ReportAllocs()
		for b.Loop() {
			sum := sha256.Sum256([]byte(toks[0][:dot]))
			if err := rsa.VerifyPKCS1v15(&rsaA.PublicKey, crypto.SHA256, sum[:], sig); err != nil {
				b.Fatal(err)
			}
		}
	})
	// Both measured in the same loop, alternating, so that machine noise
	// hits both alike; "x-raw" is the ratio the README quotes.
	b.Run("unseen-vs-raw", func(b *testing.B) {
		v := newVerifier(b, s, &now, func(o *Options) { o.CacheSize = 1 << 20 })
		if _, err := v.Verify(context.Background(), toks[0]); err != nil {
			b.Fatal(err)
		}
		var verifyT, rawT time.Duration
		i := 0
		for b.Loop() {
			if i%n == 0 {
				v.cache = bounded.New[string, *cached](1 << 20)
			}
			tok := toks[i%n]
			t0 := time.Now()
			if _, err := v.Verify(context.Background(), tok); err != nil {
				b.Fatal(err)
			}
			t1 := time.Now()
			dot := strings.LastIndexByte(tok, '.')
			sig, _ := base64.RawURLEncoding.DecodeString(tok[dot+1:])
			sum := sha256.Sum256([]byte(tok[:dot]))
			if err := rsa.VerifyPKCS1v15(&rsaA.PublicKey, crypto.SHA256, sum[:], sig); err != nil {
				b.Fatal(err)
			}
			rawT += time.Since(t1)
			verifyT += t1.Sub(t0)
			i++
		}
		b.ReportMetric(float64(verifyT.Nanoseconds())/float64(i), "verify-ns")
		b.ReportMetric(float64(rawT.Nanoseconds())/float64(i), "raw-ns")
		b.ReportMetric(float64(verifyT)/float64(rawT), "x-raw")
	})
	b.Run("repeated-token", func(b *testing.B) {
		v := newVerifier(b, s, &now, nil)
		if _, err := v.Verify(context.Background(), toks[0]); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.Verify(context.Background(), toks[0]); err != nil {
				b.Fatal(err)
			}
		}
	})
}
