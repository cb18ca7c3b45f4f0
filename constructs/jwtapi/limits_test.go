package jwtapi

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"

	"github.com/jwtapi/jwtapi/authzspec"
)

// TestLimitsAtTheirEdges pins every numeric limit the props are checked
// against on both sides of its edge.
func TestLimitsAtTheirEdges(t *testing.T) {
	check := func(name string, err error, wantErr bool) {
		t.Helper()
		if (err != nil) != wantErr {
			t.Errorf("%s: err = %v, want error %v", name, err, wantErr)
		}
		if err != nil && !errors.Is(err, ErrInvalidProps) {
			t.Errorf("%s: %v does not wrap ErrInvalidProps", name, err)
		}
	}
	for _, tt := range []struct {
		mem     int
		timeout time.Duration
		bad     bool
	}{
		{0, 0, false}, {127, 0, true}, {128, 0, false}, {10240, 0, false}, {10241, 0, true},
		{0, 999 * time.Millisecond, true}, {0, time.Second, false}, {0, MaxTimeout, false},
		{0, MaxTimeout + time.Second, true}, {0, 1500 * time.Millisecond, true},
	} {
		check("sizing "+time.Duration(tt.timeout).String(), validateSizing("", tt.mem, tt.timeout), tt.bad)
	}
	for _, tt := range []struct {
		d    time.Duration
		want awslogs.RetentionDays
		bad  bool
	}{
		{24 * time.Hour, awslogs.RetentionDays_ONE_DAY, false}, {14 * 24 * time.Hour, awslogs.RetentionDays_TWO_WEEKS, false},
		{2 * 24 * time.Hour, "", true}, {36 * time.Hour, "", true}, {24*time.Hour + time.Second, "", true},
	} {
		r, err := retentionFor(tt.d)
		check("retention "+tt.d.String(), err, tt.bad)
		if r != tt.want {
			t.Errorf("retention %s = %v, want %v", tt.d, r, tt.want)
		}
	}
	for _, tt := range []struct {
		name string
		l    LambdaAuthorizer
		bad  bool
	}{
		{"no cache", LambdaAuthorizer{}, false},
		{"negative cache", LambdaAuthorizer{CacheTTL: -time.Second}, true},
		{"longest cache", LambdaAuthorizer{CacheTTL: MaxCacheTTL}, false},
		{"cache too long", LambdaAuthorizer{CacheTTL: MaxCacheTTL + time.Second}, true},
		{"cache in part seconds", LambdaAuthorizer{CacheTTL: 1500 * time.Millisecond}, true},
		{"negative leeway", LambdaAuthorizer{Leeway: -time.Second}, true},
		{"largest leeway", LambdaAuthorizer{Leeway: authzspec.MaxLeeway}, false},
		{"leeway too large", LambdaAuthorizer{Leeway: authzspec.MaxLeeway + time.Second}, true},
		{"HS256 without a secret", LambdaAuthorizer{Algorithms: []string{"HS256"}}, true},
		{"a secret without HS256", LambdaAuthorizer{HMACSecretName: "s"}, true},
		{"HS256 with its secret", LambdaAuthorizer{Algorithms: []string{"HS256"}, HMACSecretName: "s"}, false},
	} {
		check(tt.name, validateLambdaAuthorizer(".", &tt.l), tt.bad)
	}
	routes := map[string]Route{"GET /x": {Handler: "functions/public", Public: true}}
	for _, tt := range []struct {
		name string
		p    ApiProps
		bad  bool
	}{
		{"throttle", ApiProps{Routes: routes, Throttle: &Throttle{BurstLimit: 1, RateLimit: 1}}, false},
		{"no burst", ApiProps{Routes: routes, Throttle: &Throttle{BurstLimit: 0, RateLimit: 1}}, true},
		{"no rate", ApiProps{Routes: routes, Throttle: &Throttle{BurstLimit: 1, RateLimit: 0}}, true},
		{"any origin", ApiProps{Routes: routes, Cors: &Cors{AllowOrigins: []string{"*"}}}, false},
		{"any origin with credentials", ApiProps{Routes: routes, Cors: &Cors{AllowOrigins: []string{"*"}, AllowCredentials: true}}, true},
		{"an origin with credentials", ApiProps{Routes: routes, Cors: &Cors{AllowOrigins: []string{"https://app.example.com"}, AllowCredentials: true}}, false},
		{"any method", ApiProps{Routes: routes, Cors: &Cors{AllowOrigins: []string{"*"}, AllowMethods: []string{"*"}}}, false},
		{"listed methods", ApiProps{Routes: routes, Cors: &Cors{AllowOrigins: []string{"*"}, AllowMethods: []string{"GET", "DELETE"}}}, false},
		{"a made-up method", ApiProps{Routes: routes, Cors: &Cors{AllowOrigins: []string{"*"}, AllowMethods: []string{"GET", "FETCH"}}}, true},
	} {
		check(tt.name, validateAPI(&tt.p), tt.bad)
	}
	for _, iss := range []string{"https:opaque", "https:///no-host", "mailto:a@example.com"} {
		if _, err := ResolveIssuer(iss, ""); err == nil || !strings.Contains(err.Error(), "not an absolute URL") {
			t.Errorf("ResolveIssuer(%q) = %v, want not an absolute URL", iss, err)
		}
	}
}

