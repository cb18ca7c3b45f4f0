package test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/jwtapi/jwtapi/jwtapitest"
)

// TestCfnLint validates every synthesized template against CloudFormation's
// schemas with cfn-lint.
func TestCfnLint(t *testing.T) {
	var deployable []*jwtapitest.Template
	for _, stage := range []string{"dev", "prod"} {
		deployable = append(deployable, synthStage(t, stage).tpl, synthRest(t, stage).tpl)
	}
	jwtapitest.CfnLint(t, nil, deployable...)
	ignore := map[string]string{"W8003": "the local stage's deploy-refusal rule is a condition that is always false on purpose, so that CloudFormation refuses every deploy of it"}
	jwtapitest.CfnLint(t, ignore, synthStage(t, "local").tpl, synthRest(t, "local").tpl)
}

// recorder is a testing.TB that records failures, so the kit's checks can
// be shown to fail.
type recorder struct {
	testing.TB
	errs  []string
	fatal bool
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	r.fatal = true
	runtime.Goexit()
}

func (r *recorder) Fatal(args ...any) { r.Fatalf("%s", fmt.Sprint(args...)) }

// record runs check against a recorder (on its own goroutine, as a Fatalf
// ends it) and returns what it reported.
func record(t *testing.T, check func(tb testing.TB)) *recorder {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		check(r)
	}()
	<-done
	return r
}

func (r *recorder) has(t *testing.T, wants ...string) {
	t.Helper()
	all := strings.Join(r.errs, "\n")
	for _, w := range wants {
		if !strings.Contains(all, w) {
			t.Errorf("reported:\n%s\nwant a failure mentioning %q", all, w)
		}
	}
}

// kitTemplate is a hand-written template of shapes the example app does
// not have: an HTTP API with a $default route, an ANY route, an IAM route,
// a JWT route whose authorizer is missing, a WebSocket API, and a REST API
// with nested resources, a CORS preflight and an API key only method.
const kitTemplate = `{"Resources": {
 "Http": {"Type": "AWS::ApiGatewayV2::Api", "Properties": {"ProtocolType": "HTTP"}},
 "Jwt": {"Type": "AWS::ApiGatewayV2::Authorizer", "Properties": {"AuthorizerType": "JWT"}},
 "Default": {"Type": "AWS::ApiGatewayV2::Route", "Properties": {"ApiId": {"Ref": "Http"}, "RouteKey": "$default"}},
 "Any": {"Type": "AWS::ApiGatewayV2::Route", "Properties": {"ApiId": {"Ref": "Http"}, "RouteKey": "ANY /files/{proxy+}", "AuthorizationType": "NONE"}},
 "Health": {"Type": "AWS::ApiGatewayV2::Route", "Properties": {"ApiId": {"Ref": "Http"}, "RouteKey": "GET /health"}},
 "Iam": {"Type": "AWS::ApiGatewayV2::Route", "Properties": {"ApiId": {"Ref": "Http"}, "RouteKey": "POST /internal", "AuthorizationType": "AWS_IAM"}},
 "Orders": {"Type": "AWS::ApiGatewayV2::Route", "Properties": {"ApiId": {"Ref": "Http"}, "RouteKey": "GET /orders", "AuthorizationType": "JWT", "AuthorizerId": {"Ref": "Jwt"}}},
 "Dangling": {"Type": "AWS::ApiGatewayV2::Route", "Properties": {"ApiId": {"Ref": "Http"}, "RouteKey": "GET /dangling", "AuthorizationType": "JWT", "AuthorizerId": {"Ref": "Gone"}}},
 "Ws": {"Type": "AWS::ApiGatewayV2::Api", "Properties": {"ProtocolType": "WEBSOCKET"}},
 "WsMessage": {"Type": "AWS::ApiGatewayV2::Route", "Properties": {"ApiId": {"Ref": "Ws"}, "RouteKey": "sendmessage"}},
 "WsConnect": {"Type": "AWS::ApiGatewayV2::Route", "Properties": {"ApiId": {"Ref": "Ws"}, "RouteKey": "$connect"}},
 "Rest": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "r"}},
 "Tok": {"Type": "AWS::ApiGateway::Authorizer", "Properties": {"Type": "TOKEN"}},
 "Items": {"Type": "AWS::ApiGateway::Resource", "Properties": {"ParentId": {"Fn::GetAtt": ["Rest", "RootResourceId"]}, "PathPart": "items", "RestApiId": {"Ref": "Rest"}}},
 "Item": {"Type": "AWS::ApiGateway::Resource", "Properties": {"ParentId": {"Ref": "Items"}, "PathPart": "{id}", "RestApiId": {"Ref": "Rest"}}},
 "GetItem": {"Type": "AWS::ApiGateway::Method", "Properties": {"HttpMethod": "GET", "ResourceId": {"Ref": "Item"}, "RestApiId": {"Ref": "Rest"}, "AuthorizationType": "CUSTOM", "AuthorizerId": {"Ref": "Tok"}}},
 "PutItem": {"Type": "AWS::ApiGateway::Method", "Properties": {"HttpMethod": "PUT", "ResourceId": {"Ref": "Item"}, "RestApiId": {"Ref": "Rest"}, "AuthorizationType": "NONE", "ApiKeyRequired": true}},
 "Preflight": {"Type": "AWS::ApiGateway::Method", "Properties": {"HttpMethod": "OPTIONS", "ResourceId": {"Ref": "Item"}, "RestApiId": {"Ref": "Rest"}, "AuthorizationType": "NONE", "Integration": {"Type": "MOCK"}}},
 "Root": {"Type": "AWS::ApiGateway::Method", "Properties": {"HttpMethod": "GET", "ResourceId": {"Fn::GetAtt": ["Rest", "RootResourceId"]}, "RestApiId": {"Ref": "Rest"}, "AuthorizationType": "NONE"}}
}}`

