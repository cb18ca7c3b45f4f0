// Command orders is another team's CDK app reusing the jwtapi construct:
// one stack, named without any stage suffix, holding an HTTP API and a REST
// API served by its own handlers. The tests of github.com/jwtapi/jwtapi
// serve it with jwtapi dev, as its developers would.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/jwtapi/jwtapi/authzspec"
	"github.com/jwtapi/jwtapi/constructs/jwtapi"
)

func main() {
	app := awscdk.NewApp(nil)
	issuer, _ := app.Node().TryGetContext(jsii.String("issuer")).(string)
	err := ordersStack(app, issuer)
	if err == nil {
		err = jwtapi.Synth(app)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
	}
	jwtapi.Close()
	if err != nil {
		os.Exit(1)
	}
}

func ordersStack(app awscdk.App, issuer string) error {
	stack := awscdk.NewStack(app, jsii.String("OrdersService"), nil)
	audiences := []string{"https://orders.example.com"}
	orders, err := jwtapi.NewHttpApi(stack, "OrdersHttp", &jwtapi.HttpApiProps{ApiProps: jwtapi.ApiProps{
		Issuer: issuer, Audiences: audiences,
		Routes: routes(),
	}})
	if err != nil {
		return err
	}
	// The API is a construct: its URL output lives under it.
	awscdk.NewCfnOutput(orders, jsii.String("Url"), &awscdk.CfnOutputProps{Value: orders.Url()})
	_, err = jwtapi.NewRestApi(stack, "OrdersRest", &jwtapi.RestApiProps{ApiProps: jwtapi.ApiProps{
		Issuer: issuer, Audiences: audiences,
		Routes: map[string]jwtapi.Route{
			"GET /orders":         {Handler: "handlers/ordersrest", Scopes: []string{"read:orders"}},
			"DELETE /orders/{id}": {Handler: "handlers/ordersrest", Rules: &authzspec.Rule{Permissions: []string{"delete:orders"}}},
		},
	}, StageName: "v1"})
	return err
}
