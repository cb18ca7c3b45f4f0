package jwtapi

import (
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2authorizers"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2integrations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/jwtapi/jwtapi/internal/cfnmeta"
	"github.com/jwtapi/jwtapi/internal/gobuild"
)

// Metadata keys written on each function so that tools reading the
// synthesized template (the local gateway) can find the handler's source.
const (
	MetadataHandler  = cfnmeta.Handler
	MetadataRouteKey = cfnmeta.RouteKey
)

// HttpApi is an API Gateway HTTP API with a JWT authorizer and Go handlers.
//
// HttpApi is not itself a jsii object: pass Construct() where a scope is needed.
type HttpApi struct {
	construct  constructs.Construct
	props      HttpApiProps
	issuer     string
	moduleDir  string
	retention  awslogs.RetentionDays
	removal    awscdk.RemovalPolicy
	api        awsapigatewayv2.HttpApi
	stage      awsapigatewayv2.HttpStage
	authorizer awsapigatewayv2authorizers.HttpJwtAuthorizer
	functions  map[string]awslambda.Function
	shapes     map[string]string
}

// NewHttpApi validates props and creates the API, its JWT authorizer, its
// routes and their functions under scope. A configuration mistake returns an
// error wrapping ErrInvalidProps and creates nothing.
func NewHttpApi(scope constructs.Construct, id string, props *HttpApiProps) (*HttpApi, error) {
	if props == nil {
		return nil, propError("props", "nil; give at least Issuer or Auth0Domain, Audiences and Routes")
	}
	p := *props
	issuer, err := validateAPI(&p)
	if err != nil {
		return nil, err
	}
	if p.ModuleDir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return nil, err
		}
		if p.ModuleDir, err = FindModuleDir(wd); err != nil {
			return nil, err
		}
	}
	shapes := map[string]string{}
	keys := sortedKeys(p.Routes)
	for _, key := range keys {
		if _, err := validateRoute(p.ModuleDir, key, p.Routes[key], shapes); err != nil {
			return nil, err
		}
	}
	applyDefaults(&p)
	retention, _ := retentionFor(p.LogRetention)

	a := &HttpApi{
		construct: constructs.NewConstruct(scope, jsii.String(id)),
		props:     p,
		issuer:    issuer,
		moduleDir: p.ModuleDir,
		retention: retention,
		removal:   awscdk.RemovalPolicy_DESTROY,
		functions: map[string]awslambda.Function{},
		shapes:    map[string]string{},
	}
	if p.RetainLogs {
		a.removal = awscdk.RemovalPolicy_RETAIN
	}
	if p.ApiName == "" {
		p.ApiName = id
	}
	a.api = awsapigatewayv2.NewHttpApi(a.construct, jsii.String("Resource"), &awsapigatewayv2.HttpApiProps{
		ApiName:            jsii.String(p.ApiName),
		CreateDefaultStage: jsii.Bool(false),
		CorsPreflight:      corsOptions(p.Cors),
	})
	a.stage = a.api.AddStage(jsii.String("DefaultStage"), &awsapigatewayv2.HttpStageOptions{
		StageName:  jsii.String("$default"),
		AutoDeploy: jsii.Bool(true),
		Throttle: &awsapigatewayv2.ThrottleSettings{
			BurstLimit: jsii.Number(float64(p.Throttle.BurstLimit)),
			RateLimit:  jsii.Number(p.Throttle.RateLimit),
		},
		AccessLogSettings: a.accessLogs(),
	})
	a.authorizer = awsapigatewayv2authorizers.NewHttpJwtAuthorizer(jsii.String("JwtAuthorizer"), jsii.String(issuer),
		&awsapigatewayv2authorizers.HttpJwtAuthorizerProps{
			AuthorizerName: jsii.String("jwt"),
			JwtAudience:    jsii.Strings(p.Audiences...),
			IdentitySource: jsii.Strings(p.IdentitySource),
		})
	for _, key := range keys {
		if err := a.AddRoute(key, p.Routes[key]); err != nil {
			return nil, err
		}
	}
	return a, nil
}

func applyDefaults(p *HttpApiProps) {
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
}

