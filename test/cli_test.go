package test

import (
	"bufio"
	"bytes"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jwtapi/jwtapi/internal/testutil"
)

// cdkCLI returns the pinned CDK CLI, with PATH set as the Makefile sets it.
func cdkCLI(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(root, "node_modules", ".bin")
	if _, err := os.Stat(filepath.Join(bin, "cdk")); err != nil {
		t.Fatalf("the pinned CDK CLI is not installed (%v): run `make test`, which runs npm ci first", err)
	}
	cmd := exec.Command(filepath.Join(bin, "cdk"), append([]string{"--no-notices"}, args...)...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), "CDK_DISABLE_CLI_TELEMETRY=true")
	return cmd
}

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
	want, err := os.ReadFile(filepath.Join("testdata", "local.template.json"))
	if err != nil {
		t.Fatal(err)
	}
	if g := normalize(t, got); !bytes.Equal(g, want) {
		t.Errorf("cdk synth output differs from the snapshot:\n%s", lineDiff(string(want), string(g)))
	}
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

// TestMakeDev runs the README's main command as a newcomer would, on free
// ports: synth of the local stage, the embedded issuer, the local gateway,
// the printed token; then Ctrl-C.
func TestMakeDev(t *testing.T) {
	addr, issuerAddr := testutil.FreeAddr(t), testutil.FreeAddr(t)
	cmd := exec.Command("make", "-s", "dev")
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "ADDR="+addr, "ISSUER_ADDR="+issuerAddr)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // Ctrl-C goes to the whole group, as in a terminal
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	token := make(chan string, 1)
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if _, tok, ok := strings.Cut(sc.Text(), "export TOKEN="); ok {
				token <- tok
			}
			if strings.HasPrefix(sc.Text(), "Ready in") {
				close(ready)
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(5 * time.Minute):
		t.Fatalf("make dev not ready after 5 minutes:\n%s", stderr.String())
	}
	tok := <-token
	get := func(method, path, tok string) int {
		req, _ := http.NewRequest(method, "http://"+addr+path, nil)
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
		method, path, tok string
		want              int
	}{
		{"GET", "/public", "", 200}, {"GET", "/private", "", 401}, {"GET", "/private", tok, 200},
		{"GET", "/me", tok, 200}, {"DELETE", "/users/1", tok, 200}, {"DELETE", "/users/1", "", 401},
	} {
		if got := get(c.method, c.path, c.tok); got != c.want {
			t.Errorf("%s %s: %d, want %d", c.method, c.path, got, c.want)
		}
	}
	syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		t.Fatal("make dev did not stop within 15 s of Ctrl-C")
	}
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Errorf("the gateway still listens after Ctrl-C")
	}
}
