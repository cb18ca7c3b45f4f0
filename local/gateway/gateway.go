package gateway

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/jwtapi/jwtapi/internal/bounded"
	"github.com/jwtapi/jwtapi/internal/routekey"
	"github.com/jwtapi/jwtapi/jwtverify"
	"github.com/jwtapi/jwtapi/local/jwtauth"
	"github.com/jwtapi/jwtapi/local/lambdarun"
)

// maxRequestBody is API Gateway's payload limit.
const maxRequestBody = 10 << 20

// Options configure a Gateway.
type Options struct {
	// ModuleDir is the Go module holding the handlers. Required.
	ModuleDir string
	// BuildDir holds host builds of the handlers. Required.
	BuildDir string
	// Logs receives one line per request. Default: os.Stderr.
	Logs io.Writer
	// FunctionLogs receives the handlers' output. Default: os.Stderr.
	FunctionLogs io.Writer
	// MaxInstances limits instances per function. Default: 16.
	MaxInstances int
	// JWKSRefetchEvery rate-limits JWKS refetches on unknown kids. Default: 1 s.
	JWKSRefetchEvery time.Duration
	// Now is the clock for token checks. Default: time.Now.
	Now func() time.Time
}

// Gateway serves one API locally.
type Gateway struct {
	api         *API
	apiID       string
	table       *routekey.Table
	routes      map[string]*Route
	authorizers map[string]*jwtauth.Authorizer
	decisions   map[string]*bounded.Map[string, cachedDecision]
	runtime     *lambdarun.Runtime
	functions   map[string]*lambdarun.Function
	logs        io.Writer
	logMu       sync.Mutex
}

// New prepares a gateway for api; handlers are built by Warm or on first use.
func New(api *API, opts Options) (*Gateway, error) {
	if opts.Logs == nil {
		opts.Logs = os.Stderr
	}
	sum := sha1.Sum([]byte(api.LogicalID))
	g := &Gateway{
		api:         api,
		apiID:       hex.EncodeToString(sum[:])[:10],
		routes:      map[string]*Route{},
		authorizers: map[string]*jwtauth.Authorizer{},
		decisions:   map[string]*bounded.Map[string, cachedDecision]{},
		functions:   map[string]*lambdarun.Function{},
		logs:        opts.Logs,
		runtime: lambdarun.NewRuntime(lambdarun.Options{
			MaxInstances: opts.MaxInstances, Logs: opts.FunctionLogs, BuildDir: filepath.Join(opts.BuildDir, "handlers"),
		}),
	}
	var keys []routekey.Key
	for _, r := range api.Routes {
		keys = append(keys, r.Key)
		g.routes[r.Key.String()] = r
	}
	g.table = routekey.NewTable(keys)
	addFunction := func(name string, f *Function) error {
		if _, ok := g.functions[f.LogicalID]; ok {
			return nil
		}
		fn, err := g.runtime.Add(lambdarun.Spec{
			FunctionName: name, ModuleDir: opts.ModuleDir, Package: f.Handler,
			Env: f.Env, Timeout: f.Timeout, MemoryMB: f.MemoryMB, LogFormat: f.LogFormat,
		})
		g.functions[f.LogicalID] = fn
		return err
	}
	for id, a := range api.Authorizers {
		switch a.Type {
		case "JWT":
			az, err := jwtauth.New(jwtauth.Config{Issuer: a.Issuer, Audiences: a.Audiences},
				jwtauth.Options{UnknownKIDPeriod: opts.JWKSRefetchEvery, Now: opts.Now})
			if err != nil {
				return nil, fmt.Errorf("JWT authorizer %s: %w", a.Name, err)
			}
			g.authorizers[id] = az
		case "REQUEST":
			if a.Function == nil {
				continue
			}
			if err := addFunction("authorizer "+a.Name, a.Function); err != nil {
				return nil, err
			}
			g.decisions[id] = bounded.New[string, cachedDecision](10000)
		}
	}
	for _, r := range api.Routes {
		if err := addFunction(r.Key.String(), r.Function); err != nil {
			return nil, err
		}
	}
	return g, nil
}

