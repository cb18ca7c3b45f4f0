package test

import (
	"debug/buildinfo"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/jwtapi/jwtapi/authzspec"
	"github.com/jwtapi/jwtapi/constructs/jwtapi"
	"github.com/jwtapi/jwtapi/jwtapitest"
	"github.com/jwtapi/jwtapi/stacks"
)

// httpAuthorizers returns the logical ids of the JWT authorizers by name
// and of the Lambda authorizer.
func httpAuthorizers(t *testing.T, s *synthesized) (jwtIDs map[string]string, lambdaID string) {
	t.Helper()
	jwtIDs = map[string]string{}
	for id, a := range s.resources("AWS::ApiGatewayV2::Authorizer") {
		switch props(a)["AuthorizerType"] {
		case "JWT":
			jwtIDs[props(a)["Name"].(string)] = id
		case "REQUEST":
			lambdaID = id
		}
	}
	if len(jwtIDs) != 2 || lambdaID == "" {
		t.Fatalf("%s: want two JWT authorizers and a REQUEST one, got %v %q", s.name, jwtIDs, lambdaID)
	}
	return jwtIDs, lambdaID
}

// TestAuthorizers: every stage's HTTP API trusts the users' issuer (Auth0,
// the default authorizer) and the machine clients' Cognito user pool, each
// with its own audiences.
func TestAuthorizers(t *testing.T) {
	for _, stage := range allStages {
		t.Run(stage, func(t *testing.T) {
			s := synthStage(t, stage)
			ids, _ := httpAuthorizers(t, s)
			usersIssuer, err := jwtapi.ResolveIssuer(s.stage.Issuer, s.stage.Auth0Domain)
			if err != nil {
				t.Fatal(err)
			}
			machinesIssuer := s.stage.Machines.Issuer
			if p := s.stage.Machines.CognitoUserPool; p != nil {
				machinesIssuer = "https://cognito-idp." + p.Region + ".amazonaws.com/" + p.UserPoolID
			}
			for name, want := range map[string]struct {
				issuer    string
				audiences []string
			}{
				stacks.UsersAuthorizer:    {usersIssuer, s.stage.Audiences},
				stacks.MachinesAuthorizer: {machinesIssuer, s.stage.Machines.ClientIDs},
			} {
				p := props(s.resources("AWS::ApiGatewayV2::Authorizer")[ids[name]])
				jwt := p["JwtConfiguration"].(map[string]any)
				if jwt["Issuer"] != want.issuer {
					t.Errorf("%s: Issuer = %v, want %q", name, jwt["Issuer"], want.issuer)
				}
				if got := strs(jwt["Audience"]); !slices.Equal(got, want.audiences) || len(got) == 0 {
					t.Errorf("%s: Audience = %v, want %v", name, got, want.audiences)
				}
				if got := strs(p["IdentitySource"]); !slices.Equal(got, []string{"$request.header.Authorization"}) {
					t.Errorf("%s: IdentitySource = %v", name, got)
				}
			}
			if !strings.HasSuffix(usersIssuer, "/") {
				t.Errorf("issuer %q lacks the trailing slash Auth0 and the embedded issuer put in iss", usersIssuer)
			}
			if strings.HasSuffix(machinesIssuer, "/") {
				t.Errorf("user pool issuer %q has a trailing slash Cognito does not put in iss", machinesIssuer)
			}
		})
	}
}

func TestRoutes(t *testing.T) {
	want := map[string]struct {
		authType, authorizer string
		scopes               []string
	}{
		"GET /public":         {"NONE", "", nil},
		"GET /private":        {"JWT", stacks.UsersAuthorizer, []string{"read:user"}},
		"GET /me":             {"JWT", stacks.UsersAuthorizer, []string{"read:user"}},
		"POST /admin":         {"JWT", stacks.UsersAuthorizer, []string{"write:user"}},
		"GET /machine/status": {"JWT", stacks.MachinesAuthorizer, []string{stacks.MachineScope}},
		// Checked by the Go Lambda authorizer: permission and verified email.
		"DELETE /users/{id}": {"CUSTOM", "", nil},
	}
	for _, stage := range allStages {
		t.Run(stage, func(t *testing.T) {
			s := synthStage(t, stage)
			jwtIDs, lambdaID := httpAuthorizers(t, s)
			routes := s.resources("AWS::ApiGatewayV2::Route")
			if len(routes) != len(want) {
				t.Errorf("%d routes, want %d", len(routes), len(want))
			}
			for _, r := range routes {
				p := props(r)
				key := p["RouteKey"].(string)
				w, ok := want[key]
				if !ok {
					t.Errorf("unexpected route %q", key)
					continue
				}
				if p["AuthorizationType"] != w.authType {
					t.Errorf("%s: AuthorizationType = %v, want %s", key, p["AuthorizationType"], w.authType)
				}
				if got := strs(p["AuthorizationScopes"]); !slices.Equal(got, w.scopes) {
					t.Errorf("%s: AuthorizationScopes = %v, want %v", key, got, w.scopes)
				}
				if w.authType == "JWT" && ref(p["AuthorizerId"]) != jwtIDs[w.authorizer] {
					t.Errorf("%s: AuthorizerId = %v, want a Ref to the %s authorizer %s", key, p["AuthorizerId"], w.authorizer, jwtIDs[w.authorizer])
				}
				if w.authType == "CUSTOM" && ref(p["AuthorizerId"]) != lambdaID {
					t.Errorf("%s: AuthorizerId = %v, want a Ref to the Lambda authorizer %s", key, p["AuthorizerId"], lambdaID)
				}
				if w.authType == "NONE" && p["AuthorizerId"] != nil {
					t.Errorf("%s: public route has an authorizer", key)
				}
			}
		})
	}
}

