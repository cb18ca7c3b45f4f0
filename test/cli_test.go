package test

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jwtapi/jwtapi/internal/testutil"
	"github.com/jwtapi/jwtapi/jwtapitest"
)

// cdkCLI returns the pinned CDK CLI, with PATH set as the Makefile sets it.
func cdkCLI(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Dir(testutil.NodeModule(t, root, ".bin/cdk"))
	cmd := exec.Command(filepath.Join(bin, "cdk"), append([]string{"--no-notices"}, args...)...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), "CDK_DISABLE_CLI_TELEMETRY=true")
	return cmd
}

// assetHash matches a CDK asset hash.
var assetHash = regexp.MustCompile(`[0-9a-f]{64}`)

// TestCLISynthMatchesSnapshot runs `cdk synth -c stage=local` through the
// real CLI and cdk.json, as `make synth` and `make dev` do.
func TestCLISynthMatchesSnapshot(t *testing.T) {
	out := t.TempDir()
	cmd := cdkCLI(t, "synth", "-c", "stage=local", "--quiet", "-o", out)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("cdk synth: %v\n%s", err, stderr.String())
	}
	got, err := os.ReadFile(filepath.Join(out, "JwtApi-local.template.json"))
	if err != nil {
		t.Fatal(err)
	}
	var tpl map[string]any
	if err := json.Unmarshal(got, &tpl); err != nil {
		t.Fatal(err)
	}
	jwtapitest.FromJSON(t, "JwtApi-local (cdk synth)", tpl).Snapshot(t, filepath.Join("testdata", "local.template.json"))
	// Two processes built the handlers independently (this test's synth and
	// the CLI's): reproducible builds give the same asset hashes, so an
	// unchanged handler is never uploaded again.
	cli := assetHash.FindAllString(string(got), -1)
	inProcess := assetHash.FindAllString(string(synthStage(t, "local").rawJSON), -1)
	slices.Sort(cli)
	slices.Sort(inProcess)
	if len(cli) == 0 || !slices.Equal(slices.Compact(cli), slices.Compact(inProcess)) {
		t.Errorf("asset hashes differ between two synths of the same handlers:\n%v\n%v", slices.Compact(cli), slices.Compact(inProcess))
	}
}

func TestCLIConfigErrorsAreOneClearLine(t *testing.T) {
	tests := []struct {
		args []string
		env  []string
		want string
	}{
		{[]string{"-c", "stage=qa"}, nil, `error: stage config: unknown stage "qa"; known stages: dev, local, prod`},
		{[]string{"-c", "stage=prod"}, []string{"AUTH0_DOMAIN=https://acme.auth0.com/"}, `Auth0Domain: "https://acme.auth0.com/" is not a domain name`},
	}
	for _, tt := range tests {
		cmd := cdkCLI(t, append([]string{"synth", "--quiet", "-o", t.TempDir()}, tt.args...)...)
		cmd.Env = append(cmd.Env, tt.env...)
		out, err := cmd.CombinedOutput()
		if err == nil {
			t.Errorf("cdk synth %v succeeded, want a failure", tt.args)
		}
		if !strings.Contains(string(out), tt.want) {
			t.Errorf("cdk synth %v output lacks %q:\n%s", tt.args, tt.want, out)
		}
		if strings.Contains(string(out), "goroutine ") || strings.Contains(string(out), "panic") || strings.Contains(string(out), "    at ") {
			t.Errorf("cdk synth %v printed a stack trace:\n%s", tt.args, out)
		}
	}
}

// TestMakeDeployUnattended: in CI (CI=true) or with APPROVE=never, make
// deploy passes --require-approval never, and FORCE=1 destroys without a
// question; every deploy writes the stage's outputs file; in a terminal
// nothing is skipped.
func TestMakeDeployUnattended(t *testing.T) {
	dryRun := func(env []string, args ...string) string {
		t.Helper()
		cmd := exec.Command("make", append([]string{"-n"}, args...)...)
		cmd.Dir = ".."
		// A parent make (make test) passes its flags and variables down
		// through MAKEFLAGS; the dry run must see only what the case sets.
		cmd.Env = append(environWithout("CI", "APPROVE", "FORCE", "STAGE", "MAKEFLAGS", "MFLAGS", "MAKELEVEL"), env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("make -n %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	for _, tt := range []struct {
		env        []string
		args       []string
		want, deny string
	}{
		{[]string{"CI=true"}, []string{"deploy", "STAGE=prod"}, "--require-approval never", ""},
		{[]string{"APPROVE=never"}, []string{"deploy", "STAGE=dev"}, "--require-approval never", ""},
		{[]string{"CI=true", "APPROVE="}, []string{"deploy", "STAGE=dev"}, "--require-approval never", ""},
		{[]string{"CI=true", "APPROVE=broadening"}, []string{"deploy", "STAGE=dev"}, "deploy -c stage=dev", "--require-approval"},
		{nil, []string{"deploy", "STAGE=prod"}, "--outputs-file cdk.out/outputs-prod.json", "--require-approval"},
		{nil, []string{"destroy", "STAGE=dev", "FORCE=1"}, "destroy -c stage=dev --force", ""},
		{nil, []string{"destroy", "STAGE=dev"}, "destroy -c stage=dev", "--force"},
	} {
		out := dryRun(tt.env, tt.args...)
		if !strings.Contains(out, tt.want) || tt.deny != "" && strings.Contains(out, tt.deny) {
			t.Errorf("%v make -n %v:\n%s\nwant %q and not %q", tt.env, tt.args, out, tt.want, tt.deny)
		}
	}
}

// environWithout is the test's environment without the named variables.
func environWithout(names ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(names, name) {
			env = append(env, kv)
		}
	}
	return env
}

func TestMakeRefusesToDeployLocal(t *testing.T) {
	for _, target := range []string{"deploy", "diff", "destroy"} {
		cmd := exec.Command("make", "-s", target, "STAGE=local")
		cmd.Dir = ".."
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "the local stage runs only on your laptop") {
			t.Errorf("make %s STAGE=local: err %v, output %q; want a refusal", target, err, out)
		}
	}
}

