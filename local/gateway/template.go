package gateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/jwtapi/jwtapi/internal/cfnmeta"
	"github.com/jwtapi/jwtapi/internal/routekey"
)

// ErrTemplate is wrapped by every error about the synthesized template.
var ErrTemplate = errors.New("template")

// API is what the local gateway serves, read from a synthesized template.
type API struct {
	Name        string
	LogicalID   string
	Cors        *Cors
	Routes      []*Route
	Authorizers map[string]*Authorizer
	Functions   map[string]*Function
}

// Route is one route and where it goes.
type Route struct {
	Key routekey.Key
	// AuthType is NONE, JWT or CUSTOM (a Lambda authorizer).
	AuthType   string
	Authorizer *Authorizer
	Scopes     []string
	// Function is the integration's function; PayloadVersion is "2.0" or "1.0".
	Function       *Function
	PayloadVersion string
}

// Authorizer is a JWT authorizer or a Lambda (REQUEST) authorizer of the API.
type Authorizer struct {
	LogicalID      string
	Name           string
	Type           string // JWT or REQUEST
	IdentitySource []string
	// Issuer and Audiences configure a JWT authorizer.
	Issuer    string
	Audiences []string
	// Function, PayloadVersion, SimpleResponses and TTL configure a Lambda authorizer.
	Function        *Function
	PayloadVersion  string
	SimpleResponses bool
	TTL             time.Duration
}

// Function is a Lambda function built by the jwtapi construct.
type Function struct {
	LogicalID string
	// Handler is the main package directory, relative to the module.
	Handler   string
	Env       map[string]string
	Timeout   time.Duration
	MemoryMB  int
	LogFormat string
	// Unresolved lists environment variables whose values are CloudFormation
	// expressions that only exist in AWS.
	Unresolved []string
}

// Cors is the API's CORS configuration.
type Cors struct {
	AllowOrigins, AllowMethods, AllowHeaders, ExposeHeaders []string
	AllowCredentials                                        bool
	MaxAge                                                  int
}

type cfnResource struct {
	Type       string                     `json:"Type"`
	Properties map[string]json.RawMessage `json:"Properties"`
	Metadata   map[string]any             `json:"Metadata"`
}

// LoadTemplate reads a synthesized stack template.
func LoadTemplate(path string) (*API, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrTemplate, err)
	}
	var tpl struct {
		Resources map[string]cfnResource `json:"Resources"`
	}
	if err := json.Unmarshal(b, &tpl); err != nil {
		return nil, fmt.Errorf("%w: %s is not a CloudFormation JSON template: %v", ErrTemplate, path, err)
	}
	return parseTemplate(tpl.Resources)
}

