// Command jwtapi-local runs the synthesized API on your laptop: a local API
// Gateway HTTP API with the same JWT authorizer decisions, the project's
// handlers as real processes, and an embedded Auth0-like issuer.
//
//	jwtapi-local [serve] [flags]   serve a synthesized stage (make dev runs this)
//	jwtapi-local issuer [flags]    run only the embedded issuer
//	jwtapi-local token [flags]     mint a token with the embedded issuer's key
//	jwtapi-local rotate [flags]    rotate the embedded issuer's signing key
//
// It reads flags and environment variables (ADDR, ISSUER_ADDR); the packages
// under local/ get plain values.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

const usage = `jwtapi-local runs the synthesized API on your laptop, no AWS account needed.

Usage:
  jwtapi-local [serve] [flags]   serve a synthesized stage: local gateway (+ embedded issuer for the local stage)
  jwtapi-local issuer [flags]    run only the embedded Auth0-like issuer
  jwtapi-local token [flags]     print a token signed by the embedded issuer's key
  jwtapi-local rotate [flags]    rotate the embedded issuer's signing key (old key stays published for --grace)

Run "jwtapi-local <command> --help" for a command's flags.
`

func main() {
	err := run(os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	default:
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && (args[0] == "serve" || args[0] == "issuer" || args[0] == "token" || args[0] == "rotate") {
		cmd, args = args[0], args[1:]
	} else if len(args) > 0 && (args[0] == "help" || args[0] == "-h" || args[0] == "--help") {
		fmt.Fprint(stdout, usage)
		return nil
	}
	switch cmd {
	case "issuer":
		return runIssuer(args, stdout, stderr)
	case "token":
		return runToken(args, stdout, stderr)
	case "rotate":
		return runRotate(args, stdout, stderr)
	}
	return runServe(args, stdout, stderr)
}

// envOr returns the environment variable's value, or def.
func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

type flagSet = flag.FlagSet

func newFlagSet(name, synopsis string, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprintf(out, "%s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}
