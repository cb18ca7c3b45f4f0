package main

import (
	"bytes"
	"embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jwtapi/jwtapi/authzspec"
	"github.com/jwtapi/jwtapi/local/gateway"
	"github.com/jwtapi/jwtapi/local/issuer"
	"github.com/jwtapi/jwtapi/local/reqlog"
)

// The console is a web page jwtapi dev serves on a loopback port of its
// own (never an API's): the APIs and their routes, a token workbench and a
// live request log that says why each refusal happened.
//
// Security: it listens on 127.0.0.1 only; every request whose Host is not
// the console's own address is refused (a page elsewhere cannot reach it
// through DNS rebinding), and so is every request carrying an Origin other
// than the console's (a page elsewhere cannot make the browser mint tokens
// or send requests through it). Changes need a JSON body, which a form of
// another site cannot send without an Origin.

//go:embed console
var consoleFiles embed.FS

// console serves the page and its API over the request log.
type console struct {
	s    *server
	log  *reqlog.Log
	addr string // host:port it serves on
	srv  *http.Server
}

func newConsole(s *server) *console { return &console{s: s, log: reqlog.New(0)} }

// serve starts the console on addr ("127.0.0.1:3999"; port 0 for any).
func (c *console) serve(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--console %q: want 127.0.0.1:PORT, or off", addr)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		// The console mints tokens: it never listens beyond this machine.
		return fmt.Errorf("--console %q: the console listens on a loopback address only (127.0.0.1:PORT)", addr)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		if l, err = net.Listen("tcp", net.JoinHostPort(host, "0")); err != nil {
			return fmt.Errorf("the console cannot listen on %s: %v", addr, err)
		}
	}
	c.addr = l.Addr().String()
	c.srv = serveHTTP(l, c.handler())
	return nil
}

// close stops the console, its event streams included.
func (c *console) close() {
	if c.srv != nil {
		c.srv.Close()
	}
}

func (c *console) url() string { return "http://" + c.addr + "/" }

func (c *console) handler() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(consoleFiles, "console")
	mux.Handle("GET /", http.FileServerFS(static))
	mux.HandleFunc("GET /api/apis", c.apis)
	mux.HandleFunc("GET /api/issuer", c.issuerInfo)
	mux.HandleFunc("GET /api/events", c.events)
	mux.HandleFunc("GET /api/requests/{id}", c.request)
	mux.HandleFunc("POST /api/mint", c.mint)
	mux.HandleFunc("POST /api/send", c.send)
	mux.HandleFunc("POST /api/replay/{id}", c.replay)
	return c.guard(mux)
}

// guard refuses requests from anywhere but the console's own page.
func (c *console) guard(next http.Handler) http.Handler {
	_, port, _ := net.SplitHostPort(c.addr)
	hosts := []string{c.addr, "localhost:" + port}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !slices.Contains(hosts, r.Host) {
			http.Error(w, "jwtapi console: the Host "+strconv.Quote(r.Host)+" is not the console's address", http.StatusForbidden)
			return
		}
		if o := r.Header.Get("Origin"); o != "" && !slices.ContainsFunc(hosts, func(h string) bool { return o == "http://"+h }) {
			http.Error(w, "jwtapi console: requests from "+o+" are refused", http.StatusForbidden)
			return
		}
		if r.Method == http.MethodPost && !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			http.Error(w, "jwtapi console: send JSON", http.StatusUnsupportedMediaType)
			return
		}
		w.Header().Set("X-Frame-Options", "DENY")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; connect-src 'self'; img-src 'self' data:")
		next.ServeHTTP(w, r)
	})
}

