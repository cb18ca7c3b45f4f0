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
	plainRoutes := base(nil)
	plainRoutes.Routes["GET /any-rule"] = jwtapi.Route{Handler: "functions/private", Rules: &authzspec.Rule{AnyScopes: []string{"x:read"}}}
	plainRoutes.Routes["GET /one-all-rule"] = jwtapi.Route{Handler: "functions/private", Rules: &authzspec.Rule{AllScopes: []string{"x:write"}}}
	plainRoutes.Routes["GET /forced-lambda"] = jwtapi.Route{Handler: "functions/private", Authorizer: jwtapi.RestLambdaAuthorizerName}
	if _, err := jwtapi.NewRestApi(stack, "RestPlain", &jwtapi.RestApiProps{ApiProps: plainRoutes}); err != nil {
		t.Fatal(err)
	}
	if _, err := jwtapi.NewRestApi(stack, "RestLambda", &jwtapi.RestApiProps{ApiProps: base(nil), JwtAuthorizer: &jwtapi.RestJwtAuthorizer{Disabled: true}}); err != nil {
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

	// REST APIs: methods by API construct and route key -> "AUTH scopes",
	// checking that each JWT or CUSTOM method's authorizer exists in the
	// template, belongs to its API and is of the matching type.
	restAPIs := map[string]string{} // logical id -> construct id
	for id, p := range byType("AWS::ApiGateway::RestApi") {
		restAPIs[id] = p["Name"].(string)
	}
	restAuthorizers := byType("AWS::ApiGateway::Authorizer")
	resources := byType("AWS::ApiGateway::Resource")
	pathOf := func(m map[string]any) string {
		var parts []string
		for id := ref(m["ResourceId"]); id != ""; {
			r, ok := resources[id]
			if !ok {
				break
			}
			parts = append([]string{r["PathPart"].(string)}, parts...)
			id = ref(r["ParentId"])
		}
		return "/" + strings.Join(parts, "/")
	}
	gotREST := map[string]string{}
	for _, m := range byType("AWS::ApiGateway::Method") {
		if m["HttpMethod"] == "OPTIONS" {
			continue
		}
		api := restAPIs[ref(m["RestApiId"])]
		key := fmt.Sprintf("%s %s %s", api, m["HttpMethod"], pathOf(m))
		auth := m["AuthorizationType"].(string)
		if auth != "NONE" {
			a, ok := restAuthorizers[ref(m["AuthorizerId"])]
			want := map[string]string{"JWT": "JWT", "CUSTOM": "TOKEN"}[auth]
			if !ok || a["Type"] != want || restAPIs[ref(a["RestApiId"])] != api {
				t.Errorf("%s: %s with authorizer %v, want a %s authorizer of its API in the template", key, auth, m["AuthorizerId"], want)
			}
		}
		gotREST[key] = strings.TrimSpace(auth + " " + scopesOf(m["AuthorizationScopes"]))
	}
	wantREST := map[string]string{
		"Rest GET /public": "NONE", "Rest GET /added-public": "NONE",
		"Rest GET /scoped": "JWT read:a read:b", "Rest GET /added-scoped": "JWT read:c",
		"Rest GET /bare": "JWT api:default", "Rest GET /{proxy+}": "JWT api:default", "Rest POST /defaults": "JWT api:default", "Rest GET /added": "JWT api:default",
		"Rest DELETE /ruled": "CUSTOM",
		// No scopes at all: still the native authorizer, never open.
		"RestPlain GET /public": "NONE", "RestPlain GET /bare": "JWT", "RestPlain GET /{proxy+}": "JWT", "RestPlain POST /defaults": "JWT",
		"RestPlain GET /scoped": "JWT read:a read:b", "RestPlain DELETE /ruled": "CUSTOM",
		"RestPlain GET /any-rule": "JWT x:read", "RestPlain GET /one-all-rule": "JWT x:write", "RestPlain GET /forced-lambda": "CUSTOM",
		// The native authorizer disabled: every private route on the Lambda one.
		"RestLambda GET /public": "NONE", "RestLambda GET /bare": "CUSTOM", "RestLambda GET /{proxy+}": "CUSTOM", "RestLambda POST /defaults": "CUSTOM",
		"RestLambda GET /scoped": "CUSTOM", "RestLambda DELETE /ruled": "CUSTOM",
	}
	for key, w := range wantREST {
		if g, ok := gotREST[key]; !ok || g != w {
			t.Errorf("REST %s: %q, want %q", key, g, w)
		}
	}
	if len(gotREST) != len(wantREST) {
		t.Errorf("%d REST methods in the template, want %d: %v", len(gotREST), len(wantREST), gotREST)
	}

	// The Lambda authorizers' rules: the routes routed to them, each with
	// its rule; a route on the native authorizer has none there.
	rulesOf := map[string]authzspec.Rules{}
	lambdaAuthorizers := 0
	for _, f := range byType("AWS::Lambda::Function") {
		env, ok := f["Environment"].(map[string]any)
		if !ok {
			continue
		}
		vars := env["Variables"].(map[string]any)
		if vars["JWT_ISSUER"] == nil {
			continue
		}
		var r authzspec.Rules
		json.Unmarshal([]byte(vars["AUTHZ_RULES"].(string)), &r)
		rulesOf[fmt.Sprint(len(rulesOf))] = r
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
	var lambdaRules []string
	for _, rs := range rulesOf {
		for key, r := range rs {
			lambdaRules = append(lambdaRules, fmt.Sprintf("%s=%v%v", key, r.AnyScopes, r.Permissions))
		}
	}
	slices.Sort(lambdaRules)
	// Plain's and Defaulted's DELETE /ruled (HTTP), Rest's and RestPlain's
	// and RestLambda's DELETE /ruled, RestLambda's scoped routes.
	for _, want := range []string{"DELETE /ruled=[][delete:x delete:y]", "GET /scoped=[read:a read:b][]"} {
		if !slices.Contains(lambdaRules, want) {
			t.Errorf("the Lambda authorizers' rules %v lack %s", lambdaRules, want)
		}
	}
	for _, r := range lambdaRules {
		if strings.HasPrefix(r, "GET /public") || strings.HasPrefix(r, "GET /any-rule") {
			t.Errorf("a public or native route has a Lambda rule: %s", r)
		}
	}
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}