func TestKitOnlyPublicRoutesOpen(t *testing.T) {
	tpl := jwtapitest.FromJSON(t, "Kit", jsonValue(t, kitTemplate))
	r := record(t, func(tb testing.TB) { tpl.OnlyPublicRoutesOpen(tb, "GET /health", "GET /", "GET /orders", "GET /gone") })
	r.has(t,
		`http route "$default" (API Http) is reachable without a token but is not listed as public`,
		`http route "ANY /files/{proxy+}" (API Http) is reachable without a token`,
		`http route "GET /dangling" (API Http) uses JWT authorization but no authorizer of the template`,
		`http route "$connect" (API Ws) is reachable without a token`,
		`rest route "PUT /items/{id}" (API Rest) is reachable without a token`, // an API key is not a token
		`"GET /orders" (API Http) is listed as public but requires JWT authorization`,
		`"GET /gone" is listed as public but no API of the template has that route`,
	)
	for _, quiet := range []string{`"GET /health"`, `"GET /" `, `POST /internal`, `GET /items/{id}`, `OPTIONS`, `sendmessage`} {
		for _, e := range r.errs {
			if strings.Contains(e, quiet) && !strings.Contains(e, "listed as public but") {
				t.Errorf("reported %q, which is fine", e)
			}
		}
	}
	if len(r.errs) != 7 {
		t.Errorf("%d failures, want 7:\n%s", len(r.errs), strings.Join(r.errs, "\n"))
	}
	// Declaring everything that is open leaves only the dangling authorizer.
	r = record(t, func(tb testing.TB) {
		tpl.OnlyPublicRoutesOpen(tb, "GET /health", "GET /", "$default", "ANY /files/{proxy+}", "$connect", "PUT /items/{id}")
	})
	if len(r.errs) != 1 || !strings.Contains(r.errs[0], "GET /dangling") {
		t.Errorf("with every open route declared: %v", r.errs)
	}
	quick := jwtapitest.FromJSON(t, "Quick", jsonValue(t, `{"Resources": {"Api": {"Type": "AWS::ApiGatewayV2::Api", "Properties": {"Target": "arn:aws:lambda:x"}}}}`))
	record(t, func(tb testing.TB) { quick.OnlyPublicRoutesOpen(tb) }).has(t, "quick-create Target")
}