// Warm builds every handler and starts one instance of each, two at a time.
func (g *Gateway) Warm(ctx context.Context) error {
	sem := make(chan struct{}, 2)
	errs := make(chan error, len(g.functions))
	var wg sync.WaitGroup
	for _, fn := range g.functions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			if err := fn.Warm(ctx); err != nil {
				errs <- fmt.Errorf("%s (%s): %w", fn.Spec().FunctionName, fn.Spec().Package, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	return errors.Join(all...)
}

// Close stops every handler process.
func (g *Gateway) Close() { g.runtime.Close() }

// Authorizer returns the verifier of an authorizer, by logical id.
func (g *Gateway) Authorizer(logicalID string) *jwtauth.Authorizer { return g.authorizers[logicalID] }

// outcome is what the log line says about one request.
type outcome struct {
	route string
	auth  string
}

func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	q := &request{http: r, id: newRequestID(), received: start, apiID: g.apiID, userAgent: r.UserAgent()}
	q.sourceIP, _, _ = net.SplitHostPort(r.RemoteAddr)
	res, out := g.serve(q)
	h := w.Header()
	for k, v := range res.headers {
		h[k] = v
	}
	if h.Get("Content-Type") == "" {
		h["Content-Type"] = nil // no sniffing: send what the function set
	}
	h.Set("Apigw-Requestid", q.id)
	if g.api.Cors != nil && !isPreflight(r) {
		g.api.Cors.decorate(h, r.Header.Get("Origin"))
	}
	w.WriteHeader(res.status)
	if r.Method != http.MethodHead {
		w.Write(res.body)
	}
	g.logRequest(r, res.status, time.Since(start), out)
}

func (g *Gateway) serve(q *request) (*response, outcome) {
	r := q.http
	if g.api.Cors != nil && isPreflight(r) {
		return g.api.Cors.preflight(r), outcome{route: "CORS preflight"}
	}
	match, ok := g.table.Lookup(r.Method, r.URL.EscapedPath())
	if !ok {
		return apiError(404), outcome{route: "no route"}
	}
	route := g.routes[match.Key.String()]
	q.route, q.match = route, match
	out := outcome{route: match.Key.String()}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxRequestBody))
	if err != nil {
		return apiError(413), out
	}
	q.body = body
	var res *response
	switch route.AuthType {
	case "JWT":
		res, out.auth = g.authorize(q)
	case "CUSTOM":
		res, out.auth = g.authorizeLambda(q)
	}
	if res != nil {
		return res, out
	}
	res, detail := g.integrate(q)
	if detail != "" {
		out.auth = strings.TrimSpace(out.auth + "; " + detail)
		out.auth = strings.TrimPrefix(out.auth, "; ")
	}
	return res, out
}

// authorize runs the route's JWT authorizer; a nil response means allowed.
func (g *Gateway) authorize(q *request) (*response, string) {
	a := q.route.Authorizer
	token := ""
	for _, src := range a.IdentitySource {
		switch {
		case strings.HasPrefix(src, "$request.header."):
			token = q.http.Header.Get(strings.TrimPrefix(src, "$request.header."))
		case strings.HasPrefix(src, "$request.querystring."):
			token = q.http.URL.Query().Get(strings.TrimPrefix(src, "$request.querystring."))
		}
	}
	if strings.TrimSpace(token) == "" {
		res := apiError(401)
		res.headers.Set("Www-Authenticate", "Bearer")
		return res, "jwt: no token"
	}
	d := g.authorizers[a.LogicalID].Authorize(q.http.Context(), jwtverify.BearerToken(token), q.route.Scopes)
	scope := strings.Join(q.route.Scopes, " ")
	switch d.Status {
	case 401:
		res := apiError(401)
		desc := describe(d.Err)
		res.headers.Set("Www-Authenticate", fmt.Sprintf(`Bearer scope=%q error="invalid_token" error_description=%q`, scope, desc))
		return res, "jwt: " + d.Err.Error()
	case 403:
		res := apiError(403)
		res.headers.Set("Www-Authenticate", fmt.Sprintf(`Bearer scope=%q error="insufficient_scope" error_description=%q`, scope, describe(d.Err)))
		return res, "jwt: " + d.Err.Error()
	}
	q.decision = &d
	return nil, "jwt: ok sub=" + d.Claims["sub"]
}

// describe is the error_description of a denial: the sentinel's text,
// without the details meant for the developer's log.
func describe(err error) string { return jwtverify.Explain(err).Description }

// integrate invokes the route's function and maps its answer.
func (g *Gateway) integrate(q *request) (*response, string) {
	var event any
	if q.route.PayloadVersion == "1.0" {
		event = q.eventV1()
	} else {
		event = q.eventV2()
	}
	payload, err := json.Marshal(event)
	if err != nil {
		return apiError(500), "event: " + err.Error()
	}
	fn := g.functions[q.route.Function.LogicalID]
	res, err := fn.Invoke(context.WithoutCancel(q.http.Context()), lambdarun.NewRequestID(), payload)
	switch {
	case errors.Is(err, lambdarun.ErrTimeout):
		return apiError(503), "lambda: " + err.Error()
	case err != nil:
		return apiError(500), "lambda: " + firstLine(err.Error())
	case res.ErrorType != "":
		return apiError(500), "lambda: handler error " + res.ErrorType + ": " + firstLine(errorMessage(res.ErrorBody))
	}
	var mapped *response
	if q.route.PayloadVersion == "1.0" {
		mapped, err = responseV1(res.Payload)
	} else {
		mapped, err = responseV2(res.Payload)
	}
	if err != nil {
		return apiError(500), "lambda: " + err.Error()
	}
	return mapped, ""
}

func errorMessage(body []byte) string {
	var e struct {
		ErrorMessage string `json:"errorMessage"`
	}
	if json.Unmarshal(body, &e) == nil && e.ErrorMessage != "" {
		return e.ErrorMessage
	}
	return string(body)
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " ..."
	}
	return s
}

// logRequest writes one line: method, path, status, latency, route and the
// authorization outcome with its reason.
func (g *Gateway) logRequest(r *http.Request, status int, took time.Duration, out outcome) {
	line := fmt.Sprintf("%s %-6s %-24s %d %7.1fms  → %s", time.Now().Format("15:04:05"), r.Method, r.URL.Path, status,
		float64(took.Microseconds())/1000, out.route)
	if out.auth != "" {
		line += "  " + out.auth
	}
	g.logMu.Lock()
	fmt.Fprintln(g.logs, line)
	g.logMu.Unlock()
}
