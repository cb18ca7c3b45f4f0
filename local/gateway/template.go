package gateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jwtapi/jwtapi/authzspec"
	"github.com/jwtapi/jwtapi/internal/cfnmeta"
	"github.com/jwtapi/jwtapi/internal/routekey"
	"github.com/jwtapi/jwtapi/local/jwtauth"
)

// ErrTemplate is wrapped by every error about the synthesized template.
var ErrTemplate = errors.New("template")

// Kinds of API.
const (
	KindHTTP = "http" // API Gateway HTTP API (v2)
	KindREST = "rest" // API Gateway REST API (v1)
)

// API is what the local gateway serves, read from a synthesized template.
type API struct {
	// Kind is KindHTTP or KindREST.
	Kind string
	// Stack is the stack's name; LogicalID the API's id in its template.
	Stack, LogicalID string
	Name             string
	// StageName is the REST API's stage, the first segment of its paths;
	// "$default" for HTTP APIs.
	StageName string
	// Cors is an HTTP API's CORS configuration.
	Cors        *Cors
	Routes      []*Route
	Authorizers map[string]*Authorizer
	// Functions are the functions the API's routes and authorizers run.
	Functions map[string]*Function
	// Responses are a REST API's gateway responses, by type.
	Responses map[string]*GatewayResponse
}

// Key is "<stack>/<logical id>", unique in an assembly.
func (a *API) Key() string { return a.Stack + "/" + a.LogicalID }

// Route is one route and where it goes.
type Route struct {
	Key routekey.Key
	// AuthType is NONE, JWT or CUSTOM (a Lambda authorizer).
	AuthType   string
	Authorizer *Authorizer
	Scopes     []string
	// Function is the integration's function; PayloadVersion is "2.0" or
	// "1.0" (REST APIs: always 1.0).
	Function       *Function
	PayloadVersion string
	// Mock is a REST API's MOCK integration (CORS preflight methods).
	Mock *MockIntegration
	// IntegrationTimeout is how long API Gateway waits for the integration
	// (TimeoutInMillis); zero means API Gateway's default for the API's kind.
	IntegrationTimeout time.Duration
}

// Integration timeouts when the template sets none: 30 s for HTTP APIs,
// 29 s for REST APIs.
const (
	httpIntegrationTimeout = 30 * time.Second
	restIntegrationTimeout = 29 * time.Second
)

// Authorizer is a JWT, REQUEST (HTTP API) or TOKEN (REST API) authorizer.
type Authorizer struct {
	LogicalID string
	Name      string
	// Type is JWT, REQUEST or TOKEN.
	Type string
	// IdentitySource: "$request.header.X" style for HTTP APIs, the header
	// name for a REST TOKEN authorizer.
	IdentitySource []string
	// Issuer and Audiences configure a JWT authorizer.
	Issuer    string
	Audiences []string
	// Function, PayloadVersion, SimpleResponses and TTL configure a Lambda authorizer.
	Function        *Function
	PayloadVersion  string
	SimpleResponses bool
	TTL             time.Duration
	// Validation is a TOKEN authorizer's identity validation expression.
	Validation *regexp.Regexp
	// RESTJWT configures a REST API's native JWT authorizer (Type JWT).
	RESTJWT *jwtauth.RESTConfig
}

// Function is a Lambda function built by the jwtapi construct.
type Function struct {
	// ID is "<stack>/<logical id>", unique in an assembly.
	ID        string
	LogicalID string
	// Handler is the main package directory, relative to the module, or an import path.
	Handler   string
	Env       map[string]string
	Timeout   time.Duration
	MemoryMB  int
	LogFormat string
	// Unresolved lists environment variables whose values are CloudFormation
	// expressions that only exist in AWS.
	Unresolved []string
}

// Cors is an HTTP API's CORS configuration.
type Cors struct {
	AllowOrigins, AllowMethods, AllowHeaders, ExposeHeaders []string
	AllowCredentials                                        bool
	MaxAge                                                  int
}

// GatewayResponse is a REST API's customized answer of API Gateway's own.
type GatewayResponse struct {
	Status int
	// Headers map a header name to a static value or a request parameter.
	Headers map[string]string
	// Template is the application/json body template.
	Template string
}

// MockIntegration is what a REST MOCK integration answers.
type MockIntegration struct {
	Status  int
	Headers map[string]string
}

