package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/jwtapi/jwtapi/internal/proc"
	"github.com/jwtapi/jwtapi/internal/testutil"
)

// cdkOut writes a cloud assembly holding the real local-stage templates
// (the snapshots the test package keeps current: an HTTP API and a REST
// API), trusting the issuer at issuerURL.
func cdkOut(t *testing.T, issuerURL string) string {
	t.Helper()
	dir := t.TempDir()
	artifacts := map[string]any{}
	for stack, file := range map[string]string{"JwtApi-local": "local.template.json", "JwtRestApi-local": "local.rest.template.json"} {
		tpl, err := os.ReadFile(filepath.Join("..", "..", "test", "testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		tpl = bytes.ReplaceAll(tpl, []byte("http://127.0.0.1:4000/"), []byte(issuerURL))
		os.WriteFile(filepath.Join(dir, stack+".template.json"), tpl, 0o644)
		artifacts[stack] = map[string]any{"type": "aws:cloudformation:stack", "properties": map[string]any{"templateFile": stack + ".template.json"}}
	}
	manifest, _ := json.Marshal(map[string]any{"version": "54.0.0", "artifacts": artifacts})
	os.WriteFile(filepath.Join(dir, "manifest.json"), manifest, 0o644)
	return dir
}

func buildCommand(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "jwtapi")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// started is a running jwtapi and what it printed until ready.
type started struct {
	cmd    *exec.Cmd
	banner string
	stderr *bytes.Buffer
	lines  chan string
}

// serve runs the built command until its banner says it is ready.
func serve(t *testing.T, bin string, args ...string) *started {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"dev"}, args...)...)
	stdout, _ := cmd.StdoutPipe()
	s := &started{cmd: cmd, stderr: &bytes.Buffer{}, lines: make(chan string, 1000)}
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			select {
			case s.lines <- sc.Text():
			default: // nobody reads: jwtapi must never block on its output here
			}
		}
		close(s.lines)
	}()
	var banner strings.Builder
	deadline := time.After(3 * time.Minute)
	for {
		select {
		case l, ok := <-s.lines:
			if !ok {
				t.Fatalf("jwtapi exited before it was ready:\n%s\n%s", banner.String(), s.stderr.String())
			}
			banner.WriteString(l + "\n")
			if strings.HasPrefix(l, "Ready in") {
				s.banner = banner.String()
				return s
			}
		case <-deadline:
			t.Fatalf("not ready after 3 minutes:\n%s", banner.String())
		}
	}
}

