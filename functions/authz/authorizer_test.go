package authz

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/golang-jwt/jwt/v5"

	"github.com/jwtapi/jwtapi/authzspec"
	"github.com/jwtapi/jwtapi/internal/testutil"
	"github.com/jwtapi/jwtapi/jwtverify"
)

var now0 = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

const api = "https://api.test"

const rulesJSON = `{
  "DELETE /users/{id}": {"permissions": ["delete:user"], "claims": [{"claim": "email_verified", "equals": true}]},
  "POST /billing":      {"permissions": ["read:billing", "write:billing"]},
  "GET /admin":         {"claims": [{"claim": "https://example.com/roles", "contains": "admin"}]},
  "GET /ops":           {"anyScopes": ["ops", "root"]},
  "GET /both":          {"allScopes": ["openid", "read:user"]},
  "GET /verified":      {"claims": [{"path": ["st-ev", "v"], "equals": true}]},
  "GET /tenant":        {"claims": [{"claim": "org_id", "equals": "acme"}]},
  "GET /seats":         {"claims": [{"claim": "seats", "equals": 5}]}
}`

func claimsFor(iss *testutil.Issuer) jwt.MapClaims {
	return jwt.MapClaims{"iss": iss.URL(), "aud": api, "sub": "auth0|alice", "iat": now0.Unix() - 60,
		"exp": now0.Add(time.Hour).Unix(), "scope": "openid read:user", "permissions": []string{"read:user", "delete:user"},
		"email_verified": true, "https://example.com/roles": []string{"admin", "ops"},
		"st-ev": map[string]any{"v": true, "t": now0.Unix() - 3600}}
}

func sign(t testing.TB, c jwt.MapClaims) string {
	t.Helper()
	return testutil.SignJWT(t, jwt.SigningMethodRS256, map[string]any{"kid": "a"}, testutil.Keys().A, c)
}

func newAuthorizer(t testing.TB, iss *testutil.Issuer, now *time.Time) (*Authorizer, *strings.Builder) {
	t.Helper()
	rules, err := authzspec.ParseRules([]byte(rulesJSON))
	if err != nil {
		t.Fatal(err)
	}
	o := VerifierOptions(authzspec.Config{Issuer: iss.URL(), Audiences: []string{api}, Leeway: authzspec.DefaultLeeway})
	o.Now = func() time.Time { return *now }
	v, err := jwtverify.New(o)
	if err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	return NewAuthorizer(v, rules, &logs), &logs
}

