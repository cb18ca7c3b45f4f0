package stacks

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
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