// TestKitRestJwtMethods: a REST method of authorization JWT counts as
// protected only with a JWT authorizer of the template: a missing one, or
// an authorizer of another kind, is reported.
func TestKitRestJwtMethods(t *testing.T) {
	tpl := jwtapitest.FromJSON(t, "RestJwt", jsonValue(t, `{"Resources": {
 "Rest": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "r"}},
 "Native": {"Type": "AWS::ApiGateway::Authorizer", "Properties": {"Type": "JWT", "RestApiId": {"Ref": "Rest"}}},
 "Tok": {"Type": "AWS::ApiGateway::Authorizer", "Properties": {"Type": "TOKEN", "RestApiId": {"Ref": "Rest"}}},
 "A": {"Type": "AWS::ApiGateway::Resource", "Properties": {"ParentId": {"Fn::GetAtt": ["Rest", "RootResourceId"]}, "PathPart": "a", "RestApiId": {"Ref": "Rest"}}},
 "B": {"Type": "AWS::ApiGateway::Resource", "Properties": {"ParentId": {"Fn::GetAtt": ["Rest", "RootResourceId"]}, "PathPart": "b", "RestApiId": {"Ref": "Rest"}}},
 "C": {"Type": "AWS::ApiGateway::Resource", "Properties": {"ParentId": {"Fn::GetAtt": ["Rest", "RootResourceId"]}, "PathPart": "c", "RestApiId": {"Ref": "Rest"}}},
 "D": {"Type": "AWS::ApiGateway::Resource", "Properties": {"ParentId": {"Fn::GetAtt": ["Rest", "RootResourceId"]}, "PathPart": "d", "RestApiId": {"Ref": "Rest"}}},
 "GetA": {"Type": "AWS::ApiGateway::Method", "Properties": {"HttpMethod": "GET", "ResourceId": {"Ref": "A"}, "RestApiId": {"Ref": "Rest"}, "AuthorizationType": "JWT", "AuthorizerId": {"Ref": "Native"}}},
 "GetB": {"Type": "AWS::ApiGateway::Method", "Properties": {"HttpMethod": "GET", "ResourceId": {"Ref": "B"}, "RestApiId": {"Ref": "Rest"}, "AuthorizationType": "JWT", "AuthorizerId": {"Ref": "Gone"}}},
 "GetC": {"Type": "AWS::ApiGateway::Method", "Properties": {"HttpMethod": "GET", "ResourceId": {"Ref": "C"}, "RestApiId": {"Ref": "Rest"}, "AuthorizationType": "JWT", "AuthorizerId": {"Ref": "Tok"}}},
 "GetD": {"Type": "AWS::ApiGateway::Method", "Properties": {"HttpMethod": "GET", "ResourceId": {"Ref": "D"}, "RestApiId": {"Ref": "Rest"}, "AuthorizationType": "CUSTOM", "AuthorizerId": {"Ref": "Native"}}}
}}`))
	r := record(t, func(tb testing.TB) { tpl.OnlyPublicRoutesOpen(tb) })
	r.has(t,
		`rest route "GET /b" (API Rest) uses JWT authorization but no authorizer of the template`,
		`REST method GET /c (API Rest) has authorization JWT with the TOKEN authorizer Tok`,
		`REST method GET /d (API Rest) has authorization CUSTOM with the JWT authorizer Native`,
	)
	for _, e := range r.errs {
		if strings.Contains(e, `"GET /a"`) || strings.Contains(e, "GET /a ") {
			t.Errorf("the JWT method with its JWT authorizer was reported: %s", e)
		}
	}
}