// AddRoute adds a route after construction, validated like the routes in props.
func (a *HttpApi) AddRoute(key string, r Route) error {
	k, err := validateRoute(a.moduleDir, key, r, a.shapes)
	if err != nil {
		return err
	}
	scope := constructs.NewConstruct(a.construct, jsii.String(key))
	fn := a.newFunction(scope, key, r)
	scopes := r.Scopes
	if !r.Public && len(scopes) == 0 {
		scopes = a.props.DefaultScopes
	}
	var authorizer awsapigatewayv2.IHttpRouteAuthorizer = a.authorizer
	if r.Public {
		// Public routes say so in the template (AuthorizationType NONE) rather
		// than by the absence of an authorizer.
		authorizer = awsapigatewayv2.NewHttpNoneAuthorizer()
	} else if len(scopes) == 0 {
		awscdk.Annotations_Of(scope).AddWarningV2(jsii.String("jwtapi:route-without-scopes"), jsii.String(fmt.Sprintf(
			"route %q requires a valid JWT but no scope: API Gateway cannot tell an ID token from an access token, so any token for this audience gets in; add Scopes", key)))
	}
	routeKey := awsapigatewayv2.HttpRouteKey_DEFAULT()
	if !k.IsDefault() {
		routeKey = awsapigatewayv2.HttpRouteKey_With(jsii.String(k.Path), awsapigatewayv2.HttpMethod(k.Method))
	}
	var routeScopes *[]*string
	if len(scopes) > 0 {
		routeScopes = jsii.Strings(scopes...)
	}
	route := awsapigatewayv2.NewHttpRoute(scope, jsii.String("Route"), &awsapigatewayv2.HttpRouteProps{
		HttpApi:  a.api,
		RouteKey: routeKey,
		Integration: awsapigatewayv2integrations.NewHttpLambdaIntegration(jsii.String("Integration"), fn,
			&awsapigatewayv2integrations.HttpLambdaIntegrationProps{
				PayloadFormatVersion: awsapigatewayv2.PayloadFormatVersion_VERSION_2_0(),
			}),
		Authorizer:          authorizer,
		AuthorizationScopes: routeScopes,
	})
	if r.Public {
		suppress(route, "AwsSolutions-APIG4", fmt.Sprintf("Route %q is declared Public in the API's routes: reachable without a token on purpose.", key))
	}
	a.functions[key] = fn
	return nil
}

func (a *HttpApi) newFunction(scope constructs.Construct, key string, r Route) awslambda.Function {
	memory, timeout := a.props.MemoryMB, a.props.Timeout
	if r.MemoryMB != 0 {
		memory = r.MemoryMB
	}
	if r.Timeout != 0 {
		timeout = r.Timeout
	}
	env := map[string]*string{}
	for k, v := range a.props.Environment {
		env[k] = jsii.String(v)
	}
	for k, v := range r.Environment {
		env[k] = jsii.String(v)
	}
	tracing := awslambda.Tracing_ACTIVE
	if a.props.DisableTracing {
		tracing = awslambda.Tracing_DISABLED
	}
	logs := awslogs.NewLogGroup(scope, jsii.String("Logs"), &awslogs.LogGroupProps{
		Retention:     a.retention,
		RemovalPolicy: a.removal,
	})
	// Least privilege: the function may write to its own log group only,
	// instead of AWSLambdaBasicExecutionRole's logs:* on every group.
	role := awsiam.NewRole(scope, jsii.String("Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("Runs " + key),
	})
	logs.GrantWrite(role)
	fn := awslambda.NewFunction(scope, jsii.String("Function"), &awslambda.FunctionProps{
		Role:          role,
		Description:   jsii.String(fmt.Sprintf("%s (%s)", key, r.Handler)),
		Runtime:       awslambda.Runtime_PROVIDED_AL2023(),
		Architecture:  awslambda.Architecture_ARM_64(),
		Handler:       jsii.String("bootstrap"),
		Code:          goCode(a.moduleDir, r.Handler, gobuild.Lambda("arm64")),
		MemorySize:    jsii.Number(float64(memory)),
		Timeout:       awscdk.Duration_Seconds(jsii.Number(timeout.Seconds())),
		Environment:   &env,
		Tracing:       tracing,
		LoggingFormat: awslambda.LoggingFormat_JSON,
		LogGroup:      logs,
	})
	suppress(fn, "Serverless-LambdaDLQ", "API Gateway invokes the function synchronously and returns its errors to the client; a dead-letter queue only applies to asynchronous invocations.")
	if tracing == awslambda.Tracing_ACTIVE {
		suppress(role, "AwsSolutions-IAM5", "The wildcard is xray:PutTraceSegments/PutTelemetryRecords added for active tracing: X-Ray has no resource-level permissions.", "Resource::*")
	}
	cfn := fn.Node().DefaultChild().(awslambda.CfnFunction)
	cfn.AddMetadata(jsii.String(MetadataHandler), r.Handler)
	cfn.AddMetadata(jsii.String(MetadataRouteKey), key)
	return fn
}

