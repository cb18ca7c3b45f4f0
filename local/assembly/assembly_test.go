package assembly

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeAssembly writes a cloud assembly: stacks by artifact id with their
// stage mark ("" for none); a nested stage "Beta" holds one more stack.
func writeAssembly(t *testing.T, stacks map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	artifacts := map[string]any{"Tree": map[string]any{"type": "cdk:tree", "properties": map[string]any{"file": "tree.json"}}}
	for id, stage := range stacks {
		tpl := map[string]any{"Resources": map[string]any{}}
		if stage != "" {
			tpl["Metadata"] = map[string]any{StageMetadata: stage}
		}
		write(t, filepath.Join(dir, id+".template.json"), tpl)
		artifacts[id] = map[string]any{"type": "aws:cloudformation:stack", "properties": map[string]any{"templateFile": id + ".template.json"}}
	}
	nested := filepath.Join(dir, "assembly-Beta")
	os.MkdirAll(nested, 0o755)
	write(t, filepath.Join(nested, "BetaApi.template.json"), map[string]any{"Metadata": map[string]any{StageMetadata: "beta"}, "Resources": map[string]any{}})
	write(t, filepath.Join(nested, "manifest.json"), map[string]any{"artifacts": map[string]any{
		"BetaApi": map[string]any{"type": "aws:cloudformation:stack", "displayName": "Beta/Api",
			"properties": map[string]any{"templateFile": "BetaApi.template.json", "stackName": "Beta-Api"}}}})
	artifacts["assembly-Beta"] = map[string]any{"type": "cdk:cloud-assembly", "properties": map[string]any{"directoryName": "assembly-Beta", "displayName": "Beta"}}
	write(t, filepath.Join(dir, "manifest.json"), map[string]any{"version": "54.0.0", "artifacts": artifacts})
	return dir
}

func write(t *testing.T, path string, v any) {
	t.Helper()
	b, _ := json.Marshal(v)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func names(stacks []Stack) string {
	var out []string
	for _, s := range stacks {
		out = append(out, s.Name)
	}
	return strings.Join(out, ",")
}

func TestSelect(t *testing.T) {
	// The old trap: two stacks end in "-dev", and one more that is not marked.
	dir := writeAssembly(t, map[string]string{"JwtApi-dev": "dev", "JwtRestApi-dev": "dev", "Orders-dev": "", "JwtApi-prod": "prod", "Billing": "dev"})
	stacks, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := names(stacks); got != "Beta-Api,Billing,JwtApi-dev,JwtApi-prod,JwtRestApi-dev,Orders-dev" {
		t.Fatalf("stacks %s, want all of them sorted, the nested stage's included", got)
	}
	tests := []struct {
		names   []string
		stage   string
		want    string
		wantErr string
	}{
		{stage: "dev", want: "Billing,JwtApi-dev,JwtRestApi-dev"},
		{stage: "beta", want: "Beta-Api"},
		{names: []string{"JwtRestApi-dev"}, want: "JwtRestApi-dev"},
		{names: []string{"JwtRestApi-dev", "Orders-dev", "JwtRestApi-dev"}, stage: "prod", want: "JwtRestApi-dev,Orders-dev"},
		{names: []string{"Beta/Api"}, want: "Beta-Api"},
		{want: "Beta-Api,Billing,JwtApi-dev,JwtApi-prod,JwtRestApi-dev,Orders-dev"},
		{stage: "qa", wantErr: `no stack is marked with stage "qa" or has it in its name; it holds Beta-Api (stage beta), Billing (stage dev), JwtApi-dev (stage dev), JwtApi-prod (stage prod), JwtRestApi-dev (stage dev), Orders-dev (no stage): pick stacks with --stack NAME, or mark them with jwtapi.MarkStage(stack, "qa")`},
		{names: []string{"JwtApi"}, wantErr: `no stack named "JwtApi"; it holds`},
	}
	for _, tt := range tests {
		for range 50 { // same input, same result, every time
			got, err := Select(stacks, tt.names, tt.stage)
			if tt.wantErr != "" {
				if !errors.Is(err, ErrAssembly) || !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), "\n") {
					t.Fatalf("Select(%v, %q) = %v, want one line with %q", tt.names, tt.stage, err, tt.wantErr)
				}
				continue
			}
			if err != nil || names(got) != tt.want {
				t.Fatalf("Select(%v, %q) = %s, %v; want %s", tt.names, tt.stage, names(got), err, tt.want)
			}
		}
	}
}

// TestSelectByName: without any stack marked with a stage, the stacks
// carrying it as a word of their name (or of a nested stage's path) are
// that stage's; a name merely containing the letters is not.
func TestSelectByName(t *testing.T) {
	dir := writeAssembly(t, map[string]string{"orders-local": "", "OrdersLocal": "", "local": "", "Locality-dev": "", "Orders-prod": "", "BillingLocal": "prod"})
	stacks, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	for stage, want := range map[string]string{
		"local": "OrdersLocal,local,orders-local", // not Locality-dev, nor BillingLocal (marked prod)
		"prod":  "BillingLocal",                   // a mark wins over names
		"dev":   "Locality-dev",
		"beta":  "Beta-Api",
	} {
		got, err := Select(stacks, nil, stage)
		if err != nil || names(got) != want {
			t.Errorf("Select(stage %q) = %s, %v; want %s", stage, names(got), err, want)
		}
	}
	for _, w := range [][2]string{{"OrdersLocal", "Orders Local"}, {"orders-local_v2", "orders local v2"}, {"APIGatewayDev", "APIGateway Dev"}, {"Beta/Api", "Beta Api"}} {
		if got := strings.Join(words(w[0]), " "); got != w[1] {
			t.Errorf("words(%q) = %q, want %q", w[0], got, w[1])
		}
	}
}

func TestReadErrors(t *testing.T) {
	if _, err := Read(t.TempDir()); !errors.Is(err, ErrAssembly) {
		t.Errorf("no manifest: %v", err)
	}
	dir := writeAssembly(t, map[string]string{"A": ""})
	os.WriteFile(filepath.Join(dir, "A.template.json"), []byte("not json"), 0o644)
	if _, err := Read(dir); !errors.Is(err, ErrAssembly) || !strings.Contains(err.Error(), "A.template.json") {
		t.Errorf("broken template: %v", err)
	}
	if _, err := Select(nil, nil, ""); !errors.Is(err, ErrAssembly) {
		t.Errorf("empty assembly: %v", err)
	}
}
