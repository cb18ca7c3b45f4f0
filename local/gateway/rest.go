package gateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/jwtapi/jwtapi/jwtverify"
)

// restDefaultTTL is a REST authorizer's result cache TTL when the template
// does not set one (CloudFormation's default).
const restDefaultTTL = 300 * time.Second

// Gateway response types of a REST API, and what API Gateway answers for
// each when the API does not customize it: status, message and the
// x-amzn-ErrorType header. Captures show "Message" capitalized for the two
// authorizer denials and "message" elsewhere; which of AUTHORIZER_FAILURE
// and AUTHORIZER_CONFIGURATION_ERROR a failing Lambda authorizer raises is
// unconfirmed (both are 500 AuthorizerConfigurationException in captures):
// this table is the one place that says so.
const (
	respUnauthorized     = "UNAUTHORIZED"
	respAccessDenied     = "ACCESS_DENIED"
	respAuthorizerConfig = "AUTHORIZER_CONFIGURATION_ERROR"
	respMissingToken     = "MISSING_AUTHENTICATION_TOKEN"
	respTooLarge         = "REQUEST_TOO_LARGE"
	respIntegration      = "INTEGRATION_FAILURE"
	respTimeout          = "INTEGRATION_TIMEOUT"
	// respJWTDenied is ACCESS_DENIED raised by a JWT authorizer (a valid
	// token without the method's scopes): its default body is the plain
	// {"message":"Forbidden"} of HTTP APIs, not a Lambda authorizer's
	// policy message (inferred: docs/aws-behaviour.md).
	respJWTDenied = "ACCESS_DENIED (JWT)"
)

type defaultResponse struct {
	// responseType is the gateway response type an API customizes it by,
	// when not the key of restDefaults.
	responseType string
	status       int
	key          string // the body's message member
	message      any    // a string, or nil for null
	errorType    string
	family       string // DEFAULT_4XX or DEFAULT_5XX, whose customization applies when the type has none
}

var restDefaults = map[string]defaultResponse{
	respUnauthorized:     {"", 401, "message", "Unauthorized", "UnauthorizedException", "DEFAULT_4XX"},
	respAccessDenied:     {"", 403, "Message", "User is not authorized to access this resource", "AccessDeniedException", "DEFAULT_4XX"},
	respJWTDenied:        {respAccessDenied, 403, "message", "Forbidden", "AccessDeniedException", "DEFAULT_4XX"},
	respAuthorizerConfig: {"", 500, "message", nil, "AuthorizerConfigurationException", "DEFAULT_5XX"},
	respMissingToken:     {"", 403, "message", "Missing Authentication Token", "MissingAuthenticationTokenException", "DEFAULT_4XX"},
	respTooLarge:         {"", 413, "message", "Request Too Long", "RequestTooLongException", "DEFAULT_4XX"},
	respIntegration:      {"", 502, "message", "Internal server error", "InternalServerErrorException", "DEFAULT_5XX"},
	respTimeout:          {"", 504, "message", "Endpoint request timed out", "IntegrationTimeoutException", "DEFAULT_5XX"},
}

// explicitDenyMessage is ACCESS_DENIED's message when a policy denies the
// method explicitly.
const explicitDenyMessage = "User is not authorized to access this resource with an explicit deny"

// serveREST runs a request through a REST API: stage, resource and method,
// TOKEN authorizer, Lambda proxy integration, gateway responses.
func (g *Gateway) serveREST(q *request) (*response, outcome) {
	r := q.http
	raw := r.URL.EscapedPath()
	stage, rest, _ := strings.Cut(strings.TrimPrefix(raw, "/"), "/")
	if stage != g.api.StageName {
		// No such stage: API Gateway answers a bare 403 (unconfirmed text).
		return &response{status: http.StatusForbidden, headers: http.Header{"Content-Type": {"application/json"}}, body: []byte(`{"message":"Forbidden"}`)},
			outcome{route: fmt.Sprintf("no stage %q (this API's stage is %q: /%s/...)", stage, g.api.StageName, g.api.StageName)}
	}
	q.rawPath = "/" + rest
	q.path = strings.TrimPrefix(r.URL.Path, "/"+stage)
	if q.path == "" {
		q.path = "/"
	}
	match, ok := g.table.Lookup(r.Method, q.rawPath)
	if !ok {
		return g.gatewayResponse(q, respMissingToken, nil), outcome{route: "no resource or method"}
	}
	route := g.routes[match.Key.String()]
	q.route, q.match = route, match
	out := outcome{route: match.Key.String()}
	if route.Mock != nil {
		res := &response{status: route.Mock.Status, headers: http.Header{}}
		for k, v := range route.Mock.Headers {
			res.headers.Set(k, v)
		}
		return res, outcome{route: out.route + " (mock)"}
	}
	switch route.AuthType {
	case "CUSTOM":
		var res *response
		if res, out.auth = g.authorizeToken(q); res != nil {
			return res, out
		}
	case "JWT":
		var res *response
		if res, out.auth = g.authorizeRESTJWT(q); res != nil {
			return res, out
		}
	}
	res, detail := g.integrate(q, func(kind int) *response {
		if kind == failTimeout {
			return g.gatewayResponse(q, respTimeout, nil)
		}
		return g.gatewayResponse(q, respIntegration, nil)
	})
	if detail != "" {
		out.auth = strings.TrimPrefix(strings.TrimSpace(out.auth+"; "+detail), "; ")
	}
	return res, out
}

