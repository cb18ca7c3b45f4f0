package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/jwtapi/jwtapi/authzspec"
	"github.com/jwtapi/jwtapi/functions/authz"
	"github.com/jwtapi/jwtapi/internal/gobuild"
	"github.com/jwtapi/jwtapi/local/issuer"
	"github.com/jwtapi/jwtapi/local/lambdarun"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestConfigErrorsNameTheVariable(t *testing.T) {
	base := map[string]string{"JWT_ISSUER": "https://example.us.auth0.com/", "JWT_AUDIENCES": "https://api.example.com"}
	tests := []struct {
		set  map[string]string
		want string
	}{
		{map[string]string{"JWT_ISSUER": ""}, "JWT_ISSUER is not set"},
		{map[string]string{"JWT_ISSUER": "http://example.com/"}, "must use https"},
		{map[string]string{"JWT_AUDIENCES": ""}, "JWT_AUDIENCES is not set"},
		{map[string]string{"JWT_LEEWAY": "1h"}, "JWT_LEEWAY"},
		{map[string]string{"JWT_LEEWAY": "soon"}, "JWT_LEEWAY"},
		{map[string]string{"JWT_ALGORITHMS": "HS256"}, "no shared secret"},
		{map[string]string{"JWT_HMAC_SECRET": "secret"}, "HS256 is not among"},
		{map[string]string{"AUTHZ_RULES": `{"DELETE /users/{id}": {"permission": ["x"]}}`}, `unknown field "permission"`},
	}
	for _, tt := range tests {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for k, v := range tt.set {
			m[k] = v
		}
		if _, err := authz.FromEnv(env(m), io.Discard); !errors.Is(err, authzspec.ErrConfig) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: err = %v, want one mentioning %q", tt.set, err, tt.want)
		}
	}
	if _, err := authz.FromEnv(env(base), io.Discard); err != nil {
		t.Errorf("valid config refused: %v", err)
	}
}

// TestBootstrapSize builds the authorizer as the construct does for Lambda.
func TestBootstrapSize(t *testing.T) {
	moduleDir, _ := filepath.Abs("../..")
	out := filepath.Join(t.TempDir(), "bootstrap")
	if err := gobuild.Build(context.Background(), moduleDir, "functions/authorizer", gobuild.Lambda("arm64"), out); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() >= 8<<20 {
		t.Errorf("stripped bootstrap is %.1f MB, over the 8 MB budget", float64(st.Size())/(1<<20))
	}
	t.Logf("bootstrap: %.2f MB", float64(st.Size())/(1<<20))
}

// localIssuer serves a JWKS from httptest through the embedded issuer.
func localIssuer(t testing.TB) *issuer.Issuer {
	t.Helper()
	cfg, err := issuer.LoadConfig(filepath.Join("..", "..", "local", "issuer.json"))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := issuer.OpenKeyStore(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(nil)
	t.Cleanup(srv.Close)
	iss := issuer.New(srv.URL, cfg, keys, nil)
	srv.Config.Handler = iss.Handler()
	return iss
}

func httpEvent(t testing.TB, token, route string) []byte {
	b, err := json.Marshal(events.APIGatewayV2CustomAuthorizerV2Request{Version: "2.0", Type: "REQUEST", RouteKey: route,
		IdentitySource: []string{"Bearer " + token}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// BenchmarkColdStart is process start to first decision: a fresh authorizer
// process per iteration, JWKS reachable on localhost (discovery, fetch, one
// RS256 verification, the answer through the Runtime API).
func BenchmarkColdStart(b *testing.B) {
	iss := localIssuer(b)
	tok, err := iss.Mint(issuer.MintOptions{Subject: "auth0|bench", Audiences: []string{"https://api.jwtapi.local"}, Scope: "read:user"})
	if err != nil {
		b.Fatal(err)
	}
	moduleDir, _ := filepath.Abs("../..")
	buildDir := b.TempDir()
	spec := lambdarun.Spec{FunctionName: "authorizer", ModuleDir: moduleDir, Package: "functions/authorizer", Timeout: 10 * time.Second, MemoryMB: 256,
		Env: map[string]string{"JWT_ISSUER": iss.URL, "JWT_AUDIENCES": "https://api.jwtapi.local"}}
	rt := lambdarun.NewRuntime(lambdarun.Options{BuildDir: buildDir, Logs: ioDiscard{}})
	defer rt.Close()
	f, err := rt.Add(spec)
	if err != nil {
		b.Fatal(err)
	}
	// Build once, outside the measurement.
	if err := f.Warm(context.Background()); err != nil {
		b.Fatal(err)
	}
	event := httpEvent(b, tok, "GET /private")
	for b.Loop() {
		b.StopTimer()
		f.StopInstances() // the next invocation starts a new process
		b.StartTimer()
		res, err := f.Invoke(context.Background(), lambdarun.NewRequestID(), event)
		if err != nil || !strings.Contains(string(res.Payload), `"isAuthorized":true`) {
			b.Fatalf("%v %s %s", err, res.Payload, res.ErrorBody)
		}
	}
}

type ioDiscard struct{}

func (ioDiscard) Write(p []byte) (int, error) { return len(p), nil }