// publicKeys lists the routes declared Public.
func publicKeys(routes map[string]jwtapi.Route) []string {
	var out []string
	for key, r := range routes {
		if r.Public {
			out = append(out, key)
		}
	}
	return out
}

// TestOnlyDeclaredPublicRoutesAreOpen is the security invariant, through
// the test kit: in every stage, a route (HTTP) or method (REST) that a
// request without a token reaches must be one the app declares Public. A
// refactoring that drops an authorizer fails here.
func TestOnlyDeclaredPublicRoutesAreOpen(t *testing.T) {
	for _, stage := range allStages {
		synthStage(t, stage).tpl.OnlyPublicRoutesOpen(t, publicKeys(stacks.ExampleRoutes())...)
		synthRest(t, stage).tpl.OnlyPublicRoutesOpen(t, publicKeys(stacks.ExampleRestRoutes())...)
	}
}

func TestFunctions(t *testing.T) {
	for _, stage := range allStages {
		t.Run(stage, func(t *testing.T) {
			s := synthStage(t, stage)
			fns := s.resources("AWS::Lambda::Function")
			if want := len(stacks.ExampleRoutes()) + 1; len(fns) != want {
				t.Fatalf("%d functions, want %d (one per route and the Lambda authorizer)", len(fns), want)
			}
			for id, fn := range fns {
				p := props(fn)
				if p["Runtime"] != "provided.al2023" || p["Handler"] != "bootstrap" {
					t.Errorf("%s: Runtime %v Handler %v, want provided.al2023 bootstrap", id, p["Runtime"], p["Handler"])
				}
				if got := strs(p["Architectures"]); !slices.Equal(got, []string{"arm64"}) {
					t.Errorf("%s: Architectures = %v, want [arm64]", id, got)
				}
				meta := fn["Metadata"].(map[string]any)
				if meta["aws:asset:is-bundled"] != true {
					t.Errorf("%s: code is not built by the construct", id)
				}
				if h, _ := meta[jwtapi.MetadataHandler].(string); !strings.HasPrefix(h, "functions/") && h != jwtapi.DefaultAuthorizerHandler {
					t.Errorf("%s: %s metadata = %q", id, jwtapi.MetadataHandler, h)
				}
				lc := p["LoggingConfig"].(map[string]any)
				if lc["LogFormat"] != "JSON" || ref(lc["LogGroup"]) == "" {
					t.Errorf("%s: LoggingConfig = %v, want JSON into its own log group", id, lc)
				}
			}
			for id, lg := range s.resources("AWS::Logs::LogGroup") {
				days := s.stage.LogRetentionDays
				if got, _ := props(lg)["RetentionInDays"].(float64); int(got) != days {
					t.Errorf("%s: RetentionInDays = %v, want %d", id, props(lg)["RetentionInDays"], days)
				}
			}
		})
	}
}

