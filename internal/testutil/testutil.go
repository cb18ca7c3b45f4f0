// Package testutil holds helpers shared by tests across packages.
package testutil

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// SyncBuffer is a bytes.Buffer safe for concurrent writers (process output).
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns what was written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// FreeAddr returns a loopback address with a port free at the time of the call.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// SignJWT signs claims with key; header entries are added to the JOSE
// header (an empty string value leaves the entry out, e.g. no kid).
func SignJWT(t testing.TB, method jwt.SigningMethod, header map[string]any, key any, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	for k, v := range header {
		if v != "" {
			tok.Header[k] = v
		}
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Eventually waits up to timeout for cond, failing the test with what
// otherwise. Tests wait for what they expect, never for a fixed time.
func Eventually(t testing.TB, timeout time.Duration, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// NodeModule returns the path of what a test needs from the project's npm
// packages (path is relative to node_modules, "oidc-provider" or
// ".bin/cdk"), failing the test with what to run when they are not
// installed: `make deps` runs npm ci.
func NodeModule(t testing.TB, moduleDir, path string) string {
	t.Helper()
	full := filepath.Join(moduleDir, "node_modules", path)
	if _, err := os.Stat(full); err != nil {
		t.Fatalf("%s is not installed (%v): run `make deps` (npm ci) in %s, then test again; `make test` does both", path, err, moduleDir)
	}
	return full
}
