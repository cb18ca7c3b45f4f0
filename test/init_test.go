package test

import (
	"bytes"
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

	"github.com/jwtapi/jwtapi/internal/proc"
	"github.com/jwtapi/jwtapi/internal/testutil"
)

// scaffoldEnv is a user's shell in the new module: none of this
// repository's make or CI variables (a first snapshot is written, not
// refused as under CI).
func scaffoldEnv() []string {
	return environWithout("CI", "APPROVE", "FORCE", "STAGE", "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "GOFLAGS", "ADDR", "ISSUER_ADDR")
}

// inDir runs a command in dir as the user would and returns its output.
func inDir(t *testing.T, dir string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir, cmd.Env = dir, scaffoldEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s in %s: %v\n%s", name, strings.Join(args, " "), dir, err, out)
	}
	return string(out)
}

// TestInitScaffold is a new user's first hour: jwtapi init in an empty
// folder outside this repository, then in that folder what the README
// says — go mod tidy changes nothing, go vet, make test, go test with
// node_modules present, a synth with the Lambda authorizer, make dev with
// a token from go tool jwtapi token, Ctrl-C — and every command of the
// README's "Reusing the construct" section is among those run here.
func TestInitScaffold(t *testing.T) {
	root, _ := filepath.Abs("..")
	parent := t.TempDir()
	dir := filepath.Join(parent, "acme-orders")
	ran := []string{"go run ./cmd/jwtapi init --dir ../orders", "cd ../orders"}

	// A folder that is not empty is refused in one line.
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o644)
	cmd := exec.Command("go", "run", "./cmd/jwtapi", "init", "--dir", dir)
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "is not empty (it holds notes.txt): run jwtapi init in an empty folder") || strings.Count(strings.TrimSpace(string(out)), "\n") > 1 {
		t.Fatalf("init into a non-empty folder: %v\n%s", err, out)
	}
	os.Remove(filepath.Join(dir, "notes.txt"))

	out2 := inDir(t, root, "go", "run", "./cmd/jwtapi", "init", "--dir", dir)
	for _, want := range []string{"go mod tidy", "make dev", "make test", "go tool jwtapi token"} {
		if !strings.Contains(out2, want) {
			t.Errorf("init's output lacks %q:\n%s", want, out2)
		}
	}
	gomod, _ := os.ReadFile(filepath.Join(dir, "go.mod"))
	for _, want := range []string{"module example.com/acme-orders\n", "replace github.com/jwtapi/jwtapi => " + root, "tool github.com/jwtapi/jwtapi/cmd/jwtapi", "ignore ./node_modules"} {
		if !strings.Contains(string(gomod), want) {
			t.Errorf("go.mod lacks %q:\n%s", want, gomod)
		}
	}

	// go mod tidy: nothing to change.
	before := readAll(t, dir, "go.mod", "go.sum")
	inDir(t, dir, "go", "mod", "tidy")
	ran = append(ran, "go mod tidy")
	if after := readAll(t, dir, "go.mod", "go.sum"); after != before {
		t.Errorf("go mod tidy changed the new module's go.mod or go.sum")
	}
	inDir(t, dir, "go", "vet", "./...")

	// make test installs node_modules (which ships Go files) and passes;
	// go test ./... passes with node_modules there; the first run wrote the
	// snapshots, which the second run compares with.
	mt := inDir(t, dir, "make", "test")
	ran = append(ran, "make test")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", ".bin", "cdk")); err != nil {
		t.Fatalf("make test did not install the CDK CLI: %v\n%s", err, mt)
	}
	for _, stage := range []string{"local", "dev", "prod"} {
		if _, err := os.Stat(filepath.Join(dir, "testdata", stage+".template.json")); err != nil {
			t.Errorf("no snapshot of stage %s after the first make test: %v", stage, err)
		}
	}
	inDir(t, dir, "go", "test", "./...")

	// A synth of a deployable stage, with the Lambda authorizer (the DELETE route's rule).
	inDir(t, dir, "make", "synth", "STAGE=dev")
	ran = append(ran, "make synth STAGE=dev")
	tpl, err := os.ReadFile(filepath.Join(dir, "cdk.out", "AcmeOrders-dev.template.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(tpl), `"AuthorizerType": "REQUEST"`) || !strings.Contains(string(tpl), `"AuthorizerType": "JWT"`) {
		t.Errorf("the dev template lacks the JWT or the Lambda authorizer")
	}

	// make dev; the private route answers 401, then 200 with a token from
	// go tool jwtapi token (no flags); the DELETE route's rule lets it through.
	addr, issuerAddr := testutil.FreeAddr(t), testutil.FreeAddr(t)
	dev := exec.Command("make", "dev", "ADDR="+addr, "ISSUER_ADDR="+issuerAddr)
	dev.Dir, dev.Env = dir, scaffoldEnv()
	dev.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	pipe, _ := dev.StdoutPipe()
	dev.Stderr = dev.Stdout
	if err := dev.Start(); err != nil {
		t.Fatal(err)
	}
	ran = append(ran, "make dev")
	stopped := false
	defer func() {
		if !stopped {
			syscall.Kill(-dev.Process.Pid, syscall.SIGKILL)
			dev.Wait()
		}
	}()
	w := watchLines(pipe)
	w.waitFor(t, 0, "Ready in", 6*time.Minute)
	base := "http://" + addr
	if status, _ := get(t, base+"/items", ""); status != 401 {
		t.Errorf("GET /items without a token: %d, want 401", status)
	}
	token := strings.TrimSpace(inDir(t, dir, "go", "tool", "jwtapi", "token"))
	ran = append(ran, `curl -s http://127.0.0.1:3000/items -H "authorization: Bearer $(go tool jwtapi token)"`)
	if status, body := get(t, base+"/items", token); status != 200 || body["caller"] != "auth0|local-user" {
		t.Errorf("GET /items with go tool jwtapi token: %d %v, want 200 for auth0|local-user", status, body)
	}
	if status, body := get(t, base+"/hello", ""); status != 200 || body["message"] != "Hello, stranger!" {
		t.Errorf("GET /hello: %d %v", status, body)
	}
	req, _ := http.NewRequest("DELETE", base+"/items/3", nil)
	req.Header.Set("authorization", "Bearer "+token)
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 200 {
		t.Errorf("DELETE /items/3 with go tool jwtapi token (permission delete:items): %v %v", res, err)
	}
	noPerm := strings.TrimSpace(inDir(t, dir, "go", "tool", "jwtapi", "token", "--permissions", "read:items"))
	req, _ = http.NewRequest("DELETE", base+"/items/3", nil)
	req.Header.Set("authorization", "Bearer "+noPerm)
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 403 {
		t.Errorf("DELETE /items/3 without the permission: %v %v, want 403", res, err)
	}

	// Ctrl-C leaves no process behind.
	kids := proc.Descendants(dev.Process.Pid)
	syscall.Kill(-dev.Process.Pid, syscall.SIGINT)
	done := make(chan struct{})
	go func() { dev.Wait(); close(done) }()
	select {
	case <-done:
		stopped = true
	case <-time.After(15 * time.Second):
		t.Fatal("make dev did not stop within 15 s of Ctrl-C")
	}
	if len(kids) < 3 {
		t.Errorf("make dev ran %d processes, want the tool and its handlers", len(kids))
	}
	for _, pid := range kids {
		if proc.Alive(pid) {
			t.Errorf("process %d survived Ctrl-C", pid)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, ".local", "dev.json")); err == nil {
		t.Errorf("dev.json is left behind after Ctrl-C")
	}

	// Every command the README's section gives was run above.
	for _, c := range readmeCommands(t, "## Reusing the construct in your own Go CDK app") {
		if !slices.Contains(ran, c) {
			t.Errorf("the README's command %q is not run by this test (it ran %q)", c, ran)
		}
	}
}

// readmeCommands lists the shell commands of a README section's sh blocks,
// without their comments.
func readmeCommands(t *testing.T, heading string) []string {
	t.Helper()
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(data), "\n"+heading+"\n")
	if !ok {
		t.Fatalf("README.md has no section %q", heading)
	}
	if i := strings.Index(section, "\n## "); i >= 0 {
		section = section[:i]
	}
	var out []string
	for _, block := range regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(section, -1) {
		for _, line := range strings.Split(block[1], "\n") {
			if i := strings.Index(line, " #"); i >= 0 {
				line = line[:i]
			}
			if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
				out = append(out, line)
			}
		}
	}
	if len(out) == 0 {
		t.Fatalf("README's section %q has no commands", heading)
	}
	return out
}

func readAll(t *testing.T, dir string, names ...string) string {
	t.Helper()
	var b bytes.Buffer
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		b.Write(data)
	}
	return b.String()
}