// makeDev runs `make dev` with extra arguments on free ports until it is
// ready, and returns its output watcher, the printed token and the
// endpoints it wrote. The process group is stopped with Ctrl-C at the end.
func makeDev(t *testing.T, args ...string) (*logWatcher, string, map[string]endpoint) {
	t.Helper()
	addr, issuerAddr := testutil.FreeAddr(t), testutil.FreeAddr(t)
	cmd := exec.Command("make", append([]string{"-s", "dev", "ADDR=" + addr, "ISSUER_ADDR=" + issuerAddr}, args...)...)
	cmd.Dir = ".."
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // Ctrl-C goes to the whole group, as in a terminal
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			t.Error("make dev did not stop within 15 s of Ctrl-C")
		}
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			t.Errorf("the gateway still listens after Ctrl-C")
		}
	})
	w := watchLines(out)
	w.waitFor(t, 0, "Ready in", 6*time.Minute)
	token := ""
	w.mu.Lock()
	for _, l := range w.lines {
		if _, tok, ok := strings.Cut(l, "export TOKEN="); ok {
			token = tok
		}
	}
	w.mu.Unlock()
	var e map[string]endpoint
	b, err := os.ReadFile(filepath.Join("..", ".local", "endpoints.json"))
	if err == nil {
		err = json.Unmarshal(b, &e)
	}
	if err != nil {
		t.Fatalf(".local/endpoints.json: %v", err)
	}
	for _, ep := range e {
		if !strings.HasPrefix(ep.URL, "http://127.0.0.1:") {
			t.Fatalf("endpoint %+v", ep)
		}
	}
	return w, token, e
}

// endpoint is an entry of .local/endpoints.json.
type endpoint struct{ URL, Kind, Name string }

// urlOf finds the URL of the API of a kind.
func urlOf(t *testing.T, e map[string]endpoint, kind string) string {
	t.Helper()
	for _, ep := range e {
		if ep.Kind == kind {
			return ep.URL
		}
	}
	t.Fatalf("no %s API in %v", kind, e)
	return ""
}

