package gateway

import (
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/jwtapi/jwtapi/internal/routekey"
	"github.com/jwtapi/jwtapi/internal/testutil"
)

// TestExternalIssuerFaults: a JWT route of an issuer that is not the
// embedded one fails closed while its keys cannot be fetched (401 with the
// reason in the request log), works once they can, and keeps working
// through a later outage for keys already fetched.
func TestExternalIssuerFaults(t *testing.T) {
	k := testutil.Keys()
	iss := testutil.NewIssuer(t, testutil.RSAJWK("a", k.A))
	iss.SetDown(true)
	fn := &Function{ID: "faults/Echo", LogicalID: "Echo", Handler: "local/testdata/handlers/faulty", Timeout: 3 * time.Second, MemoryMB: 128, Env: map[string]string{}}
	auth := &Authorizer{LogicalID: "Jwt", Name: "jwt", Type: "JWT", Issuer: iss.URL(), Audiences: []string{audience},
		IdentitySource: []string{"$request.header.Authorization"}}
	key, _ := routekey.Parse("GET /x")
	api := &API{Kind: KindHTTP, Stack: "faults", LogicalID: "Api", Name: "faults", StageName: "$default",
		Routes:      []*Route{{Key: key, AuthType: "JWT", Authorizer: auth, Function: fn, PayloadVersion: "2.0"}},
		Authorizers: map[string]*Authorizer{"Jwt": auth}, Functions: map[string]*Function{fn.ID: fn}}
	logs := &testutil.SyncBuffer{}
	_, base := serveAPI(t, api, logs)
	s := &stack{}
	token := func(kid string) string {
		return testutil.SignJWT(t, jwt.SigningMethodRS256, map[string]any{"kid": kid}, k.A, jwt.MapClaims{"iss": iss.URL(), "aud": audience,
			"sub": "ext", "exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix(), "jti": time.Now().String()})
	}
	if r := s.doAt(t, base, "GET", "/x", bearer(token("a")), ""); r.status != 401 || !strings.Contains(r.header.Get("www-authenticate"), "signing keys cannot be fetched") {
		t.Fatalf("issuer down at start: %d %q, want 401", r.status, r.header.Get("www-authenticate"))
	}
	testutil.Eventually(t, 5*time.Second, func() bool { return strings.Contains(logs.String(), "the issuer's signing keys cannot be fetched") },
		"the request log saying why the token was refused")
	iss.SetDown(false)
	testutil.Eventually(t, 5*time.Second, func() bool { return s.doAt(t, base, "GET", "/x", bearer(token("a")), "").status == 200 },
		"a token accepted once the issuer answers")
	iss.SetDown(true)
	if r := s.doAt(t, base, "GET", "/x", bearer(token("a")), ""); r.status != 200 {
		t.Errorf("known key during a later outage: %d, want 200", r.status)
	}
	if r := s.doAt(t, base, "GET", "/x", bearer(token("rotated")), ""); r.status != 401 {
		t.Errorf("unknown kid during the outage: %d, want 401", r.status)
	}
}

func TestRequestHeadLimit(t *testing.T) {
	s := testStack(t)
	if r := s.do(t, "GET", "/private", map[string]string{"x-big": strings.Repeat("a", 10300)}, ""); r.status != 431 {
		t.Errorf("11 kB of headers: %d %s, want 431 before the authorizer", r.status, r.body)
	}
	if r := s.do(t, "GET", "/public", map[string]string{"x-big": strings.Repeat("a", 9000)}, ""); r.status != 200 {
		t.Errorf("9 kB of headers: %d, want 200", r.status)
	}
}
