package test

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/jsii-runtime-go"

	"github.com/jwtapi/jwtapi/jwtapitest"
	"github.com/jwtapi/jwtapi/stacks"
)

func cdkContext(t *testing.T) map[string]any {
	t.Helper()
	ctx, err := stacks.ReadCdkJSON("..")
	if err != nil {
		t.Fatal(err)
	}
	return ctx
}

func TestCdkJSONHasTheStages(t *testing.T) {
	ctx := cdkContext(t)
	stages, err := stacks.ParseStages(ctx["stages"])
	if err != nil {
		t.Fatal(err)
	}
	if got := stacks.StageNames(stages); !slices.Equal(got, []string{"dev", "local", "prod"}) {
		t.Errorf("stages = %v", got)
	}
	if !stages["local"].Local || stages["dev"].Local || stages["prod"].Local {
		t.Error("only the local stage may be marked local")
	}
	if stages["local"].Issuer != "http://127.0.0.1:4000/" {
		t.Errorf("local issuer = %q, want the embedded issuer http://127.0.0.1:4000/", stages["local"].Issuer)
	}
	// Without these flags the CDK CLI nags that feature flags are not configured.
	for _, flag := range []string{"@aws-cdk/core:enablePartitionLiterals", "@aws-cdk/aws-iam:minimizePolicies", "@aws-cdk/aws-lambda:recognizeLayerVersion"} {
		if _, ok := ctx[flag]; !ok {
			t.Errorf("cdk.json lacks the recommended feature flag %s", flag)
		}
	}
}