// call sends a request and returns the status and body.
func call(t *testing.T, method, url, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	if token != "" {
		req.Header.Set("authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// endpoints reads <state>/endpoints.json.
func endpoints(t *testing.T, state string) map[string]map[string]any {
	t.Helper()
	var e map[string]map[string]any
	b, err := os.ReadFile(filepath.Join(state, "endpoints.json"))
	if err == nil {
		err = json.Unmarshal(b, &e)
	}
	if err != nil {
		t.Fatalf("endpoints.json: %v", err)
	}
	return e
}

func TestServeThenCtrlCLeavesNothingBehind(t *testing.T) {
	bin := buildCommand(t)
	addr, issuerAddr, state := testutil.FreeAddr(t), testutil.FreeAddr(t), t.TempDir()
	host, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	restAddr := net.JoinHostPort(host, strconv.Itoa(p+1))
	s := serve(t, bin, "--addr", addr, "--issuer-addr", issuerAddr, "--cdk-out", cdkOut(t, "http://"+issuerAddr+"/"), "--state", state, "--synth", "never")
	squeezed := strings.Join(strings.Fields(s.banner), " ")
	for _, want := range []string{
		"jwt-api-local (HTTP API) http://" + addr + "/", "jwt-api-rest-local (REST API, stage local) http://" + restAddr + "/local/",
		"GET /private jwt (users; one of: read:user)", "GET /machine/status jwt (machines; one of: jwtapi/status.read)", "GET /public public", "DELETE /users/{id} lambda authorizer (lambda-users)",
		"GET /private jwt (jwt; one of: read:user) functions/rest", "DELETE /users/{id} token authorizer (lambda-jwt) functions/rest",
		"issuer http://" + issuerAddr + "/ (embedded", "export TOKEN=", `curl -s http://` + addr + `/private -H "authorization: Bearer $TOKEN"`,
		`curl -s http://` + restAddr + `/local/private -H "authorization: Bearer $TOKEN"`} {
		if !strings.Contains(squeezed, want) {
			t.Errorf("banner lacks %q:\n%s", want, s.banner)
		}
	}
	e := endpoints(t, state)
	if e["JwtApi-local/Api9AF3637B"]["url"] != "http://"+addr+"/" || e["JwtApi-local/Api9AF3637B"]["kind"] != "http" ||
		e["JwtRestApi-local/RestApiFA9A4412"]["url"] != "http://"+restAddr+"/local/" || e["JwtRestApi-local/RestApiFA9A4412"]["kind"] != "rest" ||
		e["JwtRestApi-local/RestApiFA9A4412"]["name"] != "jwt-api-rest-local" {
		t.Errorf("endpoints.json = %v", e)
	}
	// The printed token works, as pasted, on both APIs.
	tok := ""
	for _, l := range strings.Split(s.banner, "\n") {
		if _, after, ok := strings.Cut(l, "export TOKEN="); ok {
			tok = after
		}
	}
	var me map[string]any
	status, body := call(t, "GET", "http://"+addr+"/me", tok)
	json.Unmarshal([]byte(body), &me)
	if status != 200 || me["subject"] != "auth0|admin" {
		t.Errorf("GET /me with the banner's token: %d %v", status, me)
	}
	for _, c := range []struct {
		method, url, token string
		want               int
	}{
		{"DELETE", "http://" + addr + "/users/7", tok, 200},
		{"GET", "http://" + restAddr + "/local/private", tok, 200},
		{"DELETE", "http://" + restAddr + "/local/users/7", tok, 200},
		{"GET", "http://" + restAddr + "/local/private", "", 401},
		{"GET", "http://" + restAddr + "/local/public", "", 200},
	} {
		if status, body := call(t, c.method, c.url, c.token); status != c.want {
			t.Errorf("%s %s: %d %s, want %d", c.method, c.url, status, body, c.want)
		}
	}
	// Client credentials through the embedded issuer, then the API.
	res, err := http.PostForm("http://"+issuerAddr+"/oauth/token", url.Values{"grant_type": {"client_credentials"},
		"client_id": {"local-machine"}, "client_secret": {"local-machine-secret"}, "audience": {"https://api.jwtapi.local"}})
	if err != nil {
		t.Fatal(err)
	}
	var tr map[string]any
	json.NewDecoder(res.Body).Decode(&tr)
	res.Body.Close()
	if status, _ := call(t, "GET", "http://"+addr+"/private", tr["access_token"].(string)); status != 200 {
		t.Errorf("GET /private with a client-credentials token: %d", status)
	}

	kids := proc.Descendants(s.cmd.Process.Pid)
	if len(kids) < 4 {
		t.Errorf("%d handler processes, want several", len(kids))
	}
	s.cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit after Ctrl-C: %v\n%s", err, s.stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("jwtapi did not stop within 10 s of Ctrl-C")
	}
	for _, pid := range kids {
		if proc.Alive(pid) {
			t.Errorf("handler process %d survived Ctrl-C", pid)
		}
	}
	for _, a := range []string{addr, restAddr, issuerAddr} {
		if c, err := net.Dial("tcp", a); err == nil {
			c.Close()
			t.Errorf("%s still accepts connections", a)
		}
	}
}

// TestExternalLoopbackIssuer: an app trusting another OIDC server on
// loopback (a local Keycloak, say) is served against that server; no
// embedded issuer runs, and tokens it signs pass both APIs.
func TestExternalLoopbackIssuer(t *testing.T) {
	bin := buildCommand(t)
	k := testutil.Keys()
	iss := testutil.NewIssuer(t, testutil.RSAJWK("ext", k.A))
	addr, issuerAddr, state := testutil.FreeAddr(t), testutil.FreeAddr(t), t.TempDir()
	s := serve(t, bin, "--addr", addr, "--issuer-addr", issuerAddr, "--cdk-out", cdkOut(t, iss.URL()), "--state", state, "--synth", "never")
	if !strings.Contains(s.banner, "issuer     "+iss.URL()+" (tokens verified against its discovery document") || strings.Contains(s.banner, "(embedded") {
		t.Errorf("banner:\n%s", s.banner)
	}
	// The machines pool's issuer (this server, path /local_machines) does
	// not answer: the warning names the address for --issuer-addr, no path.
	host := strings.TrimSuffix(strings.TrimPrefix(iss.URL(), "http://"), "/")
	hint := "run with --issuer-addr " + host + "\n"
	seen := s.banner
	for deadline := time.After(10 * time.Second); !strings.Contains(seen, hint); {
		select {
		case l := <-s.lines:
			seen += l + "\n"
		case <-deadline:
			t.Fatalf("no warning ending %q for the pool issuer that does not answer; output:\n%s", hint, seen)
		}
	}
	if c, err := net.Dial("tcp", issuerAddr); err == nil {
		c.Close()
		t.Errorf("an embedded issuer listens on %s although no API trusts it", issuerAddr)
	}
	tok := testutil.SignJWT(t, jwt.SigningMethodRS256, map[string]any{"kid": "ext"}, k.A, jwt.MapClaims{
		"iss": iss.URL(), "aud": "https://api.jwtapi.local", "sub": "kc|ada", "scope": "read:user", "permissions": []string{"delete:user"},
		"email_verified": true, "exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix()})
	e := endpoints(t, state)
	rest := e["JwtRestApi-local/RestApiFA9A4412"]["url"].(string)
	for _, c := range []struct {
		method, url string
		want        int
	}{
		{"GET", "http://" + addr + "/private", 200}, {"DELETE", "http://" + addr + "/users/1", 200},
		{"GET", rest + "private", 200}, {"DELETE", rest + "users/1", 200},
	} {
		if status, body := call(t, c.method, c.url, tok); status != c.want {
			t.Errorf("%s %s: %d %s, want %d", c.method, c.url, status, body, c.want)
		}
	}
	forged := testutil.SignJWT(t, jwt.SigningMethodRS256, map[string]any{"kid": "ext"}, k.Attacker, jwt.MapClaims{
		"iss": iss.URL(), "aud": "https://api.jwtapi.local", "sub": "x", "scope": "read:user", "exp": time.Now().Add(time.Hour).Unix()})
	if status, _ := call(t, "GET", "http://"+addr+"/private", forged); status != 401 {
		t.Errorf("a token signed by another key: %d, want 401", status)
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"help"}, {"init", "--help"}, {"dev", "--help"}, {"token", "--help"}, {"explain", "--help"},
		{"smoke", "--help"}, {"rotate", "--help"}, {"issuer", "-h"}} {
		var out, errb bytes.Buffer
		err := run(args, &out, &errb)
		if err != nil && !errors.Is(err, flag.ErrHelp) {
			t.Errorf("%v: %v", args, err)
		}
		// Help asked for goes to standard output, to be paged.
		if text := out.String(); !strings.Contains(text, "jwtapi") || len(text) < 100 || errb.Len() > 0 {
			t.Errorf("%v printed too little help on stdout:\n%s\nstderr: %s", args, text, errb.String())
		}
	}
	var out, errb bytes.Buffer
	if err := run([]string{"bogus"}, &out, &errb); err == nil || !strings.Contains(err.Error(), `unknown command "bogus"; the commands are init, dev, token, explain, smoke, issuer, rotate`) {
		t.Errorf("unknown command: %v", err)
	}
	for _, cmd := range []string{"dev", "token", "smoke", "init"} {
		if err := run([]string{cmd, "extra"}, &out, &errb); err == nil || !strings.Contains(err.Error(), cmd+` takes flags only, not "extra"`) {
			t.Errorf("%s with a stray argument: %v", cmd, err)
		}
	}
	if err := run(nil, &out, &errb); err == nil || !strings.Contains(err.Error(), "say which command") {
		t.Errorf("no command: %v", err)
	}
}

// TestHelpExitsZero: --help of every command exits 0, as a shell sees it.
func TestHelpExitsZero(t *testing.T) {
	bin := buildCommand(t)
	for _, cmd := range append([]string{""}, commandOrder...) {
		args := []string{"--help"}
		if cmd != "" {
			args = []string{cmd, "--help"}
		}
		if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
			t.Errorf("jwtapi %s --help: %v\n%s", cmd, err, out)
		}
	}
}

func TestServeExplainsWhatToRun(t *testing.T) {
	var out, errb bytes.Buffer
	state := t.TempDir()
	err := run([]string{"dev", "--cdk-out", t.TempDir(), "--stage", "local", "--synth", "never", "--state", state}, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "run `make synth STAGE=local` first") {
		t.Errorf("missing cdk.out: %v", err)
	}
	dir := cdkOut(t, "http://127.0.0.1:4000/")
	err = run([]string{"dev", "--cdk-out", dir, "--stage", "prod", "--synth", "never", "--state", state}, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), `no stack is marked with stage "prod" or has it in its name; it holds JwtApi-local (stage local), JwtRestApi-local (stage local): pick stacks with --stack NAME`) {
		t.Errorf("wrong stage: %v", err)
	}
	err = run([]string{"dev", "--cdk-out", dir, "--stack", "JwtApi", "--synth", "never", "--state", state}, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), `no stack named "JwtApi"`) {
		t.Errorf("wrong stack: %v", err)
	}
	err = run([]string{"dev", "--cdk-out", dir, "--synth", "sometimes", "--state", state}, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "--synth") {
		t.Errorf("bad --synth: %v", err)
	}
}

