package gateway

import (
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"mime"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/jwtapi/jwtapi/internal/routekey"
	"github.com/jwtapi/jwtapi/local/jwtauth"
)

// request is what the gateway knows about an incoming request once routed
// and authorized.
type request struct {
	http *http.Request
	api  *API
	// path and rawPath are the request's path within the API: a REST
	// API's stage segment removed.
	path, rawPath string
	body          []byte
	id            string
	received      time.Time
	route         *Route
	match         routekey.Match
	decision      *jwtauth.Decision
	// lambdaContext is what a Lambda authorizer allowed the request with;
	// principal is a REST TOKEN authorizer's principalId.
	lambdaContext map[string]any
	principal     string
	// restClaims are the claims a REST JWT authorizer verified, with their
	// JSON types.
	restClaims map[string]any
	// verdict is the authorizer's decision; token the token it read;
	// lambdaIDs the Lambda invocations the request made.
	verdict   *Verdict
	token     string
	lambdaIDs []string
	apiID     string
	sourceIP  string
	userAgent string
}

// accountID is reported in request contexts and ARNs.
const accountID = "123456789012"

// timeLayout is API Gateway's requestContext.time format.
const timeLayout = "02/Jan/2006:15:04:05 -0700"

// region is reported in ARNs.
const region = "us-east-1"

// methodARN is the ARN of the request's method, as authorizers receive it:
// arn:aws:execute-api:REGION:ACCOUNT:API/STAGE/METHOD/PATH.
func (q *request) methodARN() string {
	return fmt.Sprintf("arn:aws:execute-api:%s:%s:%s/%s/%s/%s", region, accountID, q.apiID, q.api.StageName, q.http.Method,
		strings.TrimPrefix(q.rawPath, "/"))
}

// newRequestID returns an id shaped like API Gateway's ("Ov2GmhKSjoEEMxA=").
func newRequestID() string {
	var b [10]byte
	rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}

// isText reports whether API Gateway passes a body of this content type as
// text rather than base64 (unconfirmed list: text, JSON, XML, JavaScript and
// form bodies).
func isText(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	switch {
	case strings.HasPrefix(mt, "text/"),
		mt == "application/json", strings.HasSuffix(mt, "+json"),
		mt == "application/xml", strings.HasSuffix(mt, "+xml"),
		mt == "application/javascript", mt == "application/x-www-form-urlencoded":
		return true
	}
	return false
}

func (q *request) bodyFields() (string, bool) {
	if len(q.body) == 0 {
		return "", false
	}
	if isText(q.http.Header.Get("content-type")) {
		return string(q.body), false
	}
	return base64.StdEncoding.EncodeToString(q.body), true
}

// headers adds the headers API Gateway adds in front of the integration.
func (q *request) forwardedHeaders() http.Header {
	h := q.http.Header.Clone()
	h.Set("x-forwarded-for", q.sourceIP)
	h.Set("x-forwarded-proto", "http")
	if _, port, err := net.SplitHostPort(q.http.Host); err == nil {
		h.Set("x-forwarded-port", port)
	}
	h.Set("x-amzn-trace-id", "Root=1-"+strings.ToLower(q.id[:8]))
	if q.http.Host != "" {
		h.Set("host", q.http.Host)
	}
	return h
}

// eventV2 is aws-lambda-go's payload 2.0 event with the authorizer part
// replaced (the outer fields shadow the embedded ones in JSON): API Gateway
// sends "scopes": null on a route without scopes, which aws-lambda-go's
// omitempty tag would drop.
type eventV2 struct {
	events.APIGatewayV2HTTPRequest
	RequestContext requestContextV2 `json:"requestContext"`
}

type requestContextV2 struct {
	events.APIGatewayV2HTTPRequestContext
	Authorizer *authorizerV2 `json:"authorizer,omitempty"`
}

type authorizerV2 struct {
	JWT    *jwtV2         `json:"jwt,omitempty"`
	Lambda map[string]any `json:"lambda,omitempty"`
}

type jwtV2 struct {
	Claims map[string]string `json:"claims"`
	Scopes []string          `json:"scopes"`
}

