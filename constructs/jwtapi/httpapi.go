package jwtapi

import (
	"fmt"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2authorizers"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2integrations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/jwtapi/jwtapi/internal/cfnmeta"
)

// Metadata keys written on each function so that tools reading the
// synthesized template (the local gateway) can find the handler's source.
const (
	MetadataHandler  = cfnmeta.Handler
	MetadataRouteKey = cfnmeta.RouteKey
)

// HttpApi is an API Gateway HTTP API with a JWT authorizer and Go handlers.
// It is a construct: its resources are its children, and it is a scope for
// yours.
type HttpApi struct {
	constructs.Construct
	// core is a named field: jsii inspects the fields a Go construct embeds.
	core   *core
	api    awsapigatewayv2.HttpApi
	stage  awsapigatewayv2.HttpStage
	domain awsapigatewayv2.DomainName
	// domainName is the custom domain's name, empty without one.
	domainName string
	// The JWT authorizers, and the Lambda (REQUEST) authorizers of the rule
	// routes, by JWT authorizer name.
	jwtAuthorizers    map[string]awsapigatewayv2authorizers.HttpJwtAuthorizer
	lambdaAuthorizers map[string]awsapigatewayv2authorizers.HttpLambdaAuthorizer
}

// ToString makes HttpApi an override of Construct, as jsii requires of a Go
// construct; it answers what Construct.toString does.
func (a *HttpApi) ToString() *string { return a.Node().Path() }