func TestStageAccessLogsAndThrottling(t *testing.T) {
	for _, stage := range allStages {
		t.Run(stage, func(t *testing.T) {
			s := synthStage(t, stage)
			_, st := s.one(t, "AWS::ApiGatewayV2::Stage")
			p := props(st)
			if p["StageName"] != "$default" || p["AutoDeploy"] != true {
				t.Errorf("stage %v AutoDeploy %v, want $default auto-deployed", p["StageName"], p["AutoDeploy"])
			}
			rs := p["DefaultRouteSettings"].(map[string]any)
			if rs["ThrottlingBurstLimit"] != float64(s.stage.Throttle.Burst) || rs["ThrottlingRateLimit"] != s.stage.Throttle.Rate {
				t.Errorf("throttling = %v, want burst %d rate %g", rs, s.stage.Throttle.Burst, s.stage.Throttle.Rate)
			}
			als := p["AccessLogSettings"].(map[string]any)
			var format map[string]string
			if err := json.Unmarshal([]byte(als["Format"].(string)), &format); err != nil {
				t.Fatalf("access log format is not a JSON object: %v", err)
			}
			for field, variable := range map[string]string{
				"requestId": "$context.requestId", "routeKey": "$context.routeKey", "status": "$context.status",
				"latency": "$context.responseLatency", "authorizerError": "$context.authorizer.error",
			} {
				if format[field] != variable {
					t.Errorf("access log field %q = %q, want %q", field, format[field], variable)
				}
			}
			if _, ok := als["DestinationArn"].(map[string]any)["Fn::GetAtt"]; !ok {
				t.Errorf("access logs go to %v, want the stack's log group", als["DestinationArn"])
			}
		})
	}
}

func TestOutputsAndNames(t *testing.T) {
	for _, stage := range allStages {
		t.Run(stage, func(t *testing.T) {
			s := synthStage(t, stage)
			out, ok := s.template["Outputs"].(map[string]any)["ApiEndpoint"].(map[string]any)
			if !ok {
				t.Fatal("no ApiEndpoint output")
			}
			b, _ := json.Marshal(out["Value"])
			if !strings.Contains(string(b), "execute-api") {
				t.Errorf("ApiEndpoint = %s, want the API's execute-api URL", b)
			}
			_, api := s.one(t, "AWS::ApiGatewayV2::Api")
			if name := props(api)["Name"]; name != "jwt-api-"+stage {
				t.Errorf("API name = %v, want jwt-api-%s", name, stage)
			}
			tags := props(api)["Tags"].(map[string]any)
			if tags["app"] != "jwt-api" || tags["stage"] != stage {
				t.Errorf("tags = %v", tags)
			}
			_, localRule := s.template["Rules"].(map[string]any)["LocalStageIsNotDeployable"]
			if localRule != s.stage.Local {
				t.Errorf("deploy-refusal rule present = %v, want %v", localRule, s.stage.Local)
			}
			if s.template["Metadata"].(map[string]any)["jwtapi:stage"] != stage {
				t.Errorf("template metadata %v, want the stage marked for jwtapi dev", s.template["Metadata"])
			}
		})
	}
}

// TestAssetsCarryBuildInfo checks that every function's code is the built
// bootstrap, addressed by a content hash, and that the binary carries Go's
// module build information (what `go version -m` and `govulncheck -mode=binary`
// read): its main package and the modules linked in.
func TestAssetsCarryBuildInfo(t *testing.T) {
	outdir := filepath.Join(outRoot, "dev")
	keys := assetDirs(t, outdir, synthStage(t, "dev"))
	if want := len(stacks.ExampleRoutes()) + 1; len(keys) != want {
		t.Errorf("%d assets, want %d", len(keys), want)
	}
	for _, key := range keys {
		bin := filepath.Join(outdir, "asset."+strings.TrimSuffix(key, ".zip"), "bootstrap")
		info, err := buildinfo.ReadFile(bin)
		if err != nil {
			t.Errorf("%s: no build information: %v", bin, err)
			continue
		}
		deps := map[string]bool{}
		for _, d := range info.Deps {
			deps[d.Path] = true
		}
		if !strings.HasPrefix(info.Path, "github.com/jwtapi/jwtapi/functions/") || info.Main.Path != "github.com/jwtapi/jwtapi" || !deps["github.com/aws/aws-lambda-go"] {
			t.Errorf("%s: build info names %s of %s with deps %v; want a handler of github.com/jwtapi/jwtapi linking aws-lambda-go", bin, info.Path, info.Main.Path, deps)
		}
	}
}

var s3Key = regexp.MustCompile(`^[0-9a-f]{64}\.zip$`)

func assetDirs(t *testing.T, outdir string, s *synthesized) []string {
	t.Helper()
	var keys []string
	for id, fn := range s.resources("AWS::Lambda::Function") {
		key, _ := props(fn)["Code"].(map[string]any)["S3Key"].(string)
		if !s3Key.MatchString(key) {
			t.Errorf("%s: S3Key %q is not a content hash", id, key)
		}
		if _, err := os.Stat(filepath.Join(outdir, "asset."+strings.TrimSuffix(key, ".zip"), "bootstrap")); err != nil {
			t.Errorf("%s: built bootstrap missing: %v", id, err)
		}
		keys = append(keys, key)
	}
	slices.Sort(keys)
	return keys
}

