package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jwtapi/jwtapi/jwtverify"
	"github.com/jwtapi/jwtapi/local/gateway"
	"github.com/jwtapi/jwtapi/local/issuer"
	"github.com/jwtapi/jwtapi/local/lambdarun"
)

// server runs the gateways of the selected APIs, each on its own port, the
// embedded issuer when an API trusts it, and the shared handler runtime.
type server struct {
	p       *project
	f       *devFlags
	logs    io.Writer
	runtime *lambdarun.Runtime

	mu        sync.Mutex
	apis      map[string]*apiServer // by API key (stack/logical id)
	host      string
	firstPort int
	issuer    *issuer.Issuer
	issuerSrv *http.Server
	external  []string // issuers verified through their discovery documents
	// console is the local console, nil when off.
	console *console
}

// apiServer is one API's listener; its gateway is swapped on a reload.
type apiServer struct {
	api  *gateway.API
	base string // http://host:port
	srv  *http.Server
	gw   atomic.Pointer[gateway.Gateway]
}

func (a *apiServer) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.gw.Load().ServeHTTP(w, r) }

// url is where the API is invoked: a REST API's stage is the first segment
// of its paths, as in https://ID.execute-api.REGION.amazonaws.com/STAGE/.
func (a *apiServer) url() string {
	if a.api.Kind == gateway.KindREST {
		return a.base + "/" + a.api.StageName + "/"
	}
	return a.base + "/"
}

func newServer(p *project, f *devFlags, logs io.Writer) *server {
	s := &server{p: p, f: f, logs: logs, apis: map[string]*apiServer{}}
	o := lambdarun.Options{MaxInstances: f.maxInstances, Logs: logs, BuildDir: filepath.Join(p.buildDir(), "handlers")}
	if f.console != "off" {
		s.console = newConsole(s)
		o.OnLine = s.console.log.Line
	}
	s.runtime = lambdarun.NewRuntime(o)
	return s
}

// start serves apis: the first at --addr, the next ones on the following ports.
func (s *server) start(apis []*gateway.API) error {
	host, port, err := net.SplitHostPort(s.f.gatewayAddr)
	if err != nil {
		return fmt.Errorf("--addr %q: want host:port, such as 127.0.0.1:3000", s.f.gatewayAddr)
	}
	if s.firstPort, err = strconv.Atoi(port); err != nil {
		return fmt.Errorf("--addr %q: the port is not a number", s.f.gatewayAddr)
	}
	s.host = host
	if err := s.startIssuer(apis); err != nil {
		return err
	}
	gws, err := s.gateways(apis)
	if err != nil {
		return err
	}
	for i, api := range apis {
		if err := s.listen(api, gws[i], s.firstPort+i); err != nil {
			return err
		}
	}
	s.checkExternalIssuers()
	if s.console != nil {
		if err := s.console.serve(s.f.console); err != nil {
			return err
		}
	}
	return s.writeEndpoints()
}

// state is what dev.json says of this server.
func (s *server) state() devState {
	st := devState{PID: os.Getpid(), CDKOut: s.p.cdkOut}
	if s.console != nil {
		st.Console = s.console.url()
	}
	if s.issuer != nil {
		st.Issuer, st.IssuerAddr = s.issuer.URL, s.f.issuerFlags.addr
	}
	return st
}

// startIssuer starts the embedded issuer when an API trusts its address.
// Any other issuer is left to the gateways, which verify its tokens through
// its discovery document: another server on that address is never replaced.
func (s *server) startIssuer(apis []*gateway.API) error {
	embedded := s.f.url()
	s.external = nil
	uses := false
	for _, iss := range issuersOf(apis) {
		if _, pool := issuer.PoolOf(embedded, iss); iss == embedded || pool {
			uses = true
		} else {
			s.external = append(s.external, iss)
		}
	}
	if !uses || s.issuer != nil {
		return nil
	}
	iss, err := s.f.open(apis)
	if err != nil {
		return err
	}
	l, err := listen(s.f.issuerFlags.addr, "the embedded issuer", "ISSUER_ADDR or --issuer-addr")
	if err != nil {
		return err
	}
	s.issuer, s.issuerSrv = iss, serveHTTP(l, iss.Handler())
	for _, id := range embeddedPools(embedded, apis) {
		if _, ok := iss.Config().Pool(id); !ok {
			fmt.Fprintf(s.logs, "jwtapi: warning: an API trusts the embedded user pool %s, but %s has no cognitoPools entry with id %q: its routes answer 401 until you add one\n",
				iss.PoolURL(id), s.f.config, id)
		}
	}
	return nil
}