func writeJSONTo(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func consoleError(w http.ResponseWriter, status int, format string, args ...any) {
	writeJSONTo(w, status, map[string]string{"error": fmt.Sprintf(format, args...)})
}

// consoleRoute is a route as the routes table shows it.
type consoleRoute struct {
	Method     string   `json:"method"`
	Path       string   `json:"path"`
	Key        string   `json:"key"`
	Auth       string   `json:"auth"`
	Issuers    []string `json:"issuers"`
	Audiences  []string `json:"audiences"`
	Scopes     []string `json:"scopes,omitempty"`
	Rule       string   `json:"rule,omitempty"`
	Handler    string   `json:"handler"`
	LastStatus int      `json:"lastStatus,omitempty"`
	PathParams []string `json:"pathParams"`
}

func (c *console) apis(w http.ResponseWriter, _ *http.Request) {
	c.s.mu.Lock()
	served := c.s.sorted()
	c.s.mu.Unlock()
	var out []map[string]any
	for _, a := range served {
		var routes []consoleRoute
		for _, r := range a.api.Routes {
			if r.Mock != nil {
				continue
			}
			cr := consoleRoute{Method: r.Key.Method, Path: r.Key.Path, Key: r.Key.String(), Auth: authOf(r), Scopes: r.Scopes,
				Handler: handlerOf(r), LastStatus: c.log.LastStatus(a.api.Key(), r.Key.String())}
			for _, t := range r.Authorizer.Trusts() {
				cr.Issuers = append(cr.Issuers, t.Issuer)
				cr.Audiences = append(cr.Audiences, t.Audiences...)
			}
			if au := r.Authorizer; au != nil && au.Function != nil {
				if cfg, err := authzspec.FromEnv(func(k string) string { return au.Function.Env[k] }); err == nil {
					if rule, ok := cfg.Rules[r.Key.String()]; ok {
						b, _ := json.Marshal(rule)
						cr.Rule = string(b)
					}
				}
			}
			for _, s := range r.Key.Segments {
				if s.Param != "" {
					cr.PathParams = append(cr.PathParams, s.Param)
				}
			}
			routes = append(routes, cr)
		}
		out = append(out, map[string]any{"key": a.api.Key(), "name": a.api.Name, "kind": a.api.Kind, "stack": a.api.Stack, "url": a.url(), "routes": routes})
	}
	writeJSONTo(w, 200, out)
}

// issuerInfo lists whom the embedded issuer can mint tokens for.
func (c *console) issuerInfo(w http.ResponseWriter, _ *http.Request) {
	iss := c.s.issuer
	if iss == nil {
		writeJSONTo(w, 200, map[string]any{"embedded": false})
		return
	}
	cfg := iss.Config()
	var users, clients, pools []map[string]any
	for _, u := range cfg.Users {
		users = append(users, map[string]any{"id": u.UserID, "name": u.Username, "permissions": u.Permissions})
	}
	for _, cl := range cfg.Clients {
		if slices.Contains(cl.GrantTypes, issuer.GrantClientCredentials) {
			clients = append(clients, map[string]any{"id": cl.ClientID, "name": cl.Name, "grants": cl.Grants})
		}
	}
	for _, p := range cfg.CognitoPools {
		for _, pc := range p.Clients {
			pools = append(pools, map[string]any{"pool": p.ID, "client": pc.ClientID, "scopes": pc.Scopes})
		}
	}
	all := c.s.served()
	audiences := slices.Sorted(maps.Keys(trustedAudiences(iss.URL, all)))
	writeJSONTo(w, 200, map[string]any{"embedded": true, "url": iss.URL, "users": users, "clients": clients, "pools": pools,
		"audiences": audiences, "grant": grantFor(iss.URL, nil, all)})
}

// mintRequest is what the workbench asks of the embedded issuer.
type mintRequest struct {
	// Kind is "user", "client" or "pool".
	Kind        string         `json:"kind"`
	Who         string         `json:"who"`  // user id, client id, or pool client id
	Pool        string         `json:"pool"` // with kind pool
	Audience    string         `json:"audience"`
	Scope       string         `json:"scope"`
	Permissions []string       `json:"permissions"`
	Claims      map[string]any `json:"claims"`
	TTL         string         `json:"ttl"`
	Expired     bool           `json:"expired"`
}

func (c *console) mint(w http.ResponseWriter, r *http.Request) {
	iss := c.s.issuer
	if iss == nil {
		// Minting works only for the embedded issuer: no other keys are here.
		consoleError(w, 409, "no embedded issuer runs: the served APIs trust other issuers; get a token from them and paste it")
		return
	}
	var m mintRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&m); err != nil {
		consoleError(w, 400, "the request is not the JSON a mint needs: %v", err)
		return
	}
	ttl := time.Hour
	if m.TTL != "" {
		d, err := time.ParseDuration(m.TTL)
		if err != nil || d <= 0 || d > 7*24*time.Hour {
			consoleError(w, 400, "ttl %q: want a duration such as 1h, at most 168h", m.TTL)
			return
		}
		ttl = d
	}
	issuedAt := time.Now()
	if m.Expired {
		issuedAt = issuedAt.Add(-ttl - time.Minute)
	}
	var tok string
	var err error
	switch m.Kind {
	case "pool":
		tok, err = iss.MintCognito(m.Pool, issuer.CognitoMintOptions{ClientID: m.Who, Scope: m.Scope, Claims: m.Claims, Lifetime: ttl, IssuedAt: issuedAt})
	case "user", "client":
		o := issuer.MintOptions{Subject: m.Who, Scope: m.Scope, Permissions: m.Permissions, Lifetime: ttl, IssuedAt: issuedAt, Claims: map[string]any{}}
		if m.Kind == "client" {
			o.Subject, o.ClientID = m.Who+"@clients", m.Who
		} else {
			for _, u := range iss.Config().Users {
				if u.UserID == m.Who {
					maps.Copy(o.Claims, u.Claims)
				}
			}
		}
		maps.Copy(o.Claims, m.Claims)
		if m.Audience != "" {
			o.Audiences = []string{m.Audience}
		}
		tok, err = iss.Mint(o)
	default:
		consoleError(w, 400, "kind %q: want user, client or pool", m.Kind)
		return
	}
	if err != nil {
		consoleError(w, 400, "%v", err)
		return
	}
	writeJSONTo(w, 200, map[string]any{"token": tok})
}

// sendRequest is a request the workbench sends to an API.
type sendRequest struct {
	API     string            `json:"api"` // API key
	Method  string            `json:"method"`
	Path    string            `json:"path"` // within the API, "/orders/7?x=1"
	Token   string            `json:"token"`
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"`
}

