package gateway

import (
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtapi/jwtapi/internal/routekey"
	"github.com/jwtapi/jwtapi/internal/testutil"
	"github.com/jwtapi/jwtapi/local/issuer"
)

// restFixture serves the local stage's REST API snapshot (the real Go
// authorizer as its TOKEN authorizer, with caching on) plus routes guarded
// by the faulty test handler as a second TOKEN authorizer, on a clock the
// test moves.
type restFixture struct {
	*stack
	url    string
	gw     *Gateway
	logs   *testutil.SyncBuffer
	fnLogs *testutil.SyncBuffer
	clock  atomic.Int64 // offset from the real time, in ns
}

var (
	restShared *restFixture
	restOnce   sync.Once
	restErr    error
)

func restStack(t *testing.T) *restFixture {
	t.Helper()
	base := testStack(t)
	restOnce.Do(func() { restShared, restErr = startREST(base) })
	if restErr != nil {
		t.Fatal(restErr)
	}
	return restShared
}

func startREST(base *stack) (*restFixture, error) {
	api, err := snapshotAPI("local.rest.template.json", "JwtRestApi-local")
	if err != nil {
		return nil, err
	}
	f := &restFixture{stack: base, logs: &testutil.SyncBuffer{}, fnLogs: &testutil.SyncBuffer{}}
	var goAuthorizer *Authorizer
	for _, a := range api.Authorizers {
		if a.RESTJWT != nil {
			a.RESTJWT.Issuers[0].Issuer = base.issuer.URL // the embedded issuer on its test port
			continue
		}
		a.Function.Env["JWT_ISSUER"] = base.issuer.URL
		a.TTL = time.Minute
		goAuthorizer = a
	}

	faulty := &Function{ID: "rest/Faulty", LogicalID: "Faulty", Handler: "local/testdata/handlers/faulty", Timeout: 3 * time.Second, MemoryMB: 128, Env: map[string]string{}}
	api.Functions[faulty.ID] = faulty
	fa := &Authorizer{LogicalID: "FaultyAuthorizer", Name: "faulty", Type: "TOKEN", PayloadVersion: "1.0", IdentitySource: []string{"Authorization"},
		Validation: goAuthorizer.Validation, Function: faulty}
	api.Authorizers[fa.LogicalID] = fa
	// The Go authorizer in front of a route without a rule: a valid token
	// is enough, and its cached policy must cover it.
	lk, _ := routekey.Parse("GET /lambda-private")
	api.Routes = append(api.Routes, &Route{Key: lk, AuthType: "CUSTOM", Authorizer: goAuthorizer, Function: faulty, PayloadVersion: "1.0"})
	for _, key := range []string{"GET /guarded", "DELETE /guarded"} {
		k, _ := routekey.Parse(key)
		api.Routes = append(api.Routes, &Route{Key: k, AuthType: "CUSTOM", Authorizer: fa, Function: faulty, PayloadVersion: "1.0"})
	}
	for _, key := range []string{"GET /slow", "GET /slow-integration"} {
		k, _ := routekey.Parse(key)
		api.Routes = append(api.Routes, &Route{Key: k, AuthType: "NONE", Function: faulty, PayloadVersion: "1.0"})
	}
	api.Routes[len(api.Routes)-1].IntegrationTimeout = 500 * time.Millisecond
	dir, err := mkdirTemp()
	if err != nil {
		return nil, err
	}
	gw, err := New(api, Options{ModuleDir: moduleDir(), BuildDir: dir, Logs: f.logs, FunctionLogs: f.fnLogs,
		Now: func() time.Time { return time.Now().Add(time.Duration(f.clock.Load())) }})
	if err != nil {
		return nil, err
	}
	restGateways = append(restGateways, gw)
	f.gw = gw
	f.url = httptest.NewServer(gw).URL
	return f, nil
}

// restGateways are closed by TestMain.
var restGateways []*Gateway

