package claims_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/jwtapi/jwtapi/functions/claims"
	"github.com/jwtapi/jwtapi/functions/internal/fixtures"
)

func TestFromV2User(t *testing.T) {
	c, err := claims.FromV2(fixtures.V2(t, "apigw-v2-jwt-user.json"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Subject != "auth0|655f1b2c9d1e" || c.Issuer != "https://example.us.auth0.com/" || c.ClientID != "Xo1bDp8sVw4kKmQ2" {
		t.Errorf("sub %q iss %q client %q", c.Subject, c.Issuer, c.ClientID)
	}
	if !slices.Equal(c.Audiences, []string{"https://api.example.com", "https://example.us.auth0.com/userinfo"}) {
		t.Errorf("Audiences = %q", c.Audiences)
	}
	if !slices.Equal(c.Scopes, []string{"openid", "profile", "read:user", "write:user"}) {
		t.Errorf("Scopes = %q", c.Scopes)
	}
	if !slices.Equal(c.Permissions, []string{"read:user", "write:user"}) {
		t.Errorf("Permissions = %q", c.Permissions)
	}
	if want := time.Unix(1795511702, 0).UTC(); !c.ExpiresAt.Equal(want) {
		t.Errorf("ExpiresAt = %v, want %v", c.ExpiresAt, want)
	}
	if v, ok := c.Bool("email_verified"); !ok || !v {
		t.Errorf("email_verified = %v, %v", v, ok)
	}
	meta, ok := c.Map("https://example.com/app_metadata")
	if !ok || meta["plan"] != "pro" || meta["seats"] != "5" || meta["tags"] != "[a b]" {
		t.Errorf("app_metadata = %q, %v", meta, ok)
	}
}

func TestFromV2Machine(t *testing.T) {
	c, err := claims.FromV2(fixtures.V2(t, "apigw-v2-jwt-machine.json"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Subject != "Xo1bDp8sVw4kKmQ2@clients" || !slices.Equal(c.Audiences, []string{"https://api.example.com"}) {
		t.Errorf("sub %q aud %q", c.Subject, c.Audiences)
	}
	if err := c.RequireAnyScope("write:user", "read:user"); err != nil {
		t.Errorf("RequireAnyScope: %v", err)
	}
}

func TestFromV1(t *testing.T) {
	c, err := claims.FromV1(fixtures.V1(t, "apigw-v1-jwt-user.json"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Subject != "auth0|655f1b2c9d1e" || !c.HasPermission("write:user") {
		t.Errorf("sub %q permissions %q", c.Subject, c.Permissions)
	}
}

func TestNoClaimsOnPublicRoute(t *testing.T) {
	_, err := claims.FromV2(fixtures.V2(t, "apigw-v2-no-authorizer.json"))
	if !errors.Is(err, claims.ErrNoClaims) {
		t.Fatalf("err = %v, want ErrNoClaims", err)
	}
	if r := claims.Response(err); r.StatusCode != 401 {
		t.Errorf("Response(ErrNoClaims).StatusCode = %d, want 401", r.StatusCode)
	}
}

func TestScpWinsOverScope(t *testing.T) {
	c := claims.Parse(map[string]string{"scp": "[a b]", "scope": "c"})
	if !slices.Equal(c.Scopes, []string{"a", "b"}) {
		t.Errorf("Scopes = %q, want [a b] from scp", c.Scopes)
	}
}

func TestRequirements(t *testing.T) {
	c := claims.Parse(map[string]string{
		"scope": "read:user", "permissions": "[read:user delete:user]", "email_verified": "false",
		"https://example.com/roles": "[admin editor]",
	})
	tests := []struct {
		name string
		err  error
		ok   bool
	}{
		{"any scope, one matches", c.RequireAnyScope("write:user", "read:user"), true},
		{"any scope, none", c.RequireAnyScope("write:user"), false},
		{"all scopes, one missing", c.RequireAllScopes("read:user", "write:user"), false},
		{"all scopes, all there", c.RequireAllScopes("read:user"), true},
		{"permissions present", c.RequirePermissions("delete:user"), true},
		{"permission missing", c.RequirePermissions("delete:user", "write:user"), false},
		{"claim value wrong", c.RequireClaim("email_verified", "true"), false},
		{"claim missing", c.RequireClaim("tenant", "acme"), false},
		{"array claim contains", c.RequireClaim("https://example.com/roles", "admin"), true},
		{"array claim lacks", c.RequireClaim("https://example.com/roles", "owner"), false},
		{"case sensitive", c.RequireAnyScope("READ:USER"), false},
	}
	for _, tt := range tests {
		if (tt.err == nil) != tt.ok {
			t.Errorf("%s: err = %v, want ok=%v", tt.name, tt.err, tt.ok)
			continue
		}
		if tt.err == nil {
			continue
		}
		if !errors.Is(tt.err, claims.ErrForbidden) {
			t.Errorf("%s: %v does not wrap ErrForbidden", tt.name, tt.err)
		}
		r := claims.Response(tt.err)
		var body map[string]string
		if err := json.Unmarshal([]byte(r.Body), &body); err != nil || r.StatusCode != 403 || body["message"] != "Forbidden" || body["error_description"] == "" {
			t.Errorf("%s: response %d %s, want a JSON 403 saying why", tt.name, r.StatusCode, r.Body)
		}
		if r.Headers["content-type"] != "application/json" {
			t.Errorf("%s: content-type %q", tt.name, r.Headers["content-type"])
		}
	}
}

func TestMarshalJSONParsesValues(t *testing.T) {
	c, err := claims.FromV2(fixtures.V2(t, "apigw-v2-jwt-user.json"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Subject     string         `json:"subject"`
		Scopes      []string       `json:"scopes"`
		Permissions []string       `json:"permissions"`
		ExpiresAt   time.Time      `json:"expiresAt"`
		Claims      map[string]any `json:"claims"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got.Subject != "auth0|655f1b2c9d1e" || len(got.Scopes) != 4 || len(got.Permissions) != 2 || got.ExpiresAt.Unix() != 1795511702 {
		t.Errorf("got %+v", got)
	}
	if got.Claims["email_verified"] != true || got.Claims["exp"] != float64(1795511702) {
		t.Errorf("claims not parsed back to JSON types: %v", got.Claims)
	}
	meta, _ := got.Claims["https://example.com/app_metadata"].(map[string]any)
	if meta["seats"] != float64(5) {
		t.Errorf("nested map not parsed: %v", got.Claims["https://example.com/app_metadata"])
	}
}

// TestLambdaAuthorizerContext: the Go Lambda authorizer's context is read in
// payload 2.0 (authorizer.lambda) and 1.0 (REST: directly under
// authorizer); a context without sub is no verified caller.
func TestLambdaAuthorizerContext(t *testing.T) {
	ctx := map[string]any{"sub": "auth0|ada", "scope": "read:user write:user", "permissions": "delete:user", "rule": "DELETE /users/{id}"}
	v2 := fixtures.V2(t, "apigw-v2-no-authorizer.json")
	v2.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{Lambda: ctx}
	v1 := fixtures.V1(t, "apigw-v1-jwt-user.json")
	v1.RequestContext.Authorizer = map[string]any{"principalId": "auth0|ada", "integrationLatency": 0}
	for k, v := range ctx {
		v1.RequestContext.Authorizer[k] = v
	}
	for name, read := range map[string]func() (*claims.Claims, error){
		"v2": func() (*claims.Claims, error) { return claims.FromV2(v2) },
		"v1": func() (*claims.Claims, error) { return claims.FromV1(v1) },
	} {
		c, err := read()
		if err != nil || c.Subject != "auth0|ada" || !c.HasScope("write:user") || !c.HasPermission("delete:user") {
			t.Errorf("%s: %+v %v", name, c, err)
		}
	}
	delete(ctx, "sub")
	delete(v1.RequestContext.Authorizer, "sub")
	if c, err := claims.FromV2(v2); !errors.Is(err, claims.ErrNoClaims) {
		t.Errorf("v2 context without sub: %+v %v, want ErrNoClaims", c, err)
	}
	if c, err := claims.FromV1(v1); !errors.Is(err, claims.ErrNoClaims) {
		t.Errorf("v1 context without sub: %+v %v, want ErrNoClaims", c, err)
	}
	v2.RequestContext.Authorizer.Lambda = map[string]any{"sub": "", "scope": "admin"}
	if _, err := claims.FromV2(v2); !errors.Is(err, claims.ErrNoClaims) {
		t.Errorf("empty sub: %v, want ErrNoClaims", err)
	}
}

// TestEmptyAndOddClaims: an authorizer section without claims is no
// caller; claims that are not strings are read as their text, nulls not at
// all.
func TestEmptyAndOddClaims(t *testing.T) {
	v2 := fixtures.V2(t, "apigw-v2-no-authorizer.json")
	v2.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: map[string]string{}}}
	if _, err := claims.FromV2(v2); !errors.Is(err, claims.ErrNoClaims) {
		t.Errorf("v2 with empty JWT claims: %v, want ErrNoClaims", err)
	}
	v1 := fixtures.V1(t, "apigw-v1-jwt-user.json")
	v1.RequestContext.Authorizer = map[string]any{"claims": map[string]any{}}
	if _, err := claims.FromV1(v1); !errors.Is(err, claims.ErrNoClaims) {
		t.Errorf("v1 with empty claims: %v, want ErrNoClaims", err)
	}
	v1.RequestContext.Authorizer = map[string]any{"claims": map[string]any{"sub": "x", "seats": 5.0, "exp": "1795511702", "gone": nil}}
	c, err := claims.FromV1(v1)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := c.Get("seats"); !ok || v != "5" {
		t.Errorf("a numeric claim: %q %v, want its text", v, ok)
	}
	if _, ok := c.Get("gone"); ok {
		t.Error("a null claim is present")
	}
	if n, ok := c.Int("exp"); !ok || n != 1795511702 {
		t.Errorf("Int(exp) = %d %v", n, ok)
	}
	if _, ok := c.Int("sub"); ok {
		t.Error("Int of a non-number is ok")
	}
}

// TestResponseV1 answers payload 1.0 handlers (REST APIs) as Response
// answers payload 2.0 ones: same status, body and content type.
func TestResponseV1(t *testing.T) {
	c := claims.Parse(map[string]string{"sub": "auth0|x", "scope": "read:user"})
	for _, err := range []error{c.RequireAnyScope("write:user"), claims.ErrNoClaims, errors.New("boom")} {
		v1, v2 := claims.ResponseV1(err), claims.Response(err)
		if v1.StatusCode != v2.StatusCode || v1.Body != v2.Body || v1.Headers["content-type"] != "application/json" {
			t.Errorf("%v: ResponseV1 %d %s %v, Response %d %s", err, v1.StatusCode, v1.Body, v1.Headers, v2.StatusCode, v2.Body)
		}
	}
	if r := claims.ResponseV1(c.RequireAnyScope("write:user")); r.StatusCode != 403 || !strings.Contains(r.Body, "write:user") {
		t.Errorf("a failed requirement: %d %s, want a 403 naming the scope", r.StatusCode, r.Body)
	}
	if r := claims.ResponseV1(claims.ErrNoClaims); r.StatusCode != 401 {
		t.Errorf("no claims: %d, want 401", r.StatusCode)
	}
}

// TestRequireClaimIsExact: a claim matches only whole: never a substring,
// prefix or suffix of a string claim, nor of an element of an array claim.
func TestRequireClaimIsExact(t *testing.T) {
	c := claims.Parse(map[string]string{
		"role": "administrator", "tier": "admin-x", "org": "xadmin",
		"groups": "[admins]", "teams": "[superadmin root]", "roles": "[admin ops]", "one": "[admin]", "flag": "true",
	})
	for _, tt := range []struct {
		claim, want string
		ok          bool
	}{
		{"role", "admin", false}, {"tier", "admin", false}, {"org", "admin", false},
		{"groups", "admin", false}, {"teams", "admin", false}, {"teams", "[superadmin", false},
		{"roles", "admin", true}, {"roles", "ops", true}, {"one", "admin", true},
		{"role", "administrator", true}, {"flag", "true", true}, {"flag", "tru", false},
		{"role", "Administrator", false}, {"roles", "[admin ops]", true},
	} {
		err := c.RequireClaim(tt.claim, tt.want)
		if (err == nil) != tt.ok {
			t.Errorf("RequireClaim(%q, %q) on %q: %v, want ok=%v", tt.claim, tt.want, c.Raw()[tt.claim], err, tt.ok)
		}
	}
}

// TestFromV1RestJWTClaims: a REST API's JWT authorizer hands over each
// claim with its JSON type; the claims read the same as text claims do,
// and arrays keep elements with spaces.
func TestFromV1RestJWTClaims(t *testing.T) {
	var authorizer map[string]any
	if err := json.Unmarshal([]byte(`{"claims": {"sub": "auth0|ada", "iss": "https://x.us.auth0.com/", "aud": ["https://api", "https://x.us.auth0.com/userinfo"],
		"exp": 1718722804, "iat": 1718719204, "scope": "read:orders write:orders", "permissions": ["delete:orders"],
		"email_verified": true, "version": "42", "roles": ["user", "team lead"], "address": {"city": "Seattle", "floor": 3}, "gone": null}}`), &authorizer); err != nil {
		t.Fatal(err)
	}
	c, err := claims.FromV1(events.APIGatewayProxyRequest{RequestContext: events.APIGatewayProxyRequestContext{Authorizer: authorizer}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Subject != "auth0|ada" || c.ExpiresAt.Unix() != 1718722804 || !slices.Equal(c.Scopes, []string{"read:orders", "write:orders"}) ||
		!slices.Equal(c.Permissions, []string{"delete:orders"}) || !slices.Equal(c.Audiences, []string{"https://api", "https://x.us.auth0.com/userinfo"}) {
		t.Errorf("claims %+v", c)
	}
	if v, ok := c.Bool("email_verified"); !v || !ok {
		t.Errorf("email_verified: %v %v", v, ok)
	}
	if roles := c.List("roles"); !slices.Equal(roles, []string{"user", "team lead"}) {
		t.Errorf("roles %q, want the element with a space kept whole", roles)
	}
	if m, ok := c.Map("address"); !ok || m["city"] != "Seattle" || m["floor"] != "3" {
		t.Errorf("address %v %v", m, ok)
	}
	if v, _ := c.Get("version"); v != "42" {
		t.Errorf("version %q", v)
	}
	if _, ok := c.Get("gone"); ok {
		t.Error("a null claim is present")
	}
	if err := c.RequireClaim("roles", "team lead"); err != nil {
		t.Errorf("RequireClaim on an array element with a space: %v", err)
	}
	b, _ := json.Marshal(c)
	if !strings.Contains(string(b), `"version":"42"`) || !strings.Contains(string(b), `"exp":1718722804`) || !strings.Contains(string(b), `"roles":["user","team lead"]`) {
		t.Errorf("MarshalJSON keeps the JSON types: %s", b)
	}
}