// authorizeToken runs a TOKEN authorizer as API Gateway does: the header
// must be present and match the identity validation expression, or the
// caller gets 401 without the authorizer being invoked; the answer (a
// policy) is cached by token for the TTL and evaluated against each
// request's method ARN. A nil response means allowed.
func (g *Gateway) authorizeToken(q *request) (*response, string) {
	a := q.route.Authorizer
	token := q.http.Header.Get(a.IdentitySource[0])
	q.token = jwtverify.BearerToken(token)
	if token == "" {
		q.refuse(jwtverify.ErrNoToken)
		return g.gatewayResponse(q, respUnauthorized, nil), "token authorizer: no " + a.IdentitySource[0] + " header (not invoked)"
	}
	if a.Validation != nil && !a.Validation.MatchString(token) {
		q.refuse(errNotBearer)
		return g.gatewayResponse(q, respUnauthorized, nil), "token authorizer: the header does not match the identity validation expression (not invoked)"
	}
	cache := g.decisions[a.LogicalID]
	d, cached := cache.Get(token)
	if cached = cached && g.now().Before(d.expires); !cached {
		var err error
		if d, err = g.invokeTokenAuthorizer(q, token); err != nil {
			q.refuse(err)
			if errors.Is(err, errUnauthorized) {
				return g.gatewayResponse(q, respUnauthorized, nil), "token authorizer: " + err.Error()
			}
			return g.gatewayResponse(q, respAuthorizerConfig, nil), "token authorizer: " + err.Error()
		}
		if a.TTL > 0 {
			d.expires = g.now().Add(a.TTL)
			cache.Put(token, d)
		}
	}
	note := ""
	if cached {
		note = " (cached)"
	}
	q.lambdaContext, q.principal = d.context, d.principal
	arn := q.methodARN()
	switch d.policy.evaluate(arn) {
	case explicitDeny:
		q.refuse(fmt.Errorf("%w: its policy denies %s explicitly", errLambdaDenied, arn))
		return g.gatewayResponse(q, respAccessDenied, explicitDenyMessage), fmt.Sprintf("token authorizer: explicit deny for %s, principal %s%s", arn, d.principal, note)
	case implicitDeny:
		q.refuse(fmt.Errorf("%w: no statement of its policy allows %s", errLambdaDenied, arn))
		return g.gatewayResponse(q, respAccessDenied, nil), fmt.Sprintf("token authorizer: no statement allows %s, principal %s%s", arn, d.principal, note)
	}
	q.allow(d.context)
	return nil, fmt.Sprintf("token authorizer: allow principal %s%s", d.principal, note)
}

// authorizeRESTJWT runs a REST API's native JWT authorizer: a missing or
// invalid token is UNAUTHORIZED (401), a valid one without any of the
// method's scopes ACCESS_DENIED (403), both through the API's gateway
// responses. Which response types AWS uses is inferred from their
// descriptions (docs/aws-behaviour.md). A nil response means allowed.
func (g *Gateway) authorizeRESTJWT(q *request) (*response, string) {
	a := q.route.Authorizer
	q.token = jwtverify.BearerToken(q.http.Header.Get(a.IdentitySource[0]))
	d := g.restJWT[a.LogicalID].Authorize(q.http.Context(), q.token, q.route.Scopes)
	if d.Err != nil {
		typ := respUnauthorized
		if d.Status == http.StatusForbidden {
			typ = respJWTDenied
		}
		q.refuse(d.Err)
		return g.gatewayResponse(q, typ, nil), "jwt: " + d.Err.Error()
	}
	q.restClaims = d.Claims
	q.allow(d.Claims)
	sub, _ := d.Claims["sub"].(string)
	return nil, "jwt: ok sub=" + sub
}

