package jwtapi

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/jwtapi/jwtapi/authzspec"
)

// RestApi is an API Gateway REST API whose private routes are guarded by
// API Gateway's native JWT authorizer (issuer, audiences, algorithms,
// required claims, per-method scopes: no function runs), or by the Go
// Lambda authorizer as a TOKEN authorizer for the rules the native one
// cannot check (permissions, claim values, all-of scopes). Routes, public
// routes, scopes and rules mean what they mean for NewHttpApi.
//
// Denials carry their code to the client through gateway responses:
// UNAUTHORIZED (401) answers a missing or invalid token (native), or a
// missing or malformed Authorization header (Lambda: refused before the
// authorizer runs); ACCESS_DENIED (403) answers {"error": "Token has
// expired.", "code": "ERR_JWT_EXPIRED"} for what the Lambda authorizer
// refuses, and a valid token without the method's scopes. (A REST Lambda
// authorizer can only pass a per-request body on a 403: a 401 body is static.)
type RestApi struct {
	constructs.Construct
	// core is a named field: jsii inspects the fields a Go construct embeds.
	core       *core
	stageName  string
	api        awsapigateway.RestApi
	authorizer awsapigateway.TokenAuthorizer
	// jwt is the native JWT authorizer, created on first use; nil when
	// disabled (issuers is nil then).
	jwt     awsapigateway.CfnAuthorizer
	issuers []restIssuer
	algs    []string
}

// ToString makes RestApi an override of Construct, as jsii requires of a Go
// construct; it answers what Construct.toString does.
func (a *RestApi) ToString() *string { return a.Node().Path() }

// bearerPattern is what API Gateway checks the Authorization header against
// before invoking the authorizer: anything else is refused with 401 for free.
const bearerPattern = `^[Bb][Ee][Aa][Rr][Ee][Rr] [-0-9A-Za-z._~+/]+=*$`

// restAccessLogFormat is the REST flavour of the JSON access log.
const restAccessLogFormat = `{"requestId":"$context.requestId","requestTime":"$context.requestTime","ip":"$context.identity.sourceIp",` +
	`"userAgent":"$context.identity.userAgent","httpMethod":"$context.httpMethod","path":"$context.path",` +
	`"resourcePath":"$context.resourcePath","status":"$context.status","protocol":"$context.protocol",` +
	`"responseLength":"$context.responseLength","latency":"$context.responseLatency",` +
	`"integrationLatency":"$context.integration.latency","integrationError":"$context.integration.error",` +
	`"authorizerError":"$context.authorizer.error","authorizerCode":"$context.authorizer.code"}`

