package main

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/jwtapi/jwtapi/authzspec"
	"github.com/jwtapi/jwtapi/internal/routekey"
	"github.com/jwtapi/jwtapi/local/assembly"
	"github.com/jwtapi/jwtapi/local/gateway"
	"github.com/jwtapi/jwtapi/local/issuer"
)

// smokeFlags are smoke's flags.
type smokeFlags struct {
	issuerFlags
	outputs string
	local   bool
	stacks  listFlag
	stage   string
	urls    listFlag
	token   string
	cdkOut  string
	timeout time.Duration
}

func runSmoke(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("smoke", `jwtapi smoke: check that a deployed stack (or the running jwtapi dev) answers as it should.

For every HTTP and REST API of the selected stacks of the synthesized app
(cdk.out, as deployed), it checks that:
  - every private route, whatever its method, answers 401 without a token
    (API Gateway refuses before any handler runs: nothing is changed);
  - every public GET route answers, without an auth refusal or a server error;
  - with a token, every private GET route its issuer's authorizer guards
    answers 2xx when the token has what the route asks for, else 403.
It says what it skipped and why (routes that would change data, routes of
another issuer, APIs without a URL). One line per check; exit status 1 when
one fails.

Where the APIs are:
  --outputs FILE   the outputs file of "cdk deploy --outputs-file FILE": each API's
                   URL is the stack output whose value refers to it
  --local          the APIs the running "jwtapi dev" serves (its endpoints.json)
  --url KEY=URL    an API's URL by hand; KEY is <stack>/<logical id> or the API's name

The token: --token or TOKEN; else client credentials of the issuer most
routes trust (CLIENT_ID and CLIENT_SECRET, Auth0's /oauth/token); with --local
and the embedded issuer, one minted for the routes.

Examples:
  cdk deploy -c stage=dev --outputs-file cdk.out/outputs-dev.json
  jwtapi smoke --outputs cdk.out/outputs-dev.json --stage dev
  jwtapi smoke --local`, stdout, stderr, args)
	var f smokeFlags
	f.register(fs)
	fs.StringVar(&f.outputs, "outputs", "", "cdk deploy's outputs file (cdk deploy --outputs-file FILE)")
	fs.BoolVar(&f.local, "local", false, "check the APIs the running jwtapi dev serves")
	fs.Var(&f.stacks, "stack", "check this stack (exact name; repeatable)")
	fs.StringVar(&f.stage, "stage", "", "check the stacks of this stage (marked with jwtapi.MarkStage, or with the stage in their name)")
	fs.Var(&f.urls, "url", "an API's URL: <stack>/<logical id>=URL or <API name>=URL (repeatable)")
	fs.StringVar(&f.token, "token", os.Getenv("TOKEN"), "an access token for the with-token checks (env TOKEN)")
	fs.StringVar(&f.cdkOut, "cdk-out", "", "the synthesized app that was deployed (default: cdk.out; with --local, the one dev serves)")
	fs.DurationVar(&f.timeout, "timeout", 10*time.Second, "per request")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("smoke takes flags only, not %q (jwtapi smoke --help)", fs.Arg(0))
	}
	if f.outputs != "" && f.local {
		return errors.New("--outputs and --local say two places the APIs are: give one")
	}
	if f.outputs == "" && !f.local && len(f.urls) == 0 {
		return errors.New("say where the APIs are: --outputs FILE (written by cdk deploy --outputs-file FILE), --local (the running jwtapi dev), or --url KEY=URL")
	}
	moduleDir, err := f.resolve()
	if err != nil {
		return err
	}
	var dev devState
	if f.local {
		if dev, err = readDevState(f.state); err != nil {
			return fmt.Errorf("%v: start jwtapi dev first, then run jwtapi smoke --local", err)
		}
	}
	if f.cdkOut == "" {
		f.cdkOut = "cdk.out"
		if f.local {
			f.cdkOut = dev.CDKOut
		} else if app := findAppDir(mustAbs("."), moduleDir); app != "" {
			f.cdkOut = filepath.Join(app, "cdk.out")
		}
	}
	targets, err := f.targets(dev)
	if err != nil {
		return err
	}
	c := &checker{client: &http.Client{Timeout: f.timeout}, out: stdout}
	token, issuerURL, err := f.pickToken(c, targets, dev)
	if err != nil {
		return err
	}
	if token == "" {
		c.skip("the with-token checks: no token (pass --token or TOKEN=, or CLIENT_ID and CLIENT_SECRET of a machine client of %s)", issuerURL)
	}
	for _, t := range targets {
		if t.url == "" {
			c.skip("%s: %s", t.name(), t.why)
			continue
		}
		c.check(t, token, issuerURL)
	}
	fmt.Fprintf(stdout, "%d passed, %d failed, %d skipped\n", c.done-c.failed, c.failed, c.skipped)
	switch {
	case c.failed > 0:
		return exitCode(1)
	case c.done == 0:
		return errors.New("nothing was checked: no API of the selected stacks has a URL")
	}
	return nil
}

