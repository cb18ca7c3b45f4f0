package jwtapi_test

import (
	"fmt"
	"sort"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/jwtapi/jwtapi/constructs/jwtapi"
)

// Another app's stack reusing the construct: an orders API with a public
// health check and a scoped read route. Handler directories are relative to
// the Go module the app lives in.
func Example() {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("OrdersApi"), nil)

	api, err := jwtapi.NewHttpApi(stack, "Api", &jwtapi.HttpApiProps{ApiProps: jwtapi.ApiProps{
		Auth0Domain: "example.us.auth0.com",
		Audiences:   []string{"https://orders.example.com"},
		Routes: map[string]jwtapi.Route{
			"GET /health":      {Handler: "functions/public", Public: true},
			"GET /orders/{id}": {Handler: "functions/private", Scopes: []string{"read:orders"}},
		},
	}})
	if err != nil {
		fmt.Println(err)
		return
	}
	// The API is a construct: a scope for what belongs with it.
	awscdk.NewCfnOutput(api, jsii.String("Url"), &awscdk.CfnOutputProps{Value: api.Url()})
	fmt.Println("output under:", *api.Node().Path())

	// What CloudFormation will get:
	template := *assertions.Template_FromStack(stack, nil).ToJSON()
	fmt.Println("issuer:", api.Issuer())
	var lines []string
	for _, r := range template["Resources"].(map[string]any) {
		res := r.(map[string]any)
		if res["Type"] == "AWS::ApiGatewayV2::Route" {
			p := res["Properties"].(map[string]any)
			lines = append(lines, fmt.Sprintf("%s: %v %v", p["RouteKey"], p["AuthorizationType"], p["AuthorizationScopes"]))
		}
	}
	sort.Strings(lines)
	for _, l := range lines {
		fmt.Println(l)
	}
	// Output:
	// output under: OrdersApi/Api
	// issuer: https://example.us.auth0.com/
	// GET /health: NONE <nil>
	// GET /orders/{id}: JWT [read:orders]
}
