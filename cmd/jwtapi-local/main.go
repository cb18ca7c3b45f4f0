// Command jwtapi-local runs a synthesized CDK app on your laptop: every
// API Gateway HTTP API and REST API of its stacks, each on its own port,
// with API Gateway's authorizer decisions, the handlers as real processes,
// and an embedded Auth0-like issuer when the app trusts it.
//
//	jwtapi-local [serve] [flags]   synthesize when needed and serve the APIs (make dev runs this)
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
	"strings"
)

const usage = `jwtapi-local runs your CDK app's APIs on your laptop, no AWS account needed.

Usage:
  jwtapi-local [serve] [flags]   serve every HTTP and REST API of the app (synthesizing it when its code changed),
                                 each on its own port, with the embedded issuer when the app trusts it
  jwtapi-local issuer [flags]    run only the embedded Auth0-like issuer
  jwtapi-local token [flags]     print a token signed by the embedded issuer's key
  jwtapi-local rotate [flags]    rotate the embedded issuer's signing key (old key stays published for --grace)

Run "jwtapi-local <command> --help" for a command's flags.
`

// commands are the subcommands, by name.
var commands = map[string]func(args []string, stdout, stderr io.Writer) error{
	"serve": runServe, "issuer": runIssuer, "token": runToken, "rotate": runRotate,
}

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
	if len(args) == 0 || strings.HasPrefix(args[0], "-") && args[0] != "-h" && args[0] != "--help" {
		return runServe(args, stdout, stderr) // flags only: serve
	}
	switch name := args[0]; name {
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		cmd, ok := commands[name]
		if !ok {
			return fmt.Errorf("unknown command %q; the commands are serve, issuer, token and rotate (jwtapi-local --help)", name)
		}
		return cmd(args[1:], stdout, stderr)
	}
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
