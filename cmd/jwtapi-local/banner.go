package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jwtapi/jwtapi/local/gateway"
	"github.com/jwtapi/jwtapi/local/issuer"
)

// printBanner prints the routes, the issuer and ready-to-paste commands.
func printBanner(w io.Writer, stage, templatePath string, api *gateway.API, iss *issuer.Issuer, base string, took time.Duration) {
	fmt.Fprintf(w, "\n%s (stage %s) from %s\n\n", api.Name, stage, templatePath)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  METHOD\tPATH\tAUTH\tHANDLER")
	var scopes []string
	for _, r := range api.Routes {
		auth := "public"
		if r.AuthType == "CUSTOM" {
			auth = "lambda authorizer (" + r.Authorizer.Name + ")"
		}
		if r.AuthType == "JWT" {
			auth = "jwt"
			if len(r.Scopes) > 0 {
				auth += " (one of: " + strings.Join(r.Scopes, ", ") + ")"
			}
			for _, s := range r.Scopes {
				if !slices.Contains(scopes, s) {
					scopes = append(scopes, s)
				}
			}
		}
		method, path := r.Key.Method, r.Key.Path
		if r.Key.IsDefault() {
			method, path = "*", "$default"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", method, path, auth, r.Function.Handler)
	}
	tw.Flush()
	for _, f := range api.Functions {
		if len(f.Unresolved) > 0 {
			fmt.Fprintf(w, "\n  note: %s gets CloudFormation expressions, not values, for %s (they only resolve in AWS)\n", f.Handler, strings.Join(f.Unresolved, ", "))
		}
	}
	var issuers, audiences []string
	for _, a := range api.Authorizers {
		issuers = append(issuers, a.Issuer)
		audiences = append(audiences, a.Audiences...)
	}
	fmt.Fprintln(w)
	if iss != nil {
		fmt.Fprintf(w, "  issuer   %s (embedded; users, clients and APIs in local/issuer.json)\n", iss.URL)
	} else if len(issuers) > 0 {
		fmt.Fprintf(w, "  issuer   %s (real: tokens are verified against its JWKS)\n", strings.Join(issuers, ", "))
	}
	fmt.Fprintf(w, "  gateway  %s\n\n", base)

	if iss != nil && len(audiences) > 0 {
		tok, who, err := demoToken(iss, audiences[0], scopes)
		if err != nil {
			fmt.Fprintf(w, "  (no demo token: %v)\n", err)
		} else {
			fmt.Fprintf(w, "  Try it, with a fresh token for %s:\n\n", who)
			fmt.Fprintf(w, "    export TOKEN=%s\n", tok)
		}
		printCurls(w, api, base)
		client, user := passwordGrantDemo(iss)
		if client != nil && user != nil {
			fmt.Fprintf(w, "\n  Get another token (password grant; client credentials work too, see README):\n\n")
			fmt.Fprintf(w, "    curl -s %soauth/token -d grant_type=password -d username=%s -d password=%s \\\n      -d audience=%s -d 'scope=%s' -d client_id=%s -d client_secret=%s\n",
				iss.URL, user.Username, user.Password, audiences[0], strings.Join(scopes, " "), client.ClientID, client.ClientSecret)
			fmt.Fprintf(w, "\n  Or mint one directly: go run ./cmd/jwtapi-local token --help\n")
		}
	} else {
		fmt.Fprintf(w, "  Try it, with an access token from your issuer (see README, \"Getting a token\"):\n\n    export TOKEN=...\n")
		printCurls(w, api, base)
	}
	fmt.Fprintf(w, "\nReady in %.1fs. One line per request below; handler output is prefixed with its route. Ctrl-C stops everything.\n\n", took.Seconds())
}

func printCurls(w io.Writer, api *gateway.API, base string) {
	for _, r := range api.Routes {
		if r.Key.IsDefault() {
			continue
		}
		path := r.Key.Path
		for _, s := range r.Key.Segments {
			if s.Param != "" {
				path = strings.Replace(path, "{"+s.Param+map[bool]string{true: "+", false: ""}[s.Greedy]+"}", "example", 1)
			}
		}
		cmd := fmt.Sprintf("    curl -s -X %s %s%s", r.Key.Method, base, path)
		if r.Key.Method == "GET" {
			cmd = fmt.Sprintf("    curl -s %s%s", base, path)
		}
		if r.AuthType != "NONE" {
			cmd += ` -H "authorization: Bearer $TOKEN"`
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
func demoToken(iss *issuer.Issuer, audience string, scopes []string) (string, string, error) {
	client, user := passwordGrantDemo(iss)
	if client == nil || user == nil {
		return "", "", fmt.Errorf("local/issuer.json has no password-grant client or no user")
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

// runGo runs the go command in dir and returns its output.
func runGo(dir string, args ...string) (string, error) {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go %s: %v: %s", strings.Join(args, " "), err, errb.String())
	}
	return out.String(), nil
}
