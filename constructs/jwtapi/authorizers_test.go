package jwtapi_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"

	"github.com/jwtapi/jwtapi/authzspec"
	"github.com/jwtapi/jwtapi/constructs/jwtapi"
)

func twoIssuers() *jwtapi.HttpApiProps {
	return &jwtapi.HttpApiProps{
		ApiProps: jwtapi.ApiProps{Routes: map[string]jwtapi.Route{
			"GET /public":         {Handler: "functions/public", Public: true},
			"GET /private":        {Handler: "functions/private", Scopes: []string{"read:user"}},
			"GET /machine/status": {Handler: "functions/private", Authorizer: "machines", Scopes: []string{"jwtapi/status.read"}},
			"DELETE /jobs/{id}":   {Handler: "functions/private", Authorizer: "machines", Rules: &authzspec.Rule{AnyScopes: []string{"jwtapi/jobs.write"}}},
		}},
		Authorizers: []jwtapi.JwtAuthorizer{
			{Name: "users", Auth0Domain: "example.us.auth0.com", Audiences: []string{"https://api.example.com"}},
			{Name: "machines", CognitoUserPool: &jwtapi.CognitoUserPool{Region: "eu-west-1", UserPoolID: "eu-west-1_AbCdEfGhI"}, Audiences: []string{"client-a", "client-b"}},
		},
	}
}

// TestSeveralAuthorizers: each JWT authorizer is its own resource with its
// own name; each route uses the one it names (the first by default); rule
// routes of the second get a Lambda authorizer verifying its tokens.
func TestSeveralAuthorizers(t *testing.T) {
	stack := newStack()
	api, err := jwtapi.NewHttpApi(stack, "Api", twoIssuers())
	if err != nil {
		t.Fatal(err)
	}
	if api.Issuer() != "https://example.us.auth0.com/" {
		t.Errorf("Issuer() = %s, want the first authorizer's", api.Issuer())
	}
	tpl := *assertions.Template_FromStack(stack, nil).ToJSON()
	authorizers := map[string]map[string]any{} // logical id -> props
	byName := map[string]string{}              // name -> logical id
	for id, r := range tpl["Resources"].(map[string]any) {
		res := r.(map[string]any)
		if res["Type"] == "AWS::ApiGatewayV2::Authorizer" {
			p := res["Properties"].(map[string]any)
			authorizers[id] = p
			byName[p["Name"].(string)] = id
		}
	}
	if len(authorizers) != 3 || byName["users"] == "" || byName["machines"] == "" || byName["lambda-machines"] == "" {
		t.Fatalf("authorizers %v, want users, machines and lambda-machines", byName)
	}
	jwt := func(name string) map[string]any {
		return authorizers[byName[name]]["JwtConfiguration"].(map[string]any)
	}
	if jwt("machines")["Issuer"] != "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEfGhI" ||
		strings.Join(stringsOf(jwt("machines")["Audience"]), ",") != "client-a,client-b" || jwt("users")["Issuer"] != "https://example.us.auth0.com/" {
		t.Errorf("JWT configurations: users %v, machines %v", jwt("users"), jwt("machines"))
	}
	want := map[string]string{"GET /private": "users", "GET /machine/status": "machines", "DELETE /jobs/{id}": "lambda-machines"}
	for _, r := range tpl["Resources"].(map[string]any) {
		res := r.(map[string]any)
		if res["Type"] != "AWS::ApiGatewayV2::Route" {
			continue
		}
		p := res["Properties"].(map[string]any)
		key := p["RouteKey"].(string)
		if name, ok := want[key]; ok {
			ref, _ := p["AuthorizerId"].(map[string]any)
			if ref["Ref"] != byName[name] {
				t.Errorf("%s uses authorizer %v, want %s (%s)", key, ref, name, byName[name])
			}
		}
	}
	env := api.AuthorizerFunction()
	if env != nil {
		t.Error("the default authorizer has a Lambda authorizer although none of its routes has rules")
	}
	var cfg map[string]any
	for _, r := range tpl["Resources"].(map[string]any) {
		res := r.(map[string]any)
		if res["Type"] == "AWS::Lambda::Function" {
			if env, ok := res["Properties"].(map[string]any)["Environment"].(map[string]any); ok {
				if v, ok := env["Variables"].(map[string]any); ok && v["JWT_ISSUER"] != nil {
					cfg = v
				}
			}
		}
	}
	if cfg["JWT_ISSUER"] != "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEfGhI" || cfg["JWT_AUDIENCES"] != "client-a,client-b" ||
		cfg["JWT_CLIENT_ID_AUDIENCE"] != "true" || !strings.Contains(cfg["AUTHZ_RULES"].(string), "jwtapi/jobs.write") {
		t.Errorf("the machines' Lambda authorizer is configured with %v", cfg)
	}
}

