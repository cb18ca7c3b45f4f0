package gateway

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/jwtapi/jwtapi/internal/routekey"
	"github.com/jwtapi/jwtapi/internal/testutil"
	"github.com/jwtapi/jwtapi/local/issuer"
)

const audience = "https://api.jwtapi.local"

// stack is an embedded issuer and a gateway on free ports, serving the
// real synthesized template of the local stage plus test routes.
type stack struct {
	// clock is added to the real time the gateway's caches see.
	clock   atomic.Int64
	issuer  *issuer.Issuer
	keys    *issuer.KeyStore
	gw      *Gateway
	url     string
	logs    *testutil.SyncBuffer
	fnLogs  *testutil.SyncBuffer
	jwksPEM []byte
}

var (
	shared     *stack
	sharedOnce sync.Once
	sharedErr  error
)

func moduleDir() string { d, _ := filepath.Abs("../.."); return d }

// testStack starts the stack once for all tests of the package.
func testStack(t testing.TB) *stack {
	t.Helper()
	sharedOnce.Do(func() { shared, sharedErr = startStack() })
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return shared
}

func startStack() (*stack, error) {
	api, err := localAPI()
	if err != nil {
		return nil, err
	}
	cfg, err := issuer.LoadConfig(filepath.Join("..", "issuer.json"))
	if err != nil {
		return nil, err
	}
	dir, err := mkdirTemp()
	if err != nil {
		return nil, err
	}
	keys, err := issuer.OpenKeyStore(filepath.Join(dir, "issuer"), nil)
	if err != nil {
		return nil, err
	}
	issSrv := httptest.NewServer(nil)
	iss := issuer.New(issSrv.URL, cfg, keys, nil)
	issSrv.Config.Handler = iss.Handler()
	// Same template, the issuer on a free port instead of 4000.
	var jwtAuth, lambdaAuth *Authorizer
	for _, a := range api.Authorizers {
		switch a.Type {
		case "JWT":
			if a.Name == "machines" {
				a.Issuer = iss.PoolURL("local_machines")
				continue
			}
			a.Issuer, jwtAuth = iss.URL, a
		case "REQUEST":
			a.Function.Env["JWT_ISSUER"], lambdaAuth = iss.URL, a
		}
	}
	addTestRoutes(api, jwtAuth, lambdaAuth)
	s := &stack{issuer: iss, keys: keys, logs: &testutil.SyncBuffer{}, fnLogs: &testutil.SyncBuffer{}}
	s.gw, err = New(api, Options{ModuleDir: moduleDir(), BuildDir: dir, Logs: s.logs, FunctionLogs: s.fnLogs,
		MaxInstances: 8, JWKSRefetchEvery: 10 * time.Millisecond, Now: func() time.Time { return time.Now().Add(time.Duration(s.clock.Load())) }})
	if err != nil {
		return nil, err
	}
	if err := s.gw.Warm(context.Background()); err != nil {
		return nil, err
	}
	s.url = httptest.NewServer(s.gw).URL
	return s, nil
}

// addTestRoutes adds routes to the faulty test handler, which echoes the
// event it received, and Lambda authorizers around it.
func addTestRoutes(api *API, jwtAuth, lambdaAuth *Authorizer) {
	faulty := &Function{ID: "test/Faulty", LogicalID: "Faulty", Handler: "local/testdata/handlers/faulty", Env: map[string]string{"GREETING": "hi"},
		// Roomy: a cold start on a loaded machine must not time out.
		Timeout: 3 * time.Second, MemoryMB: 128}
	api.Functions[faulty.LogicalID] = faulty
	// The real authorizer with caching on and rules for two routes.
	cachedFn := &Function{ID: "test/CachedAuthorizer", LogicalID: "CachedAuthorizer", Handler: lambdaAuth.Function.Handler, Timeout: 10 * time.Second, MemoryMB: 256,
		Env: map[string]string{"JWT_ISSUER": lambdaAuth.Function.Env["JWT_ISSUER"], "JWT_AUDIENCES": lambdaAuth.Function.Env["JWT_AUDIENCES"],
			"AUTHZ_RULES": `{"GET /cached/a": {"permissions": ["read:user"]}, "GET /cached/b": {"permissions": ["never:granted"]}}`}}
	api.Functions[cachedFn.LogicalID] = cachedFn
	cached := &Authorizer{LogicalID: "Cached", Name: "cached", Type: "REQUEST", Function: cachedFn, PayloadVersion: "2.0",
		SimpleResponses: true, TTL: time.Minute, IdentitySource: []string{"$request.header.Authorization", "$context.routeKey"}}
	// The faulty handler as an authorizer, to see authorizer faults.
	broken := &Authorizer{LogicalID: "Broken", Name: "broken", Type: "REQUEST", Function: faulty, PayloadVersion: "2.0",
		SimpleResponses: true, IdentitySource: []string{"$request.header.Authorization"}}
	api.Authorizers[cached.LogicalID], api.Authorizers[broken.LogicalID] = cached, broken
	add := func(key, auth string, scopes []string, version string, authorizer ...*Authorizer) {
		k, _ := routekey.Parse(key)
		r := &Route{Key: k, AuthType: auth, Scopes: scopes, Function: faulty, PayloadVersion: version}
		if auth == "JWT" {
			r.Authorizer = jwtAuth
		}
		if len(authorizer) > 0 {
			r.Authorizer = authorizer[0]
		}
		api.Routes = append(api.Routes, r)
	}
	add("GET /cached/a", "CUSTOM", nil, "2.0", cached)
	add("GET /cached/b", "CUSTOM", nil, "2.0", cached)
	add("GET /broken-authorizer", "CUSTOM", nil, "2.0", broken)
	add("GET /echo/scoped", "JWT", []string{"read:user"}, "2.0")
	add("GET /echo/unscoped", "JWT", nil, "2.0")
	add("POST /echo/v1", "JWT", []string{"read:user"}, "1.0")
	add("ANY /faulty", "NONE", nil, "2.0")
	add("GET /slow-integration", "NONE", nil, "2.0")
	api.Routes[len(api.Routes)-1].IntegrationTimeout = 500 * time.Millisecond
	add("GET /files/{proxy+}", "NONE", nil, "2.0")
	add("GET /items/{id}", "NONE", nil, "2.0")
	api.Cors = &Cors{AllowOrigins: []string{"https://app.example.com"}, AllowMethods: []string{"GET", "POST"},
		AllowHeaders: []string{"authorization", "content-type"}, MaxAge: 600}
}

