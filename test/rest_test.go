package test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/jwtapi/jwtapi/constructs/jwtapi"
	"github.com/jwtapi/jwtapi/stacks"
)

// methodRoute reads "GET /users/{id}" from a method's construct path.
func methodRoute(m map[string]any) string {
	path := m["Metadata"].(map[string]any)["aws:cdk:path"].(string)
	_, rest, _ := strings.Cut(path, "/Resource/Default")
	parts := strings.Split(strings.TrimSuffix(rest, "/Resource"), "/")
	method := parts[len(parts)-1]
	resource := "/" + strings.Join(parts[:len(parts)-1], "/")
	return method + " " + strings.ReplaceAll(resource, "//", "/")
}

func TestRestAuthorizer(t *testing.T) {
	for _, stage := range allStages {
		t.Run(stage, func(t *testing.T) {
			s := synthRest(t, stage)
			byType := map[string]map[string]any{}
			ids := map[string]string{}
			for id, a := range s.resources("AWS::ApiGateway::Authorizer") {
				byType[props(a)["Type"].(string)], ids[props(a)["Type"].(string)] = props(a), id
			}
			if len(byType) != 2 || byType["JWT"] == nil || byType["TOKEN"] == nil {
				t.Fatalf("authorizers %v, want the native JWT one and the Lambda TOKEN one", byType)
			}
			// The native one trusts the stage's issuer and audiences.
			issuer, _ := jwtapi.ResolveIssuer(s.stage.Issuer, s.stage.Auth0Domain)
			cfg, _ := json.Marshal(byType["JWT"]["JwtConfiguration"])
			want, _ := json.Marshal(map[string]any{"DefaultAlgorithms": []string{"RS256"}, "Issuers": []any{map[string]any{"Audiences": s.stage.Audiences, "Issuer": issuer}}})
			if string(cfg) != string(want) || byType["JWT"]["IdentitySource"] != "method.request.header.Authorization" {
				t.Errorf("JWT authorizer %v, want JwtConfiguration %s", byType["JWT"], want)
			}
			// GET /private is the native one's with its scope; DELETE the Lambda one's.
			for _, m := range s.resources("AWS::ApiGateway::Method") {
				mp := props(m)
				switch methodRoute(m) {
				case "GET /private":
					if mp["AuthorizationType"] != "JWT" || ref(mp["AuthorizerId"]) != ids["JWT"] || fmt.Sprint(mp["AuthorizationScopes"]) != "[read:user]" {
						t.Errorf("GET /private: %v", mp)
					}
				case "DELETE /users/{id}":
					if mp["AuthorizationType"] != "CUSTOM" || ref(mp["AuthorizerId"]) != ids["TOKEN"] {
						t.Errorf("DELETE /users/{id}: %v", mp)
					}
				}
			}
			p := byType["TOKEN"]
			if p["IdentitySource"] != "method.request.header.Authorization" || p["AuthorizerResultTtlInSeconds"] != float64(0) {
				t.Errorf("authorizer %v", p)
			}
			re, err := regexp.Compile(p["IdentityValidationExpression"].(string))
			if err != nil {
				t.Fatal(err)
			}
			for header, ok := range map[string]bool{"Bearer eyJ.eyJ.sig-_": true, "bearer abc": true, "Basic dXNlcg==": false, "eyJ.eyJ.sig": false, "Bearer ": false} {
				if re.MatchString(header) != ok {
					t.Errorf("validation expression on %q = %v, want %v", header, !ok, ok)
				}
			}
			checkAuthorizerFunction(t, s, stacks.ExampleRestRoutes())
		})
	}
}

func TestRestGatewayResponsesCarryCodes(t *testing.T) {
	s := synthRest(t, "prod")
	byType := map[string]map[string]any{}
	for _, r := range s.resources("AWS::ApiGateway::GatewayResponse") {
		byType[props(r)["ResponseType"].(string)] = props(r)
	}
	unauth := byType["UNAUTHORIZED"]
	body := unauth["ResponseTemplates"].(map[string]any)["application/json"].(string)
	var parsed map[string]string
	if unauth["StatusCode"] != "401" || json.Unmarshal([]byte(body), &parsed) != nil || parsed["code"] == "" {
		t.Errorf("UNAUTHORIZED response %v", unauth)
	}
	denied := byType["ACCESS_DENIED"]
	tpl := denied["ResponseTemplates"].(map[string]any)["application/json"].(string)
	if denied["StatusCode"] != "403" || !strings.Contains(tpl, `"code":"$context.authorizer.code"`) || !strings.Contains(tpl, `"error":"$context.authorizer.error"`) {
		t.Errorf("ACCESS_DENIED response %v", denied)
	}
	for _, typ := range []string{"AUTHORIZER_FAILURE", "AUTHORIZER_CONFIGURATION_ERROR"} {
		if byType[typ]["StatusCode"] != "500" {
			t.Errorf("%s response %v", typ, byType[typ])
		}
	}
}

func TestRestStage(t *testing.T) {
	for _, stage := range allStages {
		t.Run(stage, func(t *testing.T) {
			s := synthRest(t, stage)
			_, st := s.one(t, "AWS::ApiGateway::Stage")
			p := props(st)
			if p["StageName"] != stage || p["TracingEnabled"] != true {
				t.Errorf("stage %v", p)
			}
			var format map[string]string
			if err := json.Unmarshal([]byte(p["AccessLogSetting"].(map[string]any)["Format"].(string)), &format); err != nil {
				t.Fatalf("access log format: %v", err)
			}
			if format["requestId"] != "$context.requestId" || format["status"] != "$context.status" || format["authorizerCode"] != "$context.authorizer.code" {
				t.Errorf("access log format %v", format)
			}
			settings := p["MethodSettings"].([]any)[0].(map[string]any)
			if settings["ThrottlingBurstLimit"] != float64(s.stage.Throttle.Burst) || settings["ThrottlingRateLimit"] != s.stage.Throttle.Rate {
				t.Errorf("throttling %v", settings)
			}
			_, localRule := s.template["Rules"].(map[string]any)["LocalStageIsNotDeployable"]
			if localRule != s.stage.Local {
				t.Errorf("deploy-refusal rule present = %v, want %v", localRule, s.stage.Local)
			}
			if s.template["Metadata"].(map[string]any)["jwtapi:stage"] != stage {
				t.Errorf("template metadata %v, want the stage marked for jwtapi dev", s.template["Metadata"])
			}
			out := s.template["Outputs"].(map[string]any)["RestApiEndpoint"]
			if b, _ := json.Marshal(out); !strings.Contains(string(b), "execute-api") {
				t.Errorf("RestApiEndpoint output %s", b)
			}
		})
	}
}