type cfnResource struct {
	Type       string                     `json:"Type"`
	Properties map[string]json.RawMessage `json:"Properties"`
	Metadata   map[string]any             `json:"Metadata"`
}

// LoadTemplate reads a synthesized stack template and returns its APIs.
func LoadTemplate(path, stack string) ([]*API, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrTemplate, err)
	}
	return ParseTemplate(b, stack)
}

// ParseTemplate returns the HTTP and REST APIs of a stack's template, in
// logical id order. A stack without APIs has none; an API the local gateway
// cannot run is an error naming it.
func ParseTemplate(raw []byte, stack string) ([]*API, error) {
	var tpl struct {
		Resources map[string]cfnResource `json:"Resources"`
	}
	if err := json.Unmarshal(raw, &tpl); err != nil {
		return nil, fmt.Errorf("%w: stack %s: not a CloudFormation JSON template: %v", ErrTemplate, stack, err)
	}
	t := &template{stack: stack, res: tpl.Resources, functions: map[string]*Function{}}
	for id := range t.res {
		t.ids = append(t.ids, id)
	}
	sort.Strings(t.ids)
	var apis []*API
	for _, id := range t.ids {
		var api *API
		var err error
		switch t.res[id].Type {
		case "AWS::ApiGatewayV2::Api":
			api, err = t.httpAPI(id)
		case "AWS::ApiGateway::RestApi":
			api, err = t.restAPI(id)
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%w: stack %s, API %s: %w", ErrTemplate, stack, id, err)
		}
		sort.Slice(api.Routes, func(i, j int) bool { return api.Routes[i].Key.String() < api.Routes[j].Key.String() })
		apis = append(apis, api)
	}
	return apis, nil
}

// template is a template being read.
type template struct {
	stack     string
	res       map[string]cfnResource
	ids       []string
	functions map[string]*Function
}

// of lists, in id order, the resources of a type whose property prop refers
// to the API apiID.
func (t *template) of(typ, prop, apiID string) []string {
	var out []string
	for _, id := range t.ids {
		r := t.res[id]
		if r.Type == typ && refOf(r.Properties[prop]) == apiID {
			out = append(out, id)
		}
	}
	return out
}

func (t *template) newAPI(kind, id string) *API {
	return &API{Kind: kind, Stack: t.stack, LogicalID: id, Authorizers: map[string]*Authorizer{}, Functions: map[string]*Function{}}
}

func (t *template) httpAPI(id string) (*API, error) {
	api := t.newAPI(KindHTTP, id)
	api.StageName = "$default"
	r := t.res[id]
	prop(r, "Name", &api.Name)
	var cors *Cors
	prop(r, "CorsConfiguration", &cors)
	api.Cors = cors
	for _, aid := range t.of("AWS::ApiGatewayV2::Authorizer", "ApiId", id) {
		a, err := t.httpAuthorizer(api, aid)
		if err != nil {
			return nil, err
		}
		api.Authorizers[aid] = a
	}
	for _, rid := range t.of("AWS::ApiGatewayV2::Route", "ApiId", id) {
		route, err := t.httpRoute(api, rid)
		if err != nil {
			return nil, err
		}
		api.Routes = append(api.Routes, route)
	}
	if len(api.Routes) == 0 {
		return nil, errors.New("the HTTP API has no routes")
	}
	return api, nil
}

func (t *template) httpAuthorizer(api *API, id string) (*Authorizer, error) {
	r := t.res[id]
	a := &Authorizer{LogicalID: id}
	prop(r, "Name", &a.Name)
	prop(r, "AuthorizerType", &a.Type)
	prop(r, "IdentitySource", &a.IdentitySource)
	var jwt struct {
		Issuer   string
		Audience []string
	}
	prop(r, "JwtConfiguration", &jwt)
	a.Issuer, a.Audiences = jwt.Issuer, jwt.Audience
	var ttl int
	prop(r, "AuthorizerResultTtlInSeconds", &ttl)
	prop(r, "AuthorizerPayloadFormatVersion", &a.PayloadVersion)
	prop(r, "EnableSimpleResponses", &a.SimpleResponses)
	a.TTL = time.Duration(ttl) * time.Second
	switch a.Type {
	case "JWT":
		if a.Issuer == "" || len(a.Audiences) == 0 {
			return nil, fmt.Errorf("JWT authorizer %s has no literal issuer or audience", id)
		}
	case "REQUEST":
		fn, err := t.function(api, r.Properties["AuthorizerUri"], "Lambda authorizer "+id)
		if err != nil {
			return nil, err
		}
		a.Function = fn
	default:
		return nil, fmt.Errorf("authorizer %s has type %q; the local gateway runs JWT and REQUEST authorizers", id, a.Type)
	}
	return a, nil
}

