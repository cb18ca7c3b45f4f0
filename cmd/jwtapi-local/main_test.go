package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
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

	"github.com/jwtapi/jwtapi/internal/testutil"
)

// cdkOut writes a cloud assembly holding the real local-stage template (the
// snapshot the test package keeps current), trusting an issuer at issuerAddr.
func cdkOut(t *testing.T, issuerAddr string) string {
	t.Helper()
	tpl, err := os.ReadFile(filepath.Join("..", "..", "test", "testdata", "local.template.json"))
	if err != nil {
		t.Fatal(err)
	}
	tpl = bytes.ReplaceAll(tpl, []byte("http://127.0.0.1:4000/"), []byte("http://"+issuerAddr+"/"))
	dir := t.TempDir()
	manifest := `{"version":"54.0.0","artifacts":{"JwtApi-local":{"type":"aws:cloudformation:stack","properties":{"templateFile":"JwtApi-local.template.json"}}}}`
	os.WriteFile(filepath.Join(dir, "manifest.json"), []byte(manifest), 0o644)
	os.WriteFile(filepath.Join(dir, "JwtApi-local.template.json"), tpl, 0o644)
	return dir
}

func buildCommand(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "jwtapi-local")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// children lists the process's child pids (Linux).
func children(pid int) []int {
	var out []int
	tasks, _ := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/task/*/children")
	for _, f := range tasks {
		b, _ := os.ReadFile(f)
		for _, s := range strings.Fields(string(b)) {
			n, _ := strconv.Atoi(s)
			out = append(out, n)
		}
	}
	return out
}

func TestServeThenCtrlCLeavesNothingBehind(t *testing.T) {
	bin := buildCommand(t)
	addr, issuerAddr := testutil.FreeAddr(t), testutil.FreeAddr(t)
	cmd := exec.Command(bin, "serve", "--addr", addr, "--issuer-addr", issuerAddr, "--cdk-out", cdkOut(t, issuerAddr), "--state", t.TempDir())
	stdout, _ := cmd.StdoutPipe()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := make(chan string, 1000)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var banner strings.Builder
	deadline := time.After(3 * time.Minute)
wait:
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("jwtapi-local exited before it was ready:\n%s\n%s", banner.String(), stderr.String())
			}
			banner.WriteString(l + "\n")
			if strings.HasPrefix(l, "Ready in") {
				break wait
			}
		case <-deadline:
			t.Fatalf("not ready after 3 minutes:\n%s", banner.String())
		}
	}
	b := banner.String()
	squeezed := strings.Join(strings.Fields(b), " ")
	for _, want := range []string{"GET /private jwt (one of: read:user)", "GET /public public", "DELETE /users/{id} lambda authorizer (lambda-jwt)",
		"issuer http://" + issuerAddr + "/ (embedded", "gateway http://" + addr, "export TOKEN=", `curl -s http://` + addr + `/private -H "authorization: Bearer $TOKEN"`} {
		if !strings.Contains(squeezed, want) {
			t.Errorf("banner lacks %q:\n%s", want, b)
		}
	}
	// The printed token works, as pasted.
	tok := ""
	for _, l := range strings.Split(b, "\n") {
		if _, after, ok := strings.Cut(l, "export TOKEN="); ok {
			tok = after
		}
	}
	req, _ := http.NewRequest("GET", "http://"+addr+"/me", nil)
	req.Header.Set("authorization", "Bearer "+tok)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var me map[string]any
	json.NewDecoder(res.Body).Decode(&me)
	res.Body.Close()
	if res.StatusCode != 200 || me["subject"] != "auth0|admin" {
		t.Errorf("GET /me with the banner's token: %d %v", res.StatusCode, me)
	}
	// The banner's token also passes the Lambda authorizer's rule.
	req, _ = http.NewRequest("DELETE", "http://"+addr+"/users/7", nil)
	req.Header.Set("authorization", "Bearer "+tok)
	if res, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("DELETE /users/7 with the banner's token: %d", res.StatusCode)
	}
	// Client credentials through the embedded issuer, then the API.
	res, err = http.PostForm("http://"+issuerAddr+"/oauth/token", url.Values{"grant_type": {"client_credentials"},
		"client_id": {"local-machine"}, "client_secret": {"local-machine-secret"}, "audience": {"https://api.jwtapi.local"}})
	if err != nil {
		t.Fatal(err)
	}
	var tr map[string]any
	json.NewDecoder(res.Body).Decode(&tr)
	res.Body.Close()
	req, _ = http.NewRequest("GET", "http://"+addr+"/private", nil)
	req.Header.Set("authorization", "Bearer "+tr["access_token"].(string))
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("GET /private with a client-credentials token: %d", res.StatusCode)
	}

	kids := children(cmd.Process.Pid)
	if len(kids) < 6 {
		t.Errorf("%d handler processes, want at least one per function", len(kids))
	}
	cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit after Ctrl-C: %v\n%s", err, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("jwtapi-local did not stop within 10 s of Ctrl-C")
	}
	for _, pid := range kids {
		if syscall.Kill(pid, 0) == nil {
			t.Errorf("handler process %d survived Ctrl-C", pid)
		}
	}
	for _, port := range []string{addr, issuerAddr} {
		if c, err := net.Dial("tcp", port); err == nil {
			c.Close()
			t.Errorf("%s still accepts connections", port)
		}
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"serve", "--help"}, {"token", "--help"}, {"rotate", "--help"}, {"issuer", "--help"}} {
		var out, errb bytes.Buffer
		err := run(args, &out, &errb)
		text := out.String() + errb.String()
		if err != nil && err.Error() != "flag: help requested" {
			t.Errorf("%v: %v", args, err)
		}
		if !strings.Contains(text, "jwtapi-local") || len(text) < 100 {
			t.Errorf("%v printed too little help:\n%s", args, text)
		}
	}
}

func TestServeExplainsWhatToRun(t *testing.T) {
	var out, errb bytes.Buffer
	err := run([]string{"serve", "--cdk-out", t.TempDir(), "--stage", "local"}, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "run `make dev STAGE=local`") {
		t.Errorf("missing cdk.out: %v", err)
	}
	dir := cdkOut(t, "127.0.0.1:4000")
	err = run([]string{"serve", "--cdk-out", dir, "--stage", "prod"}, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "holds no stack for stage prod (it holds JwtApi-local)") {
		t.Errorf("wrong stage: %v", err)
	}
	old := time.Now().Add(-24 * time.Hour)
	os.Chtimes(filepath.Join(dir, "JwtApi-local.template.json"), old, old)
	err = run([]string{"serve", "--cdk-out", dir, "--stage", "local"}, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "changed since the last synth") {
		t.Errorf("stale template: %v", err)
	}
	dir = cdkOut(t, "127.0.0.1:4999")
	err = run([]string{"serve", "--cdk-out", dir, "--stage", "local", "--issuer-addr", "127.0.0.1:4000", "--state", t.TempDir()}, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "trusts the issuer http://127.0.0.1:4999/") {
		t.Errorf("issuer address mismatch: %v", err)
	}
}

func TestTokenAndRotate(t *testing.T) {
	state := t.TempDir()
	mint := func(args ...string) map[string]any {
		var out, errb bytes.Buffer
		if err := run(append([]string{"token", "--state", state}, args...), &out, &errb); err != nil {
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
