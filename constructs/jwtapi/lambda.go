package jwtapi

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/jwtapi/jwtapi/authzspec"
	"github.com/jwtapi/jwtapi/internal/gobuild"
)

// base holds what HTTP and REST APIs share: validated props with their
// defaults, and the making of Go functions, log groups and the authorizer.
type base struct {
	construct constructs.Construct
	props     Props
	issuer    string
	retention awslogs.RetentionDays
	removal   awscdk.RemovalPolicy
	functions map[string]awslambda.Function
	shapes    map[string]string
	buildDir  string

	authorizerFn awslambda.Function
	rules        authzspec.Rules
}

// newBase validates props (every route included) and applies the defaults.
// Nothing is created when it returns an error.
func newBase(scope constructs.Construct, id string, props *Props, rest bool) (*base, error) {
	if props == nil {
		return nil, propError("props", "nil; give at least Issuer or Auth0Domain, Audiences and Routes")
	}
	p := *props
	issuer, err := validateAPI(&p, rest)
	if err != nil {
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
		if _, err := validateRoute(p.ModuleDir, key, p.Routes[key], shapes, rest); err != nil {
			return nil, err
		}
	}
	applyDefaults(&p, id)
	retention, _ := retentionFor(p.LogRetention)
	b := &base{
		construct: constructs.NewConstruct(scope, jsii.String(id)),
		props:     p,
		issuer:    issuer,
		retention: retention,
		removal:   awscdk.RemovalPolicy_DESTROY,
		functions: map[string]awslambda.Function{},
		shapes:    map[string]string{},
		rules:     authzspec.Rules{},
	}
	if p.RetainLogs {
		b.removal = awscdk.RemovalPolicy_RETAIN
	}
	// Start every build now, while jsii creates the constructs.
	b.buildDir = buildDir(b.construct)
	needsAuthorizer := false
	for _, r := range p.Routes {
		builds.start(b.buildDir, p.ModuleDir, r.Handler, gobuild.Lambda("arm64"))
		needsAuthorizer = needsAuthorizer || r.Rules != nil || (rest && !r.Public)
	}
	if needsAuthorizer {
		builds.start(b.buildDir, p.ModuleDir, p.LambdaAuthorizer.Handler, gobuild.Lambda("arm64"))
	}
	return b, nil
}

func applyDefaults(p *Props, id string) {
	if p.IdentitySource == "" {
		p.IdentitySource = DefaultIdentitySource
	}
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
	if p.StageName == "" {
		p.StageName = DefaultStageName
	}
	if p.LambdaAuthorizer == nil {
		p.LambdaAuthorizer = &LambdaAuthorizer{}
	}
	if p.LambdaAuthorizer.Handler == "" {
		p.LambdaAuthorizer.Handler = DefaultAuthorizerHandler
	}
}

// routeScopes are the scopes a private route requires: its own, else the defaults.
func (b *base) routeScopes(r Route) []string {
	if r.Public || r.Rules != nil || len(r.Scopes) > 0 {
		return r.Scopes
	}
	return b.props.DefaultScopes
}

func (b *base) warnWithoutScopes(scope constructs.Construct, key string) {
	awscdk.Annotations_Of(scope).AddWarningV2(jsii.String("jwtapi:route-without-scopes"), jsii.String(fmt.Sprintf(
		"route %q requires a valid JWT but no scope: API Gateway cannot tell an ID token from an access token, so any token for this audience gets in; add Scopes", key)))
}

// logGroup is a log group with the API's retention and removal policy.
func (b *base) logGroup(scope constructs.Construct, id string) awslogs.LogGroup {
	return awslogs.NewLogGroup(scope, jsii.String(id), &awslogs.LogGroupProps{Retention: b.retention, RemovalPolicy: b.removal})
}

// goFunction is a Go Lambda built from pkg during synth, with its own log
// group and a role that may write only there.
func (b *base) goFunction(scope constructs.Construct, description, pkg string, memory int, timeout time.Duration, env map[string]string) awslambda.Function {
	if memory == 0 {
		memory = b.props.MemoryMB
	}
	if timeout == 0 {
		timeout = b.props.Timeout
	}
	vars := map[string]*string{}
	for k, v := range b.props.Environment {
		vars[k] = jsii.String(v)
	}
	for k, v := range env {
		vars[k] = jsii.String(v)
	}
	tracing := awslambda.Tracing_ACTIVE
	if b.props.DisableTracing {
		tracing = awslambda.Tracing_DISABLED
	}
	logs := b.logGroup(scope, "Logs")
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
		Code:          goCode(b.buildDir, b.props.ModuleDir, pkg, gobuild.Lambda("arm64")),
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
	return fn
}

// routeFunction is the function serving a route.
func (b *base) routeFunction(scope constructs.Construct, key string, r Route) awslambda.Function {
	fn := b.goFunction(scope, key, r.Handler, r.MemoryMB, r.Timeout, r.Environment)
	b.functions[key] = fn
	return fn
}

// authorizerFunction returns the Go Lambda authorizer, created on first
// use; its AUTHZ_RULES follow every rule added.
func (b *base) authorizerFunction() awslambda.Function {
	if b.authorizerFn != nil {
		return b.authorizerFn
	}
	la := b.props.LambdaAuthorizer
	cfg := authzspec.Config{Issuer: b.issuer, Audiences: b.props.Audiences, JWKSURL: la.JWKSURL, Algorithms: la.Algorithms, Leeway: la.Leeway}
	if la.HMACSecretName != "" {
		// A dynamic reference: CloudFormation resolves it at deploy time, the
		// secret never appears in the template or in cdk.out.
		cfg.HMACSecret = *awscdk.SecretValue_SecretsManager(jsii.String(la.HMACSecretName), nil).UnsafeUnwrap()
	}
	env := cfg.Env()
	scope := constructs.NewConstruct(b.construct, jsii.String("LambdaAuthorizer"))
	b.authorizerFn = b.goFunction(scope, "JWT Lambda authorizer", la.Handler, 0, 0, env)
	return b.authorizerFn
}

// addRule records a route's rule in the authorizer's configuration.
func (b *base) addRule(key string, rule authzspec.Rule) {
	b.rules[key] = rule
	data, _ := json.Marshal(b.rules)
	b.authorizerFunction().AddEnvironment(jsii.String(authzspec.EnvRules), jsii.String(string(data)), nil)
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

// Construct is the construct holding everything the API created.
func (b *base) Construct() constructs.Construct { return b.construct }

// Issuer is the issuer the API's authorizers accept.
func (b *base) Issuer() string { return b.issuer }

// Function returns the function serving routeKey, or nil if there is no such route.
func (b *base) Function(routeKey string) awslambda.Function { return b.functions[routeKey] }

// AuthorizerFunction returns the Go Lambda authorizer, or nil if the API has none.
func (b *base) AuthorizerFunction() awslambda.Function { return b.authorizerFn }

// RouteKeys lists the API's route keys in sorted order.
func (b *base) RouteKeys() []string { return sortedKeys(b.functions) }
