package jwtapi

import (
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"maps"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/jwtapi/jwtapi/authzspec"
	"github.com/jwtapi/jwtapi/internal/gobuild"
	"github.com/jwtapi/jwtapi/internal/issuerurl"
	"github.com/jwtapi/jwtapi/internal/routekey"
)

// ErrInvalidProps is wrapped by every configuration error NewHttpApi returns.
var ErrInvalidProps = errors.New("jwtapi: invalid props")

// propError names the offending field and value in one line.
func propError(field, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrInvalidProps, field, fmt.Sprintf(format, args...))
}

// retentions are the retention periods, in days, that CloudWatch Logs accepts.
var retentions = map[int]awslogs.RetentionDays{
	1: awslogs.RetentionDays_ONE_DAY, 3: awslogs.RetentionDays_THREE_DAYS, 5: awslogs.RetentionDays_FIVE_DAYS,
	7: awslogs.RetentionDays_ONE_WEEK, 14: awslogs.RetentionDays_TWO_WEEKS, 30: awslogs.RetentionDays_ONE_MONTH,
	60: awslogs.RetentionDays_TWO_MONTHS, 90: awslogs.RetentionDays_THREE_MONTHS, 120: awslogs.RetentionDays_FOUR_MONTHS,
	150: awslogs.RetentionDays_FIVE_MONTHS, 180: awslogs.RetentionDays_SIX_MONTHS, 365: awslogs.RetentionDays_ONE_YEAR,
	400: awslogs.RetentionDays_THIRTEEN_MONTHS, 545: awslogs.RetentionDays_EIGHTEEN_MONTHS, 731: awslogs.RetentionDays_TWO_YEARS,
	1096: awslogs.RetentionDays_THREE_YEARS, 1827: awslogs.RetentionDays_FIVE_YEARS, 2192: awslogs.RetentionDays_SIX_YEARS,
	2557: awslogs.RetentionDays_SEVEN_YEARS, 2922: awslogs.RetentionDays_EIGHT_YEARS, 3288: awslogs.RetentionDays_NINE_YEARS,
	3653: awslogs.RetentionDays_TEN_YEARS,
}