// TestCdkNag runs every stage's stacks through the test kit's cdk-nag
// check (AwsSolutions and Serverless, a real reason on each suppression).
func TestCdkNag(t *testing.T) {
	for _, stage := range allStages {
		t.Run(stage, func(t *testing.T) {
			_, _, sa := newStageApp(t, stage, t.TempDir())
			jwtapitest.Nag(t, sa.Api.Stack)
			jwtapitest.Nag(t, sa.Rest.Stack)
		})
	}
}

// TestNoOtherSynthWarnings: besides cdk-nag, nothing warns at synth but
// the placeholders cdk.json ships with (see TestPlaceholderTenantWarns).
func TestNoOtherSynthWarnings(t *testing.T) {
	for _, stage := range allStages {
		ss := synthStacks(t, stage)
		if ss.api.synthErr != nil {
			t.Errorf("stage %s: synth failed: %v", stage, ss.api.synthErr)
		}
		for _, m := range append(ss.api.messages, ss.rest.messages...) {
			data := fmt.Sprint(m.Data)
			if strings.Contains(data, "jwtapi:placeholder-tenant") || strings.Contains(data, "jwtapi:placeholder-pool") {
				continue
			}
			if m.Type == "aws:cdk:error" || m.Type == "aws:cdk:warning" {
				t.Errorf("stage %s: %s at %s: %v", stage, m.Type, m.Path, data)
			}
		}
	}
}

func strs(v any) []string {
	list, _ := v.([]any)
	var out []string
	for _, x := range list {
		out = append(out, x.(string))
	}
	return out
}

func ref(v any) string {
	m, _ := v.(map[string]any)
	s, _ := m["Ref"].(string)
	return s
}

func TestLambdaAuthorizer(t *testing.T) {
	for _, stage := range allStages {
		t.Run(stage, func(t *testing.T) {
			s := synthStage(t, stage)
			_, lambdaID := httpAuthorizers(t, s)
			p := props(s.resources("AWS::ApiGatewayV2::Authorizer")[lambdaID])
			if p["AuthorizerPayloadFormatVersion"] != "2.0" || p["EnableSimpleResponses"] != true || p["AuthorizerResultTtlInSeconds"] != float64(0) {
				t.Errorf("authorizer %v, want payload 2.0, simple responses, no caching", p)
			}
			if got := strs(p["IdentitySource"]); !slices.Equal(got, []string{"$request.header.Authorization"}) {
				t.Errorf("IdentitySource = %v", got)
			}
			checkAuthorizerFunction(t, s, stacks.ExampleRoutes())
		})
	}
}

// checkAuthorizerFunction finds the Go Lambda authorizer and checks its
// configuration against the stage and the routes' rules.
func checkAuthorizerFunction(t *testing.T, s *synthesized, routes map[string]jwtapi.Route) {
	t.Helper()
	for id, fn := range s.resources("AWS::Lambda::Function") {
		if fn["Metadata"].(map[string]any)[jwtapi.MetadataHandler] != jwtapi.DefaultAuthorizerHandler {
			continue
		}
		env := props(fn)["Environment"].(map[string]any)["Variables"].(map[string]any)
		issuer, _ := jwtapi.ResolveIssuer(s.stage.Issuer, s.stage.Auth0Domain)
		if env["JWT_ISSUER"] != issuer || env["JWT_AUDIENCES"] != strings.Join(s.stage.Audiences, ",") {
			t.Errorf("%s: JWT_ISSUER %v JWT_AUDIENCES %v", id, env["JWT_ISSUER"], env["JWT_AUDIENCES"])
		}
		rules, err := authzspec.ParseRules([]byte(env["AUTHZ_RULES"].(string)))
		if err != nil {
			t.Fatalf("%s: AUTHZ_RULES: %v", id, err)
		}
		for key, r := range routes {
			// Scopes alone are the native JWT authorizer's on a REST API,
			// the managed JWT authorizer's on an HTTP API: only rules reach
			// the Lambda authorizer.
			want := r.Rules
			got, ok := rules[key]
			if (want != nil) != ok {
				t.Errorf("%s: rule for %s present = %v, want %v", id, key, ok, want != nil)
				continue
			}
			if want != nil {
				a, _ := json.Marshal(got)
				b, _ := json.Marshal(want)
				if string(a) != string(b) {
					t.Errorf("%s: rule for %s = %s, want %s", id, key, a, b)
				}
			}
		}
		return
	}
	t.Fatalf("%s: no Go Lambda authorizer function", s.name)
}