// TestMakeDev runs the README's main command as a newcomer would, on free
// ports: the local stage's HTTP and REST APIs, the embedded issuer, the
// printed token; then Ctrl-C.
func TestMakeDev(t *testing.T) {
	_, tok, e := makeDev(t)
	if len(e) != 2 {
		t.Fatalf("endpoints %v, want the HTTP and the REST API", e)
	}
	httpURL, restURL := urlOf(t, e, "http"), urlOf(t, e, "rest")
	call := func(method, url, tok string) int {
		req, _ := http.NewRequest(method, url, nil)
		if tok != "" {
			req.Header.Set("authorization", "Bearer "+tok)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	for _, c := range []struct {
		method, url, tok string
		want             int
	}{
		{"GET", httpURL + "public", "", 200}, {"GET", httpURL + "private", "", 401}, {"GET", httpURL + "private", tok, 200},
		{"GET", httpURL + "me", tok, 200}, {"DELETE", httpURL + "users/1", tok, 200}, {"DELETE", httpURL + "users/1", "", 401},
		{"GET", restURL + "public", "", 200}, {"GET", restURL + "private", "", 401}, {"GET", restURL + "private", tok, 200},
		{"DELETE", restURL + "users/1", tok, 200},
	} {
		if got := call(c.method, c.url, c.tok); got != c.want {
			t.Errorf("%s %s: %d, want %d", c.method, c.url, got, c.want)
		}
	}
}

// TestMakeDevOtherStage serves the dev stage: its two stacks, selected by
// their stage mark, with its (unreachable here) Auth0 issuer: private
// routes fail closed.
func TestMakeDevOtherStage(t *testing.T) {
	w, _, e := makeDev(t, "STAGE=dev")
	if len(e) != 2 {
		t.Fatalf("endpoints %v, want the dev stage's HTTP and REST API", e)
	}
	w.waitFor(t, 0, "issuer     https://your-tenant.us.auth0.com/ (tokens verified against its discovery document", time.Second)
	for _, c := range []struct {
		url  string
		want int
	}{{urlOf(t, e, "http") + "public", 200}, {urlOf(t, e, "http") + "private", 401}, {urlOf(t, e, "rest") + "public", 200}} {
		res, err := http.Get(c.url)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != c.want {
			t.Errorf("GET %s: %d, want %d", c.url, res.StatusCode, c.want)
		}
	}
}

// TestMakeSmokeLocal runs `make smoke STAGE=local` against `make dev`, as
// after a deploy: every private route answers 401 without a token, the
// routes answer a token minted for them, and it says what it skipped; a
// token without scopes is predicted 403 on the scoped routes; a bad token
// fails it.
func TestMakeSmokeLocal(t *testing.T) {
	makeDev(t)
	smoke := func(env ...string) (string, error) {
		cmd := exec.Command("make", "-s", "smoke", "STAGE=local")
		cmd.Dir = ".."
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := smoke()
	if err != nil || !strings.Contains(out, "12 passed, 0 failed, 4 skipped") {
		t.Errorf("make smoke STAGE=local: %v\n%s", err, out)
	}
	for _, want := range []string{
		"ok   jwt-api-local GET /public (public): GET http://", "ok   jwt-api-local POST /admin without a token", "→ 401",
		"ok   jwt-api-local GET /private with the token", "ok   jwt-api-rest-local GET /private with the token",
		"ok   jwt-api-rest-local DELETE /users/{id} without a token",
		"skip jwt-api-local POST /admin with the token: a POST could change data",
		"skip jwt-api-local GET /machine/status with the token: the route trusts http://",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("make smoke output lacks %q:\n%s", want, out)
		}
	}
	// A token without scopes, from jwtapi token (which finds the running dev).
	tok := exec.Command("go", "run", "./cmd/jwtapi", "token", "--scope", "")
	tok.Dir = ".."
	minted, err := tok.Output()
	if err != nil {
		t.Fatalf("jwtapi token: %v", err)
	}
	out, err = smoke("TOKEN=" + strings.TrimSpace(string(minted)))
	if err != nil || !strings.Contains(out, "ok   jwt-api-local GET /private with the token (it lacks the scopes read:user)") || !strings.Contains(out, "→ 403") {
		t.Errorf("make smoke with a token without scopes: %v\n%s", err, out)
	}
	out, err = smoke("TOKEN=not.a.token")
	if err == nil || !strings.Contains(out, "FAIL jwt-api-local GET /private with the token") {
		t.Errorf("make smoke with a bad token passed:\n%s", out)
	}
}

// TestCLISynthSkipsAnUnchangedSynth: a second `cdk synth` with nothing
// changed keeps the assembly (and says so); a changed context, a changed
// environment variable the app reads, or a damaged assembly each make a
// full synth again, with the change in the template.
func TestCLISynthSkipsAnUnchangedSynth(t *testing.T) {
	out := t.TempDir()
	synth := func(env []string, args ...string) string {
		t.Helper()
		cmd := cdkCLI(t, append([]string{"synth", "-c", "stage=dev", "--quiet", "-o", out}, args...)...)
		cmd.Env = append(cmd.Env, env...)
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("cdk synth: %v\n%s", err, b)
		}
		return string(b)
	}
	template := func() string {
		b, _ := os.ReadFile(filepath.Join(out, "JwtApi-dev.template.json"))
		return string(b)
	}
	const kept = "jwtapi: nothing changed since the last synth"
	if o := synth(nil); strings.Contains(o, kept) {
		t.Fatalf("the first synth was skipped:\n%s", o)
	}
	first := template()
	if o := synth(nil); !strings.Contains(o, kept) || template() != first {
		t.Errorf("an unchanged synth was not skipped (or changed the template):\n%s", o)
	}
	if o := synth(nil, "-c", "audience=https://changed.example.com"); strings.Contains(o, kept) || !strings.Contains(template(), "https://changed.example.com") {
		t.Errorf("a changed context did not synthesize again:\n%s", o)
	}
	if o := synth([]string{"AUTH0_DOMAIN=other-tenant.eu.auth0.com"}); strings.Contains(o, kept) || !strings.Contains(template(), "https://other-tenant.eu.auth0.com/") {
		t.Errorf("a changed AUTH0_DOMAIN did not synthesize again:\n%s", o)
	}
	os.WriteFile(filepath.Join(out, "JwtApi-dev.template.json"), []byte("{}"), 0o644)
	if o := synth([]string{"AUTH0_DOMAIN=other-tenant.eu.auth0.com"}); strings.Contains(o, kept) || !strings.Contains(template(), "other-tenant") {
		t.Errorf("a damaged assembly was kept:\n%s", o)
	}
	if o := synth([]string{"AUTH0_DOMAIN=other-tenant.eu.auth0.com", "JWTAPI_SYNTH_CACHE=off"}); strings.Contains(o, kept) {
		t.Errorf("JWTAPI_SYNTH_CACHE=off still skipped:\n%s", o)
	}
}