type result struct {
	status int
	header http.Header
	body   string
}

func (s *stack) do(t *testing.T, method, path string, header map[string]string, body string) result {
	t.Helper()
	return s.doAt(t, s.url, method, path, header, body)
}

// doAt sends a request to the gateway at base.
func (s *stack) doAt(t *testing.T, base, method, path string, header map[string]string, body string) result {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return result{res.StatusCode, res.Header, string(b)}
}

func bearer(tok string) map[string]string { return map[string]string{"authorization": "Bearer " + tok} }

// tokenFromEndpoint gets a token the way a client would, through POST /oauth/token.
func (s *stack) tokenFromEndpoint(t *testing.T, form url.Values) string {
	t.Helper()
	res, err := http.PostForm(s.issuer.URL+"oauth/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body map[string]any
	json.NewDecoder(res.Body).Decode(&body)
	tok, _ := body["access_token"].(string)
	if res.StatusCode != 200 || tok == "" {
		t.Fatalf("token endpoint: %d %v", res.StatusCode, body)
	}
	return tok
}

func (s *stack) machineToken(t *testing.T) string {
	return s.tokenFromEndpoint(t, url.Values{"grant_type": {"client_credentials"}, "client_id": {"local-machine"},
		"client_secret": {"local-machine-secret"}, "audience": {audience}})
}

func (s *stack) userToken(t *testing.T, user, password, scope string) string {
	return s.tokenFromEndpoint(t, url.Values{"grant_type": {"password"}, "username": {user}, "password": {password},
		"audience": {audience}, "scope": {scope}, "client_id": {"local-cli"}, "client_secret": {"local-cli-secret"}})
}

func (s *stack) mint(t *testing.T, o issuer.MintOptions) string {
	t.Helper()
	tok, err := s.issuer.Mint(o)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// forged signs claims with a key the issuer never published.
func forged(t *testing.T, method jwt.SigningMethod, kid string, key any, claims jwt.MapClaims) string {
	t.Helper()
	return testutil.SignJWT(t, method, map[string]any{"kid": kid}, key, claims)
}

func TestPrivateRouteAuthorization(t *testing.T) {
	s := testStack(t)
	reader := s.userToken(t, "reader@example.com", "reader-password", "read:user write:user")
	machine := s.machineToken(t)
	kid, signing := s.keys.Signing()
	pub := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: mustDER(x509.MarshalPKIXPublicKey(&signing.PublicKey))})
	stranger, _ := rsa.GenerateKey(rand.Reader, 2048)
	valid := jwt.MapClaims{"iss": s.issuer.URL, "aud": audience, "sub": "auth0|x", "scope": "read:user", "exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix()}
	with := func(k string, v any) jwt.MapClaims {
		c := jwt.MapClaims{}
		for a, b := range valid {
			c[a] = b
		}
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	parts := strings.Split(reader, ".")

	tests := []struct {
		name    string
		header  map[string]string
		status  int
		body    string
		wwwAuth string
	}{
		{"client credentials token", bearer(machine), 200, `{"message":"Hello local-machine@clients!"}`, ""},
		{"password grant token", bearer(reader), 200, `{"message":"Hello auth0|reader!"}`, ""},
		{"no token", nil, 401, `{"message":"Unauthorized"}`, "Bearer"},
		{"empty header", map[string]string{"authorization": ""}, 401, `{"message":"Unauthorized"}`, "Bearer"},
		{"lower-case bearer", map[string]string{"authorization": "bearer " + reader}, 200, "", ""},
		{"upper-case BEARER", map[string]string{"authorization": "BEARER " + reader}, 200, "", ""},
		{"bare token", map[string]string{"authorization": reader}, 200, "", ""},
		{"Basic scheme", map[string]string{"authorization": "Basic " + reader}, 401, "", `error="invalid_token"`},
		{"malformed token", bearer("not-a-jwt"), 401, `{"message":"Unauthorized"}`, `error_description="token contains an invalid number of segments"`},
		{"tampered payload", bearer(parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"auth0|admin"}`)) + "." + parts[2]), 401, "", "token signature is invalid"},
		{"alg none", bearer(forged(t, jwt.SigningMethodNone, kid, jwt.UnsafeAllowNoneSignatureType, valid)), 401, "", "signing method is invalid"},
		{"HS256 signed with the public key", bearer(forged(t, jwt.SigningMethodHS256, kid, pub, valid)), 401, "", "signing method is invalid"},
		{"unknown kid", bearer(forged(t, jwt.SigningMethodRS256, "not-published", stranger, valid)), 401, "", "kid matches no key"},
		{"right kid, wrong key", bearer(forged(t, jwt.SigningMethodRS256, kid, stranger, valid)), 401, "", "token signature is invalid"},
		{"expired", bearer(s.mint(t, issuer.MintOptions{Subject: "a", Audiences: []string{audience}, Scope: "read:user", IssuedAt: time.Now().Add(-2 * time.Hour)})), 401, "", "the token has expired"},
		{"not yet valid", bearer(s.mint(t, issuer.MintOptions{Subject: "a", Audiences: []string{audience}, Scope: "read:user", NotBefore: time.Now().Add(time.Hour)})), 401, "", "the token is not valid yet"},
		{"issuer without trailing slash", bearer(forged(t, jwt.SigningMethodRS256, kid, signing, with("iss", strings.TrimSuffix(s.issuer.URL, "/")))), 401, "", "the token does not have a valid issuer"},
		{"wrong audience", bearer(s.mint(t, issuer.MintOptions{Subject: "a", Audiences: []string{"https://other.api"}, Scope: "read:user"})), 401, "", "the token does not have a valid audience"},
		{"client_id instead of aud", bearer(s.mint(t, issuer.MintOptions{Subject: "a", Scope: "read:user", Claims: map[string]any{"client_id": audience}})), 200, `{"message":"Hello a!"}`, ""},
		{"array aud", bearer(s.userToken(t, "reader@example.com", "reader-password", "openid read:user")), 200, "", ""},
		{"no exp", bearer(forged(t, jwt.SigningMethodRS256, kid, signing, with("exp", nil))), 401, "", "the token has no exp claim"},
		{"missing scope", bearer(s.mint(t, issuer.MintOptions{Subject: "a", Audiences: []string{audience}, Scope: "write:user"})), 403, `{"message":"Forbidden"}`, `error="insufficient_scope"`},
		{"no scope claim at all", bearer(s.userToken(t, "reader@example.com", "reader-password", "delete:user")), 403, `{"message":"Forbidden"}`, `error="insufficient_scope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.do(t, "GET", "/private", tt.header, "")
			if r.status != tt.status {
				t.Fatalf("status %d, want %d (body %s, www-authenticate %q)", r.status, tt.status, r.body, r.header.Get("www-authenticate"))
			}
			if tt.body != "" && r.body != tt.body {
				t.Errorf("body %s, want %s", r.body, tt.body)
			}
			if got := r.header.Get("www-authenticate"); !strings.Contains(got, tt.wwwAuth) || (tt.wwwAuth == "" && got != "") {
				t.Errorf("www-authenticate %q, want it to contain %q", got, tt.wwwAuth)
			}
			if r.header.Get("apigw-requestid") == "" {
				t.Error("no apigw-requestid header")
			}
		})
	}
}

func mustDER(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

func TestAdminNeedsScopeAndVerifiedEmail(t *testing.T) {
	s := testStack(t)
	body := `{"action":"reindex"}`
	ct := func(h map[string]string) map[string]string { h["content-type"] = "application/json"; return h }
	tests := []struct {
		token  string
		status int
		want   string
	}{
		{s.userToken(t, "admin@example.com", "admin-password", "write:user"), 202, `"by":"auth0|admin"`},
		{s.userToken(t, "unverified@example.com", "unverified-password", "write:user"), 403, `"error":"invalid_claims"`},
		{s.userToken(t, "reader@example.com", "reader-password", "read:user write:user"), 403, `{"message":"Forbidden"}`},
	}
	for _, tt := range tests {
		r := s.do(t, "POST", "/admin", ct(bearer(tt.token)), body)
		if r.status != tt.status || !strings.Contains(r.body, tt.want) {
			t.Errorf("got %d %s, want %d with %s", r.status, r.body, tt.status, tt.want)
		}
	}
}

// echoedEvent is what the faulty handler saw.
func echoedEvent(t *testing.T, r result) map[string]any {
	t.Helper()
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	var body struct {
		Event map[string]any `json:"event"`
	}
	if err := json.Unmarshal([]byte(r.body), &body); err != nil {
		t.Fatalf("%v: %s", err, r.body)
	}
	return body.Event
}

func TestLambdaEventCarriesStringifiedClaims(t *testing.T) {
	s := testStack(t)
	tok := s.mint(t, issuer.MintOptions{
		Subject: "auth0|admin", Audiences: []string{audience, s.issuer.URL + "userinfo"}, Scope: "openid read:user write:user",
		Permissions: []string{"read:user", "write:user"}, ClientID: "local-cli",
		Claims: map[string]any{"email_verified": true, "https://jwtapi.local/roles": []string{"admin", "ops"},
			"org": map[string]any{"id": "acme", "seats": 5}, "nothing": nil},
	})
	ev := echoedEvent(t, s.do(t, "GET", "/echo/scoped?x=1&x=2", map[string]string{"authorization": "Bearer " + tok, "cookie": "a=1; b=2", "x-multi": "one"}, ""))
	rc := ev["requestContext"].(map[string]any)
	jwtCtx := rc["authorizer"].(map[string]any)["jwt"].(map[string]any)
	claims := jwtCtx["claims"].(map[string]any)
	want := map[string]string{
		"sub": "auth0|admin", "aud": "[" + audience + " " + s.issuer.URL + "userinfo]", "scope": "openid read:user write:user",
		"permissions": "[read:user write:user]", "email_verified": "true", "https://jwtapi.local/roles": "[admin ops]",
		"org": "map[id:acme seats:5]", "azp": "local-cli", "iss": s.issuer.URL,
	}
	for k, v := range want {
		if claims[k] != v {
			t.Errorf("claims[%q] = %#v, want %q", k, claims[k], v)
		}
	}
	if _, ok := claims["nothing"]; ok {
		t.Error("a null claim reached the function")
	}
	if exp, _ := claims["exp"].(string); len(exp) != 10 || strings.ContainsAny(exp, ".e") {
		t.Errorf("exp = %q, want decimal seconds", claims["exp"])
	}
	if got := jwtCtx["scopes"]; !equalJSON(got, []any{"openid", "read:user", "write:user"}) {
		t.Errorf("scopes on a scoped route = %v, want all the token's scopes", got)
	}
	if rc["routeKey"] != "GET /echo/scoped" || rc["stage"] != "$default" || rc["requestId"] == "" || rc["accountId"] == "" {
		t.Errorf("request context %v", rc)
	}
	http := rc["http"].(map[string]any)
	if http["method"] != "GET" || http["path"] != "/echo/scoped" || http["sourceIp"] != "127.0.0.1" || http["userAgent"] == "" {
		t.Errorf("http context %v", http)
	}
	if ev["rawQueryString"] != "x=1&x=2" || ev["queryStringParameters"].(map[string]any)["x"] != "1,2" {
		t.Errorf("query %v %v", ev["rawQueryString"], ev["queryStringParameters"])
	}
	if !equalJSON(ev["cookies"], []any{"a=1", "b=2"}) || ev["headers"].(map[string]any)["cookie"] != nil {
		t.Errorf("cookies %v, headers %v", ev["cookies"], ev["headers"])
	}
	if ev["headers"].(map[string]any)["x-multi"] != "one" || ev["version"] != "2.0" {
		t.Errorf("headers %v", ev["headers"])
	}

	// Same token, route without scopes: scopes is null even though the token has some.
	ev = echoedEvent(t, s.do(t, "GET", "/echo/unscoped", bearer(tok), ""))
	jwtCtx = ev["requestContext"].(map[string]any)["authorizer"].(map[string]any)["jwt"].(map[string]any)
	if v, present := jwtCtx["scopes"]; !present || v != nil {
		t.Errorf("scopes on an unscoped route = %v (present %v), want null", v, present)
	}
}

func TestPayloadV1Event(t *testing.T) {
	s := testStack(t)
	tok := s.mint(t, issuer.MintOptions{Subject: "auth0|v1", Audiences: []string{audience}, Scope: "read:user", Permissions: []string{"read:user"}})
	ev := echoedEvent(t, s.do(t, "POST", "/echo/v1?a=b", map[string]string{"authorization": "Bearer " + tok, "content-type": "application/octet-stream"}, "\x00\x01binary"))
	rc := ev["requestContext"].(map[string]any)
	auth := rc["authorizer"].(map[string]any)
	if auth["claims"].(map[string]any)["permissions"] != "[read:user]" || !equalJSON(auth["scopes"], []any{"read:user"}) {
		t.Errorf("v1 authorizer = %v", auth)
	}
	if ev["httpMethod"] != "POST" || ev["resource"] != "/echo/v1" || ev["queryStringParameters"].(map[string]any)["a"] != "b" {
		t.Errorf("v1 event %v", ev)
	}
	if ev["isBase64Encoded"] != true || ev["body"] != base64.StdEncoding.EncodeToString([]byte("\x00\x01binary")) {
		t.Errorf("binary body = %v %v, want base64", ev["body"], ev["isBase64Encoded"])
	}
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

func TestHandlerFaultsGetAPIGatewayStatuses(t *testing.T) {
	s := testStack(t)
	tests := []struct {
		query  string
		status int
		body   string
	}{
		{"do=panic", 500, `{"message":"Internal Server Error"}`},
		{"do=error", 500, `{"message":"Internal Server Error"}`},
		{"do=exit", 500, `{"message":"Internal Server Error"}`},
		// The function's own timeout (3 s) is a failed invocation to API
		// Gateway: 500. Only the integration timeout answers 503.
		{"do=sleep&ms=6000", 500, `{"message":"Internal Server Error"}`},
		{"do=not-json", 500, `{"message":"Internal Server Error"}`},
		{"do=bad-status", 500, `{"message":"Internal Server Error"}`},
		{"do=bad-headers", 500, `{"message":"Internal Server Error"}`},
		{"do=bad-base64", 500, `{"message":"Internal Server Error"}`},
		{"do=string", 200, `"just a string"`},
		{"do=object", 200, `{"hello":"world"}`},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			r := s.do(t, "GET", "/faulty?"+tt.query, nil, "")
			if r.status != tt.status || r.body != tt.body {
				t.Errorf("got %d %s, want %d %s", r.status, r.body, tt.status, tt.body)
			}
			// The next request works: a crashed or timed-out instance was replaced.
			if r := s.do(t, "GET", "/faulty", nil, ""); r.status != 200 {
				t.Errorf("next request: %d %s", r.status, r.body)
			}
		})
	}
	r := s.do(t, "GET", "/faulty?do=custom", nil, "")
	if r.status != 201 || r.body != "hello" || r.header.Get("x-custom") != "yes" || r.header.Get("content-type") != "text/plain" ||
		strings.Join(r.header.Values("x-multi"), ",") != "a,b" || len(r.header.Values("set-cookie")) != 2 {
		t.Errorf("structured response: %d %q %v", r.status, r.body, r.header)
	}
	testutil.Eventually(t, 5*time.Second, func() bool {
		return strings.Contains(s.logs.String(), "500") && strings.Contains(s.logs.String(), "function timed out after 3s")
	}, "the request log saying why a request failed")
}

// TestIntegrationTimeout: API Gateway stops waiting at the integration
// timeout (TimeoutInMillis) and answers 503 while the function runs on.
func TestIntegrationTimeout(t *testing.T) {
	s := testStack(t)
	start := time.Now()
	r := s.do(t, "GET", "/slow-integration?do=sleep&ms=2000", nil, "")
	if r.status != 503 || r.body != `{"message":"Service Unavailable"}` {
		t.Errorf("a function slower than the integration timeout: %d %s, want 503", r.status, r.body)
	}
	if took := time.Since(start); took > 1800*time.Millisecond {
		t.Errorf("the answer took %s: the gateway waited for the function, not the 500 ms integration timeout", took)
	}
	testutil.Eventually(t, 5*time.Second, func() bool { return strings.Contains(s.logs.String(), "integration timed out after 500ms") },
		"the request log naming the integration timeout")
	if r := s.do(t, "GET", "/slow-integration", nil, ""); r.status != 200 {
		t.Errorf("a quick request on the same route: %d %s", r.status, r.body)
	}
}

func TestRoutingAndCORS(t *testing.T) {
	s := testStack(t)
	ev := echoedEvent(t, s.do(t, "GET", "/files/a/b%20c.txt", nil, ""))
	if !equalJSON(ev["pathParameters"], map[string]string{"proxy": "a/b c.txt"}) || ev["routeKey"] != "GET /files/{proxy+}" {
		t.Errorf("greedy path: %v %v", ev["pathParameters"], ev["routeKey"])
	}
	ev = echoedEvent(t, s.do(t, "GET", "/items/42", nil, ""))
	if !equalJSON(ev["pathParameters"], map[string]string{"id": "42"}) {
		t.Errorf("path parameter: %v", ev["pathParameters"])
	}
	for _, p := range []string{"/nowhere", "/items", "/items/1/2"} {
		if r := s.do(t, "GET", p, nil, ""); r.status != 404 || r.body != `{"message":"Not Found"}` {
			t.Errorf("GET %s: %d %s, want 404", p, r.status, r.body)
		}
	}
	if r := s.do(t, "DELETE", "/public", nil, ""); r.status != 404 {
		t.Errorf("DELETE /public: %d, want 404 (no such route)", r.status)
	}
	// The preflight of a private route is answered without a token.
	r := s.do(t, "OPTIONS", "/private", map[string]string{"origin": "https://app.example.com", "access-control-request-method": "GET",
		"access-control-request-headers": "authorization"}, "")
	if r.status != 204 || r.header.Get("access-control-allow-origin") != "https://app.example.com" ||
		!strings.Contains(r.header.Get("access-control-allow-headers"), "authorization") || r.header.Get("access-control-max-age") != "600" {
		t.Errorf("preflight: %d %v", r.status, r.header)
	}
	r = s.do(t, "OPTIONS", "/private", map[string]string{"origin": "https://evil.example", "access-control-request-method": "GET"}, "")
	if r.header.Get("access-control-allow-origin") != "" {
		t.Errorf("preflight from a foreign origin got CORS headers: %v", r.header)
	}
	r = s.do(t, "GET", "/public", map[string]string{"origin": "https://app.example.com"}, "")
	if r.status != 200 || r.header.Get("access-control-allow-origin") != "https://app.example.com" {
		t.Errorf("CORS on the actual response: %v", r.header)
	}
	// A foreign origin's actual request is answered, but without CORS headers
	// the browser would let its page read.
	for _, origin := range []string{"https://evil.example", "https://app.example.com.evil.example", "null"} {
		r = s.do(t, "GET", "/public", map[string]string{"origin": origin}, "")
		if r.status != 200 || r.header.Get("access-control-allow-origin") != "" || r.header.Get("access-control-allow-credentials") != "" {
			t.Errorf("actual response to origin %s: %d %v, want no CORS headers", origin, r.status, r.header)
		}
	}
}

// TestRequestBodyLimit: API Gateway's 10 MB payload limit, before routing,
// the authorizer and the function, in its JSON shape; an announced body over
// the limit is refused without being read.
func TestRequestBodyLimit(t *testing.T) {
	s := testStack(t)
	big := strings.Repeat("a", 10<<20+1)
	for _, path := range []string{"/echo/v1", "/no/such/route"} {
		r := s.do(t, "POST", path, map[string]string{"content-type": "text/plain"}, big)
		if r.status != 413 || r.body != `{"message":"Request Entity Too Large"}` || r.header.Get("content-type") != "application/json" {
			t.Errorf("POST %s with 10 MB + 1 byte: %d %s, want API Gateway's JSON 413", path, r.status, r.body)
		}
	}
	if r := s.do(t, "POST", "/faulty", map[string]string{"content-type": "text/plain"}, big[:1<<20]); r.status != 200 {
		t.Errorf("1 MB: %d", r.status)
	}
	// A chunked body (no length announced) over the limit, on no route.
	req, _ := http.NewRequest("POST", s.url+"/no/such/route", io.MultiReader(strings.NewReader(big), strings.NewReader("")))
	req.ContentLength = -1
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 413 {
		t.Errorf("a chunked body over the limit on no route: %d, want 413", res.StatusCode)
	}
	// Announced but never sent: refused at once, nothing read.
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /no/such/route HTTP/1.1\r\nHost: x\r\nContent-Length: 12582912\r\n\r\n")
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "HTTP/1.1 413") {
		t.Errorf("a 12 MB body announced and not sent: %q %v, want 413 at once", line, err)
	}
}

