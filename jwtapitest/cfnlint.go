package jwtapitest

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// CDKRedundantDependsOn is the reason to give for ignoring cfn-lint's
// W3005: CDK adds DependsOn on a role's policy beside a GetAtt of the
// role, which cfn-lint reports as redundant but is harmless.
const CDKRedundantDependsOn = "CDK writes a DependsOn on a function's role and policy beside the GetAtt of the role; the duplicate ordering is harmless"

// DefaultIgnored are the cfn-lint rules CfnLint ignores unless ignore
// names them: findings every CDK template has and that are harmless.
var DefaultIgnored = map[string]string{"W3005": CDKRedundantDependsOn}

// schemaGaps are findings about what cfn-lint's schemas do not know yet:
// a rule and the exact text of its message. They are skipped one by one,
// never the rule as a whole.
var schemaGaps = []struct{ rule, message, reason string }{
	{"E3002", "Additional properties are not allowed ('JwtConfiguration' was unexpected)",
		"the REST API JWT authorizer's JwtConfiguration (AWS::ApiGateway::Authorizer) is newer than cfn-lint's bundled schemas"},
}

// CfnLint validates the templates against CloudFormation's resource
// schemas with cfn-lint, found on PATH, in one run. Every error, warning
// or informational finding fails the test, except the rules in ignore,
// each with its reason (an empty reason is itself a failure), those of
// DefaultIgnored, and findings about properties newer than cfn-lint's
// schemas (schemaGaps: the REST JWT authorizer's JwtConfiguration).
func CfnLint(t testing.TB, ignore map[string]string, templates ...*Template) {
	t.Helper()
	all := maps.Clone(DefaultIgnored)
	maps.Copy(all, ignore)
	ignore = all
	for rule, reason := range ignore {
		if len(strings.Fields(reason)) < MinReasonWords {
			t.Errorf("cfn-lint rule %s is ignored with the reason %q: say why in at least %d words", rule, reason, MinReasonWords)
		}
	}
	bin, err := exec.LookPath("cfn-lint")
	if err != nil {
		t.Fatalf("cfn-lint is not on PATH, so the templates cannot be checked against CloudFormation's schemas: install it (pip install cfn-lint, or your OS package) and run the tests again")
	}
	dir := t.TempDir()
	files := map[string]string{}
	args := []string{"--format", "parseable", "--"}
	for i, tpl := range templates {
		f := filepath.Join(dir, fmt.Sprintf("%d-%s.template.json", i, safeName(tpl.Name)))
		if err := os.WriteFile(f, tpl.raw, 0o644); err != nil {
			t.Fatal(err)
		}
		files[f] = tpl.Name
		args = append(args, f)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("running cfn-lint: %v", err)
	}
	// cfn-lint's exit code is a bit mask: 2 errors, 4 warnings, 8 infos;
	// anything else is cfn-lint failing to run.
	if err != nil && exit.ExitCode()&^(2|4|8) != 0 {
		t.Fatalf("cfn-lint failed (exit %d): %s%s", exit.ExitCode(), stderr.String(), stdout.String())
	}
	for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		if line == "" {
			continue
		}
		// file:line:col:endline:endcol:RULE:message
		parts := strings.SplitN(line, ":", 7)
		if len(parts) < 7 {
			t.Errorf("cfn-lint: %s", line)
			continue
		}
		if _, ok := ignore[parts[5]]; ok || schemaGap(parts[5], parts[6]) {
			continue
		}
		name := files[parts[0]]
		if name == "" {
			name = parts[0]
		}
		t.Errorf("cfn-lint %s in %s (line %s): %s", parts[5], name, parts[1], parts[6])
	}
}

func schemaGap(rule, message string) bool {
	for _, g := range schemaGaps {
		if g.rule == rule && strings.TrimSpace(message) == g.message {
			return true
		}
	}
	return false
}

// CfnLint validates the template with cfn-lint; see the function CfnLint.
func (tpl *Template) CfnLint(t testing.TB, ignore map[string]string) {
	t.Helper()
	CfnLint(t, ignore, tpl)
}

func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == ':' || r == ' ' {
			return '_'
		}
		return r
	}, s)
}
