package test

import (
	"bufio"
	"context"
	"debug/buildinfo"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jwtapi/jwtapi/internal/gobuild"
	"github.com/jwtapi/jwtapi/internal/testutil"
)

// consumerModule copies testdata/consumer, another team's CDK app reusing
// the construct, into a module of its own that requires this one (through
// a replace, as README's "Reusing the construct" says) with jwtapi as a
// tool, tidied as a user's module is.
func consumerModule(t *testing.T) string {
	t.Helper()
	root, _ := filepath.Abs("..")
	return consumerModuleAt(t, root)
}

// consumerModuleAt is consumerModule with this module replaced by the
// checkout at root.
func consumerModuleAt(t *testing.T, root string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "orders")
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("testdata", "consumer"))); err != nil {
		t.Fatal(err)
	}
	gomod := "module example.com/orders\n\ngo 1.26\n\nrequire github.com/jwtapi/jwtapi v0.0.0\n\nreplace github.com/jwtapi/jwtapi => " + root +
		"\n\ntool github.com/jwtapi/jwtapi/cmd/jwtapi\n\nignore ./node_modules\n"
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644); err != nil {
		t.Fatal(err)
	}
	tidy := exec.Command("go", "mod", "tidy")
	tidy.Dir = dir
	tidy.Env = append(os.Environ(), "GOWORK=off")
	if out, err := tidy.CombinedOutput(); err != nil {
		t.Fatalf("go mod tidy in the consumer module: %v\n%s", err, out)
	}
	return dir
}

// logWatcher collects a process's output lines and waits for some.
type logWatcher struct {
	mu    sync.Mutex
	lines []string
	more  chan struct{}
}

func watchLines(r io.Reader) *logWatcher {
	w := &logWatcher{more: make(chan struct{}, 1)}
	go func() {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			w.mu.Lock()
			w.lines = append(w.lines, sc.Text())
			w.mu.Unlock()
			select {
			case w.more <- struct{}{}:
			default:
			}
		}
	}()
	return w
}

// waitFor returns the first line, from index from on, containing s.
func (w *logWatcher) waitFor(t *testing.T, from int, s string, timeout time.Duration) (int, string) {
	t.Helper()
	deadline := time.After(timeout)
	for {
		w.mu.Lock()
		for i := from; i < len(w.lines); i++ {
			if strings.Contains(w.lines[i], s) {
				l := w.lines[i]
				w.mu.Unlock()
				return i, l
			}
		}
		w.mu.Unlock()
		select {
		case <-w.more:
		case <-deadline:
			w.mu.Lock()
			defer w.mu.Unlock()
			t.Fatalf("no line with %q within %s; output:\n%s", s, timeout, strings.Join(w.lines, "\n"))
		}
	}
}

func (w *logWatcher) count() int { w.mu.Lock(); defer w.mu.Unlock(); return len(w.lines) }

func get(t *testing.T, url, token string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body map[string]any
	json.NewDecoder(res.Body).Decode(&body)
	return res.StatusCode, body
}

// hammer sends GET url from n clients until stop, and counts the statuses
// (0: the request failed).
func hammer(url, token string, n int, stop chan struct{}) map[int]int {
	var mu sync.Mutex
	var wg sync.WaitGroup
	counts := map[int]int{}
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				req, _ := http.NewRequest("GET", url, nil)
				req.Header.Set("authorization", "Bearer "+token)
				status := 0
				if res, err := http.DefaultClient.Do(req); err == nil {
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
					status = res.StatusCode
				}
				mu.Lock()
				counts[status]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return counts
}

