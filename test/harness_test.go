package test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/jwtapi/jwtapi/stacks"
)

// allStages are the stages of cdk.json, each synthesized once per test run.
var allStages = []string{"local", "dev", "prod"}

// synthesized is one stage's cloud assembly, read back as plain JSON.
type synthesized struct {
	stage    stacks.Stage
	template map[string]any
	rawJSON  []byte
	// messages are the stack's synth annotations (errors, warnings, infos).
	messages []message
}

type message struct {
	Type string `json:"type"`
	Data any    `json:"data"`
	Path string `json:"-"`
}

var (
	synthMu    sync.Mutex
	synthCache = map[string]*synthesized{}
	outRoot    string
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "jwtapi-synth-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	outRoot = dir
	code := m.Run()
	os.RemoveAll(dir)
	jsii.Close()
	os.Exit(code)
}

// synthStage synthesizes the app's stack for a stage the way `cdk synth -c
// stage=NAME` does (same cdk.json context, same nag checks) and caches it.
func synthStage(t *testing.T, name string) *synthesized {
	t.Helper()
	synthMu.Lock()
	defer synthMu.Unlock()
	if s, ok := synthCache[name]; ok {
		return s
	}
	ctx, err := stacks.ReadCdkJSON("..")
	if err != nil {
		t.Fatalf("reading cdk.json: %v", err)
	}
	stage, err := stacks.SelectStage(ctx["stages"], name, stacks.Overrides{})
	if err != nil {
		t.Fatalf("stage %s: %v", name, err)
	}
	// The CDK CLI sets these for every synth: with them the snapshots are
	// exactly what `cdk synth` writes.
	ctx["aws:cdk:enable-asset-metadata"] = true
	ctx["aws:cdk:enable-path-metadata"] = true
	outdir := filepath.Join(outRoot, name)
	app := awscdk.NewApp(&awscdk.AppProps{
		Context:            &ctx,
		Outdir:             jsii.String(outdir),
		AnalyticsReporting: jsii.Bool(false),
	})
	stack, err := stacks.NewApiStack(app, stage)
	if err != nil {
		t.Fatalf("stage %s: %v", name, err)
	}
	stacks.AddNagChecks(stack.Stack)
	app.Synth(nil)

	stackName := stacks.StackName(name)
	raw, err := os.ReadFile(filepath.Join(outdir, stackName+".template.json"))
	if err != nil {
		t.Fatalf("reading template: %v", err)
	}
	s := &synthesized{stage: stage, rawJSON: raw}
	if err := json.Unmarshal(raw, &s.template); err != nil {
		t.Fatalf("parsing template: %v", err)
	}
	s.messages, err = readMessages(filepath.Join(outdir, "manifest.json"), stackName)
	if err != nil {
		t.Fatalf("reading manifest: %v", err)
	}
	synthCache[name] = s
	return s
}

// readMessages returns the annotations recorded for a stack in manifest.json.
func readMessages(path, stack string) ([]message, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var manifest struct {
		Artifacts map[string]struct {
			Metadata map[string][]message `json:"metadata"`
		} `json:"artifacts"`
	}
	if err := json.Unmarshal(b, &manifest); err != nil {
		return nil, err
	}
	var out []message
	for path, entries := range manifest.Artifacts[stack].Metadata {
		for _, e := range entries {
			e.Path = path
			out = append(out, e)
		}
	}
	return out, nil
}

// resources returns the template's resources of one CloudFormation type, by logical id.
func (s *synthesized) resources(typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, r := range s.template["Resources"].(map[string]any) {
		res := r.(map[string]any)
		if res["Type"] == typ {
			out[id] = res
		}
	}
	return out
}

// one returns the single resource of a type, failing the test if there is not exactly one.
func (s *synthesized) one(t *testing.T, typ string) (string, map[string]any) {
	t.Helper()
	rs := s.resources(typ)
	if len(rs) != 1 {
		t.Fatalf("stage %s: want exactly one %s, got %d", s.stage.Name, typ, len(rs))
	}
	for id, r := range rs {
		return id, r
	}
	return "", nil
}

func props(r map[string]any) map[string]any {
	p, _ := r["Properties"].(map[string]any)
	return p
}
