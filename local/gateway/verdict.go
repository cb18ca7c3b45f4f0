package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/jwtapi/jwtapi/authzspec"
	"github.com/jwtapi/jwtapi/functions/authz"
	"github.com/jwtapi/jwtapi/jwtverify"
	"github.com/jwtapi/jwtapi/local/explain"
)

// Verdict is an authorizer's decision on one request, for people: which
// authorizer decided, whether it allowed the request, why not in plain
// words, and what API Gateway answers the refusal.
type Verdict struct {
	// Route is the route key; Auth names the authorizer ("public",
	// "jwt authorizer users", "lambda authorizer lambda-users", ...).
	Route, Auth string
	Allowed     bool
	// Err is the refusal, wrapping one of jwtverify's sentinels when the
	// gateway knows it; Reason says it in plain words.
	Err    error
	Reason string
	// AWS is API Gateway's answer to the refusal; nil when allowed.
	AWS *Answer
	// Claims are what the handler receives when allowed.
	Claims any
}

// Answer is what API Gateway answers a refused request.
type Answer struct {
	Status          int    `json:"status"`
	Body            string `json:"body"`
	WWWAuthenticate string `json:"wwwAuthenticate,omitempty"`
	ErrorType       string `json:"errorType,omitempty"`
}

// errLambdaDenied: a Lambda authorizer answered "not authorized"; its own
// log says why.
var errLambdaDenied = errors.New("the Lambda authorizer denied the request")

// errNotBearer: a REST TOKEN authorizer's identity validation expression
// refused the header before the authorizer ran.
var errNotBearer = errors.New("the Authorization header does not match the TOKEN authorizer's identity validation expression (Bearer <token>)")

// authName names a route's authorizer for people.
func authName(r *Route) string {
	a := r.Authorizer
	switch {
	case r.AuthType == "NONE" || a == nil:
		return "public"
	case a.RESTJWT != nil:
		return "jwt authorizer " + a.Name + " (REST)"
	case a.Type == "JWT":
		return "jwt authorizer " + a.Name
	case a.Type == "TOKEN":
		return "token authorizer " + a.Name
	}
	return "lambda authorizer " + a.Name
}

// refuse records a refusal on q.
func (q *request) refuse(err error) {
	q.verdict = &Verdict{Route: q.route.Key.String(), Auth: authName(q.route), Err: err}
}

// allow records an allowed request on q.
func (q *request) allow(claims any) {
	q.verdict = &Verdict{Route: q.route.Key.String(), Auth: authName(q.route), Allowed: true, Claims: claims}
}

// explainContext is what the route's authorizer accepts, for Why.
func (g *Gateway) explainContext(r *Route) explain.Context {
	c := explain.Context{Now: g.now()}
	a := r.Authorizer
	if a == nil {
		return c
	}
	for _, t := range a.Trusts() {
		c.Issuers = append(c.Issuers, t.Issuer)
		c.Audiences = append(c.Audiences, t.Audiences...)
	}
	c.RouteScopes = r.Scopes
	switch {
	case a.RESTJWT != nil:
		c.Algorithms = a.RESTJWT.Algorithms
		c.KeysFetchedAt = g.restJWT[a.LogicalID].KeysFetchedAt()
	case a.Type == "JWT":
		c.Algorithms = []string{"RS256", "RS384", "RS512"}
		if az := g.authorizers[a.LogicalID]; az != nil {
			c.KeysFetchedAt = az.KeysFetchedAt()
		}
	case a.Function != nil:
		if cfg, err := authzspec.FromEnv(func(k string) string { return a.Function.Env[k] }); err == nil {
			c.Algorithms = cfg.Algorithms
			if rule, ok := cfg.Rules[r.Key.String()]; ok {
				c.RouteScopes = rule.AnyScopes
			}
		}
	}
	return c
}

