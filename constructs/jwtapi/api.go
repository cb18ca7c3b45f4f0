package jwtapi

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/jwtapi/jwtapi/authzspec"
	"github.com/jwtapi/jwtapi/functions/authz"
	"github.com/jwtapi/jwtapi/internal/gobuild"
)

// lambdaTarget is what handlers are built for: provided.al2023 on arm64.
var lambdaTarget = gobuild.Lambda("arm64")

// core is what HTTP and REST APIs share: validated props with their
// defaults, and the making of Go functions, log groups and the authorizer.
// Its exported methods are the APIs' own.
type core struct {
	scope       constructs.Construct // the API construct
	props       ApiProps
	rest        bool
	authorizers []issuerAuth // the first is the default
	retention   awslogs.RetentionDays
	removal     awscdk.RemovalPolicy
	functions   map[string]awslambda.Function
	shapes      map[string]string
	builds      *builds

	// The Go Lambda authorizer of each JWT authorizer that rule routes use,
	// by authorizer name, with their rules.
	lambdaFns map[string]awslambda.Function
	rules     map[string]authzspec.Rules
}

// newCore validates props (every route included) and applies the defaults.
// Nothing is created when it returns an error.
func newCore(scope constructs.Construct, id string, props *ApiProps, rest bool, authorizers []JwtAuthorizer) (*core, error) {
	if scope == nil {
		return nil, propError("scope", "nil; pass the stack (or construct) the API belongs in")
	}
	if scope.Node().TryFindChild(jsii.String(id)) != nil {
		return nil, propError("id", "%q is already taken in %s; give each API its own id", id, *scope.Node().Path())
	}
	p := *props
	auths, err := resolveAuthorizers(&p, authorizers, rest)
	if err != nil {
		return nil, err
	}
	if err := validateAPI(&p); err != nil {
		return nil, err
	}
	if p.ModuleDir == "" {
		if p.ModuleDir, err = FindModuleDir("."); err != nil {
			return nil, err
		}
	}
	if err := validateLambdaAuthorizer(p.ModuleDir, p.LambdaAuthorizer); err != nil {
		return nil, err
	}
	shapes := map[string]string{}
	for _, key := range sortedKeys(p.Routes) {
		if _, err := validateRoute(p.ModuleDir, key, p.Routes[key], shapes, rest, auths); err != nil {
			return nil, err
		}
	}
	applyDefaults(&p, id)
	retention, _ := retentionFor(p.LogRetention)
	c := &core{
		props:       p,
		rest:        rest,
		authorizers: auths,
		retention:   retention,
		removal:     awscdk.RemovalPolicy_DESTROY,
		functions:   map[string]awslambda.Function{},
		shapes:      map[string]string{},
		lambdaFns:   map[string]awslambda.Function{},
		rules:       map[string]authzspec.Rules{},
	}
	if p.RetainLogs {
		c.removal = awscdk.RemovalPolicy_RETAIN
	}
	return c, nil
}

// attach binds the core to its API construct and starts every build now,
// while jsii creates the constructs.
func (c *core) attach(api constructs.Construct) {
	c.scope = api
	c.builds = buildsOf(api)
	needsAuthorizer := false
	for _, r := range c.props.Routes {
		c.builds.start(c.props.ModuleDir, r.Handler, lambdaTarget)
		needsAuthorizer = needsAuthorizer || r.Rules != nil || (c.rest && !r.Public)
	}
	if needsAuthorizer {
		c.builds.start(c.props.ModuleDir, c.props.LambdaAuthorizer.Handler, lambdaTarget)
	}
}

func applyDefaults(p *ApiProps, id string) {
	if p.Throttle == nil {
		p.Throttle = &Throttle{BurstLimit: DefaultBurstLimit, RateLimit: DefaultRateLimit}
	}
	if p.LogRetention == 0 {
		p.LogRetention = DefaultLogRetention
	}
	if p.MemoryMB == 0 {
		p.MemoryMB = DefaultMemoryMB
	}
	if p.Timeout == 0 {
		p.Timeout = DefaultTimeout
	}
	if p.ApiName == "" {
		p.ApiName = id
	}
	if p.LambdaAuthorizer == nil {
		p.LambdaAuthorizer = &LambdaAuthorizer{}
	}
	if p.LambdaAuthorizer.Handler == "" {
		p.LambdaAuthorizer.Handler = DefaultAuthorizerHandler
	}
}

