package gateway

import (
	"os"
	"testing"
)

var testDirs []string

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
	for _, d := range testDirs {
		os.RemoveAll(d)
	}
	os.Exit(code)
}