// NewHttpApi validates props and creates the API, its JWT authorizer, its
// routes and their functions under scope. A configuration mistake returns
// an error wrapping ErrInvalidProps and creates nothing; a handler that does
// not compile returns the compiler's error.
func NewHttpApi(scope constructs.Construct, id string, props *HttpApiProps) (*HttpApi, error) {
	if props == nil {
		return nil, propError("props", "nil; give at least Issuer or Auth0Domain, Audiences and Routes")
	}
	c, err := newCore(scope, id, &props.ApiProps, false, props.Authorizers)
	if err != nil {
		return nil, err
	}
	if err := validateDomain(props.Domain); err != nil {
		return nil, err
	}
	a := &HttpApi{core: c, jwtAuthorizers: map[string]awsapigatewayv2authorizers.HttpJwtAuthorizer{},
		lambdaAuthorizers: map[string]awsapigatewayv2authorizers.HttpLambdaAuthorizer{}}
	constructs.NewConstruct_Override(a, scope, jsii.String(id))
	c.attach(a)
	p := &c.props
	a.api = awsapigatewayv2.NewHttpApi(a, jsii.String("Resource"), &awsapigatewayv2.HttpApiProps{
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
	for _, auth := range c.authorizers {
		// Each authorizer has its own construct id and name: two with the
		// same would clash in the template or in API Gateway.
		a.jwtAuthorizers[auth.name] = awsapigatewayv2authorizers.NewHttpJwtAuthorizer(jsii.String(c.authorizerID("JwtAuthorizer", auth)),
			jsii.String(auth.issuer), &awsapigatewayv2authorizers.HttpJwtAuthorizerProps{
				AuthorizerName: jsii.String(auth.name),
				JwtAudience:    jsii.Strings(auth.audiences...),
				IdentitySource: jsii.Strings(auth.identitySource),
			})
	}
	if props.Domain != nil {
		a.addDomain(*props.Domain)
	}
	for _, key := range sortedKeys(p.Routes) {
		if err := a.AddRoute(key, p.Routes[key]); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// AddRoute adds a route after construction, validated like the routes in props.
func (a *HttpApi) AddRoute(key string, r Route) error {
	k, err := validateRoute(a.core.props.ModuleDir, key, r, a.core.shapes, false, a.core.authorizers)
	if err != nil {
		return err
	}
	scope := constructs.NewConstruct(a, jsii.String(key))
	fn, err := a.core.routeFunction(scope, key, r)
	if err != nil {
		return err
	}
	scopes := a.core.routeScopes(r)
	auth := a.core.authorizerFor(r)
	var authorizer awsapigatewayv2.IHttpRouteAuthorizer
	switch {
	case r.Public:
		// Public routes say so in the template (AuthorizationType NONE) rather
		// than by the absence of an authorizer.
		authorizer = awsapigatewayv2.NewHttpNoneAuthorizer()
	case r.Rules != nil:
		if authorizer, err = a.lambdaRouteAuthorizer(auth); err != nil {
			return err
		}
		if err := a.core.addRule(auth, key, *r.Rules); err != nil {
			return err
		}
	default:
		authorizer = a.jwtAuthorizers[auth.name]
		if len(scopes) == 0 {
			a.core.warnWithoutScopes(scope, key)
		}
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
	return nil
}

// lambdaRouteAuthorizer is the REQUEST authorizer (payload 2.0, simple
// responses) running the Go Lambda authorizer for the tokens of a JWT
// authorizer, created on first use.
func (a *HttpApi) lambdaRouteAuthorizer(auth issuerAuth) (awsapigatewayv2authorizers.HttpLambdaAuthorizer, error) {
	if la := a.lambdaAuthorizers[auth.name]; la != nil {
		return la, nil
	}
	fn, err := a.core.authorizerFunction(auth)
	if err != nil {
		return nil, err
	}
	ttl := a.core.props.LambdaAuthorizer.CacheTTL
	sources := []string{auth.identitySource}
	if ttl > 0 {
		// Decisions depend on the route's rule: the route belongs in the
		// cache key, or an allow for one route would open the others.
		sources = append(sources, "$context.routeKey")
	}
	la := awsapigatewayv2authorizers.NewHttpLambdaAuthorizer(jsii.String(a.core.authorizerID("LambdaAuthorizer", auth)), fn,
		&awsapigatewayv2authorizers.HttpLambdaAuthorizerProps{
			AuthorizerName:  jsii.String("lambda-" + auth.name),
			ResponseTypes:   &[]awsapigatewayv2authorizers.HttpLambdaResponseType{awsapigatewayv2authorizers.HttpLambdaResponseType_SIMPLE},
			IdentitySource:  jsii.Strings(sources...),
			ResultsCacheTtl: awscdk.Duration_Seconds(jsii.Number(ttl.Seconds())),
		})
	a.lambdaAuthorizers[auth.name] = la
	return la, nil
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
	if a.core.props.DisableAccessLogs {
		return nil
	}
	return &accessLogSettings{
		destination: awsapigatewayv2.NewLogGroupLogDestination(a.core.logGroup(a, "AccessLogs")),
		format:      awsapigateway.AccessLogFormat_Custom(jsii.String(accessLogFormat)),
	}
}

func corsOptions(c *Cors) *awsapigatewayv2.CorsPreflightOptions {
	if c == nil {
		return nil
	}
	var corsMethods []awsapigatewayv2.CorsHttpMethod
	for _, m := range corsMethodsOf(c) {
		corsMethods = append(corsMethods, awsapigatewayv2.CorsHttpMethod(m))
	}
	o := &awsapigatewayv2.CorsPreflightOptions{
		AllowOrigins:     jsii.Strings(c.AllowOrigins...),
		AllowMethods:     &corsMethods,
		AllowHeaders:     jsii.Strings(corsHeadersOf(c)...),
		AllowCredentials: jsii.Bool(c.AllowCredentials),
		MaxAge:           awscdk.Duration_Seconds(jsii.Number(corsMaxAgeOf(c).Seconds())),
	}
	if len(c.ExposeHeaders) > 0 {
		o.ExposeHeaders = jsii.Strings(c.ExposeHeaders...)
	}
	return o
}

func corsMethodsOf(c *Cors) []string {
	if len(c.AllowMethods) > 0 {
		return c.AllowMethods
	}
	return []string{"GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"}
}

func corsHeadersOf(c *Cors) []string {
	if len(c.AllowHeaders) > 0 {
		return c.AllowHeaders
	}
	return []string{"authorization", "content-type"}
}

func corsMaxAgeOf(c *Cors) time.Duration {
	if c.MaxAge > 0 {
		return c.MaxAge
	}
	return 10 * time.Minute
}

// Url is the URL of the API's $default stage, e.g.
// "https://abc123.execute-api.eu-west-1.amazonaws.com/" (a token until deploy).
func (a *HttpApi) Url() *string { return a.stage.Url() }

// Api is the underlying API Gateway HTTP API.
func (a *HttpApi) Api() awsapigatewayv2.HttpApi { return a.api }

// Stage is the API's $default stage.
func (a *HttpApi) Stage() awsapigatewayv2.HttpStage { return a.stage }

// Issuer is the issuer the API's authorizers accept.
func (a *HttpApi) Issuer() string { return a.core.Issuer() }

// Function returns the function serving routeKey, or nil if there is no such route.
func (a *HttpApi) Function(routeKey string) awslambda.Function { return a.core.Function(routeKey) }

// AuthorizerFunction returns the Go Lambda authorizer, or nil if the API has none.
func (a *HttpApi) AuthorizerFunction() awslambda.Function { return a.core.AuthorizerFunction() }

// RouteKeys lists the API's route keys in sorted order.
func (a *HttpApi) RouteKeys() []string { return a.core.RouteKeys() }
