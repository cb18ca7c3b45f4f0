package jwtapi

import (
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/jwtapi/jwtapi/authzspec"
)

// This file is the one place that writes the REST API's native JWT
// authorizer into the template. No CDK release has typed support for it
// yet (CloudFormation's AWS::ApiGateway::Authorizer of Type JWT with
// JwtConfiguration, methods of AuthorizationType JWT), so it goes through
// the L1 escape hatch; TestRestJwtAuthorizer pins what it writes.

// restJwtAlgorithms are the algorithms a REST JWT authorizer accepts.
var restJwtAlgorithms = []string{"RS256", "RS384", "RS512", "ES256", "ES384", "ES512"}

// reservedClaims are checked by the authorizer itself and cannot be
// additional claims.
var reservedClaims = []string{"iss", "aud", "exp", "nbf", "iat", "scope", "scp"}

// restIssuer is one resolved issuer of the native authorizer.
type restIssuer struct {
	issuer    string
	audiences []string
	claims    []RequiredClaim
	cognito   bool
}

// resolveRestJwt checks the native authorizer's props; the API's own
// issuer (first) joins MoreIssuers.
func resolveRestJwt(j *RestJwtAuthorizer, own issuerAuth) ([]restIssuer, []string, error) {
	algs := j.Algorithms
	if len(algs) == 0 {
		algs = []string{"RS256"}
	}
	for i, a := range algs {
		if !slices.Contains(restJwtAlgorithms, a) {
			return nil, nil, propError(fmt.Sprintf("JwtAuthorizer.Algorithms[%d]", i), "%q is not one a REST JWT authorizer accepts (%s)", a, strings.Join(restJwtAlgorithms, ", "))
		}
		if slices.Index(algs, a) != i {
			return nil, nil, propError(fmt.Sprintf("JwtAuthorizer.Algorithms[%d]", i), "%q is listed twice", a)
		}
	}
	if err := checkRequiredClaims("JwtAuthorizer.RequiredClaims", j.RequiredClaims); err != nil {
		return nil, nil, err
	}
	out := []restIssuer{{issuer: own.issuer, audiences: own.audiences, claims: j.RequiredClaims, cognito: own.clientID}}
	for i, m := range j.MoreIssuers {
		field := fmt.Sprintf("JwtAuthorizer.MoreIssuers[%d]", i)
		ia, err := resolveAuthorizer(JwtAuthorizer{Name: "more", Issuer: m.Issuer, Auth0Domain: m.Auth0Domain, CognitoUserPool: m.CognitoUserPool, Audiences: m.Audiences}, field+".", true)
		if err != nil {
			return nil, nil, err
		}
		if err := checkRequiredClaims(field+".RequiredClaims", m.RequiredClaims); err != nil {
			return nil, nil, err
		}
		for _, prev := range out {
			if prev.issuer == ia.issuer {
				// API Gateway requires issuer URLs to be unique: one issuer,
				// one set of audiences and claims.
				return nil, nil, propError(field, "issuer %s is trusted already; give its audiences and claims once", ia.issuer)
			}
		}
		out = append(out, restIssuer{issuer: ia.issuer, audiences: ia.audiences, claims: m.RequiredClaims, cognito: ia.clientID})
	}
	return out, algs, nil
}

func checkRequiredClaims(field string, claims []RequiredClaim) error {
	var seen []string
	for i, c := range claims {
		f := fmt.Sprintf("%s[%d]", field, i)
		switch {
		case strings.TrimSpace(c.Name) == "":
			return propError(f+".Name", "empty; name the claim the tokens must carry")
		case slices.Contains(reservedClaims, c.Name):
			return propError(f+".Name", "%q is checked by the authorizer itself; required claims cannot be %s", c.Name, strings.Join(reservedClaims, ", "))
		case slices.Contains(seen, c.Name):
			return propError(f+".Name", "%q is listed twice", c.Name)
		case c.Optional && len(c.Values) == 0:
			return propError(f, "an optional claim without Values checks nothing; give Values or drop Optional")
		}
		for j, v := range c.Values {
			if v == "" {
				return propError(fmt.Sprintf("%s.Values[%d]", f, j), "empty; API Gateway does not accept an empty expected value")
			}
		}
		seen = append(seen, c.Name)
	}
	return nil
}

