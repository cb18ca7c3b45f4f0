// Command jwtapi is the one command-line tool of the project, usable as a Go
// tool of any module (`go tool jwtapi ...`):
//
//	jwtapi init      create a new service: a CDK app with the construct, handlers, tests, a Makefile
//	jwtapi dev       run every API of the app on your laptop (make dev runs this)
//	jwtapi token     mint a token with the embedded issuer's key, for the running dev
//	jwtapi explain   say why a token is allowed or refused on each route, without starting anything
//	jwtapi smoke     check a deployed (or local) stack answers as it should
//	jwtapi issuer    run only the embedded Auth0-like issuer
//	jwtapi rotate    rotate the embedded issuer's signing key
//
// It reads flags and environment variables (ADDR, ISSUER_ADDR, TOKEN, ...);
// the packages under local/ get plain values.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

const usage = `jwtapi: JWT-protected API Gateway APIs in Go, from an empty folder to a deployed, tested stack.

Usage:
  jwtapi init [flags]      create a new service in an empty folder (Go CDK app, handlers, tests, Makefile)
  jwtapi dev [flags]       serve every HTTP and REST API of the app on your laptop, with the embedded
                           issuer when the app trusts it (synthesizes the app when its code changed)
  jwtapi token [flags]     print a token signed by the embedded issuer of the running dev
  jwtapi explain [flags] [TOKEN]
                           check a token against the app's routes as API Gateway would, and say why
  jwtapi smoke [flags]     check that a deployed stack (or the running dev) answers as it should
  jwtapi issuer [flags]    run only the embedded Auth0-like issuer
  jwtapi rotate [flags]    rotate the embedded issuer's signing key (the old key stays published for --grace)

Run "jwtapi <command> --help" for a command's flags.
`

// commands are the subcommands, by name, in the order usage lists them.
var commands = map[string]func(args []string, stdout, stderr io.Writer) error{
	"init": runInit, "dev": runDev, "token": runToken, "explain": runExplain, "smoke": runSmoke,
	"issuer": runIssuer, "rotate": runRotate,
}

var commandOrder = []string{"init", "dev", "token", "explain", "smoke", "issuer", "rotate"}

// exitCode is an error that sets the exit status without printing anything
// more (explain's "refused", smoke's failed checks say why themselves).
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func main() {
	err := run(os.Args[1:], os.Stdout, os.Stderr)
	var code exitCode
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.As(err, &code):
		os.Exit(int(code))
	default:
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("say which command to run, e.g. jwtapi dev")
	}
	switch name := args[0]; name {
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		cmd, ok := commands[name]
		if !ok {
			return fmt.Errorf("unknown command %q; the commands are %s (jwtapi --help)", name, strings.Join(commandOrder, ", "))
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

// newFlagSet returns a command's flags; its help goes to stdout when asked
// for (so that it can be paged), else with the error to stderr.
func newFlagSet(name, synopsis string, stdout, stderr io.Writer, args []string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	out := stderr
	if slices.ContainsFunc(args, func(a string) bool { return a == "-h" || a == "-help" || a == "--help" }) {
		out = stdout
	}
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprintf(out, "%s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}
