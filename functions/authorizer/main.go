// Command authorizer is the Go Lambda authorizer: it verifies the caller's
// JWT (golang-jwt, JWKS through keyfunc) and applies per-route rules, for
// HTTP API REQUEST authorizers (simple responses) and REST API TOKEN
// authorizers (IAM policies). It is configured by environment variables,
// which the jwtapi construct sets:
//
//	JWT_ISSUER        required, exact iss
//	JWT_AUDIENCES     required, comma-separated
//	JWT_JWKS_URL      default: the issuer's discovery document's jwks_uri
//	JWT_ALGORITHMS    default RS256, comma-separated
//	JWT_HMAC_SECRET   shared secret for HS256 (only with HS256 in JWT_ALGORITHMS)
//	JWT_LEEWAY        clock skew, a Go duration, default 5s
//	AUTHZ_RULES       JSON map of route key to rule (see package authz)
package main

import (
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

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
	o := authz.Options{
		Issuer:     getenv("JWT_ISSUER"),
		Audiences:  list(getenv("JWT_AUDIENCES")),
		JWKSURL:    getenv("JWT_JWKS_URL"),
		Algorithms: list(getenv("JWT_ALGORITHMS")),
		HMACSecret: []byte(getenv("JWT_HMAC_SECRET")),
	}
	if len(o.HMACSecret) == 0 {
		o.HMACSecret = nil
	}
	if s := getenv("JWT_LEEWAY"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			return nil, fmt.Errorf("%w: JWT_LEEWAY %q: %v", authz.ErrConfig, s, err)
		}
		o.Leeway = d
	}
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	v, err := authz.NewVerifier(o, log)
	if err != nil {
		return nil, err
	}
	rules, err := authz.ParseRules([]byte(getenv("AUTHZ_RULES")))
	if err != nil {
		return nil, err
	}
	return authz.NewAuthorizer(v, rules, os.Stdout), nil
}

func list(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