func TestKitSnapshot(t *testing.T) {
	hash := strings.Repeat("ab", 32)
	tpl := jwtapitest.FromJSON(t, "Snap", jsonValue(t, `{"Resources": {"F": {"Type": "AWS::Lambda::Function", "Properties": {"Code": {"S3Key": "`+hash+`.zip"}}}}}`))
	golden := filepath.Join(t.TempDir(), "testdata", "snap.template.json")
	// Under CI a missing golden file fails; elsewhere the first run writes it.
	t.Setenv("CI", "true")
	record(t, func(tb testing.TB) { tpl.Snapshot(tb, golden) }).has(t, "no golden file", "-update")
	if _, err := os.Stat(golden); err == nil {
		t.Fatalf("under CI the missing golden file was written")
	}
	t.Setenv("CI", "")
	if r := record(t, func(tb testing.TB) { tpl.Snapshot(tb, golden) }); len(r.errs) != 0 {
		t.Errorf("first run without CI: %v", r.errs)
	}
	if b, err := os.ReadFile(golden); err != nil || string(b) != string(tpl.Normalized()) {
		t.Fatalf("the first run did not write the snapshot: %v %s", err, b)
	}
	if r := record(t, func(tb testing.TB) { tpl.Snapshot(tb, golden) }); len(r.errs) != 0 {
		t.Errorf("identical template: %v", r.errs)
	}
	if strings.Contains(string(tpl.Normalized()), hash) || !strings.Contains(string(tpl.Normalized()), "<asset-hash>.zip") {
		t.Errorf("asset hash not masked:\n%s", tpl.Normalized())
	}
	other := jwtapitest.FromJSON(t, "Snap", jsonValue(t, `{"Resources": {"F": {"Type": "AWS::Lambda::Function", "Properties": {"Code": {"S3Key": "`+strings.Repeat("cd", 32)+`.zip"}}}}}`))
	if r := record(t, func(tb testing.TB) { other.Snapshot(tb, golden) }); len(r.errs) != 0 {
		t.Errorf("a different asset hash is a change: %v", r.errs)
	}
	changed := jwtapitest.FromJSON(t, "Snap", jsonValue(t, `{"Resources": {"F": {"Type": "AWS::Lambda::Function", "Properties": {"Code": {"S3Key": "x.zip"}, "MemorySize": 512}}}}`))
	record(t, func(tb testing.TB) { changed.Snapshot(tb, golden) }).has(t, "differs from", `"MemorySize": 512`)
}

func TestKitNag(t *testing.T) {
	for _, inReport := range []bool{false, true} {
		t.Run(fmt.Sprintf("annotationsInValidationReport=%v", inReport), func(t *testing.T) {
			app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir()), Context: &map[string]any{"@aws-cdk/core:annotationsInValidationReport": inReport}})
			stack := awscdk.NewStack(app, jsii.String("Bad"), nil)
			awsiam.NewRole(stack, jsii.String("Admin"), &awsiam.RoleProps{
				AssumedBy:       awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
				ManagedPolicies: &[]awsiam.IManagedPolicy{awsiam.ManagedPolicy_FromAwsManagedPolicyName(jsii.String("AdministratorAccess"))},
			})
			var found []jwtapitest.Finding
			r := record(t, func(tb testing.TB) { found = jwtapitest.Nag(tb, stack) })
			r.has(t, "AwsSolutions-IAM4")
			if len(found) == 0 || found[0].Rule != "AwsSolutions-IAM4" || found[0].Level != "error" {
				t.Errorf("findings %v", found)
			}
		})
	}
	// A suppression needs a reason a reader can act on.
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	stack := awscdk.NewStack(app, jsii.String("Lazy"), nil)
	role := awsiam.NewRole(stack, jsii.String("Admin"), &awsiam.RoleProps{
		AssumedBy:       awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		ManagedPolicies: &[]awsiam.IManagedPolicy{awsiam.ManagedPolicy_FromAwsManagedPolicyName(jsii.String("AdministratorAccess"))},
	})
	cdknag.NagSuppressions_AddResourceSuppressions(role, &[]*cdknag.NagPackSuppression{
		{Id: jsii.String("AwsSolutions-IAM4"), Reason: jsii.String("needed for now, ok")},
	}, nil)
	r := record(t, func(tb testing.TB) { jwtapitest.Nag(tb, stack) })
	r.has(t, `suppresses AwsSolutions-IAM4 with the reason "needed for now, ok"`)
	if strings.Contains(strings.Join(r.errs, "\n"), "cdk-nag error") {
		t.Errorf("a suppressed finding was reported: %v", r.errs)
	}
}