func (t *template) httpRoute(api *API, id string) (*Route, error) {
	r := t.res[id]
	var key, authType string
	prop(r, "RouteKey", &key)
	prop(r, "AuthorizationType", &authType)
	k, err := routekey.Parse(key)
	if err != nil {
		return nil, fmt.Errorf("route %s: %v", id, err)
	}
	if authType == "" {
		authType = "NONE"
	}
	route := &Route{Key: k, AuthType: authType}
	prop(r, "AuthorizationScopes", &route.Scopes)
	if authType != "NONE" {
		route.Authorizer = api.Authorizers[refOf(r.Properties["AuthorizerId"])]
		if route.Authorizer == nil {
			return nil, fmt.Errorf("route %q uses an authorizer the template does not define for this API", key)
		}
		a := route.Authorizer
		switch {
		case authType == "JWT" && a.Type == "JWT":
		case authType == "CUSTOM" && a.Type == "REQUEST" && a.PayloadVersion == "2.0" && a.SimpleResponses:
		default:
			return nil, fmt.Errorf("route %q uses a %s authorizer (%s, payload %q, simple responses %v); the local gateway runs JWT authorizers and REQUEST authorizers with payload 2.0 and simple responses",
				key, authType, a.Type, a.PayloadVersion, a.SimpleResponses)
		}
	}
	integID := ""
	for _, ref := range refsIn(r.Properties["Target"]) {
		if t.res[ref].Type == "AWS::ApiGatewayV2::Integration" {
			integID = ref
		}
	}
	if integID == "" {
		return nil, fmt.Errorf("route %q has no Lambda integration the local gateway can follow", key)
	}
	integ := t.res[integID]
	prop(integ, "PayloadFormatVersion", &route.PayloadVersion)
	var ms int
	prop(integ, "TimeoutInMillis", &ms)
	route.IntegrationTimeout = time.Duration(ms) * time.Millisecond
	if route.PayloadVersion != "2.0" && route.PayloadVersion != "1.0" {
		return nil, fmt.Errorf("route %q has payload format %q; want 2.0 or 1.0", key, route.PayloadVersion)
	}
	if route.Function, err = t.function(api, integ.Properties["IntegrationUri"], "route "+key); err != nil {
		return nil, err
	}
	return route, nil
}

func (t *template) restAPI(id string) (*API, error) {
	api := t.newAPI(KindREST, id)
	api.Responses = map[string]*GatewayResponse{}
	prop(t.res[id], "Name", &api.Name)
	for _, sid := range t.of("AWS::ApiGateway::Stage", "RestApiId", id) {
		prop(t.res[sid], "StageName", &api.StageName)
	}
	if api.StageName == "" {
		return nil, errors.New("the REST API has no stage (AWS::ApiGateway::Stage)")
	}
	paths := map[string]string{} // resource id -> path
	var pathOf func(ref string, depth int) (string, error)
	pathOf = func(rid string, depth int) (string, error) {
		if p, ok := paths[rid]; ok {
			return p, nil
		}
		r, ok := t.res[rid]
		if !ok || r.Type != "AWS::ApiGateway::Resource" || depth > 64 {
			return "", fmt.Errorf("resource %q is not a resource of this API", rid)
		}
		var part string
		prop(r, "PathPart", &part)
		parent := "/"
		if pid := refOf(r.Properties["ParentId"]); pid != "" {
			var err error
			if parent, err = pathOf(pid, depth+1); err != nil {
				return "", err
			}
		}
		p := strings.TrimSuffix(parent, "/") + "/" + part
		paths[rid] = p
		return p, nil
	}
	for _, aid := range t.of("AWS::ApiGateway::Authorizer", "RestApiId", id) {
		a, err := t.restAuthorizer(api, aid)
		if err != nil {
			return nil, err
		}
		api.Authorizers[aid] = a
	}
	for _, gid := range t.of("AWS::ApiGateway::GatewayResponse", "RestApiId", id) {
		r := t.res[gid]
		var typ, status string
		var params, templates map[string]string
		prop(r, "ResponseType", &typ)
		prop(r, "StatusCode", &status)
		prop(r, "ResponseParameters", &params)
		prop(r, "ResponseTemplates", &templates)
		gr := &GatewayResponse{Headers: map[string]string{}, Template: templates["application/json"]}
		gr.Status, _ = strconv.Atoi(status)
		for k, v := range params {
			if name, ok := strings.CutPrefix(k, "gatewayresponse.header."); ok {
				gr.Headers[name] = v
			}
		}
		api.Responses[typ] = gr
	}
	for _, mid := range t.of("AWS::ApiGateway::Method", "RestApiId", id) {
		route, err := t.restMethod(api, mid, pathOf)
		if err != nil {
			return nil, err
		}
		api.Routes = append(api.Routes, route)
	}
	if len(api.Routes) == 0 {
		return nil, errors.New("the REST API has no methods")
	}
	return api, nil
}

