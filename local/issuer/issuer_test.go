package issuer

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func testIssuer(t *testing.T, now *time.Time) (*Issuer, *httptest.Server) {
	t.Helper()
	cfg, err := LoadConfig(filepath.Join("..", "issuer.json"))
	if err != nil {
		t.Fatal(err)
	}
	clock := func() time.Time { return *now }
	ks, err := OpenKeyStore(t.TempDir(), clock)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(nil)
	iss := New(srv.URL, cfg, ks, clock)
	srv.Config.Handler = iss.Handler()
	t.Cleanup(srv.Close)
	return iss, srv
}

// payload decodes a JWT's claims without verifying it (the gateway tests verify).
func payload(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", tok)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func postToken(t *testing.T, srv *httptest.Server, contentType, body string, basic ...string) (int, map[string]any) {
	t.Helper()
	return post(t, srv.URL+"/oauth/token", contentType, body, basic...)
}

// post sends a token request and decodes its JSON answer.
func post(t *testing.T, url, contentType, body string, basic ...string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("content-type", contentType)
	if len(basic) == 2 {
		req.SetBasicAuth(basic[0], basic[1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		t.Fatalf("body is not JSON: %v", err)
	}
	if ct := res.Header.Get("content-type"); ct != "application/json" {
		t.Errorf("content-type %q", ct)
	}
	return res.StatusCode, out
}

func form(kv ...string) string {
	v := url.Values{}
	for i := 0; i < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v.Encode()
}

const aud = "https://api.jwtapi.local"

func TestClientCredentials(t *testing.T) {
	now := time.Unix(1795425302, 0)
	iss, srv := testIssuer(t, &now)
	for name, send := range map[string]func() (int, map[string]any){
		"json": func() (int, map[string]any) {
			return postToken(t, srv, "application/json", `{"grant_type":"client_credentials","client_id":"local-machine","client_secret":"local-machine-secret","audience":"`+aud+`"}`)
		},
		"form": func() (int, map[string]any) {
			return postToken(t, srv, "application/x-www-form-urlencoded", form("grant_type", "client_credentials", "client_id", "local-machine", "client_secret", "local-machine-secret", "audience", aud))
		},
		"basic auth": func() (int, map[string]any) {
			return postToken(t, srv, "application/x-www-form-urlencoded", form("grant_type", "client_credentials", "audience", aud), "local-machine", "local-machine-secret")
		},
	} {
		t.Run(name, func(t *testing.T) {
			status, body := send()
			if status != 200 || body["token_type"] != "Bearer" || body["expires_in"] != float64(86400) || body["scope"] != "read:user" {
				t.Fatalf("got %d %v", status, body)
			}
			c := payload(t, body["access_token"].(string))
			want := map[string]any{
				"iss": iss.URL, "sub": "local-machine@clients", "aud": aud, "iat": float64(now.Unix()), "exp": float64(now.Unix() + 86400),
				"scope": "read:user", "permissions": []any{"read:user"}, "azp": "local-machine", "gty": "client-credentials",
			}
			if !reflect.DeepEqual(c, want) {
				t.Errorf("claims = %v\nwant     %v", c, want)
			}
			if !strings.HasSuffix(c["iss"].(string), "/") {
				t.Errorf("iss %q lacks Auth0's trailing slash", c["iss"])
			}
		})
	}
}

func TestPasswordGrantScopesAreTheIntersection(t *testing.T) {
	now := time.Unix(1795425302, 0)
	iss, srv := testIssuer(t, &now)
	tests := []struct {
		user, pass, scope string
		wantScope         any // nil: claim absent
		wantAud           any
	}{
		{"reader@example.com", "reader-password", "read:user write:user", "read:user", aud},
		{"reader@example.com", "reader-password", "write:user delete:user", nil, aud},
		{"reader@example.com", "reader-password", "", nil, aud},
		{"admin@example.com", "admin-password", "openid write:user bogus", "openid write:user", []any{aud, iss.URL + "userinfo"}},
	}
	for _, tt := range tests {
		status, body := postToken(t, srv, "application/x-www-form-urlencoded", form("grant_type", "password", "username", tt.user,
			"password", tt.pass, "audience", aud, "scope", tt.scope, "client_id", "local-cli", "client_secret", "local-cli-secret"))
		if status != 200 {
			t.Fatalf("%s %q: %d %v", tt.user, tt.scope, status, body)
		}
		c := payload(t, body["access_token"].(string))
		if c["scope"] != tt.wantScope || !reflect.DeepEqual(c["aud"], tt.wantAud) {
			t.Errorf("%s asking %q: scope %v aud %v, want %v %v", tt.user, tt.scope, c["scope"], c["aud"], tt.wantScope, tt.wantAud)
		}
		if _, present := c["scope"]; present != (tt.wantScope != nil) {
			t.Errorf("%s asking %q: scope claim present = %v", tt.user, tt.scope, present)
		}
		if body["scope"] != tt.wantScope && !(tt.wantScope == nil && body["scope"] == nil) {
			t.Errorf("response scope %v, want %v", body["scope"], tt.wantScope)
		}
	}
	_, body := postToken(t, srv, "application/json", `{"grant_type":"password","username":"admin@example.com","password":"admin-password","audience":"`+aud+`","scope":"write:user","client_id":"local-cli","client_secret":"local-cli-secret"}`)
	c := payload(t, body["access_token"].(string))
	if c["sub"] != "auth0|admin" || c["email_verified"] != true || c["azp"] != "local-cli" || c["gty"] != "password" ||
		!reflect.DeepEqual(c["permissions"], []any{"read:user", "write:user", "delete:user"}) {
		t.Errorf("admin claims = %v", c)
	}
}

func TestTokenErrorsAreAuth0Shaped(t *testing.T) {
	now := time.Now()
	_, srv := testIssuer(t, &now)
	cc := func(kv ...string) string {
		return form(append([]string{"grant_type", "client_credentials", "client_id", "local-machine", "client_secret", "local-machine-secret", "audience", aud}, kv...)...)
	}
	pw := func(kv ...string) string {
		return form(append([]string{"grant_type", "password", "client_id", "local-cli", "client_secret", "local-cli-secret", "audience", aud, "username", "reader@example.com", "password", "reader-password"}, kv...)...)
	}
	tests := []struct {
		name, ct, body string
		status         int
		code, desc     string
	}{
		{"no grant type", "application/x-www-form-urlencoded", form("client_id", "x"), 400, "invalid_request", "grant_type"},
		{"unsupported grant", "application/x-www-form-urlencoded", form("grant_type", "implicit"), 400, "unsupported_grant_type", "implicit"},
		{"bad content type", "text/plain", "x", 400, "invalid_request", "Content-Type"},
		{"bad JSON", "application/json", "{", 400, "invalid_request", "JSON"},
		{"wrong secret", "application/x-www-form-urlencoded", cc("client_secret", "nope"), 401, "access_denied", "Unauthorized"},
		{"unknown client", "application/x-www-form-urlencoded", cc("client_id", "ghost"), 401, "access_denied", "Unauthorized"},
		{"no client", "application/x-www-form-urlencoded", form("grant_type", "client_credentials"), 401, "access_denied", "client_id"},
		{"grant not allowed", "application/x-www-form-urlencoded", cc("client_id", "local-cli", "client_secret", "local-cli-secret"), 403, "unauthorized_client", "Grant type 'client_credentials' not allowed"},
		{"no audience", "application/x-www-form-urlencoded", cc("audience", ""), 403, "access_denied", "No audience"},
		{"unknown audience", "application/x-www-form-urlencoded", cc("audience", "https://nope"), 403, "access_denied", "Service not found: https://nope"},
		{"wrong password", "application/x-www-form-urlencoded", pw("password", "guess"), 403, "invalid_grant", "Wrong email or password."},
		{"unknown user", "application/x-www-form-urlencoded", pw("username", "ghost@example.com"), 403, "invalid_grant", "Wrong email or password."},
		{"no username", "application/x-www-form-urlencoded", pw("username", ""), 400, "invalid_request", "username"},
	}
	for _, tt := range tests {
		status, body := postToken(t, srv, tt.ct, tt.body)
		if status != tt.status || body["error"] != tt.code || !strings.Contains(body["error_description"].(string), tt.desc) {
			t.Errorf("%s: %d %v, want %d %s mentioning %q", tt.name, status, body, tt.status, tt.code, tt.desc)
		}
	}
	res, err := http.Get(srv.URL + "/oauth/token")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 405 {
		t.Errorf("GET /oauth/token: %d, want 405", res.StatusCode)
	}
}

func TestDiscoveryAndJWKS(t *testing.T) {
	now := time.Now()
	iss, srv := testIssuer(t, &now)
	var doc map[string]any
	getJSON(t, srv.URL+"/.well-known/openid-configuration", &doc)
	if doc["issuer"] != iss.URL || doc["jwks_uri"] != iss.URL+".well-known/jwks.json" || doc["token_endpoint"] != iss.URL+"oauth/token" {
		t.Errorf("discovery = %v", doc)
	}
	var jwks struct{ Keys []map[string]string }
	getJSON(t, srv.URL+"/.well-known/jwks.json", &jwks)
	kid, _ := iss.keys.Signing()
	if len(jwks.Keys) != 1 || jwks.Keys[0]["kid"] != kid || jwks.Keys[0]["kty"] != "RSA" || jwks.Keys[0]["alg"] != "RS256" {
		t.Errorf("jwks = %v", jwks)
	}
	if _, ok := jwks.Keys[0]["d"]; ok {
		t.Error("JWKS leaks the private exponent")
	}
}

func getJSON(t *testing.T, u string, v any) {
	t.Helper()
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

func TestKeysSurviveRestartAndRotate(t *testing.T) {
	dir := t.TempDir()
	now := time.Unix(1795425302, 0)
	clock := func() time.Time { return now }
	ks, err := OpenKeyStore(dir, clock)
	if err != nil {
		t.Fatal(err)
	}
	first, _ := ks.Signing()
	again, err := OpenKeyStore(dir, clock)
	if err != nil {
		t.Fatal(err)
	}
	if kid, _ := again.Signing(); kid != first {
		t.Fatalf("after a restart the signing key changed: %s -> %s", first, kid)
	}
	if st, _ := os.Stat(filepath.Join(dir, keyFile)); st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", st.Mode().Perm())
	}
	// Rotate from "another process"; the first store notices the file change.
	second, err := again.Rotate(time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if kid, _ := ks.Signing(); kid != second {
		t.Errorf("running store still signs with %s after rotation to %s", kid, second)
	}
	if pub := ks.Published(); len(pub) != 2 || pub[first] == nil || pub[second] == nil {
		t.Errorf("during the grace period the JWKS publishes %d keys, want old and new", len(pub))
	}
	now = now.Add(time.Hour + time.Second)
	if pub := ks.Published(); len(pub) != 1 || pub[second] == nil {
		t.Errorf("after the grace period the JWKS publishes %d keys, want only the new one", len(pub))
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		json string
		want string
	}{
		{`{"apis":[{"identifier":"a","scopes":["x"]}],"clients":[{"client_id":"c","grant_types":["implicit"]}]}`, `grant type "implicit" is not supported`},
		{`{"apis":[{"identifier":"a","scopes":["x"]}],"clients":[{"client_id":"c","grant_types":["client_credentials"],"grants":{"b":["x"]}}]}`, `unknown API "b"`},
		{`{"apis":[{"identifier":"a","scopes":["x"]}],"users":[{"user_id":"u","username":"n","password":"p","permissions":{"a":["y"]}}]}`, `API "a" defines no scope "y"`},
		{`{"apis":[],"users":[{"user_id":"u","username":"n","password":"p","claims":{"sub":"x"}}]}`, `reserved claim "sub"`},
		{`{"apis":[],"userz":[]}`, `unknown field "userz"`},
	}
	for _, tt := range tests {
		p := filepath.Join(t.TempDir(), "c.json")
		os.WriteFile(p, []byte(tt.json), 0o644)
		if _, err := LoadConfig(p); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("LoadConfig(%s) = %v, want %q", tt.json, err, tt.want)
		}
	}
}

func postPool(t *testing.T, srv *httptest.Server, pool, body string, basic ...string) (int, map[string]any) {
	t.Helper()
	return post(t, srv.URL+"/"+pool+"/oauth2/token", "application/x-www-form-urlencoded", body, basic...)
}

func TestCognitoPoolClientCredentials(t *testing.T) {
	now := time.Unix(1795425302, 0)
	iss, srv := testIssuer(t, &now)
	status, body := postPool(t, srv, "local_machines", form("grant_type", "client_credentials"), "local-m2m", "local-m2m-secret")
	if status != 200 {
		t.Fatalf("status %d: %v", status, body)
	}
	if body["token_type"] != "Bearer" || body["expires_in"] != 3600.0 {
		t.Errorf("response %v, want Bearer for 3600 s (Cognito's default)", body)
	}
	c := payload(t, body["access_token"].(string))
	want := map[string]any{
		"iss": srv.URL + "/local_machines", "sub": "local-m2m", "client_id": "local-m2m", "token_use": "access",
		"scope": "jwtapi/status.read", "cognito:groups": []any{"machines"}, "iat": float64(now.Unix()), "exp": float64(now.Unix() + 3600),
	}
	for k, v := range want {
		if !reflect.DeepEqual(c[k], v) {
			t.Errorf("claim %s = %v, want %v", k, c[k], v)
		}
	}
	if _, ok := c["aud"]; ok {
		t.Errorf("a Cognito access token has no aud, got %v", c["aud"])
	}
	if iss.PoolURL("local_machines") != c["iss"] {
		t.Errorf("PoolURL = %s, token iss %v", iss.PoolURL("local_machines"), c["iss"])
	}
	// Client id and secret in the form work too.
	if status, body := postPool(t, srv, "local_machines", form("grant_type", "client_credentials", "client_id", "local-m2m", "client_secret", "local-m2m-secret", "scope", "jwtapi/status.read")); status != 200 {
		t.Errorf("form credentials: %d %v", status, body)
	}
}

func TestCognitoPoolErrors(t *testing.T) {
	now := time.Now()
	_, srv := testIssuer(t, &now)
	cc := form("grant_type", "client_credentials")
	for _, tt := range []struct {
		name, pool, body string
		basic            []string
		status           int
		code             string
	}{
		{"wrong secret", "local_machines", cc, []string{"local-m2m", "nope"}, 400, "invalid_client"},
		{"unknown client", "local_machines", cc, []string{"someone", "local-m2m-secret"}, 400, "invalid_client"},
		{"no client", "local_machines", cc, nil, 400, "invalid_request"},
		{"scope not allowed", "local_machines", form("grant_type", "client_credentials", "scope", "jwtapi/status.write"), []string{"local-m2m", "local-m2m-secret"}, 400, "invalid_scope"},
		{"password grant", "local_machines", form("grant_type", "password"), []string{"local-m2m", "local-m2m-secret"}, 400, "unsupported_grant_type"},
		{"unknown pool", "eu-west-1_nothere", cc, []string{"local-m2m", "local-m2m-secret"}, 404, "not_found"},
	} {
		status, body := postPool(t, srv, tt.pool, tt.body, tt.basic...)
		if status != tt.status || body["error"] != tt.code {
			t.Errorf("%s: %d %v, want %d %s", tt.name, status, body, tt.status, tt.code)
		}
		if _, ok := body["access_token"]; ok {
			t.Errorf("%s: a token was issued", tt.name)
		}
	}
	if status, _ := post(t, srv.URL+"/local_machines/oauth2/token", "application/json", `{"grant_type":"client_credentials"}`, "local-m2m", "local-m2m-secret"); status != 400 {
		t.Errorf("JSON body: %d, want 400 (Cognito takes a form only)", status)
	}
}

func TestCognitoPoolDiscovery(t *testing.T) {
	now := time.Now()
	iss, srv := testIssuer(t, &now)
	var doc map[string]any
	getJSON(t, srv.URL+"/local_machines/.well-known/openid-configuration", &doc)
	base := iss.PoolURL("local_machines")
	if doc["issuer"] != base || doc["jwks_uri"] != base+"/.well-known/jwks.json" || doc["token_endpoint"] != base+"/oauth2/token" {
		t.Errorf("discovery = %v", doc)
	}
	var jwks struct{ Keys []map[string]string }
	getJSON(t, base+"/.well-known/jwks.json", &jwks)
	if kid, _ := iss.keys.Signing(); len(jwks.Keys) != 1 || jwks.Keys[0]["kid"] != kid {
		t.Errorf("pool jwks = %v", jwks)
	}
	if id, ok := iss.PoolID(base); !ok || id != "local_machines" {
		t.Errorf("PoolID(%s) = %q %v", base, id, ok)
	}
	if _, ok := iss.PoolID(iss.URL); ok {
		t.Error("the issuer itself is taken for a pool")
	}
	if _, ok := iss.PoolID(iss.URL + "a/b"); ok {
		t.Error("a nested path is taken for a pool")
	}
}

func TestPoolConfigErrors(t *testing.T) {
	for _, tt := range []struct{ json, want string }{
		{`{"apis":[],"cognitoPools":[{"id":"a/b","clients":[]}]}`, `id must be one URL path segment`},
		{`{"apis":[],"cognitoPools":[{"id":"p","clients":[]},{"id":"p","clients":[]}]}`, `id listed twice`},
		{`{"apis":[],"cognitoPools":[{"id":"p","clients":[{"client_id":"c"}]}]}`, `client_secret are required`},
		{`{"apis":[],"cognitoPools":[{"id":"p","clients":[{"client_id":"c","client_secret":"s","scopes":["a b"]}]}]}`, `holds a space`},
	} {
		p := filepath.Join(t.TempDir(), "c.json")
		os.WriteFile(p, []byte(tt.json), 0o644)
		if _, err := LoadConfig(p); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("LoadConfig(%s) = %v, want %q", tt.json, err, tt.want)
		}
	}
}
