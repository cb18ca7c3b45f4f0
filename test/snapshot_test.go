package test

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestSnapshots compares every stage's templates with test/testdata through
// the test kit (asset hashes masked); `make snapshots` (go test -update)
// rewrites them.
func TestSnapshots(t *testing.T) {
	for _, stage := range allStages {
		for _, golden := range []string{stage + ".template.json", stage + ".rest.template.json"} {
			t.Run(golden, func(t *testing.T) {
				s := synthStage(t, stage)
				if strings.Contains(golden, ".rest.") {
					s = synthRest(t, stage)
				}
				s.tpl.Snapshot(t, filepath.Join("testdata", golden))
			})
		}
	}
}