func stringsOf(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

func TestAuthorizerMistakes(t *testing.T) {
	tests := []struct {
		name   string
		change func(p *jwtapi.HttpApiProps)
		want   string
	}{
		{"unknown authorizer", func(p *jwtapi.HttpApiProps) {
			p.Routes["GET /x"] = jwtapi.Route{Handler: "functions/private", Authorizer: "robots"}
		}, `Routes["GET /x"].Authorizer: "robots" is not one of the API's authorizers (users, machines)`},
		{"authorizer on a public route", func(p *jwtapi.HttpApiProps) {
			p.Routes["GET /public"] = jwtapi.Route{Handler: "functions/public", Public: true, Authorizer: "users"}
		}, `Routes["GET /public"].Authorizer: "users": a public route has no authorizer`},
		{"same issuer and audiences twice", func(p *jwtapi.HttpApiProps) {
			p.Authorizers = append(p.Authorizers, jwtapi.JwtAuthorizer{Name: "again", Issuer: "https://example.us.auth0.com/", Audiences: []string{"https://api.example.com"}})
		}, "Authorizers[2]: accepts the same issuer https://example.us.auth0.com/ and audiences [https://api.example.com] as Authorizers[0]"},
		{"two with one name", func(p *jwtapi.HttpApiProps) { p.Authorizers[1].Name = "users" }, `Authorizers[1].Name: "users" is the name of Authorizers[0] too`},
		{"bad name", func(p *jwtapi.HttpApiProps) { p.Authorizers[1].Name = "ma chines" }, `Authorizers[1].Name: "ma chines"`},
		{"both ways", func(p *jwtapi.HttpApiProps) { p.Auth0Domain = "x.auth0.com" }, "set either Authorizers or Issuer"},
		{"Cognito and an issuer", func(p *jwtapi.HttpApiProps) { p.Authorizers[1].Issuer = "https://x.example/" }, "Authorizers[1].CognitoUserPool: set one of"},
		{"Cognito region", func(p *jwtapi.HttpApiProps) { p.Authorizers[1].CognitoUserPool.Region = "Europe" }, `Authorizers[1].CognitoUserPool.Region: "Europe"`},
		{"Cognito pool of another region", func(p *jwtapi.HttpApiProps) { p.Authorizers[1].CognitoUserPool.UserPoolID = "us-east-1_AbC" }, `Authorizers[1].CognitoUserPool.UserPoolID: "us-east-1_AbC"`},
		{"Cognito without clients", func(p *jwtapi.HttpApiProps) { p.Authorizers[1].Audiences = nil }, "Authorizers[1].Audiences: must list at least one audience (the app client ids"},
		{"issuer of the second", func(p *jwtapi.HttpApiProps) { p.Authorizers[0].Auth0Domain = "https://x/" }, `Authorizers[0].Auth0Domain: "https://x/"`},
		{"identity source", func(p *jwtapi.HttpApiProps) { p.Authorizers[1].IdentitySource = "$request.cookie.t" }, `Authorizers[1].IdentitySource: "$request.cookie.t"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := twoIssuers()
			tt.change(p)
			_, err := jwtapi.NewHttpApi(newStack(), "Api", p)
			if !errors.Is(err, jwtapi.ErrInvalidProps) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
	rest := &jwtapi.RestApiProps{ApiProps: validProps().ApiProps}
	rest.Routes["GET /x"] = jwtapi.Route{Handler: "functions/private", Authorizer: "users"}
	if _, err := jwtapi.NewRestApi(newStack(), "Api", rest); !errors.Is(err, jwtapi.ErrInvalidProps) ||
		!strings.Contains(err.Error(), `Routes["GET /x"].Authorizer: "users": a REST API's routes use "jwt" (the native JWT authorizer) or "lambda-jwt"`) {
		t.Errorf("an HTTP authorizer's name on a REST route: %v", err)
	}
}

func TestCustomDomain(t *testing.T) {
	cert := "arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
	stack := newStack()
	p := validProps()
	p.Domain = &jwtapi.CustomDomain{Name: "api.example.com", CertificateArn: cert, HostedZoneID: "Z0123456789ABCDEFGHIJ", ZoneName: "example.com"}
	api, err := jwtapi.NewHttpApi(stack, "Api", p)
	if err != nil {
		t.Fatal(err)
	}
	if u := api.CustomDomainUrl(); u == nil || *u != "https://api.example.com/" {
		t.Errorf("CustomDomainUrl = %v", u)
	}
	tpl := assertions.Template_FromStack(stack, nil)
	tpl.ResourceCountIs(strPtr("AWS::ApiGatewayV2::DomainName"), num(1))
	tpl.HasResourceProperties(strPtr("AWS::ApiGatewayV2::DomainName"), map[string]any{"DomainName": "api.example.com",
		"DomainNameConfigurations": []any{map[string]any{"CertificateArn": cert, "EndpointType": "REGIONAL"}}})
	tpl.ResourceCountIs(strPtr("AWS::ApiGatewayV2::ApiMapping"), num(1))
	tpl.HasResourceProperties(strPtr("AWS::Route53::RecordSet"), map[string]any{"Name": "api.example.com.", "Type": "A", "HostedZoneId": "Z0123456789ABCDEFGHIJ"})

	noZone := validProps()
	noZone.Domain = &jwtapi.CustomDomain{Name: "api.example.com", CertificateArn: cert}
	stack = newStack()
	if _, err := jwtapi.NewHttpApi(stack, "Api", noZone); err != nil {
		t.Fatal(err)
	}
	assertions.Template_FromStack(stack, nil).ResourceCountIs(strPtr("AWS::Route53::RecordSet"), num(0))

	for _, tt := range []struct {
		d    jwtapi.CustomDomain
		want string
	}{
		{jwtapi.CustomDomain{Name: "API.example.com", CertificateArn: cert}, `Domain.Name: "API.example.com"`},
		{jwtapi.CustomDomain{Name: "api.example.com", CertificateArn: "arn:aws:iam::123:cert"}, "Domain.CertificateArn"},
		{jwtapi.CustomDomain{Name: "api.example.com", CertificateArn: cert, HostedZoneID: "Z1"}, "Domain.HostedZoneID: \"Z1\" with ZoneName \"\": give both"},
		{jwtapi.CustomDomain{Name: "api.example.com", CertificateArn: cert, HostedZoneID: "zone", ZoneName: "example.com"}, `Domain.HostedZoneID: "zone"`},
		{jwtapi.CustomDomain{Name: "api.example.com", CertificateArn: cert, HostedZoneID: "Z1", ZoneName: "other.com"}, `Domain.ZoneName: "other.com" does not hold`},
	} {
		p := validProps()
		p.Domain = &tt.d
		if _, err := jwtapi.NewHttpApi(newStack(), "Api", p); !errors.Is(err, jwtapi.ErrInvalidProps) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: %v, want %q", tt.d, err, tt.want)
		}
	}
}

func strPtr(s string) *string { return &s }
func num(n float64) *float64  { return &n }
