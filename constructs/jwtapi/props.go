package jwtapi

import (
	"time"

	"github.com/jwtapi/jwtapi/authzspec"
)

// ApiProps is what HTTP and REST APIs share: the same vocabulary of
// issuer, audiences, routes, public routes, scopes and rules. Set Issuer or
// Auth0Domain, Audiences and Routes.
type ApiProps struct {
	// Issuer is the token issuer exactly as it appears in the `iss` claim, for
	// example "https://example.us.auth0.com/" (Auth0 puts a trailing slash there).
	// It must be https; http is accepted only for a loopback host (local use).
	// Required unless Auth0Domain is set.
	Issuer string
	// Auth0Domain is an Auth0 tenant domain such as "example.us.auth0.com"; the
	// issuer becomes "https://<Auth0Domain>/". Default: none; use Issuer instead.
	Auth0Domain string
	// Audiences are the accepted `aud` values (for Auth0, the API identifier).
	// Required, at least one.
	Audiences []string
	// IdentitySource is where the authorizer reads the token, as
	// "$request.header.<name>" (or, HTTP API only, "$request.querystring.<name>").
	// Default: "$request.header.Authorization".
	IdentitySource string

	// Routes maps route keys ("GET /items/{id}", "ANY /files/{proxy+}",
	// "$default" for HTTP APIs) to their handlers. Required, at least one.
	Routes map[string]Route
	// DefaultScopes apply to every private route that lists no Scopes of its own.
	// Default: none.
	DefaultScopes []string

	// ApiName is the name of the API. Default: the construct's id.
	ApiName string
	// ModuleDir is the Go module directory that handler packages are relative
	// to. Default: the nearest directory holding go.mod, from the working
	// directory upwards.
	ModuleDir string

	// Cors enables CORS; API Gateway then answers browser preflight requests
	// itself, before any authorizer runs. Default: nil, CORS off.
	Cors *Cors
	// DisableAccessLogs turns off the stage's JSON access log.
	// Default: false, access logs on.
	DisableAccessLogs bool
	// Throttle sets the stage's default route throttling.
	// Default: burst 200 requests, rate 100 requests per second.
	Throttle *Throttle
	// LogRetention is how long function and access logs are kept.
	// Default: 30 days.
	LogRetention time.Duration
	// RetainLogs keeps the log groups when the stack is deleted.
	// Default: false, log groups are deleted with the stack.
	RetainLogs bool
	// DisableTracing turns off AWS X-Ray active tracing of the functions.
	// Default: false, tracing on.
	DisableTracing bool
	// MemoryMB is the default memory of every function. Default: 256.
	MemoryMB int
	// Timeout is the default timeout of every function; at most 30s, API
	// Gateway's integration limit. Default: 10s.
	Timeout time.Duration
	// Environment is added to every function's environment. Default: none.
	Environment map[string]string
	// LambdaAuthorizer configures the Go Lambda authorizer guarding the
	// routes whose Rules need it. Default: its defaults; it exists only if a
	// route needs it.
	LambdaAuthorizer *LambdaAuthorizer
}

// HttpApiProps configures NewHttpApi.
type HttpApiProps struct {
	ApiProps
	// Authorizers are the API's JWT authorizers, when it accepts tokens of
	// several issuers (users of an Auth0 tenant, machine clients of a
	// Cognito user pool); each private route picks one by name, the first by
	// default. Set either Authorizers or ApiProps' Issuer, Auth0Domain,
	// Audiences and IdentitySource, which describe one authorizer named
	// "jwt". Default: that one.
	Authorizers []JwtAuthorizer
	// Domain serves the API on a custom domain name. Default: none, the
	// execute-api URL only.
	Domain *CustomDomain
}

// JwtAuthorizer is one JWT authorizer of an HTTP API: whose tokens it accepts.
type JwtAuthorizer struct {
	// Name identifies the authorizer in the API (its name in API Gateway)
	// and in Route.Authorizer: letters, digits, - and _. Required.
	Name string
	// Issuer is the exact iss of the tokens (https, or http on loopback).
	// Set one of Issuer, Auth0Domain and CognitoUserPool.
	Issuer string
	// Auth0Domain is an Auth0 tenant domain: the issuer is https://<domain>/.
	Auth0Domain string
	// CognitoUserPool is a Cognito user pool: the issuer is
	// https://cognito-idp.<region>.amazonaws.com/<pool id>, and Audiences are
	// its app client ids (Cognito access tokens carry client_id, not aud;
	// API Gateway checks client_id when there is no aud).
	CognitoUserPool *CognitoUserPool
	// Audiences are the accepted aud (or client_id) values. Required.
	Audiences []string
	// IdentitySource is where the token is read. Default:
	// "$request.header.Authorization".
	IdentitySource string
}