// TestSlowBodyIsATimeout: a body that does not arrive within the server's
// read timeout is answered as a timeout (408), never as a size problem.
func TestSlowBodyIsATimeout(t *testing.T) {
	s := testStack(t)
	srv := httptest.NewUnstartedServer(s.gw)
	srv.Config.ReadTimeout = 300 * time.Millisecond
	srv.Start()
	defer srv.Close()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /faulty HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\nonly a little")
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 408 || string(body) != `{"message":"Request Timeout"}` {
		t.Errorf("a body trickling in: %d %s, want 408 {\"message\":\"Request Timeout\"}", res.StatusCode, body)
	}
}

// TestOversizeHeadsAreJSON: a request head over the limit is API Gateway's
// JSON 431 whatever its size: the gateway's own check answers up to the
// server's header limit, and net/http's own plain-text refusal beyond it
// is rewritten by JSONErrors; so is its 400 for a request it cannot parse.
func TestOversizeHeadsAreJSON(t *testing.T) {
	s := testStack(t)
	srv := httptest.NewUnstartedServer(s.gw)
	srv.Listener = JSONErrors(srv.Listener)
	srv.Config.MaxHeaderBytes = 64 << 10
	srv.Start()
	defer srv.Close()
	for _, size := range []int{10300, 60 << 10, 200 << 10, 2 << 20} {
		r := s.doAt(t, srv.URL, "GET", "/public", map[string]string{"x-big": strings.Repeat("a", size)}, "")
		if r.status != 431 || r.body != `{"message":"Request Header Fields Too Large"}` || r.header.Get("content-type") != "application/json" {
			t.Errorf("a %d-byte header: %d %q %q, want API Gateway's JSON 431", size, r.status, r.header.Get("content-type"), r.body)
		}
	}
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /public HTTP/1.1\r\nHost: x\r\nbroken header line\r\n\r\n")
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 400 || string(body) != `{"message":"Bad Request"}` {
		t.Errorf("a malformed request: %d %s", res.StatusCode, body)
	}
	// A handler's own text/plain 4xx is left alone.
	if r := s.doAt(t, srv.URL, "GET", "/public", nil, ""); r.status != 200 {
		t.Errorf("an ordinary request through JSONErrors: %d", r.status)
	}
}

