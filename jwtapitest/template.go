package jwtapitest

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
)

// Template is a stack's synthesized CloudFormation template.
type Template struct {
	// Name is the stack's name, for messages.
	Name string
	// Assert is the awscdk/assertions view, for your own checks
	// (HasResourceProperties, ResourceCountIs, ...).
	Assert assertions.Template
	// JSON is the template as plain JSON values.
	JSON map[string]any
	raw  []byte
}

// Synth synthesizes the stack's app through awscdk/assertions and returns
// the stack's template. A synth that fails (a construct's error, a failed
// validation) fails the test with its message rather than a jsii panic.
func Synth(t testing.TB, stack awscdk.Stack) *Template {
	t.Helper()
	var tpl assertions.Template
	if err := catch(func() { tpl = assertions.Template_FromStack(stack, nil) }); err != nil {
		t.Fatalf("synthesizing %s: %v", *stack.StackName(), err)
	}
	return FromJSON(t, *stack.StackName(), tpl.ToJSON())
}

// FromJSON wraps a template you already have (read from cdk.out, say).
func FromJSON(t testing.TB, name string, template any) *Template {
	t.Helper()
	raw, err := json.Marshal(template)
	if err != nil {
		t.Fatalf("%s: template is not JSON: %v", name, err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s: template is not a JSON object: %v", name, err)
	}
	return &Template{Name: name, JSON: m, raw: raw, Assert: assertions.Template_FromJSON(&m, nil)}
}

// Resources returns the template's resources of one type, by logical id.
func (tpl *Template) Resources(typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	all, _ := tpl.JSON["Resources"].(map[string]any)
	for id, r := range all {
		if res, ok := r.(map[string]any); ok && res["Type"] == typ {
			out[id] = res
		}
	}
	return out
}

// Props returns a resource's Properties (nil when it has none).
func Props(resource map[string]any) map[string]any {
	p, _ := resource["Properties"].(map[string]any)
	return p
}

// catch runs f and turns a panic (jsii raises one for every JavaScript
// error) into an error.
func catch(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	f()
	return nil
}