func TestSelectStage(t *testing.T) {
	stagesCtx := cdkContext(t)["stages"]
	tests := []struct {
		name    string
		stage   string
		o       stacks.Overrides
		wantErr string
		check   func(s stacks.Stage) error
	}{
		{name: "default is dev", stage: "", check: func(s stacks.Stage) error { return expect(s.Name, "dev") }},
		{name: "unknown stage lists known ones", stage: "qa", wantErr: `unknown stage "qa"; known stages: dev, local, prod`},
		{name: "domain override", stage: "prod", o: stacks.Overrides{Auth0Domain: "acme.eu.auth0.com", Audiences: []string{"https://api.acme.com"}},
			check: func(s stacks.Stage) error {
				if s.Auth0Domain != "acme.eu.auth0.com" || s.Issuer != "" || !slices.Equal(s.Audiences, []string{"https://api.acme.com"}) {
					return fmt.Errorf("got %+v", s)
				}
				return nil
			}},
		{name: "issuer override replaces the domain", stage: "dev", o: stacks.Overrides{Issuer: "https://login.acme.com/"},
			check: func(s stacks.Stage) error { return expect(s.Issuer+"|"+s.Auth0Domain, "https://login.acme.com/|") }},
		{name: "bad override", stage: "dev", o: stacks.Overrides{Issuer: "http://login.acme.com/"}, wantErr: `stages.dev: jwtapi: invalid props: Issuer: "http://login.acme.com/" must use https`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := stacks.SelectStage(stagesCtx, tt.stage, tt.o)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, stacks.ErrConfig) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := tt.check(s); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestStageTyposAreErrors(t *testing.T) {
	bad := map[string]any{"dev": map[string]any{"auth0Domain": "x.auth0.com", "audience": []any{"a"}}}
	_, err := stacks.SelectStage(bad, "dev", stacks.Overrides{})
	if err == nil || !strings.Contains(err.Error(), `stages.dev`) || !strings.Contains(err.Error(), `"audience"`) {
		t.Fatalf("err = %v, want one naming stages.dev and the unknown field \"audience\"", err)
	}
	if _, err := stacks.SelectStage(nil, "dev", stacks.Overrides{}); err == nil || !strings.Contains(err.Error(), `no "stages" map`) {
		t.Fatalf("err = %v, want a missing stages message", err)
	}
}

func TestEdgeOverrides(t *testing.T) {
	env := map[string]string{"AUTH0_DOMAIN": "acme.us.auth0.com", "AUTH0_AUDIENCE": "https://a, https://b"}
	getenv := func(k string) string { return env[k] }
	none := func(string) string { return "" }

	o := stacks.EdgeOverrides("prod", none, getenv)
	if o.Auth0Domain != "acme.us.auth0.com" || !slices.Equal(o.Audiences, []string{"https://a", "https://b"}) {
		t.Errorf("env overrides = %+v", o)
	}
	ctx := map[string]string{"issuer": "https://login.acme.com/", "audience": "https://c"}
	o = stacks.EdgeOverrides("prod", func(k string) string { return ctx[k] }, getenv)
	if o.Issuer != "https://login.acme.com/" || o.Auth0Domain != "" || !slices.Equal(o.Audiences, []string{"https://c"}) {
		t.Errorf("context must win over env: %+v", o)
	}
	if o := stacks.EdgeOverrides("local", none, getenv); o.Auth0Domain != "" || o.Audiences != nil {
		t.Errorf("local stage took the environment's tenant: %+v", o)
	}
}

// TestPlaceholderTenantWarns: the example tenant and user pool cdk.json
// ships with for dev and prod warn at synth until the team sets its own.
func TestPlaceholderTenantWarns(t *testing.T) {
	for _, stage := range allStages {
		for _, placeholder := range []string{stacks.PlaceholderTenant, stacks.PlaceholderPool} {
			found := false
			for _, m := range synthStage(t, stage).messages {
				if m.Type == "aws:cdk:warning" && strings.Contains(fmt.Sprint(m.Data), placeholder) {
					found = true
				}
			}
			if want := stage != "local"; found != want {
				t.Errorf("stage %s: placeholder %s warning = %v, want %v", stage, placeholder, found, want)
			}
		}
	}
}

func expect(got, want string) error {
	if got != want {
		return fmt.Errorf("got %q, want %q", got, want)
	}
	return nil
}

// editedStages returns cdk.json's stages with one stage edited.
func editedStages(t *testing.T, stage string, edit func(s map[string]any)) any {
	t.Helper()
	raw, _ := json.Marshal(cdkContext(t)["stages"])
	var stages map[string]any
	json.Unmarshal(raw, &stages)
	edit(stages[stage].(map[string]any))
	return stages
}

func TestStageMachinesAndDomainErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		edit func(s map[string]any)
		want string
	}{
		{"no machines", func(s map[string]any) { delete(s, "machines") }, "stages.prod: machines is missing"},
		{"pool and issuer", func(s map[string]any) { s["machines"].(map[string]any)["issuer"] = "https://login.acme.com/" }, "stages.prod.machines: give cognitoUserPool (region and userPoolId) or issuer, one of them"},
		{"pool without region", func(s map[string]any) {
			s["machines"].(map[string]any)["cognitoUserPool"] = map[string]any{"userPoolId": "eu-west-1_abc"}
		}, "stages.prod.machines.cognitoUserPool: region and userPoolId are both required"},
		{"no client ids", func(s map[string]any) { s["machines"].(map[string]any)["clientIds"] = []any{} }, "stages.prod.machines.clientIds"},
		{"bad certificate", func(s map[string]any) {
			s["domain"] = map[string]any{"name": "api.acme.com", "certificateArn": "arn:aws:iam::123456789012:certificate/x"}
		}, `stages.prod.domain: jwtapi: invalid props: Domain.CertificateArn: "arn:aws:iam::123456789012:certificate/x" is not an ACM certificate ARN`},
		{"zone id without zone name", func(s map[string]any) {
			s["domain"] = map[string]any{"name": "api.acme.com", "certificateArn": testCertificate, "hostedZoneId": "Z0123456789ABC"}
		}, "stages.prod.domain: jwtapi: invalid props: Domain.HostedZoneID"},
		{"typo in domain", func(s map[string]any) {
			s["domain"] = map[string]any{"name": "api.acme.com", "certificate": testCertificate}
		}, `unknown field "certificate"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := stacks.SelectStage(editedStages(t, "prod", tt.edit), "prod", stacks.Overrides{})
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("err = %v, want one line with %q", err, tt.want)
			}
		})
	}
}

const testCertificate = "arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d"

// TestStageDomainSynthesizes: a stage's domain in cdk.json gives the domain
// name, its API mapping, an alias record in the zone and the output, with
// no AWS credentials (nothing is looked up).
func TestStageDomainSynthesizes(t *testing.T) {
	_, _, sa := newEditedStageApp(t, "prod", t.TempDir(), func(s map[string]any) {
		s["domain"] = map[string]any{"name": "api.acme.com", "certificateArn": testCertificate, "hostedZoneId": "Z0123456789ABC", "zoneName": "acme.com"}
	})
	tpl := jwtapitest.Synth(t, sa.Api.Stack)
	tpl.Assert.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::DomainName"), map[string]any{
		"DomainName":               "api.acme.com",
		"DomainNameConfigurations": []any{map[string]any{"CertificateArn": testCertificate, "EndpointType": "REGIONAL", "SecurityPolicy": "TLS_1_2"}},
	})
	tpl.Assert.ResourceCountIs(jsii.String("AWS::ApiGatewayV2::ApiMapping"), jsii.Number(1))
	tpl.Assert.HasResourceProperties(jsii.String("AWS::Route53::RecordSet"), map[string]any{
		"Name": "api.acme.com.", "Type": "A", "HostedZoneId": "Z0123456789ABC",
	})
	out, ok := tpl.JSON["Outputs"].(map[string]any)["CustomDomainUrl"].(map[string]any)
	if !ok || out["Value"] != "https://api.acme.com/" {
		t.Errorf("CustomDomainUrl output = %v, want https://api.acme.com", out)
	}
	if _, ok := synthStage(t, "prod").template["Outputs"].(map[string]any)["CustomDomainUrl"]; ok {
		t.Error("a stage without domain has a CustomDomainUrl output")
	}
}