// TestBuildRecords: a build is reused only when its record is whole and its
// sources are unchanged; the binary is copied as it is; import-path
// handlers are found in their module; builds are keyed by the toolchain.
func TestBuildRecords(t *testing.T) {
	folder, src := t.TempDir(), filepath.Join(t.TempDir(), "main.go")
	os.WriteFile(src, []byte("package main\n"), 0o644)
	bin := filepath.Join(folder, "bootstrap")
	os.WriteFile(bin, []byte("binary"), 0o755)
	if reusable(folder, bin) != "" {
		t.Error("reusable without a record")
	}
	keep(folder, []string{src}, "h1")
	if got := reusable(folder, bin); got != "h1" {
		t.Errorf("reusable = %q, want h1", got)
	}
	for name, record := range map[string]string{
		"no files":         `{"files":[],"signatures":[],"hash":"h1"}`,
		"fewer signatures": `{"files":["` + src + `"],"signatures":[],"hash":"h1"}`,
		"not JSON":         `{"files":`,
	} {
		os.WriteFile(filepath.Join(folder, "build.json"), []byte(record), 0o644)
		if reusable(folder, bin) != "" {
			t.Errorf("a record with %s is reused", name)
		}
	}
	keep(folder, []string{src}, "h1")
	os.Remove(bin)
	if reusable(folder, bin) != "" {
		t.Error("reused without its binary")
	}

	to := filepath.Join(t.TempDir(), "bootstrap")
	os.WriteFile(bin, []byte("binary"), 0o755)
	if err := copyFile(bin, to); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(to); string(got) != "binary" {
		t.Errorf("copied %q", got)
	}
	if st, _ := os.Stat(to); st.Mode().Perm()&0o100 == 0 {
		t.Errorf("copied binary is not executable: %v", st.Mode())
	}
	if copyFile(filepath.Join(folder, "missing"), to) == nil {
		t.Error("copying a missing file succeeded")
	}

	b := &builds{importDirs: map[string]string{}}
	moduleDir, _ := filepath.Abs("../..")
	if got := b.packageDir(moduleDir, "github.com/jwtapi/jwtapi/functions/authorizer"); got != filepath.Join(moduleDir, "functions", "authorizer") {
		t.Errorf("packageDir = %q", got)
	}
	if got := b.packageDir(moduleDir, "example.com/no/such/package"); got != moduleDir {
		t.Errorf("packageDir of a missing package = %q, want the module folder", got)
	}
	if v := b.version(); !strings.HasPrefix(v, "go1.") {
		t.Errorf("builds are keyed by toolchain %q, want go1.x", v)
	}
}

// TestSynthCacheWatchesOnlyTheAssembly: files the synth did not write (a
// note beside the assembly, a folder that is not an asset) do not make
// the stamp stale.
func TestSynthCacheWatchesOnlyTheAssembly(t *testing.T) {
	out := t.TempDir()
	t.Setenv("CDK_OUTDIR", out)
	t.Setenv("JWTAPI_SYNTH_CACHE", "")
	os.WriteFile(filepath.Join(out, "manifest.json"), []byte(`{}`), 0o644)
	os.WriteFile(filepath.Join(out, "notes.txt"), []byte("a"), 0o644)
	os.MkdirAll(filepath.Join(out, "other"), 0o755)
	os.WriteFile(filepath.Join(out, "other", "bootstrap"), []byte("a"), 0o644)
	os.MkdirAll(filepath.Join(out, "asset.x"), 0o755)
	os.WriteFile(filepath.Join(out, "asset.x", "bootstrap"), []byte("a"), 0o644)
	if err := OpenSynthCache().Save(); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(out, "notes.txt"), []byte("changed"), 0o644)
	os.WriteFile(filepath.Join(out, "other", "bootstrap"), []byte("changed"), 0o644)
	if !OpenSynthCache().Fresh() {
		t.Error("a note or a folder beside the assembly made it stale")
	}
	os.WriteFile(filepath.Join(out, "asset.x", "bootstrap"), []byte("changed!"), 0o644)
	if OpenSynthCache().Fresh() {
		t.Error("a changed asset left it fresh")
	}
}