// routeScopes are the scopes a private route requires: its own, else the defaults.
func (c *core) routeScopes(r Route) []string {
	if r.Public || r.Rules != nil || len(r.Scopes) > 0 {
		return r.Scopes
	}
	return c.props.DefaultScopes
}

func (c *core) warnWithoutScopes(scope constructs.Construct, key string) {
	awscdk.Annotations_Of(scope).AddWarningV2(jsii.String("jwtapi:route-without-scopes"), jsii.String(fmt.Sprintf(
		"route %q requires a valid JWT but no scope: API Gateway cannot tell an ID token from an access token, so any token for this audience gets in; add Scopes", key)))
}

// logGroup is a log group with the API's retention and removal policy.
func (c *core) logGroup(scope constructs.Construct, id string) awslogs.LogGroup {
	return awslogs.NewLogGroup(scope, jsii.String(id), &awslogs.LogGroupProps{Retention: c.retention, RemovalPolicy: c.removal})
}

// goFunction is a Go Lambda built from pkg during synth, with its own log
// group and a role that may write only there. A handler that does not
// compile is an error with the compiler's words.
func (c *core) goFunction(scope constructs.Construct, description, pkg string, memory int, timeout time.Duration, env map[string]string) (awslambda.Function, error) {
	code, err := c.builds.code(c.props.ModuleDir, pkg, lambdaTarget)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", description, err)
	}
	if memory == 0 {
		memory = c.props.MemoryMB
	}
	if timeout == 0 {
		timeout = c.props.Timeout
	}
	vars := map[string]*string{}
	for k, v := range c.props.Environment {
		vars[k] = jsii.String(v)
	}
	for k, v := range env {
		vars[k] = jsii.String(v)
	}
	tracing := awslambda.Tracing_ACTIVE
	if c.props.DisableTracing {
		tracing = awslambda.Tracing_DISABLED
	}
	logs := c.logGroup(scope, "Logs")
	// Least privilege: the function may write to its own log group only,
	// instead of AWSLambdaBasicExecutionRole's logs:* on every group.
	role := awsiam.NewRole(scope, jsii.String("Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("Runs " + description),
	})
	logs.GrantWrite(role)
	fn := awslambda.NewFunction(scope, jsii.String("Function"), &awslambda.FunctionProps{
		Role:          role,
		Description:   jsii.String(fmt.Sprintf("%s (%s)", description, pkg)),
		Runtime:       awslambda.Runtime_PROVIDED_AL2023(),
		Architecture:  awslambda.Architecture_ARM_64(),
		Handler:       jsii.String("bootstrap"),
		Code:          code,
		MemorySize:    jsii.Number(float64(memory)),
		Timeout:       awscdk.Duration_Seconds(jsii.Number(timeout.Seconds())),
		Environment:   &vars,
		Tracing:       tracing,
		LoggingFormat: awslambda.LoggingFormat_JSON,
		LogGroup:      logs,
	})
	suppress(fn, "Serverless-LambdaDLQ", "API Gateway invokes the function synchronously and returns its errors to the client; a dead-letter queue only applies to asynchronous invocations.")
	if tracing == awslambda.Tracing_ACTIVE {
		suppress(role, "AwsSolutions-IAM5", "The wildcard is xray:PutTraceSegments/PutTelemetryRecords added for active tracing: X-Ray has no resource-level permissions.", "Resource::*")
	}
	cfn := fn.Node().DefaultChild().(awslambda.CfnFunction)
	cfn.AddMetadata(jsii.String(MetadataHandler), pkg)
	cfn.AddMetadata(jsii.String(MetadataRouteKey), description)
	return fn, nil
}

// routeFunction is the function serving a route.
func (c *core) routeFunction(scope constructs.Construct, key string, r Route) (awslambda.Function, error) {
	fn, err := c.goFunction(scope, key, r.Handler, r.MemoryMB, r.Timeout, r.Environment)
	if err == nil {
		c.functions[key] = fn
	}
	return fn, err
}