// TestOneRequestIDEverywhere: the id in the response header is the one the
// handler's event carries and the one the request's log line ends with.
func TestOneRequestIDEverywhere(t *testing.T) {
	s := testStack(t)
	r := s.do(t, "GET", "/faulty", nil, "")
	id := r.header.Get("apigw-requestid")
	var echoed struct {
		Event struct {
			RequestContext struct {
				RequestID string `json:"requestId"`
			} `json:"requestContext"`
		} `json:"event"`
	}
	json.Unmarshal([]byte(r.body), &echoed)
	if id == "" || echoed.Event.RequestContext.RequestID != id {
		t.Errorf("response id %q, event id %q", id, echoed.Event.RequestContext.RequestID)
	}
	testutil.Eventually(t, 5*time.Second, func() bool {
		return strings.Contains(s.logs.String(), "/faulty") && strings.Contains(s.logs.String(), "["+id+"]")
	},
		"the log line carries the request id")
}

func TestKeyRotationKeepsOldTokensDuringGrace(t *testing.T) {
	s := testStack(t)
	old := s.machineToken(t)
	if r := s.do(t, "GET", "/private", bearer(old), ""); r.status != 200 {
		t.Fatalf("before rotation: %d", r.status)
	}
	if _, err := s.keys.Rotate(time.Hour); err != nil {
		t.Fatal(err)
	}
	fresh := s.machineToken(t)
	if strings.Split(fresh, ".")[0] == strings.Split(old, ".")[0] {
		t.Fatal("the new token has the old kid")
	}
	time.Sleep(20 * time.Millisecond) // past the stack's JWKS refetch limit
	for name, tok := range map[string]string{"new": fresh, "old": old} {
		if r := s.do(t, "GET", "/private", bearer(tok), ""); r.status != 200 {
			t.Errorf("%s token after rotation: %d %s", name, r.status, r.header.Get("www-authenticate"))
		}
	}
}