// finish completes q's verdict with the plain reason and API Gateway's
// answer res, once the request is answered.
func (g *Gateway) finish(q *request, res *response, token string) *Verdict {
	v := q.verdict
	if v == nil {
		return nil
	}
	if !v.Allowed {
		v.Reason = explain.Why(v.Err, token, g.explainContext(q.route))
		if errors.Is(v.Err, errLambdaDenied) {
			v.Reason = "the Lambda authorizer denied the request: its log line says why"
		}
		if code, _ := q.lambdaContext["code"].(string); code != "" {
			msg, _ := q.lambdaContext["error"].(string)
			v.Reason = code + ": " + msg
		}
		v.AWS = &Answer{Status: res.status, Body: string(res.body), WWWAuthenticate: res.headers.Get("Www-Authenticate"), ErrorType: res.headers.Get("X-Amzn-Errortype")}
	}
	return v
}

// Check runs a route's authorization on token as the gateway would, without
// invoking any function: JWT authorizers verify the token (fetching the
// issuer's keys as usual); a jwtapi Go Lambda authorizer's decision is
// taken in-process by the same code (functions/authz), configured from
// the function's environment. Another Lambda authorizer cannot be
// predicted: the verdict says so.
func (g *Gateway) Check(ctx context.Context, routeKey, token string) (*Verdict, error) {
	route := g.routes[routeKey]
	if route == nil {
		return nil, fmt.Errorf("no route %q in API %s", routeKey, g.api.Name)
	}
	target := "/" + strings.TrimPrefix(route.Key.Path, "/")
	if g.api.Kind == KindREST {
		target = "/" + g.api.StageName + target
	}
	hr := httptest.NewRequestWithContext(ctx, route.Key.Method, strings.NewReplacer("{", "", "}", "", "+", "").Replace(target), nil)
	if route.Key.IsDefault() {
		hr = httptest.NewRequestWithContext(ctx, "GET", "/", nil)
	}
	q := &request{http: hr, id: newRequestID(), received: g.now(), apiID: g.apiID, api: g.api, route: route}
	q.path, q.rawPath = route.Key.Path, route.Key.Path
	if route.Authorizer != nil && len(route.Authorizer.IdentitySource) > 0 && token != "" {
		src := route.Authorizer.IdentitySource[0]
		name := strings.TrimPrefix(src, "$request.header.")
		if strings.HasPrefix(src, "$request.querystring.") {
			hr.URL.RawQuery = strings.TrimPrefix(src, "$request.querystring.") + "=" + token
		} else {
			hr.Header.Set(name, "Bearer "+token)
		}
	}
	var res *response
	switch {
	case route.AuthType == "NONE":
		return &Verdict{Route: routeKey, Auth: "public", Allowed: true}, nil
	case route.AuthType == "JWT" && g.api.Kind == KindREST:
		res, _ = g.authorizeRESTJWT(q)
	case route.AuthType == "JWT":
		res, _ = g.authorize(q)
	default:
		var err error
		if res, err = g.checkGoAuthorizer(q, token); err != nil {
			return &Verdict{Route: routeKey, Auth: authName(route), Err: err, Reason: err.Error()}, nil
		}
	}
	if res == nil {
		return q.verdict, nil
	}
	return g.finish(q, res, token), nil
}

// errUnpredictable: the route's Lambda authorizer is not jwtapi's.
var errUnpredictable = errors.New("the route's Lambda authorizer is not jwtapi's Go authorizer: only running it tells its answer")

// checkGoAuthorizer takes a jwtapi Go Lambda authorizer's decision
// in-process and maps it to API Gateway's answer.
func (g *Gateway) checkGoAuthorizer(q *request, token string) (*response, error) {
	a := q.route.Authorizer
	cfg, err := authzspec.FromEnv(func(k string) string { return a.Function.Env[k] })
	if err != nil {
		return nil, errUnpredictable
	}
	o := authz.VerifierOptions(cfg)
	o.HTTPClient, o.Now = g.jwksClient, g.now
	v, err := jwtverify.New(o)
	if err != nil {
		return nil, err
	}
	az := authz.NewAuthorizer(v, cfg.Rules, io.Discard)
	key := q.route.Key.String()
	if a.Type == "TOKEN" {
		if token == "" {
			q.refuse(jwtverify.ErrNoToken)
			return g.gatewayResponse(q, respUnauthorized, nil), nil
		}
		d := az.Decide(q.http.Context(), token, key)
		if !d.Allowed() {
			q.refuse(d.Denial)
			q.lambdaContext = map[string]any{"code": string(d.Denial.Code), "error": d.Denial.Message}
			return g.gatewayResponse(q, respAccessDenied, nil), nil
		}
		q.allow(map[string]any{"sub": d.Token.Subject(), "scope": strings.Join(d.Token.Scopes(), " ")})
		return nil, nil
	}
	if token == "" {
		q.refuse(jwtverify.ErrNoToken)
		return apiError(http.StatusUnauthorized), nil
	}
	d := az.Decide(q.http.Context(), token, key)
	if !d.Allowed() {
		q.refuse(d.Denial)
		return apiError(http.StatusForbidden), nil
	}
	q.allow(map[string]any{"sub": d.Token.Subject(), "scope": strings.Join(d.Token.Scopes(), " ")})
	return nil, nil
}