var (
	stageName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)
	envName   = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)
	auth0Host = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$`)
)

// reservedEnv are environment variables the Lambda service refuses to let a
// function set.
var reservedEnv = []string{"_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
	"AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR"}

// ResolveIssuer returns the issuer URL described by issuer or auth0Domain,
// checked the way NewHttpApi checks it.
func ResolveIssuer(issuer, auth0Domain string) (string, error) {
	switch {
	case issuer != "" && auth0Domain != "":
		return "", propError("Issuer", "set Issuer (%q) or Auth0Domain (%q), not both", issuer, auth0Domain)
	case auth0Domain != "":
		d := strings.ToLower(auth0Domain)
		if !auth0Host.MatchString(d) {
			return "", propError("Auth0Domain", "%q is not a domain name; give the bare tenant domain such as \"example.us.auth0.com\" (no https://, no path)", auth0Domain)
		}
		return "https://" + d + "/", nil
	case issuer == "":
		return "", propError("Issuer", "set Issuer (the token's iss, e.g. \"https://example.us.auth0.com/\") or Auth0Domain")
	}
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return "", propError("Issuer", "%q is not an absolute URL such as \"https://example.us.auth0.com/\"", issuer)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", propError("Issuer", "%q must not carry a query, fragment or user info", issuer)
	}
	if err := issuerurl.Check(issuer); err != nil {
		// Tokens from a plain-http issuer could be forged in transit; http is
		// for a loopback issuer on this machine (local use) only.
		return "", propError("Issuer", "%q %v", issuer, err)
	}
	if strings.HasSuffix(u.Hostname(), ".auth0.com") && !strings.HasSuffix(issuer, "/") {
		// Auth0 writes iss with a trailing slash and API Gateway compares it
		// exactly: without the slash every request would get 401.
		return "", propError("Issuer", "%q is an Auth0 issuer and must end with \"/\" (Auth0's iss is %q)", issuer, issuer+"/")
	}
	return issuer, nil
}

// validateAPI checks the API-wide props, but for the authorizers
// (resolveAuthorizers).
func validateAPI(p *ApiProps) error {
	if err := validateScopes("DefaultScopes", p.DefaultScopes); err != nil {
		return err
	}
	if len(p.Routes) == 0 {
		return propError("Routes", "must hold at least one route, e.g. \"GET /hello\"")
	}
	if p.Cors != nil {
		if len(p.Cors.AllowOrigins) == 0 {
			return propError("Cors.AllowOrigins", "must list at least one origin such as \"https://app.example.com\"")
		}
		if p.Cors.AllowCredentials && slices.Contains(p.Cors.AllowOrigins, "*") {
			// Browsers refuse credentialed requests to a wildcard origin.
			return propError("Cors.AllowOrigins", "\"*\" cannot be combined with AllowCredentials; list the origins")
		}
		for _, m := range p.Cors.AllowMethods {
			if m != "*" && !slices.Contains(routekey.Methods, m) {
				return propError("Cors.AllowMethods", "%q is not an HTTP method", m)
			}
		}
		if p.Cors.MaxAge < 0 {
			return propError("Cors.MaxAge", "%s is negative", p.Cors.MaxAge)
		}
	}
	if t := p.Throttle; t != nil && (t.BurstLimit <= 0 || t.RateLimit <= 0) {
		return propError("Throttle", "BurstLimit (%d) and RateLimit (%g) must both be greater than 0", t.BurstLimit, t.RateLimit)
	}
	if p.LogRetention != 0 {
		if _, err := retentionFor(p.LogRetention); err != nil {
			return err
		}
	}
	if err := validateSizing("", p.MemoryMB, p.Timeout); err != nil {
		return err
	}
	if err := validateEnv("Environment", p.Environment); err != nil {
		return err
	}
	return nil
}

func validateLambdaAuthorizer(moduleDir string, l *LambdaAuthorizer) error {
	if l == nil {
		return nil
	}
	if l.CacheTTL < 0 || l.CacheTTL > MaxCacheTTL || l.CacheTTL%time.Second != 0 {
		return propError("LambdaAuthorizer.CacheTTL", "%s must be whole seconds between 0 and %s", l.CacheTTL, MaxCacheTTL)
	}
	if l.Leeway < 0 || l.Leeway > authzspec.MaxLeeway {
		return propError("LambdaAuthorizer.Leeway", "%s must be between 0 and %s", l.Leeway, authzspec.MaxLeeway)
	}
	if l.Handler != "" {
		if err := checkHandler(moduleDir, l.Handler); err != nil {
			return propError("LambdaAuthorizer.Handler", "%v", err)
		}
	}
	hs := slices.Contains(l.Algorithms, "HS256")
	if hs != (l.HMACSecretName != "") {
		return propError("LambdaAuthorizer.HMACSecretName", "%q with Algorithms %v: HS256 needs a secret and a secret needs HS256", l.HMACSecretName, l.Algorithms)
	}
	return nil
}

// retentionFor converts a duration to a CloudWatch Logs retention.
func retentionFor(d time.Duration) (awslogs.RetentionDays, error) {
	r, ok := retentions[int(d/(24*time.Hour))]
	if !ok || d%(24*time.Hour) != 0 {
		days := slices.Sorted(maps.Keys(retentions))
		return "", propError("LogRetention", "%s is not a CloudWatch Logs retention; use whole days, one of %v", d, days)
	}
	return r, nil
}

func validateSizing(prefix string, memoryMB int, timeout time.Duration) error {
	if memoryMB != 0 && (memoryMB < 128 || memoryMB > 10240) {
		return propError(prefix+"MemoryMB", "%d is outside Lambda's 128-10240 MB", memoryMB)
	}
	if timeout != 0 && (timeout < time.Second || timeout > MaxTimeout || timeout%time.Second != 0) {
		return propError(prefix+"Timeout", "%s must be whole seconds between 1s and %s (API Gateway's integration timeout)", timeout, MaxTimeout)
	}
	return nil
}

func validateScopes(field string, scopes []string) error {
	for i, s := range scopes {
		if s == "" || strings.ContainsAny(s, " \t\r\n") {
			return propError(fmt.Sprintf("%s[%d]", field, i), "scope %q must be non-empty and contain no whitespace", s)
		}
	}
	return nil
}

func validateEnv(field string, env map[string]string) error {
	for _, k := range sortedKeys(env) {
		if !envName.MatchString(k) {
			return propError(field, "variable name %q must start with a letter and hold only letters, digits and _", k)
		}
		if slices.Contains(reservedEnv, k) || strings.HasPrefix(k, "AWS_LAMBDA_") {
			return propError(field, "variable %q is reserved by AWS Lambda", k)
		}
	}
	return nil
}

// validateRoute checks one route; shapes holds the shapes of routes seen so
// far, so that routes API Gateway would consider the same are refused.
func validateRoute(moduleDir, key string, r Route, shapes map[string]string, rest bool, authorizers []issuerAuth) (routekey.Key, error) {
	field := fmt.Sprintf("Routes[%q]", key)
	k, err := routekey.Parse(key)
	if err != nil {
		return k, propError(field, "%v", err)
	}
	if rest && k.IsDefault() {
		return k, propError(field, "a REST API has no $default route; use \"ANY /{proxy+}\"")
	}
	if prev, ok := shapes[k.Shape()]; ok {
		return k, propError(field, "duplicate route: API Gateway treats it as the same route as %q", prev)
	}
	if r.Public && len(r.Scopes) > 0 {
		return k, propError(field+".Scopes", "%v: a public route cannot require scopes; remove them or drop Public", r.Scopes)
	}
	if r.Authorizer != "" {
		var names []string
		for _, a := range authorizers {
			names = append(names, a.name)
		}
		switch {
		case r.Public:
			return k, propError(field+".Authorizer", "%q: a public route has no authorizer; remove it or drop Public", r.Authorizer)
		case rest && r.Authorizer != RestJwtAuthorizerName && r.Authorizer != RestLambdaAuthorizerName:
			return k, propError(field+".Authorizer", "%q: a REST API's routes use %q (the native JWT authorizer) or %q (the Go Lambda authorizer)", r.Authorizer, RestJwtAuthorizerName, RestLambdaAuthorizerName)
		case rest:
		case r.Public:
			return k, propError(field+".Authorizer", "%q: a public route has no authorizer; remove it or drop Public", r.Authorizer)
		case !slices.Contains(names, r.Authorizer):
			return k, propError(field+".Authorizer", "%q is not one of the API's authorizers (%s)", r.Authorizer, strings.Join(names, ", "))
		}
	}
	if r.Rules != nil {
		switch {
		case r.Public:
			return k, propError(field+".Rules", "a public route cannot have rules; remove them or drop Public")
		case len(r.Scopes) > 0:
			return k, propError(field+".Scopes", "%v: a route with Rules is checked by the Lambda authorizer; put the scopes in Rules.AnyScopes", r.Scopes)
		}
		if err := r.Rules.Validate(); err != nil {
			return k, propError(field+".Rules", "%v", err)
		}
	}
	if err := validateScopes(field+".Scopes", r.Scopes); err != nil {
		return k, err
	}
	if err := validateSizing(field+".", r.MemoryMB, r.Timeout); err != nil {
		return k, err
	}
	if err := validateEnv(field+".Environment", r.Environment); err != nil {
		return k, err
	}
	if err := checkHandler(moduleDir, r.Handler); err != nil {
		return k, propError(field+".Handler", "%v", err)
	}
	shapes[k.Shape()] = key
	return k, nil
}

// checkHandler makes sure dir (relative to moduleDir) holds a main package.
func checkHandler(moduleDir, dir string) error {
	if dir == "" {
		return errors.New("empty; give the handler's package directory, e.g. \"functions/hello\"")
	}
	if gobuild.IsImportPath(dir) {
		return checkImportPath(moduleDir, dir)
	}
	if filepath.IsAbs(dir) || strings.HasPrefix(filepath.Clean(dir), "..") {
		return fmt.Errorf("%q must be a directory inside the module %s", dir, moduleDir)
	}
	abs := filepath.Join(moduleDir, dir)
	files, _ := filepath.Glob(filepath.Join(abs, "*.go"))
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		parsed, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.PackageClauseOnly)
		if err != nil {
			return fmt.Errorf("%q: %v", dir, err)
		}
		if parsed.Name.Name == "main" {
			return nil
		}
		return fmt.Errorf("%q holds package %s; a handler must be package main calling lambda.Start", dir, parsed.Name.Name)
	}
	if _, err := os.Stat(abs); err != nil {
		return fmt.Errorf("%q does not exist (looked in %s)", dir, abs)
	}
	return fmt.Errorf("%q holds no Go files (looked in %s)", dir, abs)
}

// checkImportPath asks the go command whether pkg is a main package the
// module can build (a dependency's command, such as the authorizer).
func checkImportPath(moduleDir, pkg string) error {
	cmd := exec.Command("go", "list", "-f", "{{.Name}}", pkg)
	cmd.Dir = moduleDir
	out, err := cmd.CombinedOutput()
	if err != nil {
		first, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
		return fmt.Errorf("%q cannot be built from %s: %s (add its module with go get)", pkg, moduleDir, first)
	}
	if name := strings.TrimSpace(string(out)); name != "main" {
		return fmt.Errorf("%q is package %s; a handler must be package main calling lambda.Start", pkg, name)
	}
	return nil
}

// FindModuleDir returns the nearest directory at or above dir holding go.mod.
func FindModuleDir(dir string) (string, error) {
	d, err := gobuild.ModuleDir(dir)
	if err != nil {
		return "", propError("ModuleDir", "%v; set ModuleDir to your Go module's directory", err)
	}
	return d, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
