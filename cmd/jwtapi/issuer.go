package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/jwtapi/jwtapi/authzspec"
	"github.com/jwtapi/jwtapi/internal/gobuild"
	"github.com/jwtapi/jwtapi/local/assembly"
	"github.com/jwtapi/jwtapi/local/gateway"
	"github.com/jwtapi/jwtapi/local/issuer"
)

// issuerFlags are shared by the commands that use the embedded issuer.
type issuerFlags struct {
	addr, config, state string
}

func (f *issuerFlags) register(fs *flagSet) {
	fs.StringVar(&f.addr, "issuer-addr", envOr("ISSUER_ADDR", "127.0.0.1:4000"), "embedded issuer address (env ISSUER_ADDR)")
	fs.StringVar(&f.config, "issuer-config", "", "users, clients and APIs of the embedded issuer (default: local/issuer.json of the module if it exists, else built-in demo users granted the scopes the served routes ask for)")
	fs.StringVar(&f.state, "state", ".local", "state folder (signing keys, builds, endpoints.json); git-ignored")
}

func (f *issuerFlags) url() string { return "http://" + f.addr + "/" }

// resolve makes relative paths relative to the Go module, so the command
// works from any directory of the project.
func (f *issuerFlags) resolve() (string, error) {
	moduleDir, err := gobuild.ModuleDir(".")
	if err != nil {
		return "", fmt.Errorf("%v: run jwtapi inside your Go module", err)
	}
	for _, p := range []*string{&f.config, &f.state} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(moduleDir, *p)
		}
	}
	if f.config == "" {
		if def := filepath.Join(moduleDir, "local", "issuer.json"); fileExists(def) {
			f.config = def
		}
	}
	return moduleDir, nil
}

func fileExists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}

func (f *issuerFlags) keyStore() (*issuer.KeyStore, error) {
	if _, err := f.resolve(); err != nil {
		return nil, err
	}
	return issuer.OpenKeyStore(filepath.Join(f.state, "issuer"), nil)
}

// open returns the embedded issuer: its users, clients and APIs from
// --issuer-config (or local/issuer.json), else built for the APIs served.
func (f *issuerFlags) open(apis []*gateway.API) (*issuer.Issuer, error) {
	keys, err := f.keyStore()
	if err != nil {
		return nil, err
	}
	var cfg *issuer.Config
	if f.config != "" {
		if cfg, err = issuer.LoadConfig(f.config); err != nil {
			return nil, err
		}
	} else if cfg, err = demoConfig(f.url(), apis); err != nil {
		return nil, err
	}
	return issuer.New(f.url(), cfg, keys, nil), nil
}

// describeConfig says where the issuer's users come from, for the banner.
func (f *issuerFlags) describeConfig(moduleDir string) string {
	if f.config == "" {
		return "built-in demo users and clients (--issuer-config to use your own)"
	}
	if rel, err := filepath.Rel(moduleDir, f.config); err == nil && !strings.HasPrefix(rel, "..") {
		return "users, clients and APIs in " + rel
	}
	return "users, clients and APIs in " + f.config
}

// fallbackAudience is the audience of tokens when nothing says otherwise.
const fallbackAudience = "https://api.jwtapi.local"

// demoConfig is the embedded issuer's built-in configuration: one API per
// audience that the served APIs accept from this issuer, defining the
// scopes and permissions their routes ask for; a reader, an admin with every
// scope and a verified email, and the same admin unverified; a
// password-grant client and a machine client granted every scope.
func demoConfig(issuerURL string, apis []*gateway.API) (*issuer.Config, error) {
	scopes := trustedAudiences(issuerURL, apis)
	if len(scopes) == 0 {
		scopes = map[string][]string{fallbackAudience: {"read:user"}}
	}
	cfg := &issuer.Config{Clients: []issuer.Client{
		{ClientID: "local-cli", ClientSecret: "local-cli-secret", Name: "Local CLI (password grant)", GrantTypes: []string{issuer.GrantPassword}},
		{ClientID: "local-machine", ClientSecret: "local-machine-secret", Name: "Machine to machine", GrantTypes: []string{issuer.GrantClientCredentials}, Grants: map[string][]string{}},
	}}
	reader, admin := map[string][]string{}, map[string][]string{}
	for _, aud := range slices.Sorted(maps.Keys(scopes)) {
		s := scopes[aud]
		cfg.APIs = append(cfg.APIs, issuer.API{Identifier: aud, Name: aud, Scopes: s})
		cfg.Clients[1].Grants[aud] = s
		admin[aud] = s
		reader[aud] = s[:1]
		for _, x := range s {
			if strings.HasPrefix(x, "read") {
				reader[aud] = []string{x}
				break
			}
		}
	}
	// A pool per pool issuer the APIs trust, with a machine client per
	// client id they accept, allowed the scopes their routes ask for.
	for _, id := range embeddedPools(issuerURL, apis) {
		pool := issuer.CognitoPool{ID: id}
		clients := trustedAudiences(strings.TrimSuffix(issuerURL, "/")+"/"+id, apis)
		for _, cid := range slices.Sorted(maps.Keys(clients)) {
			pool.Clients = append(pool.Clients, issuer.PoolClient{ClientID: cid, ClientSecret: cid + "-secret", Scopes: clients[cid], Groups: []string{"machines"}})
		}
		cfg.CognitoPools = append(cfg.CognitoPools, pool)
	}
	cfg.Users = []issuer.User{
		{UserID: "auth0|reader", Username: "reader@example.com", Password: "reader-password", Permissions: reader,
			Claims: map[string]any{"email": "reader@example.com", "email_verified": true}},
		{UserID: "auth0|admin", Username: "admin@example.com", Password: "admin-password", Permissions: admin,
			Claims: map[string]any{"email": "admin@example.com", "email_verified": true, "https://jwtapi.local/roles": []string{"admin"}}},
		{UserID: "auth0|unverified-admin", Username: "unverified@example.com", Password: "unverified-password", Permissions: admin,
			Claims: map[string]any{"email": "unverified@example.com", "email_verified": false}},
	}
	return cfg, cfg.Validate()
}