// eventV2 builds the payload 2.0 event: headers lower-cased with repeated
// values joined by commas, cookies apart, the query joined the same way.
func (q *request) eventV2() eventV2 {
	e := events.APIGatewayV2HTTPRequest{
		Version:        "2.0",
		RouteKey:       q.route.Key.String(),
		RawPath:        q.rawPath,
		RawQueryString: q.http.URL.RawQuery,
		Headers:        map[string]string{},
		PathParameters: q.match.Params,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:     q.route.Key.String(),
			AccountID:    accountID,
			Stage:        q.api.StageName,
			RequestID:    q.id,
			APIID:        q.apiID,
			DomainName:   hostOnly(q.http.Host),
			DomainPrefix: strings.Split(hostOnly(q.http.Host), ".")[0],
			Time:         q.received.Format(timeLayout),
			TimeEpoch:    q.received.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:    q.http.Method,
				Path:      q.path,
				Protocol:  q.http.Proto,
				SourceIP:  q.sourceIP,
				UserAgent: q.userAgent,
			},
		},
	}
	for name, values := range q.forwardedHeaders() {
		name = strings.ToLower(name)
		if name == "cookie" {
			for _, v := range values {
				for _, c := range strings.Split(v, ";") {
					if c = strings.TrimSpace(c); c != "" {
						e.Cookies = append(e.Cookies, c)
					}
				}
			}
			continue
		}
		e.Headers[name] = strings.Join(values, ",")
	}
	if qs := q.http.URL.Query(); len(qs) > 0 {
		e.QueryStringParameters = map[string]string{}
		for k, v := range qs {
			e.QueryStringParameters[k] = strings.Join(v, ",")
		}
	}
	e.Body, e.IsBase64Encoded = q.bodyFields()
	out := eventV2{APIGatewayV2HTTPRequest: e, RequestContext: requestContextV2{APIGatewayV2HTTPRequestContext: e.RequestContext}}
	if d := q.decision; d != nil {
		out.RequestContext.Authorizer = &authorizerV2{JWT: &jwtV2{Claims: d.Claims, Scopes: d.Scopes}}
	}
	if q.lambdaContext != nil {
		out.RequestContext.Authorizer = &authorizerV2{Lambda: q.lambdaContext}
	}
	return out
}

// eventV1 builds the payload 1.0 event (HTTP API routes with format 1.0,
// and every REST API method), with the authorizer's output directly under
// requestContext.authorizer.
func (q *request) eventV1() events.APIGatewayProxyRequest {
	path := q.route.Key.Path
	if q.route.Key.IsDefault() {
		path = "$default"
	}
	fullPath := q.path
	if q.api.Kind == KindREST {
		fullPath = q.http.URL.Path // with the stage, as requestContext.path shows it
	}
	e := events.APIGatewayProxyRequest{
		Resource:          path,
		Path:              q.path,
		HTTPMethod:        q.http.Method,
		Headers:           map[string]string{},
		MultiValueHeaders: map[string][]string{},
		PathParameters:    q.match.Params,
		RequestContext: events.APIGatewayProxyRequestContext{
			AccountID:         accountID,
			ResourceID:        resourceID(q.route.Key.String()),
			Stage:             q.api.StageName,
			DomainName:        hostOnly(q.http.Host),
			DomainPrefix:      strings.Split(hostOnly(q.http.Host), ".")[0],
			RequestID:         q.id,
			ExtendedRequestID: q.id,
			Protocol:          q.http.Proto,
			Identity:          events.APIGatewayRequestIdentity{SourceIP: q.sourceIP, UserAgent: q.userAgent},
			ResourcePath:      path,
			Path:              fullPath,
			HTTPMethod:        q.http.Method,
			RequestTime:       q.received.Format(timeLayout),
			RequestTimeEpoch:  q.received.UnixMilli(),
			APIID:             q.apiID,
		},
	}
	for name, values := range q.forwardedHeaders() {
		e.Headers[name] = values[len(values)-1]
		e.MultiValueHeaders[name] = values
	}
	if qs := q.http.URL.Query(); len(qs) > 0 {
		e.QueryStringParameters = map[string]string{}
		e.MultiValueQueryStringParameters = map[string][]string{}
		for k, v := range qs {
			e.QueryStringParameters[k] = v[len(v)-1]
			e.MultiValueQueryStringParameters[k] = v
		}
	}
	e.Body, e.IsBase64Encoded = q.bodyFields()
	if d := q.decision; d != nil {
		claims := map[string]any{}
		for k, v := range d.Claims {
			claims[k] = v
		}
		var scopes any // null on routes without scopes
		if d.Scopes != nil {
			scopes = d.Scopes
		}
		e.RequestContext.Authorizer = map[string]any{"claims": claims, "scopes": scopes}
	}
	if q.restClaims != nil {
		// A REST JWT authorizer: each claim with its JSON type (its docs:
		// "A Lambda proxy integration receives each claim with its JSON type").
		e.RequestContext.Authorizer = map[string]any{"claims": q.restClaims}
	}
	if q.lambdaContext != nil || q.principal != "" {
		auth := map[string]any{}
		for k, v := range q.lambdaContext {
			auth[k] = v
		}
		if q.api.Kind == KindREST {
			auth["principalId"] = q.principal
			auth["integrationLatency"] = 0
		}
		e.RequestContext.Authorizer = auth
	}
	return e
}

// resourceID is a stable id for a route, shaped like API Gateway's.
func resourceID(key string) string {
	sum := sha1.Sum([]byte(key))
	return hex.EncodeToString(sum[:])[:6]
}

func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return hostport
}
