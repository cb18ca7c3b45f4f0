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
	"github.com/jwtapi/jwtapi/local/jwtauth"
	"github.com/jwtapi/jwtapi/local/lambdarun"
)

// API Gateway's request limits (its quotas page), checked before routing or
// any authorizer.
const (
	// maxRequestBody is the payload limit, 10 MB.
	maxRequestBody = 10 << 20
	// maxRequestHead is the limit on the request line plus header values,
	// 10,240 bytes. The status of a refusal is unconfirmed (431 weakly
	// observed); this is the one place that picks it.
	maxRequestHead       = 10240
	requestHeadTooLarge  = http.StatusRequestHeaderFieldsTooLarge
	lambdaAuthorizerWait = 10 * time.Second // a Lambda authorizer must answer within 10 s
)

// Options configure a Gateway.
type Options struct {
	// ModuleDir is the Go module holding the handlers. Required.
	ModuleDir string
	// Runtime runs the functions; gateways of one assembly share it so that
	// a reload keeps warm instances. Default: a runtime of the gateway's
	// own, in BuildDir, closed by Close.
	Runtime *lambdarun.Runtime
	// BuildDir holds host builds of the handlers when the gateway makes its
	// own Runtime.
	BuildDir string
	// Logs receives one line per request. Default: os.Stderr.
	Logs io.Writer
	// FunctionLogs receives the handlers' output when the gateway makes its
	// own Runtime. Default: os.Stderr.
	FunctionLogs io.Writer
	// MaxInstances limits instances per function of an own Runtime. Default: 16.
	MaxInstances int
	// LogPrefix starts the label of every function in the handlers' log
	// (the API's name, when several APIs are served). Default: none.
	LogPrefix string
	// JWKSRefetchEvery rate-limits JWKS refetches on unknown kids. Default: 1 s.
	JWKSRefetchEvery time.Duration
	// JWKSClient fetches discovery and JWKS documents. Default: jwtverify's.
	JWKSClient *http.Client
	// Now is the clock for token checks and authorizer caches. Default: time.Now.
	Now func() time.Time
	// Observe, if set, gets a Record of every request once it is answered
	// (a console's request log). It is called on the request's goroutine and
	// must not block. Default: none, and no Record is built.
	Observe func(*Record)
}

// Gateway serves one API locally.
type Gateway struct {
	api         *API
	apiID       string
	table       *routekey.Table
	routes      map[string]*Route
	authorizers map[string]*jwtauth.Authorizer
	restJWT     map[string]*jwtauth.RESTAuthorizer
	decisions   map[string]*bounded.Map[string, cachedDecision]
	runtime     *lambdarun.Runtime
	ownRuntime  bool
	functions   map[string]*lambdarun.Function
	logs        io.Writer
	logMu       sync.Mutex
	now         func() time.Time
	observe     func(*Record)
	jwksClient  *http.Client
}

