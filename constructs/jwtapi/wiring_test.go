package jwtapi_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"

	"github.com/jwtapi/jwtapi/authzspec"
	"github.com/jwtapi/jwtapi/constructs/jwtapi"
)

// TestEveryRouteKindIsWired is the security invariant over every kind of
// route, on HTTP and REST APIs: public, private with scopes, private
// without scopes, with rules, with the API's default scopes, and added
// after construction. A route is open (authorization NONE) only when it is
// declared public, and each private route reaches the authorizer its kind
// asks for, with its scopes.
func TestEveryRouteKindIsWired(t *testing.T) {
	stack := newStack()
	kinds := func() map[string]jwtapi.Route {
		return map[string]jwtapi.Route{
			"GET /public":    {Handler: "functions/public", Public: true},
			"GET /scoped":    {Handler: "functions/private", Scopes: []string{"read:a", "read:b"}},
			"GET /bare":      {Handler: "functions/private"},
			"DELETE /ruled":  {Handler: "functions/private", Rules: &authzspec.Rule{Permissions: []string{"delete:x", "delete:y"}}},
			"GET /{proxy+}":  {Handler: "functions/private"},
			"POST /defaults": {Handler: "functions/private"},
		}
	}
	base := func(defaults []string) jwtapi.ApiProps {
		return jwtapi.ApiProps{Auth0Domain: "example.us.auth0.com", Audiences: []string{"https://api.example.com"}, Routes: kinds(), DefaultScopes: defaults}
	}
	plain, err := jwtapi.NewHttpApi(stack, "Plain", &jwtapi.HttpApiProps{ApiProps: base(nil)})
	if err != nil {
		t.Fatal(err)
	}
	defaulted, err := jwtapi.NewHttpApi(stack, "Defaulted", &jwtapi.HttpApiProps{ApiProps: base([]string{"api:default"})})
	if err != nil {
		t.Fatal(err)
	}
	rest, err := jwtapi.NewRestApi(stack, "Rest", &jwtapi.RestApiProps{ApiProps: base([]string{"api:default"})})
	if err != nil {
		t.Fatal(err)
	}
	for _, add := range []func(string, jwtapi.Route) error{plain.AddRoute, defaulted.AddRoute, rest.AddRoute} {
		if err := add("GET /added", jwtapi.Route{Handler: "functions/private"}); err != nil {
			t.Fatal(err)
		}
		if err := add("GET /added-public", jwtapi.Route{Handler: "functions/public", Public: true}); err != nil {
			t.Fatal(err)
		}
		if err := add("GET /added-scoped", jwtapi.Route{Handler: "functions/private", Scopes: []string{"read:c"}}); err != nil {
			t.Fatal(err)
		}
	}
	tpl := *assertions.Template_FromStack(stack, nil).ToJSON()
	res := tpl["Resources"].(map[string]any)
	byType := func(typ string) map[string]map[string]any {
		out := map[string]map[string]any{}
		for id, r := range res {
			if m := r.(map[string]any); m["Type"] == typ {
				out[id] = m["Properties"].(map[string]any)
			}
		}
		return out
	}
	ref := func(v any) string {
		if m, ok := v.(map[string]any); ok {
			s, _ := m["Ref"].(string)
			return s
		}
		return ""
	}
	scopesOf := func(v any) string {
		var out []string
		for _, s := range asList(v) {
			out = append(out, s.(string))
		}
		return strings.Join(out, " ")
	}

	// HTTP APIs: route -> "AUTH scopes".
	authorizers := byType("AWS::ApiGatewayV2::Authorizer")
	apis := map[string]string{} // API logical id -> its name (the construct id)
	for id, p := range byType("AWS::ApiGatewayV2::Api") {
		apis[id] = p["Name"].(string)
	}
	got := map[string]string{}
	for _, p := range byType("AWS::ApiGatewayV2::Route") {
		api := apis[ref(p["ApiId"])]
		auth := p["AuthorizationType"].(string)
		if auth != "NONE" {
			a, ok := authorizers[ref(p["AuthorizerId"])]
			if !ok {
				t.Errorf("%s %s: %s without an authorizer of the template", api, p["RouteKey"], auth)
				continue
			}
			if ref(a["ApiId"]) == "" || apis[ref(a["ApiId"])] != api {
				t.Errorf("%s %s: authorizer of another API", api, p["RouteKey"])
			}
			auth += "/" + a["AuthorizerType"].(string)
		}
		got[fmt.Sprintf("%s %s", api, p["RouteKey"])] = strings.TrimSpace(auth + " " + scopesOf(p["AuthorizationScopes"]))
	}
	wantHTTP := map[string]string{
		"GET /public": "NONE", "GET /added-public": "NONE",
		"GET /scoped": "JWT/JWT read:a read:b", "GET /added-scoped": "JWT/JWT read:c",
		"DELETE /ruled": "CUSTOM/REQUEST",
	}
	for _, api := range []string{"Plain", "Defaulted"} {
		for key, w := range wantHTTP {
			if g := got[api+" "+key]; g != w {
				t.Errorf("%s %s: %q, want %q", api, key, g, w)
			}
		}
		def := "JWT/JWT"
		if api == "Defaulted" {
			def = "JWT/JWT api:default"
		}
		for _, key := range []string{"GET /bare", "GET /{proxy+}", "POST /defaults", "GET /added"} {
			if g := got[api+" "+key]; g != def {
				t.Errorf("%s %s: %q, want %q", api, key, g, def)
			}
		}
	}
	if n := len(got); n != 2*9 {
		t.Errorf("%d HTTP routes in the template, want 18", n)
	}

	// REST API: every method but the public ones goes through the TOKEN
	// authorizer, and the authorizer has each private route's rule.
	var tokenAuth string
	for id, a := range byType("AWS::ApiGateway::Authorizer") {
		if a["Type"] == "TOKEN" {
			tokenAuth = id
		}
	}
	var rules authzspec.Rules
	lambdaAuthorizers := 0
	for _, f := range byType("AWS::Lambda::Function") {
		env, ok := f["Environment"].(map[string]any)
		if !ok {
			continue
		}
		vars := env["Variables"].(map[string]any)
		if r, ok := vars["AUTHZ_RULES"].(string); ok && strings.Contains(r, "read:c") {
			json.Unmarshal([]byte(r), &rules)
		}
		if vars["JWT_ISSUER"] == nil {
			continue
		}
		// An Auth0 issuer's Lambda authorizer requires aud (client_id is a
		// Cognito stand-in) and allows RS256 only (no HMAC door).
		lambdaAuthorizers++
		if _, ok := vars["JWT_CLIENT_ID_AUDIENCE"]; ok {
			t.Errorf("the Auth0 issuer's Lambda authorizer accepts client_id as the audience: %v", vars)
		}
		if algs, ok := vars["JWT_ALGORITHMS"]; ok && algs != "RS256" {
			t.Errorf("the Lambda authorizer allows %v, want RS256 only by default", algs)
		}
	}
	if lambdaAuthorizers == 0 {
		t.Error("no Lambda authorizer function in the template")
	}
	methods := 0
	for _, m := range byType("AWS::ApiGateway::Method") {
		methods++
		public := m["AuthorizationType"] == "NONE"
		if public != (m["HttpMethod"] == "GET" && strings.Contains(fmt.Sprint(m["ResourceId"]), "public")) {
			t.Errorf("REST method %v %v: authorization %v", m["HttpMethod"], m["ResourceId"], m["AuthorizationType"])
		}
		if !public && (m["AuthorizationType"] != "CUSTOM" || ref(m["AuthorizerId"]) != tokenAuth) {
			t.Errorf("REST method %v %v is private without the TOKEN authorizer: %v", m["HttpMethod"], m["ResourceId"], m)
		}
	}
	if methods != 9 {
		t.Errorf("%d REST methods, want 9", methods)
	}
	wantRules := map[string]string{
		"GET /scoped": "read:a read:b", "GET /added-scoped": "read:c", "GET /bare": "api:default", "GET /{proxy+}": "api:default",
		"POST /defaults": "api:default", "GET /added": "api:default",
	}
	for key, scopes := range wantRules {
		if g := strings.Join(rules[key].AnyScopes, " "); g != scopes {
			t.Errorf("REST rule of %s: any of %q, want %q", key, g, scopes)
		}
	}
	if r := rules["DELETE /ruled"]; !slices.Equal(r.Permissions, []string{"delete:x", "delete:y"}) {
		t.Errorf("REST rule of DELETE /ruled: %+v", r)
	}
	for _, public := range []string{"GET /public", "GET /added-public"} {
		if _, ok := rules[public]; ok {
			t.Errorf("the public route %s has a rule", public)
		}
	}
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}
