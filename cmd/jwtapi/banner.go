package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jwtapi/jwtapi/local/gateway"
	"github.com/jwtapi/jwtapi/local/issuer"
)

// printBanner prints every API with its URL and routes, the issuer, and
// ready-to-paste commands.
func (s *server) printBanner(took time.Duration) {
	w := s.logs
	apis := s.sorted()
	var stacks []string
	for _, a := range apis {
		if !slices.Contains(stacks, a.api.Stack) {
			stacks = append(stacks, a.api.Stack)
		}
	}
	from, _ := filepath.Rel(s.p.moduleDir, s.p.cdkOut)
	fmt.Fprintf(w, "\n%d API(s) of %s from %s\n", len(apis), strings.Join(stacks, ", "), from)
	for _, a := range apis {
		kind := "HTTP API"
		if a.api.Kind == gateway.KindREST {
			kind = "REST API, stage " + a.api.StageName
		}
		fmt.Fprintf(w, "\n  %s (%s)  %s\n", a.api.Name, kind, a.url())
		printRoutes(w, a.api)
	}
	for _, a := range apis {
		for _, f := range a.api.Functions {
			if len(f.Unresolved) > 0 {
				fmt.Fprintf(w, "\n  note: %s gets CloudFormation expressions, not values, for %s (they only resolve in AWS)\n", f.Handler, strings.Join(f.Unresolved, ", "))
			}
		}
	}
	fmt.Fprintln(w)
	if s.issuer != nil {
		fmt.Fprintf(w, "  issuer     %s (embedded; %s)\n", s.issuer.URL, s.f.describeConfig(s.p.moduleDir))
		for _, id := range embeddedPools(s.issuer.URL, s.served()) {
			fmt.Fprintf(w, "  user pool  %s (embedded, Cognito-shaped tokens; client credentials at %s/oauth2/token)\n", s.issuer.PoolURL(id), s.issuer.PoolURL(id))
		}
	}
	for _, iss := range s.external {
		fmt.Fprintf(w, "  issuer     %s (tokens verified against its discovery document and JWKS)\n", iss)
	}
	endpoints, _ := filepath.Rel(s.p.moduleDir, s.endpointsPath())
	fmt.Fprintf(w, "  endpoints  %s\n", endpoints)
	if s.console != nil {
		fmt.Fprintf(w, "  console    %s (routes, a token workbench, and why each request was refused)\n", s.console.url())
	}
	fmt.Fprintln(w)

	if s.issuer != nil {
		s.printTryIt(w, apis)
	} else {
		fmt.Fprintf(w, "  Try it, with an access token from your issuer:\n\n    export TOKEN=...\n")
		for _, a := range apis {
			printCurls(w, a, nil)
		}
	}
	fmt.Fprintf(w, "\nReady in %.1fs. One line per request below; handler output is prefixed with its function. Ctrl-C stops everything.\n\n", took.Seconds())
}

// authOf describes how a route is authorized.
func authOf(r *gateway.Route) string {
	switch {
	case r.Mock != nil:
		return "mock (CORS preflight)"
	case r.AuthType == "JWT":
		var about []string
		if r.Authorizer != nil && r.Authorizer.Name != "" {
			about = append(about, r.Authorizer.Name)
		}
		if len(r.Scopes) > 0 {
			about = append(about, "one of: "+strings.Join(r.Scopes, ", "))
		}
		if len(about) == 0 {
			return "jwt"
		}
		return "jwt (" + strings.Join(about, "; ") + ")"
	case r.AuthType == "CUSTOM" && r.Authorizer.Type == "TOKEN":
		return "token authorizer (" + r.Authorizer.Name + ")"
	case r.AuthType == "CUSTOM":
		return "lambda authorizer (" + r.Authorizer.Name + ")"
	}
	return "public"
}

func printRoutes(w io.Writer, api *gateway.API) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "    METHOD\tPATH\tAUTH\tHANDLER")
	for _, r := range api.Routes {
		method, path := r.Key.Method, r.Key.Path
		if r.Key.IsDefault() {
			method, path = "*", "$default"
		}
		fmt.Fprintf(tw, "    %s\t%s\t%s\t%s\n", method, path, authOf(r), handlerOf(r))
	}
	tw.Flush()
}

