package test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

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

func TestPlaceholderTenantWarns(t *testing.T) {
	for _, stage := range allStages {
		found := false
		for _, m := range synthStage(t, stage).messages {
			if m.Type == "aws:cdk:warning" && strings.Contains(fmt.Sprint(m.Data), stacks.PlaceholderTenant) {
				found = true
			}
		}
		if want := stage != "local"; found != want {
			t.Errorf("stage %s: placeholder tenant warning = %v, want %v", stage, found, want)
		}
	}
}

func expect(got, want string) error {
	if got != want {
		return fmt.Errorf("got %q, want %q", got, want)
	}
	return nil
}
