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

	"github.com/jwtapi/jwtapi/jwtapitest"
	"github.com/jwtapi/jwtapi/stacks"
)

// allStages are the stages of cdk.json, each synthesized once per test run.
var allStages = []string{"local", "dev", "prod"}

// synthesized is one stack of a stage's cloud assembly, read back as plain JSON.
type synthesized struct {
	stage    stacks.Stage
	name     string
	template map[string]any
	rawJSON  []byte
	// tpl is the template for the test kit's checks.
	tpl *jwtapitest.Template
	// synthErr is set when synth failed its validation (an unsuppressed nag error).
	synthErr error
	// messages are the stack's synth annotations (errors, warnings, infos).
	messages []message
}

type message struct {
	Type string `json:"type"`
	Data any    `json:"data"`
	Path string `json:"-"`
}

// stageStacks are the stacks of one synthesized stage.
type stageStacks struct {
	api  *synthesized
	rest *synthesized
}

var (
	synthMu    sync.Mutex
	synthCache = map[string]*stageStacks{}
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
	// jsii may report a harmless race on its Node process at exit; keep it
	// out of the test output.
	if devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0); err == nil {
		os.Stderr = devNull
	}
	jsii.Close()
	os.Exit(code)
}

// synthStage synthesizes the HTTP API stack of a stage.
func synthStage(t *testing.T, name string) *synthesized { return synthStacks(t, name).api }

// synthRest synthesizes the REST API stack of a stage.
func synthRest(t *testing.T, name string) *synthesized {
	s := synthStacks(t, name).rest
	if s == nil {
		t.Fatalf("stage %s has no REST stack", name)
	}
	return s
}

// synthStacks synthesizes a stage's app the way `cdk synth -c stage=NAME`
// does (same cdk.json context, same nag checks) and caches it.
func synthStacks(t *testing.T, name string) *stageStacks {
	t.Helper()
	synthMu.Lock()
	defer synthMu.Unlock()
	if s, ok := synthCache[name]; ok {
		return s
	}
	outdir := filepath.Join(outRoot, name)
	app, stage, _ := newStageApp(t, name, outdir)
	// A synth that fails validation still writes its report, which the nag
	// test reads to say what went wrong.
	synthErr := synth(app)
	out := &stageStacks{}
	for _, st := range []struct {
		name string
		into **synthesized
	}{{stacks.StackName(name), &out.api}, {stacks.RestStackName(name), &out.rest}} {
		s, err := readAssembly(outdir, st.name)
		if err != nil {
			t.Fatalf("stage %s: %v (synth: %v)", name, err, synthErr)
		}
		s.stage, s.name, s.synthErr = stage, st.name, synthErr
		s.tpl = jwtapitest.FromJSON(t, st.name, s.template)
		*st.into = s
	}
	synthCache[name] = out
	return out
}

// newStageApp builds a stage's app the way `cdk synth -c stage=NAME` does
// (same cdk.json context, same nag checks), writing to outdir.
func newStageApp(t testing.TB, name, outdir string) (awscdk.App, stacks.Stage, *stacks.StageApp) {
	t.Helper()
	return newEditedStageApp(t, name, outdir, nil)
}

// newEditedStageApp is newStageApp with the stage's cdk.json entry edited
// first.
func newEditedStageApp(t testing.TB, name, outdir string, edit func(stage map[string]any)) (awscdk.App, stacks.Stage, *stacks.StageApp) {
	t.Helper()
	ctx, err := stacks.ReadCdkJSON("..")
	if err != nil {
		t.Fatalf("reading cdk.json: %v", err)
	}
	if edit != nil {
		edit(ctx["stages"].(map[string]any)[name].(map[string]any))
	}
	stage, err := stacks.SelectStage(ctx["stages"], name, stacks.Overrides{})
	if err != nil {
		t.Fatalf("stage %s: %v", name, err)
	}
	// The CDK CLI sets these for every synth: with them the snapshots are
	// exactly what `cdk synth` writes.
	ctx["aws:cdk:enable-asset-metadata"] = true
	ctx["aws:cdk:enable-path-metadata"] = true
	app := awscdk.NewApp(&awscdk.AppProps{
		Context:            &ctx,
		Outdir:             jsii.String(outdir),
		AnalyticsReporting: jsii.Bool(false),
	})
	sa, err := stacks.NewStageApp(app, stage)
	if err != nil {
		t.Fatalf("stage %s: %v", name, err)
	}
	return app, stage, sa
}

// synth synthesizes app, turning the panic jsii raises for a failed
// validation into an error.
func synth(app awscdk.App) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	app.Synth(nil)
	return nil
}

// readAssembly reads a synthesized stack's template and its annotations.
// With the @aws-cdk/core:annotationsInValidationReport flag (set in
// cdk.json) annotations, cdk-nag's included, go to validation-report.json
// rather than to the manifest, so both are read.
func readAssembly(outdir, stack string) (*synthesized, error) {
	raw, err := os.ReadFile(filepath.Join(outdir, stack+".template.json"))
	if err != nil {
		return nil, err
	}
	s := &synthesized{rawJSON: raw}
	if err := json.Unmarshal(raw, &s.template); err != nil {
		return nil, fmt.Errorf("template: %w", err)
	}
	var manifest struct {
		Artifacts map[string]struct {
			Metadata map[string][]message `json:"metadata"`
		} `json:"artifacts"`
	}
	if err := readJSON(filepath.Join(outdir, "manifest.json"), &manifest); err != nil {
		return nil, err
	}
	for path, entries := range manifest.Artifacts[stack].Metadata {
		for _, e := range entries {
			e.Path = path
			s.messages = append(s.messages, e)
		}
	}
	reported, err := jwtapitest.ValidationReport(outdir, stack)
	if err != nil {
		return nil, err
	}
	for _, f := range reported {
		s.messages = append(s.messages, message{Type: "aws:cdk:" + f.Level, Data: f.Rule + ": " + f.Message, Path: f.Path})
	}
	return s, nil
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
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
		t.Fatalf("%s: want exactly one %s, got %d", s.name, typ, len(rs))
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