// New prepares a gateway for api; handlers are built on first use or by Warm.
func New(api *API, opts Options) (*Gateway, error) {
	if opts.Logs == nil {
		opts.Logs = os.Stderr
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	sum := sha1.Sum([]byte(api.Key()))
	g := &Gateway{
		api:         api,
		apiID:       hex.EncodeToString(sum[:])[:10],
		routes:      map[string]*Route{},
		authorizers: map[string]*jwtauth.Authorizer{},
		restJWT:     map[string]*jwtauth.RESTAuthorizer{},
		decisions:   map[string]*bounded.Map[string, cachedDecision]{},
		functions:   map[string]*lambdarun.Function{},
		logs:        opts.Logs,
		runtime:     opts.Runtime,
		now:         opts.Now,
		observe:     opts.Observe,
		jwksClient:  opts.JWKSClient,
	}
	if g.runtime == nil {
		g.ownRuntime = true
		g.runtime = lambdarun.NewRuntime(lambdarun.Options{
			MaxInstances: opts.MaxInstances, Logs: opts.FunctionLogs, BuildDir: filepath.Join(opts.BuildDir, "handlers"),
		})
	}
	var keys []routekey.Key
	for _, r := range api.Routes {
		keys = append(keys, r.Key)
		g.routes[r.Key.String()] = r
	}
	g.table = routekey.NewTable(keys)
	addFunction := func(label string, f *Function) error {
		if _, ok := g.functions[f.ID]; ok {
			return nil
		}
		fn, err := g.runtime.Add(lambdarun.Spec{
			Key: f.ID, FunctionName: opts.LogPrefix + label, ModuleDir: opts.ModuleDir, Package: f.Handler,
			Env: f.Env, Timeout: f.Timeout, MemoryMB: f.MemoryMB, LogFormat: f.LogFormat,
		})
		g.functions[f.ID] = fn
		return err
	}
	for id, a := range api.Authorizers {
		switch a.Type {
		case "JWT":
			o := jwtauth.Options{UnknownKIDPeriod: opts.JWKSRefetchEvery, HTTPClient: opts.JWKSClient, Now: opts.Now}
			if a.RESTJWT != nil {
				az, err := jwtauth.NewREST(*a.RESTJWT, o)
				if err != nil {
					return nil, fmt.Errorf("JWT authorizer %s: %w", a.Name, err)
				}
				g.restJWT[id] = az
				continue
			}
			az, err := jwtauth.New(jwtauth.Config{Issuer: a.Issuer, Audiences: a.Audiences}, o)
			if err != nil {
				return nil, fmt.Errorf("JWT authorizer %s: %w", a.Name, err)
			}
			g.authorizers[id] = az
		case "REQUEST", "TOKEN":
			if err := addFunction("authorizer "+a.Name, a.Function); err != nil {
				return nil, err
			}
			g.decisions[id] = bounded.New[string, cachedDecision](10000)
		}
	}
	for _, r := range api.Routes {
		if r.Function == nil {
			continue
		}
		if err := addFunction(r.Key.String(), r.Function); err != nil {
			return nil, err
		}
	}
	return g, nil
}

// API is what the gateway serves.
func (g *Gateway) API() *API { return g.api }

// FunctionIDs lists the runtime names of the gateway's functions.
func (g *Gateway) FunctionIDs() []string {
	var out []string
	for id := range g.functions {
		out = append(out, id)
	}
	return out
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

// Close stops the handler processes of a runtime the gateway made itself.
func (g *Gateway) Close() {
	if g.ownRuntime {
		g.runtime.Close()
	}
}

// Authorizer returns the verifier of a JWT authorizer, by logical id.
func (g *Gateway) Authorizer(logicalID string) *jwtauth.Authorizer { return g.authorizers[logicalID] }

// outcome is what the log line says about one request.
type outcome struct {
	route string
	auth  string
}

func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	q := &request{http: r, id: newRequestID(), received: start, apiID: g.apiID, userAgent: r.UserAgent(), api: g.api}
	q.sourceIP, _, _ = net.SplitHostPort(r.RemoteAddr)
	q.path, q.rawPath = r.URL.Path, r.URL.EscapedPath()
	var res *response
	var out outcome
	if n := headSize(r); n > maxRequestHead {
		res = apiError(requestHeadTooLarge)
		out = outcome{route: "refused", auth: fmt.Sprintf("request line and header values are %d bytes, over API Gateway's %d", n, maxRequestHead)}
	} else if res, out = g.readBody(q); res != nil {
		// Refused before routing, as API Gateway reads the whole request first.
	} else if g.api.Kind == KindREST {
		res, out = g.serveREST(q)
	} else {
		res, out = g.serveHTTPAPI(q)
	}
	h := w.Header()
	for k, v := range res.headers {
		h[k] = v
	}
	if h.Get("Content-Type") == "" {
		h["Content-Type"] = nil // no sniffing: send what the function set
	}
	if g.api.Kind == KindREST {
		h.Set("X-Amzn-Requestid", q.id)
	} else {
		h.Set("Apigw-Requestid", q.id)
	}
	if g.api.Cors != nil && !isPreflight(r) {
		g.api.Cors.decorate(h, r.Header.Get("Origin"))
	}
	w.WriteHeader(res.status)
	if r.Method != http.MethodHead {
		w.Write(res.body)
	}
	took := time.Since(start)
	g.logRequest(r, q.id, res.status, took, out)
	if g.observe != nil {
		g.observe(g.record(q, res, out, took))
	}
}

// headSize is the size API Gateway limits: the request line and the
// header values.
func headSize(r *http.Request) int {
	n := len(r.Method) + 1 + len(r.RequestURI) + 1 + len(r.Proto)
	for _, vs := range r.Header {
		for _, v := range vs {
			n += len(v)
		}
	}
	return n
}

// readBody reads the whole request body, up to API Gateway's payload
// limit, before anything else: a body over the limit is refused without
// routing (and, when its length is announced, without reading it), a body
// that does not arrive in time is a timeout, not a size problem.
func (g *Gateway) readBody(q *request) (*response, outcome) {
	tooLarge := func() (*response, outcome) {
		res := apiError(http.StatusRequestEntityTooLarge)
		if g.api.Kind == KindREST {
			res = g.gatewayResponse(q, respTooLarge, nil)
		}
		return res, outcome{route: "refused", auth: fmt.Sprintf("the body is over API Gateway's %d-byte payload limit", maxRequestBody)}
	}
	if q.http.ContentLength > maxRequestBody {
		return tooLarge()
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, q.http.Body, maxRequestBody))
	var tooBig *http.MaxBytesError
	var netErr net.Error
	switch {
	case err == nil:
		q.body = body
		return nil, outcome{}
	case errors.As(err, &tooBig):
		return tooLarge()
	case errors.As(err, &netErr) && netErr.Timeout(), errors.Is(err, os.ErrDeadlineExceeded):
		// API Gateway's answer to a body that trickles in is unconfirmed
		// (docs/aws-behaviour.md): a timeout answer, never a size one.
		return apiError(http.StatusRequestTimeout), outcome{route: "refused", auth: fmt.Sprintf("the body did not arrive within the server's read timeout (%d bytes came)", len(body))}
	}
	return apiError(http.StatusBadRequest), outcome{route: "refused", auth: "the body could not be read: " + err.Error()}
}

