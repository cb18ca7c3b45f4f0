package jwtauth

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/jwtapi/jwtapi/internal/bounded"
)

// BenchmarkAuthorizeRepeatedToken is the decision for a token seen before:
// a cache hit plus the time and scope checks.
func BenchmarkAuthorizeRepeatedToken(b *testing.B) {
	ti := newTestIssuer(b)
	a, _ := testKeys(b)
	now := t0
	az := newAuthorizer(ti, &now)
	tok := sign(b, jwt.SigningMethodRS256, "a", a, ti.claims())
	scopes := []string{"read:user"}
	if d := az.Authorize(context.Background(), tok, scopes); d.Status != 200 {
		b.Fatal(d.Err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if d := az.Authorize(context.Background(), tok, scopes); d.Status != 200 {
			b.Fatal(d.Err)
		}
	}
}

// BenchmarkAuthorizeUnseenToken verifies a new token each time (one RSA
// verification, parsing, stringification), next to the raw RSA cost.
func BenchmarkAuthorizeUnseenToken(b *testing.B) {
	ti := newTestIssuer(b)
	a, _ := testKeys(b)
	now := t0
	const n = 2048
	toks := make([]string, n)
	for i := range toks {
		c := ti.claims()
		c["jti"] = fmt.Sprint(i)
		toks[i] = sign(b, jwt.SigningMethodRS256, "a", a, c)
	}
	b.Run("authorize", func(b *testing.B) {
		az := newAuthorizer(ti, &now)
		az.Authorize(context.Background(), toks[0], nil) // warm the key set
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			az.cache = bounded.New[string, *verified](DefaultCacheSize) // every token unseen
			if d := az.Authorize(context.Background(), toks[i%n], nil); d.Status != 200 {
				b.Fatal(d.Err)
			}
			i++
		}
	})
	b.Run("rsa.VerifyPKCS1v15", func(b *testing.B) {
		tok := toks[0]
		dot := strings.LastIndexByte(tok, '.')
		sig, _ := base64.RawURLEncoding.DecodeString(tok[dot+1:])
		b.ReportAllocs()
		for b.Loop() {
			sum := sha256.Sum256([]byte(tok[:dot]))
			if err := rsa.VerifyPKCS1v15(&a.PublicKey, crypto.SHA256, sum[:], sig); err != nil {
				b.Fatal(err)
			}
		}
	})
}
