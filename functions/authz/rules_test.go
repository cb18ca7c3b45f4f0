package authz

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/golang-jwt/jwt/v5"
)

const rulesJSON = `{
  "DELETE /users/{id}": {"permissions": ["delete:user"], "claims": [{"claim": "email_verified", "equals": true}]},
  "GET /admin":         {"claims": [{"claim": "https://example.com/roles", "contains": "admin"}]},
  "GET /ops":           {"anyScopes": ["ops", "root"]},
  "GET /both":          {"allScopes": ["openid", "read:user"]},
  "GET /verified":      {"claims": [{"path": ["st-ev", "v"], "equals": true}]},
  "GET /tenant":        {"claims": [{"claim": "org_id", "equals": "acme"}]}
}`

func newAuthorizer(t testing.TB, s *jwksServer, now *time.Time) (*Authorizer, *strings.Builder) {
	t.Helper()
	rules, err := ParseRules([]byte(rulesJSON))
	if err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	return NewAuthorizer(newVerifier(t, s, now, nil), rules, &logs), &logs
}

func TestRules(t *testing.T) {
	testKeys()
	s := newJWKSServer(t, rsaJWK("a", rsaA))
	now := now0
	a, _ := newAuthorizer(t, s, &now)
	with := func(edit func(c jwt.MapClaims)) string {
		c := s.claims()
		edit(c)
		return sign(t, jwt.SigningMethodRS256, kid("a"), rsaA, c)
	}
	full := with(func(jwt.MapClaims) {})
	tests := []struct {
		name, route, token string
		allowed            bool
	}{
		{"route without a rule needs only a valid token", "GET /anything", with(func(c jwt.MapClaims) { delete(c, "permissions"); delete(c, "scope") }), true},
		{"permission and verified email", "DELETE /users/{id}", full, true},
		{"permission missing", "DELETE /users/{id}", with(func(c jwt.MapClaims) { c["permissions"] = []string{"read:user"} }), false},
		{"email not verified", "DELETE /users/{id}", with(func(c jwt.MapClaims) { c["email_verified"] = false }), false},
		{"email_verified as a string is not true", "DELETE /users/{id}", with(func(c jwt.MapClaims) { c["email_verified"] = "true" }), false},
		{"email_verified missing", "DELETE /users/{id}", with(func(c jwt.MapClaims) { delete(c, "email_verified") }), false},
		{"role contains admin", "GET /admin", full, true},
		{"role list without admin", "GET /admin", with(func(c jwt.MapClaims) { c["https://example.com/roles"] = []string{"ops"} }), false},
		{"role as a string is not a list", "GET /admin", with(func(c jwt.MapClaims) { c["https://example.com/roles"] = "admin" }), false},
		{"any of the scopes: none", "GET /ops", full, false},
		{"any of the scopes: one", "GET /ops", with(func(c jwt.MapClaims) { c["scope"] = "root" }), true},
		{"scp wins over scope", "GET /ops", with(func(c jwt.MapClaims) { c["scope"] = "root"; c["scp"] = []string{"read:user"} }), false},
		{"all of the scopes", "GET /both", full, true},
		{"all of the scopes: one missing", "GET /both", with(func(c jwt.MapClaims) { c["scope"] = "read:user" }), false},
		{"SuperTokens st-ev.v", "GET /verified", full, true},
		{"SuperTokens st-ev.v false", "GET /verified", with(func(c jwt.MapClaims) { c["st-ev"] = map[string]any{"v": false} }), false},
		{"tenant equals", "GET /tenant", with(func(c jwt.MapClaims) { c["org_id"] = "acme" }), true},
		{"other tenant", "GET /tenant", with(func(c jwt.MapClaims) { c["org_id"] = "evil" }), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := a.Decide(context.Background(), tt.token, tt.route)
			if d.Allowed() != tt.allowed {
				t.Fatalf("allowed = %v (%v), want %v", d.Allowed(), d.Denial, tt.allowed)
			}
			if !tt.allowed && (!d.Denial.Forbidden || d.Denial.Code != CodeClaimValidation || d.Denial.Rule != tt.route) {
				t.Errorf("denial %+v, want a 403-style claim validation failure naming the rule", d.Denial)
			}
		})
	}
}

func TestParseRulesErrors(t *testing.T) {
	for _, tt := range []struct{ json, want string }{
		{`{"GET users": {}}`, "malformed route key"},
		{`{"GET /x": {"permisions": ["a"]}}`, `unknown field "permisions"`},
		{`{"GET /x": {"claims": [{"equals": true}]}}`, "exactly one of claim or path"},
		{`{"GET /x": {"claims": [{"claim": "a"}]}}`, "exactly one of equals or contains"},
		{`{"GET /x": {"anyScopes": ["a b"]}}`, `"a b"`},
		{`[1]`, "rules"},
	} {
		if _, err := ParseRules([]byte(tt.json)); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseRules(%s) = %v, want %q", tt.json, err, tt.want)
		}
	}
}