func TestTokenAndRotate(t *testing.T) {
	state := t.TempDir()
	assembly := cdkOut(t, "http://127.0.0.1:4000/")
	mint := func(args ...string) map[string]any {
		var out, errb bytes.Buffer
		if err := run(append([]string{"token", "--state", state, "--cdk-out", assembly}, args...), &out, &errb); err != nil {
			t.Fatal(err, errb.String())
		}
		parts := strings.Split(strings.TrimSpace(out.String()), ".")
		if len(parts) != 3 {
			t.Fatalf("not a JWT: %q", out.String())
		}
		hdr, _ := base64.RawURLEncoding.DecodeString(parts[0])
		body, _ := base64.RawURLEncoding.DecodeString(parts[1])
		var h, c map[string]any
		json.Unmarshal(hdr, &h)
		json.Unmarshal(body, &c)
		c["_kid"] = h["kid"]
		return c
	}
	c := mint("--sub", "auth0|me", "--scope", "read:user write:user", "--claim", "email_verified=true", "--claim", `roles=["admin"]`)
	if c["sub"] != "auth0|me" || c["scope"] != "read:user write:user" || c["email_verified"] != true || c["iss"] != "http://127.0.0.1:4000/" {
		t.Errorf("claims %v", c)
	}
	if c["aud"] != "https://api.jwtapi.local" {
		t.Errorf("default audience %v, want the served APIs' audience", c["aud"])
	}
	if aud, ok := mint("--aud", "")["aud"]; ok {
		t.Errorf("--aud '' gave aud %v, want none", aud)
	}
	if aud := mint("--aud", "a,b")["aud"]; fmt.Sprint(aud) != "[a b]" {
		t.Errorf("--aud a,b gave %v", aud)
	}
	if exp := c["exp"].(float64); exp < float64(time.Now().Unix()) {
		t.Errorf("fresh token already expired")
	}
	if exp := mint("--expired")["exp"].(float64); exp >= float64(time.Now().Unix()) {
		t.Errorf("--expired token expires in the future")
	}
	if nbf, _ := mint("--not-before", "10m")["nbf"].(float64); nbf <= float64(time.Now().Unix()) {
		t.Errorf("--not-before gave nbf %v", nbf)
	}
	var out, errb bytes.Buffer
	if err := run([]string{"rotate", "--state", state, "--grace", "1h"}, &out, &errb); err != nil || !strings.Contains(out.String(), "stays published for 1h0m0s") {
		t.Fatalf("rotate: %v %s", err, out.String())
	}
	if after := mint(); after["_kid"] == c["_kid"] {
		t.Errorf("after rotation tokens still carry kid %v", c["_kid"])
	}
}