func TestRules(t *testing.T) {
	iss := testutil.NewIssuer(t, testutil.RSAJWK("a", testutil.Keys().A))
	now := now0
	a, _ := newAuthorizer(t, iss, &now)
	with := func(edit func(c jwt.MapClaims)) string {
		c := claimsFor(iss)
		edit(c)
		return sign(t, c)
	}
	full := with(func(jwt.MapClaims) {})
	tests := []struct {
		name, route, token string
		allowed            bool
	}{
		{"route without a rule needs only a valid token", "GET /anything", with(func(c jwt.MapClaims) { delete(c, "permissions"); delete(c, "scope") }), true},
		{"permission and verified email", "DELETE /users/{id}", full, true},
		{"permission missing", "DELETE /users/{id}", with(func(c jwt.MapClaims) { c["permissions"] = []string{"read:user"} }), false},
		{"permissions: all of them", "POST /billing", with(func(c jwt.MapClaims) { c["permissions"] = []string{"write:billing", "read:billing"} }), true},
		{"permissions: one of two is not enough", "POST /billing", with(func(c jwt.MapClaims) { c["permissions"] = []string{"read:billing"} }), false},
		{"permissions: the other one of two is not enough", "POST /billing", with(func(c jwt.MapClaims) { c["permissions"] = []string{"write:billing"} }), false},
		{"email not verified", "DELETE /users/{id}", with(func(c jwt.MapClaims) { c["email_verified"] = false }), false},
		{"email_verified as a string is not true", "DELETE /users/{id}", with(func(c jwt.MapClaims) { c["email_verified"] = "true" }), false},
		{"email_verified missing", "DELETE /users/{id}", with(func(c jwt.MapClaims) { delete(c, "email_verified") }), false},
		{"role contains admin", "GET /admin", full, true},
		{"role list without admin", "GET /admin", with(func(c jwt.MapClaims) { c["https://example.com/roles"] = []string{"ops"} }), false},
		{"superadmin does not contain admin", "GET /admin", with(func(c jwt.MapClaims) { c["https://example.com/roles"] = []string{"superadmin", "admins"} }), false},
		{"role as a string is not a list", "GET /admin", with(func(c jwt.MapClaims) { c["https://example.com/roles"] = "admin" }), false},
		{"any of the scopes: none", "GET /ops", full, false},
		{"any of the scopes: the first", "GET /ops", with(func(c jwt.MapClaims) { c["scope"] = "ops" }), true},
		{"any of the scopes: the second", "GET /ops", with(func(c jwt.MapClaims) { c["scope"] = "root" }), true},
		{"scp wins over scope", "GET /ops", with(func(c jwt.MapClaims) { c["scope"] = "root"; c["scp"] = []string{"read:user"} }), false},
		{"all of the scopes", "GET /both", full, true},
		{"all of the scopes: one missing", "GET /both", with(func(c jwt.MapClaims) { c["scope"] = "read:user" }), false},
		{"all of the scopes: the other missing", "GET /both", with(func(c jwt.MapClaims) { c["scope"] = "openid" }), false},
		{"SuperTokens st-ev.v", "GET /verified", full, true},
		{"SuperTokens st-ev.v false", "GET /verified", with(func(c jwt.MapClaims) { c["st-ev"] = map[string]any{"v": false} }), false},
		{"SuperTokens st-ev not an object", "GET /verified", with(func(c jwt.MapClaims) { c["st-ev"] = true }), false},
		{"tenant equals", "GET /tenant", with(func(c jwt.MapClaims) { c["org_id"] = "acme" }), true},
		{"other tenant", "GET /tenant", with(func(c jwt.MapClaims) { c["org_id"] = "evil" }), false},
		{"tenant that starts like ours", "GET /tenant", with(func(c jwt.MapClaims) { c["org_id"] = "acme-evil" }), false},
		{"number equals", "GET /seats", with(func(c jwt.MapClaims) { c["seats"] = 5 }), true},
		{"number equals 5.0", "GET /seats", with(func(c jwt.MapClaims) { c["seats"] = 5.0 }), true},
		{"other number", "GET /seats", with(func(c jwt.MapClaims) { c["seats"] = 6 }), false},
		{"number as a string", "GET /seats", with(func(c jwt.MapClaims) { c["seats"] = "5" }), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := a.Decide(context.Background(), tt.token, tt.route)
			if d.Allowed() != tt.allowed {
				t.Fatalf("allowed = %v (%v), want %v", d.Allowed(), d.Denial, tt.allowed)
			}
			if !tt.allowed && (!d.Denial.Forbidden || d.Denial.Code != jwtverify.CodeClaimValidation || d.Denial.Rule != tt.route) {
				t.Errorf("denial %+v, want a 403-style claim validation failure naming the rule", d.Denial)
			}
			if !tt.allowed && !errors.Is(d.Denial, jwtverify.ErrRule) {
				t.Errorf("denial %v does not wrap ErrRule", d.Denial)
			}
		})
	}
}

func TestInvalidTokensAreDeniedWithTheirCode(t *testing.T) {
	iss := testutil.NewIssuer(t, testutil.RSAJWK("a", testutil.Keys().A))
	now := now0
	a, _ := newAuthorizer(t, iss, &now)
	expired := claimsFor(iss)
	expired["exp"] = now0.Unix() - 60
	for _, tt := range []struct {
		token string
		code  jwtverify.Code
	}{
		{"", jwtverify.CodeJWTInvalid},
		{"not.a.jwt", jwtverify.CodeJWSInvalid},
		{sign(t, expired), jwtverify.CodeExpired},
	} {
		d := a.Decide(context.Background(), tt.token, "GET /anything")
		if d.Allowed() || d.Denial.Code != tt.code || d.Denial.Forbidden || d.Denial.Message == "" {
			t.Errorf("token %.20q: %+v, want a 401-style denial with code %s", tt.token, d.Denial, tt.code)
		}
	}
	if d := AsDenial(errors.New("boom")); d.Code != jwtverify.CodeAuthError || d.Message == "" || d.Detail() != "boom" {
		t.Errorf("AsDenial = %+v", d)
	}
}