// printTryIt prints a fresh token per audience the APIs accept from the
// embedded issuer and per client of its pools they accept, and curl
// commands for every route with the token it takes.
func (s *server) printTryIt(w io.Writer, apis []*apiServer) {
	all := s.served()
	vars := tokenVars{}
	blocks := 0
	sep := func() string { // a blank line between blocks
		blocks++
		return map[bool]string{true: "\n", false: ""}[blocks > 1]
	}
	trusted := trustedAudiences(s.issuer.URL, all)
	auds := slices.Sorted(maps.Keys(trusted))
	client, user := passwordGrantDemo(s.issuer)
	for _, aud := range auds {
		name := vars.add(s.issuer.URL, aud, "TOKEN")
		tok, who, err := demoToken(s.issuer, client, user, aud, trusted[aud])
		if err != nil {
			fmt.Fprintf(w, "%s  (no demo token for %s: %v)\n", sep(), aud, err)
			continue
		}
		fmt.Fprintf(w, "%s  Try it, with a fresh token for %s (audience %s):\n\n", sep(), who, aud)
		fmt.Fprintf(w, "    export %s=%s\n", name, tok)
	}
	for _, id := range embeddedPools(s.issuer.URL, all) {
		poolURL := s.issuer.PoolURL(id)
		pool, _ := s.issuer.Config().Pool(id)
		for _, cid := range slices.Sorted(maps.Keys(trustedAudiences(poolURL, all))) {
			name := vars.add(poolURL, cid, "MACHINE_TOKEN")
			pc, ok := poolClient(pool, cid)
			if !ok {
				fmt.Fprintf(w, "%s  (no machine token: user pool %s has no client %s)\n", sep(), id, cid)
				continue
			}
			tok, err := machineToken(poolURL, pc)
			if err != nil {
				fmt.Fprintf(w, "%s  (no machine token for %s: %v)\n", sep(), cid, err)
				continue
			}
			fmt.Fprintf(w, "%s  A machine client's token from user pool %s (client %s, scope %q):\n\n", sep(), poolURL, cid, strings.Join(pc.Scopes, " "))
			fmt.Fprintf(w, "    export %s=%s\n", name, tok)
		}
	}
	for _, a := range apis {
		printCurls(w, a, vars)
	}
	if client != nil && user != nil && len(auds) > 0 {
		fmt.Fprintf(w, "\n  Get another token (password grant; client credentials work too):\n\n")
		fmt.Fprintf(w, "    curl -s %soauth/token -d grant_type=password -d username=%s -d password=%s \\\n      -d audience=%s -d 'scope=%s' -d client_id=%s -d client_secret=%s\n",
			s.issuer.URL, user.Username, user.Password, auds[0], strings.Join(trusted[auds[0]], " "), client.ClientID, client.ClientSecret)
		fmt.Fprintf(w, "\n  Or mint one that every route accepts: %s token (--help for its flags)\n", s.p.selfCommand())
	}
}

// tokenVars names the shell variable holding a token per issuer and
// audience (or client id): TOKEN, TOKEN_2, MACHINE_TOKEN, ...
type tokenVars map[[2]string]string

func (v tokenVars) add(iss, aud, base string) string {
	n := 1
	for _, name := range v {
		if name == base || strings.HasPrefix(name, base+"_") {
			n++
		}
	}
	name := base
	if n > 1 {
		name = fmt.Sprintf("%s_%d", base, n)
	}
	v[[2]string{iss, aud}] = name
	return name
}

// of is the variable for a route: the token of its authorizer's issuer and
// one of its audiences; TOKEN when none was printed.
func (v tokenVars) of(r *gateway.Route) string {
	for _, t := range r.Authorizer.Trusts() {
		for _, aud := range t.Audiences {
			if name, ok := v[[2]string{t.Issuer, aud}]; ok {
				return name
			}
		}
	}
	return "TOKEN"
}

func poolClient(p issuer.CognitoPool, id string) (issuer.PoolClient, bool) {
	for _, c := range p.Clients {
		if c.ClientID == id {
			return c, true
		}
	}
	return issuer.PoolClient{}, false
}

