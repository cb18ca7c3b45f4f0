// Command authorizer is the Go Lambda authorizer: it verifies the caller's
// JWT (golang-jwt, JWKS through keyfunc) and applies per-route rules, for
// HTTP API REQUEST authorizers (simple responses) and REST API TOKEN
// authorizers (IAM policies). It is configured by the environment variables
// of package authzspec, which the jwtapi construct sets.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/jwtapi/jwtapi/authzspec"
	"github.com/jwtapi/jwtapi/functions/authz"
)

func main() {
	a, err := fromEnv(os.Getenv)
	if err != nil {
		// A misconfigured authorizer must not let anything through: fail the
		// init, API Gateway answers 500 and the log says what to fix.
		fmt.Fprintf(os.Stderr, `{"level":"ERROR","msg":"authorizer configuration","error":%q}`+"\n", err.Error())
		os.Exit(1)
	}
	lambda.Start(a.Handle)
}

func fromEnv(getenv func(string) string) (*authz.Authorizer, error) {
	c, err := authzspec.FromEnv(getenv)
	if err != nil {
		return nil, err
	}
	return authz.New(c, os.Stdout)
}
