// Command jwtapi-smoke checks that a stage answers as it should, right after
// a deploy (make smoke STAGE=dev) or against `make dev` (STAGE=local): a
// public route answers 200, a private route 401 with www-authenticate
// without a token and 200 with one, a route whose scopes the token lacks
// 403, on the HTTP API and the REST API. It finds the routes in the
// synthesized templates (cdk.out), the URLs in the deploy's outputs file
// (cdk.out/outputs-<stage>.json) or, for the local stage, in
// .local/endpoints.json, and the token in TOKEN or through the client
// credentials grant of the stage's issuer (CLIENT_ID, CLIENT_SECRET).
// It prints one line per check and exits 1 when one fails.
package main

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/jwtapi/jwtapi/authzspec"
	"github.com/jwtapi/jwtapi/local/assembly"
	"github.com/jwtapi/jwtapi/local/gateway"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

// target is one API to check: its URL and what its template says.
type target struct {
	api *gateway.API
	url string
}

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("jwtapi-smoke", flag.ContinueOnError)
	stage := fs.String("stage", "", "the stage to check (required)")
	httpURL := fs.String("url", "", "the HTTP API's URL (default: from the outputs file, or .local/endpoints.json for local)")
	restURL := fs.String("rest-url", "", "the REST API's URL, stage included (default: likewise)")
	cdkOut := fs.String("cdk-out", "cdk.out", "where the stage was synthesized")
	state := fs.String("state", ".local", "jwtapi-local's state folder (endpoints.json)")
	timeout := fs.Duration("timeout", 10*time.Second, "per request")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *stage == "" {
		return errors.New("--stage is required (make smoke STAGE=dev)")
	}
	stacks, err := assembly.Read(*cdkOut)
	if err == nil {
		stacks, err = assembly.Select(stacks, nil, *stage)
	}
	if err != nil {
		return fmt.Errorf("%v: synthesize the stage first (make synth STAGE=%s; make dev for local)", err, *stage)
	}
	var targets []target
	for _, s := range stacks {
		apis, err := gateway.ParseTemplate(s.Template, s.Name)
		if err != nil {
			return err
		}
		for _, api := range apis {
			targets = append(targets, target{api: api})
		}
	}
	urls, err := stageURLs(*stage, *cdkOut, *state)
	if err != nil && *httpURL == "" {
		return err
	}
	for i := range targets {
		t := &targets[i]
		switch {
		case t.api.Kind == gateway.KindHTTP && *httpURL != "":
			t.url = *httpURL
		case t.api.Kind == gateway.KindREST && *restURL != "":
			t.url = *restURL
		default:
			t.url = urls[t.api.Key()]
			if t.url == "" {
				t.url = urls[t.api.Stack+"/"+t.api.Kind]
			}
		}
	}
	c := &checker{client: &http.Client{Timeout: *timeout}, out: out}
	token, issuer, err := c.token(targets)
	if err != nil {
		return err
	}
	for _, t := range targets {
		if t.url == "" {
			c.fail("%s (%s): no URL; deploy with make deploy STAGE=%s (it writes the outputs file) or pass --url", t.api.Name, t.api.Kind, *stage)
			continue
		}
		c.check(t, token, issuer)
	}
	if c.failed > 0 {
		return fmt.Errorf("%d of %d checks failed", c.failed, c.done)
	}
	fmt.Fprintf(out, "all %d checks passed\n", c.done)
	return nil
}

// stageURLs reads where the stage's APIs are: by API key for the local
// stage (endpoints.json), by "<stack>/http" and "<stack>/rest" from a
// deploy's outputs (ApiEndpoint, RestApiEndpoint).
func stageURLs(stage, cdkOut, state string) (map[string]string, error) {
	urls := map[string]string{}
	if stage == "local" {
		var e map[string]struct{ URL string }
		data, err := os.ReadFile(filepath.Join(state, "endpoints.json"))
		if err == nil {
			err = json.Unmarshal(data, &e)
		}
		if err != nil {
			return nil, fmt.Errorf("%v: start make dev first", err)
		}
		for k, v := range e {
			urls[k] = v.URL
		}
		return urls, nil
	}
	path := filepath.Join(cdkOut, "outputs-"+stage+".json")
	var outputs map[string]map[string]string
	data, err := os.ReadFile(path)
	if err == nil {
		err = json.Unmarshal(data, &outputs)
	}
	if err != nil {
		return nil, fmt.Errorf("%v: deploy with make deploy STAGE=%s (it writes %s), or pass --url and --rest-url", err, stage, path)
	}
	for stack, o := range outputs {
		if u := o["ApiEndpoint"]; u != "" {
			urls[stack+"/http"] = u
		}
		if u := o["RestApiEndpoint"]; u != "" {
			urls[stack+"/rest"] = u
		}
	}
	return urls, nil
}

type checker struct {
	client       *http.Client
	out          io.Writer
	done, failed int
}

func (c *checker) fail(format string, args ...any) {
	c.done++
	c.failed++
	fmt.Fprintf(c.out, "FAIL %s\n", fmt.Sprintf(format, args...))
}