// target is one API to check: its URL and what its template says.
type target struct {
	api *gateway.API
	url string
	why string // why there is no URL
}

func (t target) name() string {
	return fmt.Sprintf("%s (%s API, %s)", t.api.Name, t.api.Kind, t.api.Key())
}

// targets reads the selected stacks' APIs and finds their URLs.
func (f *smokeFlags) targets(dev devState) ([]target, error) {
	stacks, err := assembly.Read(f.cdkOut)
	if err != nil {
		return nil, fmt.Errorf("%v: smoke reads the routes from the synthesized app; synthesize it first (cdk synth, or the make synth of your Makefile)", err)
	}
	var outputs map[string]map[string]string
	if f.outputs != "" {
		data, err := os.ReadFile(f.outputs)
		if err == nil {
			err = json.Unmarshal(data, &outputs)
		}
		if err != nil {
			return nil, fmt.Errorf("--outputs %s: %v (write it with cdk deploy --outputs-file %s)", f.outputs, err, f.outputs)
		}
		if len(f.stacks) == 0 && f.stage == "" {
			// The stacks that were deployed with this file.
			var deployed []assembly.Stack
			for _, s := range stacks {
				if _, ok := outputs[s.Name]; ok {
					deployed = append(deployed, s)
				}
			}
			if len(deployed) == 0 {
				return nil, fmt.Errorf("--outputs %s names none of the stacks of %s (%s): was it written by a deploy of this app?", f.outputs, f.cdkOut, strings.Join(slices.Sorted(maps.Keys(outputs)), ", "))
			}
			stacks = deployed
		}
	}
	if stacks, err = assembly.Select(stacks, f.stacks, f.stage); err != nil {
		return nil, err
	}
	var endpoints map[string]struct{ URL string }
	if f.local {
		data, err := os.ReadFile(filepath.Join(f.state, "endpoints.json"))
		if err == nil {
			err = json.Unmarshal(data, &endpoints)
		}
		if err != nil {
			return nil, fmt.Errorf("%v: is jwtapi dev still starting?", err)
		}
	}
	byHand := map[string]string{}
	for _, u := range f.urls {
		k, v, ok := strings.Cut(u, "=")
		if !ok || k == "" || !strings.HasPrefix(v, "http") {
			return nil, fmt.Errorf("--url %q: want KEY=URL, such as OrdersService/OrdersHttpA1B2C3=https://abc.execute-api.eu-west-1.amazonaws.com/", u)
		}
		byHand[k] = v
	}
	var out []target
	for _, s := range stacks {
		apis, err := gateway.ParseTemplate(s.Template, s.Name)
		if err != nil {
			return nil, err
		}
		refs := outputRefs(s.Template)
		for _, api := range apis {
			t := target{api: api}
			switch {
			case byHand[api.Key()] != "":
				t.url = byHand[api.Key()]
			case byHand[api.Name] != "":
				t.url = byHand[api.Name]
			case f.local:
				t.url = endpoints[api.Key()].URL
				t.why = "jwtapi dev does not serve it (it serves another stage or stack selection)"
			case outputs != nil:
				t.url, t.why = urlFromOutputs(outputs[s.Name], refs, api)
			default:
				t.why = "no --url for it"
			}
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("the selected stacks hold no API Gateway HTTP API or REST API")
	}
	return out, nil
}

// outputRefs maps each output of a template to the logical ids its value
// refers to (Ref and Fn::GetAtt, at any depth).
func outputRefs(template []byte) map[string][]string {
	var tpl struct {
		Outputs map[string]struct {
			Value any `json:"Value"`
		} `json:"Outputs"`
	}
	json.Unmarshal(template, &tpl)
	out := map[string][]string{}
	for key, o := range tpl.Outputs {
		var ids []string
		var walk func(v any)
		walk = func(v any) {
			switch x := v.(type) {
			case map[string]any:
				for k, e := range x {
					switch k {
					case "Ref":
						if s, ok := e.(string); ok {
							ids = append(ids, s)
						}
					case "Fn::GetAtt":
						if l, ok := e.([]any); ok && len(l) > 0 {
							if s, ok := l[0].(string); ok {
								ids = append(ids, s)
							}
						}
					}
					walk(e)
				}
			case []any:
				for _, e := range x {
					walk(e)
				}
			}
		}
		walk(o.Value)
		out[key] = ids
	}
	return out
}

// urlFromOutputs finds an API's URL among its stack's deployed outputs:
// the output (first by key) whose value refers to the API and is a URL.
func urlFromOutputs(outputs map[string]string, refs map[string][]string, api *gateway.API) (string, string) {
	if outputs == nil {
		return "", "its stack is not in the outputs file"
	}
	for _, key := range slices.Sorted(maps.Keys(refs)) {
		if v := outputs[key]; slices.Contains(refs[key], api.LogicalID) && (strings.HasPrefix(v, "https://") || strings.HasPrefix(v, "http://")) {
			return v, ""
		}
	}
	return "", "its stack has no output with its URL (add one, e.g. awscdk.NewCfnOutput(api, jsii.String(\"Url\"), &awscdk.CfnOutputProps{Value: api.Url()}), or pass --url " + api.Key() + "=URL)"
}

// pickToken returns the token for the with-token checks and the issuer it
// is taken to come from: the issuer most routes trust.
func (f *smokeFlags) pickToken(c *checker, targets []target, dev devState) (string, string, error) {
	uses := map[string]int{}
	for _, t := range targets {
		for _, r := range t.api.Routes {
			for _, t := range r.Authorizer.Trusts() {
				uses[t.Issuer]++
			}
		}
	}
	issuerURL := ""
	for iss, n := range uses {
		if n > uses[issuerURL] || n == uses[issuerURL] && iss < issuerURL {
			issuerURL = iss
		}
	}
	switch {
	case f.token != "" || issuerURL == "":
		return f.token, issuerURL, nil
	case f.local && dev.Issuer == issuerURL:
		f.addr = dev.IssuerAddr
		var apis []*gateway.API
		for _, t := range targets {
			apis = append(apis, t.api)
		}
		iss, err := f.open(apis)
		if err != nil {
			return "", "", err
		}
		need := grantFor(iss.URL, nil, apis)
		tok, err := iss.Mint(issuer.MintOptions{Subject: "auth0|smoke", Audiences: audiencesOf(issuerURL, apis),
			Scope: strings.Join(need.Scopes, " "), Permissions: need.Permissions, Claims: need.Claims})
		return tok, issuerURL, err
	}
	id, secret := os.Getenv("CLIENT_ID"), os.Getenv("CLIENT_SECRET")
	if id == "" || secret == "" {
		return "", issuerURL, nil
	}
	var apis []*gateway.API
	for _, t := range targets {
		apis = append(apis, t.api)
	}
	auds := audiencesOf(issuerURL, apis)
	if len(auds) == 0 {
		return "", issuerURL, fmt.Errorf("no audience of %s in the app: pass a token with --token", issuerURL)
	}
	res, err := c.client.PostForm(strings.TrimSuffix(issuerURL, "/")+"/oauth/token", url.Values{"grant_type": {"client_credentials"},
		"client_id": {id}, "client_secret": {secret}, "audience": {auds[0]}})
	if err != nil {
		return "", "", fmt.Errorf("client credentials at %s: %v", issuerURL, err)
	}
	defer res.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
		Error       string `json:"error_description"`
	}
	json.NewDecoder(res.Body).Decode(&body)
	if body.AccessToken == "" {
		return "", "", fmt.Errorf("client credentials at %s answered %s: %s", issuerURL, res.Status, body.Error)
	}
	return body.AccessToken, issuerURL, nil
}