func (t *template) restAuthorizer(api *API, id string) (*Authorizer, error) {
	r := t.res[id]
	a := &Authorizer{LogicalID: id, PayloadVersion: "1.0"}
	prop(r, "Name", &a.Name)
	prop(r, "Type", &a.Type)
	if a.Type != "TOKEN" && a.Type != "JWT" {
		return nil, fmt.Errorf("authorizer %s has type %q; the local gateway runs REST TOKEN and JWT authorizers", id, a.Type)
	}
	var source, expr string
	prop(r, "IdentitySource", &source)
	header, ok := strings.CutPrefix(source, "method.request.header.")
	if !ok || header == "" {
		return nil, fmt.Errorf("%s authorizer %s reads %q; want method.request.header.<name>", a.Type, id, source)
	}
	a.IdentitySource = []string{header}
	if a.Type == "JWT" {
		return a, t.restJWT(a, r)
	}
	prop(r, "IdentityValidationExpression", &expr)
	if expr != "" {
		re, err := regexp.Compile(expr)
		if err != nil {
			return nil, fmt.Errorf("TOKEN authorizer %s: identity validation expression %q: %v", id, expr, err)
		}
		a.Validation = re
	}
	a.TTL = restDefaultTTL
	if raw, ok := r.Properties["AuthorizerResultTtlInSeconds"]; ok {
		var ttl int
		if json.Unmarshal(raw, &ttl) == nil {
			a.TTL = time.Duration(ttl) * time.Second
		}
	}
	fn, err := t.function(api, r.Properties["AuthorizerUri"], "TOKEN authorizer "+id)
	if err != nil {
		return nil, err
	}
	a.Function = fn
	return a, nil
}

// restJWT reads a REST JWT authorizer's JwtConfiguration: every value must
// be a literal (the local gateway cannot resolve CloudFormation expressions).
func (t *template) restJWT(a *Authorizer, r cfnResource) error {
	var cfg struct {
		DefaultAlgorithms []string
		Issuers           []struct {
			Issuer           string
			Audiences        []string
			AdditionalClaims []struct {
				ClaimName      string
				Format         string
				ExpectedValues []string
				Required       bool
			}
		}
	}
	raw, ok := r.Properties["JwtConfiguration"]
	if !ok {
		return fmt.Errorf("JWT authorizer %s has no JwtConfiguration", a.LogicalID)
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return fmt.Errorf("JWT authorizer %s: JwtConfiguration is not literal values the local gateway can read: %v", a.LogicalID, err)
	}
	if len(cfg.DefaultAlgorithms) == 0 || len(cfg.Issuers) == 0 {
		return fmt.Errorf("JWT authorizer %s: JwtConfiguration needs DefaultAlgorithms and Issuers", a.LogicalID)
	}
	rc := &jwtauth.RESTConfig{Algorithms: cfg.DefaultAlgorithms}
	for i, iss := range cfg.Issuers {
		if iss.Issuer == "" || len(iss.Audiences) == 0 {
			return fmt.Errorf("JWT authorizer %s: Issuers[%d] needs Issuer and Audiences", a.LogicalID, i)
		}
		ri := jwtauth.RESTIssuer{Issuer: iss.Issuer, Audiences: iss.Audiences}
		for _, c := range iss.AdditionalClaims {
			if c.Format != "SINGLE_STRING" {
				return fmt.Errorf("JWT authorizer %s: claim %s has format %q; API Gateway supports SINGLE_STRING", a.LogicalID, c.ClaimName, c.Format)
			}
			ri.Claims = append(ri.Claims, jwtauth.AdditionalClaim{Name: c.ClaimName, Values: c.ExpectedValues, Required: c.Required})
		}
		rc.Issuers = append(rc.Issuers, ri)
	}
	a.RESTJWT = rc
	return nil
}

