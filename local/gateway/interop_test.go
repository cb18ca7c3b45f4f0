package gateway

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jwtapi/jwtapi/internal/testutil"
)

// startOIDCProvider runs panva/oidc-provider (a certified OpenID provider,
// from npm) on a free port and returns its issuer.
func startOIDCProvider(t *testing.T) string {
	t.Helper()
	root := moduleDir()
	testutil.NodeModule(t, root, "oidc-provider")
	node := testutil.NodeModule(t, root, ".bin/node")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(node, filepath.Join(root, "test", "interop", "oidc-provider.mjs"), strconvItoa(port))
	stdin, _ := cmd.StdinPipe() // closing it stops the provider
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
		}
	})
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if iss, ok := strings.CutPrefix(sc.Text(), "READY "); ok {
				ready <- iss
			}
		}
	}()
	select {
	case iss := <-ready:
		return iss
	case <-time.After(30 * time.Second):
		t.Fatal("oidc-provider did not start within 30 s")
	}
	return ""
}

func strconvItoa(n int) string { return strconv.Itoa(n) }

func clientCredentials(t *testing.T, issuer, client, secret string, extra url.Values) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}}
	for k, v := range extra {
		form[k] = v
	}
	req, _ := http.NewRequest("POST", issuer+"/token", strings.NewReader(form.Encode()))
	req.Header.Set("content-type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(client, secret)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body map[string]any
	json.NewDecoder(res.Body).Decode(&body)
	tok, _ := body["access_token"].(string)
	if res.StatusCode != 200 || strings.Count(tok, ".") != 2 {
		t.Fatalf("oidc-provider token: %d %v", res.StatusCode, body)
	}
	return tok
}

// TestInteropWithOIDCProvider verifies tokens minted by someone else's code:
// the local template's private route, its authorizer pointed at oidc-provider.
func TestInteropWithOIDCProvider(t *testing.T) {
	issuer := startOIDCProvider(t)
	api, err := localAPI()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range api.Authorizers {
		if a.Type == "JWT" {
			a.Issuer = issuer // oidc-provider's issuer has no trailing slash
		}
	}
	gw, base := serveAPI(t, api, nil)
	if err := gw.Warm(context.Background()); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name   string
		token  string
		status int
		reason string
	}{
		{"RS256 access token for the API", clientCredentials(t, issuer, "rs256-client", "rs256-secret", url.Values{"scope": {"read:user"}, "resource": {audience}}), 200, ""},
		{"token for another resource", clientCredentials(t, issuer, "rs256-client", "rs256-secret", url.Values{"scope": {"read:user"}, "resource": {"https://other.api"}}), 401, "the token does not have a valid audience"},
		{"ES256 token", clientCredentials(t, issuer, "es256-client", "es256-secret", url.Values{"scope": {"read:user"}, "resource": {audience}}), 401, "signing method is invalid"},
		{"token without the route's scope", clientCredentials(t, issuer, "rs256-client", "rs256-secret", url.Values{"scope": {"write:user"}, "resource": {audience}}), 403, "insufficient_scope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", base+"/private", nil)
			req.Header.Set("authorization", "Bearer "+tt.token)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var body map[string]string
			json.NewDecoder(res.Body).Decode(&body)
			res.Body.Close()
			if res.StatusCode != tt.status || !strings.Contains(res.Header.Get("www-authenticate"), tt.reason) {
				t.Errorf("%d %v %q, want %d %q", res.StatusCode, body, res.Header.Get("www-authenticate"), tt.status, tt.reason)
			}
			if tt.status == 200 && body["message"] != "Hello rs256-client!" {
				t.Errorf("body %v, want the client greeted by its sub", body)
			}
		})
	}
}