// Record is one request as the gateway handled it, for a console: what
// came in, the route and the authorizer's verdict, and the answer.
type Record struct {
	ID        string        `json:"id"`
	Time      time.Time     `json:"time"`
	API       string        `json:"api"`
	APIKey    string        `json:"apiKey"`
	Kind      string        `json:"kind"`
	Method    string        `json:"method"`
	Path      string        `json:"path"`
	Route     string        `json:"route"`
	Status    int           `json:"status"`
	Latency   time.Duration `json:"-"`
	LatencyMS float64       `json:"latencyMs"`
	// Auth names the authorizer; Decision is "allow", "deny" or "" (public
	// or refused before any authorizer); Reason says why in plain words.
	Auth     string  `json:"auth,omitempty"`
	Decision string  `json:"decision,omitempty"`
	Reason   string  `json:"reason,omitempty"`
	Detail   string  `json:"detail,omitempty"`
	AWS      *Answer `json:"aws,omitempty"`
	Claims   any     `json:"claims,omitempty"`
	// LambdaRequestIDs are the Lambda invocations the request made (the
	// authorizer's, the handler's): their log lines carry them.
	LambdaRequestIDs []string    `json:"lambdaRequestIds,omitempty"`
	RequestHeaders   http.Header `json:"requestHeaders"`
	RequestBody      []byte      `json:"-"`
	ResponseHeaders  http.Header `json:"responseHeaders"`
	ResponseBody     []byte      `json:"-"`
}

// maxRecordedBody bounds the bodies a record keeps.
const maxRecordedBody = 64 << 10

func clip(b []byte) []byte {
	if len(b) > maxRecordedBody {
		return b[:maxRecordedBody]
	}
	return b
}

// record builds the request's Record; called only when someone observes.
func (g *Gateway) record(q *request, res *response, out outcome, took time.Duration) *Record {
	r := &Record{ID: q.id, Time: q.received, API: g.api.Name, APIKey: g.api.Key(), Kind: g.api.Kind,
		Method: q.http.Method, Path: q.http.URL.RequestURI(), Route: out.route, Status: res.status,
		Latency: took, LatencyMS: float64(took.Microseconds()) / 1000, Detail: out.auth,
		LambdaRequestIDs: q.lambdaIDs, RequestHeaders: q.http.Header.Clone(), RequestBody: clip(q.body),
		ResponseHeaders: res.headers.Clone(), ResponseBody: clip(res.body)}
	if q.route != nil {
		r.Auth = authName(q.route)
	}
	if v := g.finish(q, res, q.token); v != nil {
		r.Decision, r.Reason, r.AWS, r.Claims = "deny", v.Reason, v.AWS, v.Claims
		if v.Allowed {
			r.Decision = "allow"
		}
	}
	return r
}

// tokenOf is the token a route's authorizer reads from the request.
func tokenOf(q *request) string {
	if q.route == nil || q.route.Authorizer == nil || len(q.route.Authorizer.IdentitySource) == 0 {
		return ""
	}
	src := q.route.Authorizer.IdentitySource[0]
	if name, ok := strings.CutPrefix(src, "$request.querystring."); ok {
		return q.http.URL.Query().Get(name)
	}
	return jwtverify.BearerToken(q.http.Header.Get(strings.TrimPrefix(src, "$request.header.")))
}