// errUnauthorized: the authorizer failed with the error "Unauthorized", the
// documented way for it to answer 401.
var errUnauthorized = errors.New("the authorizer answered Unauthorized")

func (g *Gateway) invokeTokenAuthorizer(q *request, token string) (cachedDecision, error) {
	res, err := g.invoke(q, q.route.Authorizer.Function, events.APIGatewayCustomAuthorizerRequest{
		Type: "TOKEN", AuthorizationToken: token, MethodArn: q.methodARN(),
	})
	switch {
	case err != nil:
		return cachedDecision{}, err
	case res.ErrorType != "" && errorMessage(res.ErrorBody) == "Unauthorized":
		return cachedDecision{}, errUnauthorized
	case res.ErrorType != "":
		return cachedDecision{}, fmt.Errorf("%w: %s: %s", errAuthorizer, res.ErrorType, firstLine(errorMessage(res.ErrorBody)))
	}
	var answer struct {
		PrincipalID    *string         `json:"principalId"`
		PolicyDocument *policyDocument `json:"policyDocument"`
		Context        map[string]any  `json:"context"`
	}
	if err := json.Unmarshal(res.Payload, &answer); err != nil || answer.PrincipalID == nil || answer.PolicyDocument == nil || len(answer.PolicyDocument.Statement) == 0 {
		return cachedDecision{}, fmt.Errorf("%w: the answer is not {\"principalId\": ..., \"policyDocument\": {\"Statement\": [...]}}: %.200s", errAuthorizer, res.Payload)
	}
	for k, v := range answer.Context {
		switch v.(type) {
		case string, float64, bool:
		default:
			// API Gateway refuses a context value that is not a string,
			// number or boolean.
			return cachedDecision{}, fmt.Errorf("%w: context.%s is a %T; only strings, numbers and booleans are allowed", errAuthorizer, k, v)
		}
	}
	return cachedDecision{principal: *answer.PrincipalID, policy: answer.PolicyDocument, context: answer.Context}, nil
}

// gatewayResponse renders one of API Gateway's own answers: the API's
// customization of the type (or of its DEFAULT_4XX/5XX family) if any, else
// the default. message overrides the default message.
func (g *Gateway) gatewayResponse(q *request, typ string, message any) *response {
	def := restDefaults[typ]
	if message == nil {
		message = def.message
	}
	res := &response{status: def.status, headers: http.Header{"Content-Type": {"application/json"}}}
	res.headers.Set("X-Amzn-Errortype", def.errorType)
	body, _ := json.Marshal(map[string]any{def.key: message})
	res.body = body
	if def.responseType != "" {
		typ = def.responseType
	}
	custom := g.api.Responses[typ]
	if custom == nil {
		custom = g.api.Responses[def.family]
	}
	if custom == nil {
		return res
	}
	if custom.Status != 0 {
		res.status = custom.Status
	}
	msg, _ := json.Marshal(message)
	lookup := func(ref string) string {
		switch ref {
		case "context.error.message":
			s, _ := message.(string)
			return s
		case "context.error.messageString":
			return string(msg)
		case "context.error.responseType":
			return typ
		case "context.requestId", "context.extendedRequestId":
			return q.id
		case "context.stage":
			return g.api.StageName
		case "context.httpMethod":
			return q.http.Method
		case "context.path":
			return q.http.URL.Path
		case "context.apiId":
			return q.apiID
		}
		if key, ok := strings.CutPrefix(ref, "context.authorizer."); ok {
			if key == "principalId" {
				return q.principal
			}
			if v, ok := q.lambdaContext[key]; ok {
				return fmt.Sprint(v)
			}
		}
		return ""
	}
	if custom.Template != "" {
		rendered, err := renderVTL(custom.Template, lookup)
		if err != nil {
			g.logLine(fmt.Sprintf("%s gateway response: %v; answering API Gateway's default body", typ, err))
		} else {
			res.body = []byte(rendered)
		}
	}
	for name, v := range custom.Headers {
		if lit, ok := strings.CutPrefix(v, "'"); ok {
			res.headers.Set(name, strings.TrimSuffix(lit, "'"))
		} else if h, ok := strings.CutPrefix(v, "method.request.header."); ok {
			res.headers.Set(name, q.http.Header.Get(h))
		}
	}
	return res
}

func (g *Gateway) logLine(s string) {
	g.logMu.Lock()
	fmt.Fprintln(g.logs, s)
	g.logMu.Unlock()
}