// newRestJwtAuthorizer writes the authorizer: Type JWT, the identity
// source header, and JwtConfiguration through a property override.
func newRestJwtAuthorizer(scope constructs.Construct, api awsapigateway.RestApi, header string, issuers []restIssuer, algs []string) awsapigateway.CfnAuthorizer {
	auth := awsapigateway.NewCfnAuthorizer(scope, jsii.String("JwtAuthorizer"), &awsapigateway.CfnAuthorizerProps{
		RestApiId:      api.RestApiId(),
		Name:           jsii.String(RestJwtAuthorizerName),
		Type:           jsii.String("JWT"),
		IdentitySource: jsii.String("method.request.header." + header),
	})
	var list []any
	for _, iss := range issuers {
		entry := map[string]any{"Issuer": iss.issuer, "Audiences": iss.audiences}
		var claims []any
		for _, c := range iss.claims {
			claim := map[string]any{"ClaimName": c.Name, "Format": "SINGLE_STRING", "Required": !c.Optional}
			if len(c.Values) > 0 {
				claim["ExpectedValues"] = c.Values
			}
			claims = append(claims, claim)
		}
		if len(claims) > 0 {
			entry["AdditionalClaims"] = claims
		}
		list = append(list, entry)
	}
	auth.AddPropertyOverride(jsii.String("JwtConfiguration"), map[string]any{"DefaultAlgorithms": algs, "Issuers": list})
	// CDK validates templates against CloudFormation schemas older than the
	// REST JWT authorizer and warns that JwtConfiguration is unknown.
	awscdk.Validations_Of(auth).Acknowledge(&awscdk.Acknowledgment{Id: jsii.String("CloudFormation-Validate::F3002"),
		Reason: jsii.String("JwtConfiguration is the REST JWT authorizer's property; CDK's bundled CloudFormation schema predates it")})
	return auth
}

// nativeAuthorizer lets a Method reference the native authorizer: CDK's
// Method takes an IAuthorizer, which a Go struct implements (passed to
// jsii as a pointer).
type nativeAuthorizer struct{ id *string }

func (n *nativeAuthorizer) AuthorizerId() *string { return n.id }
func (n *nativeAuthorizer) AuthorizationType() awsapigateway.AuthorizationType {
	return awsapigateway.AuthorizationType_CUSTOM
}

// nativeMethodOptions make a method require the native authorizer: CUSTOM
// with its id here, turned into JWT with its scopes by useNativeJwt once
// the method exists. CUSTOM is never NONE: should the override be lost,
// the method still requires an authorizer.
func nativeMethodOptions(auth awsapigateway.CfnAuthorizer) *awsapigateway.MethodOptions {
	return &awsapigateway.MethodOptions{AuthorizationType: awsapigateway.AuthorizationType_CUSTOM, Authorizer: &nativeAuthorizer{id: auth.Ref()}}
}

// useNativeJwt sets a method's authorization type to JWT and its scopes.
func useNativeJwt(method awsapigateway.Method, scopes []string) {
	cfn := method.Node().DefaultChild().(awsapigateway.CfnMethod)
	cfn.AddPropertyOverride(jsii.String("AuthorizationType"), "JWT")
	if len(scopes) > 0 {
		cfn.AddPropertyOverride(jsii.String("AuthorizationScopes"), scopes)
	}
}

// nativeScopes tells whether a rule is scopes alone, which the native
// authorizer checks (any of; a single all-of scope is the same), and
// returns them; else it says what needs the Lambda authorizer.
func nativeScopes(r authzspec.Rule) ([]string, string) {
	var needs []string
	if len(r.Permissions) > 0 {
		needs = append(needs, "permissions")
	}
	if len(r.Claims) > 0 {
		needs = append(needs, "claim conditions")
	}
	if len(r.AllScopes) > 1 || len(r.AllScopes) == 1 && len(r.AnyScopes) > 0 {
		needs = append(needs, "all-of scopes")
	}
	if len(needs) > 0 {
		return nil, strings.Join(needs, " and ")
	}
	if len(r.AllScopes) == 1 {
		return r.AllScopes, ""
	}
	return r.AnyScopes, ""
}