func (t *template) restMethod(api *API, id string, pathOf func(string, int) (string, error)) (*Route, error) {
	r := t.res[id]
	var method, authType string
	prop(r, "HttpMethod", &method)
	prop(r, "AuthorizationType", &authType)
	path := "/"
	if rid := refOf(r.Properties["ResourceId"]); rid != "" {
		var err error
		if path, err = pathOf(rid, 0); err != nil {
			return nil, fmt.Errorf("method %s: %v", id, err)
		}
	}
	k, err := routekey.Parse(method + " " + path)
	if err != nil {
		return nil, fmt.Errorf("method %s: %v", id, err)
	}
	route := &Route{Key: k, AuthType: authType, PayloadVersion: "1.0"}
	switch authType {
	case "", "NONE":
		route.AuthType = "NONE"
	case "CUSTOM", "JWT":
		route.Authorizer = api.Authorizers[refOf(r.Properties["AuthorizerId"])]
		if route.Authorizer == nil {
			return nil, fmt.Errorf("method %q uses an authorizer the template does not define for this API", k)
		}
		if want := map[string]string{"CUSTOM": "TOKEN", "JWT": "JWT"}[authType]; route.Authorizer.Type != want {
			return nil, fmt.Errorf("method %q has authorization type %s with the %s authorizer %s", k, authType, route.Authorizer.Type, route.Authorizer.Name)
		}
		prop(r, "AuthorizationScopes", &route.Scopes)
	default:
		return nil, fmt.Errorf("method %q has authorization type %s; the local gateway runs NONE, CUSTOM (TOKEN) and JWT methods", k, authType)
	}
	var integ struct {
		Type                 string
		Uri                  json.RawMessage
		TimeoutInMillis      int
		IntegrationResponses []struct {
			StatusCode         string
			ResponseParameters map[string]string
		}
	}
	prop(r, "Integration", &integ)
	route.IntegrationTimeout = time.Duration(integ.TimeoutInMillis) * time.Millisecond
	switch integ.Type {
	case "AWS_PROXY":
		if route.Function, err = t.function(api, integ.Uri, "method "+k.String()); err != nil {
			return nil, err
		}
	case "MOCK":
		// CDK's CORS preflight methods: a static answer.
		m := &MockIntegration{Status: 200, Headers: map[string]string{}}
		if len(integ.IntegrationResponses) > 0 {
			m.Status, _ = strconv.Atoi(integ.IntegrationResponses[0].StatusCode)
			for name, v := range integ.IntegrationResponses[0].ResponseParameters {
				if h, ok := strings.CutPrefix(name, "method.response.header."); ok {
					m.Headers[h] = strings.Trim(v, "'")
				}
			}
		}
		route.Mock = m
	default:
		return nil, fmt.Errorf("method %q has a %s integration; the local gateway runs Lambda proxy (AWS_PROXY) and MOCK integrations", k, integ.Type)
	}
	return route, nil
}

// function returns the jwtapi-built function a URI expression invokes.
func (t *template) function(api *API, uri json.RawMessage, what string) (*Function, error) {
	id := functionOf(uri)
	r, ok := t.res[id]
	if !ok || r.Type != "AWS::Lambda::Function" {
		return nil, fmt.Errorf("%s invokes something other than a Lambda function of this stack", what)
	}
	f, ok := t.functions[id]
	if !ok {
		var err error
		if f, err = parseFunction(t.stack, id, r); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		t.functions[id] = f
	}
	api.Functions[id] = f
	return f, nil
}

