package gateway

import (
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/jwtapi/jwtapi/internal/testutil"
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

// serveAPI serves api for one test, logging the gateway's lines to logs
// (nil: kept nowhere it is read), and returns the gateway and its URL.
func serveAPI(t *testing.T, api *API, logs *testutil.SyncBuffer) (*Gateway, string) {
	t.Helper()
	dir, err := mkdirTemp()
	if err != nil {
		t.Fatal(err)
	}
	if logs == nil {
		logs = &testutil.SyncBuffer{}
	}
	gw, err := New(api, Options{ModuleDir: moduleDir(), BuildDir: dir, Logs: logs, FunctionLogs: &testutil.SyncBuffer{}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gw)
	t.Cleanup(func() { srv.Close(); gw.Close() })
	return gw, srv.URL
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