// embeddedPools lists the pools of the embedded issuer the APIs trust.
func embeddedPools(embedded string, apis []*gateway.API) []string {
	var out []string
	for _, iss := range issuersOf(apis) {
		if id, ok := issuer.PoolOf(embedded, iss); ok {
			out = append(out, id)
		}
	}
	return out
}

// issuersOf lists the issuers the APIs' JWT and Lambda authorizers trust.
func issuersOf(apis []*gateway.API) []string {
	var out []string
	for _, api := range apis {
		for _, a := range api.Authorizers {
			for _, t := range a.Trusts() {
				if !slices.Contains(out, t.Issuer) {
					out = append(out, t.Issuer)
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// checkExternalIssuers looks up each external issuer's discovery document
// in the background and says when one does not answer: its JWT routes then
// answer 401 (fail closed) until it does.
func (s *server) checkExternalIssuers() {
	for _, iss := range s.external {
		go func() {
			_, err := jwtverify.Discover(context.Background(), &http.Client{}, iss, jwtverify.DefaultFetchTimeout, jwtverify.DefaultMaxJWKSBytes)
			if err != nil {
				hint := ""
				// --issuer-addr takes the host; the embedded issuer serves its
				// Cognito-like pools under paths of that address.
				if u, perr := url.Parse(iss); perr == nil && u.Scheme == "http" {
					hint = "; if it is meant to be the embedded issuer, run with --issuer-addr " + u.Host
				}
				fmt.Fprintf(s.logs, "jwtapi: warning: the issuer %s does not answer (%v): its JWT routes answer 401 until it does%s\n", iss, err, hint)
			}
		}()
	}
}

// gateways makes a gateway per API on the shared runtime.
func (s *server) gateways(apis []*gateway.API) ([]*gateway.Gateway, error) {
	var out []*gateway.Gateway
	for _, api := range apis {
		prefix := ""
		if len(apis) > 1 {
			prefix = api.Name + " "
		}
		o := gateway.Options{ModuleDir: s.p.moduleDir, Runtime: s.runtime, Logs: s.logs, LogPrefix: prefix, JWKSRefetchEvery: s.f.refetch}
		if s.console != nil {
			o.Observe = s.console.log.Add
		}
		gw, err := gateway.New(api, o)
		if err != nil {
			return nil, fmt.Errorf("API %s (%s): %w", api.Name, api.Key(), err)
		}
		out = append(out, gw)
	}
	return out, nil
}

func (s *server) listen(api *gateway.API, gw *gateway.Gateway, port int) error {
	addr := net.JoinHostPort(s.host, strconv.Itoa(port))
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("API %s cannot listen on %s: %v (is another jwtapi running? the APIs take consecutive ports from --addr; pick another first one with --addr or ADDR=%s:PORT)", api.Name, addr, err, s.host)
	}
	a := &apiServer{api: api, base: "http://" + addr}
	a.gw.Store(gw)
	a.srv = serveHTTP(gateway.JSONErrors(l), a)
	s.apis[api.Key()] = a
	return nil
}

// sorted lists the served APIs in port order.
func (s *server) sorted() []*apiServer {
	out := slices.Collect(maps.Values(s.apis))
	slices.SortFunc(out, func(a, b *apiServer) int { return portOf(a.base) - portOf(b.base) })
	return out
}

// served lists the APIs being served, in port order.
func (s *server) served() []*gateway.API {
	var out []*gateway.API
	for _, a := range s.sorted() {
		out = append(out, a.api)
	}
	return out
}

func portOf(base string) int {
	_, p, _ := net.SplitHostPort(strings.TrimPrefix(base, "http://"))
	n, _ := strconv.Atoi(p)
	return n
}

// endpoint is one API in endpoints.json.
type endpoint struct {
	URL    string   `json:"url"`
	Kind   string   `json:"kind"`
	Name   string   `json:"name"`
	Stack  string   `json:"stack"`
	Stage  string   `json:"stage"`
	Routes []string `json:"routes"`
}

// writeEndpoints writes <state>/endpoints.json: the APIs by
// "<stack>/<logical id>", so that scripts never parse the banner.
func (s *server) writeEndpoints() error {
	out := map[string]endpoint{}
	for key, a := range s.apis {
		e := endpoint{URL: a.url(), Kind: a.api.Kind, Name: a.api.Name, Stack: a.api.Stack, Stage: a.api.StageName, Routes: []string{}}
		for _, r := range a.api.Routes {
			e.Routes = append(e.Routes, r.Key.String())
		}
		out[key] = e
	}
	data, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(s.p.stateDir, 0o755); err != nil {
		return err
	}
	tmp := s.endpointsPath() + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, s.endpointsPath())
}

func (s *server) endpointsPath() string { return filepath.Join(s.p.stateDir, "endpoints.json") }

// warm builds every handler (or finds its earlier build still current) and
// starts an instance of each, in the background: requests that arrive
// first wait only for their own function.
func (s *server) warm(ctx context.Context) {
	s.mu.Lock()
	var gws []*gateway.Gateway
	for _, a := range s.apis {
		gws = append(gws, a.gw.Load())
	}
	s.mu.Unlock()
	for _, gw := range gws {
		if err := gw.Warm(ctx); err != nil && ctx.Err() == nil {
			fmt.Fprintf(s.logs, "jwtapi: %v\n", err)
		}
	}
}

// reload serves a new set of APIs: those already served keep their port
// with their new routes, new ones take the next free ports, those gone
// stop. It returns what changed, in words.
func (s *server) reload(apis []*gateway.API) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.startIssuer(apis); err != nil {
		return nil, err
	}
	gws, err := s.gateways(apis)
	if err != nil {
		return nil, err
	}
	var changes []string
	next := s.firstPort
	for _, a := range s.apis {
		next = max(next, portOf(a.base)+1)
	}
	seen := map[string]bool{}
	var keep []string
	for i, api := range apis {
		seen[api.Key()] = true
		keep = append(keep, gws[i].FunctionIDs()...)
		old, ok := s.apis[api.Key()]
		if !ok {
			if err := s.listen(api, gws[i], next); err != nil {
				return changes, err
			}
			next++
			changes = append(changes, fmt.Sprintf("new API %s at %s", api.Name, s.apis[api.Key()].url()))
			continue
		}
		if d := routeDiff(old.api, api); d != "" {
			changes = append(changes, api.Name+": "+d)
		}
		old.api = api
		old.gw.Store(gws[i])
	}
	for key, a := range s.apis {
		if !seen[key] {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			a.srv.Shutdown(ctx)
			cancel()
			delete(s.apis, key)
			changes = append(changes, fmt.Sprintf("API %s is gone (%s stopped)", a.api.Name, a.base))
		}
	}
	s.runtime.Retain(keep)
	return changes, s.writeEndpoints()
}

// routeDiff says which routes appeared, went or changed authorization.
func routeDiff(old, new *gateway.API) string {
	desc := func(api *gateway.API) map[string]string {
		m := map[string]string{}
		for _, r := range api.Routes {
			m[r.Key.String()] = authOf(r) + " " + handlerOf(r)
		}
		return m
	}
	o, n := desc(old), desc(new)
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(n)) {
		switch {
		case o[k] == "":
			parts = append(parts, "+ "+k)
		case o[k] != n[k]:
			parts = append(parts, "~ "+k+" ("+n[k]+")")
		}
	}
	for _, k := range slices.Sorted(maps.Keys(o)) {
		if n[k] == "" {
			parts = append(parts, "- "+k)
		}
	}
	return strings.Join(parts, ", ")
}

func handlerOf(r *gateway.Route) string {
	if r.Function != nil {
		return r.Function.Handler
	}
	return "mock"
}

// close stops the gateways, the issuer and every handler process.
func (s *server) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	s.mu.Lock()
	for _, a := range s.apis {
		a.srv.Shutdown(ctx)
	}
	if s.issuerSrv != nil {
		s.issuerSrv.Shutdown(ctx)
	}
	if s.console != nil {
		s.console.close()
	}
	s.mu.Unlock()
	s.runtime.Close()
}