func TestHandleHTTP(t *testing.T) {
	iss := testutil.NewIssuer(t, testutil.RSAJWK("a", testutil.Keys().A))
	now := now0
	a, logs := newAuthorizer(t, iss, &now)
	tok := sign(t, claimsFor(iss))
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
	c := claimsFor(iss)
	c["email_verified"] = false
	res, _ = a.Handle(context.Background(), event("DELETE /users/{id}", "Bearer "+sign(t, c)))
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
	if _, err := a.Handle(context.Background(), json.RawMessage(`nope`)); err == nil {
		t.Error("a non-JSON event was answered")
	}
	if !strings.Contains(out, `"detail":`) {
		t.Errorf("the deny log has no detail for the developer:\n%s", out)
	}
	// An event without identity source (API Gateway never sends one, but a
	// misconfigured authorizer might get it) is denied, not a crash.
	noSource, _ := json.Marshal(events.APIGatewayV2CustomAuthorizerV2Request{Version: "2.0", Type: "REQUEST", RouteKey: "GET /x"})
	if res, err := a.Handle(context.Background(), noSource); err != nil || res.(events.APIGatewayV2CustomAuthorizerSimpleResponse).IsAuthorized {
		t.Errorf("no identity source: %+v %v", res, err)
	}
}

func TestHandleRESTPolicyCoversTheAPI(t *testing.T) {
	iss := testutil.NewIssuer(t, testutil.RSAJWK("a", testutil.Keys().A))
	now := now0
	a, _ := newAuthorizer(t, iss, &now)
	const prefix = "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod"
	rest := func(method, path, token string) events.APIGatewayCustomAuthorizerResponse {
		t.Helper()
		raw, _ := json.Marshal(events.APIGatewayCustomAuthorizerRequest{Type: "TOKEN", AuthorizationToken: "Bearer " + token, MethodArn: prefix + "/" + method + path})
		res, err := a.Handle(context.Background(), raw)
		if err != nil {
			t.Fatal(err)
		}
		return res.(events.APIGatewayCustomAuthorizerResponse)
	}
	c := claimsFor(iss)
	c["https://example.com/roles"] = []string{"ops"} // fails GET /admin's rule
	res := rest("DELETE", "/users/42", sign(t, c))
	if res.PrincipalID != "auth0|alice" || res.Context["rule"] != "DELETE /users/{id}" || res.Context["code"] != nil {
		t.Errorf("response %+v", res)
	}
	st := res.PolicyDocument.Statement
	if len(st) != 2 || st[0].Effect != "Allow" || !slices.Equal(st[0].Resource, []string{prefix + "/*/*"}) || st[1].Effect != "Deny" {
		t.Fatalf("policy %+v", st)
	}
	for _, want := range []string{prefix + "/GET/admin", prefix + "/GET/ops", prefix + "/GET/tenant", prefix + "/POST/billing"} {
		if !slices.Contains(st[1].Resource, want) {
			t.Errorf("deny statement %v lacks %s: the cached policy would let this token into a route its rule refuses", st[1].Resource, want)
		}
	}
	if slices.Contains(st[1].Resource, prefix+"/DELETE/users/*") {
		t.Error("the route the token may use is denied")
	}

	expired := claimsFor(iss)
	expired["exp"] = now0.Unix() - 3600
	res = rest("GET", "/anything", sign(t, expired))
	if res.PrincipalID != "anonymous" || res.Context["code"] != "ERR_JWT_EXPIRED" || res.Context["error"] != "Token has expired." {
		t.Errorf("expired token response %+v", res)
	}
	if st := res.PolicyDocument.Statement; len(st) != 1 || st[0].Effect != "Deny" || st[0].Resource[0] != prefix+"/*/*" {
		t.Errorf("invalid token policy %+v, want everything denied", st)
	}
	// A token every rule lets through gets a policy with one Allow only.
	allowed := claimsFor(iss)
	allowed["scope"] = "openid read:user ops"
	allowed["permissions"] = []string{"delete:user", "read:billing", "write:billing"}
	allowed["org_id"], allowed["seats"] = "acme", 5
	if st := rest("GET", "/ops", sign(t, allowed)).PolicyDocument.Statement; len(st) != 1 || st[0].Effect != "Allow" {
		t.Errorf("policy for a token every rule allows: %+v", st)
	}
	for _, arn := range []string{"nonsense", "arn:aws:execute-api:eu-west-1:123456789012:abc123", "arn:x/prod",
		"xyz:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/x", "arn:aws:execute-api:eu-west-1:abc123/prod/GET/x"} {
		if _, err := a.HandleREST(context.Background(), events.APIGatewayCustomAuthorizerRequest{Type: "TOKEN", MethodArn: arn}); err == nil {
			t.Errorf("the malformed methodArn %q was accepted", arn)
		}
	}
}