func TestRequestLogSaysWhy(t *testing.T) {
	s := testStack(t)
	s.do(t, "GET", "/private", bearer(s.mint(t, issuer.MintOptions{Subject: "a", Audiences: []string{audience}, IssuedAt: time.Now().Add(-3 * time.Hour)})), "")
	testutil.Eventually(t, 5*time.Second, func() bool {
		logs := s.logs.String()
		return strings.Contains(logs, "GET    /private") && strings.Contains(logs, "401") && strings.Contains(logs, "jwt: the token has expired")
	}, "the request log line with the 401's reason")
	testutil.Eventually(t, 5*time.Second, func() bool { return strings.Contains(s.fnLogs.String(), "[GET /private] ") },
		"handler output prefixed by its function")
}

func TestLocalTemplate(t *testing.T) {
	api, err := localAPI()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range api.Routes {
		got = append(got, r.Key.String()+" "+r.AuthType+" "+strings.Join(r.Scopes, ",")+" "+r.Function.Handler+" "+r.PayloadVersion)
	}
	want := []string{
		"DELETE /users/{id} CUSTOM  functions/users 2.0",
		"GET /machine/status JWT jwtapi/status.read functions/private 2.0",
		"GET /me JWT read:user functions/me 2.0",
		"GET /private JWT read:user functions/private 2.0",
		"GET /public NONE  functions/public 2.0",
		"POST /admin JWT write:user functions/admin 2.0",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("routes:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, a := range api.Authorizers {
		switch a.Type {
		case "JWT":
			iss, aud := "http://127.0.0.1:4000/", audience
			if a.Name == "machines" {
				iss, aud = "http://127.0.0.1:4000/local_machines", "local-m2m"
			}
			if a.Issuer != iss || a.Audiences[0] != aud || a.IdentitySource[0] != "$request.header.Authorization" {
				t.Errorf("JWT authorizer %+v", a)
			}
		case "REQUEST":
			if a.Function == nil || a.Function.Handler != "github.com/jwtapi/jwtapi/functions/authorizer" || a.TTL != 0 || !a.SimpleResponses ||
				a.Function.Env["JWT_ISSUER"] != "http://127.0.0.1:4000/" || !strings.Contains(a.Function.Env["AUTHZ_RULES"], "delete:user") {
				t.Errorf("Lambda authorizer %+v", a)
			}
		default:
			t.Errorf("unexpected authorizer %+v", a)
		}
	}
	for _, f := range api.Functions {
		if f.Timeout != 10*time.Second || f.MemoryMB != 256 || f.LogFormat != "JSON" {
			t.Errorf("function %+v", f)
		}
	}
}

func TestLambdaAuthorizerRoute(t *testing.T) {
	s := testStack(t)
	tests := []struct {
		name   string
		header map[string]string
		status int
		body   string
	}{
		{"permission and verified email", bearer(s.userToken(t, "admin@example.com", "admin-password", "read:user")), 200, `{"by":"auth0|admin","id":"42","message":"Deleted user 42"}`},
		{"no delete:user permission", bearer(s.userToken(t, "reader@example.com", "reader-password", "read:user")), 403, `{"message":"Forbidden"}`},
		{"email not verified", bearer(s.userToken(t, "unverified@example.com", "unverified-password", "read:user")), 403, `{"message":"Forbidden"}`},
		{"no token: the authorizer is not invoked", nil, 401, `{"message":"Unauthorized"}`},
		{"garbage token", bearer("not.a.jwt"), 403, `{"message":"Forbidden"}`},
		{"expired token", bearer(s.mint(t, issuer.MintOptions{Subject: "auth0|admin", Audiences: []string{audience}, Permissions: []string{"delete:user"},
			Claims: map[string]any{"email_verified": true}, IssuedAt: time.Now().Add(-3 * time.Hour)})), 403, `{"message":"Forbidden"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.do(t, "DELETE", "/users/42", tt.header, "")
			if r.status != tt.status || r.body != tt.body {
				t.Errorf("got %d %s, want %d %s", r.status, r.body, tt.status, tt.body)
			}
		})
	}
	// The authorizer's own log has the code and never the token. Its lines
	// arrive through the process's pipe, after the answers: wait for them.
	testutil.Eventually(t, 5*time.Second, func() bool { return strings.Contains(s.fnLogs.String(), `"code":"ERR_JWT_EXPIRED"`) },
		"the authorizer's log line for the expired token")
	logs := s.fnLogs.String()
	if !strings.Contains(logs, `[authorizer lambda-users] {`) || strings.Contains(logs, "not.a.jwt") {
		t.Errorf("authorizer logs:\n%s", logs)
	}
}

func TestLambdaAuthorizerContextReachesTheIntegration(t *testing.T) {
	s := testStack(t)
	tok := s.userToken(t, "admin@example.com", "admin-password", "read:user")
	ev := echoedEvent(t, s.do(t, "GET", "/cached/a", bearer(tok), ""))
	lambda := ev["requestContext"].(map[string]any)["authorizer"].(map[string]any)["lambda"].(map[string]any)
	if lambda["sub"] != "auth0|admin" || lambda["rule"] != "GET /cached/a" || !strings.Contains(lambda["permissions"].(string), "read:user") {
		t.Errorf("requestContext.authorizer.lambda = %v", lambda)
	}
}

func TestLambdaAuthorizerCacheIsPerRoute(t *testing.T) {
	s := testStack(t)
	tok := s.userToken(t, "reader@example.com", "reader-password", "read:user")
	for i := 0; i < 2; i++ {
		if r := s.do(t, "GET", "/cached/a", bearer(tok), ""); r.status != 200 {
			t.Fatalf("GET /cached/a: %d", r.status)
		}
	}
	testutil.Eventually(t, 5*time.Second, func() bool {
		return strings.Contains(s.logs.String(), "lambda authorizer: allow sub=auth0|reader (cached)")
	}, "the request log saying the second request was served from the cache")
	// Same token, other route: the cached allow must not apply.
	if r := s.do(t, "GET", "/cached/b", bearer(tok), ""); r.status != 403 {
		t.Errorf("GET /cached/b with a token its rule refuses: %d, want 403", r.status)
	}
	// Past the TTL (a minute) the authorizer decides again.
	calls := s.gw.functions["test/CachedAuthorizer"].Invocations()
	s.do(t, "GET", "/cached/a", bearer(tok), "")
	if n := s.gw.functions["test/CachedAuthorizer"].Invocations(); n != calls {
		t.Errorf("within the TTL the authorizer ran again (%d calls, then %d)", calls, n)
	}
	s.clock.Add(int64(61 * time.Second))
	defer s.clock.Add(-int64(61 * time.Second))
	if r := s.do(t, "GET", "/cached/a", bearer(tok), ""); r.status != 200 {
		t.Errorf("after the TTL: %d", r.status)
	}
	if n := s.gw.functions["test/CachedAuthorizer"].Invocations(); n != calls+1 {
		t.Errorf("after the TTL the authorizer ran %d more times, want once", n-calls)
	}
}

func TestLambdaAuthorizerFaultsAre500(t *testing.T) {
	s := testStack(t)
	for _, q := range []string{"do=panic", "do=string", "do=not-json", "do=sleep&ms=6000"} {
		r := s.do(t, "GET", "/broken-authorizer?"+q, map[string]string{"authorization": "Bearer x"}, "")
		if r.status != 500 || r.body != `{"message":"Internal Server Error"}` {
			t.Errorf("authorizer %s: %d %s, want 500", q, r.status, r.body)
		}
	}
}

// TestCognitoTokensOnTheMachineRoute: the second JWT authorizer trusts a
// Cognito user pool of the embedded issuer; its access tokens carry
// client_id and no aud, and each authorizer accepts only its own issuer.
func TestCognitoTokensOnTheMachineRoute(t *testing.T) {
	s := testStack(t)
	machine, err := s.issuer.MintCognito("local_machines", issuer.CognitoMintOptions{ClientID: "local-m2m", Scope: "jwtapi/status.read"})
	if err != nil {
		t.Fatal(err)
	}
	otherClient, _ := s.issuer.MintCognito("local_machines", issuer.CognitoMintOptions{ClientID: "someone-else", Scope: "jwtapi/status.read"})
	noScope, _ := s.issuer.MintCognito("local_machines", issuer.CognitoMintOptions{ClientID: "local-m2m", Scope: "jwtapi/other"})
	otherPool, _ := s.issuer.MintCognito("eu-west-1_other", issuer.CognitoMintOptions{ClientID: "local-m2m", Scope: "jwtapi/status.read"})
	user := s.mint(t, issuer.MintOptions{Subject: "auth0|admin", Audiences: []string{audience}, Scope: "read:user jwtapi/status.read"})
	for _, c := range []struct {
		name, path, token string
		want              int
	}{
		{"pool token, its route", "/machine/status", machine, 200},
		{"pool token, a client the authorizer does not list", "/machine/status", otherClient, 401},
		{"pool token without the scope", "/machine/status", noScope, 403},
		{"another pool's token", "/machine/status", otherPool, 401},
		{"the users' token on the machine route", "/machine/status", user, 401},
		{"pool token on a users' route", "/private", machine, 401},
	} {
		res := s.do(t, "GET", c.path, bearer(c.token), "")
		if res.status != c.want {
			t.Errorf("%s: %d, want %d", c.name, res.status, c.want)
		}
	}
}