// integrate invokes the route's function and maps its answer; errs maps a
// failed invocation to the API kind's answers.
func (g *Gateway) integrate(q *request, errs func(kind int) *response) (*response, string) {
	var event any
	if q.route.PayloadVersion == "1.0" {
		event = q.eventV1()
	} else {
		event = q.eventV2()
	}
	payload, err := json.Marshal(event)
	if err != nil {
		return errs(failHandler), "event: " + err.Error()
	}
	fn := g.functions[q.route.Function.ID]
	wait := q.route.IntegrationTimeout
	if wait <= 0 {
		wait = httpIntegrationTimeout
		if q.api.Kind == KindREST {
			wait = restIntegrationTimeout
		}
	}
	// API Gateway stops waiting at the integration timeout while the
	// function runs on to its own timeout: so does the invocation here.
	lambdaID := lambdarun.NewRequestID()
	q.lambdaIDs = append(q.lambdaIDs, lambdaID)
	res, err := fn.InvokeWait(context.WithoutCancel(q.http.Context()), lambdaID, payload, wait)
	if errors.Is(err, lambdarun.ErrGaveUp) {
		return errs(failTimeout), fmt.Sprintf("integration timed out after %s (the function runs on to its own timeout)", wait)
	}
	switch {
	case errors.Is(err, lambdarun.ErrTimeout):
		// A function that times out within the integration timeout is a
		// failed invocation to API Gateway, not an integration timeout.
		return errs(failHandler), "lambda: " + err.Error()
	case err != nil:
		return errs(failHandler), "lambda: " + firstLine(err.Error())
	case res.ErrorType != "":
		return errs(failHandler), "lambda: handler error " + res.ErrorType + ": " + firstLine(errorMessage(res.ErrorBody))
	}
	var mapped *response
	if q.route.PayloadVersion == "1.0" {
		mapped, err = responseV1(res.Payload)
	} else {
		mapped, err = responseV2(res.Payload)
	}
	if err != nil {
		return errs(failResponse), "lambda: " + err.Error()
	}
	return mapped, ""
}

// Ways an integration fails.
const (
	failHandler  = iota // the function errored, crashed, timed out or did not build
	failTimeout         // API Gateway stopped waiting (the integration timeout)
	failResponse        // the function's answer is not a proxy response
)

// invoke runs an authorizer function with a raw event, within API
// Gateway's 10 s limit for Lambda authorizers.
func (g *Gateway) invoke(q *request, fn *Function, event any) (lambdarun.Result, error) {
	payload, err := json.Marshal(event)
	if err != nil {
		return lambdarun.Result{}, err
	}
	lambdaID := lambdarun.NewRequestID()
	q.lambdaIDs = append(q.lambdaIDs, lambdaID)
	res, err := g.functions[fn.ID].InvokeWait(context.WithoutCancel(q.http.Context()), lambdaID, payload, lambdaAuthorizerWait)
	switch {
	case errors.Is(err, lambdarun.ErrTimeout), errors.Is(err, lambdarun.ErrGaveUp):
		return res, fmt.Errorf("%w: no answer in time: %v", errAuthorizer, err)
	case err != nil:
		return res, fmt.Errorf("%w: %s", errAuthorizer, firstLine(err.Error()))
	}
	return res, nil
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
func (g *Gateway) logRequest(r *http.Request, id string, status int, took time.Duration, out outcome) {
	line := fmt.Sprintf("%s %-6s %-24s %d %7.1fms  → %s", time.Now().Format("15:04:05"), r.Method, r.URL.Path, status,
		float64(took.Microseconds())/1000, out.route)
	if out.auth != "" {
		line += "  " + out.auth
	}
	line += "  [" + id + "]" // the request id the handler's event and its logs carry
	g.logMu.Lock()
	fmt.Fprintln(g.logs, line)
	g.logMu.Unlock()
}
