package gateway

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// res is a CloudFormation resource of a hand-written template.
type res map[string]any

func ref(id string) map[string]any { return map[string]any{"Ref": id} }

func fnArn(id string) map[string]any {
	return map[string]any{"Fn::Join": []any{"", []any{"arn:aws:apigateway:", map[string]any{"Fn::GetAtt": []any{id, "Arn"}}, "/invocations"}}}
}

// handlerFn is a function the construct built (it carries the handler).
var handlerFn = res{"Type": "AWS::Lambda::Function", "Metadata": map[string]any{"jwtapi:handler": "functions/public"}, "Properties": map[string]any{}}

func parse(t *testing.T, resources map[string]res) ([]*API, error) {
	t.Helper()
	raw, err := json.Marshal(map[string]any{"Resources": resources})
	if err != nil {
		t.Fatal(err)
	}
	return ParseTemplate(raw, "Mine")
}

// TestHTTPRouteAuthorizerKinds: a route runs only with an authorizer of the
// kind it names; anything else is an error, never a route served without
// the check it asked for.
func TestHTTPRouteAuthorizerKinds(t *testing.T) {
	jwtAuth := res{"Type": "AWS::ApiGatewayV2::Authorizer", "Properties": map[string]any{"ApiId": ref("Api"), "AuthorizerType": "JWT", "Name": "users",
		"IdentitySource": []string{"$request.header.Authorization"}, "JwtConfiguration": map[string]any{"Issuer": "https://issuer.example/", "Audience": []string{"aud"}}}}
	lambdaAuth := func(payload string, simple bool) res {
		return res{"Type": "AWS::ApiGatewayV2::Authorizer", "Properties": map[string]any{"ApiId": ref("Api"), "AuthorizerType": "REQUEST", "Name": "lambda",
			"AuthorizerUri": fnArn("Fn"), "AuthorizerPayloadFormatVersion": payload, "EnableSimpleResponses": simple}}
	}
	for _, tt := range []struct {
		name     string
		authType string
		auth     res
		wantErr  string
	}{
		{"a JWT route on a JWT authorizer", "JWT", jwtAuth, ""},
		{"a CUSTOM route on a 2.0 simple Lambda authorizer", "CUSTOM", lambdaAuth("2.0", true), ""},
		{"a JWT route on a Lambda authorizer", "JWT", lambdaAuth("2.0", true), "uses a JWT authorizer (REQUEST"},
		{"a CUSTOM route on a JWT authorizer", "CUSTOM", jwtAuth, "uses a CUSTOM authorizer (JWT"},
		{"payload 1.0", "CUSTOM", lambdaAuth("1.0", true), `payload "1.0"`},
		{"IAM policy responses", "CUSTOM", lambdaAuth("2.0", false), "simple responses false"},
		{"an unknown authorization type", "AWS_IAM", jwtAuth, "uses a AWS_IAM authorizer"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			apis, err := parse(t, map[string]res{
				"Api":   {"Type": "AWS::ApiGatewayV2::Api", "Properties": map[string]any{"Name": "mine"}},
				"Auth":  tt.auth,
				"Fn":    handlerFn,
				"Integ": {"Type": "AWS::ApiGatewayV2::Integration", "Properties": map[string]any{"ApiId": ref("Api"), "IntegrationUri": map[string]any{"Fn::GetAtt": []any{"Fn", "Arn"}}, "PayloadFormatVersion": "2.0", "TimeoutInMillis": 5000}},
				"Route": {"Type": "AWS::ApiGatewayV2::Route", "Properties": map[string]any{"ApiId": ref("Api"), "RouteKey": "GET /mine", "AuthorizationType": tt.authType,
					"AuthorizerId": ref("Auth"), "Target": map[string]any{"Fn::Join": []any{"", []any{"integrations/", ref("Integ")}}}}},
			})
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("ParseTemplate: %v", err)
			case tt.wantErr == "":
				if r := apis[0].Routes[0]; r.Authorizer == nil || r.AuthType != tt.authType || r.IntegrationTimeout != 5*time.Second {
					t.Errorf("route %+v, want authorization %s with its authorizer and the integration's 5 s timeout", r, tt.authType)
				}
			case err == nil || !errors.Is(err, ErrTemplate) || !strings.Contains(err.Error(), tt.wantErr):
				t.Errorf("ParseTemplate: %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

// restTemplate is a REST API with one TOKEN-authorized method and a CORS
// preflight method (MOCK) on /things.
func restTemplate(authorizer, preflight map[string]any) map[string]res {
	return map[string]res{
		"Rest":   {"Type": "AWS::ApiGateway::RestApi", "Properties": map[string]any{"Name": "mine"}},
		"Stage":  {"Type": "AWS::ApiGateway::Stage", "Properties": map[string]any{"RestApiId": ref("Rest"), "StageName": "v1"}},
		"Things": {"Type": "AWS::ApiGateway::Resource", "Properties": map[string]any{"RestApiId": ref("Rest"), "ParentId": map[string]any{"Fn::GetAtt": []any{"Rest", "RootResourceId"}}, "PathPart": "things"}},
		"Fn":     handlerFn,
		"Auth":   {"Type": "AWS::ApiGateway::Authorizer", "Properties": authorizer},
		"Get": {"Type": "AWS::ApiGateway::Method", "Properties": map[string]any{"RestApiId": ref("Rest"), "ResourceId": ref("Things"), "HttpMethod": "GET",
			"AuthorizationType": "CUSTOM", "AuthorizerId": ref("Auth"), "Integration": map[string]any{"Type": "AWS_PROXY", "Uri": fnArn("Fn"), "TimeoutInMillis": 1000}}},
		"Options": {"Type": "AWS::ApiGateway::Method", "Properties": map[string]any{"RestApiId": ref("Rest"), "ResourceId": ref("Things"), "HttpMethod": "OPTIONS",
			"AuthorizationType": "NONE", "Integration": preflight}},
	}
}

func tokenAuthorizer(extra map[string]any) map[string]any {
	p := map[string]any{"RestApiId": ref("Rest"), "Type": "TOKEN", "Name": "tokens", "IdentitySource": "method.request.header.Authorization", "AuthorizerUri": fnArn("Fn")}
	for k, v := range extra {
		p[k] = v
	}
	return p
}

// TestRESTAuthorizerTTL: API Gateway caches a TOKEN authorizer's policy for
// 300 s when the template sets no TTL; 0 turns the cache off.
func TestRESTAuthorizerTTL(t *testing.T) {
	for _, tt := range []struct {
		props map[string]any
		want  time.Duration
	}{
		{nil, 300 * time.Second},
		{map[string]any{"AuthorizerResultTtlInSeconds": 0}, 0},
		{map[string]any{"AuthorizerResultTtlInSeconds": 60}, time.Minute},
	} {
		apis, err := parse(t, restTemplate(tokenAuthorizer(tt.props), map[string]any{"Type": "MOCK"}))
		if err != nil {
			t.Fatal(err)
		}
		if got := apis[0].Authorizers["Auth"].TTL; got != tt.want {
			t.Errorf("authorizer %v: TTL %v, want %v", tt.props, got, tt.want)
		}
		for _, r := range apis[0].Routes {
			if r.Key.String() == "GET /things" && r.IntegrationTimeout != time.Second {
				t.Errorf("GET /things: integration timeout %v, want the template's 1 s", r.IntegrationTimeout)
			}
		}
	}
}

// TestRESTMockIntegration: CDK's CORS preflight methods answer with their
// first integration response's status and headers; a MOCK integration
// without one answers 200 with no headers.
func TestRESTMockIntegration(t *testing.T) {
	preflight := map[string]any{"Type": "MOCK", "IntegrationResponses": []any{map[string]any{"StatusCode": "204",
		"ResponseParameters": map[string]any{"method.response.header.Access-Control-Allow-Origin": "'https://app.example'", "method.response.header.Vary": "'Origin'"}}}}
	for _, tt := range []struct {
		integration map[string]any
		status      int
		headers     map[string]string
	}{
		{preflight, 204, map[string]string{"Access-Control-Allow-Origin": "https://app.example", "Vary": "Origin"}},
		{map[string]any{"Type": "MOCK"}, 200, map[string]string{}},
	} {
		apis, err := parse(t, restTemplate(tokenAuthorizer(nil), tt.integration))
		if err != nil {
			t.Fatal(err)
		}
		var mock *MockIntegration
		for _, r := range apis[0].Routes {
			if r.Key.String() == "OPTIONS /things" {
				mock = r.Mock
			}
		}
		if mock == nil || mock.Status != tt.status || len(mock.Headers) != len(tt.headers) {
			t.Fatalf("OPTIONS /things: %+v, want %d %v", mock, tt.status, tt.headers)
		}
		for k, v := range tt.headers {
			if mock.Headers[k] != v {
				t.Errorf("header %s = %q, want %q", k, mock.Headers[k], v)
			}
		}
	}
}