// CognitoUserPool names a Cognito user pool.
type CognitoUserPool struct {
	// Region is the pool's AWS region, e.g. "eu-west-1". Required.
	Region string
	// UserPoolID is the pool's id, e.g. "eu-west-1_AbCdEfGhI". Required.
	UserPoolID string
}

// CustomDomain is an API's custom domain name.
type CustomDomain struct {
	// Name is the domain name, e.g. "api.example.com". Required.
	Name string
	// CertificateArn is an ACM certificate for Name in the stack's region.
	// Required.
	CertificateArn string
	// HostedZoneID and ZoneName name the Route 53 hosted zone that gets an
	// alias record for Name. Default: none, you point your DNS at the
	// domain's regional target yourself.
	HostedZoneID, ZoneName string
}

// RestApiProps configures NewRestApi.
type RestApiProps struct {
	ApiProps
	// StageName is the REST API's stage, the first segment of its URLs.
	// Default: "api".
	StageName string
	// JwtAuthorizer configures the REST API's native JWT authorizer: API
	// Gateway verifies the tokens itself, no function runs. Private routes
	// use it unless their Rules need the Go Lambda authorizer (permissions,
	// claim values, all-of scopes) or they ask for that one by name.
	// Default: on, trusting ApiProps' issuer and audiences, RS256.
	JwtAuthorizer *RestJwtAuthorizer
}

// RestJwtAuthorizer is a REST API's native JWT authorizer
// (AWS::ApiGateway::Authorizer of type JWT), named "jwt" in API Gateway.
type RestJwtAuthorizer struct {
	// Disabled puts every private route behind the Go Lambda TOKEN
	// authorizer instead. Default: false.
	Disabled bool
	// Algorithms are the signing algorithms accepted from every issuer:
	// RS256, RS384, RS512, ES256, ES384, ES512. Default: RS256.
	Algorithms []string
	// RequiredClaims are claims the tokens of ApiProps' issuer must carry.
	// Default: none.
	RequiredClaims []RequiredClaim
	// MoreIssuers are further issuers the same authorizer trusts, each
	// with its audiences and required claims: an Auth0 tenant's users and a
	// Cognito user pool's clients on one API. Default: none.
	MoreIssuers []JwtIssuer
}

// JwtIssuer is one more issuer of a REST API's native JWT authorizer.
type JwtIssuer struct {
	// Issuer is the exact iss of the tokens. Set one of Issuer,
	// Auth0Domain and CognitoUserPool.
	Issuer string
	// Auth0Domain is an Auth0 tenant domain: the issuer is https://<domain>/.
	Auth0Domain string
	// CognitoUserPool is a Cognito user pool: the issuer is its URL, and
	// Audiences are app client ids, which Cognito puts in the aud of ID
	// tokens (whether a REST JWT authorizer takes an access token's
	// client_id instead is not documented; see docs/aws-behaviour.md).
	CognitoUserPool *CognitoUserPool
	// Audiences are the accepted aud values. Required.
	Audiences []string
	// RequiredClaims are claims this issuer's tokens must carry. Default: none.
	RequiredClaims []RequiredClaim
}

// RequiredClaim is a claim a REST JWT authorizer requires of an issuer's
// tokens (AdditionalClaims, format SINGLE_STRING).
type RequiredClaim struct {
	// Name is the claim; not iss, aud, exp, nbf, iat, scope or scp, which
	// the authorizer checks itself. Required.
	Name string
	// Values: the claim must be a string equal to one of them, exactly and
	// case-sensitively. Default: none, any value.
	Values []string
	// Optional lets a token without the claim through; one that has it
	// must still match Values. Default: false, the claim must be present.
	Optional bool
}

// The authorizer names a REST route may give in Route.Authorizer.
const (
	// RestJwtAuthorizerName is the native JWT authorizer.
	RestJwtAuthorizerName = "jwt"
	// RestLambdaAuthorizerName is the Go Lambda TOKEN authorizer.
	RestLambdaAuthorizerName = "lambda-jwt"
)