// authorizerCalls counts the Go authorizer's invocations.
func (f *restFixture) authorizerCalls() int64 {
	for _, a := range f.gw.api.Authorizers {
		if a.Name == "lambda-jwt" {
			return f.gw.functions[a.Function.ID].Invocations()
		}
	}
	return -1
}

func TestRESTTokenAuthorizer(t *testing.T) {
	f := restStack(t)
	admin := f.userToken(t, "admin@example.com", "admin-password", "read:user")
	expired := f.mint(t, issuer.MintOptions{Subject: "auth0|x", Audiences: []string{audience}, Scope: "read:user", IssuedAt: time.Now().Add(-3 * time.Hour)})
	tests := []struct {
		name, method, path string
		header             map[string]string
		status             int
		body               string
		invoked            bool
	}{
		{"no Authorization header: not invoked", "DELETE", "/local/users/1", nil, 401, `{"error":"Missing or invalid token: send a valid access token as Authorization: Bearer <token>.","code":"ERR_JWT_INVALID"}`, false},
		{"not a Bearer header: not invoked", "DELETE", "/local/users/1", map[string]string{"authorization": "Basic dXNlcjpwYXNz"}, 401, `"code":"ERR_JWT_INVALID"`, false},
		{"expired token", "DELETE", "/local/users/1", bearer(expired), 403, `{"error":"Token has expired.","code":"ERR_JWT_EXPIRED"}`, true},
		{"garbage token", "DELETE", "/local/users/1", bearer("x.y.z"), 403, `"code":"ERR_JWS_INVALID"`, true},
		{"valid token", "DELETE", "/local/users/1", bearer(admin), 200, `"message":"Deleted user 1"`, true},
		{"public route, no token", "GET", "/local/public", nil, 200, `{"message":"Hello stranger!"}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := f.authorizerCalls()
			r := f.doAt(t, f.url, tt.method, tt.path, tt.header, "")
			if r.status != tt.status || !strings.Contains(r.body, tt.body) {
				t.Errorf("got %d %s, want %d with %s", r.status, r.body, tt.status, tt.body)
			}
			if invoked := f.authorizerCalls() > before; invoked != tt.invoked {
				t.Errorf("authorizer invoked = %v, want %v", invoked, tt.invoked)
			}
		})
	}
	if r := f.doAt(t, f.url, "DELETE", "/local/users/1", map[string]string{"authorization": "Basic x"}, ""); r.header.Get("www-authenticate") != "Bearer" {
		t.Errorf("401 www-authenticate = %q, want the gateway response's Bearer", r.header.Get("www-authenticate"))
	}
}

func TestRESTAuthorizerCache(t *testing.T) {
	f := restStack(t)
	reader := f.userToken(t, "reader@example.com", "reader-password", "read:user")
	before := f.authorizerCalls()
	// The reader may not delete users: the policy denies that route only.
	if r := f.doAt(t, f.url, "DELETE", "/local/users/1", bearer(reader), ""); r.status != 403 {
		t.Fatalf("DELETE /users/1 with the reader's token: %d %s, want 403", r.status, r.body)
	}
	// The cached policy is evaluated for the new route: the deny does not leak.
	if r := f.doAt(t, f.url, "GET", "/local/lambda-private", bearer(reader), ""); r.status != 200 {
		t.Errorf("GET /lambda-private with the same token after a deny: %d %s, want 200", r.status, r.body)
	}
	if r := f.doAt(t, f.url, "GET", "/local/lambda-private", bearer(reader), ""); r.status != 200 {
		t.Errorf("GET /lambda-private again: %d", r.status)
	}
	if calls := f.authorizerCalls() - before; calls != 1 {
		t.Errorf("the authorizer ran %d times for one token within its TTL, want once", calls)
	}
	testutil.Eventually(t, 5*time.Second, func() bool { return strings.Contains(f.logs.String(), "(cached)") },
		"the request log saying the policy came from the cache")
	f.clock.Add(int64(2 * time.Minute)) // past the TTL
	defer f.clock.Add(-int64(2 * time.Minute))
	if r := f.doAt(t, f.url, "GET", "/local/lambda-private", bearer(reader), ""); r.status != 200 {
		t.Fatalf("after the TTL: %d", r.status)
	}
	if calls := f.authorizerCalls() - before; calls != 2 {
		t.Errorf("after the TTL the authorizer ran %d times in all, want a second invocation", calls)
	}
}

func TestRESTAuthorizerAnswers(t *testing.T) {
	f := restStack(t)
	const failed = `{"error":"The authorizer failed; see its logs.","code":"AUTH_ERROR"}`
	tests := []struct {
		token, method string
		status        int
		body, errType string
	}{
		{"allow", "GET", 200, `"principalId":"user-allow"`, ""},
		{"deny", "GET", 403, `{"error":"Forbidden.","code":"AUTH_ERROR"}`, "AccessDeniedException"},
		{"deny-other", "GET", 200, `"token":"deny-other"`, ""},
		{"deny-other", "DELETE", 403, `"code":"AUTH_ERROR"`, "AccessDeniedException"},
		{"allow-get", "DELETE", 403, `"code":"AUTH_ERROR"`, "AccessDeniedException"},
		{"unauthorized", "GET", 401, `"code":"ERR_JWT_INVALID"`, "UnauthorizedException"},
		{"panic", "GET", 500, failed, "AuthorizerConfigurationException"},
		{"no-principal", "GET", 500, failed, "AuthorizerConfigurationException"},
		{"nested-context", "GET", 500, failed, "AuthorizerConfigurationException"},
		{"string", "GET", 500, failed, "AuthorizerConfigurationException"},
	}
	for _, tt := range tests {
		t.Run(tt.token+" "+tt.method, func(t *testing.T) {
			r := f.doAt(t, f.url, tt.method, "/local/guarded", bearer(tt.token), "")
			if r.status != tt.status || !strings.Contains(r.body, tt.body) || r.header.Get("x-amzn-errortype") != tt.errType {
				t.Errorf("got %d %s (x-amzn-ErrorType %q), want %d with %s (%q)", r.status, r.body, r.header.Get("x-amzn-errortype"), tt.status, tt.body, tt.errType)
			}
		})
	}
}

// TestRESTEvent: the payload 1.0 event of a REST method carries the stage,
// both paths, the resource and the authorizer's principal and context.
func TestRESTEvent(t *testing.T) {
	f := restStack(t)
	ev := echoedEvent(t, f.doAt(t, f.url, "GET", "/local/guarded?a=b", bearer("allow"), ""))
	rc := ev["requestContext"].(map[string]any)
	auth := rc["authorizer"].(map[string]any)
	if auth["principalId"] != "user-allow" || auth["token"] != "allow" || auth["n"] != float64(7) || auth["ok"] != true {
		t.Errorf("requestContext.authorizer = %v", auth)
	}
	if rc["stage"] != "local" || rc["path"] != "/local/guarded" || rc["resourcePath"] != "/guarded" || rc["httpMethod"] != "GET" {
		t.Errorf("requestContext = %v", rc)
	}
	if ev["path"] != "/guarded" || ev["resource"] != "/guarded" || ev["queryStringParameters"].(map[string]any)["a"] != "b" {
		t.Errorf("event path %v resource %v query %v", ev["path"], ev["resource"], ev["queryStringParameters"])
	}
}

func TestRESTRoutingAndLimits(t *testing.T) {
	f := restStack(t)
	for _, tt := range []struct {
		method, path string
		header       map[string]string
		status       int
		body         string
	}{
		{"GET", "/api/private", nil, 403, `{"message":"Forbidden"}`},
		{"GET", "/", nil, 403, `{"message":"Forbidden"}`},
		{"GET", "/local/nothing/here", nil, 403, `{"message":"Missing Authentication Token"}`},
		{"POST", "/local/private", nil, 403, `{"message":"Missing Authentication Token"}`},
		{"GET", "/local/private", map[string]string{"x-big": strings.Repeat("a", 10300)}, 431, ""},
	} {
		before := f.authorizerCalls()
		r := f.doAt(t, f.url, tt.method, tt.path, tt.header, "")
		if r.status != tt.status || !strings.Contains(r.body, tt.body) {
			t.Errorf("%s %s: %d %s, want %d %s", tt.method, tt.path, r.status, r.body, tt.status, tt.body)
		}
		if f.authorizerCalls() != before {
			t.Errorf("%s %s invoked the authorizer", tt.method, tt.path)
		}
	}
	// 10,240 bytes of request line and header values pass.
	req := "GET /local/public HTTP/1.1"
	if r := f.doAt(t, f.url, "GET", "/local/public", map[string]string{"x-big": strings.Repeat("a", 10240-len(req)-300)}, ""); r.status != 200 {
		t.Errorf("a request under the limit: %d", r.status)
	}
}

// TestRESTIntegrationFailures: a function that fails or runs past its own
// timeout is a 502; only the integration timeout is a 504.
func TestRESTIntegrationFailures(t *testing.T) {
	f := restStack(t)
	for _, tt := range []struct {
		path    string
		status  int
		body    string
		errType string
	}{
		{"/local/slow?do=error", 502, `{"message":"Internal server error"}`, "InternalServerErrorException"},
		{"/local/slow?do=sleep&ms=4000", 502, `{"message":"Internal server error"}`, "InternalServerErrorException"},
		{"/local/slow-integration?do=sleep&ms=2000", 504, `{"message":"Endpoint request timed out"}`, "IntegrationTimeoutException"},
		{"/local/slow-integration", 200, `"resource":"/slow-integration"`, ""},
	} {
		r := f.doAt(t, f.url, "GET", tt.path, nil, "")
		if r.status != tt.status || !strings.Contains(r.body, tt.body) || r.header.Get("x-amzn-errortype") != tt.errType {
			t.Errorf("GET %s: %d %s (%q), want %d %s (%q)", tt.path, r.status, r.body, r.header.Get("x-amzn-errortype"), tt.status, tt.body, tt.errType)
		}
	}
}

// TestRESTDefaultGatewayResponses: without customized gateway responses,
// API Gateway's own bodies and error types.
func TestRESTDefaultGatewayResponses(t *testing.T) {
	api, err := snapshotAPI("local.rest.template.json", "JwtRestApi-local")
	if err != nil {
		t.Fatal(err)
	}
	api.Responses = map[string]*GatewayResponse{}
	g := &Gateway{api: api, logs: &testutil.SyncBuffer{}}
	q := &request{http: httptest.NewRequest("GET", "/local/private", nil), api: api}
	for _, tt := range []struct {
		typ     string
		message any
		status  int
		body    string
	}{
		{respAuthorizerConfig, nil, 500, `{"message":null}`},
		{respAccessDenied, explicitDenyMessage, 403, `{"Message":"User is not authorized to access this resource with an explicit deny"}`},
		{respAccessDenied, nil, 403, `{"Message":"User is not authorized to access this resource"}`},
		{respUnauthorized, nil, 401, `{"message":"Unauthorized"}`},
		{respMissingToken, nil, 403, `{"message":"Missing Authentication Token"}`},
	} {
		res := g.gatewayResponse(q, tt.typ, tt.message)
		if res.status != tt.status || string(res.body) != tt.body || res.headers.Get("x-amzn-errortype") == "" {
			t.Errorf("%s: %d %s %v, want %d %s", tt.typ, res.status, res.body, res.headers, tt.status, tt.body)
		}
	}
	// DEFAULT_4XX applies to the 4xx types the API does not customize.
	api.Responses["DEFAULT_4XX"] = &GatewayResponse{Headers: map[string]string{"X-Origin": "'local'"}, Template: `{"oops":"$context.error.responseType"}`}
	if res := g.gatewayResponse(q, respMissingToken, nil); string(res.body) != `{"oops":"MISSING_AUTHENTICATION_TOKEN"}` || res.headers.Get("x-origin") != "local" {
		t.Errorf("DEFAULT_4XX: %s %v", res.body, res.headers)
	}
}