// TestSmokeAgainstOutputs runs jwtapi smoke as after a deploy: the routes
// from the synthesized templates, each API's URL from the stack output
// that refers to it (here the local gateway stands in for API Gateway).
func TestSmokeAgainstOutputs(t *testing.T) {
	bin := buildCommand(t)
	addr, issuerAddr, state := testutil.FreeAddr(t), testutil.FreeAddr(t), t.TempDir()
	assembly := cdkOut(t, "http://"+issuerAddr+"/")
	s := serve(t, bin, "--addr", addr, "--issuer-addr", issuerAddr, "--cdk-out", assembly, "--state", state, "--synth", "never")
	tok := ""
	for _, l := range strings.Split(s.banner, "\n") {
		if _, after, ok := strings.Cut(l, "export TOKEN="); ok {
			tok = after
		}
	}
	rest := endpoints(t, state)["JwtRestApi-local/RestApiFA9A4412"]["url"].(string)
	outputs := filepath.Join(t.TempDir(), "outputs.json")
	smoke := func(args ...string) (string, error) {
		var out, errb bytes.Buffer
		err := run(append([]string{"smoke", "--outputs", outputs, "--cdk-out", assembly, "--state", t.TempDir()}, args...), &out, &errb)
		return out.String() + errb.String(), err
	}
	// The REST stack was deployed without an output of its URL.
	os.WriteFile(outputs, []byte(`{"JwtApi-local": {"ApiEndpoint": "http://`+addr+`/"}, "JwtRestApi-local": {"Other": "x"}}`), 0o644)
	out, err := smoke("--token", tok)
	if err != nil || !strings.Contains(out, "skip jwt-api-rest-local (rest API, JwtRestApi-local/RestApiFA9A4412): its stack has no output with its URL") {
		t.Errorf("smoke with the REST URL missing: %v\n%s", err, out)
	}
	for _, want := range []string{"ok   jwt-api-local DELETE /users/{id} without a token: DELETE http://" + addr + "/users/smoke → 401",
		"ok   jwt-api-local GET /me with the token: GET http://" + addr + "/me → 200", "ok   jwt-api-local GET /public (public)"} {
		if !strings.Contains(out, want) {
			t.Errorf("smoke output lacks %q:\n%s", want, out)
		}
	}
	// Both deployed with their outputs: the REST API is checked too.
	os.WriteFile(outputs, []byte(`{"JwtApi-local": {"ApiEndpoint": "http://`+addr+`/"}, "JwtRestApi-local": {"RestApiEndpoint": "`+rest+`"}}`), 0o644)
	out, err = smoke("--token", tok)
	if err != nil || !strings.Contains(out, "ok   jwt-api-rest-local GET /private with the token: GET "+rest+"private → 200") || !strings.Contains(out, " 0 failed, ") {
		t.Errorf("smoke of both APIs: %v\n%s", err, out)
	}
	// No token: the checks that need one are skipped, saying so.
	out, err = smoke("--token", "")
	if err != nil || !strings.Contains(out, "skip the with-token checks: no token") || strings.Contains(out, "with the token:") {
		t.Errorf("smoke without a token: %v\n%s", err, out)
	}
	// A token of another key fails the with-token checks, exit status 1.
	k := testutil.Keys()
	forged := testutil.SignJWT(t, jwt.SigningMethodRS256, map[string]any{"kid": "x"}, k.Attacker, jwt.MapClaims{
		"iss": "http://" + issuerAddr + "/", "aud": "https://api.jwtapi.local", "scope": "read:user", "exp": time.Now().Add(time.Hour).Unix()})
	out, err = smoke("--token", forged)
	var code exitCode
	if !errors.As(err, &code) || code != 1 || !strings.Contains(out, "FAIL jwt-api-local GET /private with the token: GET http://"+addr+"/private answered 401") {
		t.Errorf("smoke with a forged token: %v\n%s", err, out)
	}
	// Outputs of another app.
	os.WriteFile(outputs, []byte(`{"Billing": {"Url": "https://x/"}}`), 0o644)
	if _, err := smoke(); err == nil || !strings.Contains(err.Error(), "names none of the stacks of") {
		t.Errorf("outputs of another app: %v", err)
	}
	if _, err := smoke("--local"); err == nil || !strings.Contains(err.Error(), "--outputs and --local") {
		t.Errorf("--outputs with --local: %v", err)
	}
}