func (c *console) send(w http.ResponseWriter, r *http.Request) {
	var sr sendRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 11<<20)).Decode(&sr); err != nil {
		consoleError(w, 400, "the request is not the JSON a send needs: %v", err)
		return
	}
	hdr := http.Header{}
	for k, v := range sr.Headers {
		hdr.Set(k, v)
	}
	if sr.Token != "" {
		hdr.Set("Authorization", "Bearer "+sr.Token)
	}
	c.forward(w, sr.API, sr.Method, sr.Path, hdr, []byte(sr.Body))
}

func (c *console) replay(w http.ResponseWriter, r *http.Request) {
	cr, ok := c.log.Get(r.PathValue("id"))
	if !ok {
		consoleError(w, 404, "no request %q in the log (it keeps the last %d)", r.PathValue("id"), reqlog.DefaultRecords)
		return
	}
	path := cr.Path
	c.s.mu.Lock()
	a := c.s.apis[cr.APIKey]
	c.s.mu.Unlock()
	if a != nil && a.api.Kind == gateway.KindREST {
		path = strings.TrimPrefix(path, "/"+a.api.StageName) // the API's URL holds the stage
	}
	c.forward(w, cr.APIKey, cr.Method, path, cr.RequestHeaders.Clone(), cr.RequestBody)
}

// forward sends a request to a served API, as a client would, and answers
// with what came back and the request's id in the log.
func (c *console) forward(w http.ResponseWriter, apiKey, method, path string, hdr http.Header, body []byte) {
	c.s.mu.Lock()
	a := c.s.apis[apiKey]
	c.s.mu.Unlock()
	if a == nil {
		consoleError(w, 404, "no API %q is served", apiKey)
		return
	}
	if method == "" || strings.ContainsAny(method, " \r\n") {
		consoleError(w, 400, "method %q", method)
		return
	}
	target, err := url.Parse(strings.TrimSuffix(a.url(), "/") + "/" + strings.TrimPrefix(path, "/"))
	if err != nil {
		consoleError(w, 400, "path %q: %v", path, err)
		return
	}
	req, err := http.NewRequest(method, target.String(), bytes.NewReader(body))
	if err != nil {
		consoleError(w, 400, "%v", err)
		return
	}
	for k, v := range hdr {
		if k != "Host" && k != "Content-Length" {
			req.Header[k] = v
		}
	}
	res, err := (&http.Client{Timeout: 65 * time.Second}).Do(req)
	if err != nil {
		consoleError(w, 502, "%s %s: %v", method, target, err)
		return
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	id := res.Header.Get("Apigw-Requestid")
	if id == "" {
		id = res.Header.Get("X-Amzn-Requestid")
	}
	writeJSONTo(w, 200, map[string]any{"id": id, "status": res.StatusCode, "headers": res.Header, "body": string(b)})
}

func (c *console) request(w http.ResponseWriter, r *http.Request) {
	cr, ok := c.log.Get(r.PathValue("id"))
	if !ok {
		consoleError(w, 404, "no request %q in the log (it keeps the last %d)", r.PathValue("id"), reqlog.DefaultRecords)
		return
	}
	v := reqlog.Summary(cr)
	v["claims"], v["detail"], v["lines"] = cr.Claims, cr.Detail, cr.Lines
	v["requestHeaders"], v["responseHeaders"] = cr.RequestHeaders, cr.ResponseHeaders
	v["requestBody"], v["responseBody"] = text(cr.RequestBody), text(cr.ResponseBody)
	v["lambdaRequestIds"] = cr.LambdaRequestIDs
	writeJSONTo(w, 200, v)
}

// text shows a body as text, or base64 when it is not UTF-8 text.
func text(b []byte) string {
	if bytes.ContainsRune(b, 0) || !utf8Valid(b) {
		return "base64:" + base64.StdEncoding.EncodeToString(b)
	}
	return string(b)
}

func utf8Valid(b []byte) bool { return strings.ToValidUTF8(string(b), "\uFFFD") == string(b) }

// events streams the log as server-sent events: the requests kept so far,
// then each new one and each handler line as it comes.
func (c *console) events(w http.ResponseWriter, r *http.Request) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		consoleError(w, 500, "streaming is not supported")
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	backlog, ch, cancel := c.log.Subscribe()
	defer cancel()
	w.Write(backlog)
	w.Write([]byte("event: ready\ndata: {}\n\n"))
	flusher.Flush()
	keepAlive := time.NewTicker(15 * time.Second)
	defer keepAlive.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case msg := <-ch:
			if _, err := w.Write(msg); err != nil {
				return
			}
			// Whatever else is waiting goes in the same write.
			for more := true; more; {
				select {
				case m := <-ch:
					w.Write(m)
				default:
					more = false
				}
			}
			flusher.Flush()
		case <-keepAlive.C:
			if _, err := w.Write([]byte(": keep-alive\n\n")); err != nil {
				return
			}
			flusher.Flush()
		}
	}
}
