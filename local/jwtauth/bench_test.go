package jwtauth

import (
	"context"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/jwtapi/jwtapi/internal/testutil"
)

// BenchmarkAuthorizeRepeatedToken is the decision for a token seen before:
// a cache hit plus the time and scope checks. (Unseen tokens cost what
// jwtverify's BenchmarkVerify measures, plus the claims' stringification.)
func BenchmarkAuthorizeRepeatedToken(b *testing.B) {
	a := testutil.Keys().A
	ti := testutil.NewIssuer(b, testutil.RSAJWK("a", a))
	now := t0
	az := newAuthorizer(b, ti, &now)
	tok := sign(b, jwt.SigningMethodRS256, "a", a, claimsFor(ti))
	scopes := []string{"read:user"}
	if d := az.Authorize(context.Background(), tok, scopes); d.Status != 200 {
		b.Fatal(d.Err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if d := az.Authorize(context.Background(), tok, scopes); d.Status != 200 {
			b.Fatal(d.Err)
		}
	}
}
