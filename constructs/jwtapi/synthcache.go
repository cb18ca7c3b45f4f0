package jwtapi

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/jwtapi/jwtapi/internal/gobuild"
)

// SynthCache lets a CDK app skip a synth whose result is already in the
// output folder: the same executable (so the same app code), the same
// environment (the CDK context the CLI passes included) and unchanged
// sources for every handler build the last synth used. Anything else is a
// miss and a full synth. Use it only when the app reads nothing but those:
// a file your constructs read at synth is not watched.
//
//	cache := jwtapi.OpenSynthCache()
//	if cache.Fresh() {
//		return // the assembly in cdk.out is what this synth would write
//	}
//	... build the app, jwtapi.Synth(app) ...
//	cache.Save()
//
// JWTAPI_SYNTH_CACHE=off turns it off. A nil *SynthCache is never fresh.
type SynthCache struct {
	dir string // the output folder (CDK_OUTDIR)
	key string // what this run would synthesize from
}

// synthStamp is what a synth leaves in its output folder.
type synthStamp struct {
	Key string `json:"key"`
	// Builds are the handler build folders the synth used.
	Builds []string `json:"builds"`
	// Files are the assembly's small files and their hashes, so an edited
	// or half-deleted assembly is not taken for a fresh one.
	Files map[string]string `json:"files"`
	// Assets are the staged handler binaries, by size and modification time.
	Assets map[string]string `json:"assets"`
}

const synthStampFile = "jwtapi-synth.json"

// volatileEnv are variables a shell changes between two identical runs.
var volatileEnv = []string{"_", "OLDPWD", "SHLVL", "CDK_PERF_COUNTERS_FILE"}

// OpenSynthCache fingerprints this run. It returns nil (never fresh) when
// the app does not run under the CDK CLI (no CDK_OUTDIR), when the cache is
// turned off, or when the executable cannot be read.
func OpenSynthCache() *SynthCache {
	dir := os.Getenv("CDK_OUTDIR")
	if dir == "" || os.Getenv("JWTAPI_SYNTH_CACHE") == "off" {
		return nil
	}
	exe, err := os.Executable()
	if err != nil {
		return nil
	}
	f, err := os.Open(exe)
	if err != nil {
		return nil
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil
	}
	env := os.Environ()
	slices.Sort(env)
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(volatileEnv, name) {
			h.Write([]byte(kv + "\x00"))
		}
	}
	return &SynthCache{dir: dir, key: hex.EncodeToString(h.Sum(nil))}
}

// Fresh says whether the output folder holds what this run would
// synthesize: its stamp has this run's key, every handler build it used is
// still current, and the assembly's files are as the synth left them.
func (c *SynthCache) Fresh() bool {
	if c == nil {
		return false
	}
	var st synthStamp
	data, err := os.ReadFile(filepath.Join(c.dir, synthStampFile))
	if err != nil || json.Unmarshal(data, &st) != nil || st.Key != c.key || len(st.Files) == 0 {
		return false
	}
	for _, folder := range st.Builds {
		if reusable(folder, filepath.Join(folder, "bootstrap")) == "" {
			return false
		}
	}
	for name, sum := range st.Files {
		if fileSum(filepath.Join(c.dir, name)) != sum {
			return false
		}
	}
	for name, sig := range st.Assets {
		if gobuild.Signature(filepath.Join(c.dir, name)) != sig {
			return false
		}
	}
	return true
}

// Save stamps the output folder after a successful synth.
func (c *SynthCache) Save() error {
	if c == nil {
		return nil
	}
	st := synthStamp{Key: c.key, Files: map[string]string{}, Assets: map[string]string{}}
	builds, _ := filepath.Glob(filepath.Join(c.dir, ".jwtapi-build", "*"))
	for _, folder := range builds {
		if reusable(folder, filepath.Join(folder, "bootstrap")) != "" {
			st.Builds = append(st.Builds, folder)
		}
	}
	entries, err := os.ReadDir(c.dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.Type().IsRegular() && strings.HasSuffix(e.Name(), ".json") && e.Name() != synthStampFile {
			st.Files[e.Name()] = fileSum(filepath.Join(c.dir, e.Name()))
		}
	}
	// The assets the templates point at must still be there, too.
	for _, e := range entries {
		if e.IsDir() && strings.HasPrefix(e.Name(), "asset.") {
			name := filepath.Join(e.Name(), "bootstrap")
			st.Assets[name] = gobuild.Signature(filepath.Join(c.dir, name))
		}
	}
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(c.dir, synthStampFile), data, 0o644)
}

// fileSum is a file's sha256, or "" when it cannot be read.
func fileSum(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return ""
	}
	return hex.EncodeToString(h.Sum(nil))
}