// TestConsumerModuleLocalMode serves another module's app as its developers
// would, with `go tool jwtapi dev` and nothing of this repository but the
// module: its stack has no stage in its name, it has no issuer.json and no
// Makefile, its go.mod is tidy and it uses the Lambda authorizer. Tokens
// come from `go tool jwtapi token` without flags. Then it edits the app's
// routes while jwtapi dev runs.
func TestConsumerModuleLocalMode(t *testing.T) {
	dir := consumerModule(t)
	addr, issuerAddr := testutil.FreeAddr(t), testutil.FreeAddr(t)
	root, _ := filepath.Abs("..")
	// The CDK CLI on PATH, as a developer with `npm install -g aws-cdk` has it.
	cdk := testutil.NodeModule(t, root, ".bin/cdk")
	env := append(os.Environ(), "GOWORK=off", "PATH="+filepath.Dir(cdk)+string(os.PathListSeparator)+os.Getenv("PATH"))
	// The developers synthesize their app themselves first, with their own
	// -c value; jwtapi dev then serves that assembly, and keeps the value.
	synth := exec.Command(cdk, "synth", "--quiet", "-c", "issuer=http://"+issuerAddr+"/")
	synth.Dir, synth.Env = dir, env
	if out, err := synth.CombinedOutput(); err != nil {
		t.Fatalf("cdk synth in the consumer module: %v\n%s", err, out)
	}
	cmd := exec.Command("go", "tool", "jwtapi", "dev", "--addr", addr, "--issuer-addr", issuerAddr)
	cmd.Dir, cmd.Env = dir, env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			t.Error("jwtapi dev did not stop within 15 s of Ctrl-C")
		}
	}()
	w := watchLines(out)
	w.waitFor(t, 0, "Ready in", 6*time.Minute)
	w.waitFor(t, 0, "jwtapi: serving cdk.out as it was synthesized (-c issuer=http://"+issuerAddr+"/)", time.Second)
	w.mu.Lock()
	if all := strings.Join(w.lines, "\n"); strings.Contains(all, "synthesizing the app") {
		t.Errorf("jwtapi dev synthesized an assembly that was current:\n%s", all)
	}
	w.mu.Unlock()
	_, tokenLine := w.waitFor(t, 0, "export TOKEN=", time.Second)
	_, token, _ := strings.Cut(tokenLine, "export TOKEN=")
	w.waitFor(t, 0, "(embedded; built-in demo users and clients", time.Second)
	w.waitFor(t, 0, "go tool jwtapi token (--help for its flags)", time.Second)

	var endpoints map[string]struct{ URL, Kind, Name string }
	b, err := os.ReadFile(filepath.Join(dir, ".local", "endpoints.json"))
	if err == nil {
		err = json.Unmarshal(b, &endpoints)
	}
	if err != nil || len(endpoints) != 2 {
		t.Fatalf("endpoints.json: %v %s", err, b)
	}
	var httpURL, restURL string
	for key, e := range endpoints {
		if !strings.HasPrefix(key, "OrdersService/") {
			t.Errorf("endpoint key %q, want OrdersService/<logical id>", key)
		}
		switch e.Kind {
		case "http":
			httpURL = e.URL
		case "rest":
			restURL = e.URL
		}
	}
	if httpURL != "http://"+addr+"/" || !strings.HasSuffix(restURL, "/v1/") {
		t.Fatalf("endpoints %v", endpoints)
	}
	for _, c := range []struct {
		url, token string
		status     int
		caller     string
	}{
		{httpURL + "health", "", 200, "anonymous"},
		{httpURL + "orders/42", "", 401, ""},
		{httpURL + "orders/42", token, 200, "auth0|admin"},
		{restURL + "orders", token, 200, "auth0|admin"},
		{restURL + "orders", "", 401, ""},
	} {
		status, body := get(t, c.url, c.token)
		if status != c.status || c.caller != "" && body["caller"] != c.caller {
			t.Errorf("GET %s: %d %v, want %d from %s", c.url, status, body, c.status, c.caller)
		}
	}
	req, _ := http.NewRequest("DELETE", restURL+"orders/42", nil)
	req.Header.Set("authorization", "Bearer "+token)
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 200 {
		t.Errorf("DELETE /v1/orders/42 with the demo admin's delete:orders permission: %v %v", res, err)
	}

	// jwtapi token without flags: the running dev's issuer, the served
	// APIs' audience, what every route asks for (the REST DELETE's
	// permission included).
	tok := exec.Command("go", "tool", "jwtapi", "token")
	tok.Dir, tok.Env = dir, cmd.Env
	minted, err := tok.Output()
	if err != nil {
		t.Fatalf("jwtapi token: %v", err)
	}
	fresh := strings.TrimSpace(string(minted))
	if status, _ := get(t, httpURL+"orders/7", fresh); status != 200 {
		t.Errorf("a token from jwtapi token: %d, want 200", status)
	}
	req, _ = http.NewRequest("DELETE", restURL+"orders/8", nil)
	req.Header.Set("authorization", "Bearer "+fresh)
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 200 {
		t.Errorf("DELETE /v1/orders/8 with a token from jwtapi token: %v %v", res, err)
	}

	// An edit of the app's routes is served without a restart, synthesized
	// with the developers' -c value: the new route trusts the same issuer.
	routes := filepath.Join(dir, "routes.go")
	original, _ := os.ReadFile(routes)
	edited := strings.Replace(string(original), `"GET /health":`, `"GET /orders/{id}/items": {Handler: "handlers/orders", Scopes: []string{"read:orders"}},
		"GET /health":`, 1)
	// While it synthesizes again, the routes keep answering from the last
	// assembly, under load (four clients without a pause).
	from := w.count()
	stopLoad := make(chan struct{})
	loadDone := make(chan map[int]int)
	go func() { loadDone <- hammer(httpURL+"orders/5", fresh, 4, stopLoad) }()
	os.WriteFile(routes, []byte(edited), 0o644)
	w.waitFor(t, from, "-c issuer=http://"+issuerAddr+"/", 3*time.Minute)
	w.waitFor(t, from, "+ GET /orders/{id}/items", 3*time.Minute)
	close(stopLoad)
	if statuses := <-loadDone; len(statuses) != 1 || statuses[200] == 0 {
		t.Errorf("GET /orders/5 while the app was synthesized again and reloaded answered %v, want only 200", statuses)
	}
	if status, body := get(t, httpURL+"orders/9/items", token); status != 200 || body["route"] != "GET /orders/{id}/items" {
		t.Errorf("the new route: %d %v", status, body)
	}

	// A broken app keeps the last good routes and says why, once.
	from = w.count()
	broken := strings.Replace(edited, `{Handler: "handlers/orders", Public: true}`, `{Handler: "handlers/orders", Public: true, Scopes: []string{"x"}}`, 1)
	os.WriteFile(routes, []byte(broken), 0o644)
	w.waitFor(t, from, "a public route cannot require scopes", 3*time.Minute)
	w.waitFor(t, from, "still serving the routes of the last good synth", time.Second)
	time.Sleep(2 * watchPeriod)
	w.mu.Lock()
	failures := strings.Count(strings.Join(w.lines[from:], "\n"), "cdk synth failed")
	w.mu.Unlock()
	if failures != 1 {
		t.Errorf("the synth error was printed %d times, want once", failures)
	}
	if status, _ := get(t, httpURL+"orders/9/items", token); status != 200 {
		t.Errorf("after a failed synth the last good routes are gone: %d", status)
	}
}

