package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/jwtapi/jwtapi/internal/gobuild"
	"github.com/jwtapi/jwtapi/local/issuer"
)

// issuerFlags are shared by the commands that use the embedded issuer.
type issuerFlags struct {
	addr, config, state string
}

func (f *issuerFlags) register(fs *flagSet) {
	fs.StringVar(&f.addr, "issuer-addr", envOr("ISSUER_ADDR", "127.0.0.1:4000"), "embedded issuer address (env ISSUER_ADDR)")
	fs.StringVar(&f.config, "issuer-config", "local/issuer.json", "users, clients and APIs of the embedded issuer")
	fs.StringVar(&f.state, "state", ".local", "state folder (signing keys, builds); git-ignored")
}

func (f *issuerFlags) url() string { return "http://" + f.addr + "/" }

// resolve makes relative paths relative to the Go module, so the command
// works from any directory of the project.
func (f *issuerFlags) resolve() error {
	moduleDir, err := gobuild.ModuleDir(".")
	if err != nil {
		return fmt.Errorf("%v: run jwtapi-local inside your Go module", err)
	}
	for _, p := range []*string{&f.config, &f.state} {
		if !filepath.IsAbs(*p) {
			*p = filepath.Join(moduleDir, *p)
		}
	}
	return nil
}

func (f *issuerFlags) keyStore() (*issuer.KeyStore, error) {
	if err := f.resolve(); err != nil {
		return nil, err
	}
	return issuer.OpenKeyStore(filepath.Join(f.state, "issuer"), nil)
}

func (f *issuerFlags) open() (*issuer.Issuer, error) {
	keys, err := f.keyStore()
	if err != nil {
		return nil, err
	}
	cfg, err := issuer.LoadConfig(f.config)
	if err != nil {
		return nil, err
	}
	return issuer.New(f.url(), cfg, keys, nil), nil
}

// listen binds addr, explaining what to do when it is taken.
func listen(addr, what, envName string) (net.Listener, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s cannot listen on %s: %v (is another one running? pick another address with %s=127.0.0.1:PORT)", what, addr, err, envName)
	}
	return l, nil
}

func serveHTTP(l net.Listener, h http.Handler) *http.Server {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(l)
	return srv
}

func runIssuer(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("issuer", "jwtapi-local issuer: run only the embedded Auth0-like issuer.", stderr)
	var f issuerFlags
	f.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	iss, err := f.open()
	if err != nil {
		return err
	}
	l, err := listen(f.addr, "the embedded issuer", "ISSUER_ADDR")
	if err != nil {
		return err
	}
	srv := serveHTTP(l, iss.Handler())
	fmt.Fprintf(stdout, "embedded issuer ready at %s (discovery: %s.well-known/openid-configuration); Ctrl-C stops it\n", iss.URL, iss.URL)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	return srv.Close()
}

func runToken(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("token", `jwtapi-local token: print an access token signed by the embedded issuer's current key.

Examples:
  jwtapi-local token --sub 'auth0|me' --scope 'read:user write:user'
  jwtapi-local token --expired
  jwtapi-local token --not-before 10m --claim email_verified=true --claim 'https://x/roles=["admin"]'`, stderr)
	var f issuerFlags
	f.register(fs)
	sub := fs.String("sub", "auth0|local-user", "subject (sub)")
	aud := fs.String("aud", "https://api.jwtapi.local", "audiences, comma-separated (empty: no aud claim)")
	scope := fs.String("scope", "read:user", "space-delimited scopes (empty: no scope claim)")
	perms := fs.String("permissions", "", "Auth0 RBAC permissions, comma-separated")
	ttl := fs.Duration("ttl", time.Hour, "lifetime (exp - iat)")
	expired := fs.Bool("expired", false, "mint a token that expired a minute ago")
	nbf := fs.Duration("not-before", 0, "add nbf this far in the future (a not-yet-valid token)")
	var claims claimFlags
	fs.Var(&claims, "claim", "extra claim name=value, value parsed as JSON when it is JSON (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	iss, err := f.open()
	if err != nil {
		return err
	}
	o := issuer.MintOptions{Subject: *sub, Scope: *scope, Claims: claims, Lifetime: *ttl}
	if *aud != "" {
		o.Audiences = strings.Split(*aud, ",")
	}
	if *perms != "" {
		o.Permissions = strings.Split(*perms, ",")
	}
	if *expired {
		o.IssuedAt = time.Now().Add(-*ttl - time.Minute)
	}
	if *nbf > 0 {
		o.NotBefore = time.Now().Add(*nbf)
	}
	tok, err := iss.Mint(o)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, tok)
	return nil
}

// claimFlags collects --claim name=value.
type claimFlags map[string]any

func (c *claimFlags) String() string { return "" }

func (c *claimFlags) Set(s string) error {
	name, value, ok := strings.Cut(s, "=")
	if !ok || name == "" {
		return fmt.Errorf("want name=value, got %q", s)
	}
	if *c == nil {
		*c = claimFlags{}
	}
	var v any
	if json.Unmarshal([]byte(value), &v) != nil {
		v = value
	}
	(*c)[name] = v
	return nil
}

func runRotate(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("rotate", "jwtapi-local rotate: make a new signing key; the old one stays in the JWKS for --grace.", stderr)
	var f issuerFlags
	f.register(fs)
	grace := fs.Duration("grace", issuer.DefaultGrace, "how long the previous key stays published")
	if err := fs.Parse(args); err != nil {
		return err
	}
	keys, err := f.keyStore()
	if err != nil {
		return err
	}
	old, _ := keys.Signing()
	kid, err := keys.Rotate(*grace)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "new signing key %s; previous key %s stays published for %s\n", kid, old, *grace)
	return nil
}
