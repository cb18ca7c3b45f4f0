package jwtapi_test

import (
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"

	"github.com/jwtapi/jwtapi/authzspec"
	"github.com/jwtapi/jwtapi/constructs/jwtapi"
)

// TestLambdaAuthorizerCacheIsPerRoute: with caching on, the route is part of
// the cache key, so an allow for one route's rule never opens another.
func TestLambdaAuthorizerCacheIsPerRoute(t *testing.T) {
	p := validProps()
	p.LambdaAuthorizer = &jwtapi.LambdaAuthorizer{CacheTTL: 5 * time.Minute}
	p.Routes["DELETE /users/{id}"] = jwtapi.Route{Handler: "functions/private", Rules: &authzspec.Rule{Permissions: []string{"delete:user"}}}
	p.Routes["GET /reports"] = jwtapi.Route{Handler: "functions/private", Rules: &authzspec.Rule{AnyScopes: []string{"read:reports"}}}
	stack := newStack()
	api, err := jwtapi.NewHttpApi(stack, "Api", p)
	if err != nil {
		t.Fatal(err)
	}
	if api.AuthorizerFunction() == nil {
		t.Fatal("no authorizer function")
	}
	tpl := *assertions.Template_FromStack(stack, nil).ToJSON()
	found := 0
	for _, r := range tpl["Resources"].(map[string]any) {
		res := r.(map[string]any)
		if res["Type"] != "AWS::ApiGatewayV2::Authorizer" || res["Properties"].(map[string]any)["AuthorizerType"] != "REQUEST" {
			continue
		}
		found++
		props := res["Properties"].(map[string]any)
		var sources []string
		for _, s := range props["IdentitySource"].([]any) {
			sources = append(sources, s.(string))
		}
		if props["AuthorizerResultTtlInSeconds"] != float64(300) || !slices.Contains(sources, "$context.routeKey") {
			t.Errorf("cached Lambda authorizer %v: want TTL 300 and $context.routeKey in the identity sources", props)
		}
	}
	if found != 1 {
		t.Errorf("%d Lambda authorizers, want one shared by the rule routes", found)
	}
}
