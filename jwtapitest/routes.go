package jwtapitest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// Route is one route of an HTTP API or one method of a REST API.
type Route struct {
	// Key is "METHOD /path" ("GET /users/{id}", "$default").
	Key string
	// API is the API's logical id; Kind is "http" or "rest".
	API, Kind string
	// Auth is how a caller is authorized: NONE, JWT, CUSTOM, AWS_IAM or
	// COGNITO_USER_POOLS.
	Auth string
	// Authorizer is the authorizer's logical id, when it is in the template.
	Authorizer string
	// Preflight marks a REST OPTIONS method answered by a mock integration
	// (CORS): open by design, it runs no code.
	Preflight bool
}

// Open says whether a request without credentials reaches the route.
func (r Route) Open() bool { return r.Auth == "" || r.Auth == "NONE" }

// Routes lists every route of every HTTP and REST API in the template.
// APIs it cannot read route by route (an OpenAPI body, a quick-create
// target) are returned as problems.
func (tpl *Template) Routes() (routes []Route, problems []string) {
	apis := tpl.Resources("AWS::ApiGatewayV2::Api")
	for id, api := range apis {
		p := Props(api)
		if p["Body"] != nil || p["BodyS3Location"] != nil {
			problems = append(problems, fmt.Sprintf("HTTP API %s is defined by an OpenAPI document, whose routes this check cannot read", id))
		}
		if p["Target"] != nil {
			problems = append(problems, fmt.Sprintf("HTTP API %s has a quick-create Target: every request reaches it without a token", id))
		}
	}
	for _, r := range tpl.Resources("AWS::ApiGatewayV2::Route") {
		p := Props(r)
		api := ref(p["ApiId"])
		key, _ := p["RouteKey"].(string)
		if Props(apis[api])["ProtocolType"] == "WEBSOCKET" && key != "$connect" {
			continue // only $connect of a WebSocket API takes an authorizer
		}
		auth, _ := p["AuthorizationType"].(string)
		routes = append(routes, Route{Key: key, API: api, Kind: "http", Auth: auth, Authorizer: tpl.authorizer(p["AuthorizerId"], "AWS::ApiGatewayV2::Authorizer")})
	}
	for id, api := range tpl.Resources("AWS::ApiGateway::RestApi") {
		if p := Props(api); p["Body"] != nil || p["BodyS3Location"] != nil {
			problems = append(problems, fmt.Sprintf("REST API %s is defined by an OpenAPI document, whose methods this check cannot read", id))
		}
	}
	resources := tpl.Resources("AWS::ApiGateway::Resource")
	for id, m := range tpl.Resources("AWS::ApiGateway::Method") {
		p := Props(m)
		method, _ := p["HttpMethod"].(string)
		path, err := restPath(p["ResourceId"], resources)
		if err != nil {
			problems = append(problems, fmt.Sprintf("REST method %s: %v", id, err))
			continue
		}
		auth, _ := p["AuthorizationType"].(string)
		integration, _ := p["Integration"].(map[string]any)
		authorizer := tpl.authorizer(p["AuthorizerId"], "AWS::ApiGateway::Authorizer")
		if kinds, ok := restAuthorizerTypes[auth]; ok && authorizer != "" && authorizer != "imported" {
			// A method protected by an authorizer of another kind is
			// protected by nothing API Gateway would run.
			if typ, _ := Props(tpl.Resources("AWS::ApiGateway::Authorizer")[authorizer])["Type"].(string); !slices.Contains(kinds, typ) {
				problems = append(problems, fmt.Sprintf("REST method %s %s (API %s) has authorization %s with the %s authorizer %s", method, path, ref(p["RestApiId"]), auth, typ, authorizer))
				authorizer = ""
			}
		}
		routes = append(routes, Route{
			Key: method + " " + path, API: ref(p["RestApiId"]), Kind: "rest", Auth: auth,
			Authorizer: authorizer,
			Preflight:  method == "OPTIONS" && integration["Type"] == "MOCK",
		})
	}
	slices.SortFunc(routes, func(a, b Route) int { return strings.Compare(a.API+" "+a.Key, b.API+" "+b.Key) })
	slices.Sort(problems)
	return routes, problems
}