// audiencesOf lists the audiences the APIs accept from an issuer, sorted.
func audiencesOf(issuerURL string, apis []*gateway.API) []string {
	return slices.Sorted(maps.Keys(trustedAudiences(issuerURL, apis)))
}

type checker struct {
	client                *http.Client
	out                   io.Writer
	done, failed, skipped int
}

func (c *checker) fail(format string, args ...any) {
	c.done++
	c.failed++
	fmt.Fprintf(c.out, "FAIL %s\n", fmt.Sprintf(format, args...))
}

func (c *checker) skip(format string, args ...any) {
	c.skipped++
	fmt.Fprintf(c.out, "skip %s\n", fmt.Sprintf(format, args...))
}

// expectation is what a check accepts.
type expectation struct {
	text string
	ok   func(status int, h http.Header) bool
}

var (
	want401 = expectation{"401", func(s int, _ http.Header) bool { return s == 401 }}
	want403 = expectation{"403", func(s int, _ http.Header) bool { return s == 403 }}
	want2xx = expectation{"2xx", func(s int, _ http.Header) bool { return s >= 200 && s < 300 }}
	// A route with path parameters may well answer 404 for the made-up
	// value: what matters is that it is neither refused nor broken.
	wantAnswer = expectation{"an answer that is neither 401, 403 nor 5xx", func(s int, _ http.Header) bool {
		return s != 401 && s != 403 && s < 500
	}}
)

