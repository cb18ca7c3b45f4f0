package stacks

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/aws/constructs-go/constructs/v10"
)

// ReadCdkJSON returns the "context" object of the cdk.json in dir, so that
// tests build their App with exactly the feature flags and stages the CLI uses.
func ReadCdkJSON(dir string) (map[string]any, error) {
	b, err := os.ReadFile(filepath.Join(dir, "cdk.json"))
	if err != nil {
		return nil, err
	}
	var f struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "cdk.json"), err)
	}
	return f.Context, nil
}

// StageApp is what one stage deploys: the HTTP API and the REST API example.
type StageApp struct {
	Api  *ApiStack
	Rest *RestStack
}

// NewStageApp adds the stacks of stage s to scope, with cdk-nag on each.
func NewStageApp(scope constructs.Construct, s Stage) (*StageApp, error) {
	api, err := NewApiStack(scope, s)
	if err != nil {
		return nil, err
	}
	AddNagChecks(api.Stack)
	out := &StageApp{Api: api}
	if out.Rest, err = NewRestStack(scope, s); err != nil {
		return nil, err
	}
	AddNagChecks(out.Rest.Stack)
	return out, nil
}
