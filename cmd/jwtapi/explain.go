package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jwtapi/jwtapi/local/assembly"
	"github.com/jwtapi/jwtapi/local/gateway"
)

func runExplain(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("explain", `jwtapi explain: say why a token is allowed or refused, route by route, as API Gateway would decide.

It reads the app's synthesized templates (the running dev's, else cdk.out) and
checks the token against each private route of every API — or the one
--route names — with the same code the local gateway runs: JWT authorizers
verify it against their issuer's keys (the embedded issuer's are read from
this module's state, so nothing has to run), and jwtapi's Go Lambda
authorizer decides in-process. It prints, per route, the decision, the reason
in plain words and what API Gateway answers. The exit status is 0 when every
route checked allows the token, 1 when one refuses it.

The token is the argument, or standard input when there is none (or "-").

Examples:
  jwtapi explain --route "GET /orders/{id}" "$TOKEN"
  jwtapi token --scope '' | jwtapi explain`, stdout, stderr, args)
	var f issuerFlags
	f.register(fs)
	route := fs.String("route", "", `check only this route, as "METHOD /path" ("GET /orders/{id}")`)
	apiName := fs.String("api", "", "check only the API of this name")
	var stacks listFlag
	fs.Var(&stacks, "stack", "check only this stack (repeatable)")
	stage := fs.String("stage", "", "check only the stacks of this stage")
	cdkOut := fs.String("cdk-out", "", "the synthesized app (default: the running dev's, else cdk.out)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	token, err := tokenArg(fs.Args(), os.Stdin)
	if err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	moduleDir, err := f.resolve()
	if err != nil {
		return err
	}
	dev, devErr := readDevState(f.state)
	if *cdkOut == "" {
		*cdkOut = "cdk.out"
		if devErr == nil && dev.CDKOut != "" {
			*cdkOut = dev.CDKOut
		}
	}
	all, err := assembly.Read(assemblyDir(*cdkOut))
	if err == nil {
		all, err = assembly.Select(all, stacks, *stage)
	}
	if err != nil {
		return fmt.Errorf("%v: explain reads the synthesized app; synthesize it first (cdk synth, or jwtapi dev)", err)
	}
	var apis []*gateway.API
	for _, s := range all {
		found, err := gateway.ParseTemplate(s.Template, s.Name)
		if err != nil {
			return err
		}
		for _, a := range found {
			if *apiName == "" || a.Name == *apiName {
				apis = append(apis, a)
			}
		}
	}
	if len(apis) == 0 {
		return fmt.Errorf("no API named %q in %s", *apiName, *cdkOut)
	}
	client := http.DefaultClient
	if f.pickIssuer(set["issuer-addr"], dev, devErr, apis) == nil {
		// The embedded issuer's keys, served in-process when no dev runs.
		if c, err := embeddedClient(&f, apis, devErr == nil); err == nil {
			client = c
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	checked, refused := 0, 0
	for _, api := range apis {
		gw, err := gateway.New(api, gateway.Options{ModuleDir: moduleDir, BuildDir: filepath.Join(f.state, "build"), Logs: io.Discard, FunctionLogs: io.Discard, JWKSClient: client})
		if err != nil {
			return err
		}
		for _, r := range api.Routes {
			key := r.Key.String()
			if *route != "" && key != *route || *route == "" && (r.AuthType == "NONE" || r.Mock != nil) {
				continue
			}
			v, err := gw.Check(ctx, key, token)
			if err != nil {
				gw.Close()
				return err
			}
			checked++
			kind := "HTTP API"
			if api.Kind == gateway.KindREST {
				kind = "REST API"
			}
			if v.Allowed {
				fmt.Fprintf(stdout, "allowed  %s  (%s %s, %s)\n", key, kind, api.Name, v.Auth)
				continue
			}
			refused++
			fmt.Fprintf(stdout, "refused  %s  (%s %s, %s)\n", key, kind, api.Name, v.Auth)
			fmt.Fprintf(stdout, "    why: %s\n", v.Reason)
			if a := v.AWS; a != nil {
				fmt.Fprintf(stdout, "    API Gateway answers: %d %s", a.Status, a.Body)
				if a.WWWAuthenticate != "" {
					fmt.Fprintf(stdout, "  (www-authenticate: %s)", a.WWWAuthenticate)
				}
				fmt.Fprintln(stdout)
			}
		}
		gw.Close()
	}
	switch {
	case checked == 0 && *route != "":
		return fmt.Errorf("no route %q in the selected APIs", *route)
	case checked == 0:
		return errors.New("the selected APIs have no private route to check the token against")
	case refused > 0:
		fmt.Fprintf(stdout, "%d of %d routes refuse the token\n", refused, checked)
		return exitCode(1)
	}
	fmt.Fprintf(stdout, "all %d routes allow the token\n", checked)
	return nil
}

// tokenArg is the token argument, or standard input's first line.
func tokenArg(args []string, stdin io.Reader) (string, error) {
	switch {
	case len(args) > 1:
		return "", fmt.Errorf("explain takes one token, not %d arguments (quote it)", len(args))
	case len(args) == 1 && args[0] != "-":
		return strings.TrimSpace(args[0]), nil
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", errors.New("no token: give it as the argument or on standard input")
	}
	return strings.TrimSpace(line), nil
}

// embeddedClient fetches discovery and JWKS documents of the embedded
// issuer from its handler in-process (its keys come from this module's
// state), and everything else over the network. With a dev running, the
// issuer answers over HTTP already: the plain client is used.
func embeddedClient(f *issuerFlags, apis []*gateway.API, devRuns bool) (*http.Client, error) {
	if devRuns {
		return http.DefaultClient, nil
	}
	iss, err := f.open(apis)
	if err != nil {
		return nil, err
	}
	h := iss.Handler()
	return &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.URL.Host != f.addr {
			return http.DefaultTransport.RoundTrip(r)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec.Result(), nil
	})}, nil
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