// TestTokenFindsTheRunningDev: without --issuer-addr, token signs for the
// issuer of the running dev (its dev.json), else for the one loopback
// issuer the synthesized app trusts, else fails saying what to do.
func TestTokenFindsTheRunningDev(t *testing.T) {
	t.Setenv("ISSUER_ADDR", "")
	iss := func(args ...string) (string, error) {
		var out, errb bytes.Buffer
		err := run(append([]string{"token"}, args...), &out, &errb)
		if err != nil {
			return "", err
		}
		body, _ := base64.RawURLEncoding.DecodeString(strings.Split(strings.TrimSpace(out.String()), ".")[1])
		var c map[string]any
		json.Unmarshal(body, &c)
		return fmt.Sprint(c["iss"]), nil
	}
	state := t.TempDir()
	assembly := cdkOut(t, "http://127.0.0.1:4555/")
	if got, err := iss("--state", state, "--cdk-out", assembly); err != nil || got != "http://127.0.0.1:4555/" {
		t.Errorf("no dev running: iss %q, %v; want the app's loopback issuer", got, err)
	}
	// A running dev (this process stands in for it) on another address.
	writeDevState(state, devState{PID: os.Getpid(), Issuer: "http://127.0.0.1:4777/", IssuerAddr: "127.0.0.1:4777", CDKOut: assembly})
	if got, err := iss("--state", state); err != nil || got != "http://127.0.0.1:4777/" {
		t.Errorf("with a running dev: iss %q, %v; want the dev's issuer", got, err)
	}
	if got, err := iss("--state", state, "--issuer-addr", "127.0.0.1:4888"); err != nil || got != "http://127.0.0.1:4888/" {
		t.Errorf("--issuer-addr given: iss %q, %v", got, err)
	}
	// ISSUER_ADDR of the shell (make exports such variables) does not
	// override the running dev, only stands in for it.
	t.Setenv("ISSUER_ADDR", "127.0.0.1:4999")
	if got, err := iss("--state", state); err != nil || got != "http://127.0.0.1:4777/" {
		t.Errorf("with a running dev and ISSUER_ADDR: iss %q, %v; want the dev's issuer", got, err)
	}
	if got, err := iss("--state", t.TempDir(), "--cdk-out", assembly); err != nil || got != "http://127.0.0.1:4999/" {
		t.Errorf("no dev, ISSUER_ADDR set: iss %q, %v", got, err)
	}
	t.Setenv("ISSUER_ADDR", "")
	// A dev that has stopped is not taken for a running one.
	writeDevState(state, devState{PID: 1 << 22, IssuerAddr: "127.0.0.1:4777", CDKOut: assembly})
	if got, err := iss("--state", state, "--cdk-out", assembly); err != nil || got != "http://127.0.0.1:4555/" {
		t.Errorf("with a stale dev.json: iss %q, %v", got, err)
	}
	// No dev and an app that trusts no loopback issuer.
	external := cdkOut(t, "https://example.us.auth0.com/")
	if _, err := iss("--state", t.TempDir(), "--cdk-out", external); err == nil || !strings.Contains(err.Error(), "jwtapi dev is not running in this module") || !strings.Contains(err.Error(), "pass --issuer-addr HOST:PORT") {
		t.Errorf("nothing to sign for: %v", err)
	}
}