// trustedAudiences maps each audience that the APIs accept from issuerURL
// to the scopes and permissions their routes and rules ask for (sorted).
func trustedAudiences(issuerURL string, apis []*gateway.API) map[string][]string {
	out := map[string][]string{}
	add := func(auds []string, scopes ...[]string) {
		for _, aud := range auds {
			if _, ok := out[aud]; !ok {
				out[aud] = nil
			}
			for _, list := range scopes {
				for _, s := range list {
					if !slices.Contains(out[aud], s) {
						out[aud] = append(out[aud], s)
					}
				}
			}
		}
	}
	for _, api := range apis {
		for _, r := range api.Routes {
			if r.Authorizer == nil || r.Authorizer.Function != nil {
				continue
			}
			for _, t := range r.Authorizer.Trusts() {
				if t.Issuer == issuerURL {
					add(t.Audiences, r.Scopes)
				}
			}
		}
		for _, a := range api.Authorizers {
			if a.Function == nil || a.Function.Env[authzspec.EnvIssuer] != issuerURL {
				continue
			}
			c, err := authzspec.FromEnv(func(k string) string { return a.Function.Env[k] })
			if err != nil {
				continue
			}
			add(c.Audiences)
			for _, rule := range c.Rules {
				add(c.Audiences, rule.AnyScopes, rule.AllScopes, rule.Permissions)
			}
		}
	}
	for aud := range out {
		if len(out[aud]) == 0 {
			out[aud] = []string{"read:user"}
		}
		slices.Sort(out[aud])
	}
	return out
}

// listen binds addr, explaining what to do when it is taken.
func listen(addr, what, envName string) (net.Listener, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s cannot listen on %s: %v (is another one running? pick another address with %s=127.0.0.1:PORT)", what, addr, err, envName)
	}
	return l, nil
}

// serveHTTP serves h on l with timeouts a client cannot outlast: a body
// trickling in, a response read too slowly, or thousands of idle keep-alive
// connections, are cut off instead of holding connections open forever.
// How long a response may take to be ready is the handler's business: the
// gateway's waits (30 s integration, 10 s authorizer) start after a
// handler's build, and a first build on a cold Go cache can take minutes.
func serveHTTP(l net.Listener, h http.Handler) *http.Server {
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h.ServeHTTP(&slowReaderGuard{ResponseWriter: w, rc: http.NewResponseController(w)}, r)
		}),
		ReadHeaderTimeout: 10 * time.Second,
		// The whole request, body included, as API Gateway's 30 s
		// integration timeout would allow.
		ReadTimeout:    30 * time.Second,
		IdleTimeout:    60 * time.Second,
		MaxHeaderBytes: 64 << 10,
	}
	go srv.Serve(l)
	return srv
}

// writeGrace bounds each write of a response to the client.
var writeGrace = 30 * time.Second // a variable for the tests

// slowReaderGuard gives every write writeGrace to reach a client that reads
// slowly (or not at all), in place of the server's WriteTimeout, which
// would also count the time spent preparing the response.
type slowReaderGuard struct {
	http.ResponseWriter
	rc *http.ResponseController
}

func (g *slowReaderGuard) WriteHeader(code int) {
	g.rc.SetWriteDeadline(time.Now().Add(writeGrace))
	g.ResponseWriter.WriteHeader(code)
}