func parseTemplate(res map[string]cfnResource) (*API, error) {
	api := &API{Authorizers: map[string]*Authorizer{}, Functions: map[string]*Function{}}
	ids := make([]string, 0, len(res))
	for id := range res {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	integrations := map[string]cfnResource{}
	lambdaAuthorizers := map[string]cfnResource{}
	for _, id := range ids {
		r := res[id]
		switch r.Type {
		case "AWS::ApiGatewayV2::Api":
			if api.LogicalID != "" {
				return nil, fmt.Errorf("%w: the stack has several HTTP APIs (%s, %s); the local gateway serves one", ErrTemplate, api.LogicalID, id)
			}
			api.LogicalID = id
			prop(r, "Name", &api.Name)
			var cors *struct {
				AllowOrigins, AllowMethods, AllowHeaders, ExposeHeaders []string
				AllowCredentials                                        bool
				MaxAge                                                  int
			}
			prop(r, "CorsConfiguration", &cors)
			if cors != nil {
				api.Cors = &Cors{cors.AllowOrigins, cors.AllowMethods, cors.AllowHeaders, cors.ExposeHeaders, cors.AllowCredentials, cors.MaxAge}
			}
		case "AWS::ApiGatewayV2::Authorizer":
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
			if a.Type == "JWT" && (a.Issuer == "" || len(a.Audiences) == 0) {
				return nil, fmt.Errorf("%w: JWT authorizer %s has no literal issuer or audience", ErrTemplate, id)
			}
			var ttl int
			prop(r, "AuthorizerResultTtlInSeconds", &ttl)
			prop(r, "AuthorizerPayloadFormatVersion", &a.PayloadVersion)
			prop(r, "EnableSimpleResponses", &a.SimpleResponses)
			a.TTL = time.Duration(ttl) * time.Second
			api.Authorizers[id] = a
			lambdaAuthorizers[id] = r
		case "AWS::ApiGatewayV2::Integration":
			integrations[id] = r
		case "AWS::Lambda::Function":
			f, err := parseFunction(id, r)
			if err != nil {
				return nil, err
			}
			api.Functions[id] = f
		}
	}
	if api.LogicalID == "" {
		return nil, fmt.Errorf("%w: the stack has no API Gateway HTTP API", ErrTemplate)
	}
	for id, r := range lambdaAuthorizers {
		a := api.Authorizers[id]
		if a.Type != "REQUEST" {
			continue
		}
		fn := functionOf(r.Properties["AuthorizerUri"])
		if api.Functions[fn] == nil {
			return nil, fmt.Errorf("%w: Lambda authorizer %s does not call a function of this stack", ErrTemplate, id)
		}
		a.Function = api.Functions[fn]
	}
	for _, id := range ids {
		r := res[id]
		if r.Type != "AWS::ApiGatewayV2::Route" {
			continue
		}
		route, err := parseRoute(id, r, api, integrations)
		if err != nil {
			return nil, err
		}
		api.Routes = append(api.Routes, route)
	}
	if len(api.Routes) == 0 {
		return nil, fmt.Errorf("%w: the API has no routes", ErrTemplate)
	}
	sort.Slice(api.Routes, func(i, j int) bool { return api.Routes[i].Key.String() < api.Routes[j].Key.String() })
	return api, nil
}

func parseRoute(id string, r cfnResource, api *API, integrations map[string]cfnResource) (*Route, error) {
	var key, authType string
	prop(r, "RouteKey", &key)
	prop(r, "AuthorizationType", &authType)
	k, err := routekey.Parse(key)
	if err != nil {
		return nil, fmt.Errorf("%w: route %s: %v", ErrTemplate, id, err)
	}
	if authType == "" {
		authType = "NONE"
	}
	route := &Route{Key: k, AuthType: authType}
	prop(r, "AuthorizationScopes", &route.Scopes)
	if authType != "NONE" {
		var ref struct{ Ref string }
		prop(r, "AuthorizerId", &ref)
		route.Authorizer = api.Authorizers[ref.Ref]
		if route.Authorizer == nil {
			return nil, fmt.Errorf("%w: route %q uses authorizer %q, which the template does not define", ErrTemplate, key, ref.Ref)
		}
		a := route.Authorizer
		switch {
		case authType == "JWT" && a.Type == "JWT":
		case authType == "CUSTOM" && a.Type == "REQUEST" && a.PayloadVersion == "2.0" && a.SimpleResponses:
		default:
			return nil, fmt.Errorf("%w: route %q uses a %s authorizer (%s, payload %q, simple responses %v); the local gateway runs JWT authorizers and REQUEST authorizers with payload 2.0 and simple responses",
				ErrTemplate, key, authType, a.Type, a.PayloadVersion, a.SimpleResponses)
		}
	}
	var target struct {
		Join []json.RawMessage `json:"Fn::Join"`
	}
	prop(r, "Target", &target)
	integrationID := ""
	if len(target.Join) == 2 {
		var parts []json.RawMessage
		json.Unmarshal(target.Join[1], &parts)
		for _, p := range parts {
			var ref struct{ Ref string }
			if json.Unmarshal(p, &ref) == nil && ref.Ref != "" {
				integrationID = ref.Ref
			}
		}
	}
	integ, ok := integrations[integrationID]
	if !ok {
		return nil, fmt.Errorf("%w: route %q has no Lambda integration the local gateway can follow", ErrTemplate, key)
	}
	prop(integ, "PayloadFormatVersion", &route.PayloadVersion)
	route.Function = api.Functions[functionOf(integ.Properties["IntegrationUri"])]
	if route.Function == nil {
		return nil, fmt.Errorf("%w: route %q integrates with something other than a function of this stack", ErrTemplate, key)
	}
	if route.PayloadVersion != "2.0" && route.PayloadVersion != "1.0" {
		return nil, fmt.Errorf("%w: route %q has payload format %q; want 2.0 or 1.0", ErrTemplate, key, route.PayloadVersion)
	}
	return route, nil
}

func parseFunction(id string, r cfnResource) (*Function, error) {
	handler, _ := r.Metadata[cfnmeta.Handler].(string)
	if handler == "" {
		return nil, fmt.Errorf("%w: function %s was not built by the jwtapi construct (no %s metadata); the local gateway cannot run it",
			ErrTemplate, id, cfnmeta.Handler)
	}
	f := &Function{LogicalID: id, Handler: handler, Env: map[string]string{}, Timeout: 3 * time.Second, MemoryMB: 128}
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
