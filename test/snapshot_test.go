package test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden templates under testdata/ with the current synth output")

// assetHash matches CDK asset hashes. They hash the built handler binaries,
// which depend on the Go toolchain; the snapshot keeps their place, and
// TestAssetHashIsStable checks their stability separately.
var assetHash = regexp.MustCompile(`[0-9a-f]{64}`)

// normalize re-indents a template with sorted keys and masks asset hashes.
func normalize(t *testing.T, raw []byte) []byte {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("template is not JSON: %v", err)
	}
	out, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	out = assetHash.ReplaceAll(out, []byte("<asset-hash>"))
	return append(out, '\n')
}

func TestSnapshots(t *testing.T) {
	type snap struct{ golden, stage string }
	var snaps []snap
	for _, stage := range allStages {
		snaps = append(snaps, snap{stage + ".template.json", stage}, snap{stage + ".rest.template.json", stage})
	}
	for _, sn := range snaps {
		stage := sn.stage
		t.Run(sn.golden, func(t *testing.T) {
			s := synthStage(t, stage)
			if strings.Contains(sn.golden, ".rest.") {
				s = synthRest(t, stage)
			}
			got := normalize(t, s.rawJSON)
			golden := filepath.Join("testdata", sn.golden)
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run `go test ./test -update` to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("template of stage %s differs from %s:\n%s\nReview the change, then run `make snapshots` to accept it.",
					stage, golden, lineDiff(string(want), string(got)))
			}
		})
	}
}

// lineDiff shows both versions around the first differing line.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	i := 0
	for i < len(w) && i < len(g) && w[i] == g[i] {
		i++
	}
	from := max(0, i-3)
	window := func(lines []string) string {
		return strings.Join(lines[min(from, len(lines)):min(i+5, len(lines))], "\n")
	}
	return fmt.Sprintf("first difference at line %d\n--- want\n%s\n+++ got\n%s", i+1, window(w), window(g))
}