// expect sends a request and checks its status.
func (c *checker) expect(what, method, url, token string, want expectation) {
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
	body, _ := io.ReadAll(io.LimitReader(res.Body, 300))
	res.Body.Close()
	if !want.ok(res.StatusCode, res.Header) {
		c.fail("%s: %s %s answered %d %s, want %s", what, method, url, res.StatusCode, strings.TrimSpace(string(body)), want.text)
		return
	}
	c.done++
	fmt.Fprintf(c.out, "ok   %s: %s %s → %d\n", what, method, url, res.StatusCode)
}

// issuersText names the issuers an authorizer trusts.
func issuersText(a *gateway.Authorizer) string {
	var out []string
	for _, t := range a.Trusts() {
		out = append(out, t.Issuer)
	}
	return strings.Join(out, ", ")
}

// check runs the checks of one API.
func (c *checker) check(t target, token, issuerURL string) {
	base := strings.TrimSuffix(t.url, "/")
	claims := unverifiedClaims(token)
	for _, r := range t.api.Routes {
		key := r.Key.String()
		path := base + concrete(r)
		switch {
		case r.Mock != nil:
			continue // CORS preflight answers
		case r.Key.IsDefault():
			c.skip("%s %s: the $default route catches any request; nothing to aim at", t.api.Name, key)
			continue
		case r.AuthType == "NONE" && r.Key.Method != "GET":
			c.skip("%s %s: public, and a %s could change data", t.api.Name, key, r.Key.Method)
			continue
		case r.AuthType == "NONE":
			want := want2xx
			if hasParams(r) {
				want = wantAnswer
			}
			c.expect(t.api.Name+" "+key+" (public)", r.Key.Method, path, "", want)
			continue
		}
		c.expect(t.api.Name+" "+key+" without a token", r.Key.Method, path, "", want401)
		switch {
		case token == "":
		case !r.Authorizer.TrustsIssuer(issuerURL):
			c.skip("%s %s with the token: the route trusts %s, the token comes from %s", t.api.Name, key, issuersText(r.Authorizer), issuerURL)
		case r.Key.Method != "GET":
			c.skip("%s %s with the token: a %s could change data", t.api.Name, key, r.Key.Method)
		default:
			want, why := c.predict(t.api, r, claims)
			if want.text == "2xx" && hasParams(r) {
				want = wantAnswer
			}
			c.expect(t.api.Name+" "+key+" with the token"+why, r.Key.Method, path, token, want)
		}
	}
}

// predict says what a route answers the token: 403 when it lacks what the
// route asks for (scopes, or its rule's), else an answer.
func (c *checker) predict(api *gateway.API, r *gateway.Route, claims tokenClaims) (expectation, string) {
	if len(r.Scopes) > 0 && !slices.ContainsFunc(r.Scopes, func(s string) bool { return slices.Contains(claims.Scopes(), s) }) {
		return want403, " (it lacks the scopes " + strings.Join(r.Scopes, ", ") + ")"
	}
	if a := r.Authorizer; a != nil && a.Function != nil {
		cfg, err := authzspec.FromEnv(func(k string) string { return a.Function.Env[k] })
		if err == nil {
			if rule, ok := cfg.Rules[r.Key.String()]; ok {
				if err := rule.Check(claims); err != nil {
					return want403, " (" + err.Error() + ")"
				}
			}
		}
	}
	return want2xx, ""
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

func hasParams(r *gateway.Route) bool {
	return slices.ContainsFunc(r.Key.Segments, func(s routekey.Segment) bool { return s.Param != "" })
}

// tokenClaims are a token's claims read without verifying it: smoke only
// predicts answers by them; the API does the verifying.
type tokenClaims map[string]any

func unverifiedClaims(token string) tokenClaims {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return tokenClaims{}
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	c := tokenClaims{}
	if err == nil {
		json.Unmarshal(payload, &c)
	}
	return c
}

// Scopes are scp (array or string) when present, else scope.
func (c tokenClaims) Scopes() []string {
	if v, ok := c["scp"]; ok {
		return stringList(v)
	}
	return stringList(c["scope"])
}
func (c tokenClaims) Permissions() []string { return stringList(c["permissions"]) }
func (c tokenClaims) All() map[string]any   { return c }

func stringList(v any) []string {
	switch x := v.(type) {
	case string:
		return strings.Fields(x)
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