// TestNewFromConfig: the authorizer a configuration describes, HS256 with
// its shared secret included; a bad configuration is an ErrConfig.
func TestNewFromConfig(t *testing.T) {
	secret := strings.Repeat("s", 32)
	a, err := New(authzspec.Config{Issuer: "https://issuer.example/", Audiences: []string{api}, Algorithms: []string{"HS256"}, HMACSecret: secret,
		Leeway: time.Hour * 24 * 365 * 10}, io.Discard)
	if err == nil {
		t.Fatal("a ten-year leeway was accepted")
	}
	a, err = New(authzspec.Config{Issuer: "https://issuer.example/", Audiences: []string{api}, Algorithms: []string{"HS256"}, HMACSecret: secret}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	tok := testutil.SignJWT(t, jwt.SigningMethodHS256, nil, []byte(secret), jwt.MapClaims{"iss": "https://issuer.example/", "aud": api, "sub": "hs",
		"exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix()})
	if d := a.Decide(context.Background(), tok, "GET /x"); !d.Allowed() {
		t.Errorf("HS256 token with the configured secret: %v", d.Denial)
	}
	if _, err := New(authzspec.Config{Issuer: "http://issuer.example/", Audiences: []string{api}}, io.Discard); !errors.Is(err, authzspec.ErrConfig) {
		t.Errorf("http issuer: %v, want ErrConfig", err)
	}
}

// TestClientIDIsNotAnAudienceByDefault: the authorizer requires aud unless
// its configuration says client_id may stand in for it (Cognito access
// tokens, as API Gateway's JWT authorizer accepts them).
func TestClientIDIsNotAnAudienceByDefault(t *testing.T) {
	iss := testutil.NewIssuer(t, testutil.RSAJWK("a", testutil.Keys().A))
	c := claimsFor(iss)
	delete(c, "aud")
	c["client_id"] = api
	tok := sign(t, c)
	for _, clientID := range []bool{false, true} {
		cfg := authzspec.Config{Issuer: iss.URL(), Audiences: []string{api}, ClientIDAudience: clientID}
		o := VerifierOptions(cfg)
		now := now0
		o.Now = func() time.Time { return now }
		v, err := jwtverify.New(o)
		if err != nil {
			t.Fatal(err)
		}
		d := NewAuthorizer(v, nil, io.Discard).Decide(context.Background(), tok, "GET /x")
		if d.Allowed() != clientID {
			t.Errorf("ClientIDAudience %v: a token with client_id %s and no aud allowed=%v (%v)", clientID, api, d.Allowed(), d.Denial)
		}
		if !clientID && (d.Denial == nil || d.Denial.Code != jwtverify.CodeClaimValidation) {
			t.Errorf("default: denial %v, want %s for the audience", d.Denial, jwtverify.CodeClaimValidation)
		}
	}
	if VerifierOptions(authzspec.Config{Issuer: iss.URL(), Audiences: []string{api}}).ClientIDAudience {
		t.Error("the default configuration accepts client_id as the audience")
	}
}

// TestEveryDecisionLogLineHasARequestID: a REST TOKEN event carries no API
// Gateway request id; the line then carries the Lambda invocation's id.
func TestEveryDecisionLogLineHasARequestID(t *testing.T) {
	iss := testutil.NewIssuer(t, testutil.RSAJWK("a", testutil.Keys().A))
	now := now0
	a, logs := newAuthorizer(t, iss, &now)
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"})
	arn := "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/private"
	if _, err := a.HandleREST(ctx, events.APIGatewayCustomAuthorizerRequest{Type: "TOKEN", AuthorizationToken: "Bearer " + sign(t, claimsFor(iss)), MethodArn: arn}); err != nil {
		t.Fatal(err)
	}
	a.HandleHTTP(ctx, events.APIGatewayV2CustomAuthorizerV2Request{RouteKey: "GET /x", IdentitySource: []string{"Bearer x"},
		RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "Ov2GmhKSjoEEMxA="}})
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"requestId":"c6af9ac6-7b61-11e6-9a41-93e8deadbeef"`) || !strings.Contains(lines[1], `"requestId":"Ov2GmhKSjoEEMxA="`) {
		t.Errorf("decision log lines:\n%s\nwant the Lambda request id for TOKEN and API Gateway's for REQUEST", logs.String())
	}
}