// restAuthorizerTypes are the authorizer types each REST authorization type
// works with: a JWT method needs a JWT authorizer (API Gateway's native
// one), a CUSTOM method a Lambda (TOKEN or REQUEST) one.
var restAuthorizerTypes = map[string][]string{
	"JWT": {"JWT"}, "CUSTOM": {"TOKEN", "REQUEST"}, "COGNITO_USER_POOLS": {"COGNITO_USER_POOLS"},
}

// authorizer is the logical id an AuthorizerId refers to, if the template
// defines it with the right type; "imported" for a literal id.
func (tpl *Template) authorizer(v any, typ string) string {
	if v == nil {
		return ""
	}
	id := ref(v)
	if id == "" {
		return "imported"
	}
	if _, ok := tpl.Resources(typ)[id]; ok {
		return id
	}
	return ""
}

// restPath walks a REST resource's parents up to the API's root.
func restPath(resourceID any, resources map[string]map[string]any) (string, error) {
	var parts []string
	for range 64 {
		if getAtt(resourceID) == "RootResourceId" {
			return "/" + strings.Join(parts, "/"), nil
		}
		res, ok := resources[ref(resourceID)]
		if !ok {
			return "", fmt.Errorf("its resource %v is neither the root nor an AWS::ApiGateway::Resource of the template", resourceID)
		}
		part, _ := Props(res)["PathPart"].(string)
		parts = append([]string{part}, parts...)
		resourceID = Props(res)["ParentId"]
	}
	return "", fmt.Errorf("its resource path is deeper than 64 levels")
}

// OnlyPublicRoutesOpen fails the test for every route of every HTTP or REST
// API in the template that a request without a token reaches but that is
// not listed in public ("GET /health"; REST methods the same way), for
// every listed route that in fact needs a token (a stale list hides the
// next mistake), and for every listed route that does not exist. A
// protected route must name an authorizer the template defines, or
// AWS_IAM. CORS preflight (OPTIONS answered by a mock) needs no listing.
func (tpl *Template) OnlyPublicRoutesOpen(t testing.TB, public ...string) {
	t.Helper()
	routes, problems := tpl.Routes()
	for _, p := range problems {
		t.Errorf("%s: %s", tpl.Name, p)
	}
	seen := map[string]bool{}
	for _, r := range routes {
		seen[r.Key] = true
		listed := slices.Contains(public, r.Key)
		protected := r.Auth == "AWS_IAM" || (!r.Open() && r.Authorizer != "")
		switch {
		case r.Preflight && r.Open():
		case !protected && !r.Open():
			t.Errorf("%s: %s route %q (API %s) uses %s authorization but no authorizer of the template", tpl.Name, r.Kind, r.Key, r.API, r.Auth)
		case !protected && !listed:
			t.Errorf("%s: %s route %q (API %s) is reachable without a token but is not listed as public", tpl.Name, r.Kind, r.Key, r.API)
		case protected && listed:
			t.Errorf("%s: %s route %q (API %s) is listed as public but requires %s authorization", tpl.Name, r.Kind, r.Key, r.API, r.Auth)
		}
	}
	for _, key := range public {
		if !seen[key] {
			t.Errorf("%s: %q is listed as public but no API of the template has that route", tpl.Name, key)
		}
	}
}

func ref(v any) string {
	m, _ := v.(map[string]any)
	s, _ := m["Ref"].(string)
	return s
}

// getAtt returns the attribute name of an Fn::GetAtt.
func getAtt(v any) string {
	m, _ := v.(map[string]any)
	list, _ := m["Fn::GetAtt"].([]any)
	if len(list) == 2 {
		s, _ := list[1].(string)
		return s
	}
	return ""
}