// machineToken gets a token from a pool's token endpoint with client
// credentials, as a machine client would.
func machineToken(poolURL string, c issuer.PoolClient) (string, error) {
	req, err := http.NewRequest("POST", poolURL+"/oauth2/token", strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("content-type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(c.ClientID, c.ClientSecret)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	var body issuer.TokenResponse
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil || body.AccessToken == "" {
		return "", fmt.Errorf("the user pool answered %s", res.Status)
	}
	return body.AccessToken, nil
}

func printCurls(w io.Writer, a *apiServer, vars tokenVars) {
	fmt.Fprintln(w)
	for _, r := range a.api.Routes {
		if r.Key.IsDefault() || r.Mock != nil {
			continue
		}
		path := r.Key.Path
		for _, seg := range r.Key.Segments {
			if seg.Param != "" {
				path = strings.Replace(path, "{"+seg.Param+map[bool]string{true: "+", false: ""}[seg.Greedy]+"}", "example", 1)
			}
		}
		target := strings.TrimSuffix(a.url(), "/") + path
		cmd := fmt.Sprintf("    curl -s -X %s %s", r.Key.Method, target)
		if r.Key.Method == "GET" {
			cmd = fmt.Sprintf("    curl -s %s", target)
		}
		if r.AuthType != "NONE" {
			cmd += ` -H "authorization: Bearer $` + vars.of(r) + `"`
		}
		if r.Key.Method == "DELETE" {
			cmd = strings.Replace(cmd, "curl -s -X", "curl -s -i -X", 1)
		}
		if r.Key.Method == "POST" || r.Key.Method == "PUT" || r.Key.Method == "PATCH" {
			cmd += ` -H 'content-type: application/json' -d '{"action":"reindex"}'`
		}
		fmt.Fprintln(w, cmd)
	}
}

// demoToken gets a token for the most privileged demo user through the
// issuer's own password grant, as a client would.
func demoToken(iss *issuer.Issuer, client *issuer.Client, user *issuer.User, audience string, scopes []string) (string, string, error) {
	if client == nil || user == nil {
		return "", "", fmt.Errorf("the issuer has no password-grant client or no user")
	}
	form := url.Values{"grant_type": {"password"}, "username": {user.Username}, "password": {user.Password},
		"audience": {audience}, "scope": {strings.Join(scopes, " ")}, "client_id": {client.ClientID}, "client_secret": {client.ClientSecret}}
	res, err := http.PostForm(iss.URL+"oauth/token", form)
	if err != nil {
		return "", "", err
	}
	defer res.Body.Close()
	var body issuer.TokenResponse
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil || body.AccessToken == "" {
		return "", "", fmt.Errorf("the issuer answered %s", res.Status)
	}
	return body.AccessToken, fmt.Sprintf("%s (%s; scope %q; valid %s)", user.Username, user.UserID, body.Scope, time.Duration(body.ExpiresIn)*time.Second), nil
}

// passwordGrantDemo picks the demo client and the user with the most permissions.
func passwordGrantDemo(iss *issuer.Issuer) (*issuer.Client, *issuer.User) {
	cfg := iss.Config()
	var client *issuer.Client
	for i, c := range cfg.Clients {
		if slices.Contains(c.GrantTypes, issuer.GrantPassword) {
			client = &cfg.Clients[i]
			break
		}
	}
	var user *issuer.User
	best := -1
	for i, u := range cfg.Users {
		n := 0
		for _, p := range u.Permissions {
			n += len(p)
		}
		if verified, _ := u.Claims["email_verified"].(bool); verified {
			n++ // prefer a user who can use every route
		}
		if n > best {
			best, user = n, &cfg.Users[i]
		}
	}
	return client, user
}

// selfCommand is how the user runs jwtapi in their setting: as a tool of
// their module, from this repository, or by import path.
func (p *project) selfCommand() string { return selfCommand(p.moduleDir) }

func selfCommand(moduleDir string) string {
	data, _ := os.ReadFile(filepath.Join(moduleDir, "go.mod"))
	switch {
	case strings.HasPrefix(string(data), "module "+modulePath+"\n"):
		return "go run ./cmd/jwtapi"
	case regexp.MustCompile(`(?m)^\s*tool\s+` + regexp.QuoteMeta(modulePath+"/cmd/jwtapi") + `\s*$|^\s+` + regexp.QuoteMeta(modulePath+"/cmd/jwtapi") + `\s*$`).Match(data):
		return "go tool jwtapi"
	}
	return "go run " + modulePath + "/cmd/jwtapi"
}
