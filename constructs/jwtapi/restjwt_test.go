package jwtapi_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"

	"github.com/jwtapi/jwtapi/authzspec"
	"github.com/jwtapi/jwtapi/constructs/jwtapi"
)

func restProps() *jwtapi.RestApiProps {
	return &jwtapi.RestApiProps{ApiProps: jwtapi.ApiProps{
		Auth0Domain: "example.us.auth0.com",
		Audiences:   []string{"https://api.example.com"},
		Routes: map[string]jwtapi.Route{
			"GET /public":  {Handler: "functions/public", Public: true},
			"GET /private": {Handler: "functions/private", Scopes: []string{"read:user", "admin"}},
		},
	}}
}

// TestRestJwtAuthorizer pins what the escape hatch writes: an
// AWS::ApiGateway::Authorizer of Type JWT with the identity source, the
// algorithms and every issuer with its audiences and additional claims
// (required unless Optional), and methods of AuthorizationType JWT with
// their scopes; no Lambda authorizer when no route needs one.
func TestRestJwtAuthorizer(t *testing.T) {
	p := restProps()
	p.JwtAuthorizer = &jwtapi.RestJwtAuthorizer{
		Algorithms:     []string{"RS256", "ES256"},
		RequiredClaims: []jwtapi.RequiredClaim{{Name: "org_id", Values: []string{"acme", "Acme Corp"}}, {Name: "tier", Values: []string{"gold"}, Optional: true}, {Name: "email"}},
		MoreIssuers: []jwtapi.JwtIssuer{{CognitoUserPool: &jwtapi.CognitoUserPool{Region: "eu-west-1", UserPoolID: "eu-west-1_AbCdEf123"},
			Audiences: []string{"client-a"}, RequiredClaims: []jwtapi.RequiredClaim{{Name: "token_use", Values: []string{"id"}}}}},
	}
	stack := newStack()
	api, err := jwtapi.NewRestApi(stack, "Api", p)
	if err != nil {
		t.Fatal(err)
	}
	if api.AuthorizerFunction() != nil {
		t.Error("a Lambda authorizer exists although no route needs one")
	}
	tpl := assertions.Template_FromStack(stack, nil)
	auths := *tpl.FindResources(strPtr("AWS::ApiGateway::Authorizer"), nil)
	if len(auths) != 1 {
		t.Fatalf("%d authorizers, want the native one only", len(auths))
	}
	var id string
	var props map[string]any
	for k, v := range auths {
		id, props = k, (*v)["Properties"].(map[string]any)
	}
	got, _ := json.Marshal(props["JwtConfiguration"])
	want := `{"DefaultAlgorithms":["RS256","ES256"],"Issuers":[` +
		`{"AdditionalClaims":[{"ClaimName":"org_id","ExpectedValues":["acme","Acme Corp"],"Format":"SINGLE_STRING","Required":true},` +
		`{"ClaimName":"tier","ExpectedValues":["gold"],"Format":"SINGLE_STRING","Required":false},` +
		`{"ClaimName":"email","Format":"SINGLE_STRING","Required":true}],"Audiences":["https://api.example.com"],"Issuer":"https://example.us.auth0.com/"},` +
		`{"AdditionalClaims":[{"ClaimName":"token_use","ExpectedValues":["id"],"Format":"SINGLE_STRING","Required":true}],"Audiences":["client-a"],` +
		`"Issuer":"https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123"}]}`
	if string(got) != want {
		t.Errorf("JwtConfiguration\n%s\nwant\n%s", got, want)
	}
	if props["Type"] != "JWT" || props["Name"] != "jwt" || props["IdentitySource"] != "method.request.header.Authorization" {
		t.Errorf("authorizer %v", props)
	}
	methods := *tpl.FindResources(strPtr("AWS::ApiGateway::Method"), nil)
	var private map[string]any
	for _, m := range methods {
		mp := (*m)["Properties"].(map[string]any)
		if mp["AuthorizationType"] != "NONE" {
			private = mp
		}
	}
	scopes, _ := json.Marshal(private["AuthorizationScopes"])
	if private["AuthorizationType"] != "JWT" || private["AuthorizerId"].(map[string]any)["Ref"] != id || string(scopes) != `["read:user","admin"]` {
		t.Errorf("the private method: %v", private)
	}
}

// TestRestJwtAuthorizerDefaults: RS256 only, the API's issuer and
// audiences, no claims.
func TestRestJwtAuthorizerDefaults(t *testing.T) {
	stack := newStack()
	if _, err := jwtapi.NewRestApi(stack, "Api", restProps()); err != nil {
		t.Fatal(err)
	}
	tpl := assertions.Template_FromStack(stack, nil)
	tpl.HasResourceProperties(strPtr("AWS::ApiGateway::Authorizer"), map[string]any{
		"Type": "JWT",
		"JwtConfiguration": map[string]any{"DefaultAlgorithms": []any{"RS256"},
			"Issuers": []any{map[string]any{"Issuer": "https://example.us.auth0.com/", "Audiences": []any{"https://api.example.com"}}}},
	})
	tpl.ResourceCountIs(strPtr("AWS::Lambda::Function"), numPtr(2)) // the two handlers, no authorizer
}

