package gateway

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

var testDirs []string

// localAPI is the HTTP API of the local stage's snapshot template.
func localAPI() (*API, error) {
	return snapshotAPI("local.template.json", "JwtApi-local")
}

// snapshotAPI reads the one API of a snapshot template in test/testdata.
func snapshotAPI(file, stack string) (*API, error) {
	apis, err := LoadTemplate(filepath.Join("..", "..", "test", "testdata", file), stack)
	if err != nil {
		return nil, err
	}
	if len(apis) != 1 {
		return nil, fmt.Errorf("%s holds %d APIs, want 1", file, len(apis))
	}
	return apis[0], nil
}

func mkdirTemp() (string, error) {
	d, err := os.MkdirTemp("", "jwtapi-gateway-")
	if err == nil {
		testDirs = append(testDirs, d)
	}
	return d, err
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared != nil {
		shared.gw.Close()
	}
	for _, gw := range restGateways {
		gw.Close()
	}
	for _, d := range testDirs {
		os.RemoveAll(d)
	}
	os.Exit(code)
}