// LambdaAuthorizer configures the Go Lambda authorizer (functions/authorizer)
// for what the managed JWT authorizer cannot check: Auth0 permissions, claim
// values, HS256 tokens.
type LambdaAuthorizer struct {
	// Handler is the authorizer's main package, a directory of the module or
	// an import path. Default: DefaultAuthorizerHandler.
	Handler string
	// CacheTTL caches each decision for this long, keyed by the token and
	// the route so that a decision never applies to another route. At most
	// 1 hour. Default: 0, every request is authorized afresh.
	CacheTTL time.Duration
	// Algorithms is the allow-list of token algorithms. Default: RS256.
	Algorithms []string
	// HMACSecretName names a Secrets Manager secret holding the HS256 shared
	// secret (add "HS256" to Algorithms). It is resolved at deploy time into
	// the function's environment. Default: none, HS256 refused.
	HMACSecretName string
	// JWKSURL is where the signing keys are. Default: the issuer's discovery document.
	JWKSURL string
	// Leeway is the clock skew allowed on exp, nbf and iat. Default: 5 s.
	Leeway time.Duration
}

// DefaultAuthorizerHandler is this module's Go Lambda authorizer.
const DefaultAuthorizerHandler = "github.com/jwtapi/jwtapi/functions/authorizer"

// MaxCacheTTL is API Gateway's limit for authorizer result caching.
const MaxCacheTTL = time.Hour

// Route is one route of the API and the Go handler that serves it.
type Route struct {
	// Handler is the directory of the handler's main package, relative to
	// ModuleDir, for example "functions/private". Required.
	Handler string
	// Public makes the route reachable without a token. Default: false, the
	// route requires a valid JWT.
	Public bool
	// Scopes lists the OAuth scopes of which the token must carry at least one.
	// Not allowed on a public route or with Rules. Default: the API's DefaultScopes.
	Scopes []string
	// Authorizer names the route's authorizer. On an HTTP API, one of its
	// JWT authorizers (HttpApiProps.Authorizers) whose tokens the route
	// accepts; with Rules, the Go Lambda authorizer verifies that issuer's
	// tokens. On a REST API, "jwt" (the native JWT authorizer: a rule it
	// cannot express is an error) or "lambda-jwt" (the Go Lambda TOKEN
	// authorizer). Not allowed on a public route. Default: an HTTP API's
	// first authorizer; on a REST API the native one unless Rules need the
	// Lambda authorizer.
	Authorizer string
	// Rules are what the route requires of a token beyond a valid
	// signature, issuer and audience: scopes, Auth0 permissions, claim
	// values. On an HTTP API they put the route behind the Go Lambda
	// authorizer; on a REST API, rules of scopes alone (any of, or a single
	// all-of) stay with the native JWT authorizer, others go to the Lambda
	// one. Not allowed on a public route. Default: nil.
	Rules *authzspec.Rule
	// Environment is added to this function's environment. Default: none.
	Environment map[string]string
	// MemoryMB overrides the API's MemoryMB. Default: the API's.
	MemoryMB int
	// Timeout overrides the API's Timeout. Default: the API's.
	Timeout time.Duration
}

// Cors is the CORS configuration of the API.
type Cors struct {
	// AllowOrigins lists allowed origins, e.g. "https://app.example.com". Required.
	AllowOrigins []string
	// AllowMethods lists allowed methods. Default: all seven (GET, HEAD,
	// OPTIONS, POST, PUT, PATCH, DELETE).
	AllowMethods []string
	// AllowHeaders lists allowed request headers.
	// Default: "authorization", "content-type".
	AllowHeaders []string
	// ExposeHeaders lists response headers the browser may read. Default: none.
	ExposeHeaders []string
	// AllowCredentials lets the browser send cookies. Default: false.
	AllowCredentials bool
	// MaxAge is how long the browser may cache a preflight answer. Default: 10 minutes.
	MaxAge time.Duration
}

// Throttle is a stage's default throttling.
type Throttle struct {
	// BurstLimit is the bucket size in requests. Required, > 0.
	BurstLimit int
	// RateLimit is the steady rate in requests per second. Required, > 0.
	RateLimit float64
}

// Defaults used when the corresponding prop is left zero.
const (
	DefaultIdentitySource = "$request.header.Authorization"
	DefaultMemoryMB       = 256
	DefaultTimeout        = 10 * time.Second
	DefaultLogRetention   = 30 * 24 * time.Hour
	DefaultBurstLimit     = 200
	DefaultRateLimit      = 100
	DefaultStageName      = "api"
	// MaxTimeout is API Gateway's integration timeout: a longer function
	// timeout would only let the client get a 503 while the function runs on.
	MaxTimeout = 30 * time.Second
)