func TestHandleHTTP(t *testing.T) {
	testKeys()
	s := newJWKSServer(t, rsaJWK("a", rsaA))
	now := now0
	a, logs := newAuthorizer(t, s, &now)
	tok := sign(t, jwt.SigningMethodRS256, kid("a"), rsaA, s.claims())
	event := func(route, auth string) json.RawMessage {
		b, _ := json.Marshal(events.APIGatewayV2CustomAuthorizerV2Request{Version: "2.0", Type: "REQUEST", RouteKey: route,
			IdentitySource: []string{auth}, RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "req-1"}})
		return b
	}
	res, err := a.Handle(context.Background(), event("DELETE /users/{id}", "Bearer "+tok))
	if err != nil {
		t.Fatal(err)
	}
	ok := res.(events.APIGatewayV2CustomAuthorizerSimpleResponse)
	if !ok.IsAuthorized || ok.Context["sub"] != "auth0|alice" || ok.Context["permissions"] != "read:user delete:user" ||
		ok.Context["scope"] != "openid read:user" || ok.Context["rule"] != "DELETE /users/{id}" {
		t.Errorf("allowed response %+v", ok)
	}
	c := s.claims()
	c["email_verified"] = false
	res, _ = a.Handle(context.Background(), event("DELETE /users/{id}", "Bearer "+sign(t, jwt.SigningMethodRS256, kid("a"), rsaA, c)))
	if res.(events.APIGatewayV2CustomAuthorizerSimpleResponse).IsAuthorized {
		t.Error("unverified email allowed")
	}
	res, _ = a.Handle(context.Background(), event("GET /x", "Bearer not.a.jwt"))
	if res.(events.APIGatewayV2CustomAuthorizerSimpleResponse).IsAuthorized {
		t.Error("garbage token allowed")
	}
	out := logs.String()
	if strings.Contains(out, tok) || strings.Contains(out, "not.a.jwt") {
		t.Error("the log contains a raw token")
	}
	for _, want := range []string{`"msg":"allow"`, `"msg":"deny"`, `"code":"ERR_JWT_CLAIM_VALIDATION_FAILED"`, `"code":"ERR_JWS_INVALID"`, `"requestId":"req-1"`, `"rule":"DELETE /users/{id}"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
	if _, err := a.Handle(context.Background(), json.RawMessage(`{"type":"REQUEST","version":"1.0"}`)); err == nil || !strings.Contains(err.Error(), "unsupported event") {
		t.Errorf("payload 1.0 event: %v", err)
	}
}

func TestHandleRESTPolicyCoversTheAPI(t *testing.T) {
	testKeys()
	s := newJWKSServer(t, rsaJWK("a", rsaA))
	now := now0
	a, _ := newAuthorizer(t, s, &now)
	const prefix = "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod"
	rest := func(method, path, token string) events.APIGatewayCustomAuthorizerResponse {
		t.Helper()
		res, err := a.HandleREST(context.Background(), events.APIGatewayCustomAuthorizerRequest{Type: "TOKEN",
			AuthorizationToken: "Bearer " + token, MethodArn: prefix + "/" + method + path})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	c := s.claims()
	c["https://example.com/roles"] = []string{"ops"} // fails GET /admin's rule
	res := rest("DELETE", "/users/42", sign(t, jwt.SigningMethodRS256, kid("a"), rsaA, c))
	if res.PrincipalID != "auth0|alice" || res.Context["rule"] != "DELETE /users/{id}" || res.Context["code"] != nil {
		t.Errorf("response %+v", res)
	}
	st := res.PolicyDocument.Statement
	if len(st) != 2 || st[0].Effect != "Allow" || !slices.Equal(st[0].Resource, []string{prefix + "/*/*"}) || st[1].Effect != "Deny" {
		t.Fatalf("policy %+v", st)
	}
	for _, want := range []string{prefix + "/GET/admin", prefix + "/GET/ops", prefix + "/GET/tenant"} {
		if !slices.Contains(st[1].Resource, want) {
			t.Errorf("deny statement %v lacks %s: the cached policy would let this token into a route its rule refuses", st[1].Resource, want)
		}
	}
	if slices.Contains(st[1].Resource, prefix+"/DELETE/users/*") {
		t.Error("the route the token may use is denied")
	}

	expired := s.claims()
	expired["exp"] = now0.Unix() - 3600
	res = rest("GET", "/anything", sign(t, jwt.SigningMethodRS256, kid("a"), rsaA, expired))
	if res.PrincipalID != "anonymous" || res.Context["code"] != "ERR_JWT_EXPIRED" || res.Context["error"] != "Token has expired." {
		t.Errorf("expired token response %+v", res)
	}
	if st := res.PolicyDocument.Statement; len(st) != 1 || st[0].Effect != "Deny" || st[0].Resource[0] != prefix+"/*/*" {
		t.Errorf("invalid token policy %+v, want everything denied", st)
	}
	if _, err := a.HandleREST(context.Background(), events.APIGatewayCustomAuthorizerRequest{Type: "TOKEN", MethodArn: "nonsense"}); err == nil {
		t.Error("a malformed methodArn was accepted")
	}
}

func TestBearerToken(t *testing.T) {
	for in, want := range map[string]string{
		"Bearer abc": "abc", "bearer abc": "abc", "BEARER abc": "abc", "Bearer   abc ": "abc",
		"abc": "abc", " abc": "abc", "Basic abc": "Basic abc", "Bearer": "Bearer", "": "",
	} {
		if got := BearerToken(in); got != want {
			t.Errorf("BearerToken(%q) = %q, want %q", in, got, want)
		}
	}
}