func TestKitCfnLint(t *testing.T) {
	bad := jwtapitest.FromJSON(t, "Bad", jsonValue(t, `{"Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeoutz": 30}}}}`))
	record(t, func(tb testing.TB) { jwtapitest.CfnLint(tb, nil, bad) }).has(t, "cfn-lint E3002 in Bad", "VisibilityTimeoutz")
	record(t, func(tb testing.TB) { jwtapitest.CfnLint(tb, map[string]string{"E3002": "fine"}, bad) }).has(t, `rule E3002 is ignored with the reason "fine"`)
	// CDK's redundant DependsOn (W3005) is ignored by default, and only it.
	redundant := jwtapitest.FromJSON(t, "Redundant", jsonValue(t, `{"Resources": {
		"Q": {"Type": "AWS::SQS::Queue"},
		"T": {"Type": "AWS::SNS::Topic", "DependsOn": ["Q"], "Properties": {"DisplayName": {"Fn::GetAtt": ["Q", "QueueName"]}}}}}`))
	if r := record(t, func(tb testing.TB) { redundant.CfnLint(tb, nil) }); len(r.errs) != 0 {
		t.Errorf("W3005 with the default ignores: %v", r.errs)
	}
	// The REST JWT authorizer's JwtConfiguration, unknown to cfn-lint's
	// schemas, passes; another unknown property of the same resource does not.
	native := jwtapitest.FromJSON(t, "Native", jsonValue(t, `{"Resources": {
		"Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "x"}},
		"Auth": {"Type": "AWS::ApiGateway::Authorizer", "Properties": {"RestApiId": {"Ref": "Api"}, "Name": "jwt", "Type": "JWT",
			"IdentitySource": "method.request.header.Authorization",
			"JwtConfiguration": {"DefaultAlgorithms": ["RS256"], "Issuers": [{"Issuer": "https://x.us.auth0.com/", "Audiences": ["https://a"]}]}}}}}`))
	if r := record(t, func(tb testing.TB) { native.CfnLint(tb, nil) }); len(r.errs) != 0 {
		t.Errorf("a REST JWT authorizer: %v", r.errs)
	}
	typo := jwtapitest.FromJSON(t, "Typo", jsonValue(t, `{"Resources": {
		"Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "x"}},
		"Auth": {"Type": "AWS::ApiGateway::Authorizer", "Properties": {"RestApiId": {"Ref": "Api"}, "Name": "jwt", "Type": "JWT", "JwtConfig": {}}}}}`))
	record(t, func(tb testing.TB) { typo.CfnLint(tb, nil) }).has(t, "cfn-lint E3002 in Typo", "JwtConfig")
	saved := jwtapitest.DefaultIgnored
	jwtapitest.DefaultIgnored = map[string]string{}
	record(t, func(tb testing.TB) { redundant.CfnLint(tb, nil) }).has(t, "cfn-lint W3005 in Redundant")
	jwtapitest.DefaultIgnored = saved
	t.Setenv("PATH", t.TempDir())
	r := record(t, func(tb testing.TB) { bad.CfnLint(tb, nil) })
	if !r.fatal {
		t.Error("no cfn-lint on PATH did not fail the test")
	}
	r.has(t, "cfn-lint is not on PATH")
}

func jsonValue(t *testing.T, s string) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatal(err)
	}
	return v
}