func (g *slowReaderGuard) Write(b []byte) (int, error) {
	g.rc.SetWriteDeadline(time.Now().Add(writeGrace))
	return g.ResponseWriter.Write(b)
}

func (g *slowReaderGuard) Flush() { g.rc.Flush() }

// Unwrap lets http.ResponseController reach the connection.
func (g *slowReaderGuard) Unwrap() http.ResponseWriter { return g.ResponseWriter }

func runIssuer(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("issuer", `jwtapi issuer: run only the embedded Auth0-like issuer.

Without --issuer-config (and no local/issuer.json in the module), its demo
users are granted the scopes of the APIs in the synthesized app (cdk.out).`, stdout, stderr, args)
	var f issuerFlags
	f.register(fs)
	cdkOut := fs.String("cdk-out", "cdk.out", "cloud assembly whose APIs the built-in demo users are made for")
	if err := fs.Parse(args); err != nil {
		return err
	}
	iss, err := f.open(assemblyAPIs(*cdkOut))
	if err != nil {
		return err
	}
	l, err := listen(f.addr, "the embedded issuer", "ISSUER_ADDR or --issuer-addr")
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

// assemblyAPIs reads every API of the synthesized app, if there is one; it
// only informs defaults, so a missing or broken assembly gives none.
func assemblyAPIs(cdkOut string) []*gateway.API {
	stacks, err := assembly.Read(assemblyDir(cdkOut))
	if err != nil {
		return nil
	}
	var apis []*gateway.API
	for _, s := range stacks {
		if found, err := gateway.ParseTemplate(s.Template, s.Name); err == nil {
			apis = append(apis, found...)
		}
	}
	return apis
}

// assemblyDir resolves a relative cloud assembly folder as dev does: from
// the folder of cdk.json, else the module's.
func assemblyDir(cdkOut string) string {
	if moduleDir, err := gobuild.ModuleDir("."); err == nil && !filepath.IsAbs(cdkOut) {
		if app := findAppDir(mustAbs("."), moduleDir); app != "" {
			return filepath.Join(app, cdkOut)
		}
		return filepath.Join(moduleDir, cdkOut)
	}
	return cdkOut
}

func mustAbs(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	return abs
}

func runToken(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("token", `jwtapi token: print an access token signed by the embedded issuer's current key.

Without flags it is a token every route of the running "jwtapi dev" accepts:
its issuer is dev's embedded issuer (read from <state>/dev.json; else the
one the synthesized app trusts), its audience the one the APIs accept, and
it carries every scope, permission and claim value the routes and their
rules ask for. Flags change any of it.

Examples:
  jwtapi token
  jwtapi token --sub 'auth0|me' --scope 'read:orders write:orders'
  jwtapi token --expired
  jwtapi token --not-before 10m --claim email_verified=true --claim 'https://x/roles=["admin"]'
  jwtapi token --pool local_machines --scope jwtapi/status.read   (a Cognito-shaped access token)`, stdout, stderr, args)
	var f issuerFlags
	f.register(fs)
	cdkOut := fs.String("cdk-out", "", "cloud assembly whose APIs give the defaults (default: the running dev's, else cdk.out)")
	sub := fs.String("sub", "auth0|local-user", "subject (sub)")
	aud := fs.String("aud", "", "audiences, comma-separated; --aud '' leaves aud out (default: the served APIs' audience)")
	scope := fs.String("scope", "", "space-delimited scopes; --scope '' leaves scope out (default: every scope the routes ask for)")
	perms := fs.String("permissions", "", "Auth0 RBAC permissions, comma-separated (default: every permission the routes' rules ask for)")
	ttl := fs.Duration("ttl", time.Hour, "lifetime (exp - iat)")
	expired := fs.Bool("expired", false, "mint a token that expired a minute ago")
	nbf := fs.Duration("not-before", 0, "add nbf this far in the future (a not-yet-valid token)")
	pool := fs.String("pool", "", "mint a Cognito-shaped access token of this user pool of the embedded issuer (token_use, client_id, no aud)")
	clientID := fs.String("client-id", "", "with --pool: the app client (default: the one the served APIs accept)")
	groups := fs.String("groups", "", "with --pool: cognito:groups, comma-separated")
	var claims claimFlags
	fs.Var(&claims, "claim", "extra claim name=value, value parsed as JSON when it is JSON (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("token takes flags only, not %q (jwtapi token --help)", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	if _, err := f.resolve(); err != nil {
		return err
	}
	dev, devErr := readDevState(f.state)
	if *cdkOut == "" {
		*cdkOut = "cdk.out"
		if devErr == nil && dev.CDKOut != "" {
			*cdkOut = dev.CDKOut
		}
	}
	apis := assemblyAPIs(*cdkOut)
	if err := f.pickIssuer(set["issuer-addr"], dev, devErr, apis); err != nil {
		return err
	}
	iss, err := f.open(apis)
	if err != nil {
		return err
	}
	if *pool != "" {
		o := issuer.CognitoMintOptions{ClientID: *clientID, Scope: *scope, Claims: claims, Lifetime: *ttl}
		if o.ClientID == "" {
			o.ClientID = defaultPoolClient(iss, *pool, apis)
		}
		if !set["scope"] {
			o.Scope = ""
			if p, ok := iss.Config().Pool(*pool); ok {
				if c, ok := poolClient(p, o.ClientID); ok {
					o.Scope = strings.Join(c.Scopes, " ")
				}
			}
		}
		if *groups != "" {
			o.Groups = strings.Split(*groups, ",")
		}
		if *expired {
			o.IssuedAt = time.Now().Add(-*ttl - time.Minute)
		}
		tok, err := iss.MintCognito(*pool, o)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, tok)
		return nil
	}
	o := issuer.MintOptions{Subject: *sub, Scope: *scope, Lifetime: *ttl}
	switch {
	case set["aud"] && *aud != "":
		o.Audiences = strings.Split(*aud, ",")
	case !set["aud"]:
		o.Audiences = []string{defaultAudience(iss, apis)}
	}
	need := grantFor(iss.URL, o.Audiences, apis)
	if !set["scope"] {
		o.Scope = strings.Join(need.Scopes, " ")
	}
	switch {
	case *perms != "":
		o.Permissions = strings.Split(*perms, ",")
	case !set["permissions"] && len(need.Permissions) > 0:
		o.Permissions = need.Permissions
	}
	o.Claims = map[string]any{}
	maps.Copy(o.Claims, need.Claims)
	maps.Copy(o.Claims, claims)
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

// pickIssuer settles the embedded issuer's address when --issuer-addr was
// not given: the running dev's, else ISSUER_ADDR, else the one loopback
// issuer the synthesized app trusts. A token for any other address would
// carry an iss the APIs refuse, so without any it is an error saying what
// to do.
func (f *issuerFlags) pickIssuer(given bool, dev devState, devErr error, apis []*gateway.API) error {
	switch {
	case given:
		return nil
	case devErr == nil && dev.IssuerAddr != "":
		f.addr = dev.IssuerAddr
		return nil
	case devErr == nil:
		return fmt.Errorf("the running jwtapi dev serves no embedded issuer (its APIs trust %s): get a token from that issuer, or pass --issuer-addr HOST:PORT", strings.Join(issuersOf(apis), ", "))
	case os.Getenv("ISSUER_ADDR") != "":
		f.addr = os.Getenv("ISSUER_ADDR")
		return nil
	}
	var hosts []string
	for _, iss := range issuersOf(apis) {
		if u, err := url.Parse(iss); err == nil && u.Scheme == "http" && !slices.Contains(hosts, u.Host) {
			hosts = append(hosts, u.Host)
		}
	}
	if len(hosts) == 1 {
		f.addr = hosts[0]
		return nil
	}
	if len(hosts) > 1 {
		return fmt.Errorf("%v, and the app trusts several loopback issuers (%s): start jwtapi dev, or pass --issuer-addr with one of them", devErr, strings.Join(hosts, ", "))
	}
	return fmt.Errorf("%v and no synthesized app trusts a loopback issuer: start jwtapi dev in this module first, or pass --issuer-addr HOST:PORT", devErr)
}

// defaultAudience is the audience the served APIs accept from the embedded
// issuer, else the issuer's first API, else fallbackAudience.
func defaultAudience(iss *issuer.Issuer, apis []*gateway.API) string {
	if auds := slices.Sorted(maps.Keys(trustedAudiences(iss.URL, apis))); len(auds) > 0 {
		return auds[0]
	}
	if cfg := iss.Config(); len(cfg.APIs) > 0 {
		return cfg.APIs[0].Identifier
	}
	return fallbackAudience
}

// defaultPoolClient is the client id the served APIs accept from a pool of
// the embedded issuer, else the pool's first client, else "local-client".
func defaultPoolClient(iss *issuer.Issuer, pool string, apis []*gateway.API) string {
	if ids := slices.Sorted(maps.Keys(trustedAudiences(iss.PoolURL(pool), apis))); len(ids) > 0 {
		return ids[0]
	}
	if p, ok := iss.Config().Pool(pool); ok && len(p.Clients) > 0 {
		return p.Clients[0].ClientID
	}
	return "local-client"
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
	fs := newFlagSet("rotate", "jwtapi rotate: make a new signing key; the old one stays in the JWKS for --grace.", stdout, stderr, args)
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
