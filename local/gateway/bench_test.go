package gateway

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtapi/jwtapi/local/issuer"
	"github.com/jwtapi/jwtapi/local/jwtauth"
)

// BenchmarkPrivateRoute is the full path of GET /private with a valid token:
// HTTP in, JWT authorizer (cached token), payload 2.0 event, Runtime API,
// the real handler process, response mapping, HTTP out; 32 concurrent
// clients. It reports requests per second and the 99th percentile latency.
func BenchmarkPrivateRoute(b *testing.B) {
	s := testStack(b)
	tok, err := s.issuer.Mint(issuer.MintOptions{Subject: "auth0|bench", Audiences: []string{audience}, Scope: "read:user", Lifetime: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	get := func() time.Duration {
		start := time.Now()
		req, _ := http.NewRequest("GET", s.url+"/private", nil)
		req.Header.Set("authorization", "Bearer "+tok)
		res, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			b.Fatalf("status %d", res.StatusCode)
		}
		return time.Since(start)
	}
	for range 100 {
		get() // warm instances and connections
	}
	var mu sync.Mutex
	var lat []time.Duration
	b.SetParallelism(16) // 16 x GOMAXPROCS(2) = 32 concurrent clients
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for pb.Next() {
			mine = append(mine, get())
		}
		mu.Lock()
		lat = append(lat, mine...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "req/s")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkAuthorizerDecision is the gateway's authorizer for a repeated
// valid token, as on every request after the first.
func BenchmarkAuthorizerDecision(b *testing.B) {
	s := testStack(b)
	tok, _ := s.issuer.Mint(issuer.MintOptions{Subject: "auth0|bench", Audiences: []string{audience}, Scope: "read:user"})
	var az *jwtauth.Authorizer
	for id, a := range s.gw.api.Authorizers {
		if a.Type == "JWT" && a.Name == "users" {
			az = s.gw.Authorizer(id)
		}
	}
	scopes := []string{"read:user"}
	if d := az.Authorize(b.Context(), tok, scopes); d.Status != 200 {
		b.Fatal(d.Err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if d := az.Authorize(b.Context(), tok, scopes); d.Status != 200 {
			b.Fatal(d.Err)
		}
	}
}

// BenchmarkPrivateRouteObserved is BenchmarkPrivateRoute with a Record
// built for every request (what the console costs with no browser
// attached, but for reqlog.Log.Add, which local/reqlog's BenchmarkAdd
// measures: it cannot be imported here), in-process: requests go through
// ServeHTTP directly, without the network between, so that the difference
// is the gateway's own. Run it beside BenchmarkPrivateRouteInProcess.
func BenchmarkPrivateRouteObserved(b *testing.B) { benchInProcess(b, true) }

// BenchmarkPrivateRouteInProcess is the same path without recording.
func BenchmarkPrivateRouteInProcess(b *testing.B) { benchInProcess(b, false) }

func benchInProcess(b *testing.B, observed bool) {
	s := testStack(b)
	tok, err := s.issuer.Mint(issuer.MintOptions{Subject: "auth0|bench", Audiences: []string{audience}, Scope: "read:user", Lifetime: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	var kept atomic.Int64
	s.gw.observe = nil
	if observed {
		s.gw.observe = func(r *Record) { kept.Add(1) }
	}
	defer func() { s.gw.observe = nil }()
	serve := func() {
		req := httptest.NewRequest("GET", "/private", nil)
		req.Header.Set("authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		s.gw.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("status %d", w.Code)
		}
	}
	for range 50 {
		serve()
	}
	b.SetParallelism(4)
	b.ResetTimer()
	start := time.Now()
	n := atomic.Int64{}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			serve()
			n.Add(1)
		}
	})
	b.ReportMetric(float64(n.Load())/time.Since(start).Seconds(), "req/s")
}

// BenchmarkRecord is what the console costs the gateway per request: the
// Record of an allowed GET /private with a browser's headers and a small
// JSON answer (the console's log adds reqlog's BenchmarkAdd). Compare with
// the ns per request of BenchmarkPrivateRouteInProcess.
func BenchmarkRecord(b *testing.B) {
	g := &Gateway{api: &API{Name: "bench", Kind: KindHTTP}}
	hr := httptest.NewRequest("GET", "/private?x=1", nil)
	for _, h := range []string{"Accept", "Accept-Encoding", "Accept-Language", "Authorization", "Cookie", "User-Agent", "Sec-Fetch-Mode", "Referer"} {
		hr.Header.Set(h, "a value of about the length browsers send, give or take some")
	}
	q := &request{http: hr, id: newRequestID(), received: time.Now(), route: &Route{}, lambdaIDs: []string{"a", "b"},
		verdict: &Verdict{Allowed: true}, token: "t"}
	res := &response{status: 200, headers: http.Header{"Content-Type": {"application/json"}, "X-Custom": {"1"}}, body: []byte(`{"message":"Hello auth0|bench!"}`)}
	b.ReportAllocs()
	for b.Loop() {
		if r := g.record(q, res, outcome{route: "GET /private", auth: "jwt: ok"}, time.Millisecond); r.Status != 200 {
			b.Fatal(r.Status)
		}
	}
}