// expect sends a request and checks its status (and www-authenticate).
func (c *checker) expect(what, method, url, token string, want int, wantAuthHeader bool) {
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		c.fail("%s: %v", what, err)
		return
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := c.client.Do(req)
	if err != nil {
		c.fail("%s: %s %s: %v", what, method, url, err)
		return
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != want || wantAuthHeader && res.Header.Get("Www-Authenticate") == "" {
		extra := ""
		if wantAuthHeader && res.Header.Get("Www-Authenticate") == "" {
			extra = " and no www-authenticate"
		}
		c.fail("%s: %s %s answered %d%s, want %d", what, method, url, res.StatusCode, extra, want)
		return
	}
	c.done++
	fmt.Fprintf(c.out, "ok   %s: %s %s → %d\n", what, method, url, res.StatusCode)
}

// trusts is the issuer a route's authorizer trusts ("" for none).
func trusts(r *gateway.Route) string {
	switch a := r.Authorizer; {
	case a == nil:
		return ""
	case a.Function != nil:
		return a.Function.Env[authzspec.EnvIssuer]
	default:
		return a.Issuer
	}
}

// check runs the checks one API allows, on routes whose authorizer trusts
// the token's issuer (an API may have several authorizers).
func (c *checker) check(t target, token, issuer string) {
	scopes := tokenScopes(token)
	var public, private, forbidden *gateway.Route
	for _, r := range t.api.Routes {
		switch {
		case r.Mock != nil || r.Key.IsDefault():
		case r.AuthType != "NONE" && trusts(r) != issuer:
		case r.AuthType == "NONE":
			if public == nil || r.Key.Method == "GET" && public.Key.Method != "GET" {
				public = r
			}
		case r.AuthType == "JWT" && len(r.Scopes) > 0 && !slices.ContainsFunc(r.Scopes, func(s string) bool { return slices.Contains(scopes, s) }):
			forbidden = r
		case r.Key.Method == "GET" && (private == nil || len(r.Key.Segments) < len(private.Key.Segments)):
			private = r
		}
	}
	base := strings.TrimSuffix(t.url, "/")
	name := fmt.Sprintf("%s (%s)", t.api.Name, t.api.Kind)
	if public != nil {
		c.expect(name+" public route", public.Key.Method, base+concrete(public), "", 200, false)
	}
	if private != nil {
		c.expect(name+" private route, no token", private.Key.Method, base+concrete(private), "", 401, true)
		c.expect(name+" private route, with the token", private.Key.Method, base+concrete(private), token, 200, false)
	}
	if forbidden != nil {
		c.expect(name+" route whose scopes the token lacks", forbidden.Key.Method, base+concrete(forbidden), token, 403, false)
	}
}

// concrete fills a route's path parameters.
func concrete(r *gateway.Route) string {
	var parts []string
	for _, s := range r.Key.Segments {
		if s.Param != "" {
			parts = append(parts, "smoke")
		} else {
			parts = append(parts, s.Literal)
		}
	}
	return "/" + strings.Join(parts, "/")
}

// tokenScopes reads the scopes of a token without verifying it: the smoke
// test only chooses routes by them; the API does the verifying.
func tokenScopes(token string) []string {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil
	}
	var c struct {
		Scope string `json:"scope"`
	}
	json.Unmarshal(payload, &c)
	return strings.Fields(c.Scope)
}

// token is TOKEN, or one from the client credentials grant of the issuer
// most JWT routes trust (CLIENT_ID and CLIENT_SECRET; for the local stage
// the embedded issuer's demo machine client). It returns the issuer too:
// TOKEN is taken to come from that issuer.
func (c *checker) token(targets []target) (token, issuer string, err error) {
	uses := map[string]int{}
	audience := map[string]string{}
	for _, t := range targets {
		for _, r := range t.api.Routes {
			if a := r.Authorizer; a != nil && a.Type == "JWT" && len(a.Audiences) > 0 {
				uses[a.Issuer]++
				audience[a.Issuer] = a.Audiences[0]
			}
		}
	}
	for iss, n := range uses {
		if n > uses[issuer] || n == uses[issuer] && iss < issuer {
			issuer = iss
		}
	}
	if t := os.Getenv("TOKEN"); t != "" || issuer == "" {
		return t, issuer, nil
	}
	id, secret := os.Getenv("CLIENT_ID"), os.Getenv("CLIENT_SECRET")
	if id == "" && strings.HasPrefix(issuer, "http://127.0.0.1:") {
		id, secret = "local-machine", "local-machine-secret"
	}
	if id == "" || secret == "" {
		return "", "", fmt.Errorf("no token: set TOKEN, or CLIENT_ID and CLIENT_SECRET of a machine client of %s authorized for %s", issuer, audience[issuer])
	}
	res, err := c.client.PostForm(strings.TrimSuffix(issuer, "/")+"/oauth/token", url.Values{"grant_type": {"client_credentials"},
		"client_id": {id}, "client_secret": {secret}, "audience": {audience[issuer]}})
	if err != nil {
		return "", "", fmt.Errorf("client credentials at %s: %v", issuer, err)
	}
	defer res.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
		Error       string `json:"error_description"`
	}
	json.NewDecoder(res.Body).Decode(&body)
	if body.AccessToken == "" {
		return "", "", fmt.Errorf("client credentials at %s answered %s: %s", issuer, res.Status, body.Error)
	}
	return body.AccessToken, issuer, nil
}
