package jwtapitest

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

var update = flag.Bool("update", false, "rewrite golden templates with the current synth output (jwtapitest)")

// assetHash matches CDK asset hashes (sha256 hex): they hash built code, so
// they change with the toolchain and would drown a real change in noise.
var assetHash = regexp.MustCompile(`[0-9a-f]{64}`)

// Normalized is the template as the golden file holds it: keys sorted,
// indented, asset hashes replaced by <asset-hash>.
func (tpl *Template) Normalized() []byte {
	var v any
	json.Unmarshal(tpl.raw, &v) // raw came from json.Marshal: it parses
	out, _ := json.MarshalIndent(v, "", "  ")
	out = assetHash.ReplaceAll(out, []byte("<asset-hash>"))
	return append(out, '\n')
}

// Snapshot compares the template with the golden file, asset hashes
// masked. With `go test -update` it writes the file instead; review the
// diff before committing it. A golden file that does not exist yet is
// written by the first run, which says so (a new stack's first snapshot);
// under CI (CI=true, as CI services set it) it is a failure instead, so a
// snapshot that was never committed cannot pass unnoticed.
func (tpl *Template) Snapshot(t testing.TB, golden string) {
	t.Helper()
	got := tpl.Normalized()
	want, err := os.ReadFile(golden)
	switch {
	case os.IsNotExist(err) && inCI():
		t.Fatalf("%s has no golden file %s (CI=%s): run go test with -update to write it, then review and commit it", tpl.Name, golden, os.Getenv("CI"))
	case os.IsNotExist(err) || *update:
		if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
		if !*update {
			t.Logf("wrote the first snapshot of %s to %s: review and commit it", tpl.Name, golden)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("the template of %s differs from %s:\n%s\nIf the change is intended, run go test with -update and review the diff.",
			tpl.Name, golden, lineDiff(string(want), string(got)))
	}
}

// inCI tells whether the tests run under CI, as CI services say.
func inCI() bool {
	v := strings.ToLower(os.Getenv("CI"))
	return v != "" && v != "false" && v != "0"
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
	return fmt.Sprintf("first difference at line %d\n--- golden\n%s\n+++ synthesized\n%s", i+1, window(w), window(g))
}
