// Package jwtapi provides a reusable AWS CDK construct that puts an API Gateway
// HTTP API behind a JWT authorizer for Auth0 or any OIDC issuer, with public
// and private routes served by Go Lambda functions that it builds itself
// during synth (go build, no Docker).
//
// A route is JWT-protected unless it says Public. Props are validated before
// anything is created, and a configuration mistake comes back as an error that
// names the field and the value, never as a jsii stack trace:
//
//	api, err := jwtapi.NewHttpApi(stack, "Api", &jwtapi.HttpApiProps{
//		Auth0Domain: "example.us.auth0.com",
//		Audiences:   []string{"https://api.example.com"},
//		Routes: map[string]jwtapi.Route{
//			"GET /public":  {Handler: "functions/public", Public: true},
//			"GET /private": {Handler: "functions/private", Scopes: []string{"read:user"}},
//		},
//	})
package jwtapi
