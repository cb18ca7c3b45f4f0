package jwtapi_test

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/jwtapi/jwtapi/constructs/jwtapi"
)

// TestCloseSilencesStandardError: jwtapi.Close sends what jsii prints at
// exit to /dev/null instead of the terminal (run in a child process: Close
// ends the jsii runtime).
func TestCloseSilencesStandardError(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), closeChild+"=1")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("child: %v\n%s", err, stderr.String())
	}
	if got := stderr.String(); !strings.Contains(got, "before Close") || strings.Contains(got, "after Close") {
		t.Errorf("standard error of a program calling Close: %q; want only what came before Close", got)
	}
}

// closeChild makes the test binary, from TestMain, call Close between two
// lines on standard error and exit.
const closeChild = "JWTAPI_TEST_CLOSE_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(closeChild) != "" {
		newStack() // start the jsii runtime, as an app does
		fmt.Fprintln(os.Stderr, "before Close")
		jwtapi.Close()
		fmt.Fprintln(os.Stderr, "after Close")
		os.Exit(0)
	}
	os.Exit(m.Run())
}