// TestExplain checks tokens against the example's HTTP and REST routes
// without starting anything (the embedded issuer's keys come from the
// state folder), and says why each refusal happened, in plain words, with
// API Gateway's answer.
func TestExplain(t *testing.T) {
	t.Setenv("ISSUER_ADDR", "")
	state := t.TempDir()
	assembly := cdkOut(t, "http://127.0.0.1:4555/")
	mint := func(args ...string) string {
		var out, errb bytes.Buffer
		if err := run(append([]string{"token", "--state", state, "--cdk-out", assembly}, args...), &out, &errb); err != nil {
			t.Fatal(err, errb.String())
		}
		return strings.TrimSpace(out.String())
	}
	explain := func(token string, args ...string) (string, error) {
		var out, errb bytes.Buffer
		err := run(append([]string{"explain", "--state", state, "--cdk-out", assembly}, append(args, token)...), &out, &errb)
		return out.String() + errb.String(), err
	}
	k := testutil.Keys()
	foreignKID := testutil.SignJWT(t, jwt.SigningMethodRS256, map[string]any{"kid": "k2"}, k.A, jwt.MapClaims{
		"iss": "http://127.0.0.1:4555/", "aud": "https://api.jwtapi.local", "scope": "read:user", "exp": time.Now().Add(time.Hour).Unix()})
	for _, tt := range []struct {
		name, token, route string
		refused            bool
		want               []string
	}{
		{"valid on HTTP and REST", mint(), "GET /private", false, []string{"allowed  GET /private  (HTTP API jwt-api-local, jwt authorizer users)",
			"allowed  GET /private  (REST API jwt-api-rest-local, jwt authorizer jwt (REST))", "all 2 routes allow the token"}},
		{"expired", mint("--expired"), "GET /private", true, []string{"why: expired 1 min ago (exp ", "API Gateway answers: 401 {\"message\":\"Unauthorized\"}",
			`error_description="the token has expired"`}},
		{"scopes", mint("--scope", "profile email"), "GET /private", true, []string{"why: route wants any of [read:user]; token has [profile email]",
			"API Gateway answers: 403 {\"message\":\"Forbidden\"}", `"error":"Forbidden.","code":"AUTH_ERROR"`}},
		{"an ID token", mint("--aud", "local-cli", "--claim", "nonce=n1", "--scope", ""), "GET /me", true,
			[]string{`why: aud "local-cli" is not one of ["https://api.jwtapi.local"]: this looks like an ID token — ask the issuer for an access token with audience https://api.jwtapi.local`}},
		{"kid", foreignKID, "GET /private", true, []string{`why: kid "k2" is not in the issuer's keys (refetched `}},
		{"trailing slash", mint("--claim", "iss=http://127.0.0.1:4555"), "GET /private", true,
			[]string{`why: iss "http://127.0.0.1:4555" is not "http://127.0.0.1:4555/": the issuer must match exactly, trailing slash included`}},
		{"a rule of the Go Lambda authorizer", mint("--permissions", "read:user"), "DELETE /users/{id}", true, []string{
			"refused  DELETE /users/{id}  (HTTP API jwt-api-local, lambda authorizer lambda-users)", "why: Token lacks the permission delete:user.",
			"refused  DELETE /users/{id}  (REST API jwt-api-rest-local, token authorizer lambda-jwt)", `"code":"ERR_JWT_CLAIM_VALIDATION_FAILED"`}},
		{"not a JWT", "abc", "GET /private", true, []string{"why: not a JWT: it has 1 dot-separated parts, a JWT has 3"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, err := explain(tt.token, "--route", tt.route)
			var code exitCode
			if tt.refused != (errors.As(err, &code) && code == 1) || !tt.refused && err != nil {
				t.Errorf("exit: %v, want refused=%v\n%s", err, tt.refused, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
	if _, err := explain(mint(), "--route", "GET /nowhere"); err == nil || !strings.Contains(err.Error(), `no route "GET /nowhere"`) {
		t.Errorf("an unknown route: %v", err)
	}
	// The token on standard input, every private route: the machines' route
	// trusts the user pool, not this token's issuer.
	var out bytes.Buffer
	old := os.Stdin
	r, w, _ := os.Pipe()
	os.Stdin = r
	fmt.Fprintln(w, mint())
	w.Close()
	err := run([]string{"explain", "--state", state, "--cdk-out", assembly}, &out, &out)
	os.Stdin = old
	if !strings.Contains(out.String(), "refused  GET /machine/status") || !strings.Contains(out.String(), "allowed  GET /me") {
		t.Errorf("every route, token on stdin: %v\n%s", err, out.String())
	}
}