// TestRestJwtMistakes: every mistake is one line naming the field.
func TestRestJwtMistakes(t *testing.T) {
	tests := []struct {
		name   string
		change func(p *jwtapi.RestApiProps)
		want   string
	}{
		{"HS256", func(p *jwtapi.RestApiProps) {
			p.JwtAuthorizer = &jwtapi.RestJwtAuthorizer{Algorithms: []string{"RS256", "HS256"}}
		},
			`JwtAuthorizer.Algorithms[1]: "HS256" is not one a REST JWT authorizer accepts (RS256, RS384, RS512, ES256, ES384, ES512)`},
		{"PS256", func(p *jwtapi.RestApiProps) {
			p.JwtAuthorizer = &jwtapi.RestJwtAuthorizer{Algorithms: []string{"PS256"}}
		}, `Algorithms[0]: "PS256"`},
		{"algorithm twice", func(p *jwtapi.RestApiProps) {
			p.JwtAuthorizer = &jwtapi.RestJwtAuthorizer{Algorithms: []string{"RS256", "RS256"}}
		},
			`Algorithms[1]: "RS256" is listed twice`},
		{"reserved claim", func(p *jwtapi.RestApiProps) {
			p.JwtAuthorizer = &jwtapi.RestJwtAuthorizer{RequiredClaims: []jwtapi.RequiredClaim{{Name: "scope", Values: []string{"x"}}}}
		}, `JwtAuthorizer.RequiredClaims[0].Name: "scope" is checked by the authorizer itself`},
		{"empty claim name", func(p *jwtapi.RestApiProps) {
			p.JwtAuthorizer = &jwtapi.RestJwtAuthorizer{RequiredClaims: []jwtapi.RequiredClaim{{Name: " "}}}
		}, `RequiredClaims[0].Name: empty`},
		{"empty value", func(p *jwtapi.RestApiProps) {
			p.JwtAuthorizer = &jwtapi.RestJwtAuthorizer{RequiredClaims: []jwtapi.RequiredClaim{{Name: "org", Values: []string{"a", ""}}}}
		}, `RequiredClaims[0].Values[1]: empty`},
		{"optional without values", func(p *jwtapi.RestApiProps) {
			p.JwtAuthorizer = &jwtapi.RestJwtAuthorizer{RequiredClaims: []jwtapi.RequiredClaim{{Name: "org", Optional: true}}}
		}, `RequiredClaims[0]: an optional claim without Values checks nothing`},
		{"claim twice", func(p *jwtapi.RestApiProps) {
			p.JwtAuthorizer = &jwtapi.RestJwtAuthorizer{RequiredClaims: []jwtapi.RequiredClaim{{Name: "org"}, {Name: "org"}}}
		}, `RequiredClaims[1].Name: "org" is listed twice`},
		{"the API's issuer again", func(p *jwtapi.RestApiProps) {
			p.JwtAuthorizer = &jwtapi.RestJwtAuthorizer{MoreIssuers: []jwtapi.JwtIssuer{{Auth0Domain: "example.us.auth0.com", Audiences: []string{"x"}}}}
		}, `JwtAuthorizer.MoreIssuers[0]: issuer https://example.us.auth0.com/ is trusted already`},
		{"more issuer without audiences", func(p *jwtapi.RestApiProps) {
			p.JwtAuthorizer = &jwtapi.RestJwtAuthorizer{MoreIssuers: []jwtapi.JwtIssuer{{Issuer: "https://login.example.com/"}}}
		}, `JwtAuthorizer.MoreIssuers[0].Audiences: must list at least one audience`},
		{"more issuer over http", func(p *jwtapi.RestApiProps) {
			p.JwtAuthorizer = &jwtapi.RestJwtAuthorizer{MoreIssuers: []jwtapi.JwtIssuer{{Issuer: "http://login.example.com/", Audiences: []string{"x"}}}}
		}, `JwtAuthorizer.MoreIssuers[0].Issuer: "http://login.example.com/"`},
		{"disabled with settings", func(p *jwtapi.RestApiProps) {
			p.JwtAuthorizer = &jwtapi.RestJwtAuthorizer{Disabled: true, Algorithms: []string{"ES256"}}
		}, `JwtAuthorizer: Disabled with Algorithms, RequiredClaims or MoreIssuers set`},
		{"native asked for, rule it cannot check", func(p *jwtapi.RestApiProps) {
			p.Routes["DELETE /x"] = jwtapi.Route{Handler: "functions/private", Authorizer: "jwt", Rules: &authzspec.Rule{Permissions: []string{"delete:x"}, AllScopes: []string{"a", "b"}}}
		}, `Routes["DELETE /x"].Rules: the native JWT authorizer checks issuer, audiences, required claims and scopes (any one of); this rule's permissions and all-of scopes need the Go Lambda authorizer`},
		{"native asked for, disabled", func(p *jwtapi.RestApiProps) {
			p.JwtAuthorizer = &jwtapi.RestJwtAuthorizer{Disabled: true}
			p.Routes["GET /x"] = jwtapi.Route{Handler: "functions/private", Authorizer: "jwt"}
		}, `Routes["GET /x"].Authorizer: "jwt": the native JWT authorizer is disabled`},
		{"authorizer on a public route", func(p *jwtapi.RestApiProps) {
			p.Routes["GET /x"] = jwtapi.Route{Handler: "functions/public", Public: true, Authorizer: "jwt"}
		}, `Routes["GET /x"].Authorizer: "jwt": a public route has no authorizer`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := restProps()
			tt.change(p)
			_, err := jwtapi.NewRestApi(newStack(), "Api", p)
			if !errors.Is(err, jwtapi.ErrInvalidProps) || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("err = %v\nwant one line with %q", err, tt.want)
			}
		})
	}
}

func numPtr(n float64) *float64 { return &n }
