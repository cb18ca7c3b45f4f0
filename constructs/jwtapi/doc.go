// Package jwtapi provides reusable AWS CDK constructs that put an API Gateway
// HTTP API (NewHttpApi) or REST API (NewRestApi) behind JWT authorizers for
// Auth0, Cognito or any OIDC issuer, with public and private routes served
// by Go Lambda functions that it builds itself during synth (go build, no
// Docker).
//
// A route is JWT-protected unless it says Public. Props are validated before
// anything is created, and a configuration mistake comes back as an error that
// names the field and the value, never as a jsii stack trace. A CDK app using
// it (handler folders are relative to the app's Go module):
//
//	package main
//
//	import (
//		"fmt"
//		"os"
//
//		"github.com/aws/aws-cdk-go/awscdk/v2"
//		"github.com/aws/jsii-runtime-go"
//
//		"github.com/jwtapi/jwtapi/authzspec"
//		"github.com/jwtapi/jwtapi/constructs/jwtapi"
//	)
//
//	func main() {
//		app := awscdk.NewApp(nil)
//		stack := awscdk.NewStack(app, jsii.String("OrdersService"), nil)
//		api, err := jwtapi.NewHttpApi(stack, "Api", &jwtapi.HttpApiProps{ApiProps: jwtapi.ApiProps{
//			Auth0Domain: "example.us.auth0.com",
//			Audiences:   []string{"https://orders.example.com"},
//			Routes: map[string]jwtapi.Route{
//				"GET /health":         {Handler: "functions/health", Public: true},
//				"GET /orders/{id}":    {Handler: "functions/orders", Scopes: []string{"read:orders"}},
//				"DELETE /orders/{id}": {Handler: "functions/orders", Rules: &authzspec.Rule{Permissions: []string{"delete:orders"}}},
//			},
//		}})
//		if err == nil {
//			awscdk.NewCfnOutput(api, jsii.String("Url"), &awscdk.CfnOutputProps{Value: api.Url()})
//			err = jwtapi.Synth(app) // what jsii raises is an error, not a JavaScript stack trace
//		}
//		if err != nil {
//			fmt.Fprintln(os.Stderr, "error:", err)
//		}
//		jwtapi.Close()
//		if err != nil {
//			os.Exit(1)
//		}
//	}
//
// `jwtapi init` (cmd/jwtapi) writes such an app with its handlers, tests and
// Makefile; `jwtapi dev` runs it locally. TestDocExampleCompiles builds
// this example.
package jwtapi