// NewRestApi validates props and creates the REST API, its TOKEN authorizer,
// gateway responses, routes and functions under scope. A configuration
// mistake returns an error wrapping ErrInvalidProps and creates nothing; a
// handler that does not compile returns the compiler's error.
func NewRestApi(scope constructs.Construct, id string, props *RestApiProps) (*RestApi, error) {
	if props == nil {
		return nil, propError("props", "nil; give at least Issuer or Auth0Domain, Audiences and Routes")
	}
	if props.StageName != "" && !stageName.MatchString(props.StageName) {
		return nil, propError("StageName", "%q must be letters, digits, - and _", props.StageName)
	}
	c, err := newCore(scope, id, &props.ApiProps, true, nil)
	if err != nil {
		return nil, err
	}
	a := &RestApi{core: c, stageName: props.StageName}
	if j := props.JwtAuthorizer; j == nil || !j.Disabled {
		if j == nil {
			j = &RestJwtAuthorizer{}
		}
		if a.issuers, a.algs, err = resolveRestJwt(j, c.authorizers[0]); err != nil {
			return nil, err
		}
	} else if len(j.Algorithms)+len(j.RequiredClaims)+len(j.MoreIssuers) > 0 {
		return nil, propError("JwtAuthorizer", "Disabled with Algorithms, RequiredClaims or MoreIssuers set: they configure the authorizer you disable")
	}
	if a.stageName == "" {
		a.stageName = DefaultStageName
	}
	constructs.NewConstruct_Override(a, scope, jsii.String(id))
	c.attach(a)
	p := &c.props
	deploy := &awsapigateway.StageOptions{
		StageName:            jsii.String(a.stageName),
		ThrottlingBurstLimit: jsii.Number(float64(p.Throttle.BurstLimit)),
		ThrottlingRateLimit:  jsii.Number(p.Throttle.RateLimit),
		TracingEnabled:       jsii.Bool(!p.DisableTracing),
		MetricsEnabled:       jsii.Bool(true),
	}
	if !p.DisableAccessLogs {
		deploy.AccessLogDestination = awsapigateway.NewLogGroupLogDestination(c.logGroup(a, "AccessLogs"))
		deploy.AccessLogFormat = awsapigateway.AccessLogFormat_Custom(jsii.String(restAccessLogFormat))
	}
	restProps := &awsapigateway.RestApiProps{
		RestApiName:   jsii.String(p.ApiName),
		DeployOptions: deploy,
		// No account-wide CloudWatch role: access logs need none, and a stack
		// should not change a setting shared by every API of the account.
		CloudWatchRole: jsii.Bool(false),
		EndpointTypes:  &[]awsapigateway.EndpointType{awsapigateway.EndpointType_REGIONAL},
	}
	if c := p.Cors; c != nil {
		restProps.DefaultCorsPreflightOptions = &awsapigateway.CorsOptions{
			AllowOrigins:     jsii.Strings(c.AllowOrigins...),
			AllowMethods:     jsii.Strings(corsMethodsOf(c)...),
			AllowHeaders:     jsii.Strings(corsHeadersOf(c)...),
			AllowCredentials: jsii.Bool(c.AllowCredentials),
			MaxAge:           awscdk.Duration_Seconds(jsii.Number(corsMaxAgeOf(c).Seconds())),
		}
		if len(c.ExposeHeaders) > 0 {
			restProps.DefaultCorsPreflightOptions.ExposeHeaders = jsii.Strings(c.ExposeHeaders...)
		}
	}
	a.api = awsapigateway.NewRestApi(a, jsii.String("Resource"), restProps)
	a.gatewayResponses()
	suppress(a.api, "AwsSolutions-APIG2", "Every method is a Lambda proxy integration; the handlers validate their input and answer 400 with a reason.")
	suppress(a.api, "AwsSolutions-APIG3", "AWS WAF is an account-level choice with its own cost; attach a web ACL to the stage where needed.")
	suppress(a.api, "AwsSolutions-APIG6", "JSON access logs are on; execution logging would need the account-wide CloudWatch role this stack deliberately does not set.")
	if d := a.api.LatestDeployment(); d != nil {
		suppress(d, "CdkNagValidationFailure", "cdk-nag's structured-logging rule cannot read the deployment resource, which has no logs of its own; the stage it deploys has JSON access logs.", "Serverless-APIGWStructuredLogging")
	}
	for _, key := range sortedKeys(p.Routes) {
		if err := a.AddRoute(key, p.Routes[key]); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// gatewayResponses give API Gateway's own answers JSON bodies with codes.
func (a *RestApi) gatewayResponses() {
	json := func(body string) *map[string]*string {
		return &map[string]*string{"application/json": jsii.String(body)}
	}
	a.api.AddGatewayResponse(jsii.String("Unauthorized"), &awsapigateway.GatewayResponseOptions{
		Type:            awsapigateway.ResponseType_UNAUTHORIZED(),
		StatusCode:      jsii.String("401"),
		ResponseHeaders: &map[string]*string{"WWW-Authenticate": jsii.String("'Bearer'")},
		Templates:       json(`{"error":"Missing or invalid token: send a valid access token as Authorization: Bearer <token>.","code":"ERR_JWT_INVALID"}`),
	})
	// The authorizer's context (error, code) is the body; a deny without one
	// (an IAM policy that simply does not cover the route) says so generically.
	a.api.AddGatewayResponse(jsii.String("AccessDenied"), &awsapigateway.GatewayResponseOptions{
		Type:       awsapigateway.ResponseType_ACCESS_DENIED(),
		StatusCode: jsii.String("403"),
		Templates: json(`#if("$context.authorizer.code" != "")` +
			`{"error":"$context.authorizer.error","code":"$context.authorizer.code"}` +
			`#else{"error":"Forbidden.","code":"AUTH_ERROR"}#end`),
	})
	for _, t := range []struct {
		id  string
		typ awsapigateway.ResponseType
	}{{"AuthorizerFailure", awsapigateway.ResponseType_AUTHORIZER_FAILURE()}, {"AuthorizerConfigurationError", awsapigateway.ResponseType_AUTHORIZER_CONFIGURATION_ERROR()}} {
		a.api.AddGatewayResponse(jsii.String(t.id), &awsapigateway.GatewayResponseOptions{
			Type: t.typ, StatusCode: jsii.String("500"),
			Templates: json(`{"error":"The authorizer failed; see its logs.","code":"AUTH_ERROR"}`),
		})
	}
}

// tokenAuthorizer is the TOKEN authorizer, created on first use. Its cache
// key is the token, so its policy must hold for every route: the Go
// authorizer returns a policy covering the whole API (see authzspec.HandleREST).
func (a *RestApi) tokenAuthorizer() (awsapigateway.TokenAuthorizer, error) {
	if a.authorizer != nil {
		return a.authorizer, nil
	}
	auth := a.core.authorizers[0]
	fn, err := a.core.authorizerFunction(auth)
	if err != nil {
		return nil, err
	}
	header := strings.TrimPrefix(auth.identitySource, "$request.header.")
	a.authorizer = awsapigateway.NewTokenAuthorizer(a, jsii.String("TokenAuthorizer"), &awsapigateway.TokenAuthorizerProps{
		Handler:         fn,
		AuthorizerName:  jsii.String("lambda-jwt"),
		IdentitySource:  jsii.String("method.request.header." + header),
		ValidationRegex: jsii.String(bearerPattern),
		ResultsCacheTtl: awscdk.Duration_Seconds(jsii.Number(a.core.props.LambdaAuthorizer.CacheTTL.Seconds())),
	})
	return a.authorizer, nil
}

// AddRoute adds a route after construction, validated like the routes in props.
func (a *RestApi) AddRoute(key string, r Route) error {
	k, err := validateRoute(a.core.props.ModuleDir, key, r, a.core.shapes, true, a.core.authorizers)
	if err != nil {
		return err
	}
	native, scopes, err := a.routeAuth(key, r)
	if err != nil {
		return err
	}
	scope := constructs.NewConstruct(a, jsii.String(key))
	fn, err := a.core.routeFunction(scope, key, r)
	if err != nil {
		return err
	}
	opts := &awsapigateway.MethodOptions{AuthorizationType: awsapigateway.AuthorizationType_NONE}
	switch {
	case r.Public:
	case native:
		if len(scopes) == 0 {
			a.core.warnWithoutScopes(scope, key)
		}
		opts = nativeMethodOptions(a.jwtAuthorizer())
	default:
		rule := authzspec.Rule{AnyScopes: a.core.routeScopes(r)}
		if r.Rules != nil {
			rule = *r.Rules
		}
		if len(rule.AnyScopes)+len(rule.AllScopes)+len(rule.Permissions)+len(rule.Claims) == 0 {
			a.core.warnWithoutScopes(scope, key)
		} else if err := a.core.addRule(a.core.authorizers[0], key, rule); err != nil {
			return err
		}
		auth, err := a.tokenAuthorizer()
		if err != nil {
			return err
		}
		opts = &awsapigateway.MethodOptions{AuthorizationType: awsapigateway.AuthorizationType_CUSTOM, Authorizer: auth}
	}
	resource := a.api.Root()
	if k.Path != "/" {
		resource = resource.ResourceForPath(jsii.String(k.Path))
	}
	method := resource.AddMethod(jsii.String(k.Method), awsapigateway.NewLambdaIntegration(fn, &awsapigateway.LambdaIntegrationOptions{Proxy: jsii.Bool(true)}), opts)
	switch {
	case r.Public:
		suppress(method, "AwsSolutions-APIG4", fmt.Sprintf("Route %q is declared Public in the API's routes: reachable without a token on purpose.", key))
		suppress(method, "AwsSolutions-COG4", fmt.Sprintf("Route %q is declared Public: no authorizer on purpose.", key))
	case native:
		useNativeJwt(method, scopes)
		suppress(method, "AwsSolutions-COG4", fmt.Sprintf("Route %q is authorized by API Gateway's native JWT authorizer, which verifies OIDC JWTs (Auth0, any issuer), not by a Cognito authorizer.", key))
	default:
		suppress(method, "AwsSolutions-COG4", fmt.Sprintf("Route %q is authorized by the Lambda TOKEN authorizer, which verifies OIDC JWTs (Auth0), not by Cognito.", key))
	}
	return nil
}

// routeAuth decides which authorizer a private route uses: the native JWT
// authorizer, with its scopes, unless the route asks for the Lambda one or
// its rules need it; a route asking for the native one with rules it
// cannot check is an error saying what.
func (a *RestApi) routeAuth(key string, r Route) (native bool, scopes []string, err error) {
	field := fmt.Sprintf("Routes[%q]", key)
	if r.Public || r.Authorizer == RestLambdaAuthorizerName {
		return false, nil, nil
	}
	if a.issuers == nil {
		if r.Authorizer == RestJwtAuthorizerName {
			return false, nil, propError(field+".Authorizer", "%q: the native JWT authorizer is disabled (JwtAuthorizer.Disabled)", r.Authorizer)
		}
		return false, nil, nil
	}
	if r.Rules == nil {
		return true, a.core.routeScopes(r), nil
	}
	scopes, needs := nativeScopes(*r.Rules)
	switch {
	case needs == "":
		return true, scopes, nil
	case r.Authorizer == RestJwtAuthorizerName:
		return false, nil, propError(field+".Rules", "the native JWT authorizer checks issuer, audiences, required claims and scopes (any one of); this rule's %s need the Go Lambda authorizer: drop Authorizer %q or set it to %q", needs, RestJwtAuthorizerName, RestLambdaAuthorizerName)
	}
	return false, nil, nil
}

// jwtAuthorizer is the native JWT authorizer, created on first use.
func (a *RestApi) jwtAuthorizer() awsapigateway.CfnAuthorizer {
	if a.jwt == nil {
		header := strings.TrimPrefix(a.core.authorizers[0].identitySource, "$request.header.")
		a.jwt = newRestJwtAuthorizer(a, a.api, header, a.issuers, a.algs)
	}
	return a.jwt
}

// Url is the URL of the API's stage, e.g.
// "https://abc123.execute-api.eu-west-1.amazonaws.com/api/" (a token until deploy).
func (a *RestApi) Url() *string { return a.api.Url() }

// Api is the underlying API Gateway REST API.
func (a *RestApi) Api() awsapigateway.RestApi { return a.api }

// Issuer is the issuer the API's authorizers accept.
func (a *RestApi) Issuer() string { return a.core.Issuer() }

// Function returns the function serving routeKey, or nil if there is no such route.
func (a *RestApi) Function(routeKey string) awslambda.Function { return a.core.Function(routeKey) }

// AuthorizerFunction returns the Go Lambda authorizer, or nil if the API has none.
func (a *RestApi) AuthorizerFunction() awslambda.Function { return a.core.AuthorizerFunction() }

// RouteKeys lists the API's route keys in sorted order.
func (a *RestApi) RouteKeys() []string { return a.core.RouteKeys() }