// TestAssetHashIgnoresWhereModulesAreCheckedOut: a handler importing this
// module, built in two consumer modules that replace it by two different
// checkout folders, gets the same asset hash, though Go records each folder
// in the binary's build information (kept for auditing): two machines, or a
// laptop and CI, do not redeploy an unchanged function. An edit of the
// handler changes the hash.
func TestAssetHashIgnoresWhereModulesAreCheckedOut(t *testing.T) {
	root, _ := filepath.Abs("..")
	other := filepath.Join(t.TempDir(), "another-checkout-of-jwtapi")
	if err := os.Symlink(root, other); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var hashes []string
	var dirs []string
	for _, checkout := range []string{root, other} {
		dir := consumerModuleAt(t, checkout)
		bin := filepath.Join(t.TempDir(), "bootstrap")
		if err := gobuild.Build(ctx, dir, "handlers/orders", gobuild.Lambda("arm64"), bin); err != nil {
			t.Fatal(err)
		}
		info, err := buildinfo.ReadFile(bin)
		if err != nil || info.Path != "example.com/orders/handlers/orders" {
			t.Errorf("the handler's build information: %v %v, want its main package example.com/orders/handlers/orders", info, err)
		}
		h, err := gobuild.InputHash(ctx, dir, "handlers/orders", gobuild.Lambda("arm64"))
		if err != nil {
			t.Fatal(err)
		}
		hashes, dirs = append(hashes, h), append(dirs, dir)
	}
	if hashes[0] != hashes[1] {
		t.Errorf("asset hashes differ between checkouts: %s and %s", hashes[0], hashes[1])
	}
	main := filepath.Join(dirs[0], "handlers", "orders", "main.go")
	src, _ := os.ReadFile(main)
	os.WriteFile(main, append(src, []byte("\n// an edit\n")...), 0o644)
	if h, _ := gobuild.InputHash(ctx, dirs[0], "handlers/orders", gobuild.Lambda("arm64")); h == hashes[0] {
		t.Error("an edit of the handler left its asset hash unchanged")
	}
}

// watchPeriod is how often jwtapi dev looks at the app's sources.
const watchPeriod = time.Second

// TestConsumerModuleTestKit runs another module's own tests, written with
// the jwtapi test kit (testdata/consumer/orders_test.go), as its developers
// would: they pass; then a route is opened by mistake and they fail, saying
// which route and that the snapshot changed.
func TestConsumerModuleTestKit(t *testing.T) {
	dir := consumerModule(t)
	goTest := func() (string, error) {
		cmd := exec.Command("go", "test", ".")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOWORK=off")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := goTest(); err != nil {
		t.Fatalf("the consumer's tests fail on its unchanged stack: %v\n%s", err, out)
	}
	routes := filepath.Join(dir, "routes.go")
	src, _ := os.ReadFile(routes)
	opened := strings.Replace(string(src), `Scopes: []string{"read:orders"}`, `Public: true`, 1)
	if opened == string(src) {
		t.Fatal("routes.go no longer has the line this test edits")
	}
	os.WriteFile(routes, []byte(opened), 0o644)
	out, err := goTest()
	if err == nil {
		t.Fatalf("the consumer's tests pass with GET /orders/{id} open:\n%s", out)
	}
	for _, want := range []string{
		`http route "GET /orders/{id}" (API OrdersHttp`, "is reachable without a token but is not listed as public",
		"differs from testdata/orders.template.json", "go test with -update",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
