package gateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/jwtapi/jwtapi/jwtverify"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// cachedDecision is a Lambda authorizer's answer, kept for its TTL keyed by
// the identity source values, as API Gateway caches them. A REST TOKEN
// authorizer's answer is its policy, evaluated anew for each request.
type cachedDecision struct {
	allowed   bool
	principal string
	policy    *policyDocument
	context   map[string]any
	expires   time.Time
}

// identityValues reads a Lambda authorizer's identity sources; ok is false
// when a header or query source is missing (API Gateway then answers 401
// without invoking the authorizer).
func (q *request) identityValues(sources []string) (values []string, ok bool) {
	for _, src := range sources {
		var v string
		switch {
		case strings.HasPrefix(src, "$request.header."):
			v = q.http.Header.Get(strings.TrimPrefix(src, "$request.header."))
		case strings.HasPrefix(src, "$request.querystring."):
			v = q.http.URL.Query().Get(strings.TrimPrefix(src, "$request.querystring."))
		case src == "$context.routeKey":
			v = q.route.Key.String()
		default:
			continue
		}
		if v == "" {
			return nil, false
		}
		values = append(values, v)
	}
	return values, true
}

// errAuthorizer: the authorizer failed or answered something API Gateway
// cannot read; the client gets 500.
var errAuthorizer = errors.New("authorizer failed")

// authorizeLambda runs the route's REQUEST authorizer (payload 2.0, simple
// responses); a nil response means allowed.
func (g *Gateway) authorizeLambda(q *request) (*response, string) {
	a := q.route.Authorizer
	values, ok := q.identityValues(a.IdentitySource)
	q.token = tokenOf(q)
	if !ok {
		q.refuse(jwtverify.ErrNoToken)
		return apiError(401), "lambda authorizer: identity source missing"
	}
	cache := g.decisions[a.LogicalID]
	key := strings.Join(values, "\x00")
	d, cached := cache.Get(key)
	if cached = cached && g.now().Before(d.expires); !cached {
		var err error
		if d, err = g.invokeAuthorizer(q, values); err != nil {
			q.refuse(err)
			return apiError(500), "lambda authorizer: " + err.Error()
		}
		if a.TTL > 0 {
			d.expires = g.now().Add(a.TTL)
			cache.Put(key, d)
		}
	}
	note := ""
	if cached {
		note = " (cached)"
	}
	if !d.allowed {
		q.refuse(errLambdaDenied)
		return apiError(403), "lambda authorizer: deny" + note
	}
	q.lambdaContext = d.context
	q.allow(d.context)
	return nil, fmt.Sprintf("lambda authorizer: allow sub=%v%s", d.context["sub"], note)
}

func (g *Gateway) invokeAuthorizer(q *request, identity []string) (cachedDecision, error) {
	ev := q.eventV2()
	e := events.APIGatewayV2CustomAuthorizerV2Request{
		Version: "2.0", Type: "REQUEST",
		RouteArn:       q.methodARN(),
		IdentitySource: identity, RouteKey: ev.RouteKey, RawPath: ev.RawPath, RawQueryString: ev.RawQueryString,
		Cookies: ev.Cookies, Headers: ev.Headers, QueryStringParameters: ev.QueryStringParameters,
		RequestContext: ev.RequestContext.APIGatewayV2HTTPRequestContext, PathParameters: ev.PathParameters,
	}
	res, err := g.invoke(q, q.route.Authorizer.Function, e)
	switch {
	case err != nil:
		return cachedDecision{}, err
	case res.ErrorType != "":
		return cachedDecision{}, fmt.Errorf("%w: %s: %s", errAuthorizer, res.ErrorType, firstLine(errorMessage(res.ErrorBody)))
	}
	var simple struct {
		IsAuthorized *bool          `json:"isAuthorized"`
		Context      map[string]any `json:"context"`
	}
	if err := json.Unmarshal(res.Payload, &simple); err != nil || simple.IsAuthorized == nil {
		return cachedDecision{}, fmt.Errorf("%w: the answer is not a simple response {\"isAuthorized\": bool, \"context\": {...}}: %.200s", errAuthorizer, res.Payload)
	}
	return cachedDecision{allowed: *simple.IsAuthorized, context: simple.Context}, nil
}