// authorizerFunction returns the Go Lambda authorizer verifying the tokens
// of a JWT authorizer, created on first use; its rules follow every rule
// added.
func (c *core) authorizerFunction(a issuerAuth) (awslambda.Function, error) {
	if fn := c.lambdaFns[a.name]; fn != nil {
		return fn, nil
	}
	la := c.props.LambdaAuthorizer
	cfg := authzspec.Config{Issuer: a.issuer, Audiences: a.audiences, ClientIDAudience: a.clientID,
		JWKSURL: la.JWKSURL, Algorithms: la.Algorithms, Leeway: la.Leeway}
	if la.HMACSecretName != "" {
		// A dynamic reference: CloudFormation resolves it at deploy time, the
		// secret never appears in the template or in cdk.out.
		cfg.HMACSecret = *awscdk.SecretValue_SecretsManager(jsii.String(la.HMACSecretName), nil).UnsafeUnwrap()
	}
	if err := checkAuthorizerConfig(cfg); err != nil {
		return nil, err
	}
	scope := constructs.NewConstruct(c.scope, jsii.String(c.authorizerID("LambdaAuthorizer", a)))
	fn, err := c.goFunction(scope, "JWT Lambda authorizer", la.Handler, 0, 0, cfg.Env())
	if err == nil {
		c.lambdaFns[a.name] = fn
		c.rules[a.name] = authzspec.Rules{}
	}
	return fn, err
}

// checkAuthorizerConfig loads cfg as the Go Lambda authorizer will at its
// init (authz.New): a configuration it would refuse in AWS, answering 500
// to every request, is an error at synth instead.
//
// It also makes this package import the authorizer's code, which matters
// to a module reusing the construct: the authorizer is built inside that
// module during synth, and `go mod tidy` there keeps in go.sum only what
// the module's own packages import. Through this import the authorizer's
// dependencies (aws-lambda-go, golang-jwt, keyfunc, jwkset) stay listed.
func checkAuthorizerConfig(cfg authzspec.Config) error {
	if cfg.HMACSecret != "" {
		// A Secrets Manager reference, resolved at deploy time: its value is
		// not known here, only that one is configured.
		cfg.HMACSecret = strings.Repeat("x", 32)
	}
	if _, err := authz.New(cfg, io.Discard); err != nil {
		return propError("LambdaAuthorizer", "%v", err)
	}
	return nil
}

// authorizerID is the construct id of something made for an authorizer:
// the default authorizer's keeps the plain id, so that adding authorizers
// to an API does not rename its resources.
func (c *core) authorizerID(id string, a issuerAuth) string {
	if a.name == c.authorizers[0].name {
		return id
	}
	return id + "-" + a.name
}

// addRule records a route's rule in the configuration of the Lambda
// authorizer of the route's JWT authorizer.
func (c *core) addRule(a issuerAuth, key string, rule authzspec.Rule) error {
	fn, err := c.authorizerFunction(a)
	if err != nil {
		return err
	}
	c.rules[a.name][key] = rule
	data, _ := json.Marshal(c.rules[a.name])
	fn.AddEnvironment(jsii.String(authzspec.EnvRules), jsii.String(string(data)), nil)
	return nil
}

// suppress records a cdk-nag finding accepted on purpose, with the reason in
// words, on c and its children; appliesTo narrows it to the named findings.
func suppress(c constructs.IConstruct, rule, reason string, appliesTo ...string) {
	sup := &cdknag.NagPackSuppression{Id: jsii.String(rule), Reason: jsii.String(reason)}
	if len(appliesTo) > 0 {
		var at []interface{}
		for _, x := range appliesTo {
			at = append(at, x)
		}
		sup.AppliesTo = &at
	}
	cdknag.NagSuppressions_AddResourceSuppressions(c, &[]*cdknag.NagPackSuppression{sup}, jsii.Bool(true))
}

// The methods HttpApi and RestApi share.

// Issuer is the issuer the API's first (default) authorizer accepts.
func (c *core) Issuer() string { return c.authorizers[0].issuer }

// Function returns the function serving routeKey, or nil if there is no such route.
func (c *core) Function(routeKey string) awslambda.Function { return c.functions[routeKey] }

// AuthorizerFunction returns the Go Lambda authorizer of the default JWT
// authorizer, or nil if the API has none.
func (c *core) AuthorizerFunction() awslambda.Function { return c.lambdaFns[c.authorizers[0].name] }

// RouteKeys lists the API's route keys in sorted order.
func (c *core) RouteKeys() []string { return sortedKeys(c.functions) }
