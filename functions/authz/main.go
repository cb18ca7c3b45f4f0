package authz

import (
	"fmt"
	"io"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/jwtapi/jwtapi/authzspec"
)

// Main runs the authorizer as a Lambda function configured by the
// environment (the construct's functions/authorizer does nothing else).
func Main() {
	a, err := FromEnv(os.Getenv, os.Stdout)
	if err != nil {
		// A misconfigured authorizer must not let anything through: fail the
		// init, API Gateway answers 500 and the log says what to fix.
		fmt.Fprintf(os.Stderr, `{"level":"ERROR","msg":"authorizer configuration","error":%q}`+"\n", err.Error())
		os.Exit(1)
	}
	lambda.Start(a.Handle)
}

// FromEnv returns the authorizer the environment variables of authzspec
// describe; logs go to out. An error names the variable and wraps
// authzspec.ErrConfig.
func FromEnv(getenv func(string) string, out io.Writer) (*Authorizer, error) {
	c, err := authzspec.FromEnv(getenv)
	if err != nil {
		return nil, err
	}
	return New(c, out)
}