// accessLogFormat is one JSON object per request. Values are quoted so that a
// missing value ("-") still gives valid JSON.
const accessLogFormat = `{"requestId":"$context.requestId","requestTime":"$context.requestTime","ip":"$context.identity.sourceIp",` +
	`"userAgent":"$context.identity.userAgent","httpMethod":"$context.httpMethod","path":"$context.path",` +
	`"routeKey":"$context.routeKey","status":"$context.status","protocol":"$context.protocol",` +
	`"responseLength":"$context.responseLength","latency":"$context.responseLatency",` +
	`"integrationLatency":"$context.integrationLatency","integrationError":"$context.integrationErrorMessage",` +
	`"authorizerError":"$context.authorizer.error"}`

// accessLogSettings implements awsapigatewayv2.IAccessLogSettings; passed to
// jsii as a pointer.
type accessLogSettings struct {
	destination awsapigatewayv2.IAccessLogDestination
	format      awsapigateway.AccessLogFormat
}

func (s *accessLogSettings) Destination() awsapigatewayv2.IAccessLogDestination { return s.destination }
func (s *accessLogSettings) Format() awsapigateway.AccessLogFormat              { return s.format }

func (a *HttpApi) accessLogs() awsapigatewayv2.IAccessLogSettings {
	if a.props.DisableAccessLogs {
		return nil
	}
	group := awslogs.NewLogGroup(a.construct, jsii.String("AccessLogs"), &awslogs.LogGroupProps{
		Retention:     a.retention,
		RemovalPolicy: a.removal,
	})
	return &accessLogSettings{
		destination: awsapigatewayv2.NewLogGroupLogDestination(group),
		format:      awsapigateway.AccessLogFormat_Custom(jsii.String(accessLogFormat)),
	}
}

func corsOptions(c *Cors) *awsapigatewayv2.CorsPreflightOptions {
	if c == nil {
		return nil
	}
	methods := c.AllowMethods
	if len(methods) == 0 {
		methods = []string{"GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"}
	}
	var corsMethods []awsapigatewayv2.CorsHttpMethod
	for _, m := range methods {
		corsMethods = append(corsMethods, awsapigatewayv2.CorsHttpMethod(m))
	}
	headers := c.AllowHeaders
	if len(headers) == 0 {
		headers = []string{"authorization", "content-type"}
	}
	maxAge := c.MaxAge
	if maxAge == 0 {
		maxAge = 10 * time.Minute
	}
	o := &awsapigatewayv2.CorsPreflightOptions{
		AllowOrigins:     jsii.Strings(c.AllowOrigins...),
		AllowMethods:     &corsMethods,
		AllowHeaders:     jsii.Strings(headers...),
		AllowCredentials: jsii.Bool(c.AllowCredentials),
		MaxAge:           awscdk.Duration_Seconds(jsii.Number(maxAge.Seconds())),
	}
	if len(c.ExposeHeaders) > 0 {
		o.ExposeHeaders = jsii.Strings(c.ExposeHeaders...)
	}
	return o
}

// Url is the URL of the API's $default stage, e.g.
// "https://abc123.execute-api.eu-west-1.amazonaws.com/" (a token until deploy).
func (a *HttpApi) Url() *string { return a.stage.Url() }

// Construct is the construct holding everything the API created.
func (a *HttpApi) Construct() constructs.Construct { return a.construct }

// Api is the underlying API Gateway HTTP API.
func (a *HttpApi) Api() awsapigatewayv2.HttpApi { return a.api }

// Stage is the API's $default stage.
func (a *HttpApi) Stage() awsapigatewayv2.HttpStage { return a.stage }

// Issuer is the issuer the JWT authorizer accepts.
func (a *HttpApi) Issuer() string { return a.issuer }

// Function returns the function serving routeKey, or nil if there is no such route.
func (a *HttpApi) Function(routeKey string) awslambda.Function { return a.functions[routeKey] }

// RouteKeys lists the API's route keys in sorted order.
func (a *HttpApi) RouteKeys() []string {
	keys := sortedKeys(a.functions)
	slices.Sort(keys)
	return keys
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
