package test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
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
