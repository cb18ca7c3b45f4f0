package gateway

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/jwtapi/jwtapi/internal/routekey"
	"github.com/jwtapi/jwtapi/internal/testutil"
	"github.com/jwtapi/jwtapi/local/issuer"
	"github.com/jwtapi/jwtapi/local/jwtauth"
)

// TestRESTNativeJWT serves a REST API whose native JWT authorizer trusts
// two issuers — the embedded one (RS256, with required claims) and another
// OIDC server signing with ES256 — and checks every rule AWS documents:
// exact iss, aud any-of, the algorithm list, additional claims exact and
// case-sensitive, scopes any-of with 403, 401 for a missing or invalid
// token, and the claims handed to the handler as JSON values. The same
// tokens on the HTTP API's JWT route show where the two kinds differ.
func TestRESTNativeJWT(t *testing.T) {
	base := testStack(t)
	k := testutil.Keys()
	other := testutil.NewIssuer(t, testutil.ECJWK("ec1", k.EC))
	faulty := &Function{ID: "restjwt/Faulty", LogicalID: "Faulty", Handler: "local/testdata/handlers/faulty", Timeout: 3 * time.Second, MemoryMB: 128, Env: map[string]string{}}
	native := &Authorizer{LogicalID: "Native", Name: "jwt", Type: "JWT", IdentitySource: []string{"Authorization"},
		RESTJWT: &jwtauth.RESTConfig{Algorithms: []string{"RS256", "ES256"}, Issuers: []jwtauth.RESTIssuer{
			{Issuer: base.issuer.URL, Audiences: []string{audience, "https://second.example"}, Claims: []jwtauth.AdditionalClaim{
				{Name: "org_id", Values: []string{"acme", "globex"}, Required: true},
				{Name: "tier", Values: []string{"gold"}},
			}},
			{Issuer: other.URL(), Audiences: []string{"client-a"}},
		}}}
	api := &API{Kind: KindREST, Stack: "RestJwtTest", LogicalID: "Api", Name: "restjwt", StageName: "v1",
		Authorizers: map[string]*Authorizer{native.LogicalID: native}, Functions: map[string]*Function{faulty.ID: faulty}, Responses: map[string]*GatewayResponse{}}
	for _, r := range []struct {
		key    string
		scopes []string
	}{{"GET /scoped", []string{"read:x", "write:x"}}, {"GET /open", nil}} {
		key, _ := routekey.Parse(r.key)
		api.Routes = append(api.Routes, &Route{Key: key, AuthType: "JWT", Authorizer: native, Scopes: r.scopes, Function: faulty, PayloadVersion: "1.0"})
	}
	_, restURL := serveAPI(t, api, nil)

	now := time.Now()
	claims := func(edit func(c map[string]any)) map[string]any {
		c := map[string]any{"sub": "auth0|ada", "aud": audience, "scope": "read:x profile", "org_id": "acme", "roles": []any{"user", "team lead"},
			"email_verified": true, "version": "42"}
		if edit != nil {
			edit(c)
		}
		return c
	}
	// Tokens of the embedded issuer: its claims, with any override (nil removes one).
	embedded := func(edit func(c map[string]any)) string {
		c := claims(edit)
		o := issuer.MintOptions{Subject: "auth0|ada", Claims: c}
		return base.mint(t, o)
	}
	ec := func(edit func(c jwt.MapClaims)) string {
		c := jwt.MapClaims{"iss": other.URL(), "aud": "client-a", "sub": "m2m", "scp": []string{"write:x"}, "exp": now.Add(time.Hour).Unix(), "iat": now.Unix()}
		if edit != nil {
			edit(c)
		}
		return testutil.SignJWT(t, jwt.SigningMethodES256, map[string]any{"kid": "ec1"}, k.EC, c)
	}
	type want struct {
		status int
		body   string
	}
	unauthorized, forbidden := want{401, `{"message":"Unauthorized"}`}, want{403, `{"message":"Forbidden"}`}
	ok := want{200, `"resource":"/scoped"`}
	for _, tt := range []struct {
		name, path, header string
		want               want
	}{
		{"no token", "/v1/scoped", "", unauthorized},
		{"valid, Bearer", "/v1/scoped", "Bearer " + embedded(nil), ok},
		{"valid, bare token", "/v1/scoped", embedded(nil), ok},
		{"garbage", "/v1/scoped", "Bearer x.y.z", unauthorized},
		{"issuer without its trailing slash", "/v1/scoped", "Bearer " + embedded(func(c map[string]any) { c["iss"] = strings.TrimSuffix(base.issuer.URL, "/") }), unauthorized},
		{"an issuer the authorizer does not trust", "/v1/scoped", "Bearer " + forged(t, jwt.SigningMethodRS256, "a", k.Attacker, jwt.MapClaims{"iss": "https://evil.example/", "aud": audience, "exp": now.Add(time.Hour).Unix()}), unauthorized},
		{"aud of no audience", "/v1/scoped", "Bearer " + embedded(func(c map[string]any) { c["aud"] = "https://else" }), unauthorized},
		{"aud array holding the second audience", "/v1/scoped", "Bearer " + embedded(func(c map[string]any) { c["aud"] = []any{"x", "https://second.example"} }), ok},
		{"no aud, client_id of an audience (undocumented: refused)", "/v1/scoped", "Bearer " + embedded(func(c map[string]any) { c["aud"] = nil; c["client_id"] = audience }), unauthorized},
		{"expired", "/v1/scoped", "Bearer " + embedded(func(c map[string]any) { c["exp"] = now.Add(-time.Minute).Unix() }), unauthorized},
		{"nbf in the future", "/v1/scoped", "Bearer " + embedded(func(c map[string]any) { c["nbf"] = now.Add(time.Hour).Unix() }), unauthorized},
		{"required claim with the other expected value", "/v1/scoped", "Bearer " + embedded(func(c map[string]any) { c["org_id"] = "globex" }), ok},
		{"required claim in another case", "/v1/scoped", "Bearer " + embedded(func(c map[string]any) { c["org_id"] = "Acme" }), unauthorized},
		{"required claim a prefix", "/v1/scoped", "Bearer " + embedded(func(c map[string]any) { c["org_id"] = "acm" }), unauthorized},
		{"required claim missing", "/v1/scoped", "Bearer " + embedded(func(c map[string]any) { c["org_id"] = nil }), unauthorized},
		{"required claim an array holding the value", "/v1/scoped", "Bearer " + embedded(func(c map[string]any) { c["org_id"] = []any{"acme"} }), unauthorized},
		{"optional claim absent", "/v1/scoped", "Bearer " + embedded(func(c map[string]any) { c["tier"] = nil }), ok},
		{"optional claim with its value", "/v1/scoped", "Bearer " + embedded(func(c map[string]any) { c["tier"] = "gold" }), ok},
		{"optional claim with another value", "/v1/scoped", "Bearer " + embedded(func(c map[string]any) { c["tier"] = "silver" }), unauthorized},
		{"none of the method's scopes", "/v1/scoped", "Bearer " + embedded(func(c map[string]any) { c["scope"] = "profile email" }), forbidden},
		{"no scope claim on a scoped method", "/v1/scoped", "Bearer " + embedded(func(c map[string]any) { c["scope"] = nil }), forbidden},
		{"scope in another case", "/v1/scoped", "Bearer " + embedded(func(c map[string]any) { c["scope"] = "READ:X" }), forbidden},
		{"no scope on a method without scopes", "/v1/open", "Bearer " + embedded(func(c map[string]any) { c["scope"] = nil }), want{200, `"resource":"/open"`}},
		{"second issuer, ES256, scp array", "/v1/scoped", "Bearer " + ec(nil), ok},
		{"second issuer, the first issuer's audience", "/v1/scoped", "Bearer " + ec(func(c jwt.MapClaims) { c["aud"] = audience }), unauthorized},
		{"second issuer, its claims are not required of it", "/v1/scoped", "Bearer " + ec(func(c jwt.MapClaims) { delete(c, "org_id") }), ok},
		{"second issuer, RS256 key of the attacker", "/v1/scoped", "Bearer " + forged(t, jwt.SigningMethodRS256, "ec1", k.Attacker, jwt.MapClaims{"iss": other.URL(), "aud": "client-a", "exp": now.Add(time.Hour).Unix()}), unauthorized},
		{"RS384, not in the algorithm list", "/v1/scoped", "Bearer " + forged(t, jwt.SigningMethodRS384, "x", k.A, jwt.MapClaims{"iss": base.issuer.URL, "aud": audience, "exp": now.Add(time.Hour).Unix(), "org_id": "acme"}), unauthorized},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := map[string]string{}
			if tt.header != "" {
				h["authorization"] = tt.header
			}
			r := base.doAt(t, restURL, "GET", tt.path, h, "")
			if r.status != tt.want.status || !strings.Contains(r.body, tt.want.body) {
				t.Errorf("%d %s, want %d with %s", r.status, r.body, tt.want.status, tt.want.body)
			}
		})
	}

	// The handler gets the claims with their JSON types.
	ev := echoedEvent(t, base.doAt(t, restURL, "GET", "/v1/scoped", bearer(embedded(nil)), ""))
	got, _ := json.Marshal(ev["requestContext"].(map[string]any)["authorizer"])
	for _, want := range []string{`"email_verified":true`, `"version":"42"`, `"roles":["user","team lead"]`, `"org_id":"acme"`, `"sub":"auth0|ada"`} {
		if !strings.Contains(string(got), want) {
			t.Errorf("requestContext.authorizer %s lacks %s", got, want)
		}
	}
	var a struct {
		Claims map[string]any `json:"claims"`
	}
	json.Unmarshal(got, &a)
	if _, isNumber := a.Claims["exp"].(float64); !isNumber {
		t.Errorf("exp reached the handler as %T, want a JSON number", a.Claims["exp"])
	}

	// Side by side: the HTTP API's JWT authorizer stringifies the claims
	// and takes client_id when aud is absent.
	httpEv := echoedEvent(t, base.do(t, "GET", "/echo/scoped", bearer(base.mint(t, issuer.MintOptions{Subject: "auth0|ada", Audiences: []string{audience}, Scope: "read:user",
		Claims: map[string]any{"email_verified": true}})), ""))
	httpClaims := httpEv["requestContext"].(map[string]any)["authorizer"].(map[string]any)["jwt"].(map[string]any)["claims"].(map[string]any)
	if httpClaims["email_verified"] != "true" {
		t.Errorf("HTTP API claim email_verified = %#v, want the string \"true\"", httpClaims["email_verified"])
	}
	noAud := base.mint(t, issuer.MintOptions{Subject: "x", Scope: "read:user", Claims: map[string]any{"client_id": audience}})
	if r := base.do(t, "GET", "/echo/scoped", bearer(noAud), ""); r.status != 200 {
		t.Errorf("HTTP API, client_id in place of aud: %d, want 200 (documented for HTTP APIs)", r.status)
	}
}
