package jwtapi

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestSynthCacheWatchesHandlerSources: a synth stamp stays fresh until a
// source of a handler build it used changes, an assembly file changes, or
// the environment does.
func TestSynthCacheWatchesHandlerSources(t *testing.T) {
	out, src := t.TempDir(), t.TempDir()
	t.Setenv("CDK_OUTDIR", out)
	t.Setenv("JWTAPI_SYNTH_CACHE", "")
	handler := filepath.Join(src, "main.go")
	os.WriteFile(handler, []byte("package main\n"), 0o644)
	folder := filepath.Join(out, ".jwtapi-build", "0123")
	os.MkdirAll(folder, 0o755)
	os.WriteFile(filepath.Join(folder, "bootstrap"), []byte("binary"), 0o755)
	keep(folder, []string{handler}, "hash")
	os.WriteFile(filepath.Join(out, "manifest.json"), []byte(`{"version":"x"}`), 0o644)
	os.MkdirAll(filepath.Join(out, "asset.hash"), 0o755)
	os.WriteFile(filepath.Join(out, "asset.hash", "bootstrap"), []byte("binary"), 0o755)

	c := OpenSynthCache()
	if c.Fresh() {
		t.Fatal("fresh before any synth was stamped")
	}
	if err := c.Save(); err != nil {
		t.Fatal(err)
	}
	if !OpenSynthCache().Fresh() {
		t.Fatal("not fresh right after Save")
	}
	t.Setenv("AUTH0_DOMAIN", "x.auth0.com")
	if OpenSynthCache().Fresh() {
		t.Error("fresh although the environment changed")
	}
	os.Unsetenv("AUTH0_DOMAIN")
	os.WriteFile(filepath.Join(out, "manifest.json"), []byte(`{"version":"y"}`), 0o644)
	if OpenSynthCache().Fresh() {
		t.Error("fresh although manifest.json changed")
	}
	os.WriteFile(filepath.Join(out, "manifest.json"), []byte(`{"version":"x"}`), 0o644)
	if !OpenSynthCache().Fresh() {
		t.Fatal("not fresh with everything restored")
	}
	later := time.Now().Add(time.Minute)
	os.Chtimes(handler, later, later)
	if OpenSynthCache().Fresh() {
		t.Error("fresh although a handler source changed")
	}
	t.Setenv("JWTAPI_SYNTH_CACHE", "off")
	if OpenSynthCache() != nil {
		t.Error("JWTAPI_SYNTH_CACHE=off still opens a cache")
	}
	t.Setenv("JWTAPI_SYNTH_CACHE", "")
	t.Setenv("CDK_OUTDIR", "")
	if OpenSynthCache().Fresh() {
		t.Error("fresh outside the CDK CLI")
	}
}