func parseFunction(stack, id string, r cfnResource) (*Function, error) {
	handler, _ := r.Metadata[cfnmeta.Handler].(string)
	if handler == "" {
		return nil, fmt.Errorf("function %s was not built by the jwtapi construct (no %s metadata); the local gateway cannot run it",
			id, cfnmeta.Handler)
	}
	f := &Function{ID: stack + "/" + id, LogicalID: id, Handler: handler, Env: map[string]string{}, Timeout: 3 * time.Second, MemoryMB: 128}
	var seconds, memory int
	prop(r, "Timeout", &seconds)
	prop(r, "MemorySize", &memory)
	if seconds > 0 {
		f.Timeout = time.Duration(seconds) * time.Second
	}
	if memory > 0 {
		f.MemoryMB = memory
	}
	var logging struct{ LogFormat string }
	prop(r, "LoggingConfig", &logging)
	f.LogFormat = logging.LogFormat
	var env struct {
		Variables map[string]json.RawMessage
	}
	prop(r, "Environment", &env)
	for k, raw := range env.Variables {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			f.Env[k] = s
			continue
		}
		// A Ref or GetAtt: only CloudFormation knows the value.
		f.Env[k] = strings.TrimSpace(string(raw))
		f.Unresolved = append(f.Unresolved, k)
	}
	sort.Strings(f.Unresolved)
	return f, nil
}

// refOf returns the logical id of {"Ref": id} or {"Fn::GetAtt": [id, ...]}.
func refOf(raw json.RawMessage) string {
	var v struct {
		Ref    string `json:"Ref"`
		GetAtt []any  `json:"Fn::GetAtt"`
	}
	if json.Unmarshal(raw, &v) != nil {
		return ""
	}
	if v.Ref != "" {
		return v.Ref
	}
	if len(v.GetAtt) == 2 {
		if id, _ := v.GetAtt[0].(string); id != "" && v.GetAtt[1] != "RootResourceId" {
			return id
		}
	}
	return ""
}

// refsIn lists the ids of every Ref anywhere in an expression.
func refsIn(raw json.RawMessage) []string {
	var v any
	json.Unmarshal(raw, &v)
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if id, ok := x["Ref"].(string); ok {
				out = append(out, id)
			}
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	return out
}

// functionOf finds the function a URI expression points at: the first
// Fn::GetAtt [id, "Arn"] anywhere in it (integration and authorizer URIs).
func functionOf(raw json.RawMessage) string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return ""
	}
	var find func(v any) string
	find = func(v any) string {
		switch x := v.(type) {
		case map[string]any:
			if ga, ok := x["Fn::GetAtt"].([]any); ok && len(ga) == 2 && ga[1] == "Arn" {
				id, _ := ga[0].(string)
				return id
			}
			for _, e := range x {
				if id := find(e); id != "" {
					return id
				}
			}
		case []any:
			for _, e := range x {
				if id := find(e); id != "" {
					return id
				}
			}
		}
		return ""
	}
	return find(v)
}

// prop decodes a property if present; a property of another shape (an
// intrinsic function where a literal is expected) leaves v unchanged.
func prop(r cfnResource, name string, v any) {
	if raw, ok := r.Properties[name]; ok {
		json.Unmarshal(raw, v)
	}
}

// Trusted is an issuer an authorizer accepts tokens of, and the audiences
// (or client ids) it accepts from it.
type Trusted struct {
	Issuer    string
	Audiences []string
}

// Trusts lists the issuers the authorizer accepts tokens of: an HTTP API
// JWT authorizer's one, every issuer of a REST JWT authorizer, and the one
// a jwtapi Lambda authorizer is configured with (JWT_ISSUER). Another
// Lambda authorizer trusts nothing this can tell.
func (a *Authorizer) Trusts() []Trusted {
	switch {
	case a == nil:
		return nil
	case a.RESTJWT != nil:
		var out []Trusted
		for _, iss := range a.RESTJWT.Issuers {
			out = append(out, Trusted{Issuer: iss.Issuer, Audiences: iss.Audiences})
		}
		return out
	case a.Function != nil:
		c, err := authzspec.FromEnv(func(k string) string { return a.Function.Env[k] })
		if err != nil {
			return nil
		}
		return []Trusted{{Issuer: c.Issuer, Audiences: c.Audiences}}
	case a.Issuer != "":
		return []Trusted{{Issuer: a.Issuer, Audiences: a.Audiences}}
	}
	return nil
}

// TrustsIssuer tells whether the authorizer accepts tokens of issuer.
func (a *Authorizer) TrustsIssuer(issuer string) bool {
	for _, t := range a.Trusts() {
		if t.Issuer == issuer {
			return true
		}
	}
	return false
}
