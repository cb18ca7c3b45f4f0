package jwtapi_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/jwtapi/jwtapi/authzspec"
	"github.com/jwtapi/jwtapi/constructs/jwtapi"
)

func TestIdentitySourceNeedsAName(t *testing.T) {
	for _, src := range []string{"$request.header.", "$request.querystring."} {
		p := validProps()
		p.IdentitySource = src
		if _, err := jwtapi.NewHttpApi(newStack(), "Api", p); err == nil || !strings.Contains(err.Error(), "IdentitySource") {
			t.Errorf("IdentitySource %q: err = %v, want one naming IdentitySource", src, err)
		}
	}
}

// TestIdentitySourcesAccepted: an HTTP API's authorizer reads a named header
// or query parameter; a REST API's TOKEN authorizer only a header.
func TestIdentitySourcesAccepted(t *testing.T) {
	for _, tt := range []struct {
		src  string
		rest bool
		ok   bool
	}{
		{"$request.header.X-Token", false, true},
		{"$request.querystring.token", false, true},
		{"$request.header.X-Token", true, true},
		{"$request.querystring.token", true, false},
	} {
		p := validProps()
		p.IdentitySource = tt.src
		var err error
		if tt.rest {
			_, err = jwtapi.NewRestApi(newStack(), "Api", &jwtapi.RestApiProps{ApiProps: p.ApiProps})
		} else {
			_, err = jwtapi.NewHttpApi(newStack(), "Api", p)
		}
		if (err == nil) != tt.ok || err != nil && !strings.Contains(err.Error(), "IdentitySource") {
			t.Errorf("IdentitySource %q (REST %v): err = %v, want accepted %v", tt.src, tt.rest, err, tt.ok)
		}
	}
}

// TestAuthorizersOfOneIssuer: two authorizers of the same issuer for
// different audiences are two ways in, not a mistake.
func TestAuthorizersOfOneIssuer(t *testing.T) {
	p := validProps()
	p.Authorizers = []jwtapi.JwtAuthorizer{
		{Name: "web", Auth0Domain: "example.us.auth0.com", Audiences: []string{"https://api.example.com"}},
		{Name: "partners", Auth0Domain: "example.us.auth0.com", Audiences: []string{"https://partners.example.com"}},
	}
	p.Auth0Domain, p.Audiences = "", nil
	if _, err := jwtapi.NewHttpApi(newStack(), "Api", p); err != nil {
		t.Errorf("two audiences of one issuer: %v", err)
	}
}

// TestRestRulesOfEveryShape: a REST route's rule reaches the authorizer
// whatever mix of scopes, permissions and claims it holds, and the stage
// is "api" unless named.
func TestRestRulesOfEveryShape(t *testing.T) {
	stack := newStack()
	rules := map[string]*authzspec.Rule{
		"GET /a": {AnyScopes: []string{"a"}, AllScopes: []string{"b"}},
		"GET /b": {AllScopes: []string{"b"}, Permissions: []string{"p"}},
		"GET /c": {Permissions: []string{"p"}, Claims: []authzspec.ClaimRule{{Claim: "email_verified", Equals: json.RawMessage(`true`)}}},
	}
	routes := map[string]jwtapi.Route{}
	for key, r := range rules {
		routes[key] = jwtapi.Route{Handler: "functions/rest", Rules: r}
	}
	if _, err := jwtapi.NewRestApi(stack, "Rest", &jwtapi.RestApiProps{ApiProps: jwtapi.ApiProps{
		Auth0Domain: "example.us.auth0.com", Audiences: []string{"https://api.example.com"}, Routes: routes,
	}}); err != nil {
		t.Fatal(err)
	}
	tpl := assertions.Template_FromStack(stack, nil)
	tpl.HasResourceProperties(jsii.String("AWS::ApiGateway::Stage"), map[string]any{"StageName": "api"})
	fns := *tpl.FindResources(jsii.String("AWS::Lambda::Function"), nil)
	found := false
	for _, fn := range fns {
		env, _ := (*fn)["Properties"].(map[string]any)["Environment"].(map[string]any)
		vars, _ := env["Variables"].(map[string]any)
		raw, ok := vars[authzspec.EnvRules].(string)
		if !ok {
			continue
		}
		found = true
		var got map[string]json.RawMessage
		json.Unmarshal([]byte(raw), &got)
		for key := range rules {
			if _, ok := got[key]; !ok {
				t.Errorf("rule for %s missing from %s: %s", key, authzspec.EnvRules, raw)
			}
		}
	}
	if !found {
		t.Fatal("no authorizer function with rules")
	}
}

// TestBuildsStayWithTheOutputFolder: handler builds go to the app's output
// folder with their record, and the next app synthesizing into the same
// folder reuses them rather than building again.
func TestBuildsStayWithTheOutputFolder(t *testing.T) {
	out := t.TempDir()
	synth := func() {
		app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(out)})
		stack := awscdk.NewStack(app, jsii.String("Test"), nil)
		if _, err := jwtapi.NewHttpApi(stack, "Api", validProps()); err != nil {
			t.Fatal(err)
		}
		if err := jwtapi.Synth(app); err != nil {
			t.Fatal(err)
		}
	}
	synth()
	records, _ := filepath.Glob(filepath.Join(out, ".jwtapi-build", "*", "build.json"))
	if len(records) != 2 {
		t.Fatalf("%d build records in the output folder, want one per handler (2)", len(records))
	}
	before := map[string]int64{}
	for _, r := range records {
		st, _ := os.Stat(r)
		before[r] = st.ModTime().UnixNano()
	}
	synth()
	for _, r := range records {
		if st, _ := os.Stat(r); st.ModTime().UnixNano() != before[r] {
			t.Errorf("%s was built again though its sources did not change", filepath.Dir(r))
		}
	}
}

// TestDefaultLogRetention: without LogRetention, function and access logs
// are kept 30 days.
func TestDefaultLogRetention(t *testing.T) {
	stack := newStack()
	if _, err := jwtapi.NewHttpApi(stack, "Api", validProps()); err != nil {
		t.Fatal(err)
	}
	groups := assertions.Template_FromStack(stack, nil).FindResources(jsii.String("AWS::Logs::LogGroup"), nil)
	if len(*groups) == 0 {
		t.Fatal("no log groups in the template")
	}
	for id, g := range *groups {
		props, _ := (*g)["Properties"].(map[string]any)
		if props["RetentionInDays"] != float64(30) {
			t.Errorf("log group %s keeps logs %v days, want 30", id, props["RetentionInDays"])
		}
	}
}

// TestImportPathHandlers: a handler named by import path must be a main
// package the module can build.
func TestImportPathHandlers(t *testing.T) {
	for _, tt := range []struct {
		handler, wantErr string
	}{
		{"github.com/jwtapi/jwtapi/functions/authorizer", ""},
		{"github.com/jwtapi/jwtapi/authzspec", "is package authzspec"},
		{"github.com/jwtapi/jwtapi/functions/nothing-here", "cannot be built"},
	} {
		p := validProps()
		p.Routes["GET /imported"] = jwtapi.Route{Handler: tt.handler, Public: true}
		_, err := jwtapi.NewHttpApi(newStack(), "Api", p)
		if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("handler %s: err = %v, want %q", tt.handler, err, tt.wantErr)
		}
	}
}
