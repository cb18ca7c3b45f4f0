package jwtapi_test

import (
	"encoding/json"
	"go/doc"
	"go/doc/comment"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDocExampleCompiles builds the program of the package documentation
// (what `go doc` shows), so that it cannot drift from the API.
func TestDocExampleCompiles(t *testing.T) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "doc.go", nil, parser.ParseComments|parser.PackageClauseOnly)
	if err != nil {
		t.Fatal(err)
	}
	var code []string
	for _, block := range new(doc.Package).Parser().Parse(f.Doc.Text()).Content {
		if c, ok := block.(*comment.Code); ok {
			code = append(code, c.Text)
		}
	}
	if len(code) != 1 || !strings.HasPrefix(code[0], "package main\n") {
		t.Fatalf("the package documentation should hold one program, package main first; it holds %d code blocks", len(code))
	}
	// The program becomes a package of this module for the build only,
	// through an overlay: nothing is written into the module.
	dir := t.TempDir()
	src := filepath.Join(dir, "main.go")
	if err := os.WriteFile(src, []byte(code[0]), 0o644); err != nil {
		t.Fatal(err)
	}
	pkgDir, _ := filepath.Abs("docexample")
	overlay, _ := json.Marshal(map[string]any{"Replace": map[string]string{filepath.Join(pkgDir, "main.go"): src}})
	overlayFile := filepath.Join(dir, "overlay.json")
	os.WriteFile(overlayFile, overlay, 0o644)
	cmd := exec.Command("go", "build", "-overlay", overlayFile, "-o", os.DevNull, "./docexample")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("the package documentation's example does not build: %v\n%s", err, out)
	}
}
