package jwtapi_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/jwtapi/jwtapi/authzspec"
	"github.com/jwtapi/jwtapi/constructs/jwtapi"
)

func validProps() *jwtapi.HttpApiProps {
	return &jwtapi.HttpApiProps{ApiProps: jwtapi.ApiProps{
		Auth0Domain: "example.us.auth0.com",
		Audiences:   []string{"https://api.example.com"},
		Routes: map[string]jwtapi.Route{
			"GET /public":  {Handler: "functions/public", Public: true},
			"GET /private": {Handler: "functions/private", Scopes: []string{"read:user"}},
		},
	}}
}

func newStack() awscdk.Stack {
	return awscdk.NewStack(awscdk.NewApp(nil), jsii.String("Test"), nil)
}

func TestInvalidPropsAreRefusedWithTheFieldAndValue(t *testing.T) {
	tests := []struct {
		name   string
		change func(p *jwtapi.HttpApiProps)
		want   []string // substrings of the one-line error
	}{
		{"no audience", func(p *jwtapi.HttpApiProps) { p.Audiences = nil }, []string{"Audiences", "at least one"}},
		{"empty audience", func(p *jwtapi.HttpApiProps) { p.Audiences = []string{""} }, []string{"Audiences[0]", `empty audience ""`}},
		{"duplicate audience", func(p *jwtapi.HttpApiProps) { p.Audiences = []string{"a", "a"} }, []string{"Audiences[1]", `"a" is listed twice`}},
		{"no issuer", func(p *jwtapi.HttpApiProps) { p.Auth0Domain = "" }, []string{"Issuer", "set Issuer"}},
		{"both issuer and domain", func(p *jwtapi.HttpApiProps) { p.Issuer = "https://x.example/" }, []string{"Issuer", "not both"}},
		{"http issuer", func(p *jwtapi.HttpApiProps) { p.Auth0Domain, p.Issuer = "", "http://auth.example.com/" },
			[]string{"Issuer", `"http://auth.example.com/"`, "must use https"}},
		{"issuer not a URL", func(p *jwtapi.HttpApiProps) { p.Auth0Domain, p.Issuer = "", "example.us.auth0.com" },
			[]string{"Issuer", `"example.us.auth0.com"`, "absolute URL"}},
		{"ftp issuer", func(p *jwtapi.HttpApiProps) { p.Auth0Domain, p.Issuer = "", "ftp://x.example/" }, []string{"Issuer", "must use https"}},
		{"issuer with query", func(p *jwtapi.HttpApiProps) { p.Auth0Domain, p.Issuer = "", "https://x.example/?a=b" }, []string{"Issuer", "query"}},
		{"auth0 issuer without slash", func(p *jwtapi.HttpApiProps) { p.Auth0Domain, p.Issuer = "", "https://example.us.auth0.com" },
			[]string{"Issuer", `must end with "/"`}},
		{"domain with scheme", func(p *jwtapi.HttpApiProps) { p.Auth0Domain = "https://example.us.auth0.com/" },
			[]string{"Auth0Domain", `"https://example.us.auth0.com/"`, "not a domain name"}},
		{"no routes", func(p *jwtapi.HttpApiProps) { p.Routes = nil }, []string{"Routes", "at least one route"}},
		{"malformed route key", func(p *jwtapi.HttpApiProps) { p.Routes["GET private"] = jwtapi.Route{Handler: "functions/private"} },
			[]string{`Routes["GET private"]`, "path \"private\" must start with /"}},
		{"lower-case method", func(p *jwtapi.HttpApiProps) { p.Routes["get /x"] = jwtapi.Route{Handler: "functions/private"} },
			[]string{`Routes["get /x"]`, `method "get"`}},
		{"no method", func(p *jwtapi.HttpApiProps) { p.Routes["/x"] = jwtapi.Route{Handler: "functions/private"} },
			[]string{`Routes["/x"]`, "malformed route key"}},
		{"greedy not last", func(p *jwtapi.HttpApiProps) { p.Routes["GET /{proxy+}/x"] = jwtapi.Route{Handler: "functions/private"} },
			[]string{`Routes["GET /{proxy+}/x"]`, "must be the last segment"}},
		{"trailing slash", func(p *jwtapi.HttpApiProps) { p.Routes["GET /x/"] = jwtapi.Route{Handler: "functions/private"} },
			[]string{`Routes["GET /x/"]`, "must not end with /"}},
		{"duplicate route", func(p *jwtapi.HttpApiProps) {
			p.Routes["GET /items/{id}"] = jwtapi.Route{Handler: "functions/private"}
			p.Routes["GET /items/{name}"] = jwtapi.Route{Handler: "functions/private"}
		}, []string{`Routes["GET /items/{name}"]`, `duplicate route`, `"GET /items/{id}"`}},
		{"scopes on public route", func(p *jwtapi.HttpApiProps) {
			p.Routes["GET /public"] = jwtapi.Route{Handler: "functions/public", Public: true, Scopes: []string{"read:user"}}
		}, []string{`Routes["GET /public"].Scopes`, "[read:user]", "public route cannot require scopes"}},
		{"scope with space", func(p *jwtapi.HttpApiProps) {
			p.Routes["GET /private"] = jwtapi.Route{Handler: "functions/private", Scopes: []string{"read user"}}
		}, []string{`Routes["GET /private"].Scopes[0]`, `"read user"`}},
		{"missing handler", func(p *jwtapi.HttpApiProps) { p.Routes["GET /x"] = jwtapi.Route{Handler: "functions/nope"} },
			[]string{`Routes["GET /x"].Handler`, `"functions/nope" does not exist`}},
		{"handler not main", func(p *jwtapi.HttpApiProps) { p.Routes["GET /x"] = jwtapi.Route{Handler: "functions/claims"} },
			[]string{`Routes["GET /x"].Handler`, "package claims", "package main"}},
		{"empty handler", func(p *jwtapi.HttpApiProps) { p.Routes["GET /x"] = jwtapi.Route{} }, []string{`Routes["GET /x"].Handler`, "empty"}},
		{"handler outside module", func(p *jwtapi.HttpApiProps) { p.Routes["GET /x"] = jwtapi.Route{Handler: "../elsewhere"} },
			[]string{`Routes["GET /x"].Handler`, "inside the module"}},
		{"timeout too long", func(p *jwtapi.HttpApiProps) { p.Timeout = time.Minute }, []string{"Timeout", "1m0s", "30s"}},
		{"route memory too small", func(p *jwtapi.HttpApiProps) {
			p.Routes["GET /private"] = jwtapi.Route{Handler: "functions/private", Scopes: []string{"a"}, MemoryMB: 64}
		}, []string{`Routes["GET /private"].MemoryMB`, "64"}},
		{"bad log retention", func(p *jwtapi.HttpApiProps) { p.LogRetention = 10 * 24 * time.Hour }, []string{"LogRetention", "240h0m0s"}},
		{"bad throttle", func(p *jwtapi.HttpApiProps) { p.Throttle = &jwtapi.Throttle{BurstLimit: 0, RateLimit: 5} }, []string{"Throttle", "BurstLimit (0)"}},
		{"reserved env", func(p *jwtapi.HttpApiProps) { p.Environment = map[string]string{"AWS_REGION": "x"} }, []string{"Environment", `"AWS_REGION" is reserved`}},
		{"cors without origins", func(p *jwtapi.HttpApiProps) { p.Cors = &jwtapi.Cors{} }, []string{"Cors.AllowOrigins", "at least one origin"}},
		{"cors wildcard with credentials", func(p *jwtapi.HttpApiProps) {
			p.Cors = &jwtapi.Cors{AllowOrigins: []string{"*"}, AllowCredentials: true}
		}, []string{"Cors.AllowOrigins", `"*" cannot be combined`}},
		{"identity source", func(p *jwtapi.HttpApiProps) { p.IdentitySource = "$request.cookie.token" }, []string{"IdentitySource", `"$request.cookie.token"`}},
		{"rules on a public route", func(p *jwtapi.HttpApiProps) {
			p.Routes["GET /public"] = jwtapi.Route{Handler: "functions/public", Public: true, Rules: &authzspec.Rule{Permissions: []string{"x"}}}
		}, []string{`Routes["GET /public"].Rules`, "public route cannot have rules"}},
		{"rules and scopes", func(p *jwtapi.HttpApiProps) {
			p.Routes["GET /private"] = jwtapi.Route{Handler: "functions/private", Scopes: []string{"read:user"}, Rules: &authzspec.Rule{}}
		}, []string{`Routes["GET /private"].Scopes`, "Rules.AnyScopes"}},
		{"bad claim rule", func(p *jwtapi.HttpApiProps) {
			p.Routes["GET /private"] = jwtapi.Route{Handler: "functions/private", Rules: &authzspec.Rule{Claims: []authzspec.ClaimRule{{Claim: "x"}}}}
		}, []string{`Routes["GET /private"].Rules`, "exactly one of equals or contains"}},
		{"authorizer cache too long", func(p *jwtapi.HttpApiProps) { p.LambdaAuthorizer = &jwtapi.LambdaAuthorizer{CacheTTL: 2 * time.Hour} }, []string{"LambdaAuthorizer.CacheTTL", "2h0m0s"}},
		{"HS256 without a secret", func(p *jwtapi.HttpApiProps) {
			p.LambdaAuthorizer = &jwtapi.LambdaAuthorizer{Algorithms: []string{"HS256"}}
		}, []string{"LambdaAuthorizer.HMACSecretName", "HS256 needs a secret"}},
		{"authorizer package missing", func(p *jwtapi.HttpApiProps) {
			p.LambdaAuthorizer = &jwtapi.LambdaAuthorizer{Handler: "example.com/nowhere/authorizer"}
			p.Routes["GET /private"] = jwtapi.Route{Handler: "functions/private", Rules: &authzspec.Rule{Permissions: []string{"x"}}}
		}, []string{"LambdaAuthorizer.Handler", `"example.com/nowhere/authorizer"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := validProps()
			tt.change(p)
			api, err := jwtapi.NewHttpApi(newStack(), "Api", p)
			if err == nil {
				t.Fatalf("NewHttpApi accepted the props; want an error mentioning %q", tt.want)
			}
			if api != nil {
				t.Errorf("NewHttpApi returned an API along with the error")
			}
			if !errors.Is(err, jwtapi.ErrInvalidProps) {
				t.Errorf("error %v does not wrap ErrInvalidProps", err)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("error spans several lines: %q", msg)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not mention %q", msg, w)
				}
			}
		})
	}
}

func TestNilProps(t *testing.T) {
	if _, err := jwtapi.NewHttpApi(newStack(), "Api", nil); !errors.Is(err, jwtapi.ErrInvalidProps) {
		t.Fatalf("err = %v, want ErrInvalidProps", err)
	}
}

func TestResolveIssuer(t *testing.T) {
	tests := []struct{ issuer, domain, want string }{
		{"", "example.us.auth0.com", "https://example.us.auth0.com/"},
		{"", "Example.EU.auth0.com", "https://example.eu.auth0.com/"},
		{"https://login.example.com/realms/x", "", "https://login.example.com/realms/x"},
		{"http://127.0.0.1:4000/", "", "http://127.0.0.1:4000/"},
		{"http://localhost:4000/", "", "http://localhost:4000/"},
	}
	for _, tt := range tests {
		got, err := jwtapi.ResolveIssuer(tt.issuer, tt.domain)
		if err != nil || got != tt.want {
			t.Errorf("ResolveIssuer(%q, %q) = %q, %v; want %q", tt.issuer, tt.domain, got, err, tt.want)
		}
	}
}

func warnings(c constructs.IConstruct) []string {
	var out []string
	for _, n := range *c.Node().FindAll(constructs.ConstructOrder_PREORDER) {
		for _, m := range *n.Node().Metadata() {
			if *m.Type == "aws:cdk:warning" {
				out = append(out, fmt.Sprint(m.Data))
			}
		}
	}
	return out
}

func TestPrivateRouteWithoutScopesWarns(t *testing.T) {
	p := validProps()
	p.Routes["GET /open-to-any-token"] = jwtapi.Route{Handler: "functions/private"}
	stack := newStack()
	if _, err := jwtapi.NewHttpApi(stack, "Api", p); err != nil {
		t.Fatal(err)
	}
	w := warnings(stack)
	if len(w) != 1 || !strings.Contains(w[0], `"GET /open-to-any-token"`) || !strings.Contains(w[0], "ID token") {
		t.Errorf("warnings = %q, want one about GET /open-to-any-token having no scope", w)
	}

	p.DefaultScopes = []string{"read:user"}
	stack = newStack()
	if _, err := jwtapi.NewHttpApi(stack, "Api", p); err != nil {
		t.Fatal(err)
	}
	if w := warnings(stack); len(w) != 0 {
		t.Errorf("with DefaultScopes, warnings = %q, want none", w)
	}
}

func TestAddRouteAfterConstruction(t *testing.T) {
	api, err := jwtapi.NewHttpApi(newStack(), "Api", validProps())
	if err != nil {
		t.Fatal(err)
	}
	if err := api.AddRoute("DELETE /items/{id}", jwtapi.Route{Handler: "functions/private", Scopes: []string{"delete:item"}}); err != nil {
		t.Fatalf("AddRoute: %v", err)
	}
	if api.Function("DELETE /items/{id}") == nil {
		t.Error("Function(\"DELETE /items/{id}\") = nil after AddRoute")
	}
	err = api.AddRoute("GET /private", jwtapi.Route{Handler: "functions/private"})
	if !errors.Is(err, jwtapi.ErrInvalidProps) || !strings.Contains(err.Error(), "duplicate route") {
		t.Errorf("adding GET /private twice: err = %v, want a duplicate route error", err)
	}
	if got := strings.Join(api.RouteKeys(), ","); got != "DELETE /items/{id},GET /private,GET /public" {
		t.Errorf("RouteKeys = %s", got)
	}
}

func TestRestApiRefusesWhatRESTCannotDo(t *testing.T) {
	tests := []struct {
		change func(p *jwtapi.RestApiProps)
		want   string
	}{
		{func(p *jwtapi.RestApiProps) {
			p.Routes["$default"] = jwtapi.Route{Handler: "functions/public", Public: true}
		}, "no $default route"},
		{func(p *jwtapi.RestApiProps) { p.IdentitySource = "$request.querystring.token" }, "a REST API's authorizers read a header"},
		{func(p *jwtapi.RestApiProps) { p.StageName = "prod/v1" }, `StageName: "prod/v1"`},
	}
	for _, tt := range tests {
		p := &jwtapi.RestApiProps{ApiProps: validProps().ApiProps}
		tt.change(p)
		if _, err := jwtapi.NewRestApi(newStack(), "Api", p); !errors.Is(err, jwtapi.ErrInvalidProps) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("err = %v, want %q", err, tt.want)
		}
	}
}

func TestDuplicateIdIsAnError(t *testing.T) {
	stack := newStack()
	if _, err := jwtapi.NewHttpApi(stack, "Api", validProps()); err != nil {
		t.Fatal(err)
	}
	_, err := jwtapi.NewHttpApi(stack, "Api", validProps())
	if !errors.Is(err, jwtapi.ErrInvalidProps) || !strings.Contains(err.Error(), `"Api" is already taken in Test`) {
		t.Errorf("second API with the same id: %v, want an error naming the id", err)
	}
	_, err = jwtapi.NewRestApi(stack, "Api", &jwtapi.RestApiProps{ApiProps: validProps().ApiProps})
	if !errors.Is(err, jwtapi.ErrInvalidProps) || !strings.Contains(err.Error(), `"Api" is already taken`) {
		t.Errorf("REST API with a taken id: %v", err)
	}
}

// TestHandlerThatDoesNotCompile: the compiler's error comes back from the
// constructor, and the process goes on (no exit in library code).
func TestHandlerThatDoesNotCompile(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/broken\n\ngo 1.26\n"), 0o644)
	os.MkdirAll(filepath.Join(dir, "handlers", "bad"), 0o755)
	os.WriteFile(filepath.Join(dir, "handlers", "bad", "main.go"), []byte("package main\n\nfunc main() { undefinedThing() }\n"), 0o644)
	p := validProps()
	p.ModuleDir = dir
	p.Routes = map[string]jwtapi.Route{"GET /bad": {Handler: "handlers/bad", Public: true}}
	_, err := jwtapi.NewHttpApi(newStack(), "Api", p)
	if err == nil || !strings.Contains(err.Error(), "undefined: undefinedThing") || !strings.Contains(err.Error(), "GET /bad") {
		t.Errorf("err = %v, want the compiler's error for the route's handler", err)
	}
}
